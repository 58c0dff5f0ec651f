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


STATE_SUFFIXES = (("_velocity_hat", "v_max"), ("_momentum", "m"), ("_velocity", "v"))


def run_keras(spec: RunSpec, impl: str = "keras", dtype: str = "float32") -> Trace:
    if spec.rule.name not in SUPPORTED:
        raise InputError(f"keras.optimizers has no counterpart of {spec.rule.name!r}")
    if impl == "keras-torch":
        out = run_keras_child([spec], "torch", dtype)[0]
        if isinstance(out, Exception):
            raise out
        return out
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras
    except ImportError:
        raise InputError("Keras 3 with JAX is not installed (pip install 'adam-verify[keras,jax]')"
                         ) from None
    if keras.backend.backend() != "jax":
        raise InputError(f"Keras was already loaded with the {keras.backend.backend()} backend; "
                         "unset KERAS_BACKEND or use --impl keras-torch")
    return _run_here(spec, impl, dtype)


def _gradients(spec: RunSpec, backend: str, dtype: str):
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        jax_grads = jax_gradients(spec.problem, dtype)
        jdt = getattr(jnp, dtype)
        return ([lambda p, fn=fn: fn(jnp.asarray(p).astype(jdt)) for fn in jax_grads],
                {"jax": jax.__version__})
    if backend == "tensorflow":
        from .tensorflow_ import _tf, tf_gradients

        tf = _tf()
        return ([lambda p, fn=fn: fn(tf.constant(p, getattr(tf, dtype))).numpy()
                 for fn in tf_gradients(spec, dtype)], {"tensorflow": tf.__version__})
    import torch

    return torch_gradients(spec.problem, dtype), {"torch": torch.__version__}


def _run_here(spec: RunSpec, impl: str, dtype: str = "float32", hooks: Hooks | None = None
              ) -> Trace:
    """Run in this process on Keras' current backend; ``hooks`` (an optimizer object's audit)
    build the optimizer and read its state instead."""
    import keras

    backend = keras.backend.backend()
    grads, versions = _gradients(spec, backend, dtype)
    f = {k: float(v) for k, v in spec.full_hyper().items()}
    opt = hooks.make() if hooks else _optimizer(keras, spec.rule.name, f)
    var = keras.Variable(init_float32(spec.problem, dtype), dtype=dtype)
    opt.build([var])

    def host(x):
        return np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(x, "float32")))

    rows = [(host(var), None, {})]
    unmapped = set()
    sgd = spec.rule.name in ("gd", "momentum", "nesterov")
    for t in range(1, spec.steps + 1):
        g = grads[t % len(grads)](host(var))
        opt.apply_gradients([(g, var)])
        if spec.problem.domain:
            var.assign(keras.ops.cast(project(spec.problem, host(var)), dtype))
        if hooks:
            rows.append((host(var), host(g), hooks.state(opt, var, host)))
            continue
        state = {}
        for v in opt.variables:
            if tuple(v.shape) != tuple(var.shape):
                continue
            name = v.path.split("/")[-1]
            key = next((k for suffix, k in STATE_SUFFIXES if name.endswith(suffix)), None)
            if key is None:
                unmapped.add(name)
                continue
            if sgd:  # Keras keeps m = μm − αg (the buffer scaled by −α), not the rule's buffer
                continue
            state[key] = host(v)
        rows.append((host(var), host(g), state))
    notes = (["Keras SGD keeps its momentum as m = μm − αg (the buffer scaled by −α): the "
              "verdict rests on the parameters alone"] if sgd and spec.rule.name != "gd" else [])
    trace = make_trace(spec, impl, {"keras": keras.__version__, "backend": backend} | versions,
                       rows, {"dtype": dtype, "unmapped_state": sorted(unmapped), "notes": notes})
    return replace(trace, arithmetic=hooks.finish(trace.arithmetic)) if hooks else trace


def run_keras_child(specs: list[RunSpec], backend: str, dtype: str = "float32"
                    ) -> list[Trace | InputError]:
    """Run every spec with Keras on ``backend`` in one child process (Keras fixes its backend
    once per process); a spec Keras cannot run comes back as its InputError."""
    if any(not s.problem.source for s in specs):
        raise InputError(f"keras-{backend} needs problems loaded from files")
    jobs = [{"problem": s.problem.source, "optimizer": s.optimizer, "hyper": s.full_hyper(),
             "steps": s.steps, "schedule": s.schedule, "dtype": dtype} for s in specs]
    env = dict(os.environ, KERAS_BACKEND=backend)
    res = subprocess.run([sys.executable, "-m", "verify.runners.keras_"], input=json.dumps(jobs),
                         capture_output=True, text=True, env=env)
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"keras on the {backend} backend failed: {last}")
    out: list[Trace | InputError] = []
    for item in json.loads(res.stdout):
        out.append(InputError(item["error"]) if "error" in item else
                   loads(item["trace"], f"keras-{backend}"))
    return out


def _child() -> int:
    results = []
    for job in json.loads(sys.stdin.read()):
        try:
            spec = RunSpec(load_problem(Path(job["problem"])), job["optimizer"], job["hyper"],
                           job["steps"], schedule=job["schedule"])
            results.append({"trace": dumps(_run_here(spec, f"keras-{os.environ['KERAS_BACKEND']}",
                                                     job["dtype"]))})
        except InputError as exc:
            results.append({"error": str(exc)})
    sys.stdout.write(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(_child())
