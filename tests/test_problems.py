"""Problem files load into exact SymPy losses; the gradient is SymPy's derivative of that loss."""

import sympy as sp

from verify.symbolic.derive import gradient, hessian
from verify.symbolic.problems import load_problem, rational_text


def test_linear_regression_gradient_matches_normal_equations(linreg):
    # By hand: L = (1/5) Σ (y_i − w x_i − b)², Σx² = 55, Σx = 15, Σxy = 110, Σy = 30, N = 5,
    # so ∂L/∂w = (2/5)(55w + 15b − 110) = 22w + 6b − 44 and ∂L/∂b = (2/5)(15w + 5b − 30).
    w, b = linreg.symbols
    gw, gb = gradient(linreg)
    assert sp.expand(gw - (22 * w + 6 * b - 44)) == 0
    assert sp.expand(gb - (6 * w + 2 * b - 12)) == 0
    assert hessian(linreg) == sp.Matrix([[22, 6], [6, 2]])


def test_rows_are_per_data_point(linreg):
    rows = dict(linreg.rows)
    w, b = linreg.symbols
    assert rows["residual"][2] == 6 - (3 * w + b)
    assert rows["prediction"][4] == 5 * w + b


def test_init_and_exact_text(linreg):
    assert linreg.init == (0, 0)
    assert rational_text(sp.Rational(1, 100)) == "0.01"
    assert rational_text(sp.Rational(-5, 4)) == "-1.25"
    assert rational_text(sp.Rational(1, 3)) == "1/3"


def test_user_problem_file(tmp_path):
    path = tmp_path / "bowl.toml"
    path.write_text('name = "bowl"\nparams = ["u"]\nloss = "(u - 0.5)**2"\n[init]\nu = "2"\n')
    p = load_problem(path)
    (u,) = p.symbols
    assert gradient(p) == (2 * u - 1,)
    assert p.init == (2,)
