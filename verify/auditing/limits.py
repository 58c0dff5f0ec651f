"""Format-limit findings: where a setting drives the format to its limits, said with the step
and the value, so that a verdict never passes or fails silently because of them."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..golden.arith import as_fraction, float_format, round_to
from .envelope import Judgement, Tested

DECAYS = {"beta1": "β1", "beta2": "β2", "alpha": "α", "momentum": "μ"}


def findings(hyper: dict[str, str], tested: Tested, judgement: Judgement | None,
             steps: int) -> tuple[str, ...]:
    """Every format limit a setting reaches, in the order a reader meets them."""
    fmt = float_format(tested.dtype)
    out = []
    for key, sym in DECAYS.items():
        if key in hyper:
            q = as_fraction(hyper[key])
            held = Fraction(float(round_to(q, fmt)))
            if q != 1 and held == 1:
                out.append(f"{sym} = {hyper[key]} is 1 in {fmt.name}: an implementation holding "
                           f"it in {fmt.name} never updates that average")
            if 0 < q < 1:
                t = _underflow_step(float(q), fmt)
                if t <= steps:
                    out.append(f"{sym}ᵗ underflows {fmt.name} from step {t}")
    if tested.grads is not None:
        out += _square_limits(tested.grads, fmt)
    if judgement is not None:
        if judgement.undefined_at is not None:
            t = judgement.undefined_at
            got = tested.params[t] if t < tested.params.shape[0] else None
            shown = "nothing" if got is None else ", ".join(f"{x:g}" for x in got)
            cause = " (ε = 0 and v = 0)" if as_fraction(hyper.get("eps", "1")) == 0 else ""
            out.append(f"the rule itself is undefined (0/0) at step {t}{cause}; the "
                       f"implementation returns θ = {shown}")
        if judgement.unjudged:
            t, what = judgement.unjudged[0]
            out.append(f"from step {t} {what} (not judged there)")
        if judgement.overflowed:
            out.append(f"the rule's exact values overflow {fmt.name} (a correct implementation "
                       "reaches ±inf, then NaN)")
        if judgement.frozen:
            f = judgement.frozen
            out.append(f"the exact update is below half an ulp of θ at {len(f)} of "
                       f"{judgement.steps} steps (first: step {f[0]}): a correct "
                       f"{fmt.name} implementation cannot move θ there")
    return tuple(out)


def _underflow_step(beta: float, fmt) -> int:
    """The first t with βᵗ below half the smallest subnormal (rounds to 0)."""
    tiny = 2.0 ** (fmt.emin - fmt.precision)
    return math.ceil(math.log(tiny) / math.log(beta)) if 0 < beta < 1 else 10**9


def _square_limits(grads: np.ndarray, fmt) -> list[str]:
    big = (2 - 2.0 ** (1 - fmt.precision)) * 2.0**fmt.emax
    tiny = 2.0 ** (fmt.emin - fmt.precision)
    out = []
    sq = grads * grads
    over = np.argwhere(sq > big)
    if over.size:
        t, i = over[0]
        out.append(f"g² overflows {fmt.name} at step {t + 1} (|g| = {abs(grads[t, i]):g} > "
                   f"{math.sqrt(big):.4g})")
    under = np.argwhere((sq > 0) & (sq < tiny))
    if under.size:
        t, i = under[0]
        out.append(f"g² underflows to 0 in {fmt.name} at step {t + 1} (|g| = "
                   f"{abs(grads[t, i]):g} < {math.sqrt(tiny):.3g})")
    return out


def not_informative(judgement: Judgement, tested: Tested) -> bool:
    """A setting no correct implementation can be told apart in: θ frozen at every step with
    no state exposed, or the rule undefined or unrepresentable from step 1."""
    if judgement.steps == 0:
        return True
    if judgement.undefined_at == 1 or (judgement.unjudged and judgement.unjudged[0][0] == 1):
        return True
    if judgement.overflowed and judgement.undefined_at is not None:
        return True
    return len(judgement.frozen) == judgement.steps and not tested.state


def arithmetic_width(judgements: list[Judgement], dtype: str) -> str | None:
    """In float16/bfloat16: whether the stored values are the exact step rounded once to the
    format (float32 or wider arithmetic, rounded on store: every value, up to double
    rounding's rare ties) or not (arithmetic in the storage format rounds every operation)."""
    if dtype == "float32":
        return None
    totals: dict[str, list[int]] = {}
    for j in judgements:
        for q, seen, equal in j.rounded_exactly:
            t = totals.setdefault(q, [0, 0])
            t[0], t[1] = t[0] + seen, t[1] + equal
    shown = {q: equal / seen for q, (seen, equal) in totals.items() if seen}
    if not shown:
        return None
    parts = ", ".join(f"{share:.1%} of {q}" for q, share in shown.items())
    wide = min(shown.values()) >= 0.99
    how = (f"float32 (or wider) arithmetic, rounded to {dtype} on store" if wide else
           f"arithmetic in {dtype} (every operation rounded to it)")
    return (f"{how}: {parts} are the exact local step rounded once to {dtype}")
