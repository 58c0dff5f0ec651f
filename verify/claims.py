"""What a document claims (``derivations/claims/*.toml``) and the verdict on each claim.

A number printed with k decimals is confirmed when the golden value lies within half a unit of
its last printed digit (what correct rounding to k decimals allows); otherwise contradicted.
Other kinds of claim are checked by what the pipeline derives: formulas against the rules run
on SymPy symbols, counts of minima against the symbolic classification, stated defaults against
the paper and the frameworks' signatures, API snippets against the installed packages, and
qualitative statements by an experiment with a declared protocol (``experiments.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy as sp

from .arith import SymbolicArith, as_fraction
from .auditing import audit
from .errors import InputError
from .experiments import EXPERIMENTS, experiment
from .expr import parse_expr, parse_number
from .identities import all_identities
from .problems import available_problems, find_problem
from .rules import RULES
from .runners.defaults import PAPER_ADAM, REQUIRED, check_api, shipped_adam_defaults
from .symbolic import derive, gradient
from .tomlfile import field as toml_field
from .tomlfile import read_toml
from .trace import Trace

CONFIRMED, CONTRADICTED, NOT_CHECKABLE = "confirmed", "contradicted", "not checkable"
IDENTITY_IDS = ("ema_closed_form", "bias_correction_exact", "first_step", "eps_hat_ordering",
                "step_bound")

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
            "audit": ("problem",)}


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
        verdicts = {i.verdict for i in self.items}
        if NOT_CHECKABLE in verdicts or not verdicts:
            return NOT_CHECKABLE
        return CONTRADICTED if CONTRADICTED in verdicts else CONFIRMED


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
    kind = toml_field(item, "kind", str, w)
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})", where=w)
    common = ("id", "section", "quote", "kind")
    allowed = set(common) | set(KINDS[kind]) | set(OPTIONAL.get(kind, ()))
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise InputError(f"a {kind!r} claim has no field {unknown[0]!r}", where=w)
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
        if k in ("args",):
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 16:
                raise InputError(f"field {k!r} must be an integer 0..16", where=w)
        elif k == "call":
            if not isinstance(v, bool):
                raise InputError("field 'call' must be true or false", where=w)
        elif k == "kwargs":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise InputError("field 'kwargs' must be a list of names", where=w)
        elif not isinstance(v, str):
            raise InputError(f"field {k!r} must be a string", where=w)
    if kind == "experiment" and options["experiment"] not in EXPERIMENTS:
        raise InputError(f"unknown experiment {options['experiment']!r} "
                         f"(known: {', '.join(EXPERIMENTS)})", where=w)
    for key in ("optimizer", "expect"):
        if key in options and options[key] not in RULES:
            raise InputError(f"unknown optimizer {options[key]!r}", where=w)
    if "problem" in options and options["problem"] not in available_problems():
        raise InputError(f"unknown problem {options['problem']!r}", where=w)
    claim = Claim(cid, toml_field(item, "section", str, w), toml_field(item, "quote", str, w),
                  kind, toml_field(item, "golden", str, w, ""), step,
                  toml_field(item, "quantity", str, w, ""), claimed, options)
    _validate(claim, w)
    return claim


def _validate(claim: Claim, w: str) -> None:
    """Checks that need no computation, so a bad file fails before any golden is run."""
    o = claim.options
    if claim.kind == "formula":
        if o["reference"] not in ("rule", "gradient"):
            raise InputError("field 'reference' must be 'rule' or 'gradient'", where=w)
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
    elif claim.kind == "identity" and o["identity"] not in IDENTITY_IDS:
        raise InputError(f"unknown identity {o['identity']!r} "
                         f"(known: {', '.join(IDENTITY_IDS)})", where=w)
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


def check_trace(claim: Claim, goldens: dict[str, Trace]) -> ClaimResult:
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
    claimed = claim.claimed or ("",)
    return ClaimResult(claim, tuple(ItemResult(f"[{i}]", c, None, None, None, NOT_CHECKABLE)
                                    for i, c in enumerate(claimed)), why)


def _judged(claim: Claim, label: str, claimed: str, found: str, ok: bool,
            note: str) -> ClaimResult:
    return ClaimResult(claim, (ItemResult(label, claimed, found, None, None,
                                          CONFIRMED if ok else CONTRADICTED),), note)


# --- formulas ------------------------------------------------------------------------------

T = sp.Symbol("t", positive=True, integer=True)


def rule_formulas(optimizer: str) -> tuple[dict[str, sp.Symbol], dict[str, sp.Expr]]:
    """One step of ``optimizer`` on symbols: the names a formula may use, and the value of
    every quantity the step produces (new state, bias-corrected moments, delta, theta_next)."""
    rule = RULES[optimizer]
    names = {h: sp.Symbol(h, positive=True) for h in rule.defaults}
    names |= {"g": sp.Symbol("g", real=True), "theta": sp.Symbol("theta", real=True), "t": T}
    prev = {s: sp.Symbol(f"{s}_prev", real=True) if s in ("m", "buf") else
            sp.Symbol(f"{s}_prev", nonnegative=True) for s in rule.state_names}
    names |= {f"{s}_prev": sym for s, sym in prev.items()}
    ar = SymbolicArith()
    hp = {h: names[h] for h in rule.defaults}
    delta, state, aux = rule.update(names["g"], dict(prev), names["theta"], T, hp, ar)
    values = dict(state) | dict(aux) | {"delta": delta, "theta_next": names["theta"] + delta}
    return names, values


def formula_expr(claim: Claim) -> tuple[sp.Expr, sp.Expr]:
    """The claimed formula and the reference it is compared with, both as SymPy."""
    if claim.options["reference"] == "gradient":
        problem = find_problem(claim.options["problem"])
        names = dict(zip(problem.params, problem.symbols, strict=True))
        if claim.quantity not in names:
            raise InputError(f"problem {problem.name} has no parameter {claim.quantity!r}")
        data = dict(problem.data) | {name: exprs for name, exprs in problem.rows}
        n = len(next(iter(problem.data), ("", ()))[1])
        expr = parse_expr(claim.claimed[0], names | {"N": sp.Integer(n)}, data)
        return expr, gradient(problem)[problem.params.index(claim.quantity)]
    optimizer = claim.options["optimizer"]
    names, values = rule_formulas(optimizer)
    if claim.quantity not in values:
        raise InputError(f"{optimizer} computes no {claim.quantity!r} "
                         f"(it computes: {', '.join(values)})")
    symbols = names | {k: sp.Symbol(k) for k in values if k not in names}
    expr = parse_expr(claim.claimed[0], symbols, exponents=(T,))
    # a formula may be written in terms of other quantities of the same step (m̂ = m/(1 − β1ᵗ))
    expr = expr.xreplace({symbols[k]: v for k, v in values.items() if k not in names})
    return expr, values[claim.quantity]


def _check_rule_formula(claim: Claim) -> ClaimResult:
    optimizer = claim.options["optimizer"]
    expr, ref = formula_expr(claim)
    ok = sp.simplify(expr - ref) == 0
    return _judged(claim, claim.quantity, claim.claimed[0], sp.sstr(ref), ok,
                   f"compared with one step of rule {optimizer!r} run on SymPy symbols"
                   + ("" if ok else f"; the difference is {sp.sstr(sp.simplify(expr - ref))}"))


def _check_gradient_formula(claim: Claim) -> ClaimResult:
    expr, ref = formula_expr(claim)
    ok = sp.expand(expr - ref) == 0
    return _judged(claim, f"∂L/∂{claim.quantity}", claim.claimed[0], sp.sstr(sp.expand(ref)), ok,
                   f"compared with SymPy's gradient of problem {claim.options['problem']!r}")


def check_formula(claim: Claim) -> ClaimResult:
    if claim.options["reference"] == "rule":
        return _check_rule_formula(claim)
    return _check_gradient_formula(claim)


# --- symbolic facts, defaults, APIs, identities, experiments, audits ---------------------------

def check_critical_points(claim: Claim) -> ClaimResult:
    d = derive(find_problem(claim.options["problem"]))
    kinds = [c.kind for c in d.critical_points]
    wanted = claim.quantity  # "minimum" | "maximum" | "saddle"
    count = sum(k == wanted for k in kinds)
    listing = "; ".join(f"{', '.join(map(str, c.coords))}: {c.kind}" for c in d.critical_points)
    if not d.complete:
        return _uncheckable(claim, f"critical points not all found ({d.method})")
    return _judged(claim, f"number of {wanted} points", claim.claimed[0], str(count),
                   as_fraction(claim.claimed[0]) == count, f"SymPy: {listing}")


def check_default(claim: Claim) -> ClaimResult:
    name = claim.quantity
    paper = PAPER_ADAM[name]
    ok = as_fraction(claim.claimed[0]) == as_fraction(paper)
    ships = []
    for s in shipped_adam_defaults():
        value = s.values.get(name)
        if value is None:
            continue
        same = value != REQUIRED and as_fraction(value) == as_fraction(claim.claimed[0])
        ships.append(f"{s.framework} {s.version}: {value}" + ("" if same else " (differs)"))
    return _judged(claim, name, claim.claimed[0], paper, ok,
                   "Kingma & Ba (2015), Algorithm 1; shipped defaults — " + "; ".join(ships))


def check_api_claim(claim: Claim) -> ClaimResult:
    o = claim.options
    r = check_api(o["target"], o.get("args", 0), tuple(o.get("kwargs", ())), o.get("call", False))
    if r.exists is None:
        return _uncheckable(claim, r.detail)
    return _judged(claim, o["target"], "exists" + (" and accepts the call" if o.get("call") else ""),
                   "yes" if r.exists else "no", r.exists, r.detail)


def check_state(claim: Claim) -> ClaimResult:
    rule = RULES[claim.options["optimizer"]]
    ok = set(claim.claimed) == set(rule.state_names)
    return _judged(claim, "state per parameter", ", ".join(claim.claimed),
                   ", ".join(rule.state_names), ok,
                   f"rule {rule.name!r} keeps {len(rule.state_names)} values per parameter")


def check_identity(claim: Claim) -> ClaimResult:
    ident = {i.id: i for i in all_identities()}[claim.options["identity"]]
    return _judged(claim, ident.title, "holds", "proved" if ident.proved else "not proved",
                   ident.proved, f"{ident.title}: {ident.method}")


def check_experiment(claim: Claim) -> ClaimResult:
    e = experiment(claim.options["experiment"])
    return _judged(claim, e.title, "holds", "holds" if e.holds else "does not hold", e.holds,
                   e.finding)


def check_audit(claim: Claim, audits: dict[tuple[str, str, str | None], Any]) -> ClaimResult:
    o = claim.options
    problem = None if o.get("problem", "probe") == "probe" else o["problem"]
    key = (o["impl"], o["optimizer"], problem)
    try:
        result = audits.get(key) or audit(o["impl"], o["optimizer"], problem)
    except InputError as exc:
        return _uncheckable(claim, str(exc))
    if result.verdict == "not audited":
        return _uncheckable(claim, result.summary)
    return _judged(claim, f"{o['impl']} {o['optimizer']}", o["expect"], result.computes,
                   result.computes == o["expect"],
                   f"audit of {o['impl']} ({result.version}): {result.summary}")


CHECKERS: dict[str, Callable[[Claim], ClaimResult]] = {
    "formula": check_formula, "critical_points": check_critical_points,
    "default": check_default, "api": check_api_claim, "state": check_state,
    "identity": check_identity, "experiment": check_experiment,
    "statement": lambda c: _uncheckable(c, c.options["reason"]),
}


def check_claim(claim: Claim, goldens: dict[str, Trace],
                audits: dict[tuple[str, str, str | None], Any] | None = None) -> ClaimResult:
    if claim.kind == "trace":
        return check_trace(claim, goldens)
    if claim.kind == "audit":
        return check_audit(claim, audits or {})
    return CHECKERS[claim.kind](claim)


def check_claims(claims: ClaimsFile, goldens: dict[str, Trace],
                 audits: dict[tuple[str, str, str | None], Any] | None = None) -> tuple[ClaimResult, ...]:
    return tuple(check_claim(c, goldens, audits) for c in claims.claims)


def iteration_of(claim: Claim) -> str:
    """The section's last heading part ("Iteration 2 › Adam" → "Iteration 2"), for grouping."""
    parts = [p.strip() for p in claim.section.split("›")]
    return next((p for p in parts if re.match(r"(First )?Iteration|Final", p)), parts[-1])

