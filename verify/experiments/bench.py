"""Benchmarks, measured side by side in one run and reported as ratios (``adam-verify bench``)."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..golden.arith import MpfrArith, MpmathArith
from ..golden.run import run_golden
from ..golden.spec import RunSpec
from ..golden.streams import golden_streams
from ..rules import ADAM, iterate
from ..symbolic.problems import find_problem


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
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class BenchResult:
    rows: tuple[tuple[str, Measurement, Measurement], ...]  # (what, baseline, candidate)
    machine: str
    tables: tuple[Table, ...] = ()


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

        return Measurement(f"{ar.kind} scalar Adam step", _best_of(loop, 9), steps, "step")


def scalar_adam_run(ar_cls, dps: int = 50, steps: int = 2000) -> Measurement:
    """The same through ``iterate`` (records every step), as a golden run does."""
    ar = ar_cls(dps)
    with ar.activate():
        hp = {k: ar.num(v) for k, v in ADAM.defaults.items()}
        g = ar.num("0.37")
        seconds = _best_of(lambda: iterate(ADAM, hp, [ar.num("0.5")], lambda p, t: [g], steps, ar),
                           3)
    return Measurement(f"{ar.kind} Adam run, recorded", seconds, steps, "step")


def golden_pair(steps: int = 300, rounds: int = 5) -> tuple[Measurement, Measurement, Measurement]:
    """The certified golden of Adam on Rosenbrock end to end (both precisions, certification,
    the trace) on the mpmath and on the MPFR engine, and one bare gmpy2 Adam step, measured in
    alternation (one mpmath golden, three MPFR goldens, the bare step, again), so that the
    machine's load drifts over all three alike; best of the rounds."""
    spec = RunSpec(find_problem("rosenbrock"), "adam", {"lr": "0.01"}, steps)
    best = {"mpmath": float("inf"), "mpfr": float("inf"), "bare": float("inf")}
    for _ in range(rounds):
        best["mpmath"] = min(best["mpmath"], _best_of(lambda: run_golden(spec, engine="mpmath"),
                                                      1))
        best["mpfr"] = min(best["mpfr"], _best_of(lambda: run_golden(spec, engine="mpfr"), 3))
        best["bare"] = min(best["bare"], scalar_adam_step(MpfrArith).per_unit)
    return (Measurement("golden Rosenbrock Adam, mpmath engine", best["mpmath"], steps, "step"),
            Measurement("golden Rosenbrock Adam, mpfr engine", best["mpfr"], steps, "step"),
            Measurement("one bare gmpy2 Adam step (rule only)", best["bare"], 1, "step"))


def stream_goldens(workers: int, coords: int = 64, steps: int = 100) -> Measurement:
    """Certified goldens for independent coordinates (seeded gradient streams)."""
    import random

    rng = random.Random(7)
    streams = [[f"{rng.uniform(-1, 1):.6f}" for _ in range(steps)] for _ in range(coords)]
    seconds = _best_of(lambda: golden_streams("adam", {"lr": "0.001"}, ["0"] * coords, streams,
                                              workers=workers), 2)
    return Measurement(f"{workers} process(es)", seconds, coords * steps, "coordinate-step")


def copy_bandwidth(n: int = 50_000_000) -> float:
    """This machine's memory bandwidth as NumPy sees it: bytes read + written per second by a
    large float32 copy (best of 3)."""
    import numpy as np

    a, b = np.ones(n, dtype=np.float32), np.empty(n, dtype=np.float32)
    seconds = _best_of(lambda: np.copyto(b, a), 3)
    return 2 * 4 * n / seconds


# an Adam step reads θ, g, m, v and writes θ, m, v: at least 7 float32 per element
ADAM_BYTES = 7 * 4


def adam_tensor_step(impl: str, n: int, steps: int = 5) -> Measurement:
    """One Adam step on an n-element float32 tensor through the large-tensor steppers."""
    import numpy as np

    from ..golden.spec import check_hyper
    from ..runners.tensor import stepper

    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, n).astype(np.float32)
    g = rng.standard_normal(n, dtype=np.float32)
    run = stepper(impl, "adam", check_hyper(ADAM, {"lr": "0.001"}), x0)
    run(g)  # warm-up (allocations, lazy initialisation)

    def loop():
        for _ in range(steps):
            run(g)

    return Measurement(impl, _best_of(loop, 5), steps * n, "element")


def sampled_audit(impl: str, size: int, steps: int) -> tuple[float, dict[str, float]]:
    from ..auditing.sampled import audit_tensor

    t0 = time.perf_counter()
    r = audit_tensor(impl, "adam", size, steps)
    return time.perf_counter() - t0, r.seconds


