"""Where one-dimensional runs end, against the critical points SymPy derived and classified:
“Adam overcomes local minima” (tilted double well) and “the optimizer can get stuck in local
minima without momentum” (the article's quartic)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from ..symbolic.derive import derive
from ..symbolic.problems import find_problem
from ..symbolic.witness import is_zero
from .common import Experiment, choice, runs_of
from .float64 import Setting, grid64
from .outcomes import Judgement, Part, grade

NEAR = 0.1  # a run "ends at" a critical point when within this distance of it


@dataclass(frozen=True)
class Point:
    """A critical point, numerically, with SymPy's classification and whether it is global."""

    x: float
    kind: str
    is_global: bool


@dataclass(frozen=True)
class Ends:
    """Where each optimizer's runs ended, one entry per setting (NaN: diverged)."""

    settings: tuple[Setting, ...]
    points: tuple[Point, ...]
    ends: dict[str, tuple[float, ...]]
    steps: int


def critical_points(problem: str) -> tuple[Point, ...]:
    d = derive(find_problem(problem))
    return tuple(Point(float(c.coords[0].evalf(20)), c.kind,
                       d.global_min is not None and is_zero(c.value - d.global_min))
                 for c in d.critical_points)


def nearest(x: float, points: tuple[Point, ...]) -> Point | None:
    """The critical point a run ending at ``x`` has settled at, if any is within ``NEAR``."""
    if not math.isfinite(x):
        return None
    p = min(points, key=lambda q: abs(q.x - x), default=None)
    return p if p is not None and abs(p.x - x) <= NEAR else None


def describe(x: float, points: tuple[Point, ...]) -> str:
    if not math.isfinite(x):
        return "diverged"
    p = nearest(x, points)
    if p is None:
        return f"between ({x:.3f})"
    what = "global minimum" if p.is_global else p.kind
    return f"{what} ({x:.3f})"


@cache
def _measure(problem: str, optimizers: tuple[str, ...], lrs: tuple[str, ...],
             starts: tuple[str, ...], steps: int) -> tuple[Ends, list]:
    settings = tuple(Setting(lr, (s,)) for lr in lrs for s in starts)
    ends, runs = {}, []
    for opt in optimizers:
        grid = grid64(problem, opt, settings, steps)
        ends[opt] = tuple(float(x) for x in grid.params[-1, 0, :])
        runs += runs_of(grid)
    return Ends(settings, critical_points(problem), ends, steps), runs


def _rows(e: Ends) -> tuple[tuple[str, ...], ...]:
    return tuple((s.lr, s.start[0], *(describe(e.ends[o][k], e.points) for o in e.ends))
                 for k, s in enumerate(e.settings))


# --- double well: “Adam's ability to overcome local minima” ---------------------------------

WELL_STARTS = ("0.5", "0.96", "1.5", "2")
WELL_LRS = ("0.001", "0.01", "0.05", "0.1", "0.2", "0.5")
WELL_OPTIMIZERS = ("gd", "momentum", "adam")


def escaped(x: float, points: tuple[Point, ...]) -> bool:
    p = nearest(x, points)
    return p is not None and p.is_global


def judge_escape(e: Ends) -> tuple[Judgement, str]:
    labels = tuple(s.dims() for s in e.settings)
    adam = tuple(escaped(x, e.points) for x in e.ends["adam"])
    j = grade((Part("Adam's ability to overcome local minima", adam),), labels)
    counts = {o: sum(escaped(x, e.points) for x in xs) for o, xs in e.ends.items()}
    local = [p for p in e.points if p.kind == "minimum" and not p.is_global]
    glob = [p for p in e.points if p.is_global]
    where = (f"the local minimum at {local[0].x:.4f}" if local else "no local minimum")
    context = (f"All starts lie in the basin of {where}; runs ending in the global minimum"
               + (f" ({glob[0].x:.4f})" if glob else "") + f", out of {len(labels)} per "
               "optimizer: " + ", ".join(f"{o} {n}" for o, n in counts.items()) + ". ")
    if "gd" in counts and counts["adam"] <= counts["gd"]:
        context += "Adam escapes no more often than plain GD. "
    return j, context + j.sentence()


