"""Optimizer update rules, written once and run on any number backend (mpmath, float32, ...).

Every rule here is coordinate-wise, so one ``update`` serves a scalar (high precision, one
coordinate at a time) and a NumPy array (float32, all coordinates at once). A rule is an
``init``/``update`` pair in the style of optax's ``scale_by_adam``: ``update`` takes the
gradient, the state, the current parameter and the 1-based step ``t`` and returns the parameter
change, the new state and auxiliary values (e.g. bias-corrected moments) worth recording.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

State = dict[str, Any]
Update = tuple[Any, State, dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    """A named update rule with its hyperparameters (decimal-string defaults)."""

    name: str
    defaults: Mapping[str, str]
    init: Callable[[Any, Any], State]
    update: Callable[[Any, State, Any, int, Mapping[str, Any], Any], Update]
    state_names: tuple[str, ...] = ()
    aux_names: tuple[str, ...] = ()
    doc: str = ""
    variant: Mapping[str, Any] = field(default_factory=dict)


def _gd_init(x, ar):
    return {}


def _gd_update(g, state, x, t, hp, ar):
    """θ ← θ − α·g."""
    return -(hp["lr"] * g), state, {}


GD = Rule("gd", {"lr": "0.01"}, _gd_init, _gd_update, doc="θ_t = θ_{t−1} − α g_t")


def _adam_init(x, ar):
    return {"m": ar.zeros_like(x), "v": ar.zeros_like(x)}


def _adam_update(g, state, x, t, hp, ar):
    """Kingma & Ba (2015), Algorithm 1.

    m_t = β1 m_{t−1} + (1 − β1) g;  v_t = β2 v_{t−1} + (1 − β2) g²;
    m̂_t = m_t / (1 − β1^t);  v̂_t = v_t / (1 − β2^t);  θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε).
    """
    one = ar.num(1)
    b1, b2 = hp["beta1"], hp["beta2"]
    m = b1 * state["m"] + (one - b1) * g
    v = b2 * state["v"] + (one - b2) * (g * g)
    m_hat = m / ar.one_minus_pow(b1, t)
    v_hat = v / ar.one_minus_pow(b2, t)
    delta = -(hp["lr"] * m_hat / (ar.sqrt(v_hat) + hp["eps"]))
    return delta, {"m": m, "v": v}, {"m_hat": m_hat, "v_hat": v_hat}


ADAM = Rule("adam", {"lr": "0.001", "beta1": "0.9", "beta2": "0.999", "eps": "1e-8"},
            _adam_init, _adam_update, state_names=("m", "v"), aux_names=("m_hat", "v_hat"),
            doc="Kingma & Ba (2015) Algorithm 1")

RULES: dict[str, Rule] = {r.name: r for r in (GD, ADAM)}


@dataclass(frozen=True)
class Record:
    """One step of a run, in backend numbers: params after step t, the gradient used, state."""

    t: int
    params: list[Any]
    grad: list[Any] | None = None
    state: dict[str, list[Any]] = field(default_factory=dict)
    aux: dict[str, list[Any]] = field(default_factory=dict)


def iterate(rule: Rule, hyper: Mapping[str, Any], init: Sequence[Any],
            grad_fn: Callable[[list[Any], int], list[Any]], steps: int, ar: Any,
            on_step: Callable[[int], None] | None = None,
            project: Callable[[Any, int], Any] | None = None) -> list[Record]:
    """Run ``rule`` for ``steps`` steps from ``init``; record every step (t = 0 is the start).

    ``grad_fn(params, t)`` gives the gradient used at step t; ``project(x, i)``, if given, maps
    coordinate i back onto its feasible interval after each step (projected methods).
    Stops early (after recording it) at the first step whose values are not finite.
    """
    params = list(init)
    if ar.vectorized:
        x = ar.vector(params)
        state = rule.init(x, ar)
    else:
        state = [rule.init(p, ar) for p in params]
    records = [Record(0, list(params))]
    for t in range(1, steps + 1):
        grad = list(grad_fn(params, t))
        if ar.vectorized:
            g = ar.vector(grad)
            delta, state, aux = rule.update(g, state, x, t, hyper, ar)
            x = x + delta
            if project:
                x = project(x, None)
            params = list(x)
            state_out = {k: list(v) for k, v in state.items()}
            aux_out = {k: list(v) for k, v in aux.items()}
        else:
            results = [rule.update(gi, si, xi, t, hyper, ar)
                       for gi, si, xi in zip(grad, state, params, strict=True)]
            params = [xi + d for xi, (d, _, _) in zip(params, results, strict=True)]
            if project:
                params = [project(xi, k) for k, xi in enumerate(params)]
            state = [s for _, s, _ in results]
            state_out = {k: [s[k] for s in state] for k in rule.state_names}
            aux_out = {k: [a[k] for _, _, a in results] for k in rule.aux_names}
        records.append(Record(t, list(params), grad, state_out, aux_out))
        if on_step:
            on_step(t)
        if not all(ar.is_finite(v) for v in params + grad):
            break
    return records
