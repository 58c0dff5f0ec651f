"""The fast path of ``as_fraction`` for plain decimal strings (trace values) must accept and
return exactly what the exact parser ``expr.parse_number`` does."""

import random
from fractions import Fraction

import pytest

from verify.errors import InputError
from verify.golden.arith import as_fraction
from verify.symbolic.expr import parse_number


def _cases():
    rng = random.Random(1)
    fixed = ["0", "-0", "+1", "1.", "1.5", "-.5", ".5", "1e5", "1E-5", "1.5e+400", "1e401",
             "1e-401", "007", "00", "007.5", "007e5", "1_000", "1e", "e5", "-", "", "nan", "inf",
             " 1", "1 ", "0x10", "1.2.3", "12345678901234567890.123456789e-300", "--1", "+-1"]
    drawn = []
    for _ in range(1500):
        drawn.append(f"{rng.choice(['', '-', '+'])}{rng.randint(0, 10**rng.randint(0, 30))}."
                     f"{rng.randint(0, 10**rng.randint(0, 50))}e{rng.randint(-420, 420)}")
        drawn.append(repr(rng.uniform(-1e10, 1e10)))
        drawn.append(str(rng.randint(0, 10**rng.randint(0, 8))).zfill(rng.randint(1, 4)))
    return fixed + drawn


def _reference(text):
    try:
        r = parse_number(text)
    except InputError:
        return "refused"
    return Fraction(int(r.p), int(r.q))


def _fast(text):
    try:
        return as_fraction(text)
    except InputError:
        return "refused"


@pytest.mark.parametrize("chunk", range(4))
def test_fast_path_agrees_with_the_exact_parser(chunk):
    cases = _cases()[chunk::4]
    assert [_fast(c) for c in cases] == [_reference(c) for c in cases]
    assert _fast("0.1") == Fraction(1, 10) and _fast("007") == "refused"