def battery_timing(impl: str, optimizer: str = "adam", golden: bool = True
                   ) -> tuple[float, int, str]:
    """One full audit over the battery (a warm process: imports and framework start-up left
    out): wall seconds, settings run, verdict."""
    from ..auditing.run import audit

    audit(impl, optimizer, quick=True, golden=False)  # warm-up: imports, compilation
    t0 = time.perf_counter()
    r = audit(impl, optimizer, golden=golden)
    return time.perf_counter() - t0, len(r.settings), r.verdict


def battery_table(progress: Callable[[str], None]) -> Table:
    rows = []
    for impl in ("numpy", "torch", "torch-foreach", "mlx", "optax", "keras",
                 "tests.mutants.adam_family:adam_textbook",
                 "tests.mutants.adam_family:adam_swapped_betas"):
        if ":" not in impl and not _installed(impl):
            continue
        progress(f"audit battery: {impl}")
        try:
            with_g, n, verdict = battery_timing(impl)
            without, _, _ = battery_timing(impl, golden=False)
        except Exception as exc:  # noqa: BLE001 — a row says why it has no number
            rows.append((f"`{impl}`", "—", "—", "—", f"not measured: {exc}"))
            continue
        rows.append((f"`{impl}`", str(n), f"{with_g:.2f} s", f"{without:.2f} s", verdict))
    return Table("Audit battery (Adam, probe problem, float32): one audit, warm process",
                 ("implementation", "settings", "with certified goldens",
                  "without goldens (verdict only)", "verdict"), tuple(rows),
                 "Target: under 10 s per implementation. A discrepant implementation also pays "
                 "for the diagnosis (every catalogue variant) and the forensics (every slip).")


IMPORTED = ("torch", "jax", "optax", "mlx.core", "keras", "sympy", "mpmath", "gmpy2",
            "matplotlib")


