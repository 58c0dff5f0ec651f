"""ULP distance and correct rounding to float32, checked against NumPy's own conversions."""

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from verify.arith import round_to_float32
from verify.compare import ulp_distance, value_diff


def test_ulp_distance_basics():
    one = np.float32(1)
    assert ulp_distance(one, np.nextafter(one, np.float32(2))) == 1
    assert ulp_distance(np.float32(0.0), np.float32(-0.0)) == 0
    tiny = np.float32(1e-45)  # smallest subnormal
    assert ulp_distance(-tiny, tiny) == 2
    assert ulp_distance(np.float32("inf"), one) is None


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_round_to_float32_matches_numpy_on_doubles(x):
    # NumPy rounds a double to float32 once, correctly; our exact-rational rounding must agree.
    with np.errstate(over="ignore"):
        assert round_to_float32(Fraction(x)) == np.float32(x)


def test_round_to_float32_ties_to_even():
    # 1 + 2^-24 is halfway between 1 and 1 + 2^-23: ties go to the even mantissa, 1.
    assert round_to_float32(1 + Fraction(1, 2**24)) == np.float32(1)
    assert round_to_float32(1 + Fraction(3, 2**24)) == np.float32(1 + 2**-22)


def test_value_diff_errors():
    d = value_diff(1, "params", 0, "0.01", "0.01")
    # float32(0.01) = 0.00999999977648258209228515625 exactly
    assert d.ulps == 0
    assert abs(d.abs_err - 2.2351741790771484375e-10) < 1e-24
