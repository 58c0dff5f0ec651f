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

from .arith import (
    FORMATS,
    FloatFormat,
    as_fraction,
    float32_values,
    float_format,
    is_plain_decimal,
    ordered_int,
    ordered_ints,
    round_to,
)
from .run import is_finite_text
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
    rel = err / abs(g) if g != 0 else None
    return ValueDiff(t, quantity, index, tested, golden, _quotient(err.numerator, err.denominator),
                     (0.0 if err == 0 else float("inf")) if rel is None else
                     _quotient(rel.numerator, rel.denominator), ulp_distance(mine, ref, fmt))


def _quotient(n: int, d: int) -> float:
    """n / d rounded to the nearest double (Python's int division rounds correctly), +inf
    beyond the largest double, as IEEE rounding gives: a golden far below the tested value
    (1e-400 against 1e-45) has a relative error no double holds."""
    try:
        return n / d
    except OverflowError:
        return float("inf")


def compare(tested: Trace, golden: Trace, tested_name: str = "tested",
            golden_name: str = "golden") -> Comparison:
    """Compare every value both traces record, step by step (the shorter trace bounds it)."""
    gsteps = {s.t: s for s in golden.steps}
    fmt = float_format(tested.arithmetic.get("dtype", "float32"))
    keys, mine, theirs = [], [], []
    for s in tested.steps:
        g = gsteps.get(s.t)
        if g is None:
            continue
        for q in tested.quantities():
            a, b = s.values(q), g.values(q)
            if a is None or b is None:
                continue
            if len(a) != len(b):
                raise ValueError(f"step {s.t}: {q} has {len(a)} values here, {len(b)} in the golden")
            keys += [(s.t, q, i) for i in range(len(a))]
            mine += a
            theirs += b
    return Comparison(tested_name, golden_name, tuple(value_diffs(keys, mine, theirs, fmt)))


def value_diffs(keys: list[tuple[int, str, int]], tested: list[str], golden: list[str],
                fmt: FloatFormat = FORMATS["float32"]) -> list[ValueDiff]:
    """``value_diff`` of each (key, tested, golden), equal to it field for field, computed
    together: the golden rounded to ``fmt`` through its correctly rounded double, exact by
    value_diff's own rational rounding only where that double is a midpoint of ``fmt`` (the one
    case where rounding twice differs from rounding once) or out of range; the ulps in one NumPy
    pass; the errors as quotients of integers (Python rounds int / int correctly, as
    ``float(Fraction)`` does), without a Fraction's gcd per operation."""
    if not keys:
        return []
    with np.errstate(over="ignore"):
        mine = float32_values(tested).astype(fmt.dtype)
    finite = [is_finite_text(b) for b in golden]
    plain = [f and is_plain_decimal(b) for f, b in zip(finite, golden, strict=True)]
    with np.errstate(over="ignore", invalid="ignore"):
        double = np.array([b if p else "nan" for p, b in zip(plain, golden, strict=True)],
                          dtype=np.float64)
        ref = double.astype(fmt.dtype)
        exact = np.array(plain) & ~_rounded_once(double, ref, fmt)
    for k in np.flatnonzero(exact):
        ref[k] = round_to(as_fraction(golden[k]), fmt)
    for k, f in enumerate(finite):
        if not f:
            ref[k] = value_of(golden[k], fmt)
    ulps = _ulps(mine, ref, fmt)
    out = []
    for k, (key, a, b) in enumerate(zip(keys, tested, golden, strict=True)):
        if not plain[k] and finite[k]:  # a decimal the fast reader does not take: the reference
            out.append(value_diff(*key, a, b, fmt))
            continue
        if not (finite[k] and is_finite_text(a)):
            out.append(ValueDiff(*key, a, b, float("inf"), float("inf"), ulps[k]))
            continue
        an, ad = float(np.float32(a)).as_integer_ratio()  # the exact value the text names
        gn, gd = _decimal_ratio(b)
        dn = an * gd - gn * ad  # (a − g)·ad·gd
        err = abs(dn)
        rel = _quotient(err, ad * abs(gn)) if gn else (0.0 if dn == 0 else float("inf"))
        out.append(ValueDiff(*key, a, b, _quotient(err, ad * gd), rel, ulps[k]))
    return out


def _decimal_ratio(text: str) -> tuple[int, int]:
    """A plain decimal text as numerator and denominator (not reduced: nothing needs it)."""
    mantissa, _, exponent = text.lower().partition("e")
    e = int(exponent) if exponent else 0
    whole, _, fraction = mantissa.partition(".")
    n = int(whole + fraction)  # a plain decimal (``is_plain_decimal``) has a digit here
    e -= len(fraction)
    return (n * 10**e, 1) if e >= 0 else (n, 10**-e)


def _rounded_once(double: np.ndarray, ref: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    """Where ``ref`` (``double`` converted to ``fmt``) is the correct rounding of every real
    number whose nearest double is ``double``: both finite, and ``double`` equal to ``ref`` or
    strictly nearer it than the neighbour on its side. A double exactly halfway is left to the
    exact rounding (the real number may lie on either side)."""
    back = ref.astype(np.float64)
    toward = np.where(double > back, np.inf, -np.inf).astype(fmt.dtype)
    neighbour = np.nextafter(ref, toward).astype(np.float64) if fmt.name != "bfloat16" else \
        _next_bfloat16(ref, double > back)
    half = (neighbour - back) / 2  # exact: two values of a narrower format
    gap = double - back  # exact (Sterbenz): the two are within a factor of 2, same sign
    ok = np.isfinite(double) & np.isfinite(back) & np.isfinite(neighbour)
    return ok & ((gap == 0) | (np.abs(gap) < np.abs(half)))


def _next_bfloat16(x: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The bfloat16 neighbour of x above (``up``) or below, as float64 (ml_dtypes has no
    nextafter): one step of the ordered bit pattern."""
    bits = x.view(np.int16).astype(np.int32)
    step = np.where(up == (bits >= 0), 1, -1)
    zero = (bits & 0x7FFF) == 0
    bits = np.where(zero, np.where(up, 1, 0x8001), bits + step)
    return (bits.astype(np.uint32) << 16).astype(np.uint32).view(np.float32).astype(np.float64)


def _ulps(mine: np.ndarray, ref: np.ndarray, fmt: FloatFormat) -> list[int | None]:
    """``ulp_distance`` of each pair."""
    distance = np.abs(ordered_ints(mine, fmt) - ordered_ints(ref, fmt)).tolist()
    a, b = mine.astype(np.float64), ref.astype(np.float64)
    for k in np.flatnonzero(~(np.isfinite(a) & np.isfinite(b))):
        same = (np.isnan(a[k]) and np.isnan(b[k])) or a[k] == b[k]
        distance[k] = 0 if same else None
    return distance


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
