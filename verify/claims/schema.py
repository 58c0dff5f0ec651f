"""The claims-file data model: a document's claims, the kinds of check, the fields each needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

IDENTITY_IDS = ("ema_closed_form", "bias_correction_exact", "first_step", "eps_hat_ordering",
                "step_bound", "bias_correction_drift", "step_scale_free", "step_unbounded")

# kind → the fields it needs besides id, section, quote, kind
KINDS: dict[str, tuple[str, ...]] = {
    "trace": ("golden", "step", "quantity", "claimed"),
    "formula": ("reference", "quantity", "claimed"),
    "critical_points": ("problem", "quantity", "claimed"),
    "default": ("optimizer", "quantity", "claimed"),
    "api": ("target",),
    "state": ("optimizer", "claimed"),
    "identity": ("identity",),
    "experiment": ("experiment",),
    "audit": ("impl", "optimizer", "expect"),
    "statement": ("reason",),
}
OPTIONAL = {"formula": ("optimizer", "problem"), "api": ("args", "kwargs", "call"),
            "audit": ("problem",), "identity": ("assumption", "without"), "experiment": ("at",)}


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    quote: str
    kind: str
    golden: str = ""
    step: int = 0
    quantity: str = ""
    claimed: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ClaimsFile:
    document: str
    source: str
    path: str
    claims: tuple[Claim, ...]
