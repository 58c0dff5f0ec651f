"""Stated defaults against the paper and the frameworks' signatures; API usages against the
installed packages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..golden.arith import as_fraction
from ..runners.defaults import PAPER_ADAM, REQUIRED, ApiQuery, shipped_adam_defaults
from .schema import Claim
from .verdicts import ClaimResult, _judged, _uncheckable


def check_default(claim: Claim) -> ClaimResult:
    name = claim.quantity
    paper = PAPER_ADAM[name]
    ok = as_fraction(claim.claimed[0]) == as_fraction(paper)
    ships = []
    for s in shipped_adam_defaults():
        value = s.values.get(name)
        if value is None:
            continue
        same = value != REQUIRED and as_fraction(value) == as_fraction(claim.claimed[0])
        ships.append(f"{s.framework} {s.version}: {value}" + ("" if same else " (differs)"))
    return _judged(claim, name, claim.claimed[0], paper, ok,
                   "Kingma & Ba (2015), Algorithm 1; shipped defaults — " + "; ".join(ships))


def api_query(claim: Claim) -> ApiQuery:
    o = claim.options
    return ApiQuery(o["target"], o.get("args", 0), tuple(o.get("kwargs", ())), o.get("call", False))


def check_api_claim(claim: Claim, known: Mapping[Any, Any] | None = None) -> ClaimResult:
    """``known``: answers found elsewhere (an audit worker that had the package imported)."""
    o = claim.options
    query = api_query(claim)
    r = (known or {}).get(query) or query.answer()
    if r.exists is None:
        return _uncheckable(claim, r.detail)
    return _judged(claim, o["target"], "exists" + (" and accepts the call" if o.get("call") else ""),
                   "yes" if r.exists else "no", r.exists, r.detail)
