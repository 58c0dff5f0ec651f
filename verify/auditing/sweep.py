"""Sweeps: audit every cell of a grid (implementation × optimizer × hyperparameters × problem ×
dtype) through a ``concurrent.futures``-style executor — local processes, or a Dask
distributed cluster — and collect one row per cell. A failing cell is a row with its error,
never the end of the sweep.

A sweep file (TOML)::

    [sweep]
    impl = ["numpy", "torch-foreach"]
    optimizer = ["adam", "amsgrad"]
    problem = ["probe"]          # optional, default ["probe"]
    dtype = ["float32"]          # optional
    steps = 12                   # optional: length of the cell's own setting
    quick = false                # optional: true audits the probe setting only
    targets = [["torch.optim:AdamW", "adamw"]]  # optional: (impl, optimizer) pairs, added
    options = [{}, {foreach = true}]  # optional: constructor options of optimizer objects
    report = "name"              # optional: the stem of the written report (default: sweep-<file>)
    [sweep.hyper]                # optional: each key a list of decimal strings
    lr = ["0.01", "0.001"]

Each cell is a full audit (the battery, plus a setting made of the cell's hyperparameters).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..golden.arith import LOW_DTYPES
from ..symbolic.expr import parse_number
from ..tomlfile import field, read_toml

MAX_CELLS = 10_000


@dataclass(frozen=True)
class Cell:
    index: int
    impl: str
    optimizer: str
    problem: str
    dtype: str
    hyper: tuple[tuple[str, str], ...]
    steps: int
    quick: bool = False
    options: tuple[tuple[str, object], ...] = ()

    def base_key(self) -> tuple:
        """The cell without its options: what an option's effect is measured against."""
        return (self.impl, self.optimizer, self.problem, self.dtype, self.hyper)


@dataclass(frozen=True)
class Row:
    cell: Cell
    verdict: str  # consistent | discrepant | not audited | failed
    max_ulps: float | None  # operand ulps from the golden
    diagnosis: str
    seconds: float | None  # None in committed files: a timing is the machine's, not the code's
    error: str = ""
    computes: str = ""


def _strings(table: dict, key: str, where: str, default: list[str] | None = None) -> list[str]:
    items = field(table, key, list, where, default)
    if not items or not all(isinstance(x, str) for x in items):
        raise InputError(f"field {key!r} must be a non-empty list of strings", where=where)
    return items


def load_sweep(path: Path) -> list[Cell]:
    where = str(path)
    table = field(read_toml(path), "sweep", dict, where)
    known = {"impl", "optimizer", "problem", "dtype", "steps", "quick", "hyper", "targets",
             "options", "report"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(f"[sweep] has no field {unknown[0]!r}", where=where)
    targets = [(i, o) for i in field(table, "impl", list, where, [])
               for o in field(table, "optimizer", list, where, [])]
    for pair in field(table, "targets", list, where, []):
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(x, str) for x in pair)):
            raise InputError("each of 'targets' must be [impl, optimizer]", where=where)
        targets.append((pair[0], pair[1]))
    if not targets or not all(isinstance(x, str) for t in targets for x in t):
        raise InputError("give impl and optimizer lists of strings, or targets", where=where)
    options = field(table, "options", list, where, [{}])
    for o in options:
        if not isinstance(o, dict) or not all(isinstance(v, bool | int | float | str)
                                              for v in o.values()):
            raise InputError("each of 'options' must be a table of booleans, numbers or "
                             "strings", where=where)
    problems = _strings(table, "problem", where, ["probe"])
    dtypes = _strings(table, "dtype", where, ["float32"])
    for d in dtypes:
        if d not in LOW_DTYPES:
            raise InputError(f"unknown dtype {d!r} (known: {', '.join(LOW_DTYPES)})", where=where)
    steps = field(table, "steps", int, where, 12)
    quick = field(table, "quick", bool, where, False)
    if not 1 <= steps <= 10_000:
        raise InputError("steps must be 1..10000", where=where)
    hyper = field(table, "hyper", dict, where, {})
    grids = []
    for key, values in hyper.items():
        values = _strings(hyper, key, f"{where}: [sweep.hyper]")
        for v in values:
            parse_number(v, where=f"{where}: [sweep.hyper].{key}")
        grids.append([(key, v) for v in values])
    combos = list(itertools.product(*grids)) or [()]
    product = list(itertools.product(targets, problems, dtypes, combos, options))
    if len(product) > MAX_CELLS:
        raise InputError(f"{len(product)} cells; at most {MAX_CELLS}", where=where)
    return [Cell(i, impl, opt, prob, dt, tuple(h), steps, quick, tuple(sorted(o.items())))
            for i, ((impl, opt), prob, dt, h, o) in enumerate(product)]


