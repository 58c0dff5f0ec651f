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
# what each kind checks, for the format reference and `claims init`
KIND_DOC: dict[str, str] = {
    "trace": "printed numbers of a worked example against a committed golden trace",
    "formula": "an expression against one step of a rule on symbols, or a problem's gradient",
    "critical_points": "a count of minima, maxima or saddles against SymPy's classification",
    "default": "a stated default against Kingma & Ba and the installed frameworks",
    "api": "a dotted name (and optionally a call's arity and keywords) against the packages",
    "state": "the per-parameter state an optimizer keeps",
    "identity": "a statement SymPy proves (optionally: only under a stated assumption)",
    "experiment": "a behavioural statement, by an experiment with a protocol and a sweep",
    "audit": "what an installed framework computes, by an audit",
    "code": "a code block, parsed; every import and call resolved and bound, none run",
    "reduction": "one optimizer with some hyperparameters fixed computing as another",
    "literature": "a statement against a cited passage (the citation and a short quote)",
    "metadata": "a statement about a package against its own metadata",
    "statement": "not checkable, with the reason",
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