def double_well_escape(steps: int = 2000) -> Experiment:
    """Which basin each run ends in, from starts in the basin of the local minimum."""
    e, runs = _measure("double_well", WELL_OPTIMIZERS, WELL_LRS, WELL_STARTS, steps)
    judgement, finding = judge_escape(e)
    barrier = next((p.x for p in e.points if p.kind == "maximum"), float("nan"))
    protocol = ("f(θ) = θ⁴ − 2θ² + 0.3θ; its critical points (SymPy): "
                + ", ".join(f"{p.x:.4f} ({'global minimum' if p.is_global else p.kind})"
                            for p in e.points)
                + f". Starts θ0 ∈ {choice(WELL_STARTS)} (right of the barrier at "
                f"{barrier:.4f}, so in the local minimum's basin), α ∈ {choice(WELL_LRS)}, "
                f"{steps} steps, float64; GD, momentum (μ = 0.9) and Adam (β1 = 0.9, "
                f"β2 = 0.999, ε = 1e-8). A run escaped if it ends within {NEAR} of the global "
                "minimum. The claim holds at a (α, θ0) if Adam escapes there.")
    return Experiment("double_well_escape", "Escaping a local minimum (tilted double well)",
                      "double_well", protocol, ("α", "θ0", *WELL_OPTIMIZERS), _rows(e), finding,
                      judgement, tuple(runs))


# --- quartic: “the optimizer can get stuck in local minima without momentum” ----------------

QUARTIC_STARTS = ("-1", "-0.5", "-0.1", "0.5", "1", "3")
QUARTIC_LRS = ("0.001", "0.01", "0.05")
QUARTIC_OPTIMIZERS = ("gd", "momentum", "adam")


def judge_stall(e: Ends) -> tuple[Judgement, str]:
    labels = tuple(s.dims() for s in e.settings)
    at = [nearest(x, e.points) for x in e.ends["gd"]]
    stuck = tuple(p is None or not p.is_global for p in at)
    local = tuple(p is not None and p.kind == "minimum" and not p.is_global for p in at)
    freed = tuple(escaped(x, e.points) for x in e.ends["momentum"])
    j = grade((Part("the optimizer can get stuck", stuck),
               Part("in local minima", local),
               Part("without momentum-based escape mechanisms", freed)), labels)
    kinds = ", ".join(f"θ = {p.x:.4g}: {'global minimum' if p.is_global else p.kind}"
                      for p in e.points)
    stalls = sorted({f"{p.x:.4g}" for p in at if p is not None and not p.is_global})
    stalled_kinds = sorted({p.kind for p in at if p is not None and not p.is_global})
    context = f"Critical points (SymPy): {kinds}. "
    if any(stuck):
        context += (f"GD stops short of the global minimum in {sum(stuck)} of {len(labels)} "
                    "runs" + (f", at θ = {', '.join(map(str, stalls))} "
                              f"({'; '.join(stalled_kinds)})" if stalls else "") + ". ")
    else:
        context += "GD reaches the global minimum from every start. "
    if not any(p.kind == "minimum" and not p.is_global for p in e.points):
        context += "There is no local minimum to get stuck in. "
    context += (f"Momentum (μ = 0.9) reaches the global minimum in {sum(freed)} of "
                f"{len(labels)} runs. ")
    return j, context + j.sentence()


def quartic_stall(steps: int = 2000) -> Experiment:
    """GD, momentum and Adam on the article's quartic: where they end, from both sides of 0."""
    e, runs = _measure("quartic", QUARTIC_OPTIMIZERS, QUARTIC_LRS, QUARTIC_STARTS, steps)
    judgement, finding = judge_stall(e)
    protocol = (f"f(θ) = θ⁴ − 3θ³ + 2; GD, momentum (μ = 0.9) and Adam (β1 = 0.9, β2 = 0.999, "
                f"ε = 1e-8) from θ0 ∈ {choice(QUARTIC_STARTS)}, α ∈ {choice(QUARTIC_LRS)}, "
                f"{steps} steps, float64. A run ends at a critical point (classified by SymPy) "
                f"when within {NEAR} of it. Parts of the claim at a (α, θ0): GD is stuck (it "
                "does not end at the global minimum); where it stops is a local minimum; "
                "momentum from the same start reaches the global minimum.")
    return Experiment("quartic_stall", "Where GD, momentum and Adam stop on the article's quartic",
                      "quartic", protocol, ("α", "θ0", *QUARTIC_OPTIMIZERS), _rows(e), finding,
                      judgement, tuple(runs))
