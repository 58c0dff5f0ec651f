"""``run_flat`` (what goldens certify) records the same values, in a documented order, as
``run_in``'s records: the expected values are run_in's, laid out by hand here."""

from fractions import Fraction

import pytest

from verify.golden.arith import Float32Arith, MpfrArith, MpmathArith
from verify.golden.engine import run_flat, run_in
from verify.golden.spec import RunSpec, effective_hyper
from verify.symbolic.problems import find_problem


def laid_out(raw, measure=True):
    """A RawStep as FlatRun orders it: params, grad, state by name, aux by name, loss, rows."""
    r = raw.record
    out = list(r.params)
    if r.grad is not None:
        out += r.grad
        for values in r.state.values():
            out += values
        for values in r.aux.values():
            out += values
    if measure:
        out.append(raw.loss)
        for values in raw.rows.values():
            out += values
    return out


@pytest.mark.parametrize("problem,optimizer,hyper,steps", [
    ("rosenbrock", "adam", {"lr": "0.01"}, 30),
    ("linear_regression", "amsgrad", {"lr": "0.01"}, 12),  # v_max state, per-row outputs
    ("reddi_online", "adamw", {"lr": "0.1"}, 12),  # online phases, a box domain
    ("beale", "rmsprop", {"lr": "0.01"}, 12),
    ("double_well", "nesterov", {"lr": "0.01"}, 12),
    ("quartic", "adamax", {"lr": "0.01"}, 12),
])
@pytest.mark.parametrize("make", [lambda: MpfrArith(50), lambda: MpmathArith(30), Float32Arith],
                         ids=["mpfr", "mpmath", "float32"])
def test_flat_rows_are_run_in_records_laid_out(problem, optimizer, hyper, steps, make):
    spec = RunSpec(find_problem(problem), optimizer, hyper, steps)
    h = effective_hyper(spec.full_hyper(), spec.quantize)
    raw, flat = run_in(spec, make(), h), run_flat(spec, make(), h)
    assert flat.params == len(spec.problem.params)
    assert flat.state == spec.rule.state_names and flat.aux == spec.rule.aux_names
    assert flat.rows == tuple((k, len(v)) for k, v in raw[0].rows.items())
    assert len(flat.values) == len(raw) == steps + 1
    for row, step in zip(flat.values, raw, strict=True):
        assert [str(x) for x in row] == [str(x) for x in laid_out(step)]


def test_replayed_gradients_and_unmeasured_runs():
    spec = RunSpec(find_problem("rosenbrock"), "adam", {"lr": "0.01"}, 8)
    h = effective_hyper(spec.full_hyper(), spec.quantize)
    grads = [[Fraction(k, 7), Fraction(-k, 3)] for k in range(1, 6)]  # stops after 5 steps
    raw = run_in(spec, MpfrArith(50), h, grads=grads, measure=False)
    flat = run_flat(spec, MpfrArith(50), h, grads=grads, measure=False)
    assert not flat.measured and flat.rows == ()
    assert len(flat.values) == len(raw) == 6
    for row, step in zip(flat.values, raw, strict=True):
        assert row == laid_out(step, measure=False)
    assert flat.values[1][2:4] == [MpfrArith(50).num(Fraction(1, 7)),
                                   MpfrArith(50).num(Fraction(-1, 3))]


def test_status_screen_agrees_with_the_text_check():
    from verify.golden.run import status_of
    from verify.golden.trace import Step

    for bad, where in (("nan", 2), ("-inf", 1), ("+Infinity", 3), ("NaN", 2)):
        steps = tuple(Step(t, ("1.5e-7", "-2" if t != where else bad), loss="0.25")
                      for t in range(4))
        assert status_of(steps, 9) == {"finite": False, "first_nonfinite_step": where,
                                       "steps_requested": 9}
    finite = tuple(Step(t, ("1.5e-7", "-2.25e+12"), ("3", "4"), loss="1e-300") for t in range(3))
    assert status_of(finite, 3) == {"finite": True}
