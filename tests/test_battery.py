"""The battery's power: for every hyperparameter of every rule in the catalogue, a misuse of it
lands outside the claimed rule's envelope in at least one setting (verify/auditing/battery.py
says why each setting is there; this proves the settings together are enough)."""

import numpy as np
import pytest

from verify.auditing import envelope
from verify.auditing.battery import battery, rule_hyper, stream_problem
from verify.auditing.bounds import MODELS
from verify.auditing.envelope import Run, judge
from verify.auditing.forensics import Hypothesis, build
from verify.golden.arith import Float32Arith
from verify.golden.engine import run_in
from verify.golden.spec import RunSpec
from verify.rules import RULES, Slips


def H(**kw):
    wrap = tuple((k, v) for k, v in kw.items() if k in ("lr_power", "sign", "fixed"))
    slips = {k: v for k, v in kw.items() if k not in ("lr_power", "sign", "fixed")}
    return Hypothesis("misuse", str(kw), Slips(**slips) if slips else None, wrap)


# hyperparameter → its misuses (each: a slip of the claimed rule, or another catalogue rule)
MISUSES = {
    "lr": [H(lr_power=2), H(fixed={"lr": "0.001"})],
    "beta1": [H(m_beta="beta2"), H(bc1_beta="beta2"), H(bc1_shift=1), H(bc1_shift=-1),
              H(m_beta="beta2", v_beta="beta1", bc1_beta="beta2", bc2_beta="beta1"),
              H(fixed={"beta1": "0.9"})],
    "beta2": [H(v_beta="beta1"), H(bc2_beta="beta1"), H(bc2_shift=1), H(fixed={"beta2": "0.999"})],
    "eps": [H(eps_twice=True), H(fixed={"eps": "1e-8"}), "placement"],
    "eps_root": [H(fixed={"eps_root": "0"})],
    "weight_decay": ["coupling", H(decay="no-lr"), H(fixed={"weight_decay": "0"})],
    "momentum": [H(fixed={"momentum": "0.9"}), "buffer"],
    "dampening": [H(gain="d"), H(gain="1")],
    "alpha": [H(swap_decay=True), H(fixed={"alpha": "0.99"})],
}
# a misuse that is another rule of the catalogue: ε placed elsewhere, decay coupled the other way
OTHER = {
    "placement": {"adam": "adam-epshat", "adam-nobias": "adam-epsroot", "adam-epshat": "adam",
                  "adam-epsroot": "adam", "adamw": "adamw-epshat", "adamw-nobias": "adamw",
                  "adamw-epshat": "adamw", "amsgrad-epshat": "amsgrad", "adam-l2": "adam-epsroot",
                  "amsgrad": "amsgrad-epshat", "amsgrad-vhat": "amsgrad", "amsgrad-nobias": "amsgrad",
                  "rmsprop": "rmsprop-epsinside", "rmsprop-epsinside": "rmsprop"},
    "coupling": {"adamw": "adam-l2", "adamw-nobias": "adam-l2", "adamw-epshat": "adam-l2",
                 "adam-l2": "adamw"},
    "buffer": {"momentum": "momentum-zero", "momentum-zero": "momentum", "nesterov": "nesterov-zero",
               "nesterov-zero": "nesterov", "gd": "momentum"},
}


def _applies(rule: str, h) -> bool:
    r = RULES[rule]
    if isinstance(h, str):
        return rule in OTHER[h]
    s = h.slips
    if s and r.family not in ("adam", "rmsprop", "momentum"):
        return False  # a rule without term options (AdaMax): only wrapped misuses apply
    if s and (s.bc1_shift or s.bc2_shift or s.bc1_beta != "beta1" or s.bc2_beta != "beta2"):
        return r.variant.get("bias_correction", True) is not False
    if s and s.decay:
        return r.variant.get("decay") == "decoupled"
    if s and s.gain in ("d", "1"):
        return "dampening" in r.defaults and rule != "gd"
    if s and s.swap_decay:
        return "alpha" in r.defaults
    if s and s.eps_twice:
        return r.defaults.get("eps") != "0"  # adam-epsroot's outer ε is 0: its ε is eps_root
    return True


def _tested(rule, spec: RunSpec) -> envelope.Tested:
    """The misused rule run in float32 (every operation rounded), as the envelope reads it:
    parameters only, no state exposed — the hardest case for the battery."""
    recs = run_in(spec, Float32Arith("float32"), spec.full_hyper(), measure=False, rule=rule)
    params = np.array([[float(x) for x in r.record.params] for r in recs], dtype=np.float64)
    grads = np.array([[float(x) for x in r.record.grad] for r in recs[1:]], dtype=np.float64)
    return envelope.Tested(params, grads, {}, len(recs) - 1, "float32")


CASES = [(rule, name, i) for rule in RULES for name in RULES[rule].defaults
         for i, h in enumerate(MISUSES.get(name, [])) if _applies(rule, h)]


def test_every_hyperparameter_of_every_rule_has_a_misuse():
    covered = {(rule, name) for rule, name, _ in CASES}
    wanted = {(rule, name) for rule in RULES for name in RULES[rule].defaults if rule != "gd"
              or name == "lr"}
    assert wanted <= covered, wanted - covered


@pytest.mark.parametrize("rule,name,index", CASES)
def test_a_misuse_lands_outside_in_some_setting(rule, name, index):
    h = MISUSES[name][index]
    wrong = RULES[OTHER[h][rule]] if isinstance(h, str) else build(rule, h)
    for s in sorted(battery(rule), key=lambda s: s.steps):  # short settings first
        spec = RunSpec(stream_problem(s.stream), rule, rule_hyper(rule, s.hyper), s.steps)
        wrong_hyper = rule_hyper(wrong.name, s.hyper) if isinstance(h, str) else spec.full_hyper()
        run_spec = RunSpec(spec.problem, wrong.name if isinstance(h, str) else rule, wrong_hyper,
                           s.steps)
        tested = _tested(wrong, run_spec)
        res = judge(RULES[rule], [Run(spec.full_hyper(), tested)], MODELS, early=True)[0]
        if not any(j.fits for j in res):
            return  # outside under every scalar model: caught by this setting
    pytest.fail(f"{rule}: misuse of {name} ({h if isinstance(h, str) else h.says}) passes "
                "every setting")
