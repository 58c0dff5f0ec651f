"""Forensics: when no catalogue variant explains a discrepant implementation, find the term of
the rule that is off and say what it computes instead.

The hypotheses are plausible slips (``rules.Slips`` and ``rules.slipped``): a β in the wrong
place, a bias correction with the wrong β or t, |g| for g², a missing root, ε twice, lr², a
wrong sign, a state reset, decay without lr, hard-coded hyperparameters. Each is the claimed
rule with one term changed, judged by the same envelope over the same battery. The
implementation's exposed state is used one term at a time: the envelope injects its previous
m and v, so m's check depends only on m's term, v's only on v's, and the step is judged after
the moments' slips found are composed in. Where no slip fits, what the state allows is fitted
(the β an exposed average really uses, the factor the step is off by) and said as numbers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..golden.arith import as_fraction, float_format, round_to
from ..golden.spec import RunSpec
from ..golden.trace import Trace
from ..rules import RULES, Rule, Slips, adam, momentum, rmsprop, slipped
from .battery import Setting
from .bounds import MODELS
from .candidates import SHORT, candidate, held_where_defined, runs_for, screen_ulps
from .envelope import Judgement, Run, judge
from .result import Term

Ran = list[tuple[Setting, RunSpec, Trace]]


@dataclass(frozen=True)
class Hypothesis:
    term: str  # which term: "m", "v", "bias correction of m", "step", …
    says: str  # what it computes instead, in words
    slips: Slips | None = None  # a term changed inside the rule …
    wrap: tuple[tuple[str, object], ...] = ()  # … or a slip any rule can have (``slipped``)


def _adam_hypotheses(decay: bool, amsgrad: bool) -> list[Hypothesis]:
    h = [
        Hypothesis("m, v", "β1 and β2 are swapped (m averages with β2, v with β1, and the bias "
                   "corrections likewise)", Slips(m_beta="beta2", v_beta="beta1",
                                                  bc1_beta="beta2", bc2_beta="beta1")),
        Hypothesis("m", "m averages with β2 instead of β1", Slips(m_beta="beta2")),
        Hypothesis("v", "v averages with β1 instead of β2", Slips(v_beta="beta1")),
        Hypothesis("v", "v averages |g|, not g²", Slips(v_of="abs")),
        Hypothesis("m", "m adds g without the factor (1 − β1)", Slips(gain=False)),
        Hypothesis("m, v", "m and v are not updated where the gradient is 0 (lazy updates)",
                   Slips(skip_zero=True)),
        Hypothesis("bias correction of m", "the bias correction of m uses β2 instead of β1",
                   Slips(bc1_beta="beta2")),
        Hypothesis("bias correction of v", "the bias correction of v uses β1 instead of β2",
                   Slips(bc2_beta="beta1")),
        Hypothesis("bias corrections", "both bias corrections use t + 1 instead of t",
                   Slips(bc1_shift=1, bc2_shift=1)),
        Hypothesis("bias correction of m", "the bias correction of m uses t + 1 instead of t",
                   Slips(bc1_shift=1)),
        Hypothesis("bias correction of v", "the bias correction of v uses t + 1 instead of t",
                   Slips(bc2_shift=1)),
        Hypothesis("bias corrections", "both bias corrections use t − 1 instead of t",
                   Slips(bc1_shift=-1, bc2_shift=-1)),
        Hypothesis("bias correction of v", "only m is bias-corrected (v̂ = v)",
                   Slips(corrected="m")),
        Hypothesis("bias correction of m", "only v is bias-corrected (m̂ = m)",
                   Slips(corrected="v")),
        Hypothesis("step", "the square root of v̂ is missing (m̂/(v̂ + ε))", Slips(root=False)),
        Hypothesis("step", "ε enters twice (√v̂ + 2ε)", Slips(eps_twice=True)),
        # an ordering slip: a moment read before it is updated
        Hypothesis("m", "the step uses m before its update (the previous step's m)",
                   Slips(stale="m")),
        Hypothesis("v", "the step uses v before its update (the previous step's v)",
                   Slips(stale="v")),
        # counters: advanced twice per step (two optimizers sharing one, a double increment)
        Hypothesis("step counter", "the step count advances twice per step (the bias "
                   "corrections see 2t)", wrap=(("counter", ("twice", 0)),)),
    ]
    if amsgrad:
        h.append(Hypothesis("v_max", "v_max keeps the larger of the last two v, not the running "
                            "maximum", Slips(max_of="last")))
    if decay:
        h += [Hypothesis("weight decay", "the decay is not multiplied by the learning rate "
                         "(θ −= λθ)", Slips(decay="no-lr")),
              Hypothesis("weight decay", "the decay is applied to the already-updated θ",
                         Slips(decay="after")),
              Hypothesis("weight decay", "the decay is applied twice", Slips(decay="twice"))]
    return h + [Hypothesis("hyperparameters", "β1, β2 are fixed at 0.9, 0.999 whatever is "
                           "configured", wrap=(("fixed", {"beta1": "0.9", "beta2": "0.999"}),)),
                Hypothesis("hyperparameters", "ε is fixed at 1e-8 whatever is configured",
                           wrap=(("fixed", {"eps": "1e-8"}),))]


def _rmsprop_hypotheses() -> list[Hypothesis]:
    return [
        Hypothesis("v", "v averages with 1 − α where α belongs (and α where 1 − α does)",
                   Slips(swap_decay=True)),
        Hypothesis("v", "v averages |g|, not g²", Slips(v_of="abs")),
        Hypothesis("step", "the square root of v is missing", Slips(root=False)),
        Hypothesis("step", "ε enters twice", Slips(eps_twice=True)),
        Hypothesis("hyperparameters", "α is fixed at 0.99 whatever is configured",
                   wrap=(("fixed", {"alpha": "0.99"}),)),
    ]


def _momentum_hypotheses() -> list[Hypothesis]:
    return [
        Hypothesis("buffer", "the gradient enters the buffer with d instead of 1 − d",
                   Slips(gain="d")),
        Hypothesis("buffer", "dampening is ignored (the gradient enters with factor 1)",
                   Slips(gain="1")),
        Hypothesis("hyperparameters", "the momentum is fixed at 0.9 whatever is configured",
                   wrap=(("fixed", {"momentum": "0.9"}),)),
        Hypothesis("buffer", "the step uses the buffer before its update (the previous step's "
                   "buffer)", Slips(gain="1-d", stale="buf")),
    ]


GENERIC = [Hypothesis("step", "the learning rate is applied twice (the step uses lr²)",
                      wrap=(("lr_power", 2),)),
           Hypothesis("step", "the step has the wrong sign (it ascends)", wrap=(("sign", -1),)),
           Hypothesis("gradient", "the gradient is negated before the update: the rule ascends "
                      "(maximize)", wrap=(("negate_grad", True),)),
           # sparse-style lazy updates: nothing moves where the gradient is exactly 0
           Hypothesis("lazy updates", "θ and the state are left alone where the gradient is "
                      "exactly 0 (lazy updates)", wrap=(("lazy", True),)),
           # a 'safety' clamp on the update
           Hypothesis("step", "the step is clipped to ±lr", wrap=(("clip_update", True),))]


def hypotheses(claimed: str) -> list[Hypothesis]:
    rule = RULES[claimed]
    if rule.family == "adam":
        out = _adam_hypotheses(rule.variant.get("decay") == "decoupled",
                               rule.variant.get("amsgrad") == "v")
    elif rule.family == "rmsprop":
        out = _rmsprop_hypotheses()
    elif rule.family == "momentum":
        out = _momentum_hypotheses()
    else:  # a rule without term options (gd, adamax): the slips any rule can have
        out = []
    return out + GENERIC


def build(claimed: str, h: Hypothesis, extra: Slips | None = None) -> Rule:
    """The claimed rule with the hypothesis's slips (and ``extra`` slips composed in)."""
    rule = RULES[claimed]
    v = dict(rule.variant)
    slips = _merge(h.slips, extra)
    name = f"{claimed} with {h.says}"
    if rule.family == "adam":
        base = adam(name, slips=slips or Slips(), **v)
    elif rule.family == "rmsprop":
        base = rmsprop(name, eps_inside=v.get("eps") == "inside", slips=slips or Slips())
    elif rule.family != "momentum":  # no term options: only the slips any rule can have
        base = rule
    else:
        kw = {"slips": slips} if slips else {}
        base = momentum(name, nesterov=v.get("nesterov", False),
                        first=v.get("first_buffer", "g"), **kw)
    wrap = dict(h.wrap)
    return slipped(base, name, **wrap) if wrap else base  # type: ignore[arg-type]


