"""Diagnosis: every catalogue variant, run by the NumPy runner as if it were a foreign
implementation of its family's base rule, is diagnosed as itself on the probe problem."""

import pytest

from verify.auditing.diagnose import FAMILIES, PROBE_HYPER, candidate_hyper, diagnose, probe_hyper
from verify.problems import find_problem
from verify.runners.numpy_ import run_numpy
from verify.spec import RunSpec

CASES = [(base, member) for base, members in FAMILIES.items() for member in members]


@pytest.mark.parametrize("claimed,actual", CASES)
def test_variant_is_diagnosed_as_itself(claimed, actual):
    probe = find_problem("probe")
    claimed_rule = "gd" if claimed == "momentum" and actual == "gd" else claimed
    hyper = {k: v for k, v in PROBE_HYPER.items()}
    base = RunSpec(probe, claimed_rule, candidate_hyper(claimed_rule, hyper), 12)
    foreign = run_numpy(RunSpec(probe, actual, candidate_hyper(actual, hyper), 12),
                        scalars="float64")
    d = diagnose(foreign, base, samples=6, hyper=PROBE_HYPER)
    if actual == claimed_rule:
        assert d.verdict == "consistent", d.summary
    else:
        assert d.verdict == "discrepant", d.summary
        assert d.explanation is not None and d.explanation.rule == actual, d.summary


# In the narrow formats the probe runs at a larger step size (verify/diagnose.py PROBE_LR);
# these are the variants that the float32 step size could not tell apart there.
@pytest.mark.parametrize("dtype,claimed,actual", [
    ("bfloat16", "adam", "adam"), ("bfloat16", "adam", "adam-epshat"),
    ("bfloat16", "adam", "adam-epsroot"), ("bfloat16", "adam", "adamw"),
    ("bfloat16", "adam", "amsgrad"), ("bfloat16", "rmsprop", "rmsprop-epsinside"),
    ("float16", "adam", "adam"), ("float16", "adam", "amsgrad"),
    ("float16", "momentum", "momentum-zero"),
])
def test_variant_is_diagnosed_in_narrow_formats(dtype, claimed, actual):
    probe = find_problem("probe")
    hyper = probe_hyper(dtype)
    base = RunSpec(probe, claimed, candidate_hyper(claimed, hyper), 12)
    foreign = run_numpy(RunSpec(probe, actual, candidate_hyper(actual, hyper), 12),
                        scalars="float64", dtype=dtype)
    d = diagnose(foreign, base, samples=6, hyper=hyper)
    assert d.dtype == dtype
    if actual == claimed:
        assert d.verdict == "consistent", d.summary
    else:
        assert d.verdict == "discrepant" and d.explanation.rule == actual, d.summary
        assert d.first_outside is not None and d.first_outside[0] >= 1
