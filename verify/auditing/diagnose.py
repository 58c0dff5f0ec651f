"""Verdict and diagnosis of a float32 implementation's trace.

Verdict: the tested parameters and optimizer state must lie inside the Monte Carlo rounding
envelope (``envelope.py``) of the rule they claim to implement, for one of the two ways of
deriving scalar constants (in float32, or in double then rounded). Diagnosis, when they do not:
the reference float32 trace of every catalogue variant × scalar placement is compared with the
tested one; the closest, if inside its own envelope, is what the implementation computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..arith import SCALAR_PLACEMENTS, float_format
from ..compare import ulp_distance
from ..errors import InputError
from ..rules import RULES
from ..runners.numpy_ import run_numpy
from ..spec import RunSpec
from ..trace import Trace
from .envelope import Envelope, envelope

PLACEMENTS = SCALAR_PLACEMENTS
FAMILIES = {
    "adam": ("adam", "adam-nobias", "adam-epshat", "adam-epsroot", "adamw", "adamw-nobias",
             "adamw-epshat", "adam-l2", "amsgrad", "amsgrad-vhat", "amsgrad-nobias",
             "amsgrad-epshat"),
    "momentum": ("gd", "momentum", "momentum-zero", "nesterov", "nesterov-zero"),
    "rmsprop": ("rmsprop", "rmsprop-epsinside"),
}


# Hyperparameters of the probe battery (problem "probe"): large ε, decay and dampening so
# that every variant leaves its own trace.
PROBE_HYPER = {"lr": "0.01", "beta1": "0.9", "beta2": "0.9", "eps": "0.1",
               "weight_decay": "0.1", "momentum": "0.9", "dampening": "0.5", "alpha": "0.9"}


# The step must span many units in the last place of the parameters for the variants to
# separate: at |θ| ≈ 1 a bfloat16 ulp is 2⁻⁷ ≈ 0.008 and a float16 ulp 2⁻¹⁰, so the narrow
# formats get a larger step size (measured: with lr 0.01 only 12 of the 19 variants are told
# apart in bfloat16 and 18 in float16; with these, all 19).
PROBE_LR = {"float32": "0.01", "float16": "0.1", "bfloat16": "0.5"}


def probe_hyper(dtype: str = "float32") -> dict[str, str]:
    """The probe battery's hyperparameters for runs in ``dtype``."""
    return dict(PROBE_HYPER, lr=PROBE_LR[dtype])


def candidate_hyper(rule: str, hyper: dict[str, str]) -> dict[str, str]:
    """The claimed rule's hyperparameters as a candidate variant reads them: "ε inside the
    root" means √(v̂ + ε), so that candidate gets eps_root = ε and no outer ε."""
    defaults = RULES[rule].defaults
    out = {k: v for k, v in hyper.items() if k in defaults}
    if rule == "adam-epsroot" and "eps" in hyper:
        out |= {"eps_root": hyper["eps"], "eps": "0"}
    return out


# A candidate farther than this from the tested parameters cannot have them inside its
# envelope (envelopes span a few ULP); skipping its Monte Carlo runs only saves time.
ENVELOPE_WORTH_CHECKING_ULPS = 64


def family(rule: str) -> tuple[str, ...]:
    for members in FAMILIES.values():
        if rule in members:
            return members
    return (rule,)


@dataclass(frozen=True)
class Candidate:
    rule: str
    scalars: str
    max_ulps: int | None  # parameters, over all steps; None: a non-finite mismatch
    inside_envelope: bool


@dataclass(frozen=True)
class Diagnosis:
    claimed: str
    verdict: str  # "consistent" | "discrepant"
    explanation: Candidate | None  # best candidate when discrepant (None: unexplained)
    best_claimed: Candidate
    candidates: tuple[Candidate, ...]
    envelope_samples: int
    dtype: str = "float32"
    first_outside: tuple[int, str] | None = None  # claimed rule's envelope, first exit

    def scalars_text(self, c: Candidate) -> str:
        """Where the scalar constants were derived ("float32" placement = the run's format)."""
        return self.dtype if c.scalars == "float32" else c.scalars

    @property
    def summary(self) -> str:
        if self.verdict == "consistent":
            return (f"consistent with {self.claimed} to {self.dtype} rounding "
                    f"(scalars in {self.scalars_text(self.best_claimed)})")
        where = (f"; leaves the {self.claimed} envelope at step {self.first_outside[0]} "
                 f"({self.first_outside[1]})" if self.first_outside else "")
        if self.explanation is None:
            return f"discrepant with {self.claimed}{where}; unexplained by the catalogue"
        e = self.explanation
        return (f"discrepant with {self.claimed}{where}; computes {e.rule} "
                f"(scalars in {self.scalars_text(e)}, {e.max_ulps} ULP from its reference)")


