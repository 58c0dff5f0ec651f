"""The committed goldens: the manifest that lists them, regeneration, ``--check`` and ``--update``."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import InputError
from .golden import run_golden
from .problems import find_problem
from .spec import RunSpec
from .tomlfile import decimal_text, field, read_toml
from .trace import content_hash, dumps, read_trace, write_atomic

ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclass(frozen=True)
class GoldenEntry:
    """One committed golden: its id (file stem) and what regenerates it."""

    id: str
    spec: RunSpec

    def path(self, directory: Path) -> Path:
        return directory / f"{self.id}.json"


@dataclass(frozen=True)
class Drift:
    """A committed golden that does not match its regeneration."""

    id: str
    path: Path
    reason: str  # "missing", "modified or truncated", "differs"
    diff: tuple[str, ...] = ()


def load_manifest(path: Path | None = None) -> list[GoldenEntry]:
    path = Path(path or paths.GOLDEN / "manifest.toml")
    doc = read_toml(path)
    entries = []
    seen = set()
    for i, item in enumerate(field(doc, "golden", list, str(path))):
        where = f"{path}: golden[{i}]"
        if not isinstance(item, dict):
            raise InputError("must be a table", where=where)
        gid = field(item, "id", str, where)
        if not ID_RE.match(gid) or gid in seen:
            raise InputError(f"id {gid!r} is not a unique file-name-safe identifier", where=where)
        seen.add(gid)
        hyper = {k: decimal_text(v, f"{where}.hyper.{k}")
                 for k, v in field(item, "hyper", dict, where, default={}).items()}
        try:
            spec = RunSpec(find_problem(field(item, "problem", str, where)),
                           field(item, "optimizer", str, where), hyper,
                           field(item, "steps", int, where), field(item, "dps", int, where, 50),
                           field(item, "quantize", str, where, None))
        except InputError as exc:
            raise InputError(str(exc), where=where) from None
        entries.append(GoldenEntry(gid, spec))
    return entries


def regenerate(entry: GoldenEntry) -> str:
    return dumps(run_golden(entry.spec))


def check(entries: list[GoldenEntry], directory: Path | None = None) -> list[Drift]:
    """Regenerate every entry in memory; report each committed file that differs."""
    directory = Path(directory or paths.GOLDEN)
    drifts = []
    for entry in entries:
        path = entry.path(directory)
        fresh = regenerate(entry)
        if not path.exists():
            drifts.append(Drift(entry.id, path, "missing"))
            continue
        old = path.read_text(encoding="utf-8", errors="replace")
        if old == fresh:
            continue
        try:
            read_trace(path)
            reason = "differs"
        except InputError:
            reason = "modified or truncated"
        diff = tuple(difflib.unified_diff(old.splitlines(), fresh.splitlines(),
                                          f"{path} (committed)", f"{path} (regenerated)",
                                          n=0, lineterm=""))
        drifts.append(Drift(entry.id, path, reason, diff))
    return drifts


def update(entries: list[GoldenEntry], directory: Path | None = None) -> list[Drift]:
    """Rewrite the goldens that differ from their regeneration; return what changed."""
    directory = Path(directory or paths.GOLDEN)
    drifts = check(entries, directory)
    for d in drifts:
        entry = next(e for e in entries if e.id == d.id)
        write_atomic(d.path, regenerate(entry))
    return drifts


def load_committed(entries: list[GoldenEntry], directory: Path | None = None) -> dict:
    """The committed traces by id, each verified against its sha256."""
    directory = Path(directory or paths.GOLDEN)
    return {e.id: read_trace(e.path(directory)) for e in entries}


__all__ = ["GoldenEntry", "Drift", "load_manifest", "regenerate", "check", "update",
           "load_committed", "content_hash"]
