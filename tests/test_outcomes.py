"""Graded verdicts: a claim judged part by part over a sweep (values worked out by hand)."""

import pytest

from verify.experiments.outcomes import (
    ASSUMPTION,
    CONFIRMED,
    CONTRADICTED,
    DEPENDS,
    NOT_CHECKABLE,
    PARTLY,
    Part,
    combine,
    grade,
    ranges,
)

ALPHAS = tuple((("α", a),) for a in ("0.01", "0.1", "1"))


def test_grade_every_case():
    yes, no, mixed = (True, True, True), (False, False, False), (False, True, True)
    assert grade([Part("a", yes)], ALPHAS).verdict == CONFIRMED
    assert grade([Part("a", no)], ALPHAS).verdict == CONTRADICTED
    assert grade([Part("a", mixed)], ALPHAS).verdict == DEPENDS
    assert grade([Part("a", yes), Part("b", no)], ALPHAS).verdict == PARTLY
    # each part holds somewhere but never both at once: partly, not "depends"
    assert grade([Part("a", (True, False, False)), Part("b", (False, True, True))],
                 ALPHAS).verdict == PARTLY
    assert grade([Part("a", yes), Part("b", mixed)], ALPHAS).verdict == DEPENDS
    with pytest.raises(ValueError):
        grade([Part("a", (True,))], ALPHAS)


def test_sentences_say_where_and_which_part():
    j = grade([Part("larger steps", (True, True, True)), Part("oscillates", (False, True, True))],
              ALPHAS, reference=0)
    text = j.sentence()
    assert "holds at α ∈ {0.1, 1} (2 of 3 settings)" in text
    assert "“oscillates” fails at α = 0.01" in text
    assert text.endswith("At the document's own setting (α = 0.01) it fails.")
    assert j.table()[-1] == ("the whole claim", "α ∈ {0.1, 1}", "α = 0.01")
    partly = grade([Part("stuck", (True, True, False)), Part("local minimum", (False,) * 3)],
                   ALPHAS).sentence()
    assert "“local minimum” fails at every setting tried." in partly


def test_ranges_group_by_leading_dimensions():
    settings = [(("θ0", "1"), ("α", "0.1")), (("θ0", "1"), ("α", "0.5")), (("θ0", "2"), ("α", "0.5"))]
    assert ranges(settings) == "θ0 = 1: α ∈ {0.1, 0.5}; θ0 = 2: α = 0.5"
    assert ranges([]) == "no setting"


def test_combine_items():
    assert combine([CONFIRMED, CONFIRMED]) == CONFIRMED
    assert combine([CONFIRMED, CONTRADICTED]) == PARTLY
    assert combine([CONTRADICTED, CONTRADICTED]) == CONTRADICTED
    assert combine([CONFIRMED, ASSUMPTION]) == ASSUMPTION
    assert combine([NOT_CHECKABLE, CONFIRMED]) == CONFIRMED  # the unchecked one is in the note
    assert combine([NOT_CHECKABLE]) == combine([]) == NOT_CHECKABLE
