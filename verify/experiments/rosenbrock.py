"""“Adam outperforms Gradient Descent by converging faster, with fewer oscillations”: Adam at
each step size and start against GD's best step size from the same start, on Rosenbrock."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .common import Experiment, choice, first_below, fmt, loss_increases, runs_of
from .float64 import Setting, grid64
from .outcomes import Judgement, Part, grade

GD_LRS = ("0.0002", "0.0005", "0.001", "0.002")
ADAM_LRS = ("0.001", "0.003", "0.01", "0.03", "0.1")
STARTS = (("-1.2", "1"), ("-1.5", "2"), ("0", "0"), ("1.5", "-0.5"), ("2", "2"))
THRESHOLD = 1e-6
STEPS = 10000


@dataclass(frozen=True)
class Outcome:
    """One run: steps to loss ≤ threshold (None: not within the budget) and loss increases
    up to that step (or the end), and the loss at the end."""

    lr: str
    steps: int | None
    rises: int
    final: float

    def key(self) -> tuple[float, int]:
        return (self.steps if self.steps is not None else math.inf, self.rises)


@dataclass(frozen=True)
class RosenbrockData:
    starts: tuple[tuple[str, ...], ...]
    gd: tuple[tuple[Outcome, ...], ...]  # per start, per GD α
    adam: tuple[tuple[Outcome, ...], ...]  # per start, per Adam α
    steps: int


def _outcomes(grid) -> list[Outcome]:
    out = []
    for k, s in enumerate(grid.settings):
        _, loss = grid.column(k)
        hit = first_below(loss, THRESHOLD)
        rises = loss_increases(loss, hit if hit is not None else len(loss) - 1)
        out.append(Outcome(s.lr, hit, rises, float(loss[-1])))
    return out


def measure(steps: int = STEPS) -> tuple[RosenbrockData, list]:
    gd = grid64("rosenbrock", "gd", [Setting(lr, s) for s in STARTS for lr in GD_LRS], steps)
    adam = grid64("rosenbrock", "adam", [Setting(lr, s) for s in STARTS for lr in ADAM_LRS],
                  steps)
    g, a = _outcomes(gd), _outcomes(adam)
    ng, na = len(GD_LRS), len(ADAM_LRS)
    data = RosenbrockData(STARTS, tuple(tuple(g[i * ng:(i + 1) * ng]) for i in range(len(STARTS))),
                          tuple(tuple(a[i * na:(i + 1) * na]) for i in range(len(STARTS))), steps)
    # the figure: from the first start, GD at its best α and Adam at every α
    best = min(range(ng), key=lambda k: g[k].key())
    runs = [runs_of(gd)[best]] + runs_of(adam)[:na]
    return data, runs


def best_gd(d: RosenbrockData, i: int) -> Outcome:
    return min(d.gd[i], key=Outcome.key)


def _said(o: Outcome, steps: int) -> str:
    return f"{o.steps} steps" if o.steps is not None else f"not within {steps} steps"


def judge(d: RosenbrockData) -> tuple[Judgement, str]:
    labels, faster, calmer = [], [], []
    for i, start in enumerate(d.starts):
        g = best_gd(d, i)
        for a in d.adam[i]:
            labels.append((("θ0", f"({', '.join(start)})"), ("Adam α", a.lr)))
            faster.append(a.key()[0] < g.key()[0])
            calmer.append(a.rises < g.rises)
    j = grade((Part("converging faster", tuple(faster)),
               Part("with fewer oscillations", tuple(calmer))), labels)
    g0 = best_gd(d, 0)
    a0 = min(d.adam[0], key=Outcome.key)
    context = (f"From the standard start ({', '.join(d.starts[0])}): best GD (α = {g0.lr}) "
               f"{_said(g0, d.steps)}, loss rose {g0.rises} times; fastest Adam (α = {a0.lr}) "
               f"{_said(a0, d.steps)}, loss rose {a0.rises} times. "
               f"Adam is faster in {sum(faster)} and calmer in {sum(calmer)} of the "
               f"{len(labels)} (start, α) settings. ")
    return j, context + j.sentence()


def rosenbrock_speed(steps: int = STEPS) -> Experiment:
    """Steps to loss ≤ 1e-6 and loss increases, Adam at each α vs GD at its best α."""
    d, runs = measure(steps)
    judgement, finding = judge(d)
    rows = []
    for i, start in enumerate(d.starts):
        g = best_gd(d, i)
        for a in d.adam[i]:
            rows.append((f"({', '.join(start)})", a.lr,
                         str(a.steps) if a.steps is not None else f"> {steps}", str(a.rises),
                         fmt(a.final), g.lr,
                         str(g.steps) if g.steps is not None else f"> {steps}", str(g.rises)))
    starts = choice(tuple(f"({', '.join(s)})" for s in STARTS))
    protocol = (f"Rosenbrock (a = 1, b = 100) from θ0 ∈ {starts}; "
                f"up to {steps} steps in float64; GD at α ∈ {choice(GD_LRS)}, Adam (β1 = 0.9, "
                f"β2 = 0.999, ε = 1e-8) at α ∈ {choice(ADAM_LRS)}. Speed: first step with loss ≤ "
                f"{THRESHOLD:g}; oscillation: number of steps on which the loss increased (up to "
                "that step). From each start GD is taken at its best α (fewest steps, then fewest "
                "increases). The claim holds at a (start, Adam α) if Adam reaches the threshold "
                "in fewer steps than that GD run and its loss rises strictly fewer times.")
    return Experiment("rosenbrock_speed", "Adam vs GD on the Rosenbrock function", "rosenbrock",
                      protocol, ("θ0", "Adam α", f"Adam steps to loss ≤ {THRESHOLD:g}",
                                 "Adam loss increases", f"Adam loss after {steps}",
                                 "best GD α", "GD steps", "GD loss increases"),
                      tuple(rows), finding, judgement, tuple(runs))
