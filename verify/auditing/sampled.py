"""Audit an implementation on a large tensor (e.g. 10⁶ parameters × 100 steps) by sampling.

Every rule in the catalogue is coordinate-wise, so a coordinate's golden depends only on its
own gradient stream. The audit feeds the implementation seeded gradient streams and, step by
step in lockstep, a float64 *shadow* of the same rule on every coordinate (an accurate
reference for all of them: its error is ~2⁻²⁹ of a float32 ulp per operation). Certified MPFR
goldens are computed for a random sample of coordinates — enough to catch, with the stated
probability, a shadow or an implementation wrong on a given fraction of coordinates — plus the
*extreme* coordinates (farthest from the shadow, largest and smallest gradients), and the
random-rounding envelope is computed for those. Nothing of size steps × parameters is held;
the checked coordinates' trajectories go to a compressed ``.npz``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from ..arith import Float32Arith, Float64Arith, as_fraction
from ..errors import InputError
from ..rules import RULES
from ..runners.tensor import stepper
from ..spec import check_hyper
from ..streams import golden_streams
from .montecarlo import _RR, Float32RandomRounding

DEFAULT_HYPER = {"lr": "0.001"}
# An implementation outside the envelope of Algorithm 1's operation order, but whose nearest
# catalogue variant is the claimed rule within this many operand ulps of its float32 run, is
# "consistent up to evaluation order": the same rule with its operations in another order
# (torch computes lr/(1 − β1ᵗ) · m/(√v/√(1 − β2ᵗ) + ε), for instance), which random
# rounding of one order does not cover. A different rule is thousands of ulps away.
ORDER_ULPS = 8


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


def ordered(x: np.ndarray) -> np.ndarray:
    """float32 values as integers in which neighbouring floats differ by 1."""
    i = np.ascontiguousarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(i >= 0, i, -(i & 0x7FFFFFFF))


def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(ordered(a) - ordered(b))


def spacing32(x: np.ndarray) -> np.ndarray:
    """The float32 spacing (one ulp) at |x|, as float64."""
    return np.spacing(np.abs(x).astype(np.float32)).astype(np.float64)


def operand_ulps(got: np.ndarray, ref: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """|got − ref| in float32 ulps of ``scale`` = max_{s≤t} |θ_s|, the largest operand the
    coordinate's updates θ_s = θ_{s−1} + Δ_s have had. Rounding errors are absolute and carry
    from step to step, so once θ shrinks (or cancels towards 0) an error of an ulp of its
    earlier size is many ulps of the result: counting in ulps of the result would report
    thousands for arithmetic that is as good as float32 allows."""
    return np.abs(got.astype(np.float64) - ref) / spacing32(scale)


@dataclass(frozen=True)
class StepStats:
    """Implementation vs the float64 shadow over every coordinate, in operand ulps."""

    t: int
    max_ulps: float
    mean_ulps: float
    beyond_4: int  # coordinates more than 4 operand ulps from the shadow
    max_result_ulps: int  # the same counted in ulps of the result (inflated near 0)


@dataclass(frozen=True)
class TensorAudit:
    impl: str
    optimizer: str
    hyper: dict[str, str]
    size: int
    steps: int
    seed: int
    sampled: int  # random coordinates with certified goldens
    extremes: int
    detect: float
    fraction: float
    per_step: tuple[StepStats, ...]
    max_ulps_golden: float  # checked coordinates, vs certified golden, in operand ulps
    shadow_error_ulps: float  # checked coordinates: |shadow − golden| in float32 ulps, worst
    certified_digits: int
    verdict: str  # consistent | consistent up to evaluation order | discrepant
    placement: str | None  # scalar placement whose envelope holds the checked coordinates
    first_outside: tuple[int, int] | None  # (step, coordinate) under the closest placement
    beyond_ulps: float  # how far outside that envelope at worst, in operand ulps (0: inside)
    closest: tuple[str, str, float]  # (variant, scalars, operand ulps) nearest on checked coords
    seconds: dict[str, float]
    npz: str | None

    @property
    def max_ulps_shadow(self) -> float:
        return max((s.max_ulps for s in self.per_step), default=0.0)


def audit_tensor(impl: str, optimizer: str = "adam", size: int = 1_000_000, steps: int = 100,
                 seed: int = 0, hyper: dict[str, str] | None = None, detect: float = 0.95,
                 fraction: float = 0.01, extremes: int = 16, samples: int = 8,
                 workers: int | None = None, npz: Path | None = None,
                 progress: Callable[[str], None] = lambda s: None) -> TensorAudit:
    """Audit ``impl`` running ``optimizer`` on ``size`` parameters for ``steps`` steps."""
    if optimizer not in RULES:
        raise InputError(f"unknown optimizer {optimizer!r}")
    if not 1 <= size <= 50_000_000 or not 1 <= steps <= 10_000:
        raise InputError("size must be 1..5·10⁷ and steps 1..10⁴")
    rule = RULES[optimizer]
    full = check_hyper(rule, DEFAULT_HYPER | dict(hyper or {}))
    clock: dict[str, float] = {}
    t0 = time.perf_counter()
    scales, x0 = gradient_scales(seed, size), initial_params(seed, size)

    # pass 1: implementation and float64 shadow in lockstep over every coordinate
    run = stepper(impl, optimizer, full, x0)
    ar64 = Float64Arith()
    hp64 = {k: ar64.num(v) for k, v in full.items()}
    shadow, state = x0.astype(np.float64), rule.init(x0.astype(np.float64), ar64)
    worst = np.zeros(size, dtype=np.float64)
    biggest = np.abs(shadow)
    stats = []
    for t in range(1, steps + 1):
        g = gradients_at(seed, t, scales)
        got = run(g)
        with np.errstate(all="ignore"):
            delta, state, _ = rule.update(g.astype(np.float64), state, shadow, t, hp64, ar64)
            shadow = shadow + delta
            np.maximum(biggest, np.abs(shadow), out=biggest)
            d = operand_ulps(got, shadow, biggest)
        np.maximum(worst, d, out=worst)
        stats.append(StepStats(t, float(d.max()), float(d.mean()), int(np.count_nonzero(d > 4)),
                               int(ulps(got, shadow.astype(np.float32)).max())))
        if t % 10 == 0:
            progress(f"{impl} vs float64 shadow: step {t}/{steps}")
    clock["implementation + float64 shadow, every coordinate"] = time.perf_counter() - t0

    # the coordinates to certify: a random sample and the extremes
    k = min(size, sample_size(detect, fraction))
    rng = np.random.default_rng([seed, 1])
    picked = set(rng.choice(size, k, replace=False).tolist())
    order_worst = np.argsort(-worst, kind="stable")[:extremes]
    order_scale = np.argsort(scales, kind="stable")
    chosen = np.array(sorted(picked | set(order_worst.tolist()) | set(order_scale[:extremes].tolist())
                             | set(order_scale[-extremes:].tolist())), dtype=np.int64)

    # pass 2: the implementation again, recording the chosen coordinates
    t1 = time.perf_counter()
    run = stepper(impl, optimizer, full, x0)
    traj = np.empty((steps + 1, chosen.size), dtype=np.float32)
    grads = np.empty((steps, chosen.size), dtype=np.float32)
    traj[0] = x0[chosen]
    for t in range(1, steps + 1):
        g = gradients_at(seed, t, scales)
        grads[t - 1] = g[chosen]
        traj[t] = run(g)[chosen]
    clock["implementation again, recording the checked coordinates"] = time.perf_counter() - t1

    # certified goldens of the chosen coordinates (MPFR at 50 and 100 digits, in parallel)
    t2 = time.perf_counter()
    progress(f"certified goldens of {chosen.size} coordinates")
    gold = golden_streams(optimizer, full, [_exact(v) for v in x0[chosen]],
                          [[_exact(v) for v in grads[:, j]] for j in range(chosen.size)],
                          workers=workers)
    clock[f"certified goldens of {chosen.size} coordinates"] = time.perf_counter() - t2
    gold64 = np.array([[float(as_fraction(text)) for text in coord]
                       for coord in gold.params], dtype=np.float64).T  # [t, j]
    max_golden = float(operand_ulps(traj, gold64, np.maximum.accumulate(np.abs(gold64))).max())
    shadow_err = _shadow_error(rule, full, x0[chosen], grads, gold.params)

    # the random-rounding envelope of the chosen coordinates, per scalar placement
    t3 = time.perf_counter()
    placement, outside, beyond = None, None, math.inf
    for scalars in ("float32", "float64", "mixed"):
        lo, hi = _envelope(rule, full, x0[chosen], grads, samples, seed, scalars)
        out = _first_outside(traj, lo, hi)
        if out is None:
            placement, outside, beyond = scalars, None, 0.0
            break
        far = _beyond(traj, lo, hi)
        if far < beyond:  # the placement that comes closest explains the run best
            beyond, outside = far, (out[0], int(chosen[out[1]]))
    clock["rounding envelopes of the checked coordinates"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    closest = _closest_variant(optimizer, full, x0[chosen], grads, traj)
    clock["diagnosis: every variant of the family on the checked coordinates"] = (
        time.perf_counter() - t4)
    path = None
    if npz is not None:
        np.savez_compressed(npz, coordinates=chosen, implementation=traj,
                            golden=np.array(gold.params, dtype=str).T,
                            max_ulps_per_step=np.array([s.max_ulps for s in stats]),
                            worst_ulps_per_coordinate_checked=worst[chosen])
        path = str(npz)
    return TensorAudit(impl, optimizer, full, size, steps, seed, k, chosen.size - k, detect,
                       fraction, tuple(stats), max_golden, shadow_err, min(gold.digits),
                       _verdict(placement, optimizer, closest), placement, outside, beyond,
                       closest, clock, path)


def _exact(x: np.float32) -> str:
    """The exact decimal value of a float32 (finite binary fractions are finite decimals)."""
    return str(Decimal(float(x)))


def _path(rule, hyper: dict[str, str], ar, x0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """θ_0 … θ_T of ``rule`` in backend ``ar`` on the gradient rows ``grads[t − 1]``."""
    with ar.activate():
        hp = {k: ar.num(v) for k, v in hyper.items()}
        x = ar.vector(list(x0))
        state = rule.init(x, ar)
        out = [_values(x)]
        for t in range(1, grads.shape[0] + 1):
            delta, state, _ = rule.update(ar.vector(list(grads[t - 1])), state, x, t, hp, ar)
            x = x + delta
            out.append(_values(x))
    return np.stack(out)


def _values(x) -> np.ndarray:
    """A backend vector as float64 values (random-rounding arrays unwrapped, nothing rounded)."""
    return np.array(x.a if isinstance(x, _RR) else x, dtype=np.float64)


def _shadow_error(rule, hyper, x0: np.ndarray, grads: np.ndarray, golden) -> float:
    """Worst distance of the float64 shadow from the certified golden, in float32 ulps."""
    shadow = _path(rule, hyper, Float64Arith(), x0, grads)
    ref = np.array([[float(as_fraction(text)) for text in coord] for coord in golden]).T
    return float(np.max(np.abs(shadow - ref) / spacing32(ref)))


def _envelope(rule, hyper, x0: np.ndarray, grads: np.ndarray, samples: int, seed: int,
              scalars: str) -> tuple[np.ndarray, np.ndarray]:
    runs = [Float32Arith(scalars)] + [Float32RandomRounding(seed + 100 + s, scalars)
                                      for s in range(samples)]
    stack = np.stack([_path(rule, hyper, ar, x0, grads) for ar in runs]).astype(np.float32)
    return stack.min(axis=0), stack.max(axis=0)


def _verdict(placement: str | None, optimizer: str, closest: tuple[str, str, float]) -> str:
    if placement:
        return "consistent"
    if closest[0] == optimizer and closest[2] <= ORDER_ULPS:
        return "consistent up to evaluation order"
    return "discrepant"


def _closest_variant(optimizer: str, hyper: dict[str, str], x0: np.ndarray, grads: np.ndarray,
                     traj: np.ndarray) -> tuple[str, str, float]:
    """The catalogue variant (and scalar placement) whose float32 run on the checked
    coordinates' gradient streams comes nearest to the implementation, in operand ulps."""
    from .diagnose import candidate_hyper, family

    best = ("", "", math.inf)
    scale = np.maximum.accumulate(np.abs(traj.astype(np.float64)), axis=0)
    for variant in family(optimizer):
        rule = RULES[variant]
        hp_text = dict(rule.defaults) | candidate_hyper(variant, hyper)
        for scalars in ("float32", "float64", "mixed"):
            ref = _path(rule, hp_text, Float32Arith(scalars), x0, grads)
            with np.errstate(all="ignore"):
                far = float(np.nanmax(np.abs(traj - ref) / spacing32(scale)))
            if far < best[2]:
                best = (variant, scalars, far)
    return best


def _beyond(traj: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """How far the trajectory leaves [lo, hi] at worst, in operand ulps (0 inside)."""
    mag = np.maximum(np.abs(lo), np.abs(hi)).astype(np.float64)
    unit = spacing32(np.maximum.accumulate(mag, axis=0))
    v = traj.astype(np.float64)
    return float(np.max(np.maximum(np.maximum(lo - v, v - hi), 0) / unit))


def _first_outside(traj: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   slack: int = 2) -> tuple[int, int] | None:
    """(step, column) of the first value outside [lo, hi] widened by ``slack`` operand ulps
    (ulps of the largest |θ| so far, see ``operand_ulps``)."""
    mag = np.maximum(np.abs(lo), np.abs(hi)).astype(np.float64)
    scale = np.maximum.accumulate(mag, axis=0)
    pad = slack * spacing32(scale)
    v = traj.astype(np.float64)
    bad = np.argwhere((v < lo - pad) | (v > hi + pad))
    return None if bad.size == 0 else (int(bad[0, 0]), int(bad[0, 1]))
