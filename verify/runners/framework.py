"""What the framework runners share: the loss as framework operations (for the framework's own
autodiff), and the Trace assembled from per-step float32 arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InputError
from ..golden.arith import FORMATS, FloatFormat, as_fraction, float32_text, float_format, round_to
from ..golden.run import optimizer_header, problem_header, status_of
from ..golden.spec import RunSpec
from ..golden.trace import Step, Trace
from ..symbolic.evaluate import compile_expr
from ..symbolic.problems import Problem


class OpsArith:
    """Evaluates a SymPy expression with a framework's array operations, constants rounded once
    to the run's format (float32 unless told)."""

    vectorized = False
    kind = "framework"

    def __init__(self, ops: Any, const: Callable[[float], Any], fmt: FloatFormat = FORMATS["float32"]):
        self.ops, self.const, self.fmt = ops, const, fmt

    def num(self, value: Any) -> Any:
        return self.const(float(round_to(as_fraction(value), self.fmt)))

    def sqrt(self, x: Any) -> Any:
        return self.ops.sqrt(x)

    def abs(self, x: Any) -> Any:
        return self.ops.abs(x)

    def func(self, name: str) -> Any:
        if name == "pi":
            return self.num("3.14159265358979323846264338327950288")
        return getattr(self.ops, name)


def phase_losses(problem: Problem, ar: Any) -> list[Callable[[list[Any]], Any]]:
    """Loss at step t is ``losses[t % len(losses)]`` (one entry unless the problem is online)."""
    return [compile_expr(e, problem.symbols, ar) for e in (problem.phases or (problem.loss,))]


def init_float32(problem: Problem, dtype: str = "float32") -> np.ndarray:
    """The start rounded once to ``dtype``, held in float32 (which represents it exactly)."""
    fmt = float_format(dtype)
    return np.array([np.float32(round_to(as_fraction(v), fmt)) for v in problem.init],
                    dtype=np.float32)


def texts(values: Any) -> tuple[str, ...]:
    return tuple(float32_text(v) for v in np.asarray(values).astype(np.float32).reshape(-1))


def make_trace(spec: RunSpec, impl: str, versions: dict[str, str],
               rows: list[tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]],
               extra: dict[str, Any] | None = None) -> Trace:
    """rows[t] = (params after step t, gradient used at t, optimizer state after t)."""
    steps = tuple(Step(t, texts(p), None if g is None else texts(g),
                       {k: texts(v) for k, v in state.items()})
                  for t, (p, g, state) in enumerate(rows))
    dtype = (extra or {}).get("dtype", "float32")
    # plain strings: torch's version is a str subclass whose unpickling imports torch
    arithmetic = {"kind": dtype, "implementation": impl, "dtype": dtype,
                  "versions": {k: str(v) for k, v in versions.items()}} | (extra or {})
    return Trace(problem_header(spec.problem), optimizer_header(spec), arithmetic, steps,
                 status_of(steps, spec.steps))


def project(problem: Problem, p: np.ndarray) -> np.ndarray:
    """Clip onto the box domain, in float32 (exact for every format's values)."""
    p = np.asarray(p).astype(np.float32)
    if not problem.domain:
        return p
    lo = np.array([float(a) for a, _ in problem.domain], dtype=np.float32)
    hi = np.array([float(b) for _, b in problem.domain], dtype=np.float32)
    return np.minimum(np.maximum(p, lo), hi)


def jax_gradients(problem: Problem, dtype: str = "float32") -> list[Callable[[Any], Any]]:
    """JAX autodiff gradient of each phase loss, as functions of the parameter vector; made
    once per loss and dtype in a process (jit compiles on the first call: an audit's settings
    share the streams' losses)."""
    key = (problem.params, str(problem.loss), tuple(map(str, problem.phases)), dtype)
    if key not in _JAX_GRADIENTS:
        _JAX_GRADIENTS[key] = _jax_gradients(problem, dtype)
    return _JAX_GRADIENTS[key]


_JAX_GRADIENTS: dict[tuple, list[Callable[[Any], Any]]] = {}


def _jax_gradients(problem: Problem, dtype: str) -> list[Callable[[Any], Any]]:
    import jax
    import jax.numpy as jnp

    jdt = getattr(jnp, dtype)
    ar = OpsArith(jnp, lambda x: jnp.asarray(x, dtype=jdt), float_format(dtype))
    n = len(problem.params)
    return [jax.jit(jax.grad(lambda p, fn=fn: fn([p[i] for i in range(n)])))
            for fn in phase_losses(problem, ar)]


def torch_gradients(problem: Problem, dtype: str = "float32"
                    ) -> list[Callable[[np.ndarray], Any]]:
    """PyTorch autograd gradient of each phase loss in ``dtype``: array in, tensor out (a
    constant phase has gradient 0)."""
    import torch

    tdt = getattr(torch, dtype)
    ar = OpsArith(torch, lambda x: torch.tensor(x, dtype=tdt), float_format(dtype))
    n = len(problem.params)

    def make(fn):
        def grad(p: np.ndarray) -> Any:
            x = torch.tensor(np.asarray(p, dtype=np.float32), dtype=tdt, requires_grad=True)
            loss = fn([x[i] for i in range(n)])
            if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
                return torch.zeros_like(x)
            loss.backward()
            return x.grad
        return grad

    return [make(fn) for fn in phase_losses(problem, ar)]


def import_framework(names: tuple[str, ...], install: str) -> list[Any]:
    """The framework's modules, imported; or one line saying how to install it."""
    import importlib

    try:
        return [importlib.import_module(n) for n in names]
    except ImportError:
        raise InputError(install) from None


def require_counterpart(framework: str, spec: RunSpec, supported: tuple[str, ...],
                        hooks: object | None) -> None:
    """A built-in run needs the framework to ship the claimed rule (an object brings its own)."""
    if hooks is None and spec.rule.name not in supported:
        raise InputError(f"{framework} has no counterpart of {spec.rule.name!r} "
                         f"(supported: {', '.join(supported)})")
