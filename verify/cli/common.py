"""What every verb of the command line shares: the one-line usage errors, progress on
stderr, output directories checked before any work, typed flag values."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError
from ..files import write_atomic

PROG = "adam-verify"
HYPER = ("lr", "beta1", "beta2", "eps", "eps_root", "weight_decay", "momentum", "dampening",
         "alpha")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, exit 2
        raise InputError(f"usage: {message} (see {PROG} --help)")


def progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"\r\033[K{PROG}: {message}", end="", file=sys.stderr, flush=True)


def bar(done: int, total: int, label: str, smallest: int = 200) -> None:
    """A progress bar on stderr for runs of at least ``smallest`` units (only on a terminal)."""
    if total < smallest or not sys.stderr.isatty():
        return
    if done % max(1, total // 200) and done != total:
        return
    width = 30
    filled = width * done // total
    progress(f"{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")


def done_progress() -> None:
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)


def writable_dir(path: Path) -> Path:
    """Check that ``path`` is (or can be made) a writable folder, without creating it: bad input
    found later must leave nothing behind. The writer creates it (``files.write_atomic``)."""
    import os

    if path.exists() and not path.is_dir():
        raise InputError("output path is not a directory", where=str(path))
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"cannot create output directory: {probe} is not a directory",
                         where=str(path))
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError("cannot create output directory: permission denied", where=str(path))
    return path


def write_out(out: Path, text: str, force: bool) -> None:
    """``--out FILE``: refuse to overwrite without ``--force``, check the folder first, write
    atomically; every failure is one line (exit 2)."""
    if out.exists() and not force:
        raise InputError("exists; pass --force to overwrite", where=str(out))
    writable_dir(out.parent if str(out.parent) else Path("."))
    try:
        write_atomic(out, text)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(out)) from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
