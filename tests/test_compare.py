"""ULP distance and correct rounding to float32, float16 and bfloat16, checked against NumPy's
and ml_dtypes' own conversions."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.golden.arith import FORMATS, float32_values, round_to, round_to_float32
from verify.golden.compare import operand_ulps, ulp_distance, value_diff, value_diffs


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


# --- float16 and bfloat16 -------------------------------------------------------------------

F16, BF16 = FORMATS["float16"], FORMATS["bfloat16"]


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_round_to_float16_matches_numpy(x):
    # NumPy converts float64 → float16 with one correct rounding (an independent implementation)
    with np.errstate(over="ignore"):
        expected = np.float16(x)
    assert round_to(Fraction(x), F16) == expected or (np.isinf(expected) and
                                                      np.isinf(round_to(Fraction(x), F16)))


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_round_to_bfloat16_matches_ml_dtypes_on_float32(x):
    # a float32 input is rounded once by ml_dtypes' float32 → bfloat16 cast
    expected = np.array([x], dtype=np.float32).astype(BF16.dtype)[0]
    got = round_to(Fraction(float(np.float32(x))), BF16)
    assert got == expected or (np.isinf(expected) and np.isinf(got))


def test_ulps_are_counted_in_the_runs_format():
    one = np.float16(1)
    assert ulp_distance(one, np.nextafter(one, np.float16(2)), F16) == 1
    assert ulp_distance(np.float16(-6e-8), np.float16(6e-8), F16) == 2  # smallest subnormals
    b = BF16.dtype(1)
    assert ulp_distance(b, BF16.dtype(1.0078125), BF16) == 1  # 1 + 2⁻⁷: bfloat16's next value
    # float16's spacing at 1 is 2⁻¹⁰, so 2⁻⁷ is 8 of its ulps
    assert ulp_distance(np.float16(1), np.float16(1.0078125), F16) == 8
    d = value_diff(1, "params", 0, "1.0078125", "1", BF16)
    assert d.ulps == 1


def _trace(rows, dtype="float32"):
    from verify.golden.trace import Step, Trace

    return Trace({"params": ["x", "y"]}, {}, {"dtype": dtype},
                 tuple(Step(t, tuple(r)) for t, r in enumerate(rows)))


def test_operand_ulps_counts_in_ulps_of_the_largest_golden_so_far():
    """Hand computation: float32 ulp at [1, 2) is 2⁻²³, at [0.5, 1) 2⁻²⁴. Coordinate x falls
    from 1.5 to 0.25 and is 2⁻²³ off at the end: 1 ulp of its largest size so far (1.5), not
    the 4 ulps of 0.25's own size; y is 3·2⁻²⁴ off at 0.75: 3 ulps. The worst is 3."""
    golden = _trace([["1.5", "0.75"], ["0.25", "0.75"]])
    tested = _trace([["1.5", repr(float(np.float32(0.75 + 3 * 2.0**-24)))],
                     ["0.25", "0.75"]])
    assert operand_ulps(tested, golden).worst == 3.0
    tested = _trace([["1.5", "0.75"], [repr(float(np.float32(0.25 + 2.0**-23))), "0.75"]])
    assert operand_ulps(tested, golden).worst == 1.0


def test_operand_ulps_reports_the_first_non_finite_step():
    golden = _trace([["1", "1"], ["2", "2"], ["3", "3"]])
    tested = _trace([["1", "1"], ["2", "inf"], ["nan", "3"]])
    assert (operand_ulps(tested, golden).worst, operand_ulps(tested, golden).first_nonfinite) \
        == (None, 1)


@given(st.lists(st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.floats(width=64).map(repr),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "-0", "3.4028236e38", "1e-46", "7e-46"])),
    min_size=1, max_size=20))
def test_float32_values_read_texts_as_np_float32_does(texts):
    """The one-pass reader of trace texts against NumPy's own scalar reading, bit for bit
    (NaN compared by its bits too)."""
    with np.errstate(over="ignore"):
        want = np.array([float(np.float32(t)) for t in texts], dtype=np.float64)
    assert float32_values([texts]).tobytes() == want[None].tobytes()


def _decimal(q: Fraction, digits: int = 70) -> str:
    """q as a decimal text of ``digits`` significant digits (exact enough to sit on either side
    of a midpoint 1e-60 away)."""
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = digits
        return str(Decimal(q.numerator) / Decimal(q.denominator))


