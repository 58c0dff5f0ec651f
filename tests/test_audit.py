"""Audits of real implementations: what each framework computes over the battery, users' own
code (including code that misbehaves), and every way an audit used to pass silently."""

import functools
import math

import numpy as np
import pytest

import verify
from verify.auditing import run as audit_run
from verify.cli.main import main
from verify.errors import InputError
from verify.testing import assert_matches_golden

U = "tests.fixtures.user_optimizers"

# What each framework computes over the battery (the report's framework table). Expected values
# come from the frameworks' own sources: torch.optim computes Adam's scalars in double; MLX's
# default Adam has bias_correction=False and its SGD buffer starts at 0; optax's rmsprop puts ε
# inside the root and its amsgrad takes the max over bias-corrected v̂; Keras uses the paper's
# ε̂ ordering (α_t = α√(1−β2ᵗ)/(1−β1ᵗ)) and ε inside RMSprop's root.
FRAMEWORKS = [
    ("torch", "adam", "torch", None, "hyperparameters in double"),
    ("torch-foreach", "adamw", "torch", None, "hyperparameters in double"),
    ("torch-fused", "amsgrad", "torch", None, "hyperparameters in double"),
    ("torch", "momentum", "torch", None, None),
    ("mlx", "adam", "mlx", None, "1 − βᵗ as a float32 power"),
    ("mlx-default", "adam", "mlx", "adam-nobias", None),
    ("mlx", "momentum", "mlx", "momentum-zero", None),
    ("optax", "adam", "optax", None, "1 − βᵗ as a float32 power"),
    ("optax", "amsgrad", "optax", "amsgrad-vhat", None),
    ("optax", "rmsprop", "optax", "rmsprop-epsinside", None),
    ("keras", "adam", "keras", "adam-epshat", None),
    ("keras", "rmsprop", "keras", "rmsprop-epsinside", None),
    ("keras-torch", "adam", "keras", "adam-epshat", None),
]


@functools.cache
def full_audit(impl: str, optimizer: str):
    """``verify.audit(impl, optimizer, golden=False)``, once per process: the audit is
    deterministic, and two tests below read optax's Adam (a full audit of a framework is slow)."""
    return verify.audit(impl, optimizer, golden=False)


@pytest.mark.parametrize("impl,optimizer,module,computes,model", FRAMEWORKS)
def test_what_each_framework_computes(impl, optimizer, module, computes, model):
    pytest.importorskip(module)
    r = full_audit(impl, optimizer)
    if computes is None:
        assert r.verdict == "consistent", r.summary
        if model:
            assert model in r.summary
    else:
        assert r.verdict == "discrepant" and r.computes == computes, r.summary


def test_a_naive_bias_correction_is_a_finding_not_a_silent_pass():
    """optax computes 1 − βᵗ as a float32 power: consistent only with the naive model, and
    the audit says so (the NumPy runner's own test calls it a precision defect)."""
    pytest.importorskip("optax")
    r = full_audit("optax", "adam")
    assert r.verdict == "consistent" and r.model.powers == "naive"
    assert any("precision defect" in f for f in r.findings)


@pytest.mark.parametrize("name,phrase", [
    ("adam_swapped_betas", "β1 and β2 are swapped"),
    ("adam_bc1_uses_beta2", "bias correction of m uses β2 instead of β1"),
    ("adam_bc2_uses_beta1", "bias correction of v uses β1 instead of β2"),
])
@pytest.mark.parametrize("problem", [None, "linear_regression"])
def test_the_three_beta_bugs_are_discrepant_and_named(name, phrase, problem):
    """The one-probe audit called all three "consistent with adam, 2 ULP" (β1 = β2 = 0.9)."""
    r = verify.audit(f"tests.mutants.adam_family:{name}", "adam", problem, golden=False)
    assert r.verdict == "discrepant"
    assert any(phrase in t.finding for t in r.diagnosis.terms), r.summary


