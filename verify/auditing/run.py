"""Audit an implementation: run it under every setting of the battery, diff each run with the
golden on its own gradients, judge every step against the rounding envelope of the claimed rule,
and when it is discrepant, say what it computes (a catalogue variant, or the terms found off)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import REFUSALS, ImplementationError, InputError, StepTimeout, refusal, unknown
from ..golden.arith import LOW_DTYPES
from ..golden.compare import operand_ulps
from ..golden.run import run_golden
from ..golden.spec import RunSpec
from ..golden.trace import Trace
from ..rules import MEANING, RULES
from .battery import Setting, battery, rule_hyper, stream_problem
from .bounds import MODELS, Model
from .diagnose import diagnose
from .envelope import Judgement, Run, judge, tested_arrays
from .limits import arithmetic_width, findings, not_informative
from .result import (
    CONSISTENT,
    DISCREPANT,
    NOT_AUDITED,
    NOT_INFORMATIVE,
    NOT_RUN,
    AuditResult,
    SettingResult,
)

BUILTIN = ("numpy", "torch", "torch-foreach", "torch-fused", "mlx", "mlx-default", "optax",
           "keras", "keras-torch")
LOW_PRECISION = ("numpy", "torch", "torch-foreach", "torch-fused", "mlx", "mlx-default",
                 "optax", "keras", "keras-torch")  # float16 / bfloat16 runs


def run_impl(impl: str | Callable[..., Any], spec: RunSpec, dtype: str = "float32",
             options: dict[str, Any] | None = None) -> Trace:
    """One run of ``impl`` on ``spec`` in ``dtype``, as a Trace (state mapped to m, v, …)."""
    out = run_many(impl, [spec], dtype, options)[0]
    if isinstance(out, Exception):
        raise out
    return out


def run_many(impl: str | Callable[..., Any], specs: list[RunSpec], dtype: str = "float32",
             options: dict[str, Any] | None = None
             ) -> list[Trace | InputError | ImplementationError]:
    """Every spec run by ``impl``; a spec the implementation cannot run is its InputError, one
    it misbehaves on its ImplementationError. Keras on a backend this process's Keras is not
    on runs all of them in one child process."""
    from ..runners.objects import detect, run_object  # optimizer objects (torch, optax, …)

    obj = None if isinstance(impl, str) and impl in BUILTIN else detect(impl)
    if obj:
        return _each(specs, lambda s: run_object(obj, s, dtype, options))
    if options:
        raise InputError(f"--option goes to an optimizer object's constructor; {impl!r} is not "
                         "one (a built-in implementation or a step function takes none)")
    if dtype != "float32" and (callable(impl) or (impl not in LOW_PRECISION and ":" not in impl)):
        raise InputError(f"{dtype} runs are supported for {', '.join(LOW_PRECISION)}, "
                         f"not {impl if isinstance(impl, str) else 'a user callable'}")
    if impl in ("keras", "keras-torch"):
        from ..runners.keras_ import BACKENDS, run_keras_child, runs_here

        if not runs_here(impl):
            return run_keras_child(specs, BACKENDS[impl], dtype)  # all in one child process
    def one(spec: RunSpec) -> Trace:
        try:
            return _run_one(impl, spec, dtype)
        except REFUSALS as exc:  # a framework refusing a setting
            raise refusal(impl, exc) from None

    return _each(specs, one)


def _each(specs: list[RunSpec], run: Callable[[RunSpec], Trace]
          ) -> list[Trace | InputError | ImplementationError]:
    """Every spec run, each failure kept as its error; after a step past its time limit the
    remaining settings are not run (each would wait as long again)."""
    out: list[Trace | InputError | ImplementationError] = []
    for spec in specs:
        timed_out = next((e for e in out if isinstance(e, StepTimeout)), None)
        if timed_out is not None:
            first = str(timed_out)
            out.append(StepTimeout(first if first.startswith("not run:") else
                                   f"not run: an earlier setting timed out ({first})"))
            continue
        try:
            out.append(run(spec))
        except (InputError, ImplementationError) as exc:
            out.append(exc)
    return out


def _run_one(impl: str | Callable[..., Any], spec: RunSpec, dtype: str) -> Trace:
    if callable(impl) or (isinstance(impl, str) and ":" in impl):
        from ..runners.user import run_user

        if dtype != "float32":
            raise InputError(f"{dtype} runs are supported for {', '.join(LOW_PRECISION)}, "
                             "not a user callable")
        return run_user(spec, impl)
    if impl == "numpy":
        from ..runners.numpy_ import run_numpy

        return run_numpy(spec, dtype=dtype)
    if impl in ("torch", "torch-foreach", "torch-fused"):
        from ..runners.torch_ import run_torch

        return run_torch(spec, impl, dtype=dtype)
    if impl in ("mlx", "mlx-default"):
        from ..runners.mlx_ import run_mlx

        return run_mlx(spec, impl, dtype)
    if impl == "optax":
        from ..runners.optax_ import run_optax

        return run_optax(spec, impl, dtype)
    if impl in ("keras", "keras-torch"):
        from ..runners.keras_ import run_keras

        return run_keras(spec, impl, dtype)
    raise InputError(unknown("implementation", impl, BUILTIN, "or MODULE:CALLABLE"))


def replayed_gradients(tested: Trace) -> list[list[Fraction]] | None:
    """The exact gradients the tested implementation used, step by step."""
    rows = [s.grad for s in tested.steps[1:]]
    if not rows or any(r is None for r in rows):
        return None
    return [[Fraction(float(np.float32(g))) for g in r] for r in rows]


def audit(impl: str | Callable[..., Any], optimizer: str = "adam", problem: str | None = None,
          hyper: dict[str, str] | None = None, steps: int | None = None, dtype: str = "float32",
          quick: bool = False, progress: Callable[[str], None] = lambda s: None,
          golden: bool = True, options: dict[str, Any] | None = None) -> AuditResult:
    """Audit ``impl`` as an implementation of ``optimizer`` in ``dtype`` over the battery
    (``battery.py``; ``quick``: the probe setting only). ``problem`` replaces the probe's
    gradient stream; ``hyper`` adds a setting with those hyperparameters (``steps`` long).
    ``golden=False`` skips the certified goldens (the distance-from-golden column; the verdict
    does not use them). ``options`` go to an optimizer object's constructor as they are
    (``--option NAME=VALUE``)."""
    if dtype not in LOW_DTYPES:
        raise InputError(f"unknown dtype {dtype!r} (known: {', '.join(LOW_DTYPES)})")
    if optimizer not in RULES:
        raise InputError(unknown("optimizer", optimizer, sorted(RULES)))
    settings = battery(optimizer, dtype, quick, hyper, steps)
    specs = [RunSpec(stream_problem(s.stream, problem), optimizer, rule_hyper(optimizer, s.hyper),
                     s.steps) for s in settings]
    name = impl if isinstance(impl, str) else getattr(impl, "__qualname__", "user")
    progress(f"running {name} under {len(specs)} settings")
    traces = run_many(impl, specs, dtype, options)
    failed = [(s, t) for s, t in zip(settings, traces, strict=True)
              if isinstance(t, ImplementationError)]
    why = f"{failed[0][1]} (setting {failed[0][0].name})" if failed else ""
    errors = [t for t in traces if isinstance(t, InputError)]
    if len(errors) + len(failed) == len(traces):
        if failed:
            return _not_audited(name, optimizer, dtype, settings, specs, why, quick)
        raise errors[0]
    first = next(t for t in traces if isinstance(t, Trace))
    version = ", ".join(f"{k} {v}" for k, v in first.arithmetic.get("versions", {}).items()) or "—"
    name = first.arithmetic.get("implementation", name) if not isinstance(impl, str) else impl
    progress("goldens and envelopes")
    ran = [(s, sp, t) for s, sp, t in zip(settings, specs, traces, strict=True)
           if isinstance(t, Trace)]
    model, judged = choose_model(RULES[optimizer], [(sp, t) for _, sp, t in ran])
    by_setting = {id(s): j for (s, _, _), j in zip(ran, judged, strict=True)}
    rows = []
    for s, sp, t in zip(settings, specs, traces, strict=True):
        if isinstance(t, (InputError, ImplementationError)):
            rows.append(SettingResult(s, sp, None, None, None, NOT_RUN, (), str(t)))
        else:
            rows.append(_setting_row(s, sp, t, by_setting[id(s)], golden))
    verdict = DISCREPANT if any(r.status == DISCREPANT for r in rows) else CONSISTENT
    if failed and verdict != DISCREPANT:  # consistent is never earned over a setting that failed
        return _not_audited(name, optimizer, dtype, settings, specs, why, quick)
    wide = audit_findings(first, model, verdict, dtype)
    width = arithmetic_width([r.judgement for r in rows if r.judgement is not None], dtype)
    wide += (width,) if width else ()
    if first.arithmetic.get("unmapped_state") and verdict == CONSISTENT:
        return AuditResult(name, version, dtype, optimizer, tuple(rows), NOT_AUDITED, model,
                           None, wide, _unmapped_reason(first, optimizer), quick)
    diag = None
    if verdict == DISCREPANT:
        progress("diagnosis")
        diag = diagnose(optimizer, [(s, sp, t) for s, sp, t in ran], dtype)
        if diag.explanation is None:
            wide += _unset_default(impl, optimizer, problem, hyper, steps, dtype, quick, options)
    return AuditResult(name, version, dtype, optimizer, tuple(rows), verdict, model, diag, wide,
                       "", quick)


# a constructor default that is a hyperparameter of these rules, not of the claimed one
DEFAULT_RULES = {"weight_decay": ("adamw", "adam-l2")}


def _unset_default(impl: Any, optimizer: str, problem: str | None, hyper: dict | None,
                   steps: int | None, dtype: str, quick: bool,
                   options: dict[str, Any] | None) -> tuple[str, ...]:
    """An optimizer object whose constructor default is a hyperparameter the claimed rule lacks
    (torch's AdamW: weight_decay = 0.01, audited as adam): audited again with that default set
    to 0; when that is consistent, the default the user did not set is the discrepancy."""
    import inspect

    from ..runners.objects import detect

    obj = None if isinstance(impl, str) and impl in BUILTIN else detect(impl)
    if obj is None:
        return ()
    try:
        params = inspect.signature(obj.factory).parameters
    except (TypeError, ValueError):
        return ()
    set_already = set(obj.options) | set(options or {}) | set(hyper or {})
    for name, rules in DEFAULT_RULES.items():
        p = params.get(name)
        if (p is None or name in set_already or name in RULES[optimizer].defaults
                or not isinstance(p.default, int | float) or not p.default):
            continue
        again = audit(impl, optimizer, problem, hyper, steps, dtype, quick, golden=False,
                      options=dict(options or {}) | {name: 0.0})
        if again.verdict != CONSISTENT:
            continue
        fit = next((r for r in rules if audit(impl, r, problem, hyper, steps, dtype, quick,
                                              golden=False, options=options).verdict == CONSISTENT),
                   None)
        what = (f"it is {fit} ({MEANING[fit]}): audit it as --optimizer {fit}"
                if fit else f"audit it with --option {name}=0")
        return (f"{obj.label} has {name} = {p.default:g} by default, which {optimizer} does "
                f"not have; with {name} = 0 it is consistent with {optimizer}, so {what}",)
    return ()


def _setting_row(s: Setting, spec: RunSpec, trace: Trace, j: Judgement, with_golden: bool
                 ) -> SettingResult:
    tested = tested_arrays(trace)
    golden = _golden(spec, replayed_gradients(trace)) if with_golden else None
    notes = list(j.missing)
    if j.undefined_by_rounding:
        notes.append(f"from step {j.undefined_at} the rule is 0/0 only with its hyperparameters "
                     f"rounded to {spec_dtype(trace)}; with their exact values it is finite")
    if tested.steps < spec.steps and j.undefined_at is None:
        notes.append(f"the trace ends at step {tested.steps} of {spec.steps}")
    found = findings(spec.full_hyper(), tested, j, spec.steps)
    if notes or not j.inside:
        status = DISCREPANT
    elif not_informative(j, tested):
        status = NOT_INFORMATIVE
    else:
        status = CONSISTENT
    return SettingResult(s, spec, trace, j, golden, status, found, "; ".join(notes),
                         operand_ulps(trace, golden) if golden else None)


def spec_dtype(trace: Trace) -> str:
    return trace.arithmetic.get("dtype", "float32")


def _golden(spec: RunSpec, grads: list[list[Fraction]] | None) -> Trace:
    """The certified golden of a setting on these gradients, computed once per process: the
    frameworks' gradients of the battery's linear streams are the same exact numbers, so the
    report's audits share them."""
    key = (spec.problem.source, spec.optimizer, tuple(sorted(spec.full_hyper().items())),
           spec.steps, spec.schedule, None if grads is None else tuple(map(tuple, grads)))
    if key not in _GOLDENS:
        _GOLDENS[key] = run_golden(spec, grads=grads, params_only=True)
    return _GOLDENS[key]


_GOLDENS: dict[tuple, Trace] = {}


def choose_model(rule, ran: list[tuple[RunSpec, Trace]]) -> tuple[Model | None,
                                                                 list[Judgement]]:
    """The scalar model under which every run is inside the envelope (the accurate ones
    first, so a naive 1 − βᵗ is named only when nothing else fits); when none fits, the one
    with the most runs inside, and its judgements."""
    runs = [Run(sp.full_hyper(), tested_arrays(t), sp.schedule,
                tuple((str(a), str(b)) for a, b in sp.problem.domain) or None) for sp, t in ran]
    def score(js: list[Judgement]) -> tuple[int, float]:
        return (sum(_ok(j, r) for j, r in zip(js, runs, strict=True)),
                -max((j.worst_ulps for j in js), default=0.0))

    first = [row[0] for row in judge(rule, runs, MODELS[:1], early="rows")]
    if score(first)[0] == len(runs):
        return MODELS[0], first

    def ok(j: Judgement, i: int) -> bool:
        return _ok(j, runs[i])

    rest = judge(rule, runs, MODELS[1:], early="models")  # a model that fits runs to the end
    for m in range(1, len(MODELS)):
        if all(ok(row[m - 1], i) for i, row in enumerate(rest)):
            return MODELS[m], [row[m - 1] for row in rest]
    # none fits: report each setting under the model that keeps the most settings inside
    inside = [score(first)[0]] + [sum(ok(row[m - 1], i) for i, row in enumerate(rest))
                                  for m in range(1, len(MODELS))]
    best = max(range(len(MODELS)), key=lambda m: (inside[m], -m))
    return None, (first if best == 0 else
                  [row[0] for row in judge(rule, runs, [MODELS[best]], early="rows")])


def _ok(j: Judgement, run: Run) -> bool:
    return j.inside and (j.undefined_at is not None or j.steps >= run.tested.steps)


def audit_findings(trace: Trace, model: Model | None, verdict: str, dtype: str
                   ) -> tuple[str, ...]:
    """Findings about the whole audit: a precision defect the verdict holds only with, state
    the implementation has that could not be mapped, inputs it changed in place."""
    out = []
    if verdict == CONSISTENT and model is not None and model.powers == "naive":
        out.append(f"1 − βᵗ is computed as 1 − (βᵗ rounded in {dtype}): cancellation loses "
                   "accuracy in the bias corrections at small t (a precision defect; "
                   "−expm1(t·log1p(−(1 − β))) or double precision avoids it)")
    a = trace.arithmetic
    if a.get("unmapped_state"):
        out.append("state not mapped to m, v, v_max, buf: " + ", ".join(a["unmapped_state"]))
    if a.get("private_state"):
        out.append("the verdict rests on the parameters alone: the state "
                   + ", ".join(a["private_state"]) + " is private (its name starts with _)")
    out += list(a.get("notes", ()))
    return tuple(out)


def _unmapped_reason(trace: Trace, optimizer: str) -> str:
    names = ", ".join(trace.arithmetic["unmapped_state"])
    return (f"its state {names} could not be mapped to m, v, v_max or buf, so it was not "
            f"judged (the parameters alone are consistent with {optimizer})")


def _not_audited(name: str, optimizer: str, dtype: str, settings: list[Setting],
                 specs: list[RunSpec], why: str, quick: bool) -> AuditResult:
    rows = tuple(SettingResult(s, sp, None, None, None, NOT_RUN, (), why)
                 for s, sp in zip(settings, specs, strict=True))
    return AuditResult(name, "—", dtype, optimizer, rows, NOT_AUDITED, None, None, (), why, quick)


def installed() -> list[str]:
    """The built-in implementations whose framework imports here."""
    from importlib.util import find_spec

    out = ["numpy"]
    if find_spec("torch"):
        out += ["torch", "torch-foreach", "torch-fused"]
    if find_spec("mlx"):
        out += ["mlx", "mlx-default"]
    if find_spec("optax") and find_spec("jax"):
        out.append("optax")
    if find_spec("keras") and find_spec("jax"):
        out.append("keras")
    if find_spec("keras") and find_spec("torch"):
        out.append("keras-torch")
    return out
