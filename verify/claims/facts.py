"""Symbolic facts: counts of critical points, the optimizer's state, proved identities."""

from __future__ import annotations

from ..golden.arith import as_fraction
from ..rules import RULES
from ..symbolic.derive import derive
from ..symbolic.identities import all_identities
from ..symbolic.problems import find_problem
from .schema import Claim
from .verdicts import (
    ASSUMPTION,
    CONFIRMED,
    CONTRADICTED,
    NOT_CHECKABLE,
    ClaimResult,
    _judged,
    _uncheckable,
)


def check_critical_points(claim: Claim) -> ClaimResult:
    d = derive(find_problem(claim.options["problem"]))
    kinds = [c.kind for c in d.critical_points]
    wanted = claim.quantity  # "minimum" | "maximum" | "saddle"
    count = sum(k == wanted for k in kinds)
    listing = "; ".join(f"{', '.join(map(str, c.coords))}: {c.kind}" for c in d.critical_points)
    if not d.complete:
        return _uncheckable(claim, f"critical points not all found ({d.method})")
    return _judged(claim, f"number of {wanted} points", claim.claimed[0], str(count),
                   as_fraction(claim.claimed[0]) == count, f"SymPy: {listing}")


def check_state(claim: Claim) -> ClaimResult:
    rule = RULES[claim.options["optimizer"]]
    ok = set(claim.claimed) == set(rule.state_names)
    return _judged(claim, "state per parameter", ", ".join(claim.claimed),
                   ", ".join(rule.state_names), ok,
                   f"rule {rule.name!r} keeps {len(rule.state_names)} values per parameter")


def check_identity(claim: Claim) -> ClaimResult:
    """Confirmed when SymPy proves the identity; *holds only under an assumption* when the
    claim names its assumption and an identity showing it fails without it, both proved."""
    ids = {i.id: i for i in all_identities()}
    ident = ids[claim.options["identity"]]
    note = f"{ident.title}: {ident.method}"
    if claim.options.get("counterexample"):  # the identity refutes the claim
        return _judged(claim, ident.title, "holds", "refuted" if ident.proved else "not refuted",
                       CONTRADICTED if ident.proved else NOT_CHECKABLE,
                       f"A counterexample, proved: {note}" if ident.proved else note)
    counter = ids.get(claim.options.get("without", ""))
    if counter is None or not ident.proved:
        return _judged(claim, ident.title, "holds", "proved" if ident.proved else "not proved",
                       ident.proved, note)
    verdict = ASSUMPTION if counter.proved else CONFIRMED
    note += (f". Assumption: {claim.options['assumption']}. Without it: {counter.title} — "
             f"{counter.method}" if counter.proved else
             f". The counterexample ({counter.title}) was not proved")
    return _judged(claim, ident.title, "holds", f"proved under: {claim.options['assumption']}",
                   verdict, note)
