"""Run a ``RunSpec`` in one number backend: gradient, loss and row outputs from SymPy, compiled
for that backend, driven by the shared update rule. Golden and float32 runners both use this."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .evaluate import compile_expr, compile_many
from .rules import Record, iterate
from .spec import RunSpec
from .symbolic import gradient


@dataclass(frozen=True)
class RawStep:
    """A rule step in backend numbers, with the loss and per-row outputs at its parameters."""

    record: Record
    loss: Any
    rows: dict[str, list[Any]]


def run_in(spec: RunSpec, ar: Any, hyper: dict[str, str],
           progress: Callable[[int], None] | None = None) -> list[RawStep]:
    """Run ``spec`` with hyperparameters ``hyper`` (decimal strings) converted by backend ``ar``."""
    problem = spec.problem
    syms = problem.symbols
    hp = {k: ar.num(v) for k, v in hyper.items()}
    grad_fn = compile_many(gradient(problem), syms, ar)
    loss_fn = compile_expr(problem.loss, syms, ar)
    row_fns = {name: compile_many(exprs, syms, ar) for name, exprs in problem.rows}
    init = [ar.num(v) for v in problem.init]
    records = iterate(spec.rule, hp, init, grad_fn, spec.steps, ar, progress)
    return [RawStep(r, loss_fn(r.params), {k: f(r.params) for k, f in row_fns.items()})
            for r in records]
