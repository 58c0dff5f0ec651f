"""Third-party Adams (optional extras; each test skips when its package is not installed):
TensorFlow's kernels, torchao's low-bit AdamW, heavyball, DeepSpeed's CPU Adam. What each
computes is asserted, with the independent source of the expectation named."""

import os
import subprocess
import sys

import numpy as np
import pytest

import verify
from verify.auditing.battery import rule_hyper
from verify.auditing.run import replayed_gradients, run_impl
from verify.golden.spec import RunSpec
from verify.runners import tensorflow_ as tf_
from verify.symbolic.problems import find_problem

# the audit battery's probe setting (lr larger in the narrow formats)
PROBE = {"lr": "0.01", "beta1": "0.9", "beta2": "0.9", "eps": "0.1", "weight_decay": "0.1"}
LR = {"float32": "0.01", "float16": "0.1", "bfloat16": "0.5"}


def probe(optimizer: str, dtype: str = "float32", **hyper: str) -> RunSpec:
    return RunSpec(find_problem("probe"), optimizer,
                   rule_hyper(optimizer, PROBE | {"lr": LR[dtype]} | hyper), 12)


def floats(texts) -> np.ndarray:
    return np.array([float(x) for x in texts])


# --- TensorFlow -------------------------------------------------------------------------------

TF_V1 = "tensorflow.compat.v1.train:AdamOptimizer"


def test_tf_v1_adam_computes_the_epshat_variant():
    pytest.importorskip("tensorflow")
    # TF's AdamOptimizer docstring: lr_t = lr·√(1 − β2ᵗ)/(1 − β1ᵗ), θ −= lr_t·m/(√v + ε̂):
    # Kingma & Ba's "ε̂" reformulation (Section 2), our adam-epshat
    r = verify.audit(TF_V1, "adam")
    assert r.verdict == "discrepant"
    assert r.computes == "adam-epshat", r.summary
    a = r.trace.arithmetic
    assert a["state_mapped"] == {"m": "m", "v": "v"}  # its slots, read with get_slot
    assert a["state_other"] == ["beta1_power", "beta2_power"]


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_raw_resource_apply_adam_is_the_v1_kernel(dtype):
    pytest.importorskip("tensorflow")

    spec = probe("adam", dtype)
    v1 = run_impl(TF_V1, spec, dtype)
    raw = raw_apply_adam(spec, dtype)  # β powers as float32 running products, like v1 keeps them
    for a, b in zip(v1.steps, raw.steps):
        assert (a.params, a.grad, a.state) == (b.params, b.grad, b.state)


def test_tf_v1_in_bfloat16_loses_step_one_with_default_beta2():
    pytest.importorskip("tensorflow")
    # bfloat16 has 8 significand bits: 0.999 rounds to 1, so at t = 1 the kernel's
    # √(1 − β2ᵗ) (β2ᵗ cast to bfloat16) is 0 and lr_t = 0; float32 keeps the β power itself,
    # so from t = 2 on it is below 1 again. torch derives 1 − β2ᵗ in double and moves.
    spec = probe("adam", "bfloat16", beta2="0.999")
    tf_run = run_impl(TF_V1, spec, "bfloat16")
    assert tf_run.steps[1].params == tf_run.steps[0].params
    assert tf_run.steps[2].params != tf_run.steps[1].params
    pytest.importorskip("torch")
    torch_run = run_impl("torch.optim:Adam", spec, "bfloat16")
    assert torch_run.steps[1].params != torch_run.steps[0].params


def test_keras_on_the_tensorflow_backend():
    pytest.importorskip("tensorflow")
    code = ("import verify; r = verify.audit('keras.optimizers:Adam', 'adam', quick=True); "
            "print(r.trace.arithmetic['versions']['backend'], r.computes)")
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    # Keras 3's Adam docstring gives the same ε̂ form as TF1 (α_t = α·√(1 − β2ᵗ)/(1 − β1ᵗ))
    assert out.stdout.split()[-2:] == ["tensorflow", "adam-epshat"]


# --- torchao ----------------------------------------------------------------------------------


def test_torchao_low_bit_is_plain_adamw_below_4096_elements():
    pytest.importorskip("torchao")
    # torchao's _AdamBase._new_buffer quantizes only tensors of ≥ 4096 elements: the probe's
    # 2 parameters keep float32 state, and the audit finds AdamW
    r = verify.audit("torchao.optim:AdamW8bit", "adamw")
    assert r.verdict == "consistent", r.summary
    assert r.trace.arithmetic["state_mapped"] == {"exp_avg": "m", "exp_avg_sq": "v"}


