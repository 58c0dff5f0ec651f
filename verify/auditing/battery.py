"""The audit battery: the settings an implementation is run under before it is called correct.

One probe setting cannot see a misused hyperparameter whose values coincide there (β1 = β2
hides swapped betas, ε = 0.1 hides nothing but lr = 1 would hide lr²). Each setting below is
chosen so that a misuse of some hyperparameter or term moves the result out of the envelope;
together they cover every hyperparameter of every rule in the catalogue (a test proves it
with deliberately misused rules, ``tests/test_battery.py``):

- **probe** — β1 = β2 = 0.9, ε = 0.1, weight decay 0.1, dampening 0.5 on the probe stream (a
  gradient that falls within each period): ε large against √v̂ separates every ε placement,
  the falling gradient separates AMSGrad's max over v, over v̂, and plain Adam; decay and
  dampening separate L2 from decoupled decay and the momentum buffer conventions.
- **paper** — β1 = 0.9, β2 = 0.999, ε = 1e-8 from a start near 0: β1 ≠ β2, so a β in the wrong
  place or a swapped pair changes the moments and the bias corrections (1 − 0.999 vs 1 − 0.9 is
  a factor 100 at t = 1); near 0, θ keeps the step's own digits, so 1 − βᵗ computed with
  cancellation shows.
- **inverted** — β1 = 0.999 > β2 = 0.9: an implementation that hard-codes the usual pair, or
  orders it by size, passes *paper* and fails here; likewise a hard-coded ε (1e-3 here).
- **large step** — lr 10× the probe's, β 0.5/0.75, ε 0.5, decay 0.5: the learning rate applied
  twice (lr² ≠ lr), decay coupled vs decoupled, a step that is not small against θ.
- **tiny gradients** (1e-8…3e-6) — ε comparable to √v̂: ε in the root, twice, or squared; in
  float16 the gradients are subnormal and g² underflows (a format-limit finding).
- **huge gradients** (100…30,000) — the step is scale-free, so a misplaced scale shows; in
  float16 g² overflows (a format-limit finding).
- **zeros** — gradients exactly 0 at some steps (the first included) and changing sign, 24
  steps: updates skipped on zero gradients, moments reset, |g| for g², wrong signs.
- **ε = 0** — a zero first gradient with ε = 0: the rule is 0/0 at step 1; what the
  implementation returns there is reported.
- **long** — 1,000 steps, β2 = 0.99 and a small lr from a start near 0: the bias corrections
  decay fully, β1ᵗ underflows every format (0.9ᵗ < 2⁻¹⁴⁹ from t ≈ 983; float16 from t ≈ 158),
  state resets with long periods and bugs in late steps show; in bfloat16 a small step is below
  half an ulp of θ — the finding that no correct implementation moves there.
- **no decay** — weight decay 0, for the rules that have it: decay applied when it is off.

Momentum and RMSProp get the same streams with their own hyperparameters (momentum 0, 0.5,
0.9; dampening 0 and 0.5; α 0.5…0.99). In float16 and bfloat16 the step sizes are scaled up
(``PROBE_LR``) so that a step spans many ulps of θ. ``quick`` keeps only the probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import paths
from ..errors import InputError, unknown
from ..rules import RULES
from ..symbolic.problems import Problem, find_problem

# The step must span many units in the last place of θ for the variants to separate: at |θ| ≈ 1
# a bfloat16 ulp is 2⁻⁷ and a float16 ulp 2⁻¹⁰ (measured: with lr 0.01 only 12 of the 19
# catalogue variants are told apart in bfloat16 and 18 in float16; with these, all 19).
PROBE_LR = {"float32": "0.01", "float16": "0.1", "bfloat16": "0.5"}
LARGE_LR = {"float32": "0.1", "float16": "0.5", "bfloat16": "1"}
SMALL_LR = "0.001"

# Hyperparameters every setting starts from; a setting overrides some of them. Each rule reads
# the names it has (``rule_hyper``); the diagnosis's candidates read theirs (weight decay for a
# claimed plain Adam's decay variants, for instance).
BASE = {"beta1": "0.9", "beta2": "0.999", "eps": "1e-8", "weight_decay": "0.01",
        "momentum": "0.9", "dampening": "0", "alpha": "0.99"}


@dataclass(frozen=True)
class Setting:
    """One run of the battery: a gradient stream, hyperparameters, a length, and why."""

    name: str
    stream: str  # a catalogue problem or a stream of derivations/streams/
    hyper: dict[str, str] = field(default_factory=dict)
    steps: int = 12
    why: str = ""

    def label(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.hyper.items())
        return f"{self.name} ({shown}; {self.steps} steps)"


def _adam(lr: str, big: str) -> list[Setting]:
    return [
        Setting("probe", "probe", {"lr": lr, "beta1": "0.9", "beta2": "0.9", "eps": "0.1",
                                   "weight_decay": "0.1"}, 12, "ε placements, AMSGrad's max"),
        Setting("paper", "probe_small", {"lr": lr, "beta1": "0.9", "beta2": "0.999",
                                         "eps": "1e-8"}, 12, "β1 ≠ β2; θ keeps the step's digits"),
        Setting("inverted", "probe", {"lr": lr, "beta1": "0.999", "beta2": "0.9", "eps": "1e-3",
                                      "weight_decay": "0.1"}, 12, "hard-coded or ordered betas"),
        Setting("large step", "probe_small", {"lr": big, "beta1": "0.5", "beta2": "0.75",
                                              "eps": "0.5", "weight_decay": "0.5"}, 12,
                "lr applied twice; decay coupling"),
        Setting("tiny gradients", "tiny", {"lr": lr}, 12, "ε comparable to √v̂"),
        Setting("huge gradients", "huge", {"lr": lr}, 12, "scale-free step"),
        Setting("zeros", "zeros", {"lr": lr, "eps": "1e-6"}, 24, "skipped updates, resets, signs"),
        Setting("eps 0", "zeros", {"lr": lr, "eps": "0", "weight_decay": "0"}, 3, "0/0"),
        Setting("long", "probe_small", {"lr": SMALL_LR, "beta2": "0.99"}, 1000,
                "bias corrections decay, βᵗ underflows, late-step bugs"),
        Setting("no decay", "probe", {"lr": lr, "weight_decay": "0"}, 12, "decay when off"),
    ]


def _rmsprop(lr: str, big: str) -> list[Setting]:
    return [
        Setting("probe", "probe", {"lr": lr, "alpha": "0.9", "eps": "0.1"}, 12, "ε placement"),
        Setting("paper", "probe_small", {"lr": lr, "alpha": "0.99", "eps": "1e-8"}, 12,
                "α against 1 − α; θ keeps the step's digits"),
        Setting("large step", "probe_small", {"lr": big, "alpha": "0.5", "eps": "0.5"}, 12,
                "lr applied twice"),
        Setting("tiny gradients", "tiny", {"lr": lr, "alpha": "0.9"}, 12, "ε comparable to √v"),
        Setting("huge gradients", "huge", {"lr": lr, "alpha": "0.9"}, 12, "scale-free step"),
        Setting("zeros", "zeros", {"lr": lr, "alpha": "0.9", "eps": "1e-6"}, 24,
                "skipped updates, resets, signs"),
        Setting("eps 0", "zeros", {"lr": lr, "alpha": "0.9", "eps": "0"}, 3, "0/0"),
        Setting("long", "probe_small", {"lr": SMALL_LR, "alpha": "0.9"}, 1000, "late-step bugs"),
    ]


def _momentum(lr: str, big: str) -> list[Setting]:
    return [
        Setting("probe", "probe", {"lr": lr, "momentum": "0.9", "dampening": "0.5"}, 12,
                "buffer conventions under dampening"),
        Setting("paper", "probe_small", {"lr": lr, "momentum": "0.9", "dampening": "0"}, 12,
                "no dampening; θ keeps the step's digits"),
        Setting("half momentum", "probe", {"lr": lr, "momentum": "0.5", "dampening": "0.25"}, 12,
                "μ against 1 − μ, d against 1 − d"),
        Setting("no momentum", "probe_small", {"lr": lr, "momentum": "0", "dampening": "0"}, 12,
                "μ = 0 must be plain gradient descent"),
        Setting("large step", "probe_small", {"lr": big, "momentum": "0.9"}, 12,
                "lr applied twice"),
        Setting("zeros", "zeros", {"lr": lr, "momentum": "0.9"}, 24, "skipped updates, resets"),
        Setting("long", "probe_small", {"lr": SMALL_LR, "momentum": "0.9"}, 1000,
                "late-step bugs"),
    ]


def _family_settings(rule: str, dtype: str) -> list[Setting]:
    lr, big = PROBE_LR[dtype], LARGE_LR[dtype]
    names = RULES[rule].defaults
    if "beta1" in names:
        out = _adam(lr, big)
        if "weight_decay" not in names:
            out = [s for s in out if s.name != "no decay"]
        return out
    if "alpha" in names:
        return _rmsprop(lr, big)
    return _momentum(lr, big)


def battery(rule: str, dtype: str = "float32", quick: bool = False,
            given: dict[str, str] | None = None, steps: int | None = None) -> list[Setting]:
    """The settings ``rule`` is audited under in ``dtype``: every setting of its family (only
    the probe with ``quick``), plus the user's own hyperparameters as a setting when given."""
    if rule not in RULES:
        raise InputError(unknown("optimizer", rule, sorted(RULES)))
    if dtype not in PROBE_LR:
        raise InputError(f"unknown dtype {dtype!r} (known: {', '.join(PROBE_LR)})")
    out = _family_settings(rule, dtype)
    if quick:
        out = out[:1]
    if given:
        out = [Setting("given", "probe", dict(given), steps or 12, "the hyperparameters asked for")] + out
    elif steps is not None:
        out = [Setting(s.name, s.stream, s.hyper, steps if s.name == "probe" else s.steps, s.why)
               for s in out]
    return out


def rule_hyper(rule: str, setting_hyper: dict[str, str]) -> dict[str, str]:
    """The hyperparameters ``rule`` reads in a setting: BASE overridden by the setting, only
    the names the rule has; "ε inside the root" reads ε as eps_root (and no outer ε)."""
    defaults = RULES[rule].defaults
    full = BASE | {"lr": PROBE_LR["float32"]} | setting_hyper
    out = {k: v for k, v in full.items() if k in defaults}
    if rule == "adam-epsroot":
        out |= {"eps_root": full["eps"], "eps": "0"}
    return out


def stream_problem(stream: str, problem: str | None = None) -> Problem:
    """The gradient stream of a setting: the user's problem replaces the probe streams."""
    if problem and stream in ("probe", "probe_small"):
        return find_problem(problem)
    path = paths.STREAMS / f"{stream}.toml"
    return find_problem(str(path) if path.exists() else stream)