def report_stem(path: Path) -> str:
    """The written report's stem: the spec's ``report`` field, or sweep-<file stem>."""
    stem = read_toml(path).get("sweep", {}).get("report")
    return stem if isinstance(stem, str) and stem.replace("-", "").isalnum() else (
        f"sweep-{path.stem}")


def run_cell(cell: Cell) -> Row:
    """Audit one cell (in a worker process); any failure becomes the row's error."""
    from .run import audit

    t0 = time.perf_counter()
    try:
        problem = None if cell.problem == "probe" else cell.problem
        r = audit(cell.impl, cell.optimizer, problem, dict(cell.hyper), cell.steps, cell.dtype,
                  cell.quick, options=dict(cell.options) or None)
        return Row(cell, r.verdict, r.max_ulps, r.summary, time.perf_counter() - t0,
                   computes=r.computes if r.verdict != "not audited" else "")
    except Exception as exc:  # noqa: BLE001 — a sweep records a failing cell and goes on
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Row(cell, "failed", None, "", time.perf_counter() - t0,
                   f"{type(exc).__name__}: {message}")


def run_sweep(cells: list[Cell], executor: Executor | None = None, workers: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> list[Row]:
    """Run every cell through ``executor`` (default: a local process pool); rows in cell order."""
    own = executor is None
    pool = executor or ProcessPoolExecutor(workers)
    try:
        futures = [pool.submit(run_cell, c) for c in cells]
        rows = []
        for done, f in enumerate(as_completed(futures), 1):
            rows.append(f.result())
            if progress:
                progress(done, len(cells))
    finally:
        if own:
            pool.shutdown()
    return sorted(rows, key=lambda r: r.cell.index)


def dask_executor(address: str) -> Executor:
    """A concurrent.futures executor on the Dask cluster whose scheduler is at ``address``."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("Dask distributed is not installed (pip install 'adam-verify[dask]')"
                         ) from None
    _refused(address)
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    return client.get_executor()


def _refused(address: str) -> None:
    """Fail at once where nothing listens at a tcp:// address: Dask's client would retry for
    its whole timeout before saying so."""
    import socket
    from urllib.parse import urlsplit

    if not address.startswith("tcp://"):
        return
    try:
        where = urlsplit(address)
        host, port = where.hostname, where.port
    except ValueError:
        raise InputError(f"cannot reach the Dask scheduler at {address}: not host:port") from None
    if host is None or port is None:
        return
    try:
        socket.create_connection((host, port), timeout=5).close()
    except ConnectionRefusedError:
        raise InputError(f"cannot reach the Dask scheduler at {address}: connection refused "
                         "(nothing listens there)") from None
    except OSError:
        return  # unknown host, unreachable, slow: Dask's client tries and says why


CSV_COLUMNS = ("impl", "optimizer", "problem", "dtype", "hyper", "options", "verdict",
               "max_ulps", "diagnosis", "seconds", "error")


def csv_rows(rows: list[Row]) -> list[tuple[str, ...]]:
    return [(r.cell.impl, r.cell.optimizer, r.cell.problem, r.cell.dtype,
             " ".join(f"{k}={v}" for k, v in r.cell.hyper),
             " ".join(f"{k}={v}" for k, v in r.cell.options), r.verdict,
             "" if r.max_ulps is None else f"{r.max_ulps:.3g}", r.diagnosis,
             "" if r.seconds is None else f"{r.seconds:.2f}",
             r.error) for r in rows]
