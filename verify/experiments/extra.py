"""Further behavioural statements of the article, each judged over a sweep: many reuse the runs
of the basin and worked-example experiments (cached), a few need runs of their own (noise,
random restarts, a saddle, hyperparameter sensitivity)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..golden.arith import Float64Arith
from ..symbolic.derive import derive, gradient
from ..symbolic.evaluate import compile_many
from ..symbolic.problems import find_problem
from .basins import (
    QUARTIC_LRS,
    QUARTIC_STARTS,
    WELL_LRS,
    WELL_STARTS,
    Ends,
    _measure,
    _rows,
    escaped,
    nearest,
)
from .common import Experiment, choice, first_below, fmt
from .float64 import Setting, grid64
from .outcomes import Judgement, Part, grade
from .worked_example import ARTICLE_LR, CurveData, measure_curves


def _labels(e: Ends, problem: str | None = None) -> tuple:
    pre = (("problem", problem),) if problem else ()
    return tuple(pre + s.dims() for s in e.settings)


def _well(steps: int = 2000) -> Ends:
    return _measure("double_well", ("gd", "momentum", "adam"), WELL_LRS, WELL_STARTS, steps)[0]


def _quartic(steps: int = 2000) -> Ends:
    return _measure("quartic", ("gd", "momentum", "adam"), QUARTIC_LRS, QUARTIC_STARTS, steps)[0]


def _well_protocol(what: str) -> str:
    return (f"The double-well runs of “Escaping a local minimum” (θ0 ∈ {choice(WELL_STARTS)}, "
            f"all in the local minimum's basin; α ∈ {choice(WELL_LRS)}; 2000 steps; GD, "
            f"momentum μ = 0.9, Adam). {what}")


# --- GD stuck in the local minimum -------------------------------------------------------------

def judge_gd_stuck(e: Ends) -> tuple[Judgement, str]:
    stuck = tuple((p := nearest(x, e.points)) is not None and p.kind == "minimum"
                  and not p.is_global for x in e.ends["gd"])
    j = grade((Part("gradient descent gets stuck in the local minimum", stuck),), _labels(e))
    return j, (f"GD ends in the local minimum in {sum(stuck)} of {len(stuck)} runs. "
               + j.sentence())


def gd_local_minimum() -> Experiment:
    e = _well()
    j, finding = judge_gd_stuck(e)
    return Experiment("gd_local_minimum", "GD in a local minimum (tilted double well)",
                      "double_well", _well_protocol("The claim holds at a (θ0, α) if GD ends "
                                                    "within 0.1 of the local minimum."),
                      ("α", "θ0", "gd", "momentum", "adam"), _rows(e), finding, j)


# --- Adam (or momentum) escapes where GD does not ----------------------------------------------

def judge_escape_vs_gd(e: Ends, optimizer: str, text: str) -> tuple[Judgement, str]:
    better = tuple(escaped(x, e.points) and not escaped(y, e.points)
                   for x, y in zip(e.ends[optimizer], e.ends["gd"], strict=True))
    worse = sum(escaped(y, e.points) and not escaped(x, e.points)
                for x, y in zip(e.ends[optimizer], e.ends["gd"], strict=True))
    j = grade((Part(text, better),), _labels(e))
    return j, (f"{optimizer} escapes where GD does not in {sum(better)} runs; GD escapes where "
               f"{optimizer} does not in {worse}. " + j.sentence())


def adam_vs_gd_escape() -> Experiment:
    e = _well()
    j, finding = judge_escape_vs_gd(e, "adam", "Adam escapes a local minimum GD is stuck in")
    return Experiment("adam_vs_gd_escape", "Adam against GD at escaping a local minimum",
                      "double_well", _well_protocol("The claim holds at a (θ0, α) if Adam ends "
                                                    "in the global minimum and GD does not."),
                      ("α", "θ0", "gd", "momentum", "adam"), _rows(e), finding, j)


def judge_momentum(well: Ends, quartic: Ends) -> tuple[Judgement, str]:
    """Momentum against GD on both landscapes: past the flat inflection point of the quartic
    (“build speed in regions with small gradients”) and out of the double well's local minimum
    (“push through local minima”), setting by setting."""
    flat = tuple(escaped(m, quartic.points) and not escaped(g, quartic.points)
                 or escaped(g, quartic.points)
                 for m, g in zip(quartic.ends["momentum"], quartic.ends["gd"], strict=True))
    through = tuple(escaped(m, well.points)
                    for m in well.ends["momentum"])
    labels = _labels(quartic, "quartic") + _labels(well, "double_well")
    n, m = len(flat), len(through)
    j = grade((Part("build speed in regions with small gradients", flat + (True,) * m),
               Part("push through local minima", (True,) * n + through)), labels)
    passed = sum(escaped(x, quartic.points) for x in quartic.ends["momentum"])
    gd_passed = sum(escaped(x, quartic.points) for x in quartic.ends["gd"])
    return j, (f"Quartic: momentum reaches the minimum past the flat inflection point in {passed} "
               f"of {n} runs, GD in {gd_passed}. Double well: momentum escapes the local minimum "
               f"in {sum(through)} of {m} runs, GD in "
               f"{sum(escaped(x, well.points) for x in well.ends['gd'])}. " + j.sentence())


def momentum_push() -> Experiment:
    j, finding = judge_momentum(_well(), _quartic())
    protocol = ("The quartic and double-well runs above (GD and momentum μ = 0.9, same starts "
                "and step sizes). “Builds speed in regions with small gradients” holds at a "
                "quartic setting if momentum reaches the minimum 9/4 wherever GD does, and "
                "also where GD stalls at the flat point θ = 0; “pushes through local minima” "
                "holds at a double-well setting if momentum ends in the global minimum.")
    return Experiment("momentum_push", "Momentum past flat regions and out of local minima",
                      "double_well", protocol, ("α", "θ0", "gd", "momentum", "adam"),
                      _rows(_well()), finding, j)


# --- Adam's own oscillation, and its speed, on the worked example -----------------------------

def judge_adam_calm(d: CurveData) -> tuple[Judgement, str]:
    calm = tuple(r == 0 for r in d.adam_rough)
    ref = d.lrs.index(ARTICLE_LR) if ARTICLE_LR in d.lrs else None
    j = grade((Part("preventing oscillations", calm),),
              tuple((("α", lr),) for lr in d.lrs), ref)
    return j, (f"Adam's roughness (loss increases plus sign changes of w − w*, b − b*) over "
               f"{d.steps} steps: " + ", ".join(f"{r} at α = {lr}" for lr, r in
                                                zip(d.lrs, d.adam_rough, strict=True))
               + ". " + j.sentence())


def adam_oscillation() -> Experiment:
    d = measure_curves()[0]
    j, finding = judge_adam_calm(d)
    protocol = (f"Adam on the worked example, as in “GD vs Adam beyond the worked example's 5 "
                f"steps” (α ∈ {choice(d.lrs)}, {d.steps} steps). The claim holds at an α if "
                "Adam's loss never rises and neither parameter crosses its optimum.")
    rows = tuple((lr, str(r)) for lr, r in zip(d.lrs, d.adam_rough, strict=True))
    return Experiment("adam_oscillation", "Does Adam prevent oscillation?", "linear_regression",
                      protocol, ("α", "Adam roughness"), rows, finding, j)


def judge_adam_faster(d: CurveData) -> tuple[Judgement, str]:
    lower = tuple(a < g for a, g in zip(d.adam_final, d.gd_final, strict=True))
    ref = d.lrs.index(ARTICLE_LR) if ARTICLE_LR in d.lrs else None
    j = grade((Part("to update the weights more effectively", lower),),
              tuple((("α", lr),) for lr in d.lrs), ref)
    return j, (f"After {d.steps} steps Adam's loss is below GD's at {sum(lower)} of "
               f"{len(lower)} step sizes. " + j.sentence())


def adam_more_effective() -> Experiment:
    d = measure_curves()[0]
    j, finding = judge_adam_faster(d)
    protocol = (f"GD and Adam on the worked example at α ∈ {choice(d.lrs)}, {d.steps} steps "
                "(the runs of “GD vs Adam beyond the worked example's 5 steps”). The claim holds "
                "at an α if Adam's loss after the last step is below GD's.")
    rows = tuple((lr, fmt(a), fmt(g)) for lr, a, g in zip(d.lrs, d.adam_final, d.gd_final,
                                                          strict=True))
    return Experiment("adam_more_effective", "Does Adam update the weights more effectively?",
                      "linear_regression", protocol,
                      ("α", f"Adam loss after {d.steps}", f"GD loss after {d.steps}"), rows,
                      finding, j)


# --- Adam's per-parameter steps ---------------------------------------------------------------

@dataclass(frozen=True)
class PerParameter:
    lrs: tuple[str, ...]
    ratio: tuple[tuple[float, ...], ...]  # |Δb|/|Δw| for t = 1..5, per α
    grad_ratio: tuple[tuple[float, ...], ...]  # |g_b|/|g_w| at the same steps


def judge_per_parameter(d: PerParameter) -> tuple[Judgement, str]:
    larger = tuple(all(r > 1 for r in rs) for rs in d.ratio)
    relative = tuple(all(r / g > 1 for r, g in zip(rs, gs, strict=True))
                     for rs, gs in zip(d.ratio, d.grad_ratio, strict=True))
    labels = tuple((("α", lr),) for lr in d.lrs)
    ref = d.lrs.index(ARTICLE_LR) if ARTICLE_LR in d.lrs else None
    j = grade((Part("larger updates for parameters with small gradients", larger),
               Part("(relative to their gradient)", relative)), labels, ref)
    k = ref if ref is not None else 0
    return j, (f"At α = {d.lrs[k]}: b's gradient is {min(d.grad_ratio[k]):.3g} to "
               f"{max(d.grad_ratio[k]):.3g} times w's over the first 5 steps, and b's update "
               f"{min(d.ratio[k]):.4g} to {max(d.ratio[k]):.4g} times w's. " + j.sentence())


def per_parameter_steps() -> Experiment:
    lrs = ("0.001", "0.01", "0.05")
    grid = grid64("linear_regression", "adam", [Setting(lr) for lr in lrs], 5)
    p = find_problem("linear_regression")
    grad = compile_many(gradient(p), p.symbols, Float64Arith())
    ratio, gratio = [], []
    for k in range(len(lrs)):
        path, _ = grid.column(k)
        d = np.abs(np.diff(path, axis=0))
        g = np.abs(np.array([grad(list(x)) for x in path[:-1]], dtype=float))
        ratio.append(tuple(float(x) for x in d[:, 1] / d[:, 0]))
        gratio.append(tuple(float(x) for x in g[:, 1] / g[:, 0]))
    d = PerParameter(lrs, tuple(ratio), tuple(gratio))
    j, finding = judge_per_parameter(d)
    rows = tuple((lr, ", ".join(f"{x:.3g}" for x in g), ", ".join(f"{x:.4g}" for x in r))
                 for lr, g, r in zip(lrs, gratio, ratio, strict=True))
    protocol = (f"Adam on the worked example (w's gradient is the larger: −44 vs −12 at the "
                f"start), α ∈ {choice(lrs)}, the article's 5 steps, float64. The claim holds at "
                "an α if b's update |Δb| exceeds w's |Δw| at every step; the parenthesised part, "
                "if b's update per unit of gradient exceeds w's.")
    return Experiment("per_parameter_steps", "Larger updates for parameters with small gradients?",
                      "linear_regression", protocol,
                      ("α", "gradient ratio b/w, t = 1..5", "update ratio b/w, t = 1..5"), rows,
                      finding, j)


# --- noise (SGD) and random restarts on the double well -----------------------------------------

NOISE = ("0", "1", "2", "4", "8")
SEEDS = 20


def noisy_gd(sigmas: tuple[str, ...], lr: float, steps: int, seeds: int, start: float
             ) -> np.ndarray:
    """GD on the double well with Gaussian gradient noise of each σ (the SGD model of a noisy
    gradient), ``seeds`` seeded runs per σ; the last ``steps // 4`` steps are noise-free so each
    run settles in the basin it is in. Returns the end points, shape (len(sigmas), seeds)."""
    p = find_problem("double_well")
    grad = compile_many(gradient(p), p.symbols, Float64Arith())
    rng = np.random.default_rng(20240916)
    sig = np.repeat([float(s) for s in sigmas], seeds)
    x = np.full(sig.shape, start)
    for t in range(steps):
        noise = rng.standard_normal(x.shape) * sig if t < steps - steps // 4 else 0.0
        x = x - lr * (np.asarray(grad([x])[0], dtype=float) + noise)
        x = np.clip(x, -3, 3)
    return x.reshape(len(sigmas), seeds)


def judge_noise(sigmas: tuple[str, ...], fractions: tuple[float, ...]) -> tuple[Judgement, str]:
    base = fractions[0]
    helps = tuple(f > base for f in fractions)
    j = grade((Part("the randomness can help it escape local minima", helps[1:]),),
              tuple((("σ", s),) for s in sigmas[1:]))
    return j, ("Fraction of runs ending in the global minimum: " + ", ".join(
        f"{f:.0%} at σ = {s}" for s, f in zip(sigmas, fractions, strict=True)) + ". "
        + j.sentence())


def noise_escape() -> Experiment:
    points = derive(find_problem("double_well")).critical_points
    glob = min(points, key=lambda c: float(c.value.evalf(20)))
    target = float(glob.coords[0].evalf(20))
    ends = noisy_gd(NOISE, 0.01, 2000, SEEDS, 0.96)
    fractions = tuple(float(np.mean(np.abs(row - target) < 0.1)) for row in ends)
    j, finding = judge_noise(NOISE, fractions)
    protocol = (f"GD at α = 0.01 on the tilted double well from its local minimum θ0 = 0.96, "
                f"2000 steps, with Gaussian noise of standard deviation σ ∈ {choice(NOISE)} "
                f"added to every gradient (as a mini-batch gradient would be), {SEEDS} seeded "
                "runs per σ; the last quarter of the steps is noise-free so each run settles. "
                "The claim holds at a σ > 0 if more runs end in the global minimum than "
                "without noise.")
    rows = tuple((s, f"{f:.0%}") for s, f in zip(NOISE, fractions, strict=True))
    return Experiment("noise_escape", "Does gradient noise help escape a local minimum?",
                      "double_well", protocol, ("σ", "runs ending in the global minimum"), rows,
                      finding, j)


RESTART_LRS = ("0.001", "0.01", "0.05")
RESTARTS = (1, 3, 10)
STARTS = 200


def judge_restarts(lrs: tuple[str, ...], p: tuple[float, ...]) -> tuple[Judgement, str]:
    """With a fraction p of random starts reaching the global minimum, k restarts find it with
    probability 1 − (1 − p)^k, which grows with k exactly when 0 < p < 1."""
    chance = [[1 - (1 - q) ** k for k in RESTARTS] for q in p]
    grows = tuple(c[-1] > c[0] for c in chance)
    j = grade((Part("random restarts increase the chances of finding the global minimum",
                    grows),), tuple((("α", lr),) for lr in lrs))
    return j, ("Chance of reaching the global minimum with 1, 3, 10 restarts: " + "; ".join(
        f"α = {lr}: " + ", ".join(f"{c:.0%}" for c in cs) for lr, cs in zip(lrs, chance,
                                                                             strict=True))
        + ". " + j.sentence())


def random_restarts() -> Experiment:
    rng = np.random.default_rng(7)
    starts = tuple(f"{x:.6f}" for x in rng.uniform(-2, 2, STARTS))
    points = derive(find_problem("double_well")).critical_points
    glob = min(points, key=lambda c: float(c.value.evalf(20)))
    target = float(glob.coords[0].evalf(20))
    p = []
    for lr in RESTART_LRS:
        g = grid64("double_well", "gd", [Setting(lr, (s,)) for s in starts], 2000)
        p.append(float(np.mean(np.abs(g.params[-1, 0, :] - target) < 0.1)))
    j, finding = judge_restarts(RESTART_LRS, tuple(p))
    protocol = (f"GD on the tilted double well from {STARTS} starts drawn uniformly from "
                f"[−2, 2] (seeded), α ∈ {choice(RESTART_LRS)}, 2000 steps. p is the fraction "
                "of starts ending within 0.1 of the global minimum; with k independent restarts "
                "the chance of finding it is 1 − (1 − p)^k. The claim holds at an α if that "
                f"chance is larger for k = {RESTARTS[-1]} than for k = 1.")
    rows = tuple((lr, f"{q:.0%}") for lr, q in zip(RESTART_LRS, p, strict=True))
    return Experiment("random_restarts", "Random restarts on the tilted double well",
                      "double_well", protocol, ("α", "p (one start)"), rows, finding, j)


# --- a saddle point -------------------------------------------------------------------------------

OFFSETS = ("0.1", "0.001", "1e-06", "1e-09", "0")


def judge_saddle(offsets: tuple[str, ...], steps: tuple[int | None, ...]) -> tuple[Judgement, str]:
    base = steps[0] if steps[0] is not None else None
    slow = tuple(s is None or (base is not None and s >= 2 * base) for s in steps[1:])
    j = grade((Part("causing the optimization process to slow down or stop", slow),),
              tuple((("y0", o),) for o in offsets[1:]))
    said = ", ".join(f"{s if s is not None else 'never'} from y0 = {o}"
                     for o, s in zip(offsets, steps, strict=True))
    return j, f"Steps to within 1e-6 of the minimum value: {said}. " + j.sentence()


def saddle_slowdown(steps: int = 3000) -> Experiment:
    d = derive(find_problem("saddle"))
    fmin = min(float(c.value.evalf(20)) for c in d.critical_points if c.kind == "minimum")
    g = grid64("saddle", "gd", [Setting("0.1", ("1", o)) for o in OFFSETS], steps)
    reached = tuple(first_below(g.loss[:, k], fmin + 1e-6) for k in range(len(OFFSETS)))
    j, finding = judge_saddle(OFFSETS, reached)
    kinds = ", ".join(f"({', '.join(f'{float(x):g}' for x in c.coords)}): {c.kind}"
                      for c in d.critical_points)
    protocol = (f"f(x, y) = x² + y⁴/4 − y²/2, critical points (SymPy): {kinds}. GD at α = 0.1 "
                f"from (1, y0), y0 ∈ {choice(OFFSETS)}: the closer y0 is to 0, the closer the "
                f"path passes the saddle. Up to {steps} steps; speed: first step with f within "
                "1e-6 of the minimum value. The claim holds at a y0 if GD needs at least twice "
                "the steps it needs from y0 = 0.1, or never gets there.")
    rows = tuple((o, str(s) if s is not None else f"> {steps}", f"{float(g.params[-1, 1, k]):.4g}")
                 for k, (o, s) in enumerate(zip(OFFSETS, reached, strict=True)))
    return Experiment("saddle_slowdown", "GD near a saddle point", "saddle", protocol,
                      ("y0", "steps to the minimum", f"y after {steps}"), rows, finding, j)


# --- sensitivity to hyperparameters -------------------------------------------------------------

def adam_sensitivity(steps: int = 300) -> Experiment:
    lrs = ("0.001", "0.003", "0.01", "0.03", "0.1")
    betas = tuple((b1, b2) for b1 in ("0.5", "0.9", "0.99") for b2 in ("0.99", "0.999", "0.9999"))
    a = grid64("linear_regression", "adam", [Setting(lr) for lr in lrs], steps)
    b = grid64("linear_regression", "adam",
               [Setting("0.01", None, (("beta1", x), ("beta2", y))) for x, y in betas], steps)
    fa, fb = a.loss[-1], b.loss[-1]
    spread_a, spread_b = float(np.max(fa) / np.min(fa)), float(np.max(fb) / np.min(fb))
    j = grade((Part("Adam can be sensitive to hyperparameters", (max(spread_a, spread_b) > 10,)),
               Part("especially the learning rate", (spread_a > spread_b,))),
              ((("problem", "linear_regression"),),))
    finding = (f"Final loss after {steps} steps varies by a factor {spread_a:.3g} over "
               f"α ∈ {choice(lrs)} (β's at their defaults) and by {spread_b:.3g} over the nine "
               "(β1, β2) pairs at α = 0.01. " + j.sentence())
    protocol = (f"Adam on the worked example for {steps} steps, float64: once over α ∈ "
                f"{choice(lrs)} with β1 = 0.9, β2 = 0.999, once over β1 ∈ {{0.5, 0.9, 0.99}} × "
                "β2 ∈ {0.99, 0.999, 0.9999} at α = 0.01. Sensitive: the final loss varies by "
                "more than a factor 10; especially the learning rate: its factor is the larger.")
    rows = tuple((f"α = {lr}", fmt(float(x))) for lr, x in zip(lrs, fa, strict=True)) + tuple(
        (f"β1 = {x}, β2 = {y}", fmt(float(v))) for (x, y), v in zip(betas, fb, strict=True))
    return Experiment("adam_sensitivity", "Adam's sensitivity to its hyperparameters",
                      "linear_regression", protocol, ("setting", f"loss after {steps}"), rows,
                      finding, j)


# --- GD and a badly tuned step size; momentum, adaptive steps and noise against GD -----------

def judge_tuning(lrs: tuple[str, ...], steps: tuple[int | None, ...]) -> tuple[Judgement, str]:
    reached = [s for s in steps if s is not None]
    best = min(reached) if reached else None
    slow = tuple(s is None or (best is not None and s > 2 * best) for s in steps)
    j = grade((Part("gradient descent can take a long time to converge, especially if the "
                    "learning rate is not well-tuned", slow),), tuple((("α", lr),) for lr in lrs))
    said = ", ".join(f"{s if s is not None else 'not reached'} at α = {lr}"
                     for lr, s in zip(lrs, steps, strict=True))
    return j, f"Steps to loss ≤ 1e-6: {said}. " + j.sentence()


def gd_lr_tuning(steps: int = 1000) -> Experiment:
    from .oscillation import GD_LRS

    g = grid64("linear_regression", "gd", [Setting(lr) for lr in GD_LRS], steps)
    reached = tuple(first_below(g.loss[:, k], 1e-6) for k in range(len(GD_LRS)))
    j, finding = judge_tuning(GD_LRS, reached)
    protocol = (f"GD on the worked example from (0, 0) at α ∈ {choice(GD_LRS)}, up to {steps} "
                "steps, float64; speed: first step with loss ≤ 1e-6. The claim holds at an α if "
                "GD needs more than twice the steps of the fastest α on the grid, or does not "
                "get there.")
    rows = tuple((lr, str(s) if s is not None else f"> {steps}")
                 for lr, s in zip(GD_LRS, reached, strict=True))
    return Experiment("gd_lr_tuning", "GD's speed against its step size", "linear_regression",
                      protocol, ("α", "steps to loss ≤ 1e-6"), rows, finding, j)


def judge_mitigations(well: Ends, noise: tuple[float, ...]) -> tuple[Judgement, str]:
    n = len(well.settings)
    counts = {o: sum(escaped(x, well.points) for x in well.ends[o]) for o in well.ends}
    parts = (Part("momentum", (counts["momentum"] > counts["gd"],)),
             Part("adaptive learning rates", (counts["adam"] > counts["gd"],)),
             Part("stochasticity (randomness)", (max(noise[1:]) > noise[0],)))
    j = grade(parts, ((("problem", "double_well"),),))
    return j, (f"Runs escaping the double well's local minimum (of {n}): GD {counts['gd']}, "
               f"momentum {counts['momentum']}, Adam {counts['adam']}; with gradient noise, "
               f"up to {max(noise):.0%} of noisy GD runs against {noise[0]:.0%} without. "
               + j.sentence())


def mitigations() -> Experiment:
    well = _well()
    noise = noise_escape()
    fractions = tuple(float(r[1].rstrip("%")) / 100 for r in noise.rows)
    j, finding = judge_mitigations(well, fractions)
    protocol = ("The double-well runs of “Escaping a local minimum” (GD, momentum, Adam over "
                "the same starts and step sizes) and of “Does gradient noise help escape a local "
                "minimum?”. Each technique helps if it ends in the global minimum more often "
                "than plain GD (noise: at some σ > 0 more often than at σ = 0).")
    return Experiment("mitigations", "Momentum, adaptive steps and noise against GD",
                      "double_well", protocol, ("α", "θ0", "gd", "momentum", "adam"),
                      _rows(well), finding, j)
