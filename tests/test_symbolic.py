"""Symbolic derivations checked against hand derivations and independent numerics (mpmath)."""

import mpmath
import pytest
import sympy as sp

from verify.symbolic.derive import derive
from verify.symbolic.problems import find_problem


def test_quartic_zero_is_an_inflection_not_a_minimum():
    # f' = θ²(4θ − 9): θ = 0 (double root, f''(0) = 0, f'''(0) = −18 ≠ 0) and θ = 9/4.
    d = derive(find_problem("quartic"))
    (zero, nine_quarters) = d.critical_points
    assert zero.coords == (0,) and zero.kind.startswith("degenerate: stationary inflection")
    assert nine_quarters.coords == (sp.Rational(9, 4),) and nine_quarters.kind == "minimum"
    # f(9/4) = 6561/256 − 8748/256 + 512/256 = −1675/256, by hand
    assert d.global_min == sp.Rational(-1675, 256)
    assert nine_quarters.gd_stable_below == sp.Rational(2) / sp.Rational(81, 4)  # f''(9/4) = 81/4


def test_double_well_has_a_genuine_local_minimum():
    d = derive(find_problem("double_well"))
    assert [c.kind for c in d.critical_points] == ["minimum", "maximum", "minimum"]
    # independent: roots of f' = 4θ³ − 4θ + 0.3 by mpmath's polynomial solver
    roots = sorted(float(r.real) for r in mpmath.polyroots([4, 0, -4, mpmath.mpf("0.3")]))
    for c, r in zip(d.critical_points, roots):
        assert abs(float(sp.N(c.coords[0], 30)) - r) < 1e-12
    left, _, right = d.critical_points
    assert sp.N(left.value) < sp.N(right.value)  # the left minimum is the global one
    assert d.global_min == left.value


def test_rosenbrock():
    d = derive(find_problem("rosenbrock"))
    (c,) = d.critical_points
    assert c.coords == (1, 1) and c.kind == "minimum" and d.global_min == 0
    # H(1,1) = [[802, −400], [−400, 200]]: eigenvalues 501 ± √(301² + 400²), by hand
    lo, hi = sorted(float(sp.N(e)) for e in c.hessian_eigenvalues)
    assert abs(hi - (501 + (301**2 + 400**2) ** 0.5)) < 1e-9
    assert abs(lo - (501 - (301**2 + 400**2) ** 0.5)) < 1e-9


def test_beale_critical_points_vanish_the_gradient_numerically():
    p = find_problem("beale")
    d = derive(p)
    got = {c.kind for c in d.critical_points}
    assert got == {"minimum", "saddle"}
    assert any(c.coords == (3, sp.Rational(1, 2)) and c.kind == "minimum" for c in d.critical_points)
    assert any(c.coords == (0, 1) and c.kind == "saddle" for c in d.critical_points)
    mpmath.mp.dps = 50
    x, y = p.symbols
    for c in d.critical_points:
        px, py = (mpmath.mpf(str(sp.N(v, 60))) for v in c.coords)
        for g in d.gradient:
            val = sp.lambdify((x, y), g, "mpmath")(px, py)
            assert abs(val) < mpmath.mpf("1e-40")


def test_linear_regression_thresholds():
    q = derive(find_problem("linear_regression")).quadratic
    # λ_max = 12 + 2√34, so 2/λ_max = (6 − √34)/2 and 1/λ_max = (6 − √34)/4 (by hand)
    assert sp.simplify(q.lr_converges_below - (6 - sp.sqrt(34)) / 2) == 0
    assert sp.simplify(q.lr_monotone_up_to - (6 - sp.sqrt(34)) / 4) == 0
    assert q.optimum == (2, 0)


@pytest.mark.parametrize("lr,converges", [("0.084", True), ("0.085", False)])
def test_gd_threshold_matches_golden_runs(linreg, lr, converges):
    # 2/λ_max ≈ 0.0845241: just below, GD contracts; just above, it blows up.
    from verify.golden.run import run_golden
    from verify.golden.spec import RunSpec

    trace = run_golden(RunSpec(linreg, "gd", {"lr": lr}, 3000, dps=20))
    w = abs(float(trace.steps[-1].params[0]) - 2)
    assert (w < 1e-3) == converges


def test_gd_monotone_threshold(linreg):
    # Below 1/λ_max ≈ 0.04226 the error along the stiff eigenvector never changes sign; above
    # it, it alternates. The stiff direction is v = (1, (λ_max − 22)/6) for H = [[22, 6], [6, 2]].
    from verify.golden.run import run_golden
    from verify.golden.spec import RunSpec

    lam = 12 + 2 * 34**0.5
    v = (1.0, (lam - 22) / 6)

    def signs(lr):
        tr = run_golden(RunSpec(linreg, "gd", {"lr": lr}, 10, dps=30))
        comps = [(float(s.params[0]) - 2) * v[0] + float(s.params[1]) * v[1] for s in tr.steps]
        return [c > 0 for c in comps]

    assert len(set(signs("0.04"))) == 1
    s = signs("0.06")
    assert sum(a != b for a, b in zip(s, s[1:])) == 10  # every step flips the sign


def test_reddi_average_loss_minimum_on_the_boundary():
    d = derive(find_problem("reddi_online"))
    # average of (−x, 3x, −x) is x/3: no interior critical point, minimum −1/3 at x = −1
    assert d.critical_points == () and d.global_min == sp.Rational(-1, 3)
