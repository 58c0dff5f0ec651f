"""High-precision golden traces: a rule on a problem in mpmath at precision P and 2P.

Each value is written from the 2P run, rounded to the digits on which the P and 2P runs agree
(its certified digits), so every digit a golden file prints is one both runs produced.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from itertools import accumulate, chain
from typing import Any

import mpmath
import sympy as sp

from ..errors import InputError
from ..symbolic.problems import Problem, rational_text
from .arith import MpfrArith, MpmathArith, RationalArith
from .certify import MpfrCertifier
from .engine import FlatRun, run_flat, run_in
from .spec import RunSpec, effective_hyper
from .trace import Step, Trace

MIN_DPS, MAX_DPS = 15, 2000


def agreeing_digits(a: Any, b: Any, dps: int) -> int:
    """Significant decimal digits on which ``a`` (precision P) and ``b`` (2P) agree, ≤ P."""
    if a == b:
        return dps
    if not (mpmath.isfinite(a) and mpmath.isfinite(b)) or b == 0:
        return 0
    man, exp = mpmath.frexp(abs(a - b) / abs(b))  # rel = man·2^exp, man in [1/2, 1)
    log10_rel = math.log10(float(man)) + exp * math.log10(2)
    return max(0, min(dps, int(math.floor(-log10_rel))))


def certified_text(a: Any, b: Any, dps: int, ctx: Any) -> tuple[str, int]:
    """``b`` printed to the digits it shares with ``a``, and that digit count."""
    if not ctx.isfinite(b):
        return ("nan" if ctx.isnan(b) else ("inf" if b > 0 else "-inf")), 0
    d = agreeing_digits(a, b, dps)
    text = ctx.nstr(b, max(d, 1), strip_zeros=True)
    return (text[:-2] if text.endswith(".0") else text), d


Certify = Callable[[list[Any], list[Any]], tuple[list[str], list[int]]]


def _step(run: FlatRun, t: int, texts: list[str], i: int, digits: int, params_only: bool
          ) -> Step:
    """Step t of ``run`` from its texts, which start at ``texts[i]`` (``FlatRun``'s order)."""
    j = i + run.params
    params = tuple(texts[i:j])
    if params_only:
        return Step(t=t, params=params, digits=digits)
    grad, named = None, []
    if t:
        i, j = j, j + run.params
        grad = tuple(texts[i:j])
        for names in (run.state, run.aux):
            out = {}
            for k in names:
                i, j = j, j + run.params
                out[k] = tuple(texts[i:j])
            named.append(out)
    else:
        named = [{}, {}]
    loss = texts[j]
    j += 1
    rows = {}
    for k, size in run.rows:
        i, j = j, j + size
        rows[k] = tuple(texts[i:j])
    return Step(t, params, grad, named[0], named[1], loss, rows, digits)


def mpmath_certify(dps: int, ctx: Any) -> Certify:
    """Pairs of mpmath numbers (both exact in ``ctx``) certified by ``certified_text``."""

    def certify(los: list[Any], his: list[Any]) -> tuple[list[str], list[int]]:
        pairs = [certified_text(a, b, dps, ctx) for a, b in zip(los, his, strict=True)]
        return [text for text, _ in pairs], [d for _, d in pairs]

    return certify


def certified_steps(lo: FlatRun, hi: FlatRun, certify: Certify, params_only: bool = False
                    ) -> tuple[Step, ...]:
    """Each step of the 2P run ``hi``, printed to the digits it shares with the P run ``lo``
    (as far as both went); a step's ``digits``: the fewest of its values. All values are
    certified in one call."""
    steps = min(len(lo.values), len(hi.values))
    if params_only:
        n = hi.params
        los = [x for row in lo.values[:steps] for x in row[:n]]
        his = [x for row in hi.values[:steps] for x in row[:n]]
        starts = list(range(0, n * steps + 1, n))
    else:
        los = list(chain.from_iterable(lo.values[:steps]))
        his = list(chain.from_iterable(hi.values[:steps]))
        starts = list(accumulate(map(len, hi.values[:steps]), initial=0))
    texts, digits = certify(los, his)
    return tuple(_step(hi, t, texts, i, min(digits[i:j]), params_only)
                 for t, (i, j) in enumerate(zip(starts, starts[1:], strict=False)))


def _certified_steps(lo: FlatRun, hi: FlatRun, lo_ar: Any, hi_ar: Any, dps: int,
                     params_only: bool) -> tuple[Step, ...]:
    """MPFR values are certified by gmpy2 directly (``certify.py``: the same digits and text as
    mpmath's); mpmath values in one mpmath context that holds either run's values exactly."""
    if lo_ar.kind == "mpfr":
        return certified_steps(lo, hi, MpfrCertifier(dps).texts, params_only)
    ctx = mpmath.MPContext()
    ctx.prec = mpmath.libmp.dps_to_prec(2 * dps) + 64

    def exact(run: FlatRun, ar: Any) -> FlatRun:
        return dataclasses.replace(run, values=[[ar.to_mpmath(x, ctx) for x in row]
                                                for row in run.values])

    return certified_steps(exact(lo, lo_ar), exact(hi, hi_ar), mpmath_certify(dps, ctx),
                           params_only)


ENGINES = {"mpfr": MpfrArith, "mpmath": MpmathArith}
DEFAULT_ENGINE = "mpfr"


def run_golden(spec: RunSpec, progress: Callable[[int], None] | None = None,
               engine: str = DEFAULT_ENGINE, grads=None, params_only: bool = False) -> Trace:
    """The certified golden trace of ``spec`` (runs at ``dps`` and ``2·dps``).

    ``engine``: "mpfr" (gmpy2/MPFR, correctly rounded, the fast default) or "mpmath"; both
    produce the same certified digits (tests check it). ``params_only``: record (and certify)
    the parameters alone, no loss, gradient or state (what an audit compares)."""
    if not MIN_DPS <= spec.dps <= MAX_DPS:
        raise InputError(f"precision must be {MIN_DPS} to {MAX_DPS} digits, got {spec.dps}")
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    hyper = effective_hyper(spec.full_hyper(), spec.quantize)
    lo_ar, hi_ar = ENGINES[engine](spec.dps), ENGINES[engine](2 * spec.dps)
    lo = run_flat(spec, lo_ar, hyper, _half(progress, 0, spec.steps), grads,
                  measure=not params_only)
    hi = run_flat(spec, hi_ar, hyper, _half(progress, spec.steps, spec.steps), grads,
                  measure=not params_only)
    steps = _certified_steps(lo, hi, lo_ar, hi_ar, spec.dps, params_only)
    return Trace(problem_header(spec.problem), optimizer_header(spec),
                 arithmetic_header(spec, min(s.digits for s in steps), engine),
                 steps, status_of(steps, spec.steps))


MAX_EXACT_BITS = 12_000
EXACT_RULES = ("gd", "momentum", "momentum-zero", "nesterov", "nesterov-zero")


def run_exact(spec: RunSpec) -> Trace:
    """The same run in exact rational arithmetic: every value exact (a terminating decimal,
    or p/q). Only for rules without square roots on polynomial losses; a second, independent
    oracle for the mpmath/MPFR goldens."""
    syms = spec.problem.symbols
    if spec.rule.name not in EXACT_RULES or spec.schedule != "constant":
        raise InputError(f"exact arithmetic needs one of {', '.join(EXACT_RULES)} with a "
                         f"constant step size, not {spec.rule.name!r}")
    if not spec.problem.loss.is_polynomial(*syms):
        raise InputError(f"exact arithmetic needs a polynomial loss; {spec.problem.name!r} is not")
    raw = run_in(spec, RationalArith(), effective_hyper(spec.full_hyper(), spec.quantize))

    def texts(xs):
        if any(max(x.numerator.bit_length(), x.denominator.bit_length()) > MAX_EXACT_BITS
               for x in xs):
            raise InputError(f"exact values grew beyond {MAX_EXACT_BITS} bits; "
                             "ask for fewer steps")
        return tuple(rational_text(sp.Rational(x.numerator, x.denominator)) for x in xs)

    steps = tuple(Step(r.record.t, texts(r.record.params),
                       texts(r.record.grad) if r.record.grad is not None else None,
                       {k: texts(v) for k, v in r.record.state.items()},
                       {k: texts(v) for k, v in r.record.aux.items()},
                       texts([r.loss])[0], {k: texts(v) for k, v in r.rows.items()})
                  for r in raw)
    arithmetic = {"kind": "exact", "certified_by": "exact rational arithmetic"}
    return Trace(problem_header(spec.problem), optimizer_header(spec), arithmetic, steps,
                 {"finite": True})


def _half(progress: Callable[[int], None] | None, offset: int, steps: int):
    """Progress over both runs: the P run counts the first half, the 2P run the second."""
    if progress is None:
        return None
    return lambda t: progress(offset + t)


def problem_header(problem: Problem) -> dict[str, Any]:
    out: dict[str, Any] = {"name": problem.name, "params": list(problem.params),
                           "init": list(problem.init_text)}
    if problem.domain:
        out["domain"] = [[rational_text(a), rational_text(b)] for a, b in problem.domain]
    if problem.online:
        out["online_period"] = len(problem.phases)
    return out


def optimizer_header(spec: RunSpec) -> dict[str, Any]:
    return {"name": spec.rule.name, "hyper": spec.full_hyper(), "variant": dict(spec.rule.variant),
            "schedule": spec.schedule}


def arithmetic_header(spec: RunSpec, certified: int, engine: str) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": engine, "dps": spec.dps, "check_dps": 2 * spec.dps,
                           "certified_digits": certified,
                           "certified_by": "agreement of runs at dps and 2*dps"}
    if spec.quantize:
        out["hyper_quantized"] = spec.quantize
        out["hyper_effective"] = effective_hyper(spec.full_hyper(), spec.quantize)
    out["versions"] = {"mpmath": mpmath.__version__, "sympy": sp.__version__}
    if engine == "mpfr":
        import gmpy2

        out["versions"]["gmpy2"] = gmpy2.version()
        out["versions"]["mpfr"] = gmpy2.mpfr_version()
    return out


def status_of(steps: tuple[Step, ...], requested: int) -> dict[str, Any]:
    """Whether every value stayed finite — parameters, gradients and the loss (log θ from a
    negative start is NaN while θ is finite); if not, the first step where one did not."""
    bad = [s.t for s in steps if not _all_finite(s.params + (s.grad or ()) + (
        (s.loss,) if s.loss is not None else ()))]
    if bad:
        return {"finite": False, "first_nonfinite_step": bad[0], "steps_requested": requested}
    return {"finite": True}


def is_finite_text(text: str) -> bool:
    return text.lower().lstrip("+-") not in ("nan", "inf", "infinity")


def _all_finite(texts: tuple[str, ...]) -> bool:
    """``all(map(is_finite_text, texts))``, screened first: a decimal text has no n or i."""
    joined = "".join(texts)
    if "n" not in joined and "i" not in joined and "N" not in joined and "I" not in joined:
        return True
    return all(map(is_finite_text, texts))
