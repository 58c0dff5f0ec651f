"""Running error analysis: a number backend whose values carry a bound on the rounding error
that any implementation of the same formula in a given format (float32, float16, bfloat16) can
have made.

Each value is a pair (v, e): v the exact result of the formula on exact inputs (computed in
float64, whose own error is ~2⁻²⁹ of a float32 ulp and is covered by a margin), e a bound on
|computed − v| for a computation in the format. Every operation propagates the input bounds
(first-order terms and their products, Higham, *Accuracy and Stability of Numerical
Algorithms*, §3.3 "running error analysis") and adds ``K`` roundings of its result:
K·(u·|v| + η), with u = 2⁻ᵖ the unit roundoff and η half the smallest subnormal spacing. K = 3
covers another evaluation order of the same formula: torch's lr/(1 − β1ᵗ) · m/(√v/√(1 − β2ᵗ) + ε),
lerp for the moments, an un-derived hyperparameter held in the format instead of double, and
AdamW's θ·(1 − αλ) − step, which rounds three times at θ's size where the rule's θ − (step + αλθ)
rounds once (measured: K = 2 let a correct AdamW out by 0.03 ulp at step 713 of 1,000). Fused
operations and wider intermediate arithmetic (fewer roundings) are inside a fortiori.

Values are arrays of shape (rows, coordinates): one row per judged run, so a battery of
settings and several scalar models are judged in one pass. Hyperparameters are (rows, 1) arrays
that remember their exact decimal source, from which 1 − β and 1 − βᵗ are derived as each
row's *scalar model* says (hyperparameters held in the format or in double; 1 − βᵗ accurate or
a naive power in the format, whose cancellation is a known precision defect).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..golden.arith import FloatFormat, round_to

K_ROUNDINGS = 3
F64_MARGIN = 2.0**-46  # relative: float64's own rounding over a step's few dozen operations


@dataclass(frozen=True)
class Model:
    """How an implementation derives its scalar constants. ``held``: the hyperparameters the
    update uses (β in the averages, 1 − β) are the format's nearest values ("format") or
    double's ("double"); ``powers``: 1 − βᵗ is computed accurately from β held in double
    ("double") or in the format ("format"), or as 1 − (a power rounded in the format)
    ("naive", a precision defect: cancellation at small t)."""

    held: str
    powers: str

    def label(self, fmt: str) -> str:
        held = fmt if self.held == "format" else "double"
        if self.powers == "naive":
            return f"hyperparameters in {held}, 1 − βᵗ as a {fmt} power"
        if self.powers == self.held:
            return f"hyperparameters in {held}"
        return f"hyperparameters in {held}, 1 − βᵗ from β in {fmt if self.powers == 'format' else 'double'}"


# tried in this order; the first under which every setting is inside is the audit's model
MODELS = (Model("double", "double"), Model("format", "format"), Model("format", "double"),
          Model("double", "format"), Model("double", "naive"), Model("format", "naive"))


class Ctx:
    """The format's constants every operation needs."""

    def __init__(self, fmt: FloatFormat, k: float = K_ROUNDINGS):
        self.fmt = fmt
        self.u = 2.0 ** -fmt.precision
        self.eta = 2.0 ** (fmt.emin - fmt.precision)
        self.max = (2 - 2.0 ** (1 - fmt.precision)) * 2.0**fmt.emax
        self.k = k
        self.overflowed: np.ndarray | None = None  # rows whose exact values have overflowed
        self.block: np.ndarray | None = None  # in a block of steps: [step, row] overflowed

    def rounded(self, v: np.ndarray, e: np.ndarray) -> Bounded:
        """A result of the format: its bound grows by K roundings; beyond the largest finite
        value the result is ±inf (certain overflow) or unknown (e = inf)."""
        a = np.abs(v)
        e = e + (self.k * self.u + F64_MARGIN) * a + self.k * self.eta
        if (a + e).max() <= self.max:  # the common case: finite, no overflow (NaN fails this)
            return Bounded(v, e, self)
        certain = a - e > self.max
        if certain.ndim >= 2 and certain.any():
            if self.block is not None:  # values are [step, row, coordinate] or step-free
                per = (certain.any(axis=2) if certain.ndim == 3 else
                       certain.any(axis=tuple(range(1, certain.ndim)))[None, :])
                self.block |= per
            else:
                rows = certain.any(axis=tuple(range(1, certain.ndim)))
                self.overflowed = rows if self.overflowed is None else self.overflowed | rows
        v = np.where(certain, np.copysign(np.inf, v), v)
        e = np.where(certain, 0.0, e)
        e = np.where((a + e > self.max) & ~certain, np.inf, e)
        e = np.where(np.isnan(e) | np.isnan(v), np.inf, e)
        return Bounded(v, e, self)


