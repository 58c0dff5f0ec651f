"""The envelope judges steps 2… in vectorized blocks where every state is exposed. A block is a
speed-up only: every judgement (first exits, distances, frozen and unjudged steps, overflow,
tallies) must be the step-by-step one, bit for bit. Expected values: the step-by-step engine
(``envelope.BLOCKS = False``), itself tested in test_envelope.py and test_battery.py."""

import numpy as np
import pytest

from verify.auditing import envelope
from verify.auditing.bounds import MODELS, BoundArith, StepIndex
from verify.auditing.envelope import Run, judge
from verify.auditing.run import audit
from verify.golden.arith import FORMATS
from verify.golden.spec import RunSpec
from verify.rules import RULES, slipped
from verify.runners.numpy_ import run_numpy
from verify.symbolic.problems import find_problem


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


def test_exits_are_listed_in_the_order_step_by_step_meets_them(monkeypatch):
    """m pushed off at step 5 leaves there; θ, computed from the tested m, leaves at step 6:
    the exits read m, then params, in a block as step by step (found by an independent review:
    a block once listed them by quantity)."""
    spec = RunSpec(find_problem("rosenbrock"), "adam", {"lr": "0.01"}, 10)
    t = envelope.tested_arrays(run_numpy(spec))
    state = {k: v.copy() for k, v in t.state.items()}
    state["m"][5, 0] *= 2.0
    run = Run(spec.full_hyper(), envelope.Tested(t.params, t.grads, state, t.steps, "float32"))
    stepwise, blocked, calls = _both(lambda: judge(RULES["adam"], [run], MODELS[1:2]),
                                     monkeypatch)
    assert blocked == stepwise and any(calls)
    assert [q for q, _ in judge(RULES["adam"], [run], MODELS[1:2])[0][0].exits] == ["m", "params"]


# --- a seeded fuzz: random rules, slips, formats, batches, perturbations, block sizes ----------

FAMILIES = {("m", "v"): ["adam", "adam-nobias", "adam-epshat", "adam-epsroot", "adamw", "adam-l2"],
            ("m", "v", "v_max"): ["amsgrad", "amsgrad-vhat", "amsgrad-nobias"],
            ("buf",): ["momentum", "momentum-zero", "nesterov"],
            ("v",): ["rmsprop", "rmsprop-epsinside"], ("m", "u"): ["adamax"], (): ["gd"]}
PROBLEMS = ["beale", "double_well", "linear_regression", "quartic", "reddi_online", "rosenbrock"]


