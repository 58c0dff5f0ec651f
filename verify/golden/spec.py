"""What to run: a problem, a rule, hyperparameters as decimal strings, steps — validated once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from ..errors import InputError, unknown
from ..rules import RULES, SCHEDULES, Rule
from ..symbolic.expr import parse_number
from ..symbolic.problems import Problem, rational_text
from .arith import as_fraction, round_to_float32

DEFAULT_DPS = 50
MAX_STEPS = 1_000_000
QUANTIZE = ("float32",)


@dataclass(frozen=True)
class RunSpec:
    """What to run: problem, rule, hyperparameters (decimal strings), steps, precision."""

    problem: Problem
    optimizer: str
    hyper: Mapping[str, str] = field(default_factory=dict)
    steps: int = 5
    dps: int = DEFAULT_DPS
    quantize: str | None = None
    schedule: str = "constant"

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise InputError(f"unknown schedule {self.schedule!r} "
                             f"(known: {', '.join(SCHEDULES)})")
        if not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise InputError(f"steps must be an integer from 1 to {MAX_STEPS}, got {self.steps!r}")
        self.full_hyper()
        if self.quantize is not None and self.quantize not in QUANTIZE:
            raise InputError(f"unknown quantization {self.quantize!r} "
                             f"(known: {', '.join(QUANTIZE)})")

    @property
    def rule(self) -> Rule:
        return get_rule(self.optimizer)

    def full_hyper(self) -> dict[str, str]:
        """Defaults of the rule overridden by the given values, checked."""
        return check_hyper(self.rule, self.hyper)


def get_rule(name: str) -> Rule:
    if name not in RULES:
        raise InputError(unknown("optimizer", name, sorted(RULES)))
    return RULES[name]


def check_hyper(rule: Rule, hyper: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(hyper) - set(rule.defaults))
    if unknown:
        raise InputError(f"optimizer {rule.name!r} has no hyperparameter {unknown[0]!r} "
                         f"(it has: {', '.join(rule.defaults)})")
    out = dict(rule.defaults) | dict(hyper)
    for key, text in out.items():
        if not isinstance(text, str):
            raise InputError(f"hyperparameter {key} must be a decimal string, got {text!r}")
        try:
            value = as_fraction(text)  # parsed once per text (cached), checked here every time
        except InputError:
            parse_number(text, where=f"hyperparameter {key}")  # the same error, located
            raise
        bounds = rule.ranges.get(key)
        if bounds and not in_range(value, bounds):
            raise InputError(f"{key} must be in {bounds.replace(',', ', ')}, got {text}")
    return out


def in_range(value: Fraction, interval: str) -> bool:
    """Whether ``value`` lies in an interval written like "[0,1)" or "(0,inf)"."""
    lo_text, hi_text = interval[1:-1].split(",")
    lo_ok = (value >= Fraction(lo_text)) if interval[0] == "[" else (value > Fraction(lo_text))
    if hi_text == "inf":
        return lo_ok
    return lo_ok and ((value <= Fraction(hi_text)) if interval[-1] == "]" else
                      (value < Fraction(hi_text)))


def effective_hyper(hyper: Mapping[str, str], quantize: str | None) -> dict[str, str]:
    """Hyperparameters as the run uses them: exact decimals, or rounded to float32 first."""
    if quantize is None:
        return dict(hyper)
    if quantize != "float32":
        raise InputError(f"unknown quantization {quantize!r} (known: {', '.join(QUANTIZE)})")
    out = {}
    for k, v in hyper.items():
        q = float(round_to_float32(as_fraction(v)))
        out[k] = rational_text(sp.Rational(*q.as_integer_ratio()))
    return out


