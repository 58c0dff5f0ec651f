"""The rounding envelope of a rule: what a correct implementation in a given format (float32,
float16, bfloat16) can produce.

Monte Carlo arithmetic in random-rounding mode (Parker 1997; Verificarlo, Denis et al. 2016;
Sohier et al. 2021): every operation of the reference rule (and of the gradient) is computed
exactly enough in float64 and then rounded to one of its two neighbours in the format with
probability 1/2. N such runs give, per value, an envelope [min, max] of results that correct
arithmetic in that format reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..arith import Float32Arith, float_format
from ..engine import run_in
from ..spec import RunSpec


class _RR:
    """An array in the working format whose every arithmetic result is randomly rounded."""

    __slots__ = ("a",)
    rng: np.random.Generator = np.random.default_rng(0)
    dtype: Any = np.float32

    def __init__(self, a: Any):
        self.a = np.asarray(a, dtype=_RR.dtype)

    @classmethod
    def round(cls, x64: np.ndarray) -> _RR:
        x64 = np.asarray(x64, dtype=np.float64)
        # float64 → float32 → narrower: the second rounding cannot change the result when the
        # first keeps ≥ 2p + 2 bits (24 ≥ 2·11 + 2), and random rounding only needs neighbours
        near = x64.astype(np.float32).astype(cls.dtype)
        exact = near.astype(np.float64) == x64
        up, down = cls.dtype(np.inf), cls.dtype(-np.inf)
        other = np.where(near.astype(np.float64) < x64, np.nextafter(near, up),
                         np.nextafter(near, down))
        flip = (cls.rng.random(near.shape) < 0.5) & ~exact & np.isfinite(x64)
        return cls(np.where(flip, other, near))

    def _op(self, other: Any, fn) -> _RR:
        b = other.a if isinstance(other, _RR) else np.asarray(other, dtype=_RR.dtype)
        return _RR.round(fn(self.a.astype(np.float64), b.astype(np.float64)))

    def __add__(self, o): return self._op(o, np.add)  # noqa: E704
    def __radd__(self, o): return self._op(o, lambda a, b: b + a)  # noqa: E704
    def __sub__(self, o): return self._op(o, np.subtract)  # noqa: E704
    def __rsub__(self, o): return self._op(o, lambda a, b: b - a)  # noqa: E704
    def __mul__(self, o): return self._op(o, np.multiply)  # noqa: E704
    def __rmul__(self, o): return self._op(o, lambda a, b: b * a)  # noqa: E704
    def __truediv__(self, o): return self._op(o, np.divide)  # noqa: E704
    def __rtruediv__(self, o): return self._op(o, lambda a, b: b / a)  # noqa: E704
    def __neg__(self): return _RR(-self.a)  # noqa: E704
    def __abs__(self): return _RR(np.abs(self.a))  # noqa: E704
    def __lt__(self, o): return self.a < (o.a if isinstance(o, _RR) else o)  # noqa: E704
    def __gt__(self, o): return self.a > (o.a if isinstance(o, _RR) else o)  # noqa: E704
    def __ge__(self, o): return self.a >= (o.a if isinstance(o, _RR) else o)  # noqa: E704
    def __float__(self): return float(self.a)  # noqa: E704

    def __iter__(self):
        return (_RR(v) for v in self.a)


class Float32RandomRounding(Float32Arith):
    """Float32Arith (in any of its formats) whose operations round randomly (one Monte Carlo
    sample per run)."""

    def __init__(self, seed: int, scalars: str = "float32", dtype: str = "float32"):
        super().__init__(scalars, dtype)
        self.name = f"{dtype}-random-rounding"
        self.rng = np.random.default_rng(seed)

    def activate(self):
        _RR.rng = self.rng
        _RR.dtype = self.dtype
        return np.errstate(all="ignore")

    def num(self, value):
        return _RR(super().num(value))

    def complement(self, x):
        r = _raw(x)
        return _RR(super().complement(self.dtype(r.reshape(()).item()) if r.ndim == 0 else r))

    def zeros_like(self, x):
        return _RR(np.zeros_like(_raw(x)))

    def vector(self, values):
        return _RR(np.array([_raw(v) for v in values], dtype=self.dtype).reshape(-1))

    def sqrt(self, x):
        return _RR.round(np.sqrt(_raw(x).astype(np.float64)))

    def one_minus_pow(self, beta, t):
        b = _raw(beta)
        if self._source(self.dtype(b.reshape(()).item()) if b.ndim == 0 else b) is not None:
            if self.scalars == "mixed":  # a power in the format, randomly rounded, then 1 − it
                return _RR(self.one - _RR.round(b.astype(np.float64) ** t).a)
            return _RR(super().one_minus_pow(self.dtype(b.reshape(()).item()), t))
        return _RR.round(-np.expm1(t * np.log1p(-(1 - b.astype(np.float64)))))

    def maximum(self, a, b):
        return _RR(np.maximum(_raw(a), _raw(b)))

    def clip(self, x, lo, hi):
        return _RR(np.minimum(np.maximum(_raw(x), _raw(lo)), _raw(hi)))

    def abs(self, x):
        return _RR(np.abs(_raw(x)))

    def func(self, name):
        f = {"exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh}[name]
        return lambda x: _RR.round(f(_raw(x).astype(np.float64)))

    def is_finite(self, x):
        return bool(np.all(np.isfinite(_raw(x))))


def _raw(x: Any) -> np.ndarray:
    return x.a if isinstance(x, _RR) else np.asarray(x, dtype=_RR.dtype)


@dataclass(frozen=True)
class Envelope:
    """Per step and quantity: elementwise min and max over the Monte Carlo runs."""

    samples: int
    lo: dict[tuple[int, str], np.ndarray]
    hi: dict[tuple[int, str], np.ndarray]
    dtype: str = "float32"

    def contains(self, t: int, quantity: str, values: np.ndarray, slack_ulps: int = 2) -> bool:
        """Inside [min, max] widened by ``slack_ulps`` (a finite sample under-covers the
        extremes; 2 ulps is the allowance the verdicts use and the report states)."""
        key = (t, quantity)
        if key not in self.lo:
            return True
        dt = float_format(self.dtype).dtype
        lo, hi = self.lo[key], self.hi[key]
        for _ in range(slack_ulps):
            lo, hi = np.nextafter(lo, dt(-np.inf)), np.nextafter(hi, dt(np.inf))
        v = np.asarray(values, dtype=dt)
        return bool(np.all((v >= lo) & (v <= hi) | (np.isnan(v) & np.isnan(lo))))


def envelope(spec: RunSpec, samples: int = 16, seed: int = 2021, scalars: str = "float32",
             grads=None, dtype: str = "float32") -> Envelope:
    """Run the reference rule ``samples`` times in random rounding in ``dtype`` (on the
    replayed gradient stream ``grads`` if given)."""
    runs = []
    hyper = spec.full_hyper()
    arith = [Float32Arith(scalars, dtype)] + [Float32RandomRounding(seed + k, scalars, dtype)
                                              for k in range(samples)]
    dt = arith[0].dtype
    for ar in arith:  # the round-to-nearest run belongs to the envelope too
        _RR.dtype = dt
        raw = run_in(spec, ar, hyper, grads=grads)
        runs.append({(r.record.t, q): np.array([_raw(v) for v in vals], dtype=dt)
                     for r in raw for q, vals in _quantities(r).items()})
    keys = set.intersection(*(set(r) for r in runs))
    lo, hi = {}, {}
    for key in keys:
        stack = np.stack([r[key] for r in runs])
        lo[key], hi[key] = stack.min(axis=0), stack.max(axis=0)
    return Envelope(samples, lo, hi, dtype)


def _quantities(raw) -> dict[str, list]:
    r = raw.record
    out = {"params": r.params}
    out.update(r.state)
    return out

