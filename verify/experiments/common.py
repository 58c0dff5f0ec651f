"""What every experiment shares: the result object, float64 runs, and the measurements
(sign changes, steps to a threshold, loss increases) the protocols are written in."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .float64 import GridRun, Setting, grid64
from .outcomes import CONFIRMED, Judgement


@dataclass(frozen=True, eq=False)
class Run:
    """One float64 run: the optimizer, its step size, the start and the path it took."""

    optimizer: str
    lr: str
    start: tuple[float, ...]
    params: np.ndarray = field(repr=False)  # params[t] after step t (t = 0: the start)
    loss: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Experiment:
    """An experiment's protocol, its table, the finding (a function of the table) and the
    judgement of the claim it tests over the experiment's sweep."""

    id: str
    title: str
    problem: str
    protocol: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    finding: str
    judgement: Judgement
    runs: tuple[Run, ...] = field(default=(), repr=False)  # what the figures draw

    @property
    def verdict(self) -> str:
        return self.judgement.verdict

    @property
    def holds(self) -> bool:
        return self.verdict == CONFIRMED


def runs_of(grid: GridRun) -> list[Run]:
    """Each setting of a grid run as a ``Run`` (views, no copies)."""
    out = []
    for k, s in enumerate(grid.settings):
        params, loss = grid.column(k)
        out.append(Run(grid.optimizer, s.lr, tuple(float(x) for x in params[0]), params, loss))
    return out


def run64(problem: str, optimizer: str, lr: str, steps: int,
          start: tuple[str, ...] | None = None, hyper: dict[str, str] | None = None) -> Run:
    """Run ``optimizer`` in float64 (rules/catalogue.py on NumPy doubles) and keep the whole path."""
    setting = Setting(lr, start, tuple(sorted((hyper or {}).items())))
    return runs_of(grid64(problem, optimizer, [setting], steps))[0]


def fmt(x: float, digits: int = 4) -> str:
    return "diverged" if not math.isfinite(x) else f"{x:.{digits}g}"


def sign_changes(xs: np.ndarray, floor: float = 1e-12) -> int:
    """How often a sequence changes sign, ignoring entries below ``floor`` times its largest
    magnitude (once a component has decayed to rounding noise its sign means nothing)."""
    xs = np.asarray(xs, dtype=float)
    xs = xs[np.isfinite(xs)]
    big = np.abs(xs) > floor * np.max(np.abs(xs), initial=0.0)
    s = np.sign(xs[big])
    return int(np.count_nonzero(s[1:] != s[:-1]))


def first_below(loss: np.ndarray, threshold: float) -> int | None:
    hits = np.flatnonzero(np.asarray(loss) <= threshold)
    return int(hits[0]) if hits.size else None


def loss_increases(loss: np.ndarray, upto: int | None = None) -> int:
    """Steps (up to step ``upto``) on which the loss went up."""
    x = np.asarray(loss if upto is None else loss[: upto + 1], dtype=float)
    with np.errstate(invalid="ignore"):
        return int(np.count_nonzero(np.diff(x) > 0))


def step_sizes(params: np.ndarray) -> np.ndarray:
    """‖θ_t − θ_{t−1}‖ for t = 1, 2, …"""
    return np.linalg.norm(np.diff(np.asarray(params), axis=0), axis=1)


def choice(values: tuple[str, ...]) -> str:
    return "{" + ", ".join(values) + "}"
