"""Candidates for a discrepant implementation: each catalogue variant of the claimed rule's
family judged over the whole battery (screened first under the extreme scalar models)."""

from __future__ import annotations

from ..golden.arith import as_fraction, float_format, round_to
from ..golden.spec import RunSpec
from ..golden.trace import Trace
from ..rules import Rule
from .battery import Setting, rule_hyper
from .bounds import MODELS, Model
from .envelope import Run, judge, tested_arrays
from .result import Candidate

FAMILIES = {
    "adam": ("adam", "adam-nobias", "adam-epshat", "adam-epsroot", "adamw", "adamw-nobias",
             "adamw-epshat", "adam-l2", "amsgrad", "amsgrad-vhat", "amsgrad-nobias",
             "amsgrad-epshat"),
    "momentum": ("gd", "momentum", "momentum-zero", "nesterov", "nesterov-zero"),
    "rmsprop": ("rmsprop", "rmsprop-epsinside"),
}
DECAYS = ("beta1", "beta2", "alpha", "momentum")
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


# A candidate farther than 10⁻³ relative (at least 4 ulps) under both extreme scalar models —
# every hyperparameter held in double, or in the run's format — is not tried under the others:
# the models in between differ from these by ~10⁻⁵ relative (1 − βᵗ's β in float32 or
# double: ~10² float32 ulps, under one bfloat16 ulp), a wrong rule by 10⁻² and more.
SCREEN_RELATIVE = 1e-3


def screen_ulps(dtype: str) -> float:
    return max(4.0, SCREEN_RELATIVE * 2.0 ** (float_format(dtype).precision - 1))


def screened_out(rule: Rule, runs: list[Run]) -> tuple[bool, int, float]:
    """Whether ``rule`` is far from the runs under both extreme models (early stopping), and
    the better of the two: (far, runs inside, farthest outside). In float16 and bfloat16 a β
    can round to 1, and the models differ by far more: there every model is screened."""
    models = MODELS[:2] if runs[0].tested.dtype == "float32" else MODELS
    screen = judge(rule, runs, models, early="models")
    best = min(range(len(models)), key=lambda m: max(row[m].worst_ulps for row in screen))
    worst = max(row[best].worst_ulps for row in screen)
    return worst > screen_ulps(runs[0].tested.dtype), sum(row[best].fits for row in screen), worst


def candidate(rule: Rule, runs: list[Run]) -> Candidate:
    """``rule`` judged over the runs: screened under the extreme scalar models with early
    stopping, then, if close, the short runs under every model and the long ones under the
    survivors."""
    far, inside0, worst0 = screened_out(rule, runs)
    if far:
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
                    early="models")
        for row in res:
            for m, j in zip(alive, row, strict=True):
                inside[m] += j.fits
                worst[m] = max(worst[m], j.worst_ulps)
    best = max(inside, key=lambda m: (inside[m], -worst[m]))
    fits = inside[best] == len(runs)
    held = held_where_defined(rule, runs) if not fits else None
    if held is not None:
        return Candidate(rule.name, held, len(runs), len(runs), 0.0, held_nan=True)
    return Candidate(rule.name, MODELS[best] if fits else None, inside[best], len(runs),
                     0.0 if fits else worst[best])


def held_where_defined(rule: Rule, runs: list[Run]) -> Model | None:
    """A scalar model under which ``rule`` holds the runs wherever it is defined, with some β
    that rounds to 1 in the format (1 − βᵗ = 0: the rule is 0/0 there, and the runs non-finite
    too) — the rule computed with hyperparameters the format cannot hold."""
    fmt = float_format(runs[0].tested.dtype)
    if not any(as_fraction(v) != 1 and float(round_to(as_fraction(v), fmt)) == 1.0
               for r in runs for k, v in r.hyper.items() if k in DECAYS):
        return None  # no β rounds to 1 in this format: nothing to explain this way
    res = judge(rule, runs, MODELS)
    for m, model in enumerate(MODELS):
        rows = [r[m] for r in res]
        if (all(j.first_exit is None and not j.missing and not j.finite_where_undefined
                for j in rows) and any(j.undefined_by_rounding for j in rows)):
            return model
    return None
