"""float64 runs of one update rule over a grid of settings at once, for the experiments' sweeps.

Every setting (step size, start, other hyperparameters) is one column of a NumPy array, so a
sweep of dozens of settings costs about as much as one run: the rule (``rules/catalogue.py``, the same
code as the goldens) and the problem's SymPy gradient are coordinate-wise and broadcast over the
columns. float64 is enough for what the experiments measure (which basin, how many steps to a
threshold, sign changes), all far coarser than double rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import InputError, unknown
from ..golden.arith import Float64Arith
from ..rules import RULES
from ..symbolic.derive import gradient
from ..symbolic.evaluate import compile_expr, compile_many
from ..symbolic.problems import Problem, find_problem


@dataclass(frozen=True)
class Setting:
    """One point of a sweep: the step size, the start (None: the problem's) and any other
    hyperparameters, all as decimal strings."""

    lr: str
    start: tuple[str, ...] | None = None
    hyper: tuple[tuple[str, str], ...] = ()

    def dims(self) -> tuple[tuple[str, str], ...]:
        """The setting as (dimension, value) pairs: the start first, then α, then the rest."""
        out = []
        if self.start is not None:
            out.append(("θ0", f"({', '.join(self.start)})" if len(self.start) > 1
                        else self.start[0]))
        return tuple(out) + (("α", self.lr),) + self.hyper


@dataclass(frozen=True)
class GridRun:
    """The paths of one optimizer under every setting: ``params[t, i, k]`` is parameter i after
    step t under setting k (t = 0: the start), ``loss[t, k]`` the loss there."""

    problem: str
    optimizer: str
    settings: tuple[Setting, ...]
    params: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)

    def column(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Path and loss curve of setting k."""
        return self.params[:, :, k], self.loss[:, k]


def _value(text: str) -> float:
    return float(Fraction(text))


def grid64(problem: str | Problem, optimizer: str, settings: Sequence[Setting],
           steps: int) -> GridRun:
    """Run ``optimizer`` on ``problem`` for ``steps`` steps under every setting, in float64."""
    p = find_problem(problem) if isinstance(problem, str) else problem
    if p.online:
        raise InputError(f"problem {p.name} is online; grid runs need a fixed loss")
    if optimizer not in RULES:
        raise InputError(unknown("optimizer", optimizer, sorted(RULES)))
    rule = RULES[optimizer]
    ar = Float64Arith()
    n, cols = len(p.params), len(settings)
    starts = [s.start if s.start is not None else tuple(str(v) for v in p.init)
              for s in settings]
    x = np.array([[_value(st[i]) for st in starts] for i in range(n)], dtype=np.float64)
    hp = {}
    for key, default in rule.defaults.items():
        hp[key] = np.array([_value(s.lr if key == "lr" else dict(s.hyper).get(key, default))
                            for s in settings], dtype=np.float64)
    grad_fn = compile_many(gradient(p), p.symbols, ar)
    loss_fn = compile_expr(p.loss, p.symbols, ar)
    lo = hi = None
    if p.domain:
        lo = np.array([[_value(str(a))] for a, _ in p.domain])
        hi = np.array([[_value(str(b))] for _, b in p.domain])
    params = np.empty((steps + 1, n, cols))
    loss = np.empty((steps + 1, cols))
    with np.errstate(all="ignore"):
        state = rule.init(x, ar)
        params[0], loss[0] = x, loss_fn(list(x))  # a constant broadcasts over the settings
        for t in range(1, steps + 1):
            g = np.empty((n, cols))
            for i, gi in enumerate(grad_fn(list(x))):
                g[i] = gi
            delta, state, _ = rule.update(g, state, x, t, hp, ar)
            x = x + delta
            if lo is not None:
                x = np.minimum(np.maximum(x, lo), hi)
            params[t], loss[t] = x, loss_fn(list(x))
    return GridRun(p.name, optimizer, tuple(settings), params, loss)
