"""Claims about what a framework computes, judged by an audit of the installed framework."""

from __future__ import annotations

from typing import Any

from ..auditing import audit
from ..errors import InputError
from .schema import Claim
from .verdicts import ClaimResult, _judged, _uncheckable


def check_audit(claim: Claim, audits: dict[tuple[str, str], Any]) -> ClaimResult:
    o = claim.options
    key = (o["impl"], o["optimizer"])
    try:
        result = audits.get(key) or audit(o["impl"], o["optimizer"],
                                          o.get("problem", "probe"))
    except InputError as exc:
        return _uncheckable(claim, str(exc))
    d = result.diagnosis
    if d.verdict == "consistent":
        computes = d.claimed
    else:
        computes = d.explanation.rule if d.explanation else "unexplained"
    return _judged(claim, f"{o['impl']} {o['optimizer']}", o["expect"], computes,
                   computes == o["expect"], f"audit of {o['impl']} ({result.version}): {d.summary}")
