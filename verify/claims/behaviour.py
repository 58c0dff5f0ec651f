"""Behavioural statements, judged by an experiment with a declared protocol."""

from __future__ import annotations

from ..experiments import experiment
from .schema import Claim
from .verdicts import ClaimResult, _judged


def check_experiment(claim: Claim) -> ClaimResult:
    e = experiment(claim.options["experiment"])
    return _judged(claim, e.title, "holds", "holds" if e.holds else "does not hold", e.holds,
                   e.finding)
