"""Golden traces against independent oracles: exact rationals (GD) and Python's decimal (Adam)."""

import subprocess
import sys
from decimal import Decimal, getcontext
from fractions import Fraction

import pytest

from verify.golden.run import run_golden
from verify.golden.spec import RunSpec
from verify.golden.trace import dumps

X = [1, 2, 3, 4, 5]
Y = [2, 4, 6, 8, 10]


def exact_gd(steps, lr=Fraction(1, 100)):
    """GD on the article's data in exact rationals, gradient from the residuals (no SymPy)."""
    w = b = Fraction(0)
    out = []
    for _ in range(steps):
        err = [y - (w * x + b) for x, y in zip(X, Y)]
        gw = -Fraction(2, 5) * sum(x * e for x, e in zip(X, err))
        gb = -Fraction(2, 5) * sum(err)
        w, b = w - lr * gw, b - lr * gb
        out.append(((gw, gb), (w, b)))
    return out


def decimal_adam(steps, digits=70):
    """Adam (Kingma & Ba Alg. 1) in Python's decimal module: an oracle independent of mpmath."""
    getcontext().prec = digits
    lr, b1, b2, eps = Decimal("0.01"), Decimal("0.9"), Decimal("0.999"), Decimal("1e-8")
    p = [Decimal(0), Decimal(0)]
    m = [Decimal(0)] * 2
    v = [Decimal(0)] * 2
    for t in range(1, steps + 1):
        err = [y - (p[0] * x + p[1]) for x, y in zip(X, Y)]
        g = [-Decimal(2) / 5 * sum(x * e for x, e in zip(X, err)), -Decimal(2) / 5 * sum(err)]
        for i in range(2):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            mh, vh = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
            p[i] = p[i] - lr * mh / (vh.sqrt() + eps)
    return p


def test_gd_golden_equals_exact_rationals(linreg):
    golden = run_golden(RunSpec(linreg, "gd", {"lr": "0.01"}, 5))
    for (grad, params), step in zip(exact_gd(5), golden.steps[1:]):
        assert [Fraction(g) for g in step.grad] == list(grad)
        assert [Fraction(p) for p in step.params] == list(params)
    # The acceptance value: at iteration 2, dL/dw = -33.6 (the article prints -28.16).
    assert golden.step(2).grad[0] == "-33.6"


def test_adam_first_step_closed_form(linreg):
    # With m̂_1 = g and v̂_1 = g², step 1 is −α g/(|g| + ε): w_1 = 0.01·44/(44 + 1e-8).
    golden = run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 1))
    expected = Fraction(1, 100) * 44 / (44 + Fraction(1, 10**8))
    got = Fraction(golden.step(1).params[0])
    assert abs(got - expected) / expected < Fraction(1, 10**45)


def test_adam_golden_matches_decimal_oracle(linreg):
    golden = run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 5))
    oracle = decimal_adam(5)
    for got, want in zip(golden.step(5).params, oracle):
        assert abs(Decimal(got) - want) / abs(want) < Decimal("1e-45")
    assert golden.step(5).params[0].startswith("0.049971")  # the article prints 0.0496


def test_certified_digits_at_least_30(linreg):
    for opt in ("gd", "adam"):
        trace = run_golden(RunSpec(linreg, opt, {"lr": "0.01"}, 5))
        assert trace.arithmetic["certified_digits"] >= 30
        # every printed value carries no more digits than certified
        assert all(s.digits >= 30 for s in trace.steps)


def test_regeneration_is_byte_identical_across_processes(linreg):
    here = dumps(run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 5)))
    again = dumps(run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 5)))
    code = ("import sys; from verify.golden.run import run_golden; from verify.golden.spec import RunSpec;"
            "from verify.symbolic.problems import find_problem; from verify.golden.trace import dumps;"
            "sys.stdout.write(dumps(run_golden(RunSpec(find_problem('linear_regression'),"
            "'adam', {'lr': '0.01'}, 5))))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout
    assert here == again == other


def test_quantized_hyperparameters_are_the_float32_values(linreg):
    trace = run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 1, quantize="float32"))
    eff = trace.arithmetic["hyper_effective"]
    # float32(0.01) = 0x3C23D70A = 10737418 · 2^-30 (exact), computed independently here:
    assert Fraction(eff["lr"]) == Fraction(10737418, 2**30)
    assert Fraction(eff["beta2"]) == Fraction(16760439, 2**24)


@pytest.mark.parametrize("dps", [14, 5000])
def test_precision_out_of_range(linreg, dps):
    from verify.errors import InputError

    with pytest.raises(InputError):
        run_golden(RunSpec(linreg, "gd", {"lr": "0.01"}, 2, dps=dps))