def test_quick_keeps_the_probe_and_says_so():
    r = verify.audit("tests.mutants.adam_family:adam_swapped_betas", "adam", quick=True,
                     golden=False)
    # with β1 = β2 = 0.9 a swap changes nothing: the single probe cannot see it
    assert r.verdict == "consistent" and "quick: the probe setting only" in r.summary
    assert [s.setting.name for s in r.settings] == ["probe"]


@pytest.mark.parametrize("impl,why", [
    (f"{U}:broken", "raised RuntimeError at step 1: boom"),
    (f"{U}:wrong_shape", "step 1 returned shape (3,), expected (2,)"),
    (f"{U}:float64_params", "step 1 returned float64 params, expected float32"),
    (f"{U}:returns_list", "step 1 returned params as list"),
    (f"{U}:returns_params_only", "step 1 returned ndarray, expected a (params, state) tuple"),
    (f"{U}:state_not_dict", "step 1 returned state as list, expected a dict"),
    (f"{U}:never_returns", "did not return within"),
])
def test_misbehaving_code_is_not_audited_with_the_reason(impl, why, monkeypatch, capsys):
    # the per-step limit is run_user's default argument, bound from STEP_SECONDS when the module
    # was loaded: patching the constant alone left it at 5 s (10 s of a busy loop per run)
    monkeypatch.setattr("verify.runners.user.STEP_SECONDS", 0.5)
    monkeypatch.setattr("verify.runners.user.run_user.__defaults__", (0.5,))
    r = verify.audit(impl, "adam", quick=True, golden=False)
    assert r.verdict == "not audited" and why in r.reason
    assert r.first_line().split(": ", 1)[1].startswith("not audited: ")
    assert main(["audit", "--impl", impl, "--quick", "--out", "/tmp/adam-verify-test"]) == 0
    out = capsys.readouterr().out.splitlines()[0]
    assert "not audited" in out and "None" not in out


def test_nan_is_a_finding_and_never_prints_none():
    r = verify.audit(f"{U}:adam_nan_tail", "adam", quick=True)
    assert r.verdict == "discrepant"
    assert r.settings[0].first_exit.t == 3 and math.isnan(r.settings[0].first_exit.tested)
    assert r.max_ulps is None and "non-finite at step 3 in setting probe" in r.first_line()
    assert "None" not in r.first_line()


def test_unmapped_state_is_not_audited_and_private_state_is_said():
    r = verify.audit(f"{U}:adam_torch_names", "adam", quick=True, golden=False)
    assert r.verdict == "not audited" and "exp_avg" in r.reason
    r = verify.audit("tests.mutants.adam_family:adam_one_expression", "adam", quick=True,
                     golden=False)
    assert r.verdict == "consistent"
    assert any("rests on the parameters alone" in f for f in r.findings)


def test_writing_into_the_gradient_is_noted():
    r = verify.audit(f"{U}:adam_scribbles_on_grad", "adam", quick=True, golden=False)
    assert r.verdict == "consistent" and any("grad argument" in f for f in r.findings)


def test_a_trace_cut_short_is_discrepant(monkeypatch):
    """The old audit compared only the steps the tested trace had: a run that stopped after
    step 0 was "consistent"."""
    real = audit_run.run_many

    def short(impl, specs, dtype="float32", options=None):
        out = real(impl, specs, dtype, options)
        return [t.__class__(t.problem, t.optimizer, t.arithmetic, t.steps[:2], t.status)
                for t in out]

    monkeypatch.setattr(audit_run, "run_many", short)
    r = verify.audit("numpy", "adam", quick=True, golden=False)
    assert r.verdict == "discrepant" and "the trace ends at step 1 of 12" in r.settings[0].note


def test_keras_state_is_recorded():
    pytest.importorskip("keras")
    from verify.auditing.run import run_impl
    from verify.golden.spec import RunSpec
    from verify.symbolic.problems import find_problem

    trace = run_impl("keras", RunSpec(find_problem("probe"), "amsgrad", {}, 3))
    assert set(trace.steps[1].state) == {"m", "v", "v_max"}
    assert trace.arithmetic["unmapped_state"] == []


