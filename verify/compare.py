"""Diff a float32 trace against a golden trace: absolute and relative error and ULP distance.

The ULP distance is counted in the tested run's format (float32, float16 or bfloat16) between the
tested value and the golden value rounded correctly to that format, so 0 means "the best answer
in that format" and 1 means one neighbour off.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .arith import FORMATS, FloatFormat, as_fraction, float32_values, float_format, ordered_int, round_to
from .golden import is_finite_text
from .trace import Trace


@dataclass(frozen=True)
class ValueDiff:
    """One value of one step: tested against golden."""

    t: int
    quantity: str
    index: int
    tested: str
    golden: str
    abs_err: float
    rel_err: float
    ulps: int | None  # None: one side is not finite


@dataclass(frozen=True)
class Comparison:
    """All value differences between a tested trace and its golden."""

    tested: str
    golden: str
    diffs: tuple[ValueDiff, ...]

    def max_ulps(self, quantity: str | None = None) -> int | None:
        """Largest ULP distance (None if any compared value is not finite)."""
        sel = [d.ulps for d in self.diffs if quantity is None or d.quantity == quantity]
        if any(u is None for u in sel):
            return None
        return max(sel, default=0)

    def quantities(self) -> list[str]:
        return list(dict.fromkeys(d.quantity for d in self.diffs))

    def max_rel_err(self, quantity: str | None = None) -> float:
        return max((d.rel_err for d in self.diffs if quantity is None or d.quantity == quantity),
                   default=0.0)

    def beyond(self, ulps: int, quantities: tuple[str, ...] | None = None) -> list[ValueDiff]:
        """Values more than ``ulps`` away (or not finite), in step order."""
        return sorted((d for d in self.diffs
                       if (quantities is None or d.quantity in quantities)
                       and (d.ulps is None or d.ulps > ulps)), key=lambda d: d.t)


def ulp_distance(a: Any, b: Any, fmt: FloatFormat = FORMATS["float32"]) -> int | None:
    """How many values of ``fmt`` lie between a and b (None if exactly one is not finite)."""
    a, b = fmt.dtype(a), fmt.dtype(b)
    if not (np.isfinite(a) and np.isfinite(b)):
        return 0 if (np.isnan(a) and np.isnan(b)) or a == b else None
    return abs(ordered_int(a, fmt) - ordered_int(b, fmt))


def value_of(text: str, fmt: FloatFormat) -> Any:
    """The value a trace's text names, in ``fmt`` (texts are float32-exact for every format)."""
    return fmt.dtype(np.float32(text))


def value_diff(t: int, quantity: str, index: int, tested: str, golden: str,
               fmt: FloatFormat = FORMATS["float32"]) -> ValueDiff:
    """Errors of a tested value (its decimal text) against a golden decimal; ULPs in ``fmt``
    against the golden rounded correctly to ``fmt``."""
    mine = value_of(tested, fmt)
    finite = is_finite_text(golden)
    g = as_fraction(golden) if finite else None
    ref = round_to(g, fmt) if finite else value_of(golden, fmt)
    if not (is_finite_text(tested) and finite):
        return ValueDiff(t, quantity, index, tested, golden, float("inf"), float("inf"),
                         ulp_distance(mine, ref, fmt))
    a = Fraction(float(np.float32(tested)))  # the exact value the text names
    err = abs(a - g)
    rel = float(err / abs(g)) if g != 0 else (0.0 if err == 0 else float("inf"))
    return ValueDiff(t, quantity, index, tested, golden, float(Fraction(err)), rel,
                     ulp_distance(mine, ref, fmt))


def compare(tested: Trace, golden: Trace, tested_name: str = "tested",
            golden_name: str = "golden") -> Comparison:
    """Compare every value both traces record, step by step (the shorter trace bounds it)."""
    gsteps = {s.t: s for s in golden.steps}
    fmt = float_format(tested.arithmetic.get("dtype", "float32"))
    diffs = []
    for s in tested.steps:
        g = gsteps.get(s.t)
        if g is None:
            continue
        for q in tested.quantities():
            mine, theirs = s.values(q), g.values(q)
            if mine is None or theirs is None:
                continue
            diffs += [value_diff(s.t, q, i, a, b, fmt)
                      for i, (a, b) in enumerate(zip(mine, theirs, strict=True))]
    return Comparison(tested_name, golden_name, tuple(diffs))


@dataclass(frozen=True)
class OperandUlps:
    """Largest distance of a tested quantity from its golden in *operand ulps*: ulps (of the
    tested run's format) of the largest |golden value| the coordinate has had so far. Rounding
    errors are absolute and carry from step to step, so once a value shrinks or crosses 0 an
    error of an ulp of its earlier size would read as thousands of ulps of the result."""

    worst: float | None  # None: a non-finite value where the golden is finite
    first_nonfinite: int | None  # its step


def operand_ulps(tested: Trace, golden: Trace, quantity: str = "params") -> OperandUlps:
    fmt = float_format(tested.arithmetic.get("dtype", "float32"))
    gsteps = {s.t: s for s in golden.steps}
    rows = []
    for s in tested.steps:
        g = gsteps.get(s.t)
        mine, theirs = s.values(quantity), g.values(quantity) if g else None
        if mine is not None and theirs is not None:
            rows.append((s.t, mine, theirs))
    if not rows:
        return OperandUlps(0.0, None)
    ref = np.array([theirs for _, _, theirs in rows], dtype=np.float64)  # correctly rounded
    got = float32_values([mine for _, mine, _ in rows])
    bad = (~np.isfinite(got) & np.isfinite(ref)).any(axis=1)
    if bad.any():
        return OperandUlps(None, rows[int(np.argmax(bad))][0])
    scale = np.maximum.accumulate(np.abs(ref), axis=0)  # the largest |golden| so far
    with np.errstate(invalid="ignore"):
        d = np.where(np.isfinite(ref), np.abs(got - ref), 0.0)
    _, e = np.frexp(np.where(np.isfinite(scale), scale, 0.0))
    unit = np.ldexp(1.0, np.maximum(e - 1, fmt.emin) - fmt.precision + 1)
    return OperandUlps(max(0.0, float(np.max(d / unit))), None)