def _dtype(trace: Trace) -> str:
    return trace.arithmetic.get("dtype", "float32")


def _params(trace: Trace) -> dict[int, np.ndarray]:
    dt = float_format(_dtype(trace)).dtype
    return {s.t: np.array([np.float32(v) for v in s.params], dtype=np.float32).astype(dt)
            for s in trace.steps}


def _max_ulps(a: dict[int, np.ndarray], b: dict[int, np.ndarray], dtype: str) -> int | None:
    worst = 0
    fmt = float_format(dtype)
    for t in a.keys() & b.keys():
        for x, y in zip(a[t], b[t], strict=True):
            u = ulp_distance(x, y, fmt)
            if u is None:
                return None
            worst = max(worst, u)
    return worst


def _inside(env: Envelope, tested: Trace) -> bool:
    return first_exit(env, tested) is None


def first_exit(env: Envelope, tested: Trace) -> tuple[int, str] | None:
    """The first (step, quantity) of ``tested`` outside the envelope, or None."""
    for s in tested.steps:
        if not env.contains(s.t, "params", np.array([np.float32(v) for v in s.params])):
            return s.t, "params"
        for k, vals in s.state.items():
            if not env.contains(s.t, k, np.array([np.float32(v) for v in vals])):
                return s.t, k
    return None


def replayed_gradients(tested: Trace) -> list[list[Fraction]] | None:
    """The exact float32 gradients the tested implementation used, step by step."""
    rows = [s.grad for s in tested.steps[1:]]
    if not rows or any(r is None for r in rows):
        return None
    return [[Fraction(float(np.float32(g))) for g in r] for r in rows]


def diagnose(tested: Trace, spec: RunSpec, samples: int = 16,
             hyper: dict[str, str] | None = None) -> Diagnosis:
    """Judge ``tested`` (a run of ``spec``'s rule) and, if discrepant, explain it. The
    references replay the tested run's own gradients, so only optimizer arithmetic is judged.
    ``hyper`` (default: the spec's) is what the candidate variants read, e.g. the probe's
    weight decay for the decay variants of a claimed plain Adam."""
    source = dict(hyper or {}) | spec.full_hyper()
    if spec.rule.name not in RULES:
        raise InputError(f"unknown optimizer {spec.optimizer!r}")
    grads = replayed_gradients(tested)
    got = _params(tested)
    dtype = _dtype(tested)
    candidates = []
    exits = {}
    for rule in family(spec.rule.name):
        cspec = RunSpec(spec.problem, rule, candidate_hyper(rule, source), spec.steps,
                        schedule=spec.schedule)
        for scalars in PLACEMENTS:
            ref = _params(run_numpy(cspec, scalars=scalars, grads=grads, dtype=dtype))
            ulps = _max_ulps(got, ref, dtype)
            inside = False
            if rule == spec.rule.name or (ulps is not None
                                          and ulps <= ENVELOPE_WORTH_CHECKING_ULPS):
                env = envelope(cspec, samples, scalars=scalars, grads=grads, dtype=dtype)
                out = first_exit(env, tested)
                inside = out is None
                if rule == spec.rule.name:
                    exits[scalars] = out
            candidates.append(Candidate(rule, scalars, ulps, inside))
    own = [c for c in candidates if c.rule == spec.rule.name]
    best_own = min(own, key=_rank)
    if any(c.inside_envelope for c in own):
        return Diagnosis(spec.rule.name, "consistent", None,
                         next(c for c in own if c.inside_envelope), tuple(candidates), samples,
                         dtype)
    others = [c for c in candidates if c.inside_envelope]
    explanation = min(others, key=_rank) if others else None
    # the latest exit over the placements: how long the run stays a correct one in any of them
    latest = max((e for e in exits.values() if e), key=lambda e: e[0], default=None)
    return Diagnosis(spec.rule.name, "discrepant", explanation, best_own, tuple(candidates),
                     samples, dtype, latest)


def _rank(c: Candidate) -> tuple[int, float]:
    return (0 if c.inside_envelope else 1, float("inf") if c.max_ulps is None else c.max_ulps)
