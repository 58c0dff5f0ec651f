"""Load ``derivations/claims/*.toml`` into a ``ClaimsFile``, validating every field before any
computation, so that a bad file fails with one line naming the claim and the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import InputError, unknown
from ..experiments import EXPERIMENTS
from ..experiments.outcomes import VERDICTS
from ..rules import RULES
from ..runners.defaults import PAPER_ADAM
from ..symbolic.expr import parse_expr, parse_number
from ..symbolic.problems import available_problems
from ..tomlfile import field as toml_field
from ..tomlfile import read_toml
from .formulas import formula_expr
from .schema import FIELD_TYPES, IDENTITY_IDS, KINDS, OPTIONAL, Claim, ClaimsFile


def _claimed_strings(item: dict, w: str, numbers: bool) -> tuple[str, ...]:
    claimed = toml_field(item, "claimed", (str, list), w)
    claimed = [claimed] if isinstance(claimed, str) else claimed
    for c in claimed:
        if not isinstance(c, str):
            raise InputError("claimed values must be strings (decimal numbers or expressions)",
                             where=w)
        if numbers:
            parse_number(c, where=f"{w}.claimed")
    return tuple(claimed)


def _load_one(item: Any, w: str) -> Claim:
    if not isinstance(item, dict):
        raise InputError("must be a table", where=w)
    cid = toml_field(item, "id", str, w)
    w = f"{w} (id {cid!r})"
    kind = toml_field(item, "kind", str, w)
    if kind not in KINDS:
        raise InputError(unknown("kind", kind, KINDS), where=w)
    common = ("id", "section", "quote", "kind")
    allowed = set(common) | set(KINDS[kind]) | set(OPTIONAL.get(kind, ()))
    extra = sorted(set(item) - allowed)
    if extra:
        raise InputError(f"a {kind!r} claim has no field {extra[0]!r}", where=w)
    for name in KINDS[kind]:
        if name not in item:
            raise InputError(f"a {kind!r} claim needs field {name!r}", where=w)
    numbers = kind in ("trace", "default", "critical_points")
    claimed = _claimed_strings(item, w, numbers) if "claimed" in item else ()
    step = toml_field(item, "step", int, w, 0)
    if step < 0:
        raise InputError("step must be ≥ 0", where=w)
    options = {k: v for k, v in item.items() if k not in common + ("golden", "step", "quantity",
                                                                    "claimed")}
    for k, v in options.items():
        if not _has_type(v, FIELD_TYPES.get(k, "string")):
            raise InputError(f"field {k!r} must be a {FIELD_TYPES.get(k, 'string')}", where=w)
    if kind == "literature" and options["verdict"] not in VERDICTS[:-1]:
        raise InputError(f"field 'verdict' must be one of {', '.join(VERDICTS[:-1])}", where=w)
    if kind == "reduction":
        _validate_reduction(options, w)
    if kind == "experiment" and options["experiment"] not in EXPERIMENTS:
        raise InputError(f"unknown experiment {options['experiment']!r} "
                         f"(known: {', '.join(EXPERIMENTS)})", where=w)
    for key in ("optimizer", "expect"):
        if key in options and options[key] not in RULES:
            raise InputError(unknown("optimizer", options[key], sorted(RULES)), where=w)
    if "problem" in options and options["problem"] not in available_problems():
        raise InputError(f"unknown problem {options['problem']!r}", where=w)
    claim = Claim(cid, toml_field(item, "section", str, w), toml_field(item, "quote", str, w),
                  kind, toml_field(item, "golden", str, w, ""), step,
                  toml_field(item, "quantity", str, w, ""), claimed, options)
    _validate(claim, w)
    return claim


def _has_type(v: Any, spec: str) -> bool:
    if spec.startswith("integer"):
        lo, hi = {"integer ≥ 0": (0, 10**9), "integer 0..16": (0, 16),
                  "integer 1..10": (1, 10)}[spec]
        return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
    if spec == "true or false":
        return isinstance(v, bool)
    if spec in ("list of names", "list of strings"):
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if spec == "table of strings":
        return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
    if spec == "list of [name, name] pairs":
        return isinstance(v, list) and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in v)
    return isinstance(v, str)


def _validate_reduction(o: dict[str, Any], w: str) -> None:
    """Both optimizers known, the tables name their hyperparameters, the expressions parse,
    the compared quantities exist."""
    import sympy as sp

    for key in ("optimizer", "equals"):
        if o[key] not in RULES:
            raise InputError(f"field {key!r}: " + unknown("optimizer", o[key], sorted(RULES)), where=w)
    first, second = RULES[o["optimizer"]], RULES[o["equals"]]
    names = {h: sp.Symbol(h) for h in first.defaults}
    for key, rule in (("setting", first), ("mapping", second)):
        for k, text in o.get(key, {}).items():
            if k not in rule.defaults:
                raise InputError(f"field {key!r}: {rule.name} has no hyperparameter {k!r}",
                                 where=w)
            parse_expr(text, names, where=f"{w}: field {key!r}.{k}")
    for a, b in o.get("compare", [["delta", "delta"]]):
        for q, rule in ((a, first), (b, second)):
            if q not in ("delta",) + rule.state_names + rule.aux_names:
                raise InputError(f"field 'compare': {rule.name} computes no {q!r}", where=w)


def _validate(claim: Claim, w: str) -> None:
    """Checks that need no computation, so a bad file fails before any golden is run."""
    o = claim.options
    if claim.kind == "formula":
        if o["reference"] not in ("rule", "gradient", "loss"):
            raise InputError("field 'reference' must be 'rule', 'gradient' or 'loss'", where=w)
        need = "optimizer" if o["reference"] == "rule" else "problem"
        if need not in o:
            raise InputError(f"a {o['reference']} formula needs field {need!r}", where=w)
        if len(claim.claimed) != 1:
            raise InputError("a formula claim gives one expression", where=w)
        try:
            formula_expr(claim)
        except InputError as exc:
            raise InputError(str(exc), where=w) from None
    elif claim.kind == "critical_points" and claim.quantity not in ("minimum", "maximum",
                                                                     "saddle"):
        raise InputError("quantity must be minimum, maximum or saddle", where=w)
    elif claim.kind == "default" and claim.quantity not in PAPER_ADAM:
        raise InputError(f"quantity must be one of {', '.join(PAPER_ADAM)}", where=w)
    elif claim.kind == "identity":
        for key in ("identity", "without"):
            if key in o and o[key] not in IDENTITY_IDS:
                raise InputError(f"unknown identity {o[key]!r} in field {key!r} "
                                 f"(known: {', '.join(IDENTITY_IDS)})", where=w)
        if ("without" in o) != ("assumption" in o):
            raise InputError("fields 'assumption' and 'without' go together (the assumption, "
                             "and the identity showing the claim fails without it)", where=w)
    elif claim.kind == "api" and not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", o["target"]):
        raise InputError("field 'target' must be a dotted name such as mlx.optimizers.Adam",
                         where=w)
    if claim.kind in ("default", "critical_points") and len(claim.claimed) != 1:
        raise InputError("give one claimed value", where=w)


def load_claims(path: Path) -> ClaimsFile:
    where = str(path)
    doc = read_toml(path)
    claims = []
    seen = set()
    for i, item in enumerate(toml_field(doc, "claim", list, where)):
        claim = _load_one(item, f"{where}: claim[{i}]")
        if claim.id in seen:
            raise InputError(f"duplicate claim id {claim.id!r}", where=f"{where}: claim[{i}]")
        seen.add(claim.id)
        claims.append(claim)
    return ClaimsFile(toml_field(doc, "document", str, where),
                      toml_field(doc, "source", str, where, ""), where, tuple(claims))
