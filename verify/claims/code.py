"""A document's code example checked without running it (``codecheck``): every import and
call resolved against the installed packages and bound to the real signature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..cache import cached, distributions_digest, installed_versions
from .codecheck import FAILS, OK, CodeCheck, CodeQuery
from .schema import Claim
from .verdicts import CONFIRMED, CONTRADICTED, NOT_CHECKABLE, ClaimResult, ItemResult

STATUS = {OK: CONFIRMED, FAILS: CONTRADICTED}


def code_query(claim: Claim) -> CodeQuery:
    return CodeQuery(claim.options["code"], tuple(dict(claim.options.get("aliases", {})).items()))


def code_answer(query: CodeQuery, known: Mapping[Any, Any] | None = None) -> CodeCheck:
    """The block's check: as found elsewhere (an audit worker that had the framework imported)
    or computed here, and reused from the result cache under the same installed versions of
    the packages it imports (absent ones included) and of the whole environment. Not kept: a
    block importing local code, or one where an installed module failed to import (installing
    its dependency changes the answer)."""
    found = (known or {}).get(query)
    installed = installed_versions(query.packages)
    if installed is None:
        return found or query.answer()
    return cached("claim", ("code", query.source, query.aliases, installed,
                            distributions_digest()),
                  lambda: found or query.answer(), keep=lambda r: not r.import_failed)


def check_code_claim(claim: Claim, known: Mapping[Any, Any] | None = None) -> ClaimResult:
    """``known``: answers found elsewhere (an audit worker that had the framework imported)."""
    r = code_answer(code_query(claim), known)
    items = tuple(ItemResult(f"line {f.line}", f.text, f.detail, None, None,
                             STATUS.get(f.status, NOT_CHECKABLE)) for f in r.findings)
    note = (f"{len(r.findings)} imports and calls: {r.count(OK)} resolve and bind, "
            f"{r.count(FAILS)} fail, {r.count('unresolved')} unresolved here")
    if r.aliases:
        note += "; resolved with " + ", ".join(f"{a} as {b}" for a, b in r.aliases)
    if r.undefined:
        note += "; names used but never defined in the block: " + ", ".join(r.undefined)
    return ClaimResult(claim, items, note)