def test_torchao_8bit_state_error_is_measured_against_the_golden():
    pytest.importorskip("torchao")
    from verify.runners.lowbit import measure_lowbit

    q = measure_lowbit("torchao.optim:AdamW8bit", size=4096, steps=8, sample=32, decades=0)
    assert q.quantized == {"exp_avg": "OptimState8bit", "exp_avg_sq": "OptimState8bit"}
    assert q.block_size == 256
    # 8 bits per value against the block's absmax: errors of order 2⁻⁸…2⁻⁵ of the block scale
    # (measured here: m ≈ 0.03, v ≈ 0.016 at most); a float32 state is ~10⁻⁷ (the control)
    for k in ("m", "v"):
        assert 1e-3 < q.state_error[k][0] < 0.1, (k, q.state_error)
    control = measure_lowbit("torch.optim:AdamW", size=4096, steps=8, sample=32, decades=0)
    assert control.quantized == {"exp_avg": "Tensor", "exp_avg_sq": "Tensor"}
    assert max(e for e, _ in control.state_error.values()) < 1e-6
    assert control.params_error_lr < 1e-2 < q.params_error_lr
    assert q.certified_digits >= 40


# --- heavyball --------------------------------------------------------------------------------


def test_heavyball_adamw_floors_the_denominator_at_eps():
    pytest.importorskip("heavyball")
    spec = probe("adam")  # weight decay 0 (heavyball's default): the update alone
    r = verify.audit("heavyball:AdamW", "adam", quick=True)
    assert r.verdict == "discrepant" and r.computes == "unexplained", r.summary
    # heavyball/utils.py: the EMAs use debiased betas β̂ₜ = 1 − (1 − β)/(1 − βᵗ), so its state
    # holds m̂ and v̂, and eps_sqrt(v̂) = max(√v̂, ε): θ −= α·m̂/max(√v̂, ε). That model in float64
    # on the run's own gradients reproduces it to float32 accuracy; Adam's √v̂ + ε does not.
    h = {k: float(v) for k, v in spec.full_hyper().items()}
    x = floats(r.trace.steps[0].params)
    m = v = np.zeros_like(x)
    for s, g in zip(r.trace.steps[1:], replayed_gradients(r.trace)):
        g = np.array([float(a) for a in g])
        m = h["beta1"] * m + (1 - h["beta1"]) * g
        v = h["beta2"] * v + (1 - h["beta2"]) * g * g
        m_hat, v_hat = m / (1 - h["beta1"] ** s.t), v / (1 - h["beta2"] ** s.t)
        got = floats(s.params)
        adam = x - h["lr"] * m_hat / (np.sqrt(v_hat) + h["eps"])
        x = x - h["lr"] * m_hat / np.maximum(np.sqrt(v_hat), h["eps"])
        assert np.allclose(got, x, rtol=1e-6, atol=0), s.t
        assert not np.allclose(got, adam, rtol=1e-4, atol=0), s.t
        assert np.allclose(floats(s.state["m"]), m_hat, rtol=1e-6)  # debiased, not m


# --- DeepSpeed --------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_deepspeed_cpu_adam_is_consistent(optimizer):
    pytest.importorskip("deepspeed")
    # DeepSpeedCPUAdam defaults to adamw_mode=True; with weight decay 0 (rule adam) that is Adam.
    # Its first use compiles the cpu_adam C++ op (about 5 minutes here, then cached).
    r = verify.audit("deepspeed.ops.adam:DeepSpeedCPUAdam", optimizer)
    assert r.verdict == "consistent", r.summary
    assert set(r.trace.steps[-1].state) == {"m", "v"}


# --- the report -------------------------------------------------------------------------------