def _merge(a: Slips | None, b: Slips | None) -> Slips | None:
    if a is None or b is None:
        return a or b
    default = Slips()
    changes = {f.name: getattr(b, f.name) for f in dataclasses.fields(Slips)
               if getattr(b, f.name) != getattr(default, f.name)}
    return dataclasses.replace(a, **changes)


def _explains(rule: Rule, runs: list[Run], q: str, base: list[list[Judgement]],
              exposed: set[str]) -> bool:
    """Whether ``rule`` explains quantity ``q``: under one scalar model it keeps ``q`` inside the
    envelope in every run, where the claimed rule under that same model has ``q`` outside in
    some run (``base``: the claimed rule judged under every model), and it pushes no other
    exposed quantity outside where the claimed rule had it inside everywhere (the rest of the
    evidence must not contradict it)."""
    short = [r for r in runs if r.tested.steps <= SHORT]
    screen = judge(rule, short, MODELS[:2])
    limit = screen_ulps(runs[0].tested.dtype)
    if all(any(dict(row[m].exits).get(q) is not None
               and dict(row[m].exits)[q].ulps_outside > limit for row in screen)
           for m in range(2)):
        return False
    res = judge(rule, runs, MODELS)

    def under(m: int) -> bool:
        kept = {p for p in exposed - {q} if not any(row[m].outside(p) for row in base)}
        return (all(not row[m].outside(q) and not row[m].finite_where_undefined
                    and not row[m].undefined_by_rounding for row in res)
                and any(row[m].outside(q) for row in base)
                and not any(row[m].outside(p) for row in res for p in kept))

    return any(under(m) for m in range(len(MODELS)))


