"""Where a worked example's wrong numbers come from: introduced at that step, or inherited.

Each printed number of a worked example is recomputed from the document's *own* numbers: its
previous iteration's printed values, its printed values of the same step upstream, and its own
formulas (the document's formula claims, used only where they were confirmed equal to the rule).
A contradicted number that follows from the document's own inputs (within what their printed
precision allows) is *inherited*; one that does not is *introduced* there, and simple
explanations are tried: the gradient another worked example printed at that step, or the
parameters that would produce the printed rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ..golden.arith import as_fraction
from ..golden.trace import Trace
from ..rules import RULES
from ..symbolic.derive import gradient
from ..symbolic.expr import parse_expr
from ..symbolic.problems import Problem, find_problem
from . import CONFIRMED, CONTRADICTED, ClaimResult, printed_tolerance, rule_formulas
from .slips import Inputs, search

INHERITED, INTRODUCED, NOT_TRACED = "inherited", "introduced", "not traced"
STEP_QUANTITIES = ("m", "v", "m_hat", "v_hat", "buf")


@dataclass(frozen=True)
class Source:
    """The origin of one contradicted printed number."""

    claim_id: str
    label: str
    recomputed: str | None  # from the document's own inputs
    origin: str  # inherited | introduced | not traced
    explanation: str = ""


Printed = dict[tuple[str, int, str], tuple[tuple[Fraction, Fraction], ...]]  # (value, tol)


def _printed(results: Sequence[ClaimResult]) -> Printed:
    out: Printed = {}
    for r in results:
        c = r.claim
        if c.kind == "trace":
            out[(c.golden, c.step, c.quantity)] = tuple(
                (as_fraction(v), printed_tolerance(v)) for v in c.claimed)
    return out


def _formulas(results: Sequence[ClaimResult]) -> dict[tuple[str, str], str]:
    """Confirmed formula claims: (optimizer or problem, quantity) → expression text."""
    out = {}
    for r in results:
        c = r.claim
        if c.kind == "formula" and r.verdict == CONFIRMED:
            owner = c.options.get("optimizer") or c.options.get("problem")
            out[(owner, c.quantity)] = c.claimed[0]
    return out


def _num(x: sp.Expr) -> Fraction:
    return Fraction(str(sp.N(x, 40)))


class _Tracer:
    """Recompute printed numbers of one golden's worked example from the document's inputs."""

    def __init__(self, golden_id: str, trace: Trace, printed: Printed,
                 formulas: dict[tuple[str, str], str], others: dict[str, Trace]):
        self.id, self.trace, self.printed, self.formulas = golden_id, trace, printed, formulas
        self.others = others
        self.problem: Problem = find_problem(trace.problem["name"])
        self.optimizer = trace.optimizer["name"]
        self.hyper = {k: sp.Rational(as_fraction(v)) for k, v in trace.optimizer["hyper"].items()}
        self.names, _ = rule_formulas(self.optimizer)
        self.names_state = tuple(RULES[self.optimizer].state_names)

    def get(self, step: int, quantity: str, i: int) -> tuple[Fraction, Fraction] | None:
        """A printed input (value, tolerance); the start needs no printing."""
        values = self.printed.get((self.id, step, quantity))
        if values is not None and i < len(values):
            return values[i]
        if step == 0 and quantity == "params":
            return Fraction(as_fraction(str(self.problem.init[i]))), Fraction(0)
        if step == 0 and quantity in STEP_QUANTITIES:
            return Fraction(0), Fraction(0)
        return None

    def _evaluate(self, expr: sp.Expr, inputs: dict[sp.Symbol, tuple[Fraction, Fraction]]
                  ) -> tuple[Fraction, Fraction]:
        """Value at the inputs, and how far their printed rounding can move it."""
        base = {s: sp.Rational(v) for s, (v, _) in inputs.items()}
        value = _num(expr.xreplace(base))
        spread = Fraction(0)
        for s, (v, tol) in inputs.items():
            if tol:
                shifted = base | {s: sp.Rational(v + tol)}
                spread += abs(_num(expr.xreplace(shifted)) - value)
        return value, spread

    def rows(self, step: int, quantity: str) -> list[tuple[Fraction, Fraction]] | None:
        exprs = dict(self.problem.rows).get(quantity)
        params = [self.get(step, "params", i) for i in range(len(self.problem.params))]
        if exprs is None or any(p is None for p in params):
            return None
        inputs = dict(zip(self.problem.symbols, params, strict=True))
        return [self._evaluate(e, inputs) for e in exprs]

    def grad(self, step: int, i: int, use_printed: bool = True) -> tuple[Fraction, Fraction] | None:
        """The gradient used at ``step``: printed, else from the document's formula with its
        printed residuals, else exact at its printed parameters."""
        if use_printed and (p := self.get(step, "grad", i)) is not None:
            return p
        param = self.problem.params[i]
        text = self.formulas.get((self.problem.name, param))
        residual = self.printed.get((self.id, step - 1, "residual"))
        if text and residual and dict(self.problem.rows).get("residual"):
            syms = [sp.Symbol(f"r{k}") for k in range(len(residual))]
            data = dict(self.problem.data) | {"residual": tuple(syms)}
            names = dict(zip(self.problem.params, self.problem.symbols, strict=True))
            expr = parse_expr(text, names | {"N": sp.Integer(len(residual))}, data)
            return self._evaluate(expr, dict(zip(syms, residual, strict=True)))
        params = [self.get(step - 1, "params", k) for k in range(len(self.problem.params))]
        if any(p is None for p in params):
            return None
        return self._evaluate(gradient(self.problem)[i],
                              dict(zip(self.problem.symbols, params, strict=True)))

    def rule_value(self, step: int, quantity: str, i: int,
                   g: tuple[Fraction, Fraction] | None = None) -> tuple[Fraction, Fraction] | None:
        key = "theta_next" if quantity == "params" else quantity
        text = self.formulas.get((self.optimizer, key))
        if text is None:
            return None
        _, values = rule_formulas(self.optimizer)
        symbols = self.names | {k: sp.Symbol(k) for k in values if k not in self.names}
        expr = parse_expr(text, symbols, exponents=(self.names["t"],))
        expr = expr.xreplace({self.names[h]: v for h, v in self.hyper.items() if h in self.names}
                             | {self.names["t"]: sp.Integer(step)})
        inputs = {}
        for s in expr.free_symbols:
            name = str(s)
            if name == "g":
                value = g or self.grad(step, i)
            elif name == "theta":
                value = self.get(step - 1, "params", i)
            elif name.endswith("_prev"):
                value = self.get(step - 1, name.removesuffix("_prev"), i)
            else:  # a quantity of the same step, as printed (else recomputed)
                value = self.get(step, name, i) or self.rule_value(step, name, i, g)
            if value is None:
                return None
            inputs[s] = value
        return self._evaluate(expr, inputs)

    def recompute(self, step: int, quantity: str, i: int,
                  g: tuple[Fraction, Fraction] | None = None) -> tuple[Fraction, Fraction] | None:
        if quantity in dict(self.problem.rows):
            r = self.rows(step, quantity)
            return r[i] if r else None
        if quantity == "grad":
            return self.grad(step, i, use_printed=False)
        return self.rule_value(step, quantity, i, g)

    def explain(self, step: int, quantity: str, i: int, printed: str) -> str:
        """Why the printed number differs: the parameters that produce printed rows exactly,
        else the simplest combination of slips (``slips.py``) that reproduces it."""
        if quantity in dict(self.problem.rows):
            solved = self.solve_params(step, quantity)
            if solved:
                return solved
        if quantity == "grad":
            return search("grad", self.inputs(step, i), printed,
                          lambda: self.gradient_slips(step, i)).text()
        if quantity in ("m", "v", "m_hat", "v_hat", "params") and "m" in self.names_state:
            return search(quantity, self.inputs(step, i), printed).text()
        if quantity == "params":
            return search("params", self.inputs(step, i), printed,
                          lambda: self.gd_step_slips(step, i)).text()
        return "unexplained: no slip in the grammar applies to this quantity"

    # --- inputs for the slip grammar ---------------------------------------------------------
    def _printed_f(self, gid: str, step: int, quantity: str, i: int) -> float | None:
        values = self.printed.get((gid, step, quantity))
        return float(values[i][0]) if values and i < len(values) else None

    def _golden_f(self, step: int, quantity: str, i: int) -> float | None:
        try:
            values = self.trace.step(step).values(quantity)
        except KeyError:
            return None
        return float(Fraction(values[i])) if values and i < len(values) else None

    def _sources(self, step: int, quantity: str, i: int) -> tuple[tuple[tuple[str, ...], float], ...]:
        out = []
        own = self.get(step, quantity, i)
        if own is not None:
            out.append(((), float(own[0])))
        exact = self._golden_f(step, quantity, i)
        if exact is not None:
            out.append((("the exact value of " + quantity,), exact))
        return tuple(out)

    def inputs(self, step: int, i: int) -> Inputs:
        grads = []
        own = self.grad(step, i, use_printed=False)
        if own is not None:
            grads.append(((), float(own[0])))
        exact = self._golden_f(step, "grad", i)
        if exact is not None:
            grads.append((("the exact gradient",), exact))
        for other in sorted(self.others):
            if other == self.id:
                continue
            for t, slip in ((step, ()), (step - 1, ("the previous step's value",))):
                g = self._printed_f(other, t, "grad", i)
                if g is not None:
                    grads.append((("the other table's printed gradient",) + slip, g))
        hyper = {k: float(v) for k, v in self.hyper.items()}
        prev = {q: self._sources(step - 1, q, i) for q in ("m", "v", "params")}
        same = {q: self._sources(step, q, i) for q in ("m", "v", "m_hat", "v_hat")}
        return Inputs(step, hyper, tuple(grads), prev, same)

    def gradient_slips(self, step: int, i: int):
        """∂L/∂θ_i from the document's printed residuals, with the factor 2/N or the residuals'
        step slipped."""
        x = [float(v) for v in dict(self.problem.data).get("x", ())]
        n = len(x)
        for t, slip in ((step - 1, ()), (step, ("the residuals of the wrong step",)),
                        (step - 2, ("the residuals of the wrong step",))):
            r = self.printed.get((self.id, t, "residual"))
            if not r or not x:
                continue
            res = [float(v) for v, _ in r]
            total = sum(a * e for a, e in zip(x, res, strict=True)) if i == 0 else sum(res)
            for factor, more in ((-2 / n, ()), (-1 / n, ("the factor 2 left out",)),
                                 (-2.0, ("the 1/N left out",)), (2 / n, ("the sign flipped",))):
                yield slip + more, factor * total

    def gd_step_slips(self, step: int, i: int):
        lr = float(self.hyper.get("lr", 0))
        prev = self._sources(step - 1, "params", i)
        for t, slip in ((step, ()), (step - 1, ("the previous step's gradient",))):
            g = self.get(t, "grad", i)
            if g is None:
                continue
            for s, p in prev:
                yield s + slip, p - lr * float(g[0])

    def solve_params(self, step: int, quantity: str) -> str:
        """The parameters that produce the printed rows exactly, if any."""
        values = self.printed.get((self.id, step, quantity))
        exprs = dict(self.problem.rows).get(quantity)
        if not values or not exprs:
            return ""
        eqs = [e - sp.Rational(v) for e, (v, _) in zip(exprs, values, strict=True)]
        sol = sp.solve(eqs, self.problem.symbols, dict=True)
        if len(sol) != 1 or len(sol[0]) != len(self.problem.symbols):
            return ""
        found = ", ".join(f"{p} = {sol[0][s]}" for p, s in zip(self.problem.params,
                                                               self.problem.symbols, strict=True))
        own = [self.get(step, "params", k) for k in range(len(self.problem.params))]
        mine = ", ".join(f"{p} = {_short(v[0])}" for p, v in zip(self.problem.params, own,
                                                                strict=True) if v)
        return f"the printed {quantity}s are exactly those of {found}, not of its own {mine}"


def _short(x: Fraction, digits: int = 8) -> str:
    return f"{float(x):.{digits}g}"


def trace_sources(results: Sequence[ClaimResult], goldens: dict[str, Trace]) -> tuple[Source, ...]:
    """Origin of every contradicted number of the trace claims in ``results``."""
    printed, formulas = _printed(results), _formulas(results)
    tracers: dict[str, _Tracer] = {}
    out = []
    for r in results:
        c = r.claim
        if c.kind != "trace" or not r.failing() or c.golden not in goldens:
            continue
        if c.golden not in tracers:
            tracers[c.golden] = _Tracer(c.golden, goldens[c.golden], printed, formulas, goldens)
        tracer = tracers[c.golden]
        for i, item in enumerate(r.items):
            if item.verdict != CONTRADICTED:
                continue
            claimed, tol = as_fraction(item.claimed), printed_tolerance(item.claimed)
            got = tracer.recompute(c.step, c.quantity, i)
            if got is None:
                out.append(Source(c.id, item.label, None, NOT_TRACED,
                                  "its inputs are not all printed"))
                continue
            value, spread = got
            if abs(value - claimed) <= tol + spread:
                out.append(Source(c.id, item.label, _short(value, 10), INHERITED,
                                  "follows from the document's own earlier numbers"))
            else:
                out.append(Source(c.id, item.label, _short(value, 10), INTRODUCED,
                                  tracer.explain(c.step, c.quantity, i, item.claimed)))
    return tuple(out)