def test_third_party_report_renders_rows_and_missing_packages():
    from verify.auditing.thirdparty import PACKAGES, Row, ThirdPartyReport
    from verify.report.thirdparty import render_third_party

    row = Row("heavyball:AdamW", "adamw", "float32", "torch 2.13, heavyball 3.2.1", "discrepant",
              "discrepant with adamw; unexplained by the catalogue", "max 1.02e+05 operand ULP")
    text = render_third_party(ThirdPartyReport((row,), (), PACKAGES, ("tensorflow", "deepspeed")))
    assert ("| torch 2.13, heavyball 3.2.1 | `heavyball:AdamW` | adamw | float32 | discrepant | "
            "max 1.02e+05 operand ULP | discrepant with adamw; unexplained by the catalogue |") in text
    assert ("Not installed when this file was regenerated: tensorflow (`pip install "
            "tensorflow-cpu`), deepspeed") in text
    assert "rows above are kept" not in text  # nothing kept, nothing said of it
    assert "Quantized state" not in text  # no torchao measurement, no section
    # a row kept from the committed file lands with its package, after the fresh rows
    kept = (("tensorflow", "| tensorflow 2.21.0 (kept since 2026-12-07) | `tensorflow.compat.v1"
                           ".train:AdamOptimizer` | adam | float32 | discrepant | x | y |"),)
    text = render_third_party(ThirdPartyReport((row,), (), PACKAGES, ("tensorflow",)), kept)
    assert text.index("kept since 2026-12-07") < text.index("`heavyball:AdamW`")
    assert "Their rows above are kept from the last run that had them" in text


def test_kept_rows_are_marked_once_with_the_date_they_were_first_kept():
    import datetime

    from verify.cli.check import kept_rows

    committed = ("| versions | optimizer object | audited as |\n|---|---|---|\n"
                 "| tensorflow 2.21.0 | `tensorflow.compat.v1.train:AdamOptimizer` | adam |\n"
                 "| deepspeed 0.19.8 (kept since 2026-11-30) | `deepspeed.ops.adam:X` | adamw |\n"
                 "| heavyball 3.2.1 | `heavyball:AdamW` | adamw |\n")
    kept = kept_rows(committed, ("tensorflow", "deepspeed"))
    today = datetime.date.today().isoformat()
    assert kept == (("tensorflow", f"| tensorflow 2.21.0 (kept since {today}) | "
                                   "`tensorflow.compat.v1.train:AdamOptimizer` | adam |"),
                    ("deepspeed", "| deepspeed 0.19.8 (kept since 2026-11-30) | "
                                  "`deepspeed.ops.adam:X` | adamw |"))


def test_third_party_cli_refuses_an_unwritable_out_before_work(tmp_path, capsys):
    from verify.cli.main import main

    (tmp_path / "a_file").write_text("")
    assert main(["third-party", "--out", str(tmp_path / "a_file" / "x.md")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a_file" in err
    assert not (tmp_path / "x.md").exists()


def raw_apply_adam(spec: RunSpec, dtype: str = "float32"):
    """``tf.raw_ops.ResourceApplyAdam`` on ``spec`` (rule ``adam`` or its ε̂ variant; the kernel
    is one): lr, β1, β2, ε as float32 scalars, β powers as float32 running products."""
    tf = tf_._tf()
    if spec.rule.name not in ("adam", "adam-epshat"):
        raise ValueError(f"ResourceApplyAdam computes Adam; it has no {spec.rule.name!r}")
    f = {k: float(v) for k, v in spec.full_hyper().items()}
    tdt = getattr(tf, dtype)
    n = len(spec.problem.params)
    m = tf.Variable(tf.zeros([n], tdt))
    v = tf.Variable(tf.zeros([n], tdt))
    powers = {"b1": tf.constant(1.0, tf.float32), "b2": tf.constant(1.0, tf.float32)}

    def scalar(x):
        return tf.cast(tf.constant(x, tf.float32), tdt)

    def apply(g, var, t):
        powers["b1"] = powers["b1"] * tf.constant(f["beta1"], tf.float32)
        powers["b2"] = powers["b2"] * tf.constant(f["beta2"], tf.float32)
        tf.raw_ops.ResourceApplyAdam(
            var=var.handle, m=m.handle, v=v.handle, beta1_power=tf.cast(powers["b1"], tdt),
            beta2_power=tf.cast(powers["b2"], tdt), lr=scalar(f["lr"]), beta1=scalar(f["beta1"]),
            beta2=scalar(f["beta2"]), epsilon=scalar(f["eps"]), grad=g)
        return {"m": tf_._host(m), "v": tf_._host(v)}

    return tf_._drive(spec, "tf.raw_ops.ResourceApplyAdam", dtype, apply, {}, {})
