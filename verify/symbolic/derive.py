"""SymPy derivations for a problem: gradient, Hessian, critical points and their classification,
global minimum, and for quadratic losses the closed-form optimum and GD step-size thresholds.

Exactness: critical points of polynomial losses come from a lex Gröbner basis and exact real-root
isolation (SymPy ``real_roots``: rationals or ``CRootOf``); a sign is decided by an exact zero
test (minimal polynomial) and then a 50-digit evaluation, so no classification rests on rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .problems import Problem

DIGITS = 30


@lru_cache(maxsize=64)
def gradient(problem: Problem) -> tuple[sp.Expr, ...]:
    """∂L/∂θ_i for every parameter, differentiated by SymPy from the problem's loss."""
    return tuple(sp.diff(problem.loss, s) for s in problem.symbols)


@lru_cache(maxsize=64)
def phase_gradients(problem: Problem) -> tuple[tuple[sp.Expr, ...], ...]:
    """For an online problem, the gradient of each phase's loss."""
    return tuple(tuple(sp.diff(f, s) for s in problem.symbols) for f in problem.phases)


@lru_cache(maxsize=64)
def hessian(problem: Problem) -> sp.Matrix:
    syms = problem.symbols
    return sp.Matrix([[sp.diff(problem.loss, a, b) for b in syms] for a in syms])


@dataclass(frozen=True)
class CriticalPoint:
    """A real stationary point, exact, with its classification and the reason for it."""

    coords: tuple[sp.Expr, ...]
    value: sp.Expr
    kind: str  # minimum | maximum | saddle | degenerate: <detail>
    reason: str
    hessian_eigenvalues: tuple[sp.Expr, ...] = ()

    @property
    def gd_stable_below(self) -> sp.Expr | None:
        """At a strict minimum, GD converges locally iff 0 < α < 2/λ_max(H(θ*))."""
        if self.kind != "minimum" or not self.hessian_eigenvalues:
            return None
        return 2 / max(self.hessian_eigenvalues, key=lambda e: sp.N(e, 50))

    def numeric(self, digits: int = DIGITS) -> tuple[str, ...]:
        return tuple(str(sp.N(c, digits)) for c in self.coords)


@dataclass(frozen=True)
class QuadraticFacts:
    """GD on a quadratic: θ* solves Hθ = −b; it converges iff 0 < α < 2/λ_max and, moreover,
    without oscillation (every eigen-component decays monotonically) iff α ≤ 1/λ_max."""

    optimum: tuple[sp.Expr, ...]
    eigenvalues: tuple[sp.Expr, ...]
    lr_converges_below: sp.Expr
    lr_monotone_up_to: sp.Expr
    condition_number: sp.Expr


@dataclass(frozen=True)
class Derivation:
    problem: Problem
    gradient: tuple[sp.Expr, ...]
    hessian: sp.Matrix
    critical_points: tuple[CriticalPoint, ...]
    complete: bool  # all real critical points found
    method: str
    global_min: sp.Expr | None
    global_min_reason: str
    quadratic: QuadraticFacts | None


def reduce_algebraic(e: sp.Expr) -> sp.Expr:
    """Rewrite a rational function of one real root r = CRootOf(P, k) as a polynomial in r of
    degree < deg P (exact arithmetic modulo the irreducible P); other expressions pass through."""
    roots = {a for a in e.atoms(sp.CRootOf)}
    if len(roots) != 1:
        return e
    (r,) = roots
    z = sp.Dummy("z")
    minpoly = sp.Poly(r.poly.as_expr().subs(r.poly.gen, z), z, domain="QQ")
    num, den = sp.fraction(sp.together(e.subs(r, z)))
    num_p = sp.Poly(num, z, domain="QQ").rem(minpoly)
    den_p = sp.Poly(den, z, domain="QQ").rem(minpoly)
    if den_p.is_zero:
        raise ZeroDivisionError(f"denominator vanishes at {r}")
    inverse = sp.invert(den_p, minpoly)
    return (num_p * inverse).rem(minpoly).as_expr().subs(z, r)


def sign(e: sp.Expr) -> int:
    """Exact sign of a real algebraic number: exact zero test, then a 50-digit evaluation."""
    e = sp.nsimplify(e) if e.is_Float else e
    if e.is_Rational:
        return int(sp.sign(e))
    reduced = reduce_algebraic(e)
    if reduced.is_Rational:
        return int(sp.sign(reduced))
    if len(reduced.atoms(sp.CRootOf)) == 1:
        pass  # a nonzero polynomial of degree < deg P in r: r is not its root, so it is ≠ 0
    elif sp.minimal_polynomial(e, sp.Dummy("z")).is_Symbol:
        return 0
    value = sp.N(e, 50)
    if value == 0:
        raise ArithmeticError(f"cannot decide the sign of {e}")
    return 1 if value > 0 else -1


