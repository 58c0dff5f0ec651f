"""Generated files kept in git: compare what is committed with a fresh regeneration."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .trace import write_atomic


@dataclass(frozen=True)
class Drift:
    """A committed generated file that does not match its regeneration."""

    id: str
    path: Path
    reason: str  # "missing", "differs", or a more specific reason from the caller
    diff: tuple[str, ...] = ()


def find_drifts(expected: Mapping[str, tuple[Path, str]],
                explain: Callable[[Path], str] = lambda p: "differs") -> list[Drift]:
    """Each id → (path, fresh text); a Drift for every file missing or not byte-identical."""
    drifts = []
    for fid, (path, fresh) in expected.items():
        if not path.exists():
            drifts.append(Drift(fid, path, "missing"))
            continue
        old = path.read_text(encoding="utf-8", errors="replace")
        if old != fresh:
            diff = tuple(difflib.unified_diff(old.splitlines(), fresh.splitlines(),
                                              f"{path} (committed)", f"{path} (regenerated)",
                                              n=0, lineterm=""))
            drifts.append(Drift(fid, path, explain(path), diff))
    return drifts


def rewrite(drifts: list[Drift], expected: Mapping[str, tuple[Path, str]]) -> None:
    for d in drifts:
        d.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(d.path, expected[d.id][1])
