"""The NumPy float32 runner: float32 throughout, and within a few ULPs of the golden."""

import numpy as np
import pytest

from verify.golden.arith import Float32Arith
from verify.golden.compare import compare
from verify.golden.engine import run_in
from verify.golden.run import run_golden
from verify.golden.spec import RunSpec
from verify.runners.numpy_ import run_numpy

# The bound: each step applies about ten float32 operations, each with relative error at most
# 2^-24; with the bias corrections computed without cancellation (Float32Arith.one_minus_pow)
# nothing amplifies those errors on this problem, and the measured maximum is 3 ULPs. We allow
# 4 ULPs — "a few" — against the golden run with the same float32-rounded hyperparameters.
ULP_BOUND = 4


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_float32_within_bound_of_golden_at_every_step(linreg, optimizer):
    spec = RunSpec(linreg, optimizer, {"lr": "0.01"}, 5)
    tested = run_numpy(spec)
    golden = run_golden(RunSpec(linreg, optimizer, {"lr": "0.01"}, 5, quantize="float32"))
    c = compare(tested, golden)
    assert len(c.diffs) > 50
    assert c.max_ulps() <= ULP_BOUND, [d for d in c.diffs if d.ulps > ULP_BOUND]


def test_every_value_is_float32(linreg):
    raw = run_in(RunSpec(linreg, "adam", {"lr": "0.01"}, 3), Float32Arith(),
                 {"lr": "0.01", "beta1": "0.9", "beta2": "0.999", "eps": "1e-8"})
    for r in raw:
        values = list(r.record.params) + list(r.record.grad or []) + [r.loss]
        values += [x for v in r.record.state.values() for x in v]
        values += [x for v in r.record.aux.values() for x in v]
        assert all(type(x) is np.float32 for x in values), r


def test_naive_bias_correction_would_break_the_bound():
    # Why one_minus_pow exists: 1 − β2^t by direct float32 power cancels. At β2 = 0.999, t = 2
    # the exact value (for β2 rounded to float32) is 1 − b², b = 16760439/2^24.
    from fractions import Fraction

    b = np.float32(0.999)
    exact = 1 - Fraction(float(b)) ** 2
    naive = np.float32(1) - b * b
    careful = Float32Arith().one_minus_pow(b, 2)
    assert abs(Fraction(float(careful)) - exact) / exact < Fraction(2, 2**24)
    assert abs(Fraction(float(naive)) - exact) / exact > Fraction(100, 2**24)
