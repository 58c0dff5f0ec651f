"""Benchmarks, measured side by side in one run and reported as ratios (``adam-verify bench``)."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

from .arith import MpfrArith, MpmathArith
from .golden import run_golden
from .problems import find_problem
from .rules import ADAM, iterate
from .spec import RunSpec
from .streams import golden_streams


@dataclass(frozen=True)
class Measurement:
    name: str
    seconds: float
    count: int
    unit: str

    @property
    def per_unit(self) -> float:
        return self.seconds / self.count


@dataclass(frozen=True)
class BenchResult:
    rows: tuple[tuple[str, Measurement, Measurement], ...]  # (what, baseline, candidate)
    machine: str


def _best_of(fn: Callable[[], None], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def scalar_adam_step(ar_cls, dps: int = 50, steps: int = 2000) -> Measurement:
    """One scalar Adam update (Algorithm 1) through the shared rule, on backend ``ar_cls``."""
    ar = ar_cls(dps)
    with ar.activate():
        hp = {k: ar.num(v) for k, v in ADAM.defaults.items()}
        g, x = ar.num("0.37"), ar.num("0.5")

        def loop():
            state = ADAM.init(x, ar)
            for t in range(1, steps + 1):
                _, state, _ = ADAM.update(g, state, x, t, hp, ar)

        return Measurement(f"{ar.kind} scalar Adam step", _best_of(loop), steps, "step")


def scalar_adam_run(ar_cls, dps: int = 50, steps: int = 2000) -> Measurement:
    """The same through ``iterate`` (records every step), as a golden run does."""
    ar = ar_cls(dps)
    with ar.activate():
        hp = {k: ar.num(v) for k, v in ADAM.defaults.items()}
        g = ar.num("0.37")
        seconds = _best_of(lambda: iterate(ADAM, hp, [ar.num("0.5")], lambda p, t: [g], steps, ar),
                           3)
    return Measurement(f"{ar.kind} Adam run, recorded", seconds, steps, "step")


def golden_trace(engine: str, steps: int = 300) -> Measurement:
    spec = RunSpec(find_problem("rosenbrock"), "adam", {"lr": "0.01"}, steps)
    seconds = _best_of(lambda: run_golden(spec, engine=engine), 2)
    return Measurement(f"golden Rosenbrock Adam, {engine}", seconds, steps, "step")


def stream_goldens(workers: int, coords: int = 64, steps: int = 100) -> Measurement:
    """Certified goldens for independent coordinates (seeded gradient streams)."""
    import random

    rng = random.Random(7)
    streams = [[f"{rng.uniform(-1, 1):.6f}" for _ in range(steps)] for _ in range(coords)]
    seconds = _best_of(lambda: golden_streams("adam", {"lr": "0.001"}, ["0"] * coords, streams,
                                              workers=workers), 2)
    return Measurement(f"{workers} process(es)", seconds, coords * steps, "coordinate-step")


def run_bench(progress: Callable[[str], None] = lambda s: None) -> BenchResult:
    rows = []
    progress("scalar Adam step")
    rows.append(("scalar Adam step at 50 digits (rule only)",
                 scalar_adam_step(MpmathArith), scalar_adam_step(MpfrArith)))
    progress("recorded Adam run")
    rows.append(("Adam run at 50 digits, every step recorded",
                 scalar_adam_run(MpmathArith), scalar_adam_run(MpfrArith)))
    progress("golden trace")
    rows.append(("golden trace (50 + 100 digits, certified), Rosenbrock, 300 steps",
                 golden_trace("mpmath"), golden_trace("mpfr")))
    progress("parallel coordinates")
    workers = os.cpu_count() or 1
    rows.append((f"goldens of 64 independent coordinates × 100 steps, 1 vs {workers} processes",
                 stream_goldens(1), stream_goldens(workers)))
    machine = (f"{platform.machine()}, {workers} CPUs, Python {platform.python_version()}")
    return BenchResult(tuple(rows), machine)
