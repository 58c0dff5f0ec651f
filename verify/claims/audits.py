"""Claims about what a framework computes, judged by an audit of the installed framework."""

from __future__ import annotations

from typing import Any

from ..auditing import audit
from ..auditing.batch import cacheable
from ..cache import cached
from ..errors import InputError
from .schema import Claim
from .verdicts import ClaimResult, _judged, _uncheckable


def check_audit(claim: Claim, audits: dict[tuple[str, str, str | None], Any]) -> ClaimResult:
    """The audit of the claim's implementation (reused from the report's when it was run on
    the same problem; ``audits`` may also hold why the report's batch could not run it), and
    whether what it computes is what the document implies."""
    o = claim.options
    problem = None if o.get("problem", "probe") == "probe" else o["problem"]
    key = (o["impl"], o["optimizer"], problem)
    try:
        result = audits.get(key) or (
            cached("audit", key, lambda: audit(o["impl"], o["optimizer"], problem))
            if cacheable(o["impl"]) else audit(o["impl"], o["optimizer"], problem))
    except InputError as exc:
        return _uncheckable(claim, str(exc))
    if isinstance(result, str):  # the report's batch could not audit it: why
        return _uncheckable(claim, result)
    if result.verdict == "not audited":
        return _uncheckable(claim, result.summary)
    return _judged(claim, f"{o['impl']} {o['optimizer']}", o["expect"], result.computes,
                   result.computes == o["expect"],
                   f"audit of {o['impl']} ({result.version}): {result.summary}")
