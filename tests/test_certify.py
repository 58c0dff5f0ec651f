"""The gmpy2 certifier (verify/golden/certify.py) against mpmath, which defined the golden text.

Expected values: literals worked out by hand from mpmath's documented layout (fixed point while
the leading digit's exponent is in (min(−n//3, −5), n), else scientific), one case where mpmath's
nstr is not the correctly rounded decimal (checked with exact fractions), and otherwise mpmath's
own ``nstr`` and ``golden.certified_text`` on the same exact values (seeded random values).
"""

import random
from fractions import Fraction

import gmpy2
import mpmath
import pytest

from verify.golden.arith import MpfrArith
from verify.golden.certify import MpfrCertifier, nstr
from verify.golden.run import agreeing_digits, certified_text, run_golden
from verify.golden.spec import RunSpec
from verify.symbolic.problems import find_problem

CTX = mpmath.MPContext()
CTX.prec = 2000


def mp(x):
    """The exact value of an mpfr as an mpmath number."""
    if not gmpy2.is_finite(x):
        return CTX.mpf(str(x))
    man, exp = x.as_mantissa_exp()
    return CTX.mpf((int(man), int(exp)))


def at(prec, value):
    with gmpy2.context(precision=prec):
        return gmpy2.mpfr(value)


@pytest.mark.parametrize("value,n,text", [
    (Fraction(1, 3), 20, "0.33333333333333333333"),
    (Fraction(-1, 2), 3, "-0.5"),
    (Fraction(2) ** -20, 6, "9.53674e-7"),  # 9.5367431640625e-7: exponent −7 ≤ −5, scientific
    (Fraction(123456789), 3, "1.23e+8"),  # exponent 8 ≥ n: scientific
    (Fraction(123456789), 12, "123456789.0"),
    (Fraction(99999, 100000), 3, "1.0"),  # rounds up into the next decade
    (Fraction(5, 10**5), 4, "5.0e-5"),  # exponent −5 is not above min(−4//3, −5) = −5
    (Fraction(5, 10**4), 4, "0.0005"),  # exponent −4 is: fixed point
    (Fraction(0), 5, "0.0"),
])
def test_nstr_literals(value, n, text):
    x = at(170, gmpy2.mpq(value.numerator, value.denominator))
    assert nstr(x, n) == text == CTX.nstr(mp(x), n)


def test_nstr_repeats_mpmath_where_mpmath_is_not_correctly_rounded():
    # 8.8897125e-10 in 170 bits lies just above the tie, so the correctly rounded 7-digit
    # decimal is 8.889713e-10; mpmath truncates to 10 digits (…71249…) first and prints …712.
    x = at(170, gmpy2.mpq(88897125, 10**17))
    man, exp = x.as_mantissa_exp()
    assert Fraction(int(man)) * Fraction(2) ** int(exp) > Fraction(88897125, 10**17)
    assert CTX.nstr(mp(x), 7) == "8.889712e-10"
    assert nstr(x, 7) == "8.889712e-10"


def _random_value(rng, prec):
    kind = rng.random()
    with gmpy2.context(precision=prec):
        if kind < 0.3:  # near a decimal tie at the last printed digit
            digits = rng.randint(1, 60)
            q = rng.randint(10 ** (digits - 1), 10**digits) * 10 + 5
            x = gmpy2.mpfr(gmpy2.mpq(q, 10 ** rng.randint(0, 70)))
            x = rng.choice([x, gmpy2.next_above(x), gmpy2.next_below(x)])
        elif kind < 0.45:  # just below a power of ten: 0.999…
            digits = rng.randint(1, 60)
            x = gmpy2.mpfr(gmpy2.mpq(10**digits - rng.randint(0, 3), 10 ** rng.randint(0, 70)))
        elif kind < 0.55:  # far beyond 2^±3500, where mpmath rescales first
            x = gmpy2.mpfr(rng.randint(1, 2**64)) * gmpy2.mpfr(2) ** rng.randint(-4500, 4500)
        else:
            x = gmpy2.mpfr(rng.uniform(0.5, 1)) / 3 * gmpy2.mpfr(2) ** rng.randint(-400, 400)
    return -x if rng.random() < 0.5 else x


def test_nstr_equals_mpmath_on_random_values():
    rng = random.Random(20240514)
    for _ in range(4000):
        x = _random_value(rng, rng.choice([53, 170, 336, 700]))
        n = rng.choice([1, 2, 3, 5, 15, 16, 30, 49, 50, 51, 100, rng.randint(1, 200)])
        assert nstr(x, n) == CTX.nstr(mp(x), n), (x, n)


@pytest.mark.parametrize("dps", [15, 50, 100])
def test_agreeing_digits_equal_mpmaths_near_powers_of_ten(dps):
    # a − b ≈ b·10^−k: the digit count sits on the edge of floor(−log10 rel) = k − 1 or k
    rng = random.Random(dps)
    cert = MpfrCertifier(dps)
    lo, hi = MpfrArith(dps), MpfrArith(2 * dps)
    for _ in range(1500):
        b = at(hi.bits, gmpy2.mpfr(rng.uniform(-3, 3)) * gmpy2.mpfr(2) ** rng.randint(-50, 50))
        with gmpy2.context(cert.context):
            target = b + b * gmpy2.mpfr(10) ** -rng.randint(0, dps + 3) * rng.choice([1, -1])
        a = at(lo.bits, target)
        for _ in range(rng.randint(0, 3)):
            a = rng.choice([gmpy2.next_above, gmpy2.next_below])(a)
        want = agreeing_digits(mp(a), mp(b), dps)
        assert cert.agreeing_digits(a, b) == want
        assert cert.texts([a], [b]) == ([certified_text(mp(a), mp(b), dps, CTX)[0]], [want])


