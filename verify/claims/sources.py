"""Claims checked against a source outside the pipeline: the literature (a cited passage and
the verdict it supports) and a package's own metadata (its summary and description)."""

from __future__ import annotations

from importlib import metadata

from .schema import Claim
from .verdicts import CONFIRMED, CONTRADICTED, ClaimResult, ItemResult, _judged, _uncheckable


def check_literature(claim: Claim) -> ClaimResult:
    """The verdict the cited passage supports, as the claims file records it with the
    citation and a short quote, so a reader can check the reading."""
    o = claim.options
    return _judged(claim, o["cites"], "as the source says", o["says"], o["verdict"],
                   f"{o['cites']}: “{o['says']}”")


def check_metadata(claim: Claim) -> ClaimResult:
    """Each phrase looked up (case-insensitively) in the installed distribution's summary and
    description (for most packages, its README)."""
    o = claim.options
    try:
        meta = metadata.metadata(o["package"])
    except metadata.PackageNotFoundError:
        return _uncheckable(claim, f"{o['package']} is not installed here")
    text = " ".join(filter(None, [meta.get("Summary"), meta.get("Description"),
                                  meta.get_payload() if hasattr(meta, "get_payload") else None]))
    flat = " ".join(text.split()).lower()
    items = tuple(ItemResult(f"“{p}”", p, "found" if p.lower() in flat else "absent", None, None,
                             CONFIRMED if p.lower() in flat else CONTRADICTED)
                  for p in o["contains"])
    version = meta.get("Version", "?")
    return ClaimResult(claim, items, f"{o['package']} {version} metadata (summary and "
                                     "description)")
