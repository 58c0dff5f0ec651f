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
    "code": ("code",),
    "reduction": ("optimizer", "equals", "mapping"),
    "literature": ("cites", "says", "verdict"),
    "metadata": ("package", "contains"),
    "statement": ("reason",),
}
OPTIONAL = {"formula": ("optimizer", "problem", "constants"), "api": ("args", "kwargs", "call"),
            "audit": ("problem",), "identity": ("assumption", "without", "counterexample"),
            "experiment": ("at", "negates"),
            "code": ("aliases",), "reduction": ("setting", "steps", "compare")}

# the type of every field beyond the four every claim has (id, section, quote, kind); any
# field not listed is a string
FIELD_TYPES: dict[str, str] = {
    "step": "integer ≥ 0", "args": "integer 0..16", "steps": "integer 1..10",
    "call": "true or false", "kwargs": "list of names", "contains": "list of strings",
    "claimed": "string or list of strings", "aliases": "table of strings",
    "mapping": "table of strings", "setting": "table of strings",
    "constants": "table of strings", "counterexample": "true or false",
    "negates": "true or false",
    "compare": "list of [name, name] pairs",
}


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