def _wrong_under_every_model(base: list[list[Judgement]]) -> tuple[set[str], int]:
    """The quantities no scalar model keeps inside (a β held in float32 moves m and v by ~10²
    ulps: that is a model, not a slip), and the model under which the fewest are outside."""
    per_model = [{q for row in base for q, _ in row[m].exits} for m in range(len(MODELS))]
    best = min(range(len(MODELS)), key=lambda m: (len(per_model[m]), m))
    return set.intersection(*per_model), best


def forensics(claimed: str, ran: Ran, dtype: str) -> tuple[tuple[Term, ...], tuple[str, ...]]:
    """The terms found off (each with the evidence) and what cannot be told apart; where no
    slip explains, no cause is named: what the exposed state shows is evidence (``cause``
    False) and the slips tried are listed as ruled out."""
    runs = runs_for(claimed, ran)
    held = _held_in_format(claimed, runs, dtype)
    if held:
        return (held,), ()
    base = judge(RULES[claimed], runs, MODELS)
    wrong, best = _wrong_under_every_model(base)
    exposed = set().union(*(r.tested.state for r in runs)) & set(RULES[claimed].state_names)
    hyps = hypotheses(claimed) + _resets([[row[best]] for row in base],
                                         RULES[claimed].family == "adam")
    n = len(runs)
    whole = [h for h in hyps if candidate(build(claimed, h), runs).fits]
    evidence = f"with this one change the rule is inside the envelope in all {n} settings"
    if whole:
        alike = [h.says for h in whole[1:]]
        unknown = ("these also fit and cannot be told apart from what is exposed: "
                   + "; ".join(alike),) if alike else ()
        return (Term(whole[0].term, whole[0].says, evidence),), unknown
    by_term = {}
    for q in sorted(wrong & exposed):
        h = next((h for h in hyps if _explains(build(claimed, h), runs, q, base, exposed)), None)
        if h is not None:
            by_term[q] = h
    terms = [Term(q, h.says, f"{q} is inside the envelope in all {n} settings with this change")
             for q, h in sorted(by_term.items())]
    terms += _fitted(claimed, runs, wrong - set(by_term), exposed)
    unknown = () if exposed else ("without exposed state (m, v) the terms of the step cannot "
                                  "be separated; only the parameters were judged",)
    if not any(t.cause for t in terms):
        unknown += (f"ruled out: each of the {len(hyps)} single slips tried ("
                    + "; ".join(dict.fromkeys(h.says for h in hyps)) + ")",)
    return tuple(terms), unknown


def _held_in_format(claimed: str, runs: list[Run], dtype: str) -> Term | None:
    """The rule itself, with its hyperparameters held in the run's format — when a β rounds to
    1 there, 1 − βᵗ = 0 and the step is 0/0: the implementation computes the rule, but with
    values the format cannot hold."""
    if held_where_defined(RULES[claimed], runs) is None:
        return None
    fmt = float_format(dtype)
    ones = sorted({f"{k} = {r.hyper[k]}" for r in runs for k in ("beta1", "beta2", "alpha")
                   if k in r.hyper and float(round_to(as_fraction(r.hyper[k]), fmt)) == 1.0})
    return Term("hyperparameters", f"it holds its hyperparameters in {dtype}, where "
                + (", ".join(ones) or "a decay") + " rounds to 1: 1 − βᵗ = 0 and the step is 0/0 "
                "(NaN) — hold them in float32 or double", "the rule with every hyperparameter "
                f"rounded to {dtype} is inside the envelope wherever it is defined")


