"""The reference float32 implementation: the shared rules on NumPy float32, every op in float32."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..golden.arith import Float32Arith, float32_text
from ..golden.engine import run_in
from ..golden.run import optimizer_header, problem_header, status_of
from ..golden.spec import RunSpec, effective_hyper
from ..golden.trace import Step, Trace
from ..rules import Rule


def run_numpy(spec: RunSpec, progress: Callable[[int], None] | None = None,
              scalars: str = "float32", grads=None, dtype: str = "float32",
              rule: Rule | None = None) -> Trace:
    """Run ``spec`` in ``dtype`` (float32, float16 or bfloat16; every operation rounded to it):
    hyperparameters, data and constants rounded once (``scalars="float64"``: 1 − β and 1 − βᵗ
    derived in double, then rounded). ``rule`` replaces the spec's (a deliberately misused
    rule, in the battery's own tests)."""
    hyper = spec.full_hyper()
    with np.errstate(all="ignore"):
        raw = run_in(spec, Float32Arith(scalars, dtype), hyper, progress, grads, rule=rule)
        steps = tuple(Step(
            t=r.record.t,
            params=_texts(r.record.params),
            grad=_texts(r.record.grad) if r.record.grad is not None else None,
            state={k: _texts(v) for k, v in r.record.state.items()},
            aux={k: _texts(v) for k, v in r.record.aux.items()},
            loss=float32_text(r.loss),
            rows={k: _texts(v) for k, v in r.rows.items()},
        ) for r in raw)
    arithmetic = {"kind": dtype, "implementation": "numpy", "dtype": dtype,
                  "scalars": scalars,
                  "hyper_effective": effective_hyper(hyper, "float32"),
                  "versions": {"numpy": np.__version__}}
    return Trace(problem_header(spec.problem), optimizer_header(spec), arithmetic, steps,
                 status_of(steps, spec.steps))


def _texts(values) -> tuple[str, ...]:
    return tuple(float32_text(v) for v in values)