class StepIndex:
    """The steps t = a … b of a time-vectorized pass of the envelope, given to a rule as its
    ``t``: it supports what the catalogue's rules do with t (t + k, t − k, t % k, t == k when
    all steps agree) and nothing else, so a rule that does more raises and is judged step by
    step instead."""

    __array_ufunc__ = None  # NumPy must not turn it into an object array
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, values: np.ndarray):
        self.values = np.asarray(values, dtype=np.int64)

    def _int(self, k: Any) -> int:
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            return int(k)
        raise TypeError(f"step index arithmetic with {type(k).__name__}")

    def __add__(self, k: Any) -> StepIndex:
        return StepIndex(self.values + self._int(k))

    __radd__ = __add__

    def __sub__(self, k: Any) -> StepIndex:
        return StepIndex(self.values - self._int(k))

    def __mod__(self, k: Any) -> StepIndex:
        return StepIndex(self.values % self._int(k))

    def __eq__(self, k: Any) -> bool:  # type: ignore[override]
        same = self.values == self._int(k)
        if same.all() or not same.any():
            return bool(same.all())
        raise ValueError("the steps of the block differ on this test")

    def __ne__(self, k: Any) -> bool:  # type: ignore[override]
        return not self == k

    def __bool__(self) -> bool:
        raise TypeError("a block of steps has no truth value")

    def column(self) -> np.ndarray:
        """The steps as float64, shaped [step, 1, 1] to broadcast over rows and coordinates."""
        return self.values.astype(np.float64)[:, None, None]


class Carried:
    """A state quantity the tested run does not expose, in a block of steps: the envelope's
    own value before the block. A rule may only fold it into a running maximum (AMSGrad's
    v_max = max(v_max, v)), which is computed over the block in the step-by-step order; any
    other use raises, and the run is judged step by step instead."""

    __array_ufunc__ = None
    __slots__ = ("start",)

    def __init__(self, start: Bounded):
        self.start = start

    def __getattr__(self, name: str) -> Any:
        raise TypeError(f"a carried state has no {name} in a block of steps")

    def running_max(self, block: np.ndarray, part: str) -> np.ndarray:
        """max(start, x[0]), then max(that, x[1]), …: each step's maximum, step by step."""
        first = getattr(self.start, part)
        shape = np.broadcast_shapes(np.shape(first), block.shape[1:])
        steps = np.concatenate([np.broadcast_to(first, shape)[None],
                                np.broadcast_to(block, (block.shape[0],) + shape)])
        return np.maximum.accumulate(steps, axis=0)[1:]


class Bounded:
    """A value of the exact formula (float64 array) with a bound on a computed value's error."""

    __slots__ = ("v", "e", "ctx", "src")

    def __init__(self, v: Any, e: Any, ctx: Ctx, src: tuple[Fraction, ...] | None = None):
        self.v = np.asarray(v, dtype=np.float64)
        self.e = np.asarray(e, dtype=np.float64)
        self.ctx = ctx
        self.src = src

    def _lift(self, o: Any) -> Bounded:
        return o if isinstance(o, Bounded) else Bounded(o, 0.0, self.ctx)

    def __add__(self, o: Any) -> Bounded:
        o = self._lift(o)
        return self.ctx.rounded(self.v + o.v, self.e + o.e)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Bounded:
        o = self._lift(o)
        return self.ctx.rounded(self.v - o.v, self.e + o.e)

    def __rsub__(self, o: Any) -> Bounded:
        return self._lift(o) - self

    def __mul__(self, o: Any) -> Bounded:
        o = self._lift(o)
        if not o.e.ndim and not o.e:  # an exact factor (a hyperparameter, a tested value)
            e = np.abs(o.v) * self.e
        elif not self.e.ndim and not self.e:
            e = np.abs(self.v) * o.e
        else:
            e = np.abs(self.v) * o.e + np.abs(o.v) * self.e + self.e * o.e
        return self.ctx.rounded(self.v * o.v, e)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Bounded:
        o = self._lift(o)
        v = self.v / o.v
        room = np.abs(o.v) - o.e
        e = (self.e + np.abs(v) * o.e) / room
        if not (room > 0).all():
            e = np.where(room > 0, e, np.inf)
        return self.ctx.rounded(v, e)

    def __rtruediv__(self, o: Any) -> Bounded:
        return self._lift(o) / self

    def __neg__(self) -> Bounded:
        return Bounded(-self.v, self.e, self.ctx)

    def __abs__(self) -> Bounded:
        return Bounded(np.abs(self.v), self.e, self.ctx)


