"""The audit's resolution, measured like a thermometer's: the smallest relative error of the update
that it flags. A correct float32 Adam whose step is scaled by (1 + r) is audited for r on a
logarithmic grid, then bisected between the last r that passed and the first that was flagged;
each row is one way of auditing (full battery or the probe alone, state exposed or private, the
large-tensor audit), each sign of r apart (an error can hide on one side of the envelope only).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .result import DISCREPANT

_SCALE = [0.0]  # the (1 + r) factor's r, read by the step functions below (module-level, so
#                 the large audit can import them by name)


def _adam(params, grad, state, t, hyper, private: bool):
    """Adam in float32 (Kingma & Ba Algorithm 1), its step scaled by (1 + r)."""
    f32 = np.float32
    mk, vk = ("_m", "_v") if private else ("m", "v")
    b1, b2 = f32(hyper["beta1"]), f32(hyper["beta2"])
    m = b1 * state.get(mk, np.zeros_like(params)) + (f32(1) - b1) * grad
    v = b2 * state.get(vk, np.zeros_like(params)) + (f32(1) - b2) * grad * grad
    m_hat = m / f32(1 - float(hyper["beta1"]) ** t)
    v_hat = v / f32(1 - float(hyper["beta2"]) ** t)
    step = f32(hyper["lr"]) * m_hat / (np.sqrt(v_hat) + f32(hyper["eps"]))
    step = (step.astype(np.float64) * (1.0 + _SCALE[0])).astype(f32)
    return (params - step).astype(f32), {mk: m, vk: v}


def scaled_exposed(params, grad, state, t, hyper):
    return _adam(params, grad, state, t, hyper, private=False)


def scaled_private(params, grad, state, t, hyper):
    return _adam(params, grad, state, t, hyper, private=True)


@dataclass(frozen=True)
class Row:
    """The smallest |r| flagged in one way of auditing, for one sign of r."""

    audit: str  # "full battery", "--quick", "large audit (N × S)"
    state: str  # "exposed" or "private"
    sign: int  # +1: the step too large; −1: too small
    smallest: float | None  # None: not flagged up to the grid's end
    largest_passed: float


GRID = [10.0 ** (k / 4) for k in range(-28, -7)]  # 1e-7 … 1e-2, four points a decade


def smallest_flagged(flags: Callable[[float], bool], grid: list[float] = GRID,
                     halvings: int = 3) -> tuple[float | None, float]:
    """The smallest r of ``grid`` that ``flags`` (assumed monotone), refined by ``halvings``
    bisections in log space; and the largest r seen to pass."""
    passed = 0.0
    for r in grid:
        if flags(r):
            hi, lo = r, max(passed, r / 10 ** 0.25)
            for _ in range(halvings):
                mid = math.sqrt(lo * hi)
                if flags(mid):
                    hi = mid
                else:
                    lo = passed = mid
            return hi, passed
        passed = r
    return None, passed


def measure(large_size: int = 70_000, large_steps: int = 100,
            progress: Callable[[str], None] = lambda s: None) -> tuple[Row, ...]:
    """Every row: full battery and probe alone with state exposed and private, both signs;
    the large audit (exposed state) on ``large_size`` coordinates, both signs."""
    from .run import audit
    from .sampled import audit_tensor

    def small(fn: Callable, quick: bool) -> Callable[[float], bool]:
        def flags(r: float) -> bool:
            _SCALE[0] = r
            return audit(fn, "adam", quick=quick, golden=False).verdict == DISCREPANT
        return flags

    def large(r: float) -> bool:
        _SCALE[0] = r
        return audit_tensor(f"{__name__}:scaled_exposed", "adam", large_size, large_steps
                            ).verdict == DISCREPANT

    ways = [("full battery", "exposed", small(scaled_exposed, False)),
            ("full battery", "private", small(scaled_private, False)),
            ("--quick", "exposed", small(scaled_exposed, True)),
            (f"large audit ({large_size} × {large_steps})", "exposed", large)]
    rows = []
    try:
        for name, state, flags in ways:
            for sign in (1, -1):
                progress(f"sensitivity: {name}, {state} state, r {'>' if sign > 0 else '<'} 0")
                smallest, passed = smallest_flagged(lambda r, f=flags, s=sign: f(s * r))
                rows.append(Row(name, state, sign, smallest, passed))
    finally:
        _SCALE[0] = 0.0
    return tuple(rows)


def as_json(rows: tuple[Row, ...]) -> list[dict]:
    return [{"audit": r.audit, "state": r.state, "sign": r.sign,
             "smallest": None if r.smallest is None else float(f"{r.smallest:.2g}"),
             "largest_passed": float(f"{r.largest_passed:.2g}")} for r in rows]


def to_json(rows: tuple[Row, ...]) -> str:
    import json

    return json.dumps(as_json(rows), indent=1, ensure_ascii=False) + "\n"


def sentence(rows: list[dict]) -> str:
    """The resolution in one sentence: the smallest relative error of the update flagged, per way
    of auditing (the worse of the two signs)."""
    ways: dict[tuple[str, str], list] = {}
    for r in rows:
        ways.setdefault((r["audit"], r["state"]), []).append(r["smallest"])
    parts = []
    for (name, state), values in ways.items():
        worst = None if None in values else max(values)
        parts.append(f"{_sci(worst)} ({name}, state {state})")
    return "smallest relative error of the update flagged: " + "; ".join(parts)


def _sci(x: float | None) -> str:
    if x is None:
        return "none up to 10⁻²"
    mant, exp = f"{x:.1e}".split("e")
    sup = str(int(exp)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{mant}·10{sup}"
