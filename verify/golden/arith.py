"""Number backends the update rules run on: mpmath at a given precision, and float32.

A backend converts exact rationals into its numbers (correctly rounded) and supplies the few
operations Python's operators do not: sqrt, integer power, maximum, absolute value, formatting.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy as sp

Rationalish = sp.Rational | Fraction | int | str
# what expr.parse_number accepts without whitespace: sign, digits, point, exponent up to 400
_PLAIN_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE]([+-]?\d{1,4}))?$")


def as_fraction(value: Rationalish) -> Fraction:
    """Exact ``Fraction`` from a SymPy rational, an int or a decimal string."""
    if isinstance(value, sp.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, str):
        if _plain(_PLAIN_DECIMAL.match(value)):
            return Fraction(value)  # exact for a plain decimal (the common case: trace values)
        return _decimal_fraction(value)
    return Fraction(value)


def _plain(m: re.Match | None) -> bool:
    return bool(m) and (not m.group(4) or abs(int(m.group(4))) <= 400) and not (
        m.group(1).startswith("0") and len(m.group(1)) > 1 and not m.group(2)
        and not m.group(3))  # "007": not a Python literal, parse_number refuses it


def is_plain_decimal(text: str) -> bool:
    """``text`` is a decimal ``as_fraction`` reads directly (sign, digits, point, exponent of
    at most 400, nothing before or after it): one whose value is M·10^E as written."""
    return _plain(_PLAIN_DECIMAL.fullmatch(text))


@functools.lru_cache(maxsize=4096)
def _decimal_fraction(text: str) -> Fraction:
    """A decimal string parsed exactly, never via float (cached: every run converts the same
    hyperparameters and starting points, twice for a golden)."""
    from ..symbolic.expr import parse_number

    r = parse_number(text)
    return Fraction(int(r.p), int(r.q))


class _ScalarOps:
    """Operations shared by the one-coordinate-at-a-time backends (mpmath, MPFR)."""

    vectorized = False

    def complement(self, x: Any) -> Any:
        return self.one - x

    def maximum(self, a: Any, b: Any) -> Any:
        return a if a >= b else b

    def clip(self, x: Any, lo: Any, hi: Any) -> Any:
        return lo if x < lo else (hi if x > hi else x)

    def abs(self, x: Any) -> Any:
        return abs(x)

    def where_zero(self, g: Any, old: Any, new: Any) -> Any:
        return old if g == 0 else new


class MpmathArith(_ScalarOps):
    """mpmath numbers at ``dps`` decimal digits, in a private context (no global state)."""

    kind = "mpmath"

    def __init__(self, dps: int = 50):
        self.ctx = mpmath.MPContext()
        self.ctx.dps = dps
        self.dps = dps
        self.name = f"mpmath@{dps}"
        self.one = self.ctx.mpf(1)

    def activate(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def to_mpmath(self, x: Any, ctx: Any) -> Any:
        return ctx.mpf(x)

    def num(self, value: Rationalish) -> Any:
        q = as_fraction(value)
        return self.ctx.mpf(q.numerator) / self.ctx.mpf(q.denominator)

    def zeros_like(self, x: Any) -> Any:
        return self.ctx.mpf(0)

    def sqrt(self, x: Any) -> Any:
        return self.ctx.sqrt(x)

    def one_minus_pow(self, beta: Any, t: int) -> Any:
        """1 − β^t (the working precision absorbs the cancellation; P vs 2P certifies it)."""
        return 1 - beta**t

    def func(self, name: str) -> Any:
        return getattr(self.ctx, name)

    def is_finite(self, x: Any) -> bool:
        return bool(self.ctx.isfinite(x))


class MpfrArith(_ScalarOps):
    """GNU MPFR through gmpy2 at the binary precision of ``dps`` digits: every operation
    correctly rounded, about ten times faster than mpmath per scalar operation. Arithmetic runs
    inside ``activate()`` (gmpy2's precision is a thread-local context)."""

    kind = "mpfr"

    def __init__(self, dps: int = 50):
        import gmpy2

        self.gmpy2 = gmpy2
        self.dps = dps
        self.bits = mpmath.libmp.dps_to_prec(dps)  # the same binary precision mpmath uses
        self.ctx = gmpy2.context(precision=self.bits)
        self.name = f"mpfr@{self.bits}bits"
        self.one = gmpy2.mpfr(1)
        self._powers: dict[Any, tuple[int, Any, Any]] = {}
        self.is_finite = gmpy2.is_finite  # the C function itself: called per value and step

    def activate(self) -> contextlib.AbstractContextManager:
        return self.gmpy2.context(self.ctx)

    def num(self, value: Rationalish) -> Any:
        q = as_fraction(value)
        with self.activate():
            return self.gmpy2.mpfr(self.gmpy2.mpq(q.numerator, q.denominator))

    def zeros_like(self, x: Any) -> Any:
        return self.gmpy2.mpfr(0)

    def sqrt(self, x: Any) -> Any:
        return self.gmpy2.sqrt(x)

    def one_minus_pow(self, beta: Any, t: int) -> Any:
        """1 − β^t, with β^t carried from step to step: one multiplication per step instead of
        a power, and one computation per step for all coordinates. Each step adds one rounding
        (relative 2^-bits) to β^t; the P-vs-2P certification measures what that costs."""
        cached = self._powers.get(beta)
        if cached is not None and cached[0] == t:
            return cached[2]
        power = cached[1] * beta if cached is not None and cached[0] == t - 1 else beta**t
        result = 1 - power
        self._powers[beta] = (t, power, result)
        return result

    def func(self, name: str) -> Any:
        if name == "pi":
            return self.gmpy2.const_pi()
        return getattr(self.gmpy2, name)

    def is_finite(self, x: Any) -> bool:
        return bool(self.gmpy2.is_finite(x))

    def to_mpmath(self, x: Any, ctx: Any) -> Any:
        """The exact value of an mpfr as an mpmath number (no rounding at ctx's precision)."""
        if not self.gmpy2.is_finite(x):
            return ctx.mpf(str(x))
        man, exp = x.as_mantissa_exp()
        return ctx.mpf((int(man), int(exp)))


class RationalArith(_ScalarOps):
    """Exact rational arithmetic (``Fraction``): for rules without square roots (GD, momentum)
    on polynomial losses with rational data, an oracle with no rounding at all."""

    kind = "exact"
    one = Fraction(1)
    name = "exact"

    def activate(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def num(self, value: Rationalish) -> Fraction:
        return as_fraction(value)

    def zeros_like(self, x: Any) -> Fraction:
        return Fraction(0)

    def sqrt(self, x: Any) -> Any:
        raise ValueError("a square root has no exact rational value in general")

    def one_minus_pow(self, beta: Any, t: int) -> Any:
        return 1 - beta**t

    def func(self, name: str) -> Any:
        raise ValueError(f"{name} has no exact rational value in general")

    def is_finite(self, x: Any) -> bool:
        return True


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format: ``precision`` significand bits (hidden bit included),
    normal exponents ``emin``..``emax``; ``dtype`` the NumPy (or ml_dtypes) scalar type."""

    name: str
    precision: int
    emin: int
    emax: int

    @property
    def dtype(self) -> Any:
        if self.name == "bfloat16":
            import ml_dtypes

            return ml_dtypes.bfloat16
        return {"float32": np.float32, "float16": np.float16, "float64": np.float64}[self.name]


FORMATS = {"float32": FloatFormat("float32", 24, -126, 127),
           "float16": FloatFormat("float16", 11, -14, 15),
           "bfloat16": FloatFormat("bfloat16", 8, -126, 127)}
LOW_DTYPES = tuple(FORMATS)


def float_format(name: str) -> FloatFormat:
    if name not in FORMATS:
        raise ValueError(f"dtype must be one of {', '.join(FORMATS)}, not {name!r}")
    return FORMATS[name]


def round_to(q: Fraction, fmt: FloatFormat) -> Any:
    """Round an exact rational to the nearest value of ``fmt`` (ties to even), no double
    rounding: the significand is computed from the exact rational."""
    dtype = fmt.dtype
    if q == 0:
        return dtype(0.0)
    sign = -1 if q < 0 else 1
    a = abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    e = max(e, fmt.emin)  # below this the spacing is fixed (subnormals)
    shift = fmt.precision - 1
    scaled = a * Fraction(2) ** (shift - e)
    n, rem = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * rem
    if twice > scaled.denominator or (twice == scaled.denominator and n % 2 == 1):
        n += 1
    if n == 2 ** fmt.precision:  # rounding carried into the next binade
        n, e = n // 2, e + 1
    if e > fmt.emax:
        return dtype(sign * math.inf)
    return dtype(sign * math.ldexp(float(n), e - shift))  # exact in float64 and in dtype


def round_to_float32(q: Fraction) -> np.float32:
    """Round an exact rational to the nearest float32 (ties to even), with no double rounding."""
    return round_to(q, FORMATS["float32"])


def ordered_int(x: Any, fmt: FloatFormat) -> int:
    """Map values of ``fmt`` to integers so that adjacent values differ by 1 (±0 coincide)."""
    return int(ordered_ints(np.array(x, dtype=fmt.dtype), fmt))


def ordered_ints(x: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    """``ordered_int`` of each value of an array of ``fmt``, as int64."""
    bits = {"float16": np.int16, "bfloat16": np.int16}.get(fmt.name, np.int32)
    i = x.view(bits).astype(np.int64)
    sign_mask = (1 << (8 * np.dtype(bits).itemsize - 1)) - 1
    return np.where(i >= 0, i, -(i & sign_mask))


SCALAR_PLACEMENTS = ("float32", "float64", "mixed")


class Float32Arith:
    """IEEE binary32 through NumPy: every operation rounds to float32, nothing is upcast.

    ``scalars="float64"`` models implementations that derive their scalar constants (1 − β,
    1 − βᵗ) from the hyperparameters in double precision and round the result to float32 (as
    torch.optim does), instead of computing them in float32 from float32(β). ``"mixed"``:
    1 − β in double, but 1 − βᵗ as a plain float32 power (as optax does)."""

    vectorized = True

    def __init__(self, scalars: str = "float32", dtype: str = "float32"):
        if scalars not in SCALAR_PLACEMENTS:
            raise ValueError(f"scalars must be one of {SCALAR_PLACEMENTS}, not {scalars!r}")
        self.fmt = float_format(dtype)
        self.dtype = self.fmt.dtype
        self.name = self.kind = dtype
        self.one = self.dtype(1)
        self.scalars = scalars
        self._exact: dict[Any, Fraction] = {}

    def complement(self, x: Any) -> Any:
        q = self._source(x)
        return self.one - x if q is None else round_to(1 - q, self.fmt)

    def _source(self, x: Any) -> Fraction | None:
        if self.scalars == "float32" or not np.isscalar(x):
            return None
        return self._exact.get(float(x))

    def activate(self) -> contextlib.AbstractContextManager:
        return np.errstate(all="ignore")

    def num(self, value: Rationalish) -> Any:
        q = as_fraction(value)
        x = round_to(q, self.fmt)
        if self.scalars != "float32":
            self._exact.setdefault(float(x), q)
        return x

    def zeros_like(self, x: Any) -> Any:
        return np.zeros_like(x, dtype=self.dtype)

    def vector(self, values: list[Any]) -> np.ndarray:
        return np.array(values, dtype=self.dtype)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x)

    def one_minus_pow(self, beta: Any, t: int) -> Any:
        """1 − β^t to a few ulps: −expm1(t·log1p(−(1 − β))), all in the working format.

        The direct ``1 - beta**t`` cancels: for β = 0.999, t = 2 it loses about 3e-5 relative
        (the rounding error of β^t near 1 divided by a result near 0.002).
        """
        q = self._source(beta)
        if q is not None and self.scalars == "mixed":
            return self.one - np.power(self.dtype(beta), self.dtype(t))
        if q is not None:
            ctx = mpmath.MPContext()
            ctx.dps = 30
            return round_to(Fraction(float(1 - (ctx.mpf(q.numerator) / q.denominator) ** t)),
                            self.fmt)
        one = self.one
        return -np.expm1(self.dtype(t) * np.log1p(-(one - beta)))

    def maximum(self, a: Any, b: Any) -> Any:
        return np.maximum(a, b)

    def where_zero(self, g: Any, old: Any, new: Any) -> Any:
        return np.where(g == 0, old, new)

    def clip(self, x: Any, lo: Any, hi: Any) -> Any:
        return np.minimum(np.maximum(x, lo), hi)

    def abs(self, x: Any) -> Any:
        return np.abs(x)

    def func(self, name: str) -> Any:
        return {"exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos,
                "tanh": np.tanh}[name]

    def is_finite(self, x: Any) -> bool:
        return bool(np.all(np.isfinite(x)))


def float32_text(x: Any) -> str:
    """Shortest decimal string that reads back as the same float32 (float16 and bfloat16
    values are float32 values too, so this names them exactly)."""
    return str(np.float32(x))


def float32_values(rows: Any) -> np.ndarray:
    """The float32 values a table of texts names, as float64: text → double → float32, as
    ``np.float32(text)`` reads each one (equal bit for bit on 200,000 random strings and the
    special values), but in one NumPy pass."""
    with np.errstate(over="ignore"):
        return np.array(rows, dtype=np.float64).astype(np.float32).astype(np.float64)


class Float64Arith(Float32Arith):
    """IEEE binary64 through NumPy, for long exploratory runs (experiments), not for goldens."""

    def __init__(self) -> None:
        super().__init__("float32")
        self.name = self.kind = "float64"
        self.dtype = np.float64
        self.one = np.float64(1)

    def complement(self, x: Any) -> Any:
        return self.one - x

    def num(self, value: Rationalish) -> np.float64:
        return np.float64(float(as_fraction(value)))  # Fraction → float rounds correctly

    def zeros_like(self, x: Any) -> Any:
        return np.zeros_like(x, dtype=np.float64)

    def vector(self, values: list[Any]) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    def one_minus_pow(self, beta: Any, t: int) -> Any:
        return -np.expm1(np.float64(t) * np.log1p(-(self.one - beta)))


class SymbolicArith(_ScalarOps):
    """SymPy expressions: running a rule on symbols gives its update as a formula, which is
    how a document's formulas are compared with the rules the goldens use."""

    kind = "sympy"
    name = "sympy"
    one = sp.Integer(1)

    def activate(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def num(self, value: Rationalish) -> sp.Expr:
        return value if isinstance(value, sp.Basic) else sp.Rational(as_fraction(value))

    def zeros_like(self, x: Any) -> sp.Expr:
        return sp.Integer(0)

    def sqrt(self, x: Any) -> sp.Expr:
        return sp.sqrt(x)

    def one_minus_pow(self, beta: Any, t: Any) -> sp.Expr:
        return 1 - beta**t

    def maximum(self, a: Any, b: Any) -> sp.Expr:
        return sp.Max(a, b)

    def abs(self, x: Any) -> sp.Expr:
        return sp.Abs(x)

    def func(self, name: str) -> Any:
        return getattr(sp, name)

    def is_finite(self, x: Any) -> bool:
        return True
