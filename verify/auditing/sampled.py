"""Audit an implementation on a large tensor (e.g. 10⁶ parameters × 100 steps), with the same
envelope and verdict as the small audits.

Every rule in the catalogue is coordinate-wise, so the envelope (``envelope.Stream``) judges
every coordinate of every step as the implementation runs, from the implementation's own
previous values: nothing of size steps × parameters is held. The scalar model is chosen first on
a sample of coordinates (all models at once), then every coordinate is judged under it.
Certified MPFR goldens are computed for a random sample of coordinates — enough to include,
with the stated probability, one of any set making up a given fraction — plus the extreme ones
(farthest from the envelope's centre, largest and smallest gradients): they give the distance
from the exact trajectory. The parameters are split into several tensors whose sizes cross the
chunk boundaries of multi-tensor kernels (2¹⁶ and 2²⁰ elements), as a model's parameters are.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from ..errors import InputError, unknown
from ..files import write_atomic
from ..golden.arith import as_fraction
from ..golden.spec import check_hyper
from ..golden.streams import StreamGolden, golden_streams
from ..rules import RULES, Rule
from ..runners.tensor import stepper
from .battery import rule_hyper
from .bounds import MODELS, Model
from .candidates import candidate, family
from .envelope import Exit, Judgement, Run, Stream, Tested
from .result import Candidate
from .tracker import Tracker

DEFAULT_HYPER = {"lr": "0.001"}
SELECT = 4096  # coordinates the scalar model is chosen on


def sample_size(detect: float, fraction: float) -> int:
    """Random coordinates needed to include, with probability ``detect``, at least one of a
    set making up ``fraction`` of all coordinates: 1 − (1 − f)ᵏ ≥ p."""
    if not (0 < detect < 1 and 0 < fraction < 1):
        raise InputError("detection probability and fraction must lie in (0, 1)")
    return math.ceil(math.log(1 - detect) / math.log(1 - fraction))


def gradient_scales(seed: int, size: int) -> np.ndarray:
    """Per-coordinate gradient magnitudes spread over four decades (10⁻³ … 10), so that ε
    matters on some coordinates and not on others."""
    rng = np.random.default_rng([seed, 0, 1])
    return (10.0 ** rng.uniform(-3, 1, size)).astype(np.float32)


def initial_params(seed: int, size: int) -> np.ndarray:
    return np.random.default_rng([seed, 0, 0]).uniform(-1, 1, size).astype(np.float32)


def gradients_at(seed: int, t: int, scales: np.ndarray) -> np.ndarray:
    """The float32 gradient of step t (regenerated on demand, never stored for all steps)."""
    rng = np.random.default_rng([seed, t])
    return (rng.standard_normal(scales.shape[0], dtype=np.float32) * scales).astype(np.float32)


def pieces(size: int) -> list[int]:
    """Tensor sizes summing to ``size`` that cross 2¹⁶ and 2²⁰ where the size allows."""
    out, left = [], size
    for boundary in (2**16 + 3, 2**20 + 5):
        if left > boundary + 1:
            out.append(boundary)
            left -= boundary
    return [left] + out


@dataclass(frozen=True)
class StepStats:
    """Every coordinate of one step against the envelope, in operand ulps."""

    t: int
    max_ulps: float  # farthest from the exact local step
    mean_ulps: float
    outside: int  # coordinates outside the envelope


@dataclass(frozen=True)
class TensorAudit:
    impl: str
    optimizer: str
    hyper: dict[str, str]
    size: int
    pieces: tuple[int, ...]
    steps: int
    seed: int
    sampled: int
    extremes: int
    detect: float
    fraction: float
    per_step: tuple[StepStats, ...]
    verdict: str  # consistent | discrepant
    model: Model | None
    first_exit: tuple[int, Exit] | None  # (coordinate, exit)
    outside_coordinates: int
    max_ulps_golden: float  # checked coordinates vs certified goldens, operand ulps
    certified_digits: int
    candidates: tuple[Candidate, ...]  # the family judged on the checked coordinates
    seconds: dict[str, float]
    npz: str | None

    @property
    def computes(self) -> str:
        if self.verdict == "consistent":
            return self.optimizer
        fit = next((c for c in self.candidates if c.fits), None)
        return fit.rule if fit else "unexplained"

    @property
    def max_ulps_local(self) -> float:
        return max((s.max_ulps for s in self.per_step), default=0.0)


def _run(impl, optimizer, hyper, x0, scales, seed, steps, feed):
    """Run the implementation; ``feed(t, before, g, after)`` sees every step."""
    run = stepper(impl, optimizer, hyper, x0, pieces(x0.size))
    before = x0.astype(np.float64)
    for t in range(1, steps + 1):
        g = gradients_at(seed, t, scales)
        after = np.asarray(run(g), dtype=np.float32).astype(np.float64)
        if after.shape != before.shape:
            raise InputError(f"{impl} returned shape {after.shape} at step {t}, expected "
                             f"{before.shape}")
        feed(t, before, g.astype(np.float64), after)
        before = after


@dataclass(frozen=True)
class _Job:
    """The run every pass repeats: implementation, rule, hyperparameters, inputs, length."""

    impl: str
    optimizer: str
    hyper: dict[str, str]
    x0: np.ndarray
    scales: np.ndarray
    seed: int
    steps: int

    def run(self, feed: Callable[[int, np.ndarray, np.ndarray, np.ndarray], None]) -> None:
        """Run the implementation once more, showing every step to ``feed``."""
        _run(self.impl, self.optimizer, self.hyper, self.x0, self.scales, self.seed, self.steps,
             feed)


@dataclass(frozen=True)
class _Judged:
    """Pass 2's findings: every coordinate of every step under the chosen model."""

    judgement: Judgement
    tracker: Tracker
    per_step: tuple[StepStats, ...]
    outside: int  # coordinates outside the envelope at some step
    first: tuple[int, Exit] | None  # (coordinate, exit)