class BoundArith:
    """The backend the update rules run on for the envelope: rows × coordinates of Bounded
    values; ``models[r]`` is row r's scalar model."""

    vectorized = True
    kind = name = "bounds"

    def __init__(self, fmt: FloatFormat, models: list[Model], k: float = K_ROUNDINGS):
        self.ctx = Ctx(fmt, k)
        self.fmt = fmt
        self.models = models
        self.one = Bounded(1.0, 0.0, self.ctx)
        self._cache: dict[tuple[str, int], tuple[Bounded, Bounded]] = {}  # keeps x alive
        self._naive = np.array([[m.powers == "naive"] for m in models], dtype=np.float64)

    def activate(self) -> contextlib.AbstractContextManager:
        return np.errstate(all="ignore")

    def held(self, q: Fraction, model: Model) -> float:
        """The value an implementation holds for the exact hyperparameter q."""
        return float(round_to(q, self.fmt)) if model.held == "format" else float(q)

    def hyper(self, sources: list[Fraction]) -> Bounded:
        """A hyperparameter, one exact source per row, held as each row's model says."""
        vals = [self.held(q, m) for q, m in zip(sources, self.models, strict=True)]
        return Bounded(np.array(vals)[:, None], 0.0, self.ctx, tuple(sources))

    def num(self, value: Any) -> Bounded:
        if isinstance(value, StepIndex):
            return Bounded(value.column(), 0.0, self.ctx)
        return Bounded(float(Fraction(value)), 0.0, self.ctx)

    def complement(self, x: Bounded) -> Bounded:
        """1 − x, from the value each row holds (exact in float64), rounded once."""
        if x.src is None:
            return 1 - x
        key = ("1-", id(x))
        if key not in self._cache:
            self._cache[key] = (x, self.ctx.rounded(1.0 - x.v, np.zeros_like(x.v)))
        return self._cache[key][1]

    def one_minus_pow(self, beta: Bounded, t: int) -> Bounded:
        """1 − βᵗ for each row's held β; a naive power adds the error of βᵗ rounded in the
        format ((t + 1) roundings of a running product or a pow), which 1 − βᵗ amplifies."""
        b = self._power_base(beta)
        if isinstance(t, StepIndex):  # step by step, so each step's value is bit for bit the same
            parts = [self._one_minus_pow(b, int(s)) for s in t.values]
            shape = np.broadcast(*parts[0]).shape
            return self.ctx.rounded(np.stack([np.broadcast_to(v, shape) for v, _ in parts]),
                                    np.stack([np.broadcast_to(e, shape) for _, e in parts]))
        return self.ctx.rounded(*self._one_minus_pow(b, t))

    def _one_minus_pow(self, b: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        power = np.exp(t * np.log(b))
        value = -np.expm1(t * np.log1p(-(1.0 - b)))
        return value, self._naive * ((t + 1) * self.ctx.u * power + self.ctx.eta)

    def _power_base(self, beta: Bounded) -> np.ndarray:
        """β as each row's model takes it for 1 − βᵗ (naive: as held for the averages)."""
        if beta.src is None:
            return beta.v
        key = ("pow", id(beta))
        if key not in self._cache:
            vals = [self.held(q, Model(m.powers if m.powers != "naive" else m.held, ""))
                    for q, m in zip(beta.src, self.models, strict=True)]
            self._cache[key] = (beta, Bounded(np.array(vals)[:, None], 0.0, self.ctx))
        return self._cache[key][1].v

    def zeros_like(self, x: Any) -> Bounded:
        return Bounded(np.zeros_like(np.asarray(getattr(x, "v", x), dtype=np.float64)), 0.0,
                       self.ctx)

    def sqrt(self, x: Bounded) -> Bounded:
        s = np.sqrt(x.v)
        lo = np.sqrt(np.maximum(x.v - x.e, 0.0))
        e = np.maximum(np.sqrt(x.v + x.e) - s, s - lo)
        return self.ctx.rounded(s, e)

    def maximum(self, a: Bounded | Carried, b: Bounded) -> Bounded:
        if isinstance(a, Carried):  # a running maximum over a block of steps
            if isinstance(b, Carried) or b.v.ndim != 3:
                raise TypeError("a running maximum needs a block of values")
            return Bounded(a.running_max(b.v, "v"),
                           a.running_max(np.broadcast_to(b.e, b.v.shape), "e"), self.ctx)
        return Bounded(np.maximum(a.v, b.v), np.maximum(a.e, b.e), self.ctx)

    def where_zero(self, g: Bounded, old: Bounded, new: Bounded) -> Bounded:
        z = g.v == 0
        return Bounded(np.where(z, old.v, new.v), np.where(z, old.e, new.e), self.ctx)

    def clip(self, x: Bounded, lo: Any, hi: Any) -> Bounded:
        return Bounded(np.clip(x.v, getattr(lo, "v", lo), getattr(hi, "v", hi)), x.e, self.ctx)

    def abs(self, x: Bounded) -> Bounded:
        return abs(x)

    def vector(self, values: Any) -> Bounded:
        return Bounded(np.asarray(values, dtype=np.float64), 0.0, self.ctx)

    def func(self, name: str) -> Any:
        raise ValueError(f"{name}: the envelope replays gradients; it evaluates no loss")

    def is_finite(self, x: Bounded) -> bool:
        return bool(np.all(np.isfinite(x.v)))
