"""Explanations that are right or abstain: a cause is named only where a hypothesis changes the
quantity and brings it inside; a fit of the exposed state is evidence, never a cause, and a fit
equal to the rule's own average is not shown; a variant is named with what differs and what it
means; blind sets are scored right / wrong / none against the term their author planted."""

import pytest

import verify
from verify.auditing.calibration import (
    Outcome,
    Probe,
    Score,
    explanation_of,
    names_planted,
)
from verify.rules import MEANING, RULES, difference

FIX = "tests.fixtures.user_optimizers"


@pytest.fixture(scope="module")
def floor():
    # v floored at 1e-4: m is exactly the rule's average, v is not an average in tiny settings
    return verify.audit(f"{FIX}:adam_v_floor", "adam", golden=False)


def test_no_cause_is_named_where_no_slip_fits(floor):
    assert floor.verdict == "discrepant"
    assert not any(t.cause for t in floor.diagnosis.terms)
    assert "not explained: no catalogue variant and no single slip" in floor.summary
    assert "forensics:" not in floor.summary
    ruled_out = [u for u in floor.diagnosis.unidentifiable if u.startswith("ruled out")]
    assert ruled_out and "v averages |g|, not g²" in ruled_out[0]


def test_a_fit_equal_to_the_rules_own_average_is_not_shown(floor):
    # m is Adam's own m (β1 = the configured β1): the old forensics printed
    # "m ≈ 0.9·m + 0.1·g (the rule has β1 and 1 − β1)" as a term found off
    assert not any(t.term == "m" for t in floor.diagnosis.terms)
    assert "m fits" not in floor.summary
    fits = [t for t in floor.diagnosis.terms if not t.cause]
    assert [t.term for t in fits] == ["v"]
    assert "the rule has β2 = " in fits[0].finding


def test_hyperparameters_held_in_float32_are_a_model_not_a_slip():
    r = verify.audit(f"{FIX}:adam_beta1_held_float32", "adam", golden=False)
    assert r.verdict == "consistent", r.summary
    assert "hyperparameters in float32" in r.summary


def test_a_variant_is_named_with_what_differs_and_what_it_means():
    r = verify.audit(f"{FIX}:adam_eps_inside", "adam", golden=False)
    assert r.computes == "adam-epsroot"
    assert "— where ε enters: inside the root where adam has outside the root" in r.summary
    assert f"adam-epsroot: {MEANING['adam-epsroot']}" in r.summary
    text, cats = explanation_of(r)
    assert cats == ("eps",) and text.startswith("computes adam-epsroot (where ε enters")
    right = Probe("x", "m:x", "adam", planted="eps", expect=("inside the square root",))
    assert names_planted(right, text, cats)
    wrong = Probe("x", "m:x", "adam", planted="bias_correction_v", expect=("bias correction",))
    assert not names_planted(wrong, text, cats)


def test_every_rule_has_a_meaning_and_differences_are_worded():
    assert set(MEANING) == set(RULES)
    assert difference("adamw", "adam") == "weight decay: none where adamw has decoupled"
    assert difference("amsgrad", "adam") == "running max of v: none where amsgrad has max over v"
    assert difference("momentum", "momentum-zero") == "first momentum buffer: 0 where momentum has g"
    assert difference("adam", "adam") == ""


def _outcome(correct, verdict, planted=None, named=False, explanation=""):
    p = Probe("x", "m:x", "adam", correct=correct, planted=planted)
    return Outcome(p, verdict, "", named, "", 0.0, explanation)


def test_blind_counts_right_wrong_none_and_false_alarms():
    score = Score((
        _outcome(True, "consistent"), _outcome(True, "discrepant"),
        _outcome(False, "consistent", "v"),
        _outcome(False, "discrepant", "v", named=True, explanation="v: …"),
        _outcome(False, "discrepant", "eps", named=False, explanation="m: …"),
        _outcome(False, "discrepant", "lr"),
        _outcome(False, "not audited", "lr"),
    ))
    assert score.blind_counts == {"buggy": 5, "flagged": 3, "right": 1, "wrong": 1, "none": 1,
                                  "correct": 2, "false_alarms": 1}
