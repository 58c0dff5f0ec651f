"""What a document claims (``derivations/claims/*.toml``) and the verdict on each claim.

A number printed with k decimals is confirmed when the golden value lies within half a unit of
its last printed digit (what correct rounding to k decimals allows); otherwise contradicted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .arith import as_fraction
from .errors import InputError
from .expr import parse_number
from .tomlfile import field, read_toml
from .trace import Trace

KINDS = ("trace",)
CONFIRMED, CONTRADICTED, NOT_CHECKABLE = "confirmed", "contradicted", "not checkable"


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    quote: str
    kind: str
    golden: str
    step: int
    quantity: str
    claimed: tuple[str, ...]


@dataclass(frozen=True)
class ClaimsFile:
    document: str
    source: str
    path: str
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class ItemResult:
    """One printed number: claimed, golden, their difference, the verdict."""

    label: str
    claimed: str
    golden: str | None
    diff: Fraction | None
    tolerance: Fraction
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
        verdicts = {i.verdict for i in self.items}
        if NOT_CHECKABLE in verdicts or not verdicts:
            return NOT_CHECKABLE
        return CONTRADICTED if CONTRADICTED in verdicts else CONFIRMED


def load_claims(path: Path) -> ClaimsFile:
    where = str(path)
    doc = read_toml(path)
    claims = []
    seen = set()
    for i, item in enumerate(field(doc, "claim", list, where)):
        w = f"{where}: claim[{i}]"
        if not isinstance(item, dict):
            raise InputError("must be a table", where=w)
        cid = field(item, "id", str, w)
        if cid in seen:
            raise InputError(f"duplicate claim id {cid!r}", where=w)
        seen.add(cid)
        kind = field(item, "kind", str, w)
        if kind not in KINDS:
            raise InputError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})", where=w)
        claimed = field(item, "claimed", (str, list), w)
        claimed = [claimed] if isinstance(claimed, str) else claimed
        for c in claimed:
            if not isinstance(c, str):
                raise InputError("claimed values must be decimal strings", where=w)
            parse_number(c, where=f"{w}.claimed")
        step = field(item, "step", int, w)
        if step < 0:
            raise InputError("step must be ≥ 0", where=w)
        claims.append(Claim(cid, field(item, "section", str, w), field(item, "quote", str, w),
                            kind, field(item, "golden", str, w), step,
                            field(item, "quantity", str, w), tuple(claimed)))
    return ClaimsFile(field(doc, "document", str, where), field(doc, "source", str, where, ""),
                      where, tuple(claims))


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


def labels(trace: Trace, n: int) -> list[str]:
    """Parameter names for parameter-sized vectors, else positions."""
    if n == len(trace.param_names):
        return list(trace.param_names)
    return [f"[{i}]" for i in range(n)]


def check_claim(claim: Claim, goldens: dict[str, Trace]) -> ClaimResult:
    trace = goldens.get(claim.golden)
    if trace is None:
        return _uncheckable(claim, f"no golden {claim.golden!r}")
    try:
        values = trace.step(claim.step).values(claim.quantity)
    except KeyError:
        return _uncheckable(claim, f"golden {claim.golden!r} has no step {claim.step}")
    if values is None:
        return _uncheckable(claim, f"golden {claim.golden!r} records no {claim.quantity!r}")
    if len(values) != len(claim.claimed):
        return _uncheckable(claim, f"claim gives {len(claim.claimed)} values, "
                                   f"golden has {len(values)}")
    names = labels(trace, len(values))
    return ClaimResult(claim, tuple(check_item(n, c, g)
                                    for n, c, g in zip(names, claim.claimed, values, strict=True)))


def _uncheckable(claim: Claim, why: str) -> ClaimResult:
    return ClaimResult(claim, tuple(check_item(f"[{i}]", c, None)
                                    for i, c in enumerate(claim.claimed)), why)


def check_claims(claims: ClaimsFile, goldens: dict[str, Trace]) -> tuple[ClaimResult, ...]:
    return tuple(check_claim(c, goldens) for c in claims.claims)


def iteration_of(claim: Claim) -> str:
    """The section's last heading part ("Iteration 2 › Adam" → "Iteration 2"), for grouping."""
    parts = [p.strip() for p in claim.section.split("›")]
    return next((p for p in parts if re.match(r"(First )?Iteration|Final", p)), parts[-1])

