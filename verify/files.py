"""Writing files: atomically (temporary file, fsync, rename), and generated files kept in git
compared with a fresh regeneration."""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path


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


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.chmod(tmp, _mode_for(path))
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (where the platform lets a directory be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mode_for(path: Path) -> int:
    """Keep an existing file's mode; a new file gets the usual 0o666 minus the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask

