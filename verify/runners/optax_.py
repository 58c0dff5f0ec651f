"""optax's optimizers on JAX autodiff gradients (JAX on the CPU, float32)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import InputError
from ..golden.spec import RunSpec
from ..golden.trace import Trace
from .framework import (
    import_framework,
    init_float32,
    jax_gradients,
    make_trace,
    project,
    require_counterpart,
)
from .hooks import Hooks

SUPPORTED = ("gd", "momentum", "nesterov", "adam", "adamw", "amsgrad", "rmsprop")


def _optimizer(optax, rule: str, f: dict[str, float]):
    if rule in ("gd", "momentum", "nesterov"):
        if f.get("dampening", 0.0):
            raise InputError("optax.sgd has no dampening; audit it with --dampening 0")
        return optax.sgd(f["lr"], momentum=f.get("momentum") or None, nesterov=rule == "nesterov")
    if rule == "rmsprop":
        return optax.rmsprop(f["lr"], decay=f["alpha"], eps=f["eps"])
    if rule == "adamw":
        return optax.adamw(f["lr"], b1=f["beta1"], b2=f["beta2"], eps=f["eps"],
                           weight_decay=f["weight_decay"])
    if rule == "amsgrad":
        return optax.amsgrad(f["lr"], b1=f["beta1"], b2=f["beta2"], eps=f["eps"])
    return optax.adam(f["lr"], b1=f["beta1"], b2=f["beta2"], eps=f["eps"])


def _state(opt_state) -> dict[str, np.ndarray]:
    """mu/nu/trace/nu_max from optax's (nested) state tuples."""
    found: dict[str, np.ndarray] = {}
    names = {"mu": "m", "nu": "v", "trace": "buf", "nu_max": "v_max"}
    stack = [opt_state]
    while stack:
        s = stack.pop()
        if isinstance(s, tuple) and not hasattr(s, "_fields"):
            stack.extend(s)
        elif hasattr(s, "_fields"):
            for f in s._fields:
                if f in names:
                    found[names[f]] = np.asarray(getattr(s, f))
    return found


def run_optax(spec: RunSpec, impl: str = "optax", dtype: str = "float32",
              hooks: Hooks | None = None) -> Trace:
    """Run optax with parameters (so gradients and state) in ``dtype``; ``hooks`` (an
    optimizer object's audit) build the transformation and read its state instead."""
    jax, jnp, optax = import_framework(("jax", "jax.numpy", "optax"),
                                       "JAX/optax are not installed (pip install 'adam-verify[jax]')")
    require_counterpart("optax", spec, SUPPORTED, hooks)
    f = {k: float(v) for k, v in spec.full_hyper().items()}
    opt = hooks.make() if hooks else _optimizer(optax, spec.rule.name, f)
    jdt = getattr(jnp, dtype)
    grads = jax_gradients(spec.problem, dtype)
    p = jnp.asarray(init_float32(spec.problem, dtype)).astype(jdt)
    state = opt.init(p)
    rows = [(np.asarray(p), None, {})]
    for t in range(1, spec.steps + 1):
        g = grads[t % len(grads)](p)
        updates, state = opt.update(g, state, p)
        p = jnp.asarray(project(spec.problem, np.asarray(optax.apply_updates(p, updates))))
        p = p.astype(jdt)
        rows.append((np.asarray(p), np.asarray(g), hooks.state(state) if hooks else _state(state)))
    trace = make_trace(spec, impl, {"jax": jax.__version__, "optax": optax.__version__}, rows,
                       {"dtype": dtype})
    return replace(trace, arithmetic=hooks.finish(trace.arithmetic)) if hooks else trace
