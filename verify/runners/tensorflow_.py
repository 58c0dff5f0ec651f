"""TensorFlow's own Adam kernels (``pip install tensorflow-cpu``), on TF autodiff gradients.

- ``tf.compat.v1.train`` optimizers (``AdamOptimizer`` and any subclass of its base), audited as
  objects: ``--impl tensorflow.compat.v1.train:AdamOptimizer``. Their slots (``m``, ``v``) are
  read with ``get_slot``; the β powers they keep as float32 variables are counters.
- ``tests/test_thirdparty.py`` drives ``tf.raw_ops.ResourceApplyAdam``, the kernel AdamOptimizer
  calls, directly through ``_drive`` (``tf.raw_ops.ApplyAdam`` takes reference tensors, which
  exist only in TF1 graph mode).
- Keras 3 on the TensorFlow backend (``tf.keras``) goes through the Keras runner; this module
  gives it TF gradients (``tf_gradients``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InputError
from ..golden.spec import RunSpec
from ..golden.trace import Trace
from .framework import OpsArith, init_float32, make_trace, phase_losses, project
from .hooks import Hooks

INSTALL = "TensorFlow is not installed (pip install tensorflow-cpu)"


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError:
        raise InputError(INSTALL) from None
    return tf


def tf_gradients(spec: RunSpec, dtype: str = "float32") -> list[Callable[[Any], Any]]:
    """TF autodiff gradient of each phase loss, as functions of a TF variable (or tensor)."""
    from ..golden.arith import float_format

    tf = _tf()
    tdt = getattr(tf, dtype)
    ar = OpsArith(tf.math, lambda x: tf.constant(x, dtype=tdt), float_format(dtype))
    n = len(spec.problem.params)

    def make(fn):
        def grad(p):
            with tf.GradientTape() as tape:
                tape.watch(p)
                loss = fn([p[i] for i in range(n)])
            # a phase that does not depend on the parameters ("0") has gradient 0, not None
            return tape.gradient(loss, p, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return grad

    return [make(fn) for fn in phase_losses(spec.problem, ar)]


def _host(x) -> np.ndarray:
    tf = _tf()
    return np.asarray(tf.cast(x, tf.float32).numpy())


def _drive(spec: RunSpec, impl: str, dtype: str, apply: Callable[[Any, Any, int], dict],
           versions: dict[str, str], extra: dict[str, Any]) -> Trace:
    """The loop: TF gradient at the current point, ``apply(g, var, t)`` → state, project."""
    tf = _tf()
    tdt = getattr(tf, dtype)
    grads = tf_gradients(spec, dtype)
    var = tf.Variable(tf.cast(tf.constant(init_float32(spec.problem, dtype)), tdt))
    rows = [(_host(var), None, {})]
    for t in range(1, spec.steps + 1):
        g = grads[t % len(grads)](var)
        state = apply(g, var, t)
        var.assign(tf.cast(tf.constant(project(spec.problem, _host(var))), tdt))
        rows.append((_host(var), _host(g), state))
    return make_trace(spec, impl, {"tensorflow": tf.__version__} | versions, rows,
                      {"dtype": dtype} | extra)


def run_tf_v1(spec: RunSpec, impl: str, dtype: str, hooks: Hooks) -> Trace:
    """A ``tf.compat.v1.train`` optimizer built by ``hooks``, eager, on TF gradients."""
    opt = hooks.make()

    def apply(g, var, t):
        opt.apply_gradients([(g, var)])
        return hooks.state(opt, var)

    trace = _drive(spec, impl, dtype, apply, {}, {})
    from dataclasses import replace

    return replace(trace, arithmetic=hooks.finish(trace.arithmetic))


def v1_state(opt, var) -> dict[str, np.ndarray]:
    """A v1 optimizer's slots by name, plus its non-slot variables (β powers) as counters."""
    out = {name: _host(opt.get_slot(var, name)) for name in opt.get_slot_names()}
    for v in opt.variables():
        if v.shape != var.shape:
            out[v.name.split(":")[0]] = _host(v)
    return out