def _fuzz_case(rng):
    fam = rng.choice(sorted(FAMILIES))
    dtype = rng.choice(["float32", "float32", "float16", "bfloat16"])
    schedule = rng.choice(["constant", "constant", "inv-sqrt"])
    runs = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        opt = rng.choice(FAMILIES[fam])
        hyper = {k: rng.choice(v) for k, v in {"lr": ["0.001", "0.01", "0.1", "1"],
                                                "eps": ["1e-8", "0", "1e-3"]}.items()
                 if k in RULES[opt].defaults and rng.random() < 0.5}
        spec = RunSpec(find_problem(rng.choice(PROBLEMS)), opt, hyper, rng.choice([3, 9, 17, 30]),
                       schedule=schedule)
        t = envelope.tested_arrays(run_numpy(spec, dtype=dtype))
        params, grads = t.params.copy(), t.grads.copy()
        state = {k: v.copy() for k, v in t.state.items()}
        for _ in range(rng.choice([0, 1, 1, 2])):
            s, c = rng.randint(1, t.steps), rng.randrange(t.size)
            kind = rng.choice(["nan", "inf", "push", "state", "reset", "zero", "huge"])
            if kind == "nan":
                params[s:, c] = np.nan
            elif kind == "inf":
                params[s, c] = np.inf
            elif kind == "push":
                params[s:, c] += rng.choice([1e-3, 1e-6, -1e-4])
            elif kind == "state" and state:
                state[rng.choice(sorted(state))][s, c] *= rng.choice([1.001, 2.0, -1.0])
            elif kind == "reset" and state:
                for v in state.values():
                    v[s] = 0.0
                grads[min(s, t.steps - 1)] = 0.0
            elif kind == "zero":
                grads[s - 1:, c] = 0.0
            elif kind == "huge" and state:
                state[rng.choice(sorted(state))][s:, c] = rng.choice([65500.0, 3e38])
        full = spec.full_hyper()
        if rng.random() < 0.2 and "eps" in full:
            full = dict(full, eps="0")
        runs.append(Run(full, envelope.Tested(params, grads, state, t.steps, dtype), schedule,
                        tuple((str(a), str(b)) for a, b in spec.problem.domain) or None))
    rule = RULES[rng.choice(FAMILIES[fam])]
    if fam == ("m", "v") and rng.random() < 0.4:  # v_max not exposed: carried as a running max
        rule = RULES[rng.choice(FAMILIES[("m", "v", "v_max")])]
    slip = rng.choice([None, None, "lr", "sign", "reset", "negate"])
    if slip:
        rule = slipped(rule, slip, lr_power=2 if slip == "lr" else 1,
                       sign=-1 if slip == "sign" else 1,
                       reset_every=rng.choice([1, 5, 16]) if slip == "reset" else 0,
                       negate_grad=slip == "negate")
    models = list(MODELS) if rng.random() < 0.5 else rng.sample(list(MODELS), rng.randint(1, 6))
    return rule, runs, models, rng.choice([None, "rows", "models"]), rng.choice([1 << 20, 16, 7])


def test_seeded_fuzz_blocks_equal_step_by_step(monkeypatch):
    """120 random cases (the review that found the exit order ran 23,700 such cases)."""
    import random

    compared = 0
    for seed in range(120):
        rule, runs, models, early, elements = _fuzz_case(random.Random(seed))
        monkeypatch.setattr(envelope, "BLOCK_ELEMENTS", elements)
        try:
            stepwise, blocked, _ = _both(
                lambda r=rule, x=runs, m=models, e=early: judge(r, x, m, early=e), monkeypatch)
        except KeyError:  # a rule reading a hyperparameter this run's rule lacks
            continue
        assert blocked == stepwise, (seed, rule.name, early, elements)
        compared += 1
    assert compared >= 100


def test_an_unexposed_running_max_is_judged_in_blocks(monkeypatch):
    """AMSGrad judged on Adam runs (no v_max in the trace: the envelope carries its own), as
    the diagnosis does for every Adam: in blocks, and equal to step by step."""
    spec = RunSpec(find_problem("rosenbrock"), "adam", {"lr": "0.01"}, 40)
    run = _numpy_run(spec)
    for name in ("amsgrad", "amsgrad-vhat", "amsgrad-epshat"):
        for early in (None, "rows", "models"):
            stepwise, blocked, calls = _both(
                lambda n=name, e=early: judge(RULES[n], [run, run], MODELS, early=e), monkeypatch)
            assert blocked == stepwise, (name, early)
            assert all(calls) and (calls or early)


def test_a_carried_state_used_otherwise_falls_back():
    """Anything but a running max on a carried state raises in a block (so the run is judged
    step by step)."""
    from verify.auditing.bounds import Carried

    ar = BoundArith(FORMATS["float32"], [MODELS[0]])
    c = Carried(ar.vector(np.zeros((1, 2))))
    for use in (lambda: c.v, lambda: c * 2, lambda: ar.vector(np.ones((1, 2))) + c,
                lambda: ar.maximum(c, ar.vector(np.ones((1, 2))))):  # not a block of steps
        with pytest.raises(TypeError):
            use()
    block = ar.vector(np.array([[[1.0, 5.0]], [[3.0, 2.0]], [[2.0, 7.0]]]))
    assert ar.maximum(c, block).v.tolist() == [[[1, 5]], [[3, 5]], [[3, 7]]]  # running max
