"""Behavioural statements, judged by an experiment with a declared protocol."""

from __future__ import annotations

from ..experiments import experiment
from ..experiments.outcomes import label
from .schema import Claim
from .verdicts import CONFIRMED, CONTRADICTED, ClaimResult, _judged, _uncheckable

NEGATION = {CONFIRMED: CONTRADICTED, CONTRADICTED: CONFIRMED}


def check_experiment(claim: Claim) -> ClaimResult:
    """The experiment's graded verdict over its sweep; a claim that names one setting
    (``at = "α = 0.01"``) is confirmed or contradicted by the outcome at that setting."""
    e = experiment(claim.options["experiment"])
    at = claim.options.get("at")
    if claim.options.get("negates"):  # the claim says the opposite of the experiment's claim
        verdict = NEGATION.get(e.verdict, e.verdict)
        return _judged(claim, e.title, "holds", verdict, verdict,
                       f"The claim is the negation of the experiment's ({e.verdict} there). "
                       + e.finding)
    if at is None:
        return _judged(claim, e.title, "holds", e.verdict, e.verdict, e.finding)
    labels = [label(s) for s in e.judgement.settings]
    if at not in labels:
        return _uncheckable(claim, f"experiment {e.id!r} has no setting {at!r} "
                                   f"(its settings: {'; '.join(labels)})")
    here = e.judgement.whole()[labels.index(at)]
    return _judged(claim, f"{e.title} at {at}", "holds", "holds" if here else "does not hold",
                   here, f"At {at}: the claim {'holds' if here else 'fails'}. {e.finding}")
