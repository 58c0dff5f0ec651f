"""What the framework runners share: the loss as framework operations (for the framework's own
autodiff), and the Trace assembled from per-step float32 arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..arith import as_fraction, float32_text, round_to_float32
from ..evaluate import compile_expr
from ..golden import optimizer_header, problem_header, status_of
from ..problems import Problem
from ..spec import RunSpec
from ..trace import Step, Trace


class OpsArith:
    """Evaluates a SymPy expression with a framework's array operations, constants in float32."""

    vectorized = False
    kind = "framework"

    def __init__(self, ops: Any, const: Callable[[float], Any]):
        self.ops, self.const = ops, const

    def num(self, value: Any) -> Any:
        return self.const(float(round_to_float32(as_fraction(value))))

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


def init_float32(problem: Problem) -> np.ndarray:
    return np.array([round_to_float32(as_fraction(v)) for v in problem.init], dtype=np.float32)


def texts(values: Any) -> tuple[str, ...]:
    return tuple(float32_text(v) for v in np.asarray(values, dtype=np.float32).reshape(-1))


def make_trace(spec: RunSpec, impl: str, versions: dict[str, str],
               rows: list[tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]],
               extra: dict[str, Any] | None = None) -> Trace:
    """rows[t] = (params after step t, gradient used at t, optimizer state after t)."""
    steps = tuple(Step(t, texts(p), None if g is None else texts(g),
                       {k: texts(v) for k, v in state.items()})
                  for t, (p, g, state) in enumerate(rows))
    arithmetic = {"kind": "float32", "implementation": impl, "dtype": "float32",
                  "versions": versions} | (extra or {})
    return Trace(problem_header(spec.problem), optimizer_header(spec), arithmetic, steps,
                 status_of(steps, spec.steps))


def project(problem: Problem, p: np.ndarray) -> np.ndarray:
    if not problem.domain:
        return p
    lo = np.array([float(a) for a, _ in problem.domain], dtype=np.float32)
    hi = np.array([float(b) for _, b in problem.domain], dtype=np.float32)
    return np.minimum(np.maximum(p, lo), hi)


def jax_gradients(problem: Problem) -> list[Callable[[Any], Any]]:
    """JAX autodiff gradient of each phase loss, as functions of the float32 parameter vector."""
    import jax
    import jax.numpy as jnp

    ar = OpsArith(jnp, lambda x: jnp.asarray(x, dtype=jnp.float32))
    n = len(problem.params)
    return [jax.grad(lambda p, fn=fn: fn([p[i] for i in range(n)]))
            for fn in phase_losses(problem, ar)]
