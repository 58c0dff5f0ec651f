"""The slip grammar: the simplest combination of slips that reproduces a printed number."""

from verify.claims.slips import Inputs, matching_digits, search, significant

HYPER = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def inputs(grad=-33.6, other=-28.16, m_prev=-4.4, v_prev=1.936, m=None, v=None):
    g = (((), grad), (("the other table's printed gradient",), other))
    same = {"m": (((), m),) if m is not None else (), "v": (((), v),) if v is not None else (),
            "m_hat": (), "v_hat": ()}
    return Inputs(2, HYPER, g, {"m": (((), m_prev),), "v": (((), v_prev),), "params": ()}, same)


def test_digit_counting():
    assert significant("-28.16") == 4 and significant("0.0196") == 3 and significant("1539") == 4
    assert matching_digits(1678.339, "1677.5") == 3
    assert matching_digits(-6.7760001, "-6.776") == 4


def test_correct_computation_needs_no_slip():
    # m_2 = 0.9·(−4.4) + 0.1·(−33.6) = −7.32 exactly
    found = search("m", inputs(), "-7.32")
    assert found.reproduces and found.slips == ()


def test_other_tables_gradient():
    # the article's m_2 = −6.776 = 0.9·(−4.4) + 0.1·(−28.16): GD's printed gradient
    found = search("m", inputs(), "-6.776")
    assert found.reproduces and found.slips == ("the other table's printed gradient",)
    assert found.digits == 4


def test_rounded_power_and_unexplained():
    # v̂_2 = 3.355/0.002 = 1677.5 with 1 − 0.999² = 0.001999 rounded to one digit
    found = search("v_hat", inputs(v=3.355), "1677.5")
    assert found.reproduces and found.slips == ("1 − βᵗ rounded to 1 significant digit",)
    # perturb the printed number: nothing in the grammar gives 1234.5 → unexplained, said so
    miss = search("v_hat", inputs(v=3.355), "1234.5")
    assert not miss.reproduces and miss.text().startswith("unexplained")
