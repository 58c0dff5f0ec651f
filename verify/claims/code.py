"""A document's code example checked without running it (``codecheck``): every import and
call resolved against the installed packages and bound to the real signature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..codecheck import FAILS, OK, CodeQuery
from .schema import Claim
from .verdicts import CONFIRMED, CONTRADICTED, NOT_CHECKABLE, ClaimResult, ItemResult

STATUS = {OK: CONFIRMED, FAILS: CONTRADICTED}


def code_query(claim: Claim) -> CodeQuery:
    return CodeQuery(claim.options["code"], tuple(dict(claim.options.get("aliases", {})).items()))


def check_code_claim(claim: Claim, known: Mapping[Any, Any] | None = None) -> ClaimResult:
    """``known``: answers found elsewhere (an audit worker that had the framework imported)."""
    query = code_query(claim)
    r = (known or {}).get(query) or query.answer()
    items = tuple(ItemResult(f"line {f.line}", f.text, f.detail, None, None,
                             STATUS.get(f.status, NOT_CHECKABLE)) for f in r.findings)
    note = (f"{len(r.findings)} imports and calls: {r.count(OK)} resolve and bind, "
            f"{r.count(FAILS)} fail, {r.count('unresolved')} unresolved here")
    if r.aliases:
        note += "; resolved with " + ", ".join(f"{a} as {b}" for a, b in r.aliases)
    if r.undefined:
        note += "; names used but never defined in the block: " + ", ".join(r.undefined)
    return ClaimResult(claim, items, note)
