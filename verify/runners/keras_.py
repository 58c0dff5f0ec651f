"""Keras 3 optimizers (``keras.optimizers``), on the JAX backend unless KERAS_BACKEND says
otherwise, fed the problem's float32 gradients (JAX autodiff of the same loss)."""

from __future__ import annotations

import os

import numpy as np

from ..errors import InputError
from ..spec import RunSpec
from ..trace import Trace
from .framework import init_float32, jax_gradients, make_trace, project

SUPPORTED = ("gd", "momentum", "nesterov", "adam", "adamw", "amsgrad", "rmsprop")


def _optimizer(keras, rule: str, f: dict[str, float]):
    o = keras.optimizers
    if rule in ("gd", "momentum", "nesterov"):
        if f.get("dampening", 0.0):
            raise InputError("keras SGD has no dampening; audit it with --dampening 0")
        return o.SGD(learning_rate=f["lr"], momentum=f.get("momentum", 0.0),
                     nesterov=rule == "nesterov")
    if rule == "rmsprop":
        return o.RMSprop(learning_rate=f["lr"], rho=f["alpha"], epsilon=f["eps"])
    kw = {"learning_rate": f["lr"], "beta_1": f["beta1"], "beta_2": f["beta2"],
          "epsilon": f["eps"]}
    if rule == "adamw":
        return o.AdamW(weight_decay=f["weight_decay"], **kw)
    return o.Adam(amsgrad=rule == "amsgrad", **kw)


def run_keras(spec: RunSpec, impl: str = "keras") -> Trace:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import jax
        import jax.numpy as jnp
        import keras
    except ImportError:
        raise InputError("Keras 3 with JAX is not installed (pip install 'adam-verify[keras,jax]')"
                         ) from None
    if spec.rule.name not in SUPPORTED:
        raise InputError(f"keras.optimizers has no counterpart of {spec.rule.name!r}")
    f = {k: float(v) for k, v in spec.full_hyper().items()}
    opt = _optimizer(keras, spec.rule.name, f)
    grads = jax_gradients(spec.problem)
    var = keras.Variable(init_float32(spec.problem), dtype="float32")
    opt.build([var])
    rows = [(np.asarray(var.numpy()), None, {})]
    for t in range(1, spec.steps + 1):
        g = grads[t % len(grads)](jnp.asarray(var.numpy()))
        opt.apply_gradients([(g, var)])
        if spec.problem.domain:
            var.assign(project(spec.problem, np.asarray(var.numpy())))
        state = {}
        for v in opt.variables:
            name = v.path.split("/")[-1]
            key = {"momentum": "m", "velocity": "v"}.get(name.split("_")[0])
            if key and v.shape == var.shape:
                state[key if spec.rule.name not in ("momentum", "nesterov") else "buf"] = \
                    np.asarray(v.numpy())
        rows.append((np.asarray(var.numpy()), np.asarray(g), state))
    return make_trace(spec, impl, {"keras": keras.__version__, "backend": keras.backend.backend(),
                                   "jax": jax.__version__}, rows)