def audit_tensor(impl: str, optimizer: str = "adam", size: int = 1_000_000, steps: int = 100,
                 seed: int = 0, hyper: dict[str, str] | None = None, detect: float = 0.95,
                 fraction: float = 0.01, extremes: int = 16, workers: int | None = None,
                 npz: Path | None = None, progress: Callable[[str], None] = lambda s: None
                 ) -> TensorAudit:
    """Audit ``impl`` (a built-in or MODULE:CALLABLE) running ``optimizer`` on ``size``
    parameters for ``steps`` steps."""
    if optimizer not in RULES:
        raise InputError(unknown("optimizer", optimizer, sorted(RULES)))
    if not 1 <= size <= 50_000_000 or not 1 <= steps <= 10_000:
        raise InputError("size must be 1..5·10⁷ and steps 1..10⁴")
    rule = RULES[optimizer]
    full = check_hyper(rule, DEFAULT_HYPER | dict(hyper or {}))
    clock: dict[str, float] = {}
    scales, x0 = gradient_scales(seed, size), initial_params(seed, size)
    job = _Job(impl, optimizer, full, x0, scales, seed, steps)

    t0 = time.perf_counter()
    model = _scalar_model(job, rule)
    clock["scalar model, on a sample of coordinates"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    judged = _judge_every_coordinate(job, rule, model, progress)
    clock["implementation + envelope, every coordinate"] = time.perf_counter() - t1

    k = min(size, sample_size(detect, fraction))
    chosen = _checked_coordinates(seed, k, judged.tracker.far_coord[0], scales, extremes)
    t2 = time.perf_counter()
    traj, grads = _record_checked(job, chosen)
    clock["implementation again, recording the checked coordinates"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    progress(f"certified goldens of {chosen.size} coordinates")
    gold, max_golden = _certify(job, chosen, traj, grads, workers)
    clock[f"certified goldens of {chosen.size} coordinates"] = time.perf_counter() - t3

    cands: tuple[Candidate, ...] = ()
    if judged.judgement.first_exit is not None:
        t4 = time.perf_counter()
        cands = _diagnose(optimizer, full, traj, grads, steps)
        clock["diagnosis: the family on the checked coordinates"] = time.perf_counter() - t4
    path = None
    if npz is not None:
        _write_npz(npz, chosen, traj, gold, judged)
        path = str(npz)
    inside = judged.judgement.inside
    verdict = "consistent" if inside else "discrepant"
    return TensorAudit(impl, optimizer, full, size, tuple(pieces(size)), steps, seed, k,
                       chosen.size - k, detect, fraction, judged.per_step, verdict,
                       model if inside else None, judged.first, judged.outside, max_golden,
                       min(gold.digits), cands, clock, path)


def _scalar_model(job: _Job, rule: Rule) -> Model:
    """Pass 1: judge a sample of coordinates under every model at once and keep the first
    model with the fewest coordinates outside, so that pass 2 needs only one."""
    size = job.x0.size
    pick = np.unique(np.random.default_rng([job.seed, 2]).choice(size, min(size, SELECT), replace=False))
    rows = len(MODELS)
    select = Stream(rule, [job.hyper] * rows, MODELS, "float32", (rows, pick.size), per_coordinate=True)

    def feed_select(t, before, g, after):
        def tile(a):
            return np.broadcast_to(a[pick], (rows, pick.size))

        select.step(tile(before), tile(g), tile(after), {}, {})

    job.run(feed_select)
    outside_per_model = select.tracker.out_coord.sum(axis=1)
    return MODELS[int(np.argmin(outside_per_model))]


def _judge_every_coordinate(job: _Job, rule: Rule, model: Model,
                            progress: Callable[[str], None]) -> _Judged:
    """Pass 2: every coordinate of every step against the envelope under ``model``, judged
    as the implementation runs so that nothing of size steps × parameters is held."""
    stream = Stream(rule, [job.hyper], [model], "float32", (1, job.x0.size), per_coordinate=True)

    def feed_all(t, before, g, after):
        stream.step(before[None], g[None], after[None], {}, {})
        if t % 10 == 0:
            progress(f"{job.impl}: step {t}/{job.steps}, every coordinate against the envelope")

    job.run(feed_all)
    j = stream.judgements(job.steps)[0]
    tr = stream.tracker
    per_step = tuple(StepStats(t, mx, mean, out) for t, mx, mean, out in tr.per_step)
    outside = int(np.count_nonzero(tr.out_coord[0]))
    first = None
    if j.first_exit is not None:
        first = (j.first_exit.index, j.first_exit)
    return _Judged(j, tr, per_step, outside, first)


def _checked_coordinates(seed: int, k: int, far: np.ndarray, scales: np.ndarray,
                         extremes: int) -> np.ndarray:
    """The coordinates to certify, sorted: ``k`` at random (the detection guarantee) and the
    extremes — farthest from the envelope's centre, largest and smallest gradients."""
    size = scales.shape[0]
    rng = np.random.default_rng([seed, 1])
    picked = set(rng.choice(size, k, replace=False).tolist())
    farthest = np.argsort(-far, kind="stable")[:extremes]
    by_scale = np.argsort(scales, kind="stable")
    return np.array(sorted(picked | set(farthest.tolist()) | set(by_scale[:extremes].tolist())
                           | set(by_scale[-extremes:].tolist())), dtype=np.int64)


def _record_checked(job: _Job, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pass 3: the chosen coordinates' trajectories ([step, coordinate], t = 0 the start) and
    gradients, from one more run of the implementation."""
    traj = np.empty((job.steps + 1, chosen.size), dtype=np.float64)
    grads = np.empty((job.steps, chosen.size), dtype=np.float64)
    traj[0] = job.x0[chosen]

    def record(t, before, g, after):
        grads[t - 1], traj[t] = g[chosen], after[chosen]

    job.run(record)
    return traj, grads


def _certify(job: _Job, chosen: np.ndarray, traj: np.ndarray, grads: np.ndarray,
             workers: int | None) -> tuple[StreamGolden, float]:
    """Certified MPFR goldens of the chosen coordinates, and the implementation's farthest
    distance from them in operand ulps (the distance from the exact trajectory)."""
    gold = golden_streams(job.optimizer, job.hyper, [_exact(v) for v in job.x0[chosen]],
                          [[_exact(v) for v in grads[:, c]] for c in range(chosen.size)],
                          workers=workers)
    gold64 = np.array([[float(as_fraction(text)) for text in coord] for coord in gold.params],
                      dtype=np.float64).T
    unit = _ulp32(np.maximum.accumulate(np.abs(gold64), axis=0))
    return gold, float(np.max(np.abs(traj - gold64) / unit))


def _diagnose(optimizer: str, full: dict[str, str], traj: np.ndarray, grads: np.ndarray,
              steps: int) -> tuple[Candidate, ...]:
    """The optimizer's family judged on the checked coordinates, to name what a discrepant
    implementation computes instead."""
    tested = Tested(traj, grads, {}, steps, "float32")
    return tuple(candidate(RULES[name], [Run(rule_hyper(name, full), tested)])
                 for name in family(optimizer) if name != optimizer)


def _write_npz(npz: Path, chosen: np.ndarray, traj: np.ndarray, gold: StreamGolden,
               judged: _Judged) -> None:
    """Save the checked coordinates' trajectories and goldens, built in memory and written
    whole (temp file + rename) so that a crash leaves no partial file."""
    buf = io.BytesIO()
    np.savez_compressed(buf, coordinates=chosen, implementation=traj.astype(np.float32),
                        golden=np.array(gold.params, dtype=str).T,
                        max_ulps_per_step=np.array([s.max_ulps for s in judged.per_step]),
                        farthest_ulps_per_coordinate_checked=judged.tracker.far_coord[0][chosen])
    write_atomic(npz, buf.getvalue())


def _exact(x: np.float32) -> str:
    """The exact decimal value of a float32 (finite binary fractions are finite decimals)."""
    return str(Decimal(float(x)))


def _ulp32(x: np.ndarray) -> np.ndarray:
    _, e = np.frexp(np.abs(x))
    return np.ldexp(1.0, np.maximum(e - 1, -126) - 23)
