"""The envelope judges steps 2… in vectorized blocks where every state is exposed. A block is a
speed-up only: every judgement (first exits, distances, frozen and unjudged steps, overflow,
tallies) must be the step-by-step one, bit for bit. Expected values: the step-by-step engine
(``envelope.BLOCKS = False``), itself tested in test_envelope.py and test_battery.py."""

import numpy as np
import pytest

from verify.arith import FORMATS
from verify.auditing import envelope
from verify.auditing.bounds import MODELS, BoundArith, StepIndex
from verify.auditing.envelope import Run, judge
from verify.auditing.run import audit
from verify.problems import find_problem
from verify.rules import RULES, slipped
from verify.runners.numpy_ import run_numpy
from verify.spec import RunSpec


def _both(fn, monkeypatch):
    """fn() step by step and in blocks; also how many blocks were judged."""
    calls = []
    original = envelope.Stream.block

    def counted(self, *a, **k):
        out = original(self, *a, **k)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(envelope.Stream, "block", counted)
    monkeypatch.setattr(envelope, "BLOCKS", False)
    stepwise = repr(fn())
    assert not calls
    monkeypatch.setattr(envelope, "BLOCKS", True)
    blocked = repr(fn())
    return stepwise, blocked, calls


@pytest.mark.parametrize("impl,optimizer,dtype", [
    ("numpy", "adam", "float32"), ("numpy", "adamw", "float32"), ("numpy", "amsgrad", "float32"),
    ("numpy", "rmsprop", "float32"), ("numpy", "momentum", "bfloat16"),
    ("numpy", "rmsprop", "float16"),  # discrepant: the reference runner computes in float16
    ("tests.mutants.adam_family:adam_swapped_betas", "adam", "float32"),  # diagnosis, forensics
])
def test_audit_is_the_same_in_blocks(impl, optimizer, dtype, monkeypatch):
    stepwise, blocked, calls = _both(lambda: audit(impl, optimizer, dtype=dtype, golden=False),
                                     monkeypatch)
    assert blocked == stepwise
    assert sum(calls) >= 3  # the battery's settings were judged in blocks


def _numpy_run(spec, dtype="float32"):
    t = run_numpy(spec, dtype=dtype)
    return Run(spec.full_hyper(), envelope.tested_arrays(t), spec.schedule,
               tuple((str(a), str(b)) for a, b in spec.problem.domain) or None)


@pytest.mark.parametrize("early", [None, "rows", "models"])
def test_schedule_box_and_slips_are_the_same_in_blocks(early, monkeypatch):
    """An inverse-sqrt schedule (t in the step size), a box domain (clipping), a rule whose
    state is reset every 5th step (t % 5: not expressible on a block, so step by step), and
    wrong rules that leave the envelope at once and late (the early stops)."""
    schedule = RunSpec(find_problem("rosenbrock"), "adam", {"lr": "0.01"}, 40, schedule="inv-sqrt")
    box = RunSpec(find_problem("reddi_online"), "adam", {"lr": "0.1"}, 30)
    runs = [_numpy_run(schedule), _numpy_run(box)]
    rules = [RULES["adam"], RULES["amsgrad"], RULES["adam-nobias"] if "adam-nobias" in RULES
             else RULES["adam"], slipped(RULES["adam"], "reset", reset_every=5),
             slipped(RULES["adam"], "lr2", lr_power=2)]
    for rule in rules:
        for run in runs:
            stepwise, blocked, _ = _both(lambda r=rule, x=run: judge(r, [x], MODELS, early=early),
                                         monkeypatch)
            assert blocked == stepwise, rule.name


def _near_overflow(run):
    """float16 with v at 65500 (the largest float16 is 65504): v̂ = v/(1 − β2ᵗ) may overflow."""
    state = {k: v.copy() for k, v in run.tested.state.items()}
    state["v"][:] = 65500.0
    return Run(run.hyper, envelope.Tested(run.tested.params, np.full_like(run.tested.grads, 255.9),
                                          state, run.tested.steps, "float16"))


