"""Keras 3 optimizers (``keras.optimizers``) on the JAX backend (``keras``) or the PyTorch
backend (``keras-torch``), fed the backend's own float32 autodiff gradients of the loss.

Keras picks its backend once per process: a run goes to this process's Keras when it runs
on the backend asked for, else to a child process holding that backend
(``python -m verify.runners.keras_``), started once and fed jobs line by line. An audit worker
that runs only ``keras-torch`` loads Keras on torch itself (``claim_backend``): no child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from ..errors import REFUSALS, InputError, LostRun, refusal
from ..golden.spec import RunSpec
from ..golden.trace import Trace, dumps, loads
from ..symbolic.problems import load_problem
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


BACKENDS = {"keras": "jax", "keras-torch": "torch"}  # implementation name -> Keras backend
IMPLS = {b: i for i, b in BACKENDS.items()}


def run_keras(spec: RunSpec, impl: str = "keras", dtype: str = "float32") -> Trace:
    """One run: in this process when its Keras runs on ``impl``'s backend (``keras``, the JAX
    one, is loaded here on first use), else in the child that holds that backend."""
    if spec.rule.name not in SUPPORTED:
        raise InputError(f"keras.optimizers has no counterpart of {spec.rule.name!r}")
    if runs_here(impl):
        if loaded_backend() is None:
            os.environ.setdefault("KERAS_BACKEND", "jax")
            try:
                import keras  # noqa: F401
            except ImportError:
                raise InputError("Keras 3 with JAX is not installed "
                                 "(pip install 'adam-verify[keras,jax]')") from None
        if loaded_backend() == BACKENDS[impl]:
            return _run_here(spec, impl, dtype)
    out = run_keras_child([spec], BACKENDS[impl], dtype)[0]
    if isinstance(out, Exception):
        raise out
    return out


def runs_here(impl: str) -> bool:
    """Whether ``impl``'s runs go to this process's Keras: it runs on that backend already, or
    (for ``keras``, the JAX one) is not loaded yet and will be; else to the serving child."""
    loaded = loaded_backend()
    return loaded == BACKENDS[impl] or (loaded is None and impl == "keras")


def loaded_backend() -> str | None:
    """The backend of the Keras this process has imported; None before the import."""
    keras = sys.modules.get("keras")
    return keras.backend.backend() if keras is not None else None


def claim_backend(backend: str) -> None:
    """Load Keras here on ``backend`` unless it is loaded already or not installed: for a
    process (an audit worker) whose Keras runs will all be on that backend."""
    if "keras" in sys.modules or find_spec("keras") is None:
        return
    before = os.environ.get("KERAS_BACKEND")
    os.environ["KERAS_BACKEND"] = backend
    try:
        import keras  # noqa: F401
    except Exception:  # noqa: BLE001 - each run then says why, from the child it falls back to
        if before is None:
            os.environ.pop("KERAS_BACKEND")
        else:
            os.environ["KERAS_BACKEND"] = before


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

    return torch_gradients(spec.problem, dtype), {"torch": str(torch.__version__)}


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


_SERVERS: dict[tuple[int, str], subprocess.Popen] = {}


def _server(backend: str) -> subprocess.Popen:
    """The child process running Keras on ``backend`` for this process, started on first use
    and kept: it pays the imports once, not once per audit. It ends when this process does
    (its standard input closes). Keyed by process too: a forked child must not write into its
    parent's pipe."""
    key = (os.getpid(), backend)
    child = _SERVERS.get(key)
    if child is None or child.poll() is not None:
        env = dict(os.environ, KERAS_BACKEND=backend)
        log = tempfile.TemporaryFile("w+")  # read back only when the child dies
        child = subprocess.Popen([sys.executable, "-m", "verify.runners.keras_"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                 text=True, env=env)
        child.log = log  # type: ignore[attr-defined]
        _SERVERS[key] = child
    return child


def run_keras_child(specs: list[RunSpec], backend: str, dtype: str = "float32"
                    ) -> list[Trace | InputError]:
    """Run every spec with Keras on ``backend`` in the child process that holds that backend
    (Keras fixes its backend once per process); a spec Keras cannot run comes back as its
    InputError."""
    if any(not s.problem.source for s in specs):
        raise InputError(f"keras-{backend} needs problems loaded from files")
    jobs = [{"problem": s.problem.source, "optimizer": s.optimizer, "hyper": s.full_hyper(),
             "steps": s.steps, "schedule": s.schedule, "dtype": dtype} for s in specs]
    child = _server(backend)
    try:
        child.stdin.write(json.dumps(jobs) + "\n")
        child.stdin.flush()
        answer = child.stdout.readline()
    except (BrokenPipeError, OSError):
        answer = ""
    if not answer:
        child.kill()
        child.wait()
        child.log.seek(0)
        last = (child.log.read().strip().splitlines() or ["no output"])[-1]
        _SERVERS.pop((os.getpid(), backend), None)
        raise LostRun(f"keras on the {backend} backend failed: {last}")
    out: list[Trace | InputError] = []
    for item in json.loads(answer):
        out.append(InputError(item["error"]) if "error" in item else
                   loads(item["trace"], IMPLS.get(backend, f"keras-{backend}")))
    return out


def _child() -> int:
    """Serve: one line of jobs in (JSON), one line of results out, until standard input ends."""
    answers, sys.stdout = sys.stdout, sys.stderr  # whatever a library prints stays off the pipe
    backend = os.environ["KERAS_BACKEND"]
    impl = IMPLS.get(backend, f"keras-{backend}")
    for line in sys.stdin:
        results = []
        for job in json.loads(line):
            try:
                spec = RunSpec(load_problem(Path(job["problem"])), job["optimizer"],
                               job["hyper"], job["steps"], schedule=job["schedule"])
                if spec.rule.name not in SUPPORTED:
                    raise InputError(f"keras.optimizers has no counterpart of {spec.rule.name!r}")
                trace = _run_here(spec, impl, job["dtype"])
                results.append({"trace": dumps(trace)})
            except InputError as exc:
                results.append({"error": str(exc)})
            except REFUSALS as exc:  # as run_many says it
                results.append({"error": str(refusal(impl, exc))})
        answers.write(json.dumps(results) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child())
