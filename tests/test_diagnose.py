"""Diagnosis: the battery separates every pair of catalogue variants. Each variant is run in
float32 (every operation rounded, hyperparameters held in float32) on every setting of its
family's battery; the only candidate whose envelope holds the runs must be the variant itself
— a confusion matrix that is the identity."""

import pytest

from verify.auditing.battery import battery, rule_hyper, stream_problem
from verify.auditing.candidates import FAMILIES, candidate, runs_for
from verify.golden.spec import RunSpec
from verify.rules import RULES
from verify.runners.numpy_ import run_numpy


def _ran(base: str, actual: str):
    out = []
    for s in battery(base):
        spec = RunSpec(stream_problem(s.stream), actual, rule_hyper(actual, s.hyper), s.steps)
        out.append((s, spec, run_numpy(spec)))
    return out


@pytest.mark.parametrize("base,actual", [(b, a) for b, members in FAMILIES.items()
                                         for a in members])
def test_only_the_variant_itself_fits(base, actual):
    ran = _ran(base, actual)
    fitting = [name for name in FAMILIES[base]
               if candidate(RULES[name], runs_for(name, ran)).fits]
    assert fitting == [actual]


@pytest.mark.parametrize("dtype,actual", [("bfloat16", "adam-epshat"), ("float16", "amsgrad"),
                                          ("bfloat16", "adamw")])
def test_variants_separate_in_the_narrow_formats(dtype, actual):
    """In float16 and bfloat16 the battery takes larger steps (battery.PROBE_LR) so that a step
    spans ulps of θ; these variants were not told apart at the float32 step size."""
    out = []
    for s in battery("adam", dtype):
        spec = RunSpec(stream_problem(s.stream), actual, rule_hyper(actual, s.hyper), s.steps)
        out.append((s, spec, run_numpy(spec, dtype=dtype)))
    fitting = [name for name in FAMILIES["adam"] if candidate(RULES[name], runs_for(name, out)).fits]
    assert fitting == [actual]
