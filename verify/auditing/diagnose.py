"""Diagnosis of a discrepant implementation: which catalogue variant (and scalar model) it
computes, judged over the whole battery by the same envelope as the verdict; when none does,
forensics names the terms that are off (``forensics.py``)."""

from __future__ import annotations

from ..rules import RULES, Rule
from ..spec import RunSpec
from ..trace import Trace
from .battery import Setting, rule_hyper
from .bounds import MODELS
from .envelope import Run, judge, tested_arrays
from .result import Candidate, Diagnosis

FAMILIES = {
    "adam": ("adam", "adam-nobias", "adam-epshat", "adam-epsroot", "adamw", "adamw-nobias",
             "adamw-epshat", "adam-l2", "amsgrad", "amsgrad-vhat", "amsgrad-nobias",
             "amsgrad-epshat"),
    "momentum": ("gd", "momentum", "momentum-zero", "nesterov", "nesterov-zero"),
    "rmsprop": ("rmsprop", "rmsprop-epsinside"),
}
SHORT = 100  # settings up to this many steps are judged first; long ones only for survivors


def family(rule: str) -> tuple[str, ...]:
    """The catalogue variants an implementation claiming ``rule`` may really compute."""
    for members in FAMILIES.values():
        if rule in members:
            return members
    return (rule,)


def runs_for(rule: str, ran: list[tuple[Setting, RunSpec, Trace]]) -> list[Run]:
    """The tested runs as ``rule`` reads them: each setting's hyperparameters for that rule."""
    return [Run(rule_hyper(rule, s.hyper), tested_arrays(t), sp.schedule,
                tuple((str(a), str(b)) for a, b in sp.problem.domain) or None)
            for s, sp, t in ran]


# A candidate whose nearest scalar model is farther than this (in operand ulps) at its first
# exit is not confirmed under the other models: scalar models differ by ~10² ulps (1 − β held
# in float32 or double, for β = 0.999), a wrong rule by 10³ to 10⁹.
SCREEN_ULPS = 1e4


def candidate(rule: Rule, runs: list[Run]) -> Candidate:
    """``rule`` judged over the runs: screened under one scalar model with early stopping,
    then, if close, the short runs under every model and the long ones under the survivors."""
    screen = judge(rule, runs, MODELS[:1], early=True)
    worst0 = max(row[0].worst_ulps for row in screen)
    inside0 = sum(row[0].fits for row in screen)
    if worst0 > SCREEN_ULPS:
        return Candidate(rule.name, None, inside0, len(runs), worst0)
    short = [i for i, r in enumerate(runs) if r.tested.steps <= SHORT]
    long = [i for i, r in enumerate(runs) if r.tested.steps > SHORT]
    inside = {m: 0 for m in range(len(MODELS))}
    worst = {m: 0.0 for m in range(len(MODELS))}
    for subset in (short, long):
        alive = [m for m in inside if inside[m] == (len(short) if subset is long else 0)]
        if not subset or not alive:
            continue
        res = judge(rule, [runs[i] for i in subset], [MODELS[m] for m in alive],
                    early=subset is short)
        for row in res:
            for m, j in zip(alive, row, strict=True):
                inside[m] += j.fits
                worst[m] = max(worst[m], j.worst_ulps)
    best = max(inside, key=lambda m: (inside[m], -worst[m]))
    fits = inside[best] == len(runs)
    return Candidate(rule.name, MODELS[best] if fits else None, inside[best], len(runs),
                     0.0 if fits else worst[best])


def diagnose(claimed: str, ran: list[tuple[Setting, RunSpec, Trace]], dtype: str) -> Diagnosis:
    """Try every other member of the claimed rule's family; the first (simplest) that fits
    every setting explains the run. Otherwise forensics looks for the terms that are off."""
    from .forensics import forensics

    cands = tuple(candidate(RULES[rule], runs_for(rule, ran)) for rule in family(claimed)
                  if rule != claimed)
    fitting = [c for c in cands if c.fits]
    if fitting:
        return Diagnosis(claimed, fitting[0], cands)
    terms, unknown = forensics(claimed, ran, dtype)
    return Diagnosis(claimed, None, cands, terms, unknown)