def test_nan_and_overflow_are_the_same_in_blocks(monkeypatch):
    """A trace that turns NaN part-way and a float16 run whose exact values overflow: the
    first exit, the undefined step and the overflow flag come out as step by step."""
    spec = RunSpec(find_problem("rosenbrock"), "adam", {"lr": "0.01"}, 20)
    run = _numpy_run(spec)
    params = run.tested.params.copy()
    params[7:, 1] = np.nan
    nan_run = Run(run.hyper, envelope.Tested(params, run.tested.grads, run.tested.state,
                                             run.tested.steps, "float32"))
    huge = _near_overflow(run)
    # ε = 0, the state reset to 0 after step 4 and a zero gradient at step 5: the rule is 0/0 at
    # step 5 of one row only (a row becoming undefined inside a block), the other row goes on
    state = {k: v.copy() for k, v in run.tested.state.items()}
    for v in state.values():
        v[4] = 0.0
    grads = run.tested.grads.copy()
    grads[4] = 0.0
    undefined = Run(dict(run.hyper, eps="0"), envelope.Tested(
        run.tested.params, grads, state, run.tested.steps, "float32"))
    plain = Run(dict(run.hyper, eps="0"), run.tested)
    params = run.tested.params.copy()
    params[5:, 0] += 1e-3  # off from step 5 on, then in again: per-step bookkeeping after it
    off = Run(run.hyper, envelope.Tested(params, run.tested.grads, run.tested.state,
                                         run.tested.steps, "float32"))
    cases = [[nan_run], [huge], [undefined, plain], [plain, undefined, nan_run], [off, run]]
    for rs in cases:
        for early in (None, "rows", "models"):
            stepwise, blocked, calls = _both(lambda x=rs, e=early: judge(RULES["adam"], x, MODELS,
                                                                        early=e), monkeypatch)
            assert blocked == stepwise
            assert any(calls) or early  # an early stop may come at step 1, before any block
    judged = judge(RULES["adam"], [undefined, plain], MODELS[:1])
    assert judged[0][0].undefined_at == 5 and judged[1][0].undefined_at is None


def test_step_index_supports_only_what_rules_do():
    t = StepIndex(np.arange(2, 6))
    assert (t + 1).values.tolist() == [3, 4, 5, 6] and (t == 1) is False
    assert (StepIndex(np.array([3, 3])) == 3) is True
    with pytest.raises(ValueError):
        _ = (t % 2 == 0)  # differs between the steps of the block
    for bad in (lambda: bool(t), lambda: t * 2, lambda: t + 0.5, lambda: np.exp(t)):
        with pytest.raises(TypeError):
            bad()


def test_one_minus_pow_on_a_block_is_each_step_bit_for_bit():
    """1 − βᵗ of a block is computed step by step (the same shapes and operations), so the
    transcendental functions give the same bits as the step-by-step engine."""
    ar = BoundArith(FORMATS["float32"], list(MODELS))
    beta = ar.hyper([__import__("fractions").Fraction(999, 1000)] * len(MODELS))
    block = ar.one_minus_pow(beta, StepIndex(np.arange(1, 200)))
    for i, t in enumerate(range(1, 200)):
        one = ar.one_minus_pow(beta, t)
        assert np.array_equal(block.v[i], np.broadcast_to(one.v, block.v[i].shape))
        assert np.array_equal(block.e[i], np.broadcast_to(one.e, block.e[i].shape))


def test_the_cases_above_reach_the_block_paths():
    """The fixtures of the NaN/overflow test do what they are for: possible overflows recorded
    as unjudged steps inside a block (t ≥ 2), exits found inside a block."""
    spec = RunSpec(find_problem("rosenbrock"), "adam", {"lr": "0.01"}, 20)
    run = _numpy_run(spec)
    huge = _near_overflow(run)
    j = judge(RULES["adam"], [huge], MODELS[:1])[0][0]
    assert [t for t, _ in j.unjudged if t >= 2]
    params = run.tested.params.copy()
    params[5:, 0] += 1e-3  # off from step 5 on
    off = Run(run.hyper, envelope.Tested(params, run.tested.grads, run.tested.state,
                                         run.tested.steps, "float32"))
    wrong = judge(RULES["adam"], [off], MODELS[1:2])[0][0]  # NumPy holds β in float32
    assert (wrong.first_exit.t, wrong.first_exit.quantity, wrong.first_exit.index) == (5, "params", 0)