def test_narrow_formats_say_how_wide_the_arithmetic_is():
    pytest.importorskip("torch")
    wide = verify.audit("torch-fused", "adam", dtype="bfloat16", golden=False)
    assert wide.verdict == "consistent"
    assert any(f.startswith("float32 (or wider) arithmetic, rounded to bfloat16") for f in
               wide.findings)
    narrow = verify.audit("numpy", "adam", dtype="bfloat16", golden=False)
    # the reference runner holds β2 = 0.999 in bfloat16, where it is 1: 1 − β2ᵗ = 0, NaN
    assert narrow.verdict == "discrepant"
    assert any("rounds to 1" in t.finding for t in narrow.diagnosis.terms)
    assert any(f.startswith("arithmetic in bfloat16") for f in narrow.findings)
    paper = next(s for s in narrow.settings if s.setting.name == "paper")
    assert any("β2 = 0.999 is 1 in bfloat16" in f for f in paper.findings)


def test_a_format_that_cannot_move_theta_says_so():
    pytest.importorskip("torch")
    r = verify.audit("torch", "adam", dtype="bfloat16", golden=False)
    long = next(s for s in r.settings if s.setting.name == "long")
    assert any("cannot move θ" in f for f in long.findings)


def test_low_precision_keras_joins():
    pytest.importorskip("keras")
    r = verify.audit("keras", "adam", dtype="float16", golden=False)
    assert r.dtype == "float16" and r.computes == "adam-epshat", r.summary
    tiny = next(s for s in r.settings if s.setting.name == "tiny gradients")
    assert any("underflows to 0 in float16" in f for f in tiny.findings)


def test_user_code_in_a_narrow_format_is_one_clear_error(capsys):
    assert main(["audit", "--impl", f"{U}:adam", "--dtype", "float16"]) == 2
    err = capsys.readouterr().err
    assert "float16 runs are supported for" in err and err.count("\n") == 1


def test_unknown_impl():
    with pytest.raises(InputError, match="unknown implementation"):
        verify.audit("tensorflow-1.0")


def test_assert_matches_golden_helper(linreg):
    from verify.golden.run import run_golden
    from verify.golden.spec import RunSpec
    from verify.runners.numpy_ import run_numpy

    spec = RunSpec(linreg, "adam", {"lr": "0.01"}, 5)
    golden = run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 5, quantize="float32"))
    assert_matches_golden(run_numpy(spec), golden, max_ulps=4)
    with pytest.raises(AssertionError, match="first at step 1"):
        assert_matches_golden(run_numpy(RunSpec(linreg, "adam", {"lr": "0.02"}, 5)), golden)


def test_audit_cli_writes_markdown_with_a_row_per_setting(tmp_path, capsys):
    assert main(["audit", "--impl", f"{U}:adam", "--out", str(tmp_path)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{U}:adam adam (float32, —): consistent with adam")
    text = (tmp_path / f"audit-{U.replace('.', '.')}_adam-adam.md".replace(":", "_")).read_text()
    for name in ("probe", "paper", "inverted", "large step", "tiny gradients", "huge gradients",
                 "zeros", "eps 0", "long"):
        assert f"| {name} (" in text
    code = main(["audit", "--impl", f"{U}:adam_forgot_bias_correction", "--out", str(tmp_path),
                 "--strict"])
    assert code == 1


def test_large_audit_refuses_dtype_and_problem(capsys):
    assert main(["audit", "--impl", "numpy", "--size", "10", "--dtype", "float16"]) == 2
    assert "drop --dtype/--problem" in capsys.readouterr().err


def test_first_line_keeps_its_form():
    r = verify.audit(f"{U}:adam_forgot_bias_correction", "adam", golden=False)
    assert r.first_line().startswith(f"{U}:adam_forgot_bias_correction adam (float32, —): "
                                     "discrepant with adam")
    assert "; computes adam-nobias (" in r.first_line()
    assert np.isfinite(r.settings[0].judgement.worst_ulps)
