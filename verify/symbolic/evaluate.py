"""Turn a SymPy expression into a function over a number backend, without eval or exec.

Each node becomes a closure; constants are converted once by the backend (correctly rounded),
so a float32 evaluation rounds every operation to float32 and a mpmath one works at its precision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp

Fn = Callable[[Sequence[Any]], Any]
_FUNCS = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tanh: "tanh"}


def compile_expr(expr: sp.Expr, symbols: Sequence[sp.Symbol], ar: Any) -> Fn:
    """``f(values)`` evaluating ``expr`` with ``symbols[i] = values[i]`` in backend ``ar``."""
    index = {s: i for i, s in enumerate(symbols)}
    return _node(sp.sympify(expr), index, ar)


class _Structure:
    """A backend whose numbers are None: compiling with it only walks the expression."""

    def num(self, value: Any) -> None:
        return None

    def func(self, name: str) -> None:
        return None


def unsupported(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> str | None:
    """Why ``expr`` cannot be evaluated by any backend (a node this module does not know, such
    as sign(w), the imaginary unit or x**(1/3)), or None when it can."""
    try:
        compile_expr(expr, symbols, _Structure())
    except ValueError as exc:
        return str(exc)
    return None


def compile_many(exprs: Sequence[sp.Expr], symbols: Sequence[sp.Symbol], ar: Any
                 ) -> Callable[..., list[Any]]:
    """``f(values)``: the list of ``exprs`` evaluated (extra arguments are ignored, so a
    gradient can be called as ``f(params, t)``)."""
    fns = [compile_expr(e, symbols, ar) for e in exprs]
    if len(fns) == 1:
        f0 = fns[0]
        return lambda values, *_: [f0(values)]
    if len(fns) == 2:  # a list display, not a comprehension: no frame per call
        f0, f1 = fns
        return lambda values, *_: [f0(values), f1(values)]
    if len(fns) == 3:
        f0, f1, f2 = fns
        return lambda values, *_: [f0(values), f1(values), f2(values)]
    return lambda values, *_: [f(values) for f in fns]


def _node(e: sp.Expr, index: dict, ar: Any) -> Fn:
    kind, x = _operand(e, index, ar)
    if kind == _SYM:
        return lambda v: v[x]
    if kind == _CONST:
        return lambda v: x
    return x


_CONST, _SYM, _FN = "const", "symbol", "fn"


def _operand(e: sp.Expr, index: dict, ar: Any) -> tuple[str, Any]:
    """A leaf as a constant (converted once) or a coordinate index, anything else as a closure:
    the operators below read leaves directly instead of calling a closure for each."""
    if e.is_Symbol:
        if e not in index:
            raise ValueError(f"free symbol {e} has no value")
        return _SYM, index[e]
    if e.is_Rational:
        return _CONST, ar.num(sp.Rational(e))
    if e is sp.pi:
        return _CONST, (ar.func("pi") if hasattr(ar, "ctx")
                        else ar.num(sp.Rational(str(sp.N(sp.pi, 40)))))
    if e.is_Add:
        return _FN, _fold(e.args, index, ar, _ADD)
    if e.is_Mul:
        return _FN, _fold(e.args, index, ar, _MUL)
    if e.is_Pow:
        return _FN, _power(e, index, ar)
    if isinstance(e, sp.Abs):
        f = _node(e.args[0], index, ar)
        return _FN, lambda v: ar.abs(f(v))
    if e.func in _FUNCS:
        f = _node(e.args[0], index, ar)
        g = ar.func(_FUNCS[e.func])
        return _FN, lambda v: g(f(v))
    raise ValueError(f"cannot evaluate {type(e).__name__}: {e}")


# a + b and a * b for each kind of operand (constant c, coordinate i, closure f): one closure
# call per operator, the operands read in place
_ADD = {
    (_CONST, _CONST): lambda a, b: lambda v: a + b,
    (_CONST, _SYM): lambda a, j: lambda v: a + v[j],
    (_CONST, _FN): lambda a, g: lambda v: a + g(v),
    (_SYM, _CONST): lambda i, b: lambda v: v[i] + b,
    (_SYM, _SYM): lambda i, j: lambda v: v[i] + v[j],
    (_SYM, _FN): lambda i, g: lambda v: v[i] + g(v),
    (_FN, _CONST): lambda f, b: lambda v: f(v) + b,
    (_FN, _SYM): lambda f, j: lambda v: f(v) + v[j],
    (_FN, _FN): lambda f, g: lambda v: f(v) + g(v),
}
_MUL = {
    (_CONST, _CONST): lambda a, b: lambda v: a * b,
    (_CONST, _SYM): lambda a, j: lambda v: a * v[j],
    (_CONST, _FN): lambda a, g: lambda v: a * g(v),
    (_SYM, _CONST): lambda i, b: lambda v: v[i] * b,
    (_SYM, _SYM): lambda i, j: lambda v: v[i] * v[j],
    (_SYM, _FN): lambda i, g: lambda v: v[i] * g(v),
    (_FN, _CONST): lambda f, b: lambda v: f(v) * b,
    (_FN, _SYM): lambda f, j: lambda v: f(v) * v[j],
    (_FN, _FN): lambda f, g: lambda v: f(v) * g(v),
}


def _fold(args: Sequence[sp.Expr], index: dict, ar: Any, op: dict) -> Fn:
    """args[0] op args[1] op …, left to right (the order, hence the roundings, of a plain loop)."""
    kind, acc = _operand(args[0], index, ar)
    for a in args[1:]:
        k, x = _operand(a, index, ar)
        kind, acc = _FN, op[kind, k](acc, x)
    return acc


def _power(e: sp.Pow, index: dict, ar: Any) -> Fn:
    base, exp = e.args
    kind, x = _operand(base, index, ar)
    if exp == 2 and kind == _SYM:  # x·x, as _int_power computes it
        return lambda v: v[x] * v[x]
    f = x if kind == _FN else _node(base, index, ar)
    if exp == 2:

        def square(v):
            y = f(v)
            return y * y

        return square
    if exp == sp.Rational(1, 2):
        return lambda v: ar.sqrt(f(v))
    if exp == sp.Rational(-1, 2):
        one = ar.num(1)
        return lambda v: one / ar.sqrt(f(v))
    if exp.is_Integer:
        n = int(exp)
        one = ar.num(1)
        if n < 0:
            return lambda v: one / _int_power(f(v), -n)
        return lambda v: _int_power(f(v), n) if n else one
    if exp.is_Rational and exp.q == 2:  # x**(n/2) = (√x)**n, as in w*sqrt(w) = w**(3/2)
        n, one = int(exp.p), ar.num(1)
        if n < 0:
            return lambda v: one / _int_power(ar.sqrt(f(v)), -n)
        return lambda v: _int_power(ar.sqrt(f(v)), n)
    raise ValueError(f"cannot evaluate power with exponent {exp}")


def _int_power(x: Any, n: int) -> Any:
    """x**n by repeated multiplication, left to right (n small)."""
    acc = x
    for _ in range(n - 1):
        acc = acc * x
    return acc