def _pairs(fmt, rng, n):
    """(tested, golden) texts: random float32 values against random decimals, decimals within
    1e-60 of (or exactly on) a midpoint of ``fmt``, and the edge texts (zeros, subnormals,
    overflow, beyond double range, non-finite, unusual spellings)."""
    edges = ["0", "-0", "1e-400", "-1e-400", "3.4028235e38", "3.40282357e38", "1e39", "-1e39",
             "65520", "65519.99", "nan", "inf", "-inf", "1e309", "5e-324", "7e-46", "-7.006e-46",
             "1.5", "+2.5e0", ".5", "-.25", "5."]
    span = (-26, 15) if fmt.name == "float16" else (-150, 127)
    out = []
    for _ in range(n):
        tested = repr(float(np.float32(rng.uniform(-3, 3) * 10.0 ** rng.randint(-40, 38))))
        if rng.random() < 0.05:
            tested = rng.choice(["nan", "inf", "-inf", "0", "-0.0"])
        kind = rng.random()
        if kind < 0.3:
            golden = f"{rng.uniform(-9, 9):.45f}e{rng.randint(-50, 40)}"
        elif kind < 0.6:
            x = Fraction(float(fmt.dtype(rng.uniform(-2, 2) * 2.0 ** rng.randint(*span))))
            e = max((abs(x).numerator.bit_length() - abs(x).denominator.bit_length()), fmt.emin)
            step = Fraction(2) ** (e - fmt.precision + 1)
            nudge = rng.choice([0, 0, Fraction(1, 10**60), -Fraction(1, 10**60)])
            golden = _decimal(x + step / 2 + nudge * step)
        elif kind < 0.7:
            golden = rng.choice(edges)
        else:
            golden = repr(float(tested) * (1 + rng.uniform(-1e-6, 1e-6)))
        out.append((tested, golden))
    return out


@pytest.mark.parametrize("fmt_name", ["float32", "float16", "bfloat16"])
def test_value_diffs_equal_value_diff_field_for_field(fmt_name):
    # the batch path (a double, exact rounding only at midpoints; integer quotients) against
    # the one-value reference (exact rationals throughout), on 3,000 seeded pairs per format
    import random
    import warnings

    fmt = FORMATS[fmt_name]
    pairs = _pairs(fmt, random.Random(20261202), 3000)
    keys = [(t, "params", 0) for t in range(len(pairs))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # float32("1e39") overflows, as it should
        fast = value_diffs(keys, [a for a, _ in pairs], [b for _, b in pairs], fmt)
        slow = [value_diff(*key, a, b, fmt) for key, (a, b) in zip(keys, pairs, strict=True)]
    assert [repr(d) for d in fast] == [repr(d) for d in slow]


def test_a_golden_below_double_range_gives_an_infinite_relative_error():
    # 1e-400 is no double; the tested float32 1e-45 (2^-149 exactly) is 1e355 times it: the
    # relative error rounds to +inf (IEEE overflow), the absolute error is 2^-149 − 1e-400
    d = value_diff(1, "params", 0, "1e-45", "1e-400")
    assert d.rel_err == float("inf") and d.abs_err == 2.0**-149 and d.ulps == 1
    assert value_diffs([(1, "params", 0)], ["1e-45"], ["1e-400"]) == [d]


@pytest.mark.parametrize("golden", ["1.5\n", ".5\n", " -1.25", "1.5E+001", "+007.5", "5."])
def test_value_diffs_read_unusual_spellings_as_value_diff_does(golden):
    # found by review: "1.5\n" once read its newline as a digit (abs error 1.35 instead of 0)
    key = (0, "params", 0)
    assert value_diffs([key], ["1.5"], [golden]) == [value_diff(*key, "1.5", golden)]


@pytest.mark.parametrize("golden", ["007", "-007", "1e-401", "0e-999", "0" * 201 + "1"])
def test_value_diffs_refuse_what_value_diff_refuses(golden):
    from verify.errors import InputError

    with pytest.raises(InputError):
        value_diff(0, "params", 0, "1.5", golden)
    with pytest.raises(InputError):
        value_diffs([(0, "params", 0)], ["1.5"], [golden])