def _real_roots(poly: sp.Poly) -> list[sp.Expr]:
    if poly.is_zero:
        raise ValueError("positive-dimensional critical set")
    return list(dict.fromkeys(sp.real_roots(poly)))


def _solve_polynomial_system(grads: tuple[sp.Expr, ...], syms: tuple[sp.Symbol, ...]
                             ) -> tuple[list[tuple[sp.Expr, ...]], bool]:
    """Real solutions of grad = 0 by back substitution through a lex Gröbner basis."""
    basis = sp.groebner([sp.expand(g) for g in grads], *syms, order="lex")
    if list(basis.exprs) == [1]:
        return [], True
    solutions: list[dict] = [{}]
    complete = True
    for k in range(len(syms) - 1, -1, -1):
        var = syms[k]
        later = set(syms[k + 1:])
        eqs = [e for e in basis.exprs if var in e.free_symbols
               and e.free_symbols <= later | {var}]
        extended = []
        for sol in solutions:
            polys = [sp.Poly(sp.expand(e.subs(sol)), var) for e in eqs]
            polys = [p for p in polys if not p.is_zero]
            if not polys:
                raise ValueError("positive-dimensional critical set")
            g = polys[0]
            for p in polys[1:]:
                g = sp.gcd(g, p) if g.domain.is_QQ or g.domain.is_ZZ else g
            if g.domain.is_QQ or g.domain.is_ZZ:
                roots = _real_roots(g)
            elif g.degree() == 1:
                a, b = g.all_coeffs()
                roots = [sp.radsimp(-b / a)]
            else:
                complete = False
                continue
            extended += [sol | {var: r} for r in roots]
        solutions = extended
    return [tuple(s[v] for v in syms) for s in solutions], complete


def _classify_1d(problem: Problem, point: sp.Expr) -> tuple[str, str]:
    (x,) = problem.symbols
    for order in range(2, 12):
        d = sign(sp.diff(problem.loss, x, order).subs(x, point))
        if d == 0:
            continue
        if order == 2:
            return ("minimum" if d > 0 else "maximum"), f"f''(θ) {'>' if d > 0 else '<'} 0"
        if order % 2 == 1:
            return ("degenerate: stationary inflection point (not an extremum)",
                    f"f'' = … = 0 there; the first nonzero derivative has odd order {order}")
        kind = "minimum" if d > 0 else "maximum"
        return (f"degenerate: {kind}",
                f"f'' = 0 there; the first nonzero derivative has even order {order}")
    return "degenerate: undecided", "derivatives up to order 11 vanish"


def _charpoly_coeffs(h: sp.Matrix, lam: sp.Symbol) -> list[sp.Expr]:
    """The coefficients of det(λI − H), highest first, exactly. Entries in Q(r) for one real
    root r (a CRootOf): computed over Q[z] and reduced modulo r's minimal polynomial, the same
    numbers as SymPy's charpoly on the CRootOf entries, which takes seconds."""
    roots = set().union(*(e.atoms(sp.CRootOf) for e in h))
    if len(roots) != 1:
        return sp.Poly(h.charpoly(lam).as_expr(), lam).all_coeffs()
    (r,) = roots
    z = sp.Dummy("z")
    coeffs = sp.Poly(h.subs(r, z).charpoly(lam).as_expr(), lam).all_coeffs()
    return [reduce_algebraic(sp.expand(c).subs(z, r)) for c in coeffs]


def _eigenvalues(h: sp.Matrix) -> list[sp.Expr]:
    """H's eigenvalues with multiplicity, as SymPy orders them; a 2 × 2 with algebraic
    entries directly as (tr ∓ √(tr² − 4 det))/2, which is what SymPy's eigenvals returns for
    it, without its seconds of simplification."""
    if h.shape == (2, 2) and any(e.atoms(sp.CRootOf) for e in h):
        tr, det = h[0, 0] + h[1, 1], h[0, 0] * h[1, 1] - h[0, 1] * h[1, 0]
        root = sp.sqrt(tr**2 - 4 * det)
        return [(tr - root) / 2, (tr + root) / 2]
    return h.eigenvals(multiple=True)


def _classify_nd(h: sp.Matrix) -> tuple[str, str, tuple[sp.Expr, ...]]:
    lam = sp.Symbol("lambda")
    coeffs = _charpoly_coeffs(h, lam)
    signs = [sign(c) for c in coeffs]
    zero_eigs = 0
    while signs and signs[-1] == 0:
        signs.pop()
        zero_eigs += 1
    nonzero = [s for s in signs if s != 0]
    positive = sum(1 for a, b in zip(nonzero, nonzero[1:], strict=False) if a != b)
    negative = len(signs) - 1 - positive
    eigs = tuple(sp.N(e, DIGITS) for e in _eigenvalues(h)) if h.shape[0] <= 3 else ()
    reason = (f"Hessian eigenvalues: {positive} positive, {negative} negative, {zero_eigs} zero "
              "(Descartes' rule on the characteristic polynomial of the symmetric Hessian)")
    if zero_eigs:
        return "degenerate: singular Hessian (higher-order test not attempted)", reason, eigs
    if negative == 0:
        return "minimum", reason, eigs
    if positive == 0:
        return "maximum", reason, eigs
    return "saddle", reason, eigs