@pytest.mark.parametrize("problem,optimizer,hyper", [
    ("linear_regression", "adam", {"lr": "0.01"}),
    ("rosenbrock", "adamw", {"lr": "0.001"}),
    ("double_well", "nesterov", {"lr": "0.01"}),
    ("beale", "amsgrad", {"lr": "0.01"}),
    ("reddi_online", "rmsprop", {"lr": "0.1"}),
])
def test_mpfr_fast_path_matches_mpmath_to_certified_digits(problem, optimizer, hyper):
    from verify.symbolic.problems import find_problem

    spec = RunSpec(find_problem(problem), optimizer, hyper, 40)
    fast, plain = run_golden(spec, engine="mpfr"), run_golden(spec, engine="mpmath")
    for a, b in zip(fast.steps, plain.steps):
        for q in ("params", "grad"):
            for x, y in zip(a.values(q) or (), b.values(q) or ()):
                d = min(a.digits, b.digits)
                assert d >= 30
                assert abs(Decimal(x) - Decimal(y)) <= abs(Decimal(y)) * Decimal(10) ** (1 - d)


def test_committed_goldens_certify_at_least_30_digits():
    from verify.golden.goldenset import load_committed, load_manifest

    for gid, trace in load_committed(load_manifest()).items():
        assert trace.arithmetic["certified_digits"] >= 30, gid


def test_reddi_reproduction():
    # Reddi et al. 2018 §3: Adam drifts to +1, AMSGrad reaches the optimum −1 of the average loss.
    from verify.golden.goldenset import load_committed, load_manifest

    g = load_committed(load_manifest())
    assert g["reddi_online.adam"].steps[-1].params == ("1",)
    assert Decimal(g["reddi_online.amsgrad"].steps[-1].params[0]) < Decimal("-0.97")


def test_spike_attains_the_kingma_ba_bound():
    from verify.golden.goldenset import load_committed, load_manifest

    g = load_committed(load_manifest())
    getcontext().prec = 60
    lr, eps = Decimal("0.001"), Decimal("1e-30")
    nobias = -Decimal(g["spike.adam-nobias"].step(20).params[0])
    # m_20 = 0.1, v_20 = 0.001 after 19 zeros: |Δ| = α·0.1/(√0.001 + ε) (the bound, up to ε)
    assert abs(nobias - lr * Decimal("0.1") / (Decimal("0.001").sqrt() + eps)) < Decimal("1e-45")
    corrected = -Decimal(g["spike.adam"].step(20).params[0])
    b1t, b2t = Decimal("0.9") ** 20, Decimal("0.999") ** 20
    want = lr * (Decimal("0.1") / (1 - b1t)) / ((Decimal("0.001") / (1 - b2t)).sqrt() + eps)
    assert abs(corrected - want) < Decimal("1e-45")


@pytest.mark.parametrize("problem,optimizer,hyper,steps", [
    ("linear_regression", "gd", {"lr": "0.01"}, 30),
    ("rosenbrock", "momentum", {"lr": "0.0001", "dampening": "0.25"}, 4),  # cubic gradient:
    ("beale", "nesterov-zero", {"lr": "0.001"}, 3),                       # digits grow fast
])
def test_exact_rational_trace_agrees_with_golden(problem, optimizer, hyper, steps):
    # Two independent oracles: exact rationals (no rounding) and MPFR at 50/100 digits.
    from verify.golden.run import run_exact
    from verify.symbolic.problems import find_problem

    spec = RunSpec(find_problem(problem), optimizer, hyper, steps)
    exact, golden = run_exact(spec), run_golden(spec)
    for e, g in zip(exact.steps, golden.steps):
        for x, y in zip(e.params + (e.grad or ()), g.params + (g.grad or ())):
            fx, fy = Fraction(x), Fraction(y)  # exact text is a decimal or "p/q"
            assert fx == fy or abs(fx - fy) <= abs(fx) * Fraction(1, 10 ** (g.digits - 1))


def test_exact_refuses_square_roots(linreg):
    from verify.errors import InputError
    from verify.golden.run import run_exact

    with pytest.raises(InputError, match="exact arithmetic"):
        run_exact(RunSpec(linreg, "adam", {"lr": "0.01"}, 2))


def test_a_nan_loss_is_never_reported_finite(tmp_path):
    """log(θ) from a negative start: θ and the gradient 2θ + 1/θ stay finite, the loss is NaN
    (the logarithm of a negative number) — the run's status must say so (issue #15 §5)."""
    from verify.runners.numpy_ import run_numpy
    from verify.symbolic.problems import load_problem

    path = tmp_path / "log_negative.toml"
    path.write_text('name = "log_negative"\nparams = ["w"]\nloss = "w**2 + log(w)"\n'
                    '[init]\nw = "-1"\n')
    trace = run_numpy(RunSpec(load_problem(path), "gd", {"lr": "0.01"}, 3))
    assert trace.steps[1].params[0] != "nan" and trace.steps[0].loss == "nan"
    assert trace.status == {"finite": False, "first_nonfinite_step": 0, "steps_requested": 3}
