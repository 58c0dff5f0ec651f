"""Run a ``RunSpec`` in one number backend: gradient, loss and row outputs from SymPy, compiled
for that backend, driven by the shared update rule. Golden and float32 runners both use this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..rules import Record, Rule, iterate
from ..symbolic.derive import gradient, phase_gradients
from ..symbolic.evaluate import compile_expr, compile_many
from ..symbolic.problems import Problem
from .spec import RunSpec


def gradient_at(problem: Problem, ar: Any) -> Callable[[list[Any], int], list[Any]]:
    """``f(params, t)``: the gradient at step t (an online problem's phase t mod period)."""
    if not problem.online:
        return compile_many(gradient(problem), problem.symbols, ar)  # ignores t
    fns = [compile_many(g, problem.symbols, ar) for g in phase_gradients(problem)]
    return lambda params, t: fns[t % len(fns)](params)


def projection(problem: Problem, ar: Any) -> Callable[[Any, int | None], Any] | None:
    """Clip onto the problem's box domain: coordinate i, or a whole vector when i is None."""
    if not problem.domain:
        return None
    lo = [ar.num(a) for a, _ in problem.domain]
    hi = [ar.num(b) for _, b in problem.domain]
    if ar.vectorized:
        lo_v, hi_v = ar.vector(lo), ar.vector(hi)
        return lambda x, i: ar.clip(x, lo_v, hi_v)
    return lambda x, i: ar.clip(x, lo[i], hi[i])


@dataclass(slots=True)
class RawStep:
    """A rule step in backend numbers, with the loss and per-row outputs at its parameters
    (not frozen, for speed, like ``Record``; never changed once made)."""

    record: Record
    loss: Any
    rows: dict[str, list[Any]]


def run_in(spec: RunSpec, ar: Any, hyper: dict[str, str],
           progress: Callable[[int], None] | None = None,
           grads: Sequence[Sequence[Fraction]] | None = None, measure: bool = True,
           rule: Rule | None = None) -> list[RawStep]:
    """Run ``spec`` (or ``rule`` in its place) with hyperparameters ``hyper`` (decimal strings)
    converted by backend ``ar``.

    ``grads``, if given, replaces the problem's gradient: ``grads[t-1]`` is used at step t
    (replaying another implementation's gradients isolates its optimizer arithmetic).
    ``measure=False`` skips the loss and row outputs (their RawStep fields are None/empty)."""
    with ar.activate():
        return _run_in(spec, ar, hyper, progress, grads, measure, rule or spec.rule)


def _setup(spec: RunSpec, ar: Any, hyper: dict[str, str],
           grads: Sequence[Sequence[Fraction]] | None) -> tuple:
    """What a run converts and compiles before its first step (inside ``ar.activate()``)."""
    problem = spec.problem
    hp = {k: ar.num(v) for k, v in hyper.items()}
    init = [ar.num(v) for v in problem.init]
    grad_fn = gradient_at(problem, ar)
    if grads is not None:
        replay = [[ar.num(g) for g in row] for row in grads]
        grad_fn = lambda params, t: replay[t - 1]  # noqa: E731
    steps = spec.steps if grads is None else min(spec.steps, len(grads))
    return hp, init, grad_fn, steps, projection(problem, ar)


def _run_in(spec: RunSpec, ar: Any, hyper: dict[str, str],
            progress: Callable[[int], None] | None,
            grads: Sequence[Sequence[Fraction]] | None, measure: bool, rule: Rule
            ) -> list[RawStep]:
    problem = spec.problem
    syms = problem.symbols
    hp, init, grad_fn, steps, project = _setup(spec, ar, hyper, grads)
    records = iterate(rule, hp, init, grad_fn, steps, ar, progress, project, spec.schedule)
    if not measure:
        return [RawStep(r, None, {}) for r in records]
    loss_fn = compile_expr(problem.loss, syms, ar)
    row_fns = {name: compile_many(exprs, syms, ar) for name, exprs in problem.rows}
    if not row_fns:
        return [RawStep(r, loss_fn(r.params), {}) for r in records]
    return [RawStep(r, loss_fn(r.params), {k: f(r.params) for k, f in row_fns.items()})
            for r in records]


@dataclass(frozen=True)
class FlatRun:
    """A run with each step's values in one list (``iterate(flat=True)``), the loss and the
    per-row outputs appended when measured: what a golden certifies, in that order."""

    params: int  # how many parameters
    state: tuple[str, ...]
    aux: tuple[str, ...]
    measured: bool  # loss and per-row outputs appended
    rows: tuple[tuple[str, int], ...]  # per-row output names and lengths, when measured
    values: list[list[Any]]  # values[t]: step t


def run_flat(spec: RunSpec, ar: Any, hyper: dict[str, str],
             progress: Callable[[int], None] | None = None,
             grads: Sequence[Sequence[Fraction]] | None = None, measure: bool = True
             ) -> FlatRun:
    """``run_in`` with each step as one flat list (no records, no dictionaries): for goldens,
    where the values go to certification in exactly this order."""
    problem, rule = spec.problem, spec.rule
    with ar.activate():
        hp, init, grad_fn, steps, project = _setup(spec, ar, hyper, grads)
        values = iterate(rule, hp, init, grad_fn, steps, ar, progress, project, spec.schedule,
                         flat=True)
        rows: tuple[tuple[str, int], ...] = ()
        if measure:
            syms, n = problem.symbols, len(init)
            loss_fn = compile_expr(problem.loss, syms, ar)
            row_fns = [compile_many(exprs, syms, ar) for _, exprs in problem.rows]
            rows = tuple((name, len(exprs)) for name, exprs in problem.rows)
            for row in values:
                params = row[:n]
                row.append(loss_fn(params))
                for f in row_fns:
                    row += f(params)
    return FlatRun(len(init), rule.state_names, rule.aux_names, measure, rows, values)
