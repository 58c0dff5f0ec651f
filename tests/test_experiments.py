"""Experiments for the article's behavioural claims: their outcomes against theory."""

import math

import numpy as np
import pytest

from verify.experiments import (
    bias_correction_early,
    double_well_escape,
    gd_oscillation,
    quartic_stall,
    run64,
    sign_changes,
)


def test_sign_changes_ignores_rounding_noise():
    assert sign_changes(np.array([3.0, -1.0, 2.0, 0.0, -5.0])) == 3
    assert sign_changes(np.array([1.0, 0.5, 1e-17, -1e-17, 1e-18])) == 0


def test_gd_oscillation_follows_the_eigenvalue_thresholds():
    # λ_max = 12 + 2√34 (Hessian [[22, 6], [6, 2]]): monotone iff α ≤ 1/λ_max ≈ 0.04226,
    # convergent iff α < 2/λ_max ≈ 0.08452. The grid straddles both.
    lam = 12 + 2 * math.sqrt(34)
    e = gd_oscillation()
    rows = {r[0]: r for r in e.rows}
    for lr in ("0.01", "0.04"):
        assert float(lr) * lam < 1 and rows[lr][2] == "0" and rows[lr][3] == "0"
    assert 1 < 0.06 * lam < 2 and int(rows["0.06"][2]) > 0 and rows["0.06"][5] != "diverged"
    assert 0.09 * lam > 2 and float(rows["0.09"][5]) > 1e50  # diverges
    assert not e.holds  # no oscillation at the article's α = 0.01


def test_bias_correction_shrinks_the_first_step():
    # first step per coordinate: α with correction, α(1 − β1)/√(1 − β2) without (|g| ≫ ε)
    e = bias_correction_early()
    assert e.rows[0][0] == "1" and e.rows[0][3] == f"{math.sqrt(0.001) / 0.1:.4f}"
    assert not e.holds


def test_gd_stalls_at_the_quartic_inflection_point():
    # near θ = 0, f'(θ) ≈ −9θ², so GD from θ < 0 obeys θ_{t+1} ≈ θ_t + 9αθ_t², whose solution
    # approaches 0 like −1/(9αt): after 2000 steps at α = 0.01, about −0.00556
    r = run64("quartic", "gd", "0.01", 2000, ("-0.5",))
    assert r.params[-1][0] == pytest.approx(-1 / (9 * 0.01 * 2000), rel=0.1)
    e = quartic_stall()
    assert "stationary inflection point" in e.finding and not e.holds


def test_double_well_protocol():
    e = double_well_escape()
    assert len(e.rows) == 12 and all(len(r) == 6 for r in e.rows)
    assert "0.0754" in e.protocol  # the barrier: the maximum 0.07542915857 derived by SymPy
    # GD at α = 0.001 takes steps ≤ 0.001·|f'| and stays in the basin it starts in
    gd_small = next(r for r in e.rows if r[:2] == ("gd", "0.001"))
    assert all(cell.startswith("local") for cell in gd_small[2:])
