"""Reductions between optimizers: one rule with some hyperparameters fixed computes the same
as another (Adam with β1 = 0 and no bias correction is RMSProp; Adam's m is an EMA-style
momentum buffer), proved by running both rules for a few steps on SymPy symbols."""

from __future__ import annotations

import sympy as sp

from ..golden.arith import SymbolicArith
from ..rules import RULES
from ..symbolic.expr import parse_expr
from .schema import Claim
from .verdicts import ClaimResult, _judged


def _run(name: str, hp: dict[str, sp.Expr], grads: list[sp.Symbol]) -> list[dict[str, sp.Expr]]:
    """Every quantity (delta, state, auxiliaries) of each step of rule ``name`` on symbols."""
    rule, ar = RULES[name], SymbolicArith()
    theta = sp.Symbol("theta", real=True)
    state = rule.init(theta, ar)
    out = []
    for t, g in enumerate(grads, 1):
        delta, state, aux = rule.update(g, state, theta, t, hp, ar)
        out.append({"delta": delta} | dict(state) | dict(aux))
    return out


def check_reduction(claim: Claim) -> ClaimResult:
    o = claim.options
    first, second = RULES[o["optimizer"]], RULES[o["equals"]]
    names = {h: sp.Symbol(h, positive=True) for h in first.defaults}
    fixed = {k: parse_expr(v, names) for k, v in o.get("setting", {}).items()}
    hp1 = names | fixed
    hp2 = {k: parse_expr(v, names) for k, v in o["mapping"].items()}
    missing = sorted(set(second.defaults) - set(hp2))
    if missing:
        hp2 |= {k: sp.Rational(second.defaults[k]) for k in missing}
    steps = int(o.get("steps", 3))
    grads = [sp.Symbol(f"g_{t}", real=True) for t in range(1, steps + 1)]
    a, b = _run(first.name, hp1, grads), _run(second.name, hp2, grads)
    pairs = [tuple(p) for p in o.get("compare", [["delta", "delta"]])]
    bad = [(t + 1, x, y) for t in range(steps) for x, y in pairs
           if sp.simplify(a[t][x] - b[t][y]) != 0]
    setting = ", ".join(f"{k} = {v}" for k, v in o.get("setting", {}).items()) or "as is"
    what = ", ".join(f"{x} ↔ {y}" for x, y in pairs)
    note = (f"{first.name} ({setting}) against {second.name} with "
            + ", ".join(f"{k} = {v}" for k, v in o["mapping"].items())
            + f": {what} compared for {steps} steps on symbolic gradients")
    if bad:
        t, x, y = bad[0]
        note += f"; they differ first at step {t} ({x} vs {y})"
    return _judged(claim, f"{first.name} → {second.name}", "same updates",
                   "same" if not bad else "different", not bad, note)
