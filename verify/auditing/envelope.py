"""The rounding envelope, and the one verdict engine of every audit (small, battery, large).

Each step is judged *locally*: the rule's update is evaluated in running error analysis
(``bounds.py``) from the tested implementation's own previous parameters, its own gradient and
its own previous state wherever it exposes it (state it does not expose is carried from the
envelope's previous step, with its accumulated bound). The tested values after the step must lie
within the bound of the exact result: that is the envelope, valid for any evaluation order of
the rule's formula in the format, and it never compounds the implementation's earlier rounding
errors, so a 1,000-step run is judged as strictly as a 12-step one.

Everything that is not inside is a finding: a value outside, a NaN or infinity where the rule
is finite, a step or quantity the trace lacks. Places where the format itself makes the rule
uncomputable (a certain or possible overflow) are reported as such, not judged.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..golden.arith import as_fraction, float32_values, float_format
from ..golden.trace import Trace
from ..rules import SCHEDULES, Rule
from .bounds import BoundArith, Bounded, Carried, Model, StepIndex
from .tracker import Exit, Tracker

BLOCKS = True  # judge steps 2… in vectorized blocks (see _judge_rows)
BLOCK_ELEMENTS = 1 << 20  # values per array in a block: bounds its memory


@dataclass(frozen=True)
class Tested:
    """A tested run as exact float64 arrays: params [T+1, n], grads [T, n], state name →
    [T+1, n] (row 0 unused); ``steps`` how many steps the trace holds."""

    params: np.ndarray
    grads: np.ndarray | None
    state: dict[str, np.ndarray]
    steps: int
    dtype: str
    absent: dict[str, tuple[int, ...]] = field(default_factory=dict)  # steps lacking a state

    @property
    def size(self) -> int:
        return self.params.shape[1]


def tested_arrays(trace: Trace) -> Tested:
    """The exact values a trace's texts name (every format's values are float32 values);
    parsed once per trace object (an audit reads each run under every candidate rule)."""
    key = id(trace)
    hit = _TESTED.get(key)
    if hit is not None and hit[0]() is trace:
        return hit[1]
    out = _tested_arrays(trace)
    for a in (out.params, out.grads, *out.state.values()):
        if a is not None:
            a.flags.writeable = False  # shared: a caller that edits must copy
    _TESTED[key] = (weakref.ref(trace, lambda _, k=key: _TESTED.pop(k, None)), out)
    return out


_TESTED: dict[int, tuple[weakref.ref, Tested]] = {}


def _tested_arrays(trace: Trace) -> Tested:
    steps = trace.steps
    params = float32_values([s.params for s in steps])
    grads = None
    if len(steps) > 1 and all(s.grad is not None for s in steps[1:]):
        grads = float32_values([s.grad for s in steps[1:]])
    names = sorted({k for s in steps[1:] for k in s.state})
    state, absent = {}, {}
    width = params.shape[1]
    for k in names:
        rows = [s.state.get(k) for s in steps]
        state[k] = float32_values([["nan"] * width if r is None else r for r in rows])
        absent[k] = tuple(t for t in range(1, len(steps)) if rows[t] is None)
    return Tested(params, grads, state, len(steps) - 1, trace.arithmetic.get("dtype", "float32"),
                  absent)


@dataclass(frozen=True)
class Judgement:
    """One tested run judged against one rule under one scalar model."""

    rule: str
    model: Model
    steps: int  # steps the rule was judged on
    missing: tuple[str, ...]  # quantities or steps the trace lacks (each a finding)
    first_exit: Exit | None
    worst_ulps: float  # farthest outside the envelope, in operand ulps (0: inside everywhere)
    max_ulps: float  # farthest from the envelope's centre (the exact local step), operand ulps
    unjudged: tuple[tuple[int, str], ...]  # (step, why): the format cannot hold the rule there
    frozen: tuple[int, ...]  # steps at which the exact update is below half an ulp of θ
    undefined_at: int | None  # first step at which the rule itself is 0/0
    exits: tuple[tuple[str, Exit], ...] = ()  # the first exit of each quantity
    finite_where_undefined: bool = False  # the trace is finite where the rule is 0/0
    undefined_by_rounding: bool = False  # 0/0 only under this model's rounded hyperparameters
    overflowed: bool = False  # the rule's exact values overflowed the format (±inf, then NaN)
    rounded_exactly: tuple[tuple[str, int, int], ...] = ()  # (quantity, values, of them equal
    # to the exact local result rounded once to the format): 100 % means wider arithmetic

    def outside(self, quantity: str) -> bool:
        return any(q == quantity for q, _ in self.exits)

    @property
    def fits(self) -> bool:
        """Inside, and not by being undefined where the implementation is finite: how a
        candidate rule must hold to explain a run."""
        return self.inside and not self.finite_where_undefined

    @property
    def inside(self) -> bool:
        return self.first_exit is None and not self.missing and not self.undefined_by_rounding


@dataclass(frozen=True)
class Run:
    """What the envelope needs of one setting: its hyperparameters, schedule, box domain."""

    hyper: dict[str, str]
    tested: Tested
    schedule: str = "constant"
    domain: tuple[tuple[str, str], ...] | None = None

    @property
    def may_be_undefined(self) -> bool:
        """Whether the rule with these exact hyperparameters can be 0/0 (only with ε = 0: a β
        that rounds to 1 in the format makes 1 − βᵗ = 0, a defect, not a property of the rule)."""
        return all(as_fraction(self.hyper.get(k, "0")) == 0 for k in ("eps", "eps_root"))


def judge(rule: Rule, runs: Sequence[Run], models: Sequence[Model], early: str | None = None
          ) -> list[list[Judgement]]:
    """Judge every run under every model: result[i][j] is run i under model j. Runs are
    batched by (steps, size) so that a battery is evaluated in a few vectorized passes.
    ``early="rows"``: a batch stops once each of its rows has left the envelope (the first
    exits are exact, the farthest distances cover the steps seen). ``early="models"``: a model
    is rejected as soon as one of its runs leaves — a batch stops once every model has a run
    outside, and longer batches skip rejected models ("not judged"): enough to reject."""
    out: list[list[Judgement | None]] = [[None] * len(models) for _ in runs]
    groups: dict[tuple[int, int], list[int]] = {}
    for i, r in enumerate(runs):
        groups.setdefault((r.tested.steps, r.tested.size), []).append(i)
    alive = set(range(len(models)))
    for _, idx in sorted(groups.items()):
        rows = [(i, j) for i in idx for j in sorted(alive)]
        if rows:
            owner = ([j for _, j in rows] if early == "models" else
                     list(range(len(rows))) if early == "rows" else None)
            res = _judge_rows(rule, [runs[i] for i, _ in rows], [models[j] for _, j in rows],
                              owner, early)
            for (i, j), r in zip(rows, res, strict=True):
                out[i][j] = r
                if early == "models" and not r.inside:
                    alive.discard(j)
        for i in idx:
            for j in range(len(models)):
                if out[i][j] is None:
                    out[i][j] = _empty(rule, models[j], ("not judged: the scalar model had "
                                                         "already left the envelope",))
    return out  # type: ignore[return-value]


def _judge_rows(rule: Rule, runs: list[Run], models: list[Model],
                owner: list[int] | None = None, early: str | None = None) -> list[Judgement]:
    steps = runs[0].tested.steps
    missing = [_missing(rule, r.tested) for r in runs]
    if steps == 0 or any(r.tested.grads is None for r in runs):
        return [_empty(rule, m, miss + (() if r.tested.grads is not None else
                                        ("the trace records no gradients to replay",)))
                for r, m, miss in zip(runs, models, missing, strict=True)]
    params = np.stack([r.tested.params for r in runs], axis=1)  # [T+1, R, n]
    grads = np.stack([r.tested.grads for r in runs], axis=1)
    names = list(rule.state_names)
    tested_state = {k: np.stack([r.tested.state.get(k, np.full_like(r.tested.params, np.nan))
                                 for r in runs], axis=1) for k in names}
    exposed = {k: np.array([k in r.tested.state for r in runs])[:, None] for k in names}
    stream = Stream(rule, [r.hyper for r in runs], models, runs[0].tested.dtype,
                    params.shape[1:], runs[0].schedule, _domain(runs, params.shape[2]),
                    measure=early != "models")
    # a state exposed in every row makes each step depend only on the tested values; one exposed
    # in none is carried (a block allows it only as a running max, AMSGrad's v_max): steps 2…
    # are then judged in vectorized blocks, bit for bit the step-by-step result
    blocks = BLOCKS and all(bool(e.all()) or not e.any() for e in exposed.values())
    span = max(8, BLOCK_ELEMENTS // max(1, params[0].size))
    t = 1
    while t <= steps:
        if blocks and t >= 2:
            done = stream.block(params, grads, tested_state, exposed, t, min(steps, t + span - 1),
                                owner)
            if done is None:  # the rule does with t what a block cannot: step by step
                blocks = False
                continue
            t, stop = done
            if stop:
                break
            t += 1
            continue
        stream.step(params[t - 1], grads[t - 1], params[t],
                    {k: tested_state[k][t] for k in names}, exposed)
        if owner is not None and stream.every_model_out(owner):
            break
        t += 1
    over = stream.ar.ctx.overflowed
    out = []
    for i, (j, r) in enumerate(zip(stream.judgements(steps, missing), runs, strict=True)):
        flowed = bool(over is not None and over[i]) or bool(
            j.unjudged and j.undefined_at is not None and j.unjudged[0][0] <= j.undefined_at)
        out.append(dataclasses.replace(j, overflowed=flowed, undefined_by_rounding=(
            j.undefined_at is not None and not r.may_be_undefined and not flowed)))
    return out


class Stream:
    """The envelope fed one step at a time: the tested values before and after the step, its
    gradient and exposed state. A large audit feeds it the whole tensor step by step, so
    nothing of size steps × parameters is held; ``per_coordinate`` keeps, for each
    coordinate, the farthest distance and whether it ever left."""

    def __init__(self, rule: Rule, hypers: Sequence[dict[str, str]], models: Sequence[Model],
                 dtype: str, shape: tuple[int, ...], schedule: str = "constant",
                 domain: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
                 per_coordinate: bool = False, measure: bool = True):
        self.rule, self.schedule, (self.lo, self.hi) = rule, schedule, domain
        self.ar = BoundArith(float_format(dtype), list(models))
        keys = sorted({k for h in hypers for k in h})
        self.hp = {k: self.ar.hyper([as_fraction(h.get(k, "0")) for h in hypers]) for k in keys}
        self.models = list(models)
        self.tracker = Tracker(len(hypers), self.ar, shape if per_coordinate else None, measure)
        with self.ar.activate():
            self.state = rule.init(Bounded(np.zeros(shape), 0.0, self.ar.ctx), self.ar)
        self.t = 0
        self._previous: dict[str, np.ndarray] = {}

    def step(self, before: np.ndarray, grad: np.ndarray, after: np.ndarray,
             tested: dict[str, np.ndarray | None], exposed: dict[str, np.ndarray]) -> None:
        """Judge one step: ``before``/``after`` the parameters (rows × coordinates), ``tested``
        each state quantity after the step (None: not exposed) with ``exposed`` its row mask."""
        self.t += 1
        t, ar, names = self.t, self.ar, list(self.rule.state_names)
        with ar.activate():
            x = Bounded(before, 0.0, ar.ctx)
            state = self.state
            if t > 1:
                for k in names:
                    prev = self._previous.get(k)
                    if prev is not None:
                        state[k] = Bounded(np.where(exposed[k], prev, state[k].v),
                                           np.where(exposed[k], 0.0, state[k].e), ar.ctx)
            start = {k: state[k].v for k in names}
            hp = self._hyper_at(t)
            delta, self.state, _ = self.rule.update(Bounded(grad, 0.0, ar.ctx), state, x, t, hp, ar)
            new = x + delta
            if self.lo is not None:
                new = ar.clip(new, self.lo, self.hi)
            self.tracker.frozen_check(t, before, delta)
            self.tracker.check(t, "params", new, after, np.ones((after.shape[0], 1), dtype=bool),
                               before)
            for k in names:
                if tested.get(k) is not None:
                    self.tracker.check(t, k, self.state[k], tested[k], exposed[k], start[k])
        self._previous = {k: v for k, v in tested.items() if v is not None}

    def _hyper_at(self, t: int | StepIndex) -> dict[str, Bounded]:
        """The hyperparameters at step t (a block of steps): lr as the schedule makes it."""
        if self.schedule == "constant":
            return self.hp
        return dict(self.hp, lr=SCHEDULES[self.schedule](self.hp["lr"], t, self.ar))

    def block(self, params: np.ndarray, grads: np.ndarray, tested: dict[str, np.ndarray],
              exposed: dict[str, np.ndarray], t0: int, t1: int, owner: list[int] | None
              ) -> tuple[int, bool] | None:
        """Judge steps t0…t1 (t0 ≥ 2) at once, each state exposed in every row or in none:
        the rule's update evaluated once over [step, row, coordinate] arrays, then the steps
        recorded in one pass up to a row turning undefined or the early stop. Returns
        the last step judged and whether the early stop was reached, or None if the rule
        cannot be evaluated on a block of steps (nothing is changed then)."""
        ar, names, n = self.ar, list(self.rule.state_names), t1 - t0 + 1
        before, after, grad = params[t0 - 1:t1], params[t0:t1 + 1], grads[t0 - 1:t1]
        prev = {k: tested[k][t0 - 1:t1] for k in names}
        cur = {k: tested[k][t0:t1 + 1] for k in names}
        ar.ctx.block = np.zeros((n, before.shape[1]), dtype=bool)
        try:
            with ar.activate():
                x = Bounded(before, 0.0, ar.ctx)
                state = {k: Bounded(prev[k].copy(), np.zeros(prev[k].shape), ar.ctx)
                         if exposed[k].all() else Carried(self.state[k]) for k in names}
                steps = StepIndex(np.arange(t0, t1 + 1))
                hp = self._hyper_at(steps)
                delta, new_state, _ = self.rule.update(Bounded(grad, 0.0, ar.ctx), state, x,
                                                       steps, hp, ar)
                new = x + delta
                if self.lo is not None:
                    new = ar.clip(new, self.lo, self.hi)
        except (TypeError, ValueError):
            ar.ctx.block = None
            return None
        over, ar.ctx.block = ar.ctx.block, None
        ones = np.ones((before.shape[1], 1), dtype=bool)
        checks = [("params", new, after, ones, before)] + [
            (k, new_state[k], cur[k], exposed[k], prev[k]) for k in names]
        tr = self.tracker
        with ar.activate():
            stop, last, i = False, t1, 0
            while i < n:
                i, stop = tr.segment(checks, delta, before, t0, i, owner)
                if stop:
                    last = t0 + i - 1
                    break
                if i == n:
                    break
                t = t0 + i  # a row becomes undefined here: this step as step by step
                tr.frozen_check(t, before[i], _at(delta, i))
                for q, ref, got, mask, start in checks:
                    tr.check(t, q, _at(ref, i), got[i], mask, start[i])
                if owner is not None and self.every_model_out(owner):
                    stop, last = True, t
                    break
                i += 1
        rows = over[:last - t0 + 1].any(axis=0)
        if rows.any():
            ar.ctx.overflowed = rows if ar.ctx.overflowed is None else ar.ctx.overflowed | rows
        i = last - t0
        self.t = last
        self.state = {k: _at(new_state[k], i) for k in names}
        self._previous = {k: cur[k][i] for k in names}
        return last, stop

    def every_model_out(self, model_of_row: list[int]) -> bool:
        """Whether every owner (a model, or each row itself) has a row outside."""
        out = {m for m, f in zip(model_of_row, self.tracker.first, strict=True) if f is not None}
        return out >= set(model_of_row)

    def judgements(self, steps: int, missing: list[tuple[str, ...]] | None = None
                   ) -> list[Judgement]:
        tr = self.tracker
        missing = missing or [()] * len(self.models)
        return [Judgement(self.rule.name, m, steps, miss, tr.first[r], float(tr.worst[r]),
                          float(tr.far[r]), tuple(tr.unjudged[r]), tuple(tr.frozen[r]),
                          tr.undefined[r], tuple(tr.exits[r].items()), bool(tr.finite_nan[r]),
                          rounded_exactly=tuple((q, a, b) for q, (a, b) in tr.exact[r].items()))
                for r, (m, miss) in enumerate(zip(self.models, missing, strict=True))]


def _at(b: Bounded, i: int) -> Bounded:
    """Step i of a block's value ([step, row, coordinate]; a step-free value is itself)."""
    if b.v.ndim < 3 and b.e.ndim < 3:
        return b
    v = b.v[i] if b.v.ndim == 3 else b.v
    e = b.e[i] if b.e.ndim == 3 else b.e
    return Bounded(v, e, b.ctx)


def _domain(runs: list[Run], n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    if not any(r.domain for r in runs):
        return None, None
    lo = np.full((len(runs), n), -np.inf)
    hi = np.full((len(runs), n), np.inf)
    for i, r in enumerate(runs):
        for j, (a, b) in enumerate(r.domain or ()):
            lo[i, j], hi[i, j] = float(Fraction(a)), float(Fraction(b))
    return lo, hi


def _missing(rule: Rule, tested: Tested) -> tuple[str, ...]:
    """State the trace records at some steps but not at others is a finding."""
    return tuple(f"state {k} missing at step {steps[0]}" for k, steps in tested.absent.items()
                 if steps and k in rule.state_names)


def _empty(rule: Rule, model: Model, missing: tuple[str, ...]) -> Judgement:
    return Judgement(rule.name, model, 0, missing, None, 0.0, 0.0, (), (), None)
