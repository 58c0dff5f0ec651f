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
                 ) -> Callable[[Sequence[Any]], list[Any]]:
    fns = [compile_expr(e, symbols, ar) for e in exprs]
    return lambda values: [f(values) for f in fns]


def _node(e: sp.Expr, index: dict, ar: Any) -> Fn:
    if e.is_Symbol:
        if e not in index:
            raise ValueError(f"free symbol {e} has no value")
        i = index[e]
        return lambda v: v[i]
    if e.is_Rational:
        c = ar.num(sp.Rational(e))
        return lambda v: c
    if e is sp.pi:
        c = ar.func("pi") if hasattr(ar, "ctx") else ar.num(sp.Rational(str(sp.N(sp.pi, 40))))
        return lambda v: c
    if e.is_Add:
        return _fold(e.args, index, ar, lambda a, b: a + b)
    if e.is_Mul:
        return _fold(e.args, index, ar, lambda a, b: a * b)
    if e.is_Pow:
        return _power(e, index, ar)
    if isinstance(e, sp.Abs):
        f = _node(e.args[0], index, ar)
        return lambda v: ar.abs(f(v))
    if e.func in _FUNCS:
        f = _node(e.args[0], index, ar)
        g = ar.func(_FUNCS[e.func])
        return lambda v: g(f(v))
    raise ValueError(f"cannot evaluate {type(e).__name__}: {e}")


def _fold(args: Sequence[sp.Expr], index: dict, ar: Any, op: Callable) -> Fn:
    fns = [_node(a, index, ar) for a in args]

    def f(v):
        acc = fns[0](v)
        for g in fns[1:]:
            acc = op(acc, g(v))
        return acc

    return f


def _power(e: sp.Pow, index: dict, ar: Any) -> Fn:
    base, exp = e.args
    f = _node(base, index, ar)
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
