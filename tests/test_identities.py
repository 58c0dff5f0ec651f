"""Optimizer identities: proved by SymPy, and checked numerically on golden traces."""

from fractions import Fraction

import mpmath
import pytest

from verify.golden.arith import MpmathArith
from verify.golden.run import run_golden
from verify.golden.spec import RunSpec
from verify.rules import ADAM, iterate
from verify.symbolic.identities import all_identities
from verify.symbolic.problems import load_problem


@pytest.fixture(scope="module")
def ids():
    return {x.id: x for x in all_identities()}


def test_all_proved(ids):
    assert set(ids) == {"ema_closed_form", "bias_correction_exact", "first_step",
                        "eps_hat_ordering", "step_bound", "bias_correction_drift",
                        "step_scale_free", "step_unbounded"}
    assert all(x.proved for x in ids.values()), [x.id for x in ids.values() if not x.proved]


def test_ema_closed_form_on_golden(linreg):
    tr = run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 5))
    b1 = Fraction(9, 10)
    for t in range(1, 6):
        grads = [Fraction(tr.step(i).grad[0]) for i in range(1, t + 1)]
        closed = (1 - b1) * sum(b1 ** (t - i) * g for i, g in zip(range(1, t + 1), grads))
        assert abs(Fraction(tr.step(t).state["m"][0]) - closed) < Fraction(1, 10**45)


def test_bias_correction_exact_for_constant_gradient(tmp_path):
    path = tmp_path / "slope.toml"
    path.write_text('name = "slope"\nparams = ["u"]\nloss = "3*u"\n[init]\nu = "0"\n')
    tr = run_golden(RunSpec(load_problem(path), "adam", {"lr": "0.01"}, 6))
    for s in tr.steps[1:]:
        assert s.aux["m_hat"] == ("3",) and s.aux["v_hat"] == ("9",)


def test_eps_hat_ordering_on_golden(linreg):
    # α_t m/(√v + ε√(1−β2^t)) must reproduce the golden's Algorithm-1 step, to 45 digits.
    tr = run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 5))
    mp = mpmath.MPContext()
    mp.dps = 60
    b1, b2, lr, eps = mp.mpf("0.9"), mp.mpf("0.999"), mp.mpf("0.01"), mp.mpf("1e-8")
    for t in range(1, 6):
        m, v = (mp.mpf(tr.step(t).state[k][0]) for k in ("m", "v"))
        lr_t = lr * mp.sqrt(1 - b2**t) / (1 - b1**t)
        step = lr_t * m / (mp.sqrt(v) + eps * mp.sqrt(1 - b2**t))
        golden = mp.mpf(tr.step(t - 1).params[0]) - mp.mpf(tr.step(t).params[0])
        assert abs(step - golden) / abs(golden) < mp.mpf("1e-44")


def test_step_bound_exceeded_by_the_shared_rule(ids):
    # Run the shared Adam rule (mpmath, ε = 0) on the gradient stream g_i = (β1/β2)^{n−i}
    # and compare |Δ_n|/α with the exact value the identity computed.
    case = ids["step_bound"].details["cases"][0]
    n = 2000
    ar = MpmathArith(40)
    b1, b2 = ar.num("0.9"), ar.num("0.999")
    hp = {"lr": ar.num(1), "beta1": b1, "beta2": b2, "eps": ar.num(0)}
    recs = iterate(ADAM, hp, [ar.num(0)], lambda p, t: [(b1 / b2) ** (n - t)], n, ar)
    step = abs(recs[-1].params[0] - recs[-2].params[0])
    assert abs(float(step) - float(case["growing_sequence"])) < 1e-9
    assert step > float(case["bound"])  # |Δ| ≈ 6.76 α against the claimed bound 3.16 α


def test_bias_correction_is_not_exact_under_drift(ids):
    # by hand: E[m̂_2] = (β(μ + δ) + (μ + 2δ))/(1 + β) = μ + 2δ − δβ/(1 + β)
    x = ids["bias_correction_drift"]
    assert x.proved and x.details["t2"] == "-beta*delta/(beta + 1)"


def test_scale_free_step_bound_numerically(ids):
    # the limit 0.1/√(0.001·(1 − 0.81/0.999)) = 7.27029…, computed here in floating point
    import math

    import numpy as np

    limit = 0.1 / math.sqrt(0.001 * (1 - 0.81 / 0.999))
    assert float(ids["step_scale_free"].details["limit_at_defaults"]) == pytest.approx(limit)
    b1, b2, n = 0.9, 0.999, 50

    def step(gs):
        w = (1 - b1) * b1 ** np.arange(len(gs))[::-1]
        u = (1 - b2) * b2 ** np.arange(len(gs))[::-1]
        return abs(w @ gs / (1 - b1**len(gs))) / math.sqrt(u @ gs**2 / (1 - b2**len(gs)))

    q = b1**2 / b2
    bound = (1 - b1) / (1 - b1**n) * math.sqrt((1 - b2**n) / (1 - b2) * (1 - q**n) / (1 - q))
    rng = np.random.default_rng(0)
    for _ in range(200):  # random sequences, any scale: never above the bound
        gs = rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 6)
        assert step(gs) <= bound * (1 + 1e-12)
    extremal = (b1 / b2) ** np.arange(n)[::-1]
    assert step(extremal) == pytest.approx(bound, rel=1e-12)
    assert step(3e5 * extremal) == pytest.approx(bound, rel=1e-12)  # scale-free
    assert ids["step_unbounded"].proved  # β1² > β2: the same sequence grows without bound