def test_certified_pairs_equal_mpmaths_on_random_values():
    # wide and narrow agreement, huge and tiny magnitudes (the double-precision estimate of the
    # digit count does not apply beyond 1e±300), exact ties
    rng = random.Random(7)
    for dps in (15, 50, 120):
        cert = MpfrCertifier(dps)
        lo, hi = MpfrArith(dps), MpfrArith(2 * dps)
        ctx = mpmath.MPContext()
        ctx.prec = mpmath.libmp.dps_to_prec(2 * dps) + 64
        los, his, want = [], [], []
        for _ in range(1500):
            b = at(hi.bits, _random_value(rng, hi.bits))
            with gmpy2.context(cert.context):
                near = b * (1 + gmpy2.mpfr(rng.uniform(-1, 1)) * gmpy2.mpfr(10) ** -rng.randint(
                    0, 2 * dps))
            a = at(lo.bits, rng.choice([near, near, b, rng.uniform(-1, 1)]))
            los.append(a)
            his.append(b)
            want.append(certified_text(mp(a), mp(b), dps, ctx))
        assert cert.texts(los, his) == ([t for t, _ in want], [d for _, d in want])
        assert [cert.text(a, b) for a, b in zip(los, his, strict=True)] == want


def test_certified_text_special_values():
    cert = MpfrCertifier(50)
    hi = MpfrArith(100)
    cases = [("1", "1"), ("0", "0"), ("0", "1e-30"), ("nan", "1"), ("1", "nan"), ("1", "inf"),
             ("1", "-inf"), ("inf", "inf"), ("-2", "2"), ("0.1", "0.1")]
    for a_text, b_text in cases:
        a, b = at(MpfrArith(50).bits, a_text), at(hi.bits, b_text)
        want = certified_text(mp(a), mp(b), 50, CTX)
        assert cert.text(a, b) == want
        assert cert.texts([a], [b]) == ([want[0]], [want[1]])
    assert cert.text(at(170, "0.5"), at(336, "0.5")) == ("0.5", 50)
    assert cert.text(at(170, "nan"), at(336, "-inf")) == ("-inf", 0)


@pytest.mark.parametrize("problem,optimizer,hyper,steps", [
    ("rosenbrock", "adam", {"lr": "0.01"}, 120),
    ("linear_regression", "adamw", {"lr": "0.01"}, 40),  # with per-row outputs
    ("beale", "amsgrad", {"lr": "0.01"}, 40),
    ("reddi_online", "rmsprop", {"lr": "0.1"}, 40),
    ("double_well", "nesterov", {"lr": "0.01"}, 40),
])
def test_mpfr_golden_equals_its_mpmath_certification(problem, optimizer, hyper, steps):
    """The fast path prints what the previous one did: the same two MPFR runs, each value
    certified through mpmath numbers (golden.certified_text) and laid out here, one by one."""
    from verify.golden.engine import run_in
    from verify.golden.spec import effective_hyper
    from verify.golden.trace import Step

    spec = RunSpec(find_problem(problem), optimizer, hyper, steps)
    fast = run_golden(spec, engine="mpfr")
    hyper_eff = effective_hyper(spec.full_hyper(), spec.quantize)
    lo_ar, hi_ar = MpfrArith(spec.dps), MpfrArith(2 * spec.dps)
    lo, hi = run_in(spec, lo_ar, hyper_eff), run_in(spec, hi_ar, hyper_eff)
    ctx = mpmath.MPContext()
    ctx.prec = mpmath.libmp.dps_to_prec(2 * spec.dps) + 64
    reference = []
    for a, b in zip(lo, hi, strict=True):
        digits = []

        def vec(xs, ys, digits=digits):
            out = [certified_text(mp(x), mp(y), spec.dps, ctx) for x, y in zip(xs, ys, strict=True)]
            digits.extend(d for _, d in out)
            return tuple(t for t, _ in out)

        ra, rb = a.record, b.record
        reference.append(Step(
            rb.t, vec(ra.params, rb.params), vec(ra.grad, rb.grad) if rb.grad is not None else None,
            {k: vec(ra.state[k], v) for k, v in rb.state.items()},
            {k: vec(ra.aux[k], v) for k, v in rb.aux.items()}, vec([a.loss], [b.loss])[0],
            {k: vec(a.rows[k], v) for k, v in b.rows.items()}, min(digits)))
    assert fast.steps == tuple(reference)
    assert fast.arithmetic["certified_digits"] == min(s.digits for s in reference) >= 30
    if problem == "linear_regression":
        assert fast.steps[3].rows["residual"] == reference[3].rows["residual"]
        assert len(fast.steps[3].rows["residual"]) == 5


@pytest.mark.parametrize("problem,optimizer,hyper", [
    ("linear_regression", "gd", {"lr": "0.01"}),
    ("double_well", "nesterov", {"lr": "0.01"}),
    ("reddi_online", "rmsprop", {"lr": "0.1"}),
])
def test_engines_print_identical_goldens_where_they_round_alike(problem, optimizer, hyper):
    # Where both engines do the same correctly rounded operations, the golden text is the
    # same byte for byte. (Adam's 1 − β^t is a power in mpmath but carried by one
    # multiplication per step in MPFR, so there they agree to the certified digits only.)
    spec = RunSpec(find_problem(problem), optimizer, hyper, 40)
    assert run_golden(spec, engine="mpfr").steps == run_golden(spec, engine="mpmath").steps