def _wall(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of a fresh Python process running ``argv`` (imports included)."""
    import subprocess
    import sys

    t0 = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True, capture_output=True,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - t0


def import_wall() -> float:
    """The floor of any report: importing the installed frameworks and libraries in one
    fresh process (best of 3)."""
    from importlib.util import find_spec

    names = [m for m in IMPORTED if find_spec(m.split(".")[0]) is not None]
    env = {"KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}  # as the report sets it
    return min(_wall(["-c", "import " + ", ".join(names)], env) for _ in range(3))


def report_walls() -> tuple[float, float]:
    """``adam-verify report`` on the bundled article in a fresh process, end to end (imports,
    goldens, float32 runs, every installed framework audited, experiments, claims, figures,
    Markdown): cold (an empty result cache) and warm (the cache the cold run filled)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        env = {"ADAM_VERIFY_CACHE": f"{tmp}/cache"}
        argv = ["-m", "verify", "report", "--out", f"{tmp}/out"]
        cold = _wall(argv, env)
        warm = _wall(argv, env)
    return cold, warm


def _installed(impl: str) -> bool:
    from importlib.util import find_spec

    module = {"torch-foreach": "torch", "mlx": "mlx"}.get(impl)
    return module is None or find_spec(module) is not None


def scale_tables(progress: Callable[[str], None], size: int = 10_000_000) -> tuple[Table, ...]:
    bandwidth = copy_bandwidth()
    rows = []
    base = None
    measured = {}
    impls = [i for i in ("numpy", "torch-foreach", "mlx") if _installed(i)]
    for k in range(3):  # in alternation, best of the rounds: drift and warm-up hit all alike
        for impl in impls if k == 0 else [i for i in impls if i != "mlx"]:
            progress(f"Adam on {size:,} parameters: {impl} (round {k + 1})")
            m = adam_tensor_step(impl, size)
            if impl not in measured or m.per_unit < measured[impl].per_unit:
                measured[impl] = m
    for impl in impls:
        m = measured[impl]
        base = base or m
        rate = 1 / m.per_unit
        rows.append((impl, f"{m.per_unit * size * 1e3:.1f} ms", f"{rate / 1e6:.0f} M/s",
                     f"{rate * ADAM_BYTES / 1e9:.2f} GB/s",
                     f"{rate * ADAM_BYTES / bandwidth:.0%}",
                     f"{base.per_unit / m.per_unit:.2f}×"))
    throughput = Table(
        f"Adam step on {size:,} float32 parameters", (
            "implementation", "per step", "elements/s", "effective bandwidth (28 B/element)",
            "of copy bandwidth", "speed vs NumPy"), tuple(rows),
        f"Copy bandwidth of this machine (NumPy float32 copy, read + write): "
        f"{bandwidth / 1e9:.2f} GB/s. An Adam step moves at least 7 float32 per element.")
    versus: tuple[Table, ...] = ()
    if "torch-foreach" in measured:  # issue #14's target: NumPy within 1.3× of torch foreach
        numpy_, torch_ = measured["numpy"], measured["torch-foreach"]
        versus = (Table(
            f"NumPy float32 Adam on {size:,} parameters vs torch foreach Adam (same run)",
            ("NumPy per step", "torch foreach per step", "NumPy time / torch time", "target",
             "NumPy of copy bandwidth", "torch foreach of copy bandwidth"),
            ((f"{numpy_.per_unit * size * 1e3:.1f} ms", f"{torch_.per_unit * size * 1e3:.1f} ms",
              f"**{numpy_.per_unit / torch_.per_unit:.2f}×**", "≤ 1.30×",
              f"{ADAM_BYTES / numpy_.per_unit / bandwidth:.0%}",
              f"{ADAM_BYTES / torch_.per_unit / bandwidth:.0%}"),),
            "NumPy: the shared rule in float32, run in cache-sized chunks, bit for bit the "
            "whole-vector result (tests/test_tensor_speed_identity.py)."),)
    grid = []
    for size_, steps in ((100_000, 50), (100_000, 100), (1_000_000, 50), (1_000_000, 100)):
        progress(f"sampled audit {size_:,} × {steps}")
        total, phases = sampled_audit("torch-foreach" if _installed("torch-foreach") else
                                      "numpy", size_, steps)
        first = phases["implementation + envelope, every coordinate"]
        gold = next(v for k, v in phases.items() if k.startswith("certified"))
        grid.append((f"{size_:,}", str(steps), f"{total:.1f} s", f"{first:.1f} s",
                     f"{gold:.1f} s"))
    audits = Table("Sampled large-tensor audit (torch-foreach Adam): cost against size and steps",
                   ("parameters", "steps", "total", "implementation + envelope, every coordinate",
                    "certified goldens (≈ 350 coordinates)"), tuple(grid),
                   "Target: 10⁶ parameters × 100 steps within 60 s on this 2-core machine. The "
                   "envelope grows with parameters × steps, the certified goldens with steps only.")
    progress("end-to-end report: imports, cold, warm")
    floor = import_wall()
    cold, warm = report_walls()
    report = Table(
        "End to end: `adam-verify report` on the bundled article vs importing the frameworks",
        ("what", "wall time", "× the imports"),
        (("import " + ", ".join(IMPORTED) + " (one fresh process)", f"{floor:.1f} s", "1.0×"),
         ("report, cold: empty result cache (everything computed)", f"{cold:.1f} s",
          f"{cold / floor:.1f}×"),
         ("report, warm: same code, data and versions (audits, experiments, derivations, "
          "pure, API and code claims reused; goldens, float32 runs and the rest recomputed)",
          f"{warm:.1f} s", f"{warm / floor:.1f}×")),
        "Each a fresh process, measured in the same run. Goal (issue #14): ≤ 2.5× the imports.")
    return (throughput,) + versus + (audits, report)


def run_bench(progress: Callable[[str], None] = lambda s: None,
              scale: bool = True) -> BenchResult:
    rows = []
    progress("scalar Adam step")
    rows.append(("scalar Adam step at 50 digits (rule only)",
                 scalar_adam_step(MpmathArith), scalar_adam_step(MpfrArith)))
    progress("recorded Adam run")
    rows.append(("Adam run at 50 digits, every step recorded",
                 scalar_adam_run(MpmathArith), scalar_adam_run(MpfrArith)))
    progress("golden trace")
    steps, coords = 300, len(find_problem("rosenbrock").params)
    mpm, mpf, bare = golden_pair(steps)
    rows.append((f"golden trace end to end (50 + 100 digits, certified), Rosenbrock, {steps} "
                 "steps: mpmath vs MPFR engine (goal ≥ 8×)", mpm, mpf))
    rows.append(("certified golden (MPFR engine) per coordinate-step vs one bare gmpy2 Adam step: "
                 "ratio = the golden's cost in bare steps (goal ≤ 10×)",
                 Measurement("golden Rosenbrock Adam, mpfr, per coordinate-step", mpf.seconds,
                             steps * coords, "coordinate-step"), bare))
    progress("parallel coordinates")
    workers = os.cpu_count() or 1
    rows.append((f"goldens of 64 independent coordinates × 100 steps, 1 vs {workers} processes",
                 stream_goldens(1), stream_goldens(workers)))
    machine = (f"{platform.machine()}, {workers} CPUs, Python {platform.python_version()}")
    tables = ((battery_table(progress),) + scale_tables(progress)) if scale else ()
    return BenchResult(tuple(rows), machine, tables)
