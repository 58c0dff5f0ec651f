"""Formulas: a claimed expression against one step of the rule run on SymPy symbols, or
against SymPy's gradient of a catalogue problem."""

from __future__ import annotations

import sympy as sp

from ..errors import InputError
from ..golden.arith import SymbolicArith
from ..rules import RULES
from ..symbolic.derive import gradient
from ..symbolic.expr import parse_expr, parse_number
from ..symbolic.problems import find_problem
from ..symbolic.witness import witness
from .schema import Claim
from .verdicts import ClaimResult, _judged

T = sp.Symbol("t", positive=True, integer=True)


def rule_formulas(optimizer: str) -> tuple[dict[str, sp.Symbol], dict[str, sp.Expr]]:
    """One step of ``optimizer`` on symbols: the names a formula may use, and the value of
    every quantity the step produces (new state, bias-corrected moments, delta, theta_next)."""
    rule = RULES[optimizer]
    names = {h: sp.Symbol(h, positive=True) for h in rule.defaults}
    names |= {"g": sp.Symbol("g", real=True), "theta": sp.Symbol("theta", real=True), "t": T}
    prev = {s: sp.Symbol(f"{s}_prev", real=True) if s in ("m", "buf") else
            sp.Symbol(f"{s}_prev", nonnegative=True) for s in rule.state_names}
    names |= {f"{s}_prev": sym for s, sym in prev.items()}
    ar = SymbolicArith()
    hp = {h: names[h] for h in rule.defaults}
    delta, state, aux = rule.update(names["g"], dict(prev), names["theta"], T, hp, ar)
    values = dict(state) | dict(aux) | {"delta": delta, "theta_next": names["theta"] + delta}
    return names, values


def formula_expr(claim: Claim) -> tuple[sp.Expr, sp.Expr]:
    """The claimed formula and the reference it is compared with, both as SymPy."""
    if claim.options["reference"] in ("gradient", "loss"):
        problem = find_problem(claim.options["problem"])
        names = dict(zip(problem.params, problem.symbols, strict=True))
        names |= {k: sp.Rational(parse_number(v)) for k, v in
                  claim.options.get("constants", {}).items()}
        data = dict(problem.data) | {name: exprs for name, exprs in problem.rows}
        n = len(next(iter(problem.data), ("", ()))[1])
        expr = parse_expr(claim.claimed[0], names | {"N": sp.Integer(n)}, data)
        if claim.options["reference"] == "loss":
            return expr, problem.loss
        if claim.quantity not in problem.params:
            raise InputError(f"problem {problem.name} has no parameter {claim.quantity!r}")
        return expr, gradient(problem)[problem.params.index(claim.quantity)]
    optimizer = claim.options["optimizer"]
    names, values = rule_formulas(optimizer)
    if claim.quantity not in values:
        raise InputError(f"{optimizer} computes no {claim.quantity!r} "
                         f"(it computes: {', '.join(values)})")
    symbols = names | {k: sp.Symbol(k) for k in values if k not in names}
    expr = parse_expr(claim.claimed[0], symbols, exponents=(T,))
    # a formula may be written in terms of other quantities of the same step (m̂ = m/(1 − β1ᵗ))
    expr = expr.xreplace({symbols[k]: v for k, v in values.items() if k not in names})
    return expr, values[claim.quantity]


def _check_rule_formula(claim: Claim) -> ClaimResult:
    optimizer = claim.options["optimizer"]
    expr, ref = formula_expr(claim)
    # cancel proves most identities in milliseconds; a point where the two differ disproves the
    # rest as fast; simplify (seconds) only where neither decides
    difference = sp.cancel(expr - ref)
    shown, point = difference, None
    if difference != 0:
        point = witness(difference, expr.free_symbols | ref.free_symbols)
        if point is None:
            difference = shown = sp.simplify(expr - ref)
        elif sp.count_ops(difference) <= 40:
            shown = sp.factor(difference)
    ok = difference == 0
    if ok:
        detail = ""
    else:
        text = sp.sstr(shown)
        detail = f"; the difference is {text}" if len(text) <= 200 else ""
        if point is not None:
            at = ", ".join(f"{k} = {v}" for k, v in point[0].items())
            detail += (f"; at {at} the claimed formula gives {_short(expr, point[0])}, "
                       f"the rule {_short(ref, point[0])}")
    return _judged(claim, claim.quantity, claim.claimed[0], sp.sstr(ref), ok,
                   f"compared with one step of rule {optimizer!r} run on SymPy symbols" + detail)


def _short(expr: sp.Expr, point: dict[str, sp.Rational]) -> str:
    value = expr.xreplace({s: point[str(s)] for s in expr.free_symbols})
    return sp.sstr(sp.N(value, 10))


def _check_gradient_formula(claim: Claim) -> ClaimResult:
    expr, ref = formula_expr(claim)
    ok = sp.expand(expr - ref) == 0
    return _judged(claim, f"∂L/∂{claim.quantity}", claim.claimed[0], sp.sstr(sp.expand(ref)), ok,
                   f"compared with SymPy's gradient of problem {claim.options['problem']!r}")


def _check_loss_formula(claim: Claim) -> ClaimResult:
    expr, ref = formula_expr(claim)
    ok = sp.expand(expr - ref) == 0
    return _judged(claim, "loss", claim.claimed[0], sp.sstr(sp.expand(ref)), ok,
                   f"compared with the loss of problem {claim.options['problem']!r}")


def check_formula(claim: Claim) -> ClaimResult:
    if claim.options["reference"] == "rule":
        return _check_rule_formula(claim)
    if claim.options["reference"] == "loss":
        return _check_loss_formula(claim)
    return _check_gradient_formula(claim)
