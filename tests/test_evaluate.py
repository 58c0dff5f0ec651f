"""The compiled evaluator (verify/symbolic/evaluate.py) against SymPy's exact values and a plain tree walk.

Expected values: SymPy's exact rational value of each catalogue objective and gradient at
rational points (``expr.subs``), and, for the rounding, a plain recursive evaluator written here
that does the operations the evaluator is specified to do (sums and products left to right,
integer powers by repeated multiplication): the compiled closures must round identically,
since golden files are byte-identical only if every operation is the same.
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from verify.golden.arith import Float32Arith, MpfrArith
from verify.golden.certify import MpfrCertifier
from verify.symbolic.derive import gradient, phase_gradients
from verify.symbolic.evaluate import compile_expr
from verify.symbolic.problems import available_problems, find_problem


def plain(e, values, ar):
    """The specified evaluation order, one node at a time."""
    if e.is_Symbol:
        return values[e]
    if e.is_Rational:
        return ar.num(sp.Rational(e))
    if e is sp.pi:  # the backend's π where it has one, else 40 digits of it
        return ar.func("pi") if hasattr(ar, "ctx") else ar.num(sp.Rational(str(sp.N(sp.pi, 40))))
    if e.is_Add or e.is_Mul:
        acc = plain(e.args[0], values, ar)
        for a in e.args[1:]:
            acc = acc + plain(a, values, ar) if e.is_Add else acc * plain(a, values, ar)
        return acc
    if e.is_Pow:
        base, exp = e.args
        x = plain(base, values, ar)
        if exp == sp.Rational(1, 2):
            return ar.sqrt(x)
        if exp.is_Rational and exp.q == 2:
            x, exp = ar.sqrt(x), sp.Integer(exp.p)
        n = abs(int(exp))
        acc = x
        for _ in range(n - 1):
            acc = acc * x
        return ar.num(1) / acc if exp < 0 else acc
    if isinstance(e, sp.Abs):
        return ar.abs(plain(e.args[0], values, ar))
    name = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tanh: "tanh"}[e.func]
    return ar.func(name)(plain(e.args[0], values, ar))


def catalogue():
    for name in available_problems():
        p = find_problem(name)
        exprs = [p.loss, *gradient(p)]
        if p.online:
            exprs += [g for phase in phase_gradients(p) for g in phase]
        exprs += [e for _, row in p.rows for e in row]
        yield name, p, exprs


def points(p):
    start = [Fraction(str(v)) for v in p.init]
    return [start, [v + Fraction(1, 7) for v in start], [v - Fraction(3, 11) for v in start]]


@pytest.mark.parametrize("name,problem,exprs", list(catalogue()), ids=lambda x: x
                         if isinstance(x, str) else "")
def test_catalogue_agrees_with_sympy_to_the_certified_digits(name, problem, exprs):
    lo_ar, hi_ar = MpfrArith(50), MpfrArith(100)
    cert = MpfrCertifier(50)
    for point in points(problem):
        exact_at = dict(zip(problem.symbols, (sp.Rational(q.numerator, q.denominator)
                                             for q in point), strict=True))
        for e in exprs:
            exact = sp.Rational(e.subs(exact_at))
            runs = []
            for ar in (lo_ar, hi_ar):
                with ar.activate():
                    runs.append(compile_expr(e, problem.symbols, ar)([ar.num(q) for q in point]))
            text, (digits,) = cert.texts([runs[0]], [runs[1]])
            assert digits >= 30, (name, e)
            got = Fraction(text[0])
            want = Fraction(int(exact.p), int(exact.q))
            assert abs(got - want) <= abs(want) * Fraction(10) ** (1 - digits), (name, e, point)


EXTRA = [
    "exp(x)*log(y + 2) - sin(x*y)/3 + cos(x)**3",
    "tanh(x - y) + Abs(x - 1/3)",
    "sqrt(x**2 + y**2 + 1) - x*sqrt(y + 2) + (y + 3)**(3/2) + (x**2 + 1)**(-1/2)",
    "1/(x**2 + 1) - 2/(y + 3)**3 + pi*x",
]


@pytest.mark.parametrize("make", [lambda: MpfrArith(50), lambda: MpfrArith(100), Float32Arith],
                         ids=["mpfr50", "mpfr100", "float32"])
def test_compiled_closures_round_as_the_plain_walk(make):
    ar = make()
    x, y = sp.symbols("x y")
    exprs = [sp.sympify(s, locals={"x": x, "y": y}) for s in EXTRA]
    for _, p, catalogue_exprs in catalogue():
        if len(p.symbols) == 2:
            exprs += [e.subs(dict(zip(p.symbols, (x, y), strict=True))) for e in catalogue_exprs]
    with ar.activate():
        for point in ([Fraction(1, 3), Fraction(-2, 7)], [Fraction(5, 4), Fraction(1, 9)]):
            values = [ar.num(q) for q in point]
            for e in exprs:
                got = compile_expr(e, (x, y), ar)(values)
                want = plain(e, {x: values[0], y: values[1]}, ar)
                if isinstance(ar, Float32Arith):
                    assert np.float32(got).tobytes() == np.float32(want).tobytes(), e
                else:
                    assert got == want and ar.is_finite(got), e
