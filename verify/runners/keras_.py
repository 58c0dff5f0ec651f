"""Keras 3 optimizers (``keras.optimizers``) on the JAX backend (``keras``) or the PyTorch
backend (``keras-torch``), fed the backend's own float32 autodiff gradients of the loss.

Keras picks its backend once per process, so ``keras-torch`` runs in a child process
(``python -m verify.runners.keras_``) that prints the trace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..problems import load_problem
from ..spec import RunSpec
from ..trace import Trace, dumps, loads
from .framework import init_float32, jax_gradients, make_trace, project, torch_gradients
from .hooks import Hooks

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
    if spec.rule.name not in SUPPORTED:
        raise InputError(f"keras.optimizers has no counterpart of {spec.rule.name!r}")
    if impl == "keras-torch":
        return _run_child(spec, "torch")
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras
    except ImportError:
        raise InputError("Keras 3 with JAX is not installed (pip install 'adam-verify[keras,jax]')"
                         ) from None
    if keras.backend.backend() != "jax":
        raise InputError(f"Keras was already loaded with the {keras.backend.backend()} backend; "
                         "unset KERAS_BACKEND or use --impl keras-torch")
    return _run_here(spec, impl)


def _run_here(spec: RunSpec, impl: str, hooks: Hooks | None = None) -> Trace:
    """Run in this process on Keras' current backend; ``hooks`` (an optimizer object's audit)
    build the optimizer and read its state instead."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        jax_grads = jax_gradients(spec.problem)
        grads = [lambda p, fn=fn: np.asarray(fn(jnp.asarray(p))) for fn in jax_grads]
        versions = {"jax": jax.__version__}
    elif backend == "tensorflow":
        from .tensorflow_ import _tf, tf_gradients

        tf = _tf()
        tf_grads = tf_gradients(spec)
        grads = [lambda p, fn=fn: fn(tf.constant(p)).numpy() for fn in tf_grads]
        versions = {"tensorflow": tf.__version__}
    else:
        import torch

        grads = torch_gradients(spec.problem)
        versions = {"torch": torch.__version__}
    f = {k: float(v) for k, v in spec.full_hyper().items()}
    opt = hooks.make() if hooks else _optimizer(keras, spec.rule.name, f)
    var = keras.Variable(init_float32(spec.problem), dtype="float32")
    opt.build([var])
    rows = [(np.asarray(var.numpy()), None, {})]
    for t in range(1, spec.steps + 1):
        g = grads[t % len(grads)](np.asarray(var.numpy()))
        if backend == "torch":
            import torch

            g = torch.as_tensor(g)
        opt.apply_gradients([(g, var)])
        if spec.problem.domain:
            var.assign(project(spec.problem, np.asarray(var.numpy())))
        state = hooks.state(opt, var) if hooks else _state(opt, var, spec.rule.name)
        rows.append((np.asarray(var.numpy()), np.asarray(g), state))
    trace = make_trace(spec, impl, {"keras": keras.__version__, "backend": backend} | versions,
                       rows)
    return replace(trace, arithmetic=hooks.finish(trace.arithmetic)) if hooks else trace


def _state(opt, var, rule: str) -> dict[str, np.ndarray]:
    state = {}
    for v in opt.variables:
        name = v.path.split("/")[-1]
        key = {"momentum": "m", "velocity": "v"}.get(name.split("_")[0])
        if key and v.shape == var.shape:
            state[key if rule not in ("momentum", "nesterov") else "buf"] = np.asarray(v.numpy())
    return state


def _run_child(spec: RunSpec, backend: str) -> Trace:
    if not spec.problem.source:
        raise InputError("keras-torch needs a problem loaded from a file")
    job = {"problem": spec.problem.source, "optimizer": spec.optimizer,
           "hyper": spec.full_hyper(), "steps": spec.steps, "schedule": spec.schedule}
    env = dict(os.environ, KERAS_BACKEND=backend)
    res = subprocess.run([sys.executable, "-m", "verify.runners.keras_", json.dumps(job)],
                         capture_output=True, text=True, env=env)
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"keras on the {backend} backend failed: {last}")
    return loads(res.stdout, f"keras-{backend}")


def _child(argv: list[str]) -> int:
    job = json.loads(argv[0])
    spec = RunSpec(load_problem(Path(job["problem"])), job["optimizer"], job["hyper"],
                   job["steps"], schedule=job["schedule"])
    sys.stdout.write(dumps(_run_here(spec, f"keras-{os.environ['KERAS_BACKEND']}")))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
