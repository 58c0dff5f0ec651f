"""Dispatch: each claim to the checker of its kind."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..cache import LIBRARIES, cached
from ..golden.trace import Trace
from .audits import check_audit
from .behaviour import check_experiment
from .code import check_code_claim, code_query
from .facts import check_critical_points, check_identity, check_state
from .formulas import check_formula
from .frameworks import api_query, check_api_claim, check_default
from .numbers import check_trace
from .reduction import check_reduction
from .schema import Claim, ClaimsFile
from .sources import check_literature, check_metadata
from .verdicts import NOT_CHECKABLE, ClaimResult, _uncheckable

CHECKERS: dict[str, Callable[..., ClaimResult]] = {
    "formula": check_formula, "critical_points": check_critical_points,
    "default": check_default, "api": check_api_claim, "state": check_state,
    "identity": check_identity, "experiment": check_experiment, "code": check_code_claim,
    "reduction": check_reduction, "literature": check_literature, "metadata": check_metadata,
    "statement": lambda c: _uncheckable(c, c.options["reason"]),
}


def check_claim(claim: Claim, goldens: dict[str, Trace],
                audits: dict[tuple[str, str, str | None], Any] | None = None,
                answers: Mapping[Any, Any] | None = None) -> ClaimResult:
    """``answers``: the API and code claims' questions answered elsewhere, by the audit workers
    that had the framework imported (``PendingAudits.answers``)."""
    if claim.kind == "trace":
        return check_trace(claim, goldens)
    if claim.kind == "audit":
        return check_audit(claim, audits or {})
    if claim.kind in PURE:
        return cached("claim", (repr(claim),), lambda: CHECKERS[claim.kind](claim))
    if claim.kind == "api" and claim.options["target"].split(".")[0] in VERSIONED:
        # a verdict on a library whose version keys the cache; "not checkable here" (a missing
        # dependency, say) is asked again next time
        return cached("claim", (repr(claim),), lambda: _answered(claim, answers),
                      keep=lambda r: all(i.verdict != NOT_CHECKABLE for i in r.items))
    if claim.kind in ("api", "code"):
        return _answered(claim, answers)
    return CHECKERS[claim.kind](claim)


def _answered(claim: Claim, answers: Mapping[Any, Any] | None) -> ClaimResult:
    """An API or code claim's checker, given the answers found elsewhere when there are any."""
    return CHECKERS[claim.kind](claim, answers) if answers else CHECKERS[claim.kind](claim)


def question(claim: Claim) -> Any | None:
    """What an API or code claim asks of an installed package, as data (``answer()``), for a
    process that has the package imported to answer; None for the other kinds."""
    if claim.kind == "api":
        return api_query(claim)
    if claim.kind == "code":
        return code_query(claim)
    return None


# kinds whose verdict is a function of the claim, this code and the library versions alone (no
# import of whatever module a claim names): their results may come from the cache
PURE = frozenset({"formula", "identity", "critical_points", "reduction"})
# the packages whose installed version is part of every cache key (module name = distribution
# name): an API claim on one of them is cached too — importing torch or Keras to look a name
# up costs seconds
VERSIONED = frozenset(name for name in LIBRARIES if name.isidentifier())


def check_claims(claims: ClaimsFile, goldens: dict[str, Trace],
                 audits: dict[tuple[str, str, str | None], Any] | None = None,
                 answers: Mapping[Any, Any] | None = None) -> tuple[ClaimResult, ...]:
    return tuple(check_claim(c, goldens, audits, answers) for c in claims.claims)


def iteration_of(claim: Claim) -> str:
    """The section's last heading part ("Iteration 2 › Adam" → "Iteration 2"), for grouping."""
    parts = [p.strip() for p in claim.section.split("›")]
    return next((p for p in parts if re.match(r"(First )?Iteration|Final", p)), parts[-1])
