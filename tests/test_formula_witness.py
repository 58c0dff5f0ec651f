"""A formula claim is disproved by a point where it and the rule differ (certified to 30 digits),
proved by cancel or, where neither decides, by simplify: the verdicts are simplify's, the note
names the point."""

from fractions import Fraction

import sympy as sp

from verify.claims import CONFIRMED, CONTRADICTED, load_claims
from verify.claims.formulas import check_formula
from verify.symbolic.witness import is_zero, witness


def test_witness_is_a_certified_nonzero_value_inside_the_assumptions():
    x = sp.Symbol("x", positive=True)
    g = sp.Symbol("g", real=True)
    n = sp.Symbol("n", integer=True, negative=True)
    assert witness(sp.sqrt(x**2) - x, {x}) is None  # 0 for every x > 0
    assert witness(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, {x}) is None  # 0, not provably by evalf
    assert witness(n + 1, {n}) is None  # the chosen values would break n's assumptions
    point, value = witness(sp.sqrt(g**2) - g, {g})
    # |g| − g = 2|g| at the negative point chosen for a real symbol
    assert point == {"g": sp.Rational(-5, 7)} and abs(value - sp.Rational(10, 7)) < 1e-29
    # found by review: evalf tracks no error through tanh, so a zero inside it printed as
    # -1.7e-139; tanh is rewritten with exp, and a function evalf cannot certify means no witness
    assert witness(sp.tanh(sp.sin(g) ** 2 + sp.cos(g) ** 2 - 1), {g}) is None
    point, value = witness(sp.tanh(g) - g, {g})  # tanh(−5/7) + 5/7 ≈ −0.6134 + 0.7143
    assert abs(value - (sp.tanh(sp.Rational(-5, 7)) + sp.Rational(5, 7))) < 1e-29
    # a difference of 1e-40 relative is still certified nonzero
    point, value = witness(x - x * (1 + sp.Rational(1, 10**40)), {x})
    assert point == {"x": sp.Rational(3, 7)} and value < 0


def claim_file(tmp_path, quantity, claimed, optimizer="adam"):
    f = tmp_path / "c.toml"
    f.write_text(f'document = "d"\n[[claim]]\nid = "f"\nsection = "s"\nquote = "q"\n'
                 f'kind = "formula"\nreference = "rule"\noptimizer = "{optimizer}"\n'
                 f'quantity = "{quantity}"\nclaimed = "{claimed}"\n')
    return load_claims(f).claims[0]


def test_a_wrong_formula_names_a_point_and_both_values(tmp_path):
    res = check_formula(claim_file(tmp_path, "m_hat", "m"))  # the article's "m_t is m̂" slip
    assert res.verdict == CONTRADICTED
    # at β1 = 3/7, g = −7/10, m_prev = −9/13, t = 6 (by hand): m = 3/7·(−9/13) + 4/7·(−7/10)
    # = −317/455, and m̂ = m/(1 − (3/7)⁶) = m·117649/116920
    m = Fraction(3, 7) * Fraction(-9, 13) + Fraction(4, 7) * Fraction(-7, 10)
    assert m == Fraction(-317, 455)
    m_hat = m / (1 - Fraction(3, 7) ** 6)
    assert "at beta1 = 3/7, g = -7/10, m_prev = -9/13, t = 6" in res.note
    assert f"the claimed formula gives {float(m):.10f}" in res.note
    assert f"the rule {float(m_hat):.10f}" in res.note
    assert "the difference is -beta1**t*(beta1*g - beta1*m_prev - g)/(beta1**t - 1)" in res.note


def test_an_identity_cancel_cannot_prove_still_goes_to_simplify(tmp_path):
    # exp(t·log β1) is β1ᵗ for β1 > 0: not a rational-function identity in the symbols (cancel
    # leaves it), zero at every point (no witness), so simplify decides: confirmed
    res = check_formula(claim_file(tmp_path, "m_hat", "m/(1 - exp(t*log(beta1)))"))
    assert res.verdict == CONFIRMED, res.note


def test_a_noisy_zero_inside_tanh_does_not_contradict_a_right_formula(tmp_path):
    # m = β1 m_prev + (1 − β1) g plus tanh(sin²g + cos²g − 1) = tanh(0) = 0: the rule's m
    claim = claim_file(tmp_path, "m", "beta1*m_prev + (1 - beta1)*g + tanh(sin(g)**2 + cos(g)**2 - 1)")
    assert check_formula(claim).verdict == CONFIRMED


def test_a_max_that_cannot_compare_at_the_point_goes_to_simplify(tmp_path):
    # found by review: max(0, sin²g + cos²g − 1) at a point made SymPy raise "not comparable"
    claim = claim_file(tmp_path, "v_max", "max(v_max_prev, v) + max(0, sin(g)**2 + cos(g)**2 - 1)",
                       "amsgrad")
    assert check_formula(claim).verdict == CONFIRMED


def test_is_zero_by_each_of_its_three_ways():
    b = sp.Symbol("beta", positive=True)
    t = sp.Symbol("t", positive=True, integer=True)
    g = sp.Symbol("g", real=True)
    assert is_zero(b * b**t - b ** (t + 1))  # cancel
    assert not is_zero(sp.sqrt(g**2) - g)  # a witness: g = −5/7 gives 10/7
    assert is_zero(sp.exp(t * sp.log(b)) - b**t)  # simplify (cancel leaves it, no witness)
    assert is_zero(sp.tanh(sp.sin(g) ** 2 + sp.cos(g) ** 2 - 1))  # no witness through tanh
