"""A user's own optimizer, ``MODULE:CALLABLE``, driven on the problem's float32 gradients.

Protocol (documented in the README): ``CALLABLE(params, grad, state, t, hyper) -> (params,
state)`` where ``params`` and ``grad`` are float32 NumPy arrays, ``state`` is a dict the
function owns (empty at t = 1), ``t`` counts from 1 and ``hyper`` maps names ("lr", "beta1",
…) to Python floats. State entries named m, v, v_max or buf are recorded and audited too.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..arith import Float32Arith, float32_text
from ..engine import gradient_at
from ..errors import InputError
from ..golden import optimizer_header, problem_header, status_of
from ..spec import RunSpec
from ..trace import Step, Trace

SPEC_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
AUDITED_STATE = ("m", "v", "v_max", "buf")


def load_callable(target: str) -> Callable[..., Any]:
    """Import ``MODULE:CALLABLE`` (code the user asked to run, not data from a file)."""
    if not SPEC_RE.match(target):
        raise InputError(f"--impl {target!r}: expected MODULE:CALLABLE")
    module_name, attr = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"--impl {target!r}: cannot import {module_name}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InputError(f"--impl {target!r}: {attr} is not a callable in {module_name}")
    return fn


def run_user(spec: RunSpec, target: str | Callable[..., Any]) -> Trace:
    fn = load_callable(target) if isinstance(target, str) else target
    name = target if isinstance(target, str) else getattr(fn, "__qualname__", "user")
    ar = Float32Arith()
    hyper = spec.full_hyper()
    floats = {k: float(v) for k, v in hyper.items()}
    grad_fn = gradient_at(spec.problem, ar)
    with np.errstate(all="ignore"):
        params = np.array([ar.num(v) for v in spec.problem.init], dtype=np.float32)
        state: dict[str, Any] = {}
        steps = [Step(0, _texts(params))]
        for t in range(1, spec.steps + 1):
            grad = np.array(grad_fn(list(params), t), dtype=np.float32)
            try:
                out = fn(params.copy(), grad.copy(), state, t, dict(floats))
                params, state = np.asarray(out[0]), out[1]
            except Exception as exc:  # the user's code failing is a finding, reported in one line
                raise InputError(f"--impl {name}: raised {type(exc).__name__} at step {t}: "
                                 f"{exc}") from None
            if params.dtype != np.float32 or params.shape != grad.shape:
                raise InputError(f"--impl {name}: must return float32 params of shape "
                                 f"{grad.shape}, got {params.dtype} {params.shape}")
            recorded = {k: _texts(np.asarray(state[k], dtype=np.float32))
                        for k in AUDITED_STATE if k in state}
            steps.append(Step(t, _texts(params), _texts(grad), recorded))
    steps_t = tuple(steps)
    arithmetic = {"kind": "float32", "implementation": name, "dtype": "float32"}
    return Trace(problem_header(spec.problem), optimizer_header(spec), arithmetic, steps_t,
                 status_of(steps_t, spec.steps))


def _texts(values) -> tuple[str, ...]:
    return tuple(float32_text(v) for v in values)
