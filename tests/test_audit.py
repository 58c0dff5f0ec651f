"""Audits of real implementations: PyTorch's optimizers, and users' own code."""

import pytest

import verify
from verify.cli import main
from verify.errors import InputError
from verify.testing import assert_matches_golden


@pytest.mark.parametrize("impl,expected", [
    ("tests.fixtures.user_optimizers:adam", None),
    ("tests.fixtures.user_optimizers:adam_forgot_bias_correction", "adam-nobias"),
    ("tests.fixtures.user_optimizers:adam_eps_inside", "adam-epsroot"),
])
def test_user_callable_is_judged_and_diagnosed(impl, expected):
    r = verify.audit(impl, "adam", samples=8)
    if expected is None:
        assert r.verdict == "consistent", r.diagnosis.summary
        assert r.max_ulps <= 8
    else:
        assert r.verdict == "discrepant"
        assert r.diagnosis.explanation.rule == expected, r.diagnosis.summary


def test_user_code_that_raises_is_one_clear_error(capsys):
    assert main(["audit", "--impl", "tests.fixtures.user_optimizers:broken"]) == 2
    err = capsys.readouterr().err
    assert "raised RuntimeError at step 1" in err and err.count("\n") == 1


def test_unknown_impl():
    with pytest.raises(InputError, match="unknown implementation"):
        verify.audit("tensorflow-1.0")


@pytest.mark.parametrize("impl", ["torch", "torch-foreach", "torch-fused"])
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "amsgrad", "momentum"])
def test_torch_optimizers_are_consistent(impl, optimizer):
    pytest.importorskip("torch")
    r = verify.audit(impl, optimizer, samples=8)
    assert r.verdict == "consistent", r.diagnosis.summary
    # torch derives 1 − β and the bias corrections in double (Python floats)
    if optimizer != "momentum":
        assert r.diagnosis.best_claimed.scalars == "float64"


def test_assert_matches_golden_helper(linreg):
    from verify.golden import run_golden
    from verify.runners.numpy_ import run_numpy
    from verify.spec import RunSpec

    spec = RunSpec(linreg, "adam", {"lr": "0.01"}, 5)
    golden = run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 5, quantize="float32"))
    assert_matches_golden(run_numpy(spec), golden, max_ulps=4)
    with pytest.raises(AssertionError, match="first at step 1"):
        assert_matches_golden(run_numpy(RunSpec(linreg, "adam", {"lr": "0.02"}, 5)), golden)


def test_audit_cli_writes_markdown(tmp_path, capsys):
    assert main(["audit", "--impl", "numpy", "--optimizer", "adamw", "--out", str(tmp_path),
                 "--samples", "4"]) == 0
    text = (tmp_path / "audit-numpy-adamw.md").read_text()
    assert "consistent with adamw" in text
    code = main(["audit", "--impl", "tests.fixtures.user_optimizers:adam_forgot_bias_correction",
                 "--out", str(tmp_path), "--samples", "4", "--strict"])
    assert code == 1


# What each framework computes, found by the audit on the probe battery (see the report).
FRAMEWORK_FINDINGS = [
    ("mlx", "adam", "mlx", None),
    ("mlx-default", "adam", "mlx", "adam-nobias"),       # MLX's default: no bias correction
    ("mlx-default", "adamw", "mlx", "adamw-nobias"),
    ("mlx", "momentum", "mlx", "momentum-zero"),          # MLX's buffer starts at 0
    ("optax", "adam", "optax", None),
    ("optax", "adamw", "optax", None),
    ("optax", "rmsprop", "optax", "rmsprop-epsinside"),  # optax: g/√(v + ε)
    ("optax", "amsgrad", "optax", "amsgrad-vhat"),       # optax: max over bias-corrected v̂
    ("keras", "adam", "keras", "adam-epshat"),            # Keras: ε̂ ordering
    ("keras", "adamw", "keras", "adamw-epshat"),
    ("keras", "amsgrad", "keras", "amsgrad-epshat"),
    ("keras", "rmsprop", "keras", "rmsprop-epsinside"),
    ("keras-torch", "adam", "keras", "adam-epshat"),        # the same on the torch backend
    ("keras-torch", "rmsprop", "keras", "rmsprop-epsinside"),
]


@pytest.mark.parametrize("impl,optimizer,module,expected", FRAMEWORK_FINDINGS)
def test_framework_diagnoses(impl, optimizer, module, expected):
    pytest.importorskip(module)
    r = verify.audit(impl, optimizer, samples=8)
    if expected is None:
        assert r.verdict == "consistent", r.diagnosis.summary
    else:
        assert r.verdict == "discrepant" and r.diagnosis.explanation is not None
        assert r.diagnosis.explanation.rule == expected, r.diagnosis.summary


# Low-precision audits: the framework runs with bfloat16/float16 parameters and state; the
# envelope and the ULPs are in that format. Expected verdicts are the float32 findings above
# (the rule an implementation computes does not depend on the format).
@pytest.mark.parametrize("impl,optimizer,dtype,module,expected", [
    ("torch-fused", "adam", "bfloat16", "torch", None),
    ("torch-foreach", "amsgrad", "float16", "torch", None),
    ("mlx-default", "adam", "bfloat16", "mlx", "adam-nobias"),
    ("optax", "rmsprop", "float16", "optax", "rmsprop-epsinside"),
])
def test_low_precision_audits(impl, optimizer, dtype, module, expected):
    pytest.importorskip(module)
    r = verify.audit(impl, optimizer, dtype=dtype, samples=8)
    assert r.dtype == dtype and r.trace.arithmetic["dtype"] == dtype
    if expected is None:
        assert r.verdict == "consistent", r.diagnosis.summary
    else:
        assert r.diagnosis.explanation is not None
        assert r.diagnosis.explanation.rule == expected, r.diagnosis.summary


@pytest.mark.parametrize("impl", ["keras", "tests.fixtures.user_optimizers:adam"])
def test_low_precision_where_unsupported_is_one_clear_error(impl, capsys):
    assert main(["audit", "--impl", impl, "--dtype", "float16"]) == 2
    err = capsys.readouterr().err
    assert "float16 runs are supported for" in err and err.count("\n") == 1