def _resets(base: list[list[Judgement]], counted: bool) -> list[Hypothesis]:
    """Slips tied to one step k, for each k the first exits suggest (a run that leaves the
    envelope first at step s fits a change after step s − 1): the state reset every k steps or
    cleared once after step k, and (``counted``: a rule whose steps depend on t) the step
    count stuck at k. Long settings count: a slip at step 500 shows only there."""
    exits = [row[0].first_exit for row in base if row[0].first_exit is not None]
    ks = sorted({e.t - 1 if e.quantity == "params" else e.t for e in exits} - {0})[:4]
    out = [Hypothesis("state", f"the state (m, v, buffers) is reset to 0 after every {k}th step",
                      wrap=(("reset_every", k),)) for k in ks]
    out += [Hypothesis("state", f"the state (m, v, buffers) is cleared once, after step {k}",
                       wrap=(("reset_at", k),)) for k in ks]
    if counted:
        out += [Hypothesis("step counter", f"the step count stops at {k} (from step {k} on the "
                           f"bias corrections see t = {k})", wrap=(("counter", ("cap", k)),))
                for k in ks]
    return out


DECAY_NAME = {"adam": ("β1", "β2"), "rmsprop": (None, "α")}


def _fitted(claimed: str, runs: list[Run], left: set[str], exposed: set[str]) -> list[Term]:
    """What the exposed averages fit where no slip explains them: evidence, never a cause.
    Each setting is fitted alone (its own β); a setting whose fit is the rule's own average is
    not shown, and a term whose every setting fits the rule's own is not shown at all."""
    out = []
    names = DECAY_NAME.get(RULES[claimed].family, (None, None))
    for q in sorted(left & exposed & {"m", "v"}):
        decay = names[0] if q == "m" else names[1]
        key = {"β1": "beta1", "β2": "beta2", "α": "alpha"}.get(decay or "")
        for i, r in enumerate(runs):
            fit = _fit_average(q, [r])
            own = float(r.hyper[key]) if key and key in r.hyper else None
            if fit is None or (own is not None and abs(fit[0] - own) < 1e-4
                               and abs(fit[1] - (1 - own)) < 1e-4):
                continue
            beta, gain, resid = fit
            feed = "g" if q == "m" else "g²"
            rule_has = f"; the rule has {decay} = {own:g}" if own is not None else ""
            shape = (f"fits {q}_t ≈" if resid < 1e-3 else
                     f"is no exponential average (the best fit, {q}_t ≈")
            close = ")" if resid >= 1e-3 else ""
            out.append(Term(q, f"{q} {shape} {beta:.6g}·{q}_(t−1) + {gain:.6g}·{feed}{close} in "
                            f"the {_ordinal(i + 1)} setting that ran (worst relative residual "
                            f"{resid:.2g}{rule_has})",
                            "least squares over the setting's exposed steps", cause=False))
            break
    return out


def _fit_average(q: str, runs: list[Run]) -> tuple[float, float, float] | None:
    """Least-squares (β, gain) of q_t = β·q_(t−1) + gain·feed over every exposed step, and the
    worst relative residual; None with too few finite steps."""
    xs, ys = [], []
    for r in runs:
        if q not in r.tested.state or r.tested.grads is None:
            continue
        s, g = r.tested.state[q], r.tested.grads
        feed = g if q == "m" else g * g
        prev = np.vstack([np.zeros((1, s.shape[1])), s[1:-1]])
        xs.append(np.stack([prev.ravel(), feed.ravel()], axis=1))
        ys.append(s[1:].ravel())
    if not xs:
        return None
    a, y = np.vstack(xs), np.concatenate(ys)
    ok = np.isfinite(a).all(axis=1) & np.isfinite(y)
    if ok.sum() < 3:
        return None
    (beta, gain), *_ = np.linalg.lstsq(a[ok], y[ok], rcond=None)
    resid = float(np.max(np.abs(a[ok] @ [beta, gain] - y[ok])) / max(np.max(np.abs(y[ok])), 1e-300))
    return float(beta), float(gain), resid


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