def critical_points(problem: Problem) -> tuple[tuple[CriticalPoint, ...], bool, str]:
    syms = problem.symbols
    grads = gradient(problem)
    if not all(g.is_polynomial(*syms) for g in grads):
        return (), False, "not attempted (loss is not polynomial)"
    try:
        points, complete = _solve_polynomial_system(grads, syms)
    except ValueError as exc:
        return (), False, str(exc)
    out = []
    h = hessian(problem)
    for p in points:
        p = tuple(reduce_algebraic(c) for c in p)
        subs = dict(zip(syms, p, strict=True))
        value = reduce_algebraic(sp.expand(problem.loss.subs(subs)))
        if len(syms) == 1:
            kind, reason = _classify_1d(problem, p[0])
            eigs = (reduce_algebraic(sp.expand(h[0, 0].subs(subs))),)
        else:
            kind, reason, eigs = _classify_nd(h.subs(subs).applyfunc(
                lambda e: reduce_algebraic(sp.expand(e))))
        out.append(CriticalPoint(p, value, kind, reason, eigs))
    out.sort(key=lambda c: tuple(float(sp.N(v)) for v in c.coords))
    return (tuple(out), complete,
            "exact: lex Gröbner basis of ∇L = 0, real roots isolated exactly")


def _global_min(problem: Problem, points: tuple[CriticalPoint, ...], complete: bool
                ) -> tuple[sp.Expr | None, str]:
    syms = problem.symbols
    loss = problem.loss
    if problem.domain and len(syms) == 1:
        return _interval_min(problem, points)
    if loss.is_polynomial(*syms):
        poly = sp.Poly(sp.expand(loss), *syms)
        if len(syms) == 1 and poly.degree() % 2 == 0 and poly.LC() > 0 and complete and points:
            best = min((c.value for c in points), key=lambda v: sp.N(v, 50))
            return best, ("even-degree polynomial with positive leading coefficient: coercive, so "
                          "its minimum is the least critical value")
    terms = loss.args if loss.is_Add else (loss,)
    if all(_is_square(t) for t in terms):
        zeros = [c for c in points if sign(c.value) == 0]
        if zeros:
            return sp.Integer(0), "a sum of squares (≥ 0) that vanishes at a critical point"
    return None, "not established"


def _interval_min(problem: Problem, points: tuple[CriticalPoint, ...]
                  ) -> tuple[sp.Expr | None, str]:
    (x,) = problem.symbols
    lo, hi = problem.domain[0]
    inside = [c.value for c in points if lo <= c.coords[0] <= hi]
    ends = [problem.loss.subs(x, lo), problem.loss.subs(x, hi)]
    best = min(inside + ends, key=lambda v: sp.N(v, 50))
    where = [e for e, v in ((lo, ends[0]), (hi, ends[1])) if v == best]
    at = f", attained at the endpoint θ = {where[0]}" if where else ""
    return best, ("a continuous function on a closed interval takes its minimum at an interior "
                  f"critical point or an endpoint{at}")


def _is_square(t: sp.Expr) -> bool:
    coeff, rest = t.as_coeff_Mul()
    return coeff > 0 and rest.is_Pow and rest.exp.is_Integer and rest.exp % 2 == 0


def quadratic_facts(problem: Problem) -> QuadraticFacts | None:
    syms = problem.symbols
    if not problem.loss.is_polynomial(*syms) or sp.Poly(problem.loss, *syms).total_degree() != 2:
        return None
    h = hessian(problem)
    eigs = sorted(h.eigenvals(multiple=True), key=lambda e: sp.N(e, 50))
    if sign(eigs[0]) <= 0:
        return None
    sol = sp.solve(gradient(problem), syms, dict=True)[0]
    lmax, lmin = eigs[-1], eigs[0]
    return QuadraticFacts(tuple(sol[s] for s in syms), tuple(eigs), sp.radsimp(2 / lmax),
                          sp.radsimp(1 / lmax), sp.radsimp(lmax / lmin))


@lru_cache(maxsize=64)
def derive(problem: Problem) -> Derivation:
    """Everything SymPy can establish about ``problem``."""
    points, complete, method = critical_points(problem)
    gmin, why = _global_min(problem, points, complete)
    return Derivation(problem, gradient(problem), hessian(problem), points, complete, method,
                      gmin, why, quadratic_facts(problem))
