"""Claim verdicts: printed precision, confirmations and the article's known errors."""

from fractions import Fraction

import pytest

from verify import paths
from verify.claims import CONFIRMED, CONTRADICTED, check_claims, load_claims, printed_tolerance
from verify.errors import InputError
from verify.goldenset import load_committed, load_manifest


@pytest.fixture(scope="module")
def results():
    goldens = load_committed(load_manifest())
    return {r.claim.id: r for r in check_claims(load_claims(paths.ARTICLE_CLAIMS), goldens)}


def test_printed_tolerance():
    assert printed_tolerance("-28.16") == Fraction(5, 1000)
    assert printed_tolerance("1539") == Fraction(1, 2)
    assert printed_tolerance("1e-8") == Fraction(1, 2 * 10**8)


def test_first_iteration_is_right(results):
    # Hand computation: grad = (−44, −12), GD step 0.01 → (0.44, 0.12); Adam m = 0.1·g.
    for cid in ("lr.gd.it1.grad", "lr.gd.it1.update", "lr.adam.it1.m", "lr.adam.it1.v_hat",
                "lr.adam.it1.update"):
        assert results[cid].verdict == CONFIRMED


def test_known_article_errors(results):
    grad = results["lr.gd.it2.grad"]
    assert grad.verdict == CONTRADICTED
    w = grad.items[0]
    assert (w.claimed, w.golden) == ("-28.16", "-33.6")  # exact: −(2/5)·84
    assert w.diff == Fraction("5.44")
    final = results["lr.adam.final"].items[0]
    assert final.verdict == CONTRADICTED and final.golden.startswith("0.049971")
    # the article's iteration-2 predictions: 0.44·2 + 0.12 is 1.00, not 1.44
    assert results["lr.gd.it2.prediction"].items[1].golden == "1"


def test_bad_claims_file(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('document = "d"\n[[claim]]\nid = "a"\nsection = "s"\nquote = "q"\n'
                   'kind = "trace"\ngolden = "g"\nstep = 1\nquantity = "grad"\nclaimed = 0.5\n')
    with pytest.raises(InputError, match="claimed"):
        load_claims(bad)
