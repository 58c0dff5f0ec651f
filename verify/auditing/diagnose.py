"""Diagnosis of a discrepant implementation: which catalogue variant (and scalar model) it
computes, judged over the whole battery by the same envelope as the verdict; when none does,
forensics names the terms that are off (``forensics.py``)."""

from __future__ import annotations

from ..golden.spec import RunSpec
from ..golden.trace import Trace
from ..rules import RULES
from .battery import Setting
from .candidates import candidate, family, runs_for
from .forensics import forensics
from .result import Diagnosis


def diagnose(claimed: str, ran: list[tuple[Setting, RunSpec, Trace]], dtype: str) -> Diagnosis:
    """Try every other member of the claimed rule's family; the first (simplest) that fits
    every setting explains the run. Otherwise forensics looks for the terms that are off."""
    cands = tuple(candidate(RULES[rule], runs_for(rule, ran)) for rule in family(claimed)
                  if rule != claimed)
    fitting = [c for c in cands if c.fits]
    if fitting:
        return Diagnosis(claimed, fitting[0], cands)
    terms, unknown = forensics(claimed, ran, dtype)
    return Diagnosis(claimed, None, cands, terms, unknown)
