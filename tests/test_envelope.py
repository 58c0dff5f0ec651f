"""The verdict engine: running error bounds contain every correct evaluation, and nothing that
is not inside passes (NaN, a missing step, a missing state, a value one bound away)."""

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.auditing import envelope
from verify.auditing.bounds import MODELS, BoundArith, Bounded, Model
from verify.auditing.envelope import Run, judge
from verify.golden.arith import FORMATS, round_to
from verify.rules import RULES

LIMIT = {"float32": 1e6, "float16": 200.0, "bfloat16": 1e6}  # no overflow of a·b (float16: 65504)


@st.composite
def operands(draw):
    fmt = draw(st.sampled_from(sorted(LIMIT)))
    x = st.floats(min_value=-LIMIT[fmt], max_value=LIMIT[fmt], allow_nan=False)
    return draw(x), draw(x), draw(x), fmt


def _exact_then_round(values, fmt):
    return [float(round_to(Fraction(v), fmt)) for v in values]


@settings(max_examples=300, deadline=None)
@given(operands())
def test_bound_contains_the_format_evaluation_in_two_orders(case):
    """(a·b + c)/(|c| + 1) evaluated in the format in two orders (each operation rounded to
    nearest, exact rationals in between) lies within the bound of the exact value."""
    a, b, c, fmt_name = case
    fmt = FORMATS[fmt_name]
    a, b, c = _exact_then_round([a, b, c], fmt)

    def rnd(q):
        return Fraction(float(round_to(q, fmt)))

    fa, fb, fc = Fraction(a), Fraction(b), Fraction(c)
    one = rnd(abs(fc) + 1)
    order1 = rnd(rnd(rnd(fa * fb) + fc) / one)
    order2 = rnd(rnd(rnd(fc / one) + rnd(rnd(fa / one) * fb)))  # another association
    ar = BoundArith(fmt, [MODELS[0]])
    with ar.activate():
        x, y, z = (Bounded(np.array([[v]]), 0.0, ar.ctx) for v in (a, b, c))
        res = (x * y + z) / (abs(z) + 1)
    exact = (fa * fb + fc) / (abs(fc) + 1)
    for got in (order1, order2):
        assert abs(float(got - exact)) <= float(res.e[0, 0]) * (1 + 1e-12), (got, exact, res.e)


def _adam_run(params, grads, state=None, hyper=None):
    steps = len(grads)
    tested = envelope.Tested(np.array(params, dtype=np.float64), np.array(grads, dtype=np.float64),
                    state or {}, steps, "float32")
    return Run(hyper or dict(RULES["adam"].defaults, lr="0.1", eps="0.1"), tested)


def _numpy_adam(steps=6):
    """A float32 Adam written here (not verify's rules), its params, grads and state."""
    f = np.float32
    x, m, v = np.array([1.0, -1.0], f), np.zeros(2, f), np.zeros(2, f)
    ps, gs, ms, vs = [x.copy()], [], [np.full(2, np.nan)], [np.full(2, np.nan)]
    for t in range(1, steps + 1):
        g = np.array([3.0 / t, -2.0 + t / 4], f)
        m = f(0.9) * m + (f(1) - f(0.9)) * g  # 1 − β from β held in float32
        v = f(0.999) * v + (f(1) - f(0.999)) * g * g
        step = f(0.1) * (m / f(1 - 0.9**t)) / (np.sqrt(v / f(1 - 0.999**t)) + f(0.1))
        x = (x - step).astype(f)
        ps.append(x.copy()), gs.append(g), ms.append(m.copy()), vs.append(v.copy())
    return ps, gs, {"m": np.array(ms, dtype=np.float64), "v": np.array(vs, dtype=np.float64)}


def test_a_correct_run_is_inside_and_each_kind_of_damage_is_not():
    ps, gs, state = _numpy_adam()
    ok = judge(RULES["adam"], [_adam_run(ps, gs, state)], MODELS)[0]
    fitting = [m for m, j in zip(MODELS, ok) if j.inside]
    assert fitting
    # one value moved by 3 % of a step: outside under every model, at that step and quantity
    bad = [p.copy() for p in ps]
    bad[4] = bad[4] + np.array([0.003, 0.0], dtype=np.float32)
    res = judge(RULES["adam"], [_adam_run(bad, gs, state)], MODELS)[0]
    assert not any(j.inside for j in res)
    assert {(j.first_exit.t, j.first_exit.quantity) for j in res if j.model in fitting} == {
        (4, "params")}
    # NaN where the rule is finite (the large audit once passed NaN as "inside")
    nan = [p.copy() for p in ps]
    nan[3] = np.array([np.nan, nan[3][1]], dtype=np.float32)
    res = judge(RULES["adam"], [_adam_run(nan, gs, state)], fitting)[0]
    assert not any(j.inside for j in res) and res[0].first_exit.t == 3
    # state exposed but damaged: caught on the state itself
    hurt = {k: a.copy() for k, a in state.items()}
    hurt["v"][2, 1] *= 1.001
    res = judge(RULES["adam"], [_adam_run(ps, gs, hurt)], fitting)[0]
    assert not any(j.inside for j in res) and res[0].first_exit.quantity == "v"


def test_state_missing_at_some_steps_is_a_finding():
    ps, gs, state = _numpy_adam()
    tested = envelope.Tested(np.array(ps, dtype=np.float64), np.array(gs, dtype=np.float64), state,
                    len(gs), "float32", {"m": (3,), "v": ()})
    run = Run(dict(RULES["adam"].defaults, lr="0.1", eps="0.1"), tested)
    j = judge(RULES["adam"], [run], MODELS[:1])[0][0]
    assert j.missing == ("state m missing at step 3",) and not j.inside


def test_scalar_models_are_told_apart():
    """Holding β2 = 0.999 in float32 changes 1 − β2 by 1.3e-5 relative (0.999 is not a float32):
    v after one step differs by ~100 ulps between the models — the run above holds its
    hyperparameters in float32 and computes the bias corrections in double."""
    ps, gs, state = _numpy_adam()
    res = judge(RULES["adam"], [_adam_run(ps, gs, state)], MODELS)[0]
    inside = {j.model for j in res if j.inside}
    assert Model("format", "double") in inside
    assert Model("double", "double") not in inside
    out = next(j for j in res if j.model == Model("double", "double"))
    v_exit = dict(out.exits)["v"]
    assert v_exit.t == 1 and v_exit.ulps_outside > 50
