"""Property tests of the numerics on random hyperparameters and gradient streams."""

import subprocess
import sys
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.golden.arith import Float32Arith, MpfrArith, RationalArith, as_fraction, round_to_float32
from verify.golden.run import is_finite_text, run_golden
from verify.golden.spec import RunSpec
from verify.rules import RULES, iterate

from .conftest import FUZZ

f32 = st.floats(-10, 10, width=32, allow_subnormal=False).filter(lambda x: abs(x) > 1e-3)


def float32_of(text: str) -> np.float32:
    """A decimal string rounded correctly to float32 (non-finite strings pass through)."""
    if not is_finite_text(text):
        return np.float32(text)
    return round_to_float32(as_fraction(text))


def f32_text(x):
    """The exact decimal value of the float32 nearest x (not its shortest repr)."""
    q = Fraction(float(np.float32(x)))
    return _exact(q)


def _exact(q):
    import sympy as sp

    from verify.symbolic.problems import rational_text

    return rational_text(sp.Rational(q.numerator, q.denominator))


@settings(max_examples=150, deadline=None)
@given(rule=st.sampled_from(["adam", "adamw", "amsgrad", "rmsprop", "momentum", "nesterov",
                             "adam-epshat", "adam-nobias"]),
       lr=st.sampled_from(["0.1", "0.01", "0.001", "0.0001"]),
       beta1=st.sampled_from(["0", "0.5", "0.9", "0.99"]),
       beta2=st.sampled_from(["0.9", "0.99", "0.999", "0.9999"]),
       eps=st.sampled_from(["1e-8", "1e-6", "0.001"]),
       grads=st.lists(f32, min_size=1, max_size=6), x0=st.sampled_from(["1", "-3.5", "0.25"]))
def test_float32_stays_near_the_golden(rule, lr, beta1, beta2, eps, grads, x0):
    # Random hyperparameters and gradient streams (exact float32 values): the float32 rule
    # against the MPFR rule with the same float32-rounded hyperparameters. Each step adds about
    # one rounding of θ + Δ plus a few ulps of Δ, so after ≤ 6 steps the error stays within
    # 8 ulps of the largest magnitude the run has held (θ + Δ may cancel, so the error is
    # measured against that scale, not against the possibly tiny result).
    FUZZ["numerics"] = FUZZ.get("numerics", 0) + 1
    r = RULES[rule]
    hyper = {k: v for k, v in {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
                               "momentum": beta1, "alpha": beta2}.items() if k in r.defaults}
    hyper = {k: f32_text(float32_of(v)) for k, v in (dict(r.defaults) | hyper).items()}
    texts = [f32_text(g) for g in grads]
    results = []
    for ar in (Float32Arith(), MpfrArith(40)):
        with ar.activate():
            hp = {k: ar.num(v) for k, v in hyper.items()}
            gs = [ar.num(t) for t in texts]
            recs = iterate(r, hp, [ar.num(x0)], lambda p, t, gs=gs: [gs[t - 1]], len(gs), ar)
            results.append([r_.params[0] for r_ in recs])
    scale = 0.0
    for a, b in zip(*results):
        man, exp = b.as_mantissa_exp()
        gold = Fraction(int(man)) * Fraction(2) ** int(exp)
        scale = max(scale, abs(float(a)), abs(float(gold)))
        assert abs(Fraction(float(a)) - gold) <= 8 * Fraction(float(np.spacing(np.float32(scale))))


@settings(max_examples=100, deadline=None)
@given(beta=st.fractions(Fraction(0), Fraction(99, 100)),
       grads=st.lists(st.fractions(Fraction(-10), Fraction(10), max_denominator=1000),
                      min_size=1, max_size=8))
def test_ema_closed_form_on_random_inputs(beta, grads):
    # The shared momentum-zero rule with dampening d = β is the EMA m_t = β m + (1 − β) g;
    # run in exact rationals it must equal (1 − β) Σ β^{t−i} g_i exactly.
    FUZZ["identities"] = FUZZ.get("identities", 0) + 1
    ar = RationalArith()
    hp = {"lr": Fraction(1), "momentum": beta, "dampening": beta}
    recs = iterate(RULES["momentum-zero"], hp, [Fraction(0)], lambda p, t: [grads[t - 1]],
                   len(grads), ar)
    for t, rec in enumerate(recs[1:], start=1):
        closed = (1 - beta) * sum(beta ** (t - i) * grads[i - 1] for i in range(1, t + 1))
        assert rec.state["buf"][0] == closed


def test_divergence_is_a_result_not_a_crash():
    # GD with α = 1 on Rosenbrock explodes (the gradient is cubic): MPFR overflows to inf, the
    # trace stops at the first step whose parameters or gradient are not finite, and the status
    # records the first non-finite value of any kind — the loss (quartic in θ) overflows first.
    from verify.symbolic.problems import find_problem

    trace = run_golden(RunSpec(find_problem("rosenbrock"), "gd", {"lr": "1"}, 60))
    assert trace.status["finite"] is False
    first = trace.status["first_nonfinite_step"]
    last = trace.steps[-1]
    assert 1 <= first <= last.t <= 60 and trace.steps[first].loss in ("inf", "nan")
    assert not all(x not in ("inf", "-inf", "nan") for x in last.params + (last.grad or ()))
    from verify.runners.numpy_ import run_numpy

    f32 = run_numpy(RunSpec(find_problem("rosenbrock"), "gd", {"lr": "1"}, 60))
    assert f32.status["finite"] is False and f32.status["first_nonfinite_step"] <= first


def test_two_regenerations_at_once_do_not_corrupt(tmp_path):
    import os
    import shutil

    from verify import paths

    shutil.copytree(paths.DERIVATIONS, tmp_path / "derivations")
    for p in (tmp_path / "derivations" / "golden").glob("*.json"):
        p.write_text(p.read_text().replace('"0.44"', '"0.45"'))  # make every file stale
    env = dict(os.environ, ADAM_VERIFY_ROOT=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-m", "verify", "golden", "--update"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(3)]
    assert all(p.wait() == 0 for p in procs)
    check = subprocess.run([sys.executable, "-m", "verify", "golden", "--check"], env=env,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    leftovers = [p.name for p in (tmp_path / "derivations" / "golden").iterdir()
                 if p.name.endswith(".tmp")]
    assert not leftovers
