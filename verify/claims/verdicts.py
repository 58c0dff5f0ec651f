"""Verdicts: one checked value (``ItemResult``), one judged claim (``ClaimResult``), and the
printed-precision rule: a number printed with k decimals is confirmed when the reference lies
within half a unit of its last printed digit."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..experiments.outcomes import (
    ASSUMPTION,
    CONFIRMED,
    CONTRADICTED,
    DEPENDS,
    NOT_CHECKABLE,
    PARTLY,
    VERDICTS,
    combine,
)
from ..golden.arith import as_fraction
from .schema import Claim

__all__ = ["ASSUMPTION", "CONFIRMED", "CONTRADICTED", "DEPENDS", "NOT_CHECKABLE", "PARTLY",
           "VERDICTS", "ClaimResult", "ItemResult", "check_item", "printed_tolerance"]


@dataclass(frozen=True)
class ItemResult:
    """One checked value: claimed, the reference (golden or derived), difference, verdict."""

    label: str
    claimed: str
    golden: str | None
    diff: Fraction | None
    tolerance: Fraction | None
    verdict: str

    @property
    def rel_err(self) -> float | None:
        if self.diff is None or self.golden is None:
            return None
        g = as_fraction(self.golden)
        return float(abs(self.diff) / abs(g)) if g else None


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    items: tuple[ItemResult, ...]
    note: str = ""

    @property
    def verdict(self) -> str:
        """The items' verdicts combined: a vector with some entries right and some wrong is
        *partly confirmed* (``outcomes.combine``)."""
        return combine([i.verdict for i in self.items])

    def failing(self) -> tuple[str, ...]:
        """Labels of the items that were contradicted (the part of the claim that fails)."""
        return tuple(i.label for i in self.items if i.verdict == CONTRADICTED)


def printed_tolerance(text: str) -> Fraction:
    """Half a unit in the last digit printed: "-28.16" → 0.005, "1539" → 0.5, "1e-8" → 5e-9."""
    mantissa, _, exponent = text.strip().lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return Fraction(1, 2) * Fraction(10) ** (-decimals + (int(exponent) if exponent else 0))


def check_item(label: str, claimed: str, golden: str | None) -> ItemResult:
    tol = printed_tolerance(claimed)
    if golden is None:
        return ItemResult(label, claimed, None, None, tol, NOT_CHECKABLE)
    diff = as_fraction(claimed) - as_fraction(golden)
    return ItemResult(label, claimed, golden, diff, tol,
                      CONFIRMED if abs(diff) <= tol else CONTRADICTED)


def _uncheckable(claim: Claim, why: str) -> ClaimResult:
    claimed = claim.claimed or ("",)
    return ClaimResult(claim, tuple(ItemResult(f"[{i}]", c, None, None, None, NOT_CHECKABLE)
                                    for i, c in enumerate(claimed)), why)


def _judged(claim: Claim, label: str, claimed: str, found: str, ok: bool | str,
            note: str) -> ClaimResult:
    """A claim with one judged item; ``ok`` is a bool (confirmed or contradicted) or one of
    the graded verdicts."""
    verdict = ok if isinstance(ok, str) else (CONFIRMED if ok else CONTRADICTED)
    return ClaimResult(claim, (ItemResult(label, claimed, found, None, None, verdict),), note)
