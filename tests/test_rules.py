"""Every rule of the catalogue: first steps against hand-derived closed forms (exact
rationals / 50-digit mpmath), and the float32 runner within a few ULPs of the golden."""

from fractions import Fraction

import mpmath
import pytest

from verify.golden.compare import compare
from verify.golden.run import run_golden
from verify.golden.spec import RunSpec
from verify.rules import RULES
from verify.runners.numpy_ import run_numpy
from verify.symbolic.problems import load_problem

mp = mpmath.MPContext()
mp.dps = 60


@pytest.fixture(scope="module")
def bowl(tmp_path_factory):
    """L(u) = u², u0 = 2: the first gradient is g = 4."""
    path = tmp_path_factory.mktemp("p") / "bowl.toml"
    path.write_text('name = "bowl"\nparams = ["u"]\nloss = "u**2"\n[init]\nu = "2"\n')
    return load_problem(path)


def first_delta(problem, optimizer, hyper):
    tr = run_golden(RunSpec(problem, optimizer, hyper, 1))
    return mp.mpf(tr.step(1).params[0]) - 2


M = mp.mpf
G, LR = M(4), M("0.1")
CASES = {
    # name: (hyper, Δ1 derived by hand for g = 4, θ0 = 2)
    "gd": ({"lr": "0.1"}, -LR * G),
    "momentum": ({"lr": "0.1", "dampening": "0.5"}, -LR * G),          # PyTorch: b1 = g
    "momentum-zero": ({"lr": "0.1", "dampening": "0.5"}, -LR * M("0.5") * G),  # MLX: b1 = (1−d)g
    "nesterov": ({"lr": "0.1"}, -LR * (G + M("0.9") * G)),
    "rmsprop": ({"lr": "0.1"}, -LR * G / (mp.sqrt(M("0.01")) * G + M("1e-8"))),
    "rmsprop-epsinside": ({"lr": "0.1"}, -LR * G / mp.sqrt(M("0.01") * G * G + M("1e-8"))),
    "adam": ({"lr": "0.1"}, -LR * G / (G + M("1e-8"))),
    "adam-nobias": ({"lr": "0.1"}, -LR * M("0.1") * G / (mp.sqrt(M("0.001")) * G + M("1e-8"))),
    "adam-epshat": ({"lr": "0.1"}, -LR * G / (G + M("1e-8") / mp.sqrt(M("0.001")))),
    "adam-epsroot": ({"lr": "0.1"}, -LR * G / mp.sqrt(G * G + M("1e-8"))),
    "adamw": ({"lr": "0.1", "weight_decay": "0.5"}, -LR * (G / (G + M("1e-8")) + M("0.5") * 2)),
    "adamw-nobias": ({"lr": "0.1", "weight_decay": "0.5"},
                     -LR * (M("0.1") * G / (mp.sqrt(M("0.001")) * G + M("1e-8")) + M("0.5") * 2)),
    "adamw-epshat": ({"lr": "0.1", "weight_decay": "0.5"},
                     -LR * (G / (G + M("1e-8") / mp.sqrt(M("0.001"))) + M("0.5") * 2)),
    "amsgrad-epshat": ({"lr": "0.1"}, -LR * G / (G + M("1e-8") / mp.sqrt(M("0.001")))),
    "adam-l2": ({"lr": "0.1", "weight_decay": "0.5"}, -LR * 5 / (5 + M("1e-8"))),  # g' = 4 + 1
    "amsgrad": ({"lr": "0.1"}, -LR * G / (G + M("1e-8"))),
    "amsgrad-vhat": ({"lr": "0.1"}, -LR * G / (G + M("1e-8"))),
    "amsgrad-nobias": ({"lr": "0.1"}, -LR * M("0.1") * G / (mp.sqrt(M("0.001")) * G + M("1e-8"))),
    "nesterov-zero": ({"lr": "0.1"}, -LR * (G + M("0.9") * G)),
    # AdaMax: m1 = 0.1·g, u1 = max(0, |g|) = g, Δ1 = −(α/(1 − 0.9))·m1/u1 = −α
    "adamax": ({"lr": "0.1"}, -LR),
}


def test_every_rule_has_a_case():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_step_closed_form(bowl, name):
    hyper, expected = CASES[name]
    got = first_delta(bowl, name, hyper)
    assert abs(got - expected) <= abs(expected) * M("1e-45"), (got, expected)


def test_amsgrad_variants_differ_on_decreasing_gradients(tmp_path):
    # Gradient stream 1, then 0.001: v drops (v2 < v1) and v̂ drops, so the three denominators
    # √v̂2 (Adam), √(v1/(1−β2²)) (max over v), √v̂1 = 1 (max over v̂) all differ.
    path = tmp_path / "steps.toml"
    path.write_text('name = "steps"\nparams = ["x"]\nphases = ["0.001*x", "x"]\n[init]\nx = "0"\n')
    p = load_problem(path)
    a = run_golden(RunSpec(p, "amsgrad", {"lr": "0.1"}, 2)).step(2).params[0]
    b = run_golden(RunSpec(p, "amsgrad-vhat", {"lr": "0.1"}, 2)).step(2).params[0]
    c = run_golden(RunSpec(p, "adam", {"lr": "0.1"}, 2)).step(2).params[0]
    assert len({a, b, c}) == 3


def test_inv_sqrt_schedule(bowl):
    tr = run_golden(RunSpec(bowl, "gd", {"lr": "0.1"}, 2, schedule="inv-sqrt"))
    # θ1 = 2 − 0.1·4 = 1.6; θ2 = 1.6 − (0.1/√2)·3.2
    expected = M("1.6") - M("0.1") / mp.sqrt(2) * M("3.2")
    assert abs(M(tr.step(2).params[0]) - expected) < M("1e-45")


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_runner_tracks_golden(linreg, name):
    hyper = dict(CASES[name][0], lr="0.01")
    tested = run_numpy(RunSpec(linreg, name, hyper, 8))
    golden = run_golden(RunSpec(linreg, name, hyper, 8, quantize="float32"))
    c = compare(tested, golden)
    # parameters within 8 ULPs over 8 steps. (Gradients near a sign change cancel, so their
    # ULP error relative to themselves is not bounded this way; the parameters' is.)
    assert c.max_ulps("params") <= 8, (name, {q: c.max_ulps(q) for q in c.quantities()})
    assert Fraction(tested.step(8).params[0]) != 0
