"""Deciding whether a SymPy expression is zero, fast where it can be: ``cancel`` proves
rational-function identities in milliseconds, a certified nonzero value at a point within the
symbols' assumptions disproves the rest as fast, ``simplify`` (seconds) decides what is left.
The verdict is the one ``simplify`` alone would give wherever it decides."""

from __future__ import annotations

import sympy as sp
from sympy.core.evalf import PrecisionExhausted, evalf_table


def is_zero(e: sp.Expr) -> bool:
    """``e`` is identically 0 (under its symbols' assumptions)."""
    if sp.cancel(e) == 0:
        return True
    if witness(e, e.free_symbols) is not None:
        return False
    return sp.simplify(e) == 0


def _point(symbols: list[sp.Symbol]) -> dict[sp.Symbol, sp.Rational]:
    """Values allowed by each symbol's assumptions, chosen away from special values (no 0, no 1,
    positive ones inside (0, 1) as β's are, distinct from each other)."""
    out = {}
    for k, s in enumerate(sorted(symbols, key=str)):
        if s.is_integer:
            out[s] = sp.Integer(3 + k)
        elif s.is_positive or s.is_nonnegative:
            out[s] = sp.Rational(2 * k + 3, 4 * k + 7)
        else:
            out[s] = sp.Rational(-(2 * k + 5), 3 * k + 7)
    return out


def witness(difference: sp.Expr, symbols: set[sp.Symbol], digits: int = 30
            ) -> tuple[dict[str, sp.Rational], sp.Float] | None:
    """A point of ``symbols`` (within their assumptions) where ``difference`` is certainly not
    zero, and its value there; None when the value at that point is 0 or cannot be certified
    (a nonzero value at one such point means no simplification can make it 0)."""
    point = _point(list(symbols | difference.free_symbols))
    if any(getattr(v, f"is_{fact}") is not held for s, v in point.items()
           for fact, held in s.assumptions0.items()):
        return None  # a symbol whose assumptions these values do not meet: let simplify decide
    try:
        at = difference.rewrite(sp.tanh, sp.exp).xreplace(point)  # Max may fail to compare
        if any(type(f) not in evalf_table for f in at.atoms(sp.Function)):
            return None  # evalf tracks no error through it (tanh did not): 0 may print as 1e-139
        value = sp.N(at, digits, strict=True)
        again = sp.N(at, 2 * digits, strict=True)  # noise would not repeat at twice the digits
    except (PrecisionExhausted, sp.polys.polyerrors.PolynomialError, ZeroDivisionError,
            ValueError, TypeError, ArithmeticError):  # undecided here: simplify decides
        return None
    if not (value.is_Float and again.is_Float) or value == 0 or not value.is_finite or \
            abs(again - value) > abs(again) * sp.Float(10) ** (2 - digits):
        return None
    return {str(s): v for s, v in point.items()}, value


