"""The committed goldens: the manifest that lists them, regeneration, ``--check`` and ``--update``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import InputError
from ..files import Drift, find_drifts, rewrite
from ..symbolic.problems import find_problem
from ..tomlfile import decimal_text, field, read_toml
from .run import run_golden
from .spec import RunSpec
from .trace import content_hash, dumps, read_trace

ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclass(frozen=True)
class GoldenEntry:
    """One committed golden: its id (file stem) and what regenerates it."""

    id: str
    spec: RunSpec

    def path(self, directory: Path) -> Path:
        return directory / f"{self.id}.json"


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
                           field(item, "quantize", str, where, None),
                           field(item, "schedule", str, where, "constant"))
        except InputError as exc:
            raise InputError(str(exc), where=where) from None
        entries.append(GoldenEntry(gid, spec))
    return entries


def regenerate(entry: GoldenEntry) -> str:
    return dumps(run_golden(entry.spec))


def _expected(entries: list[GoldenEntry], directory: Path) -> dict[str, tuple[Path, str]]:
    return {e.id: (e.path(directory), regenerate(e)) for e in entries}


def _explain(path: Path) -> str:
    try:
        read_trace(path)
        return "differs"
    except InputError:
        return "modified or truncated"


def check(entries: list[GoldenEntry], directory: Path | None = None) -> list[Drift]:
    """Regenerate every entry in memory; report each committed file that differs."""
    return find_drifts(_expected(entries, Path(directory or paths.GOLDEN)), _explain)


def update(entries: list[GoldenEntry], directory: Path | None = None) -> list[Drift]:
    """Rewrite the goldens that differ from their regeneration; return what changed."""
    expected = _expected(entries, Path(directory or paths.GOLDEN))
    drifts = find_drifts(expected, _explain)
    rewrite(drifts, expected)
    return drifts


def load_committed(entries: list[GoldenEntry], directory: Path | None = None) -> dict:
    """The committed traces by id, each verified against its sha256."""
    directory = Path(directory or paths.GOLDEN)
    return {e.id: read_trace(e.path(directory)) for e in entries}


__all__ = ["GoldenEntry", "Drift", "load_manifest", "regenerate", "check", "update",
           "load_committed", "content_hash"]
