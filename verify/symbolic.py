"""SymPy derivations for a problem: gradient and Hessian (the one source of truth)."""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .problems import Problem


@lru_cache(maxsize=64)
def gradient(problem: Problem) -> tuple[sp.Expr, ...]:
    """∂L/∂θ_i for every parameter, differentiated by SymPy from the problem's loss."""
    return tuple(sp.diff(problem.loss, s) for s in problem.symbols)


@lru_cache(maxsize=64)
def hessian(problem: Problem) -> sp.Matrix:
    syms = problem.symbols
    return sp.Matrix([[sp.diff(problem.loss, a, b) for b in syms] for a in syms])
