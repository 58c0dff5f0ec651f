"""Audit an implementation: run it, diff it with the golden on its own gradients, judge it
against the float32 rounding envelope, and diagnose what it computes when it is discrepant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..arith import LOW_DTYPES
from ..compare import Comparison, compare
from ..errors import InputError
from ..golden import run_golden
from ..problems import find_problem
from ..runners.numpy_ import run_numpy
from ..spec import RunSpec
from ..trace import Trace
from .diagnose import Diagnosis, candidate_hyper, diagnose, probe_hyper, replayed_gradients

BUILTIN = ("numpy", "torch", "torch-foreach", "torch-fused", "mlx", "mlx-default", "optax",
           "keras", "keras-torch")
LOW_PRECISION = ("numpy", "torch", "torch-foreach", "torch-fused", "mlx", "mlx-default",
                 "optax")  # float16 / bfloat16 runs


@dataclass(frozen=True)
class AuditResult:
    impl: str
    version: str
    dtype: str
    spec: RunSpec
    trace: Trace
    vs_golden: Comparison  # golden on the implementation's own gradients
    diagnosis: Diagnosis

    @property
    def verdict(self) -> str:
        return self.diagnosis.verdict

    @property
    def max_ulps(self) -> int | None:
        return self.vs_golden.max_ulps("params")


def run_impl(impl: str | Callable[..., Any], spec: RunSpec, dtype: str = "float32",
             options: dict[str, Any] | None = None) -> Trace:
    from ..runners.objects import detect, run_object  # optimizer objects (torch, optax, …)

    if not (isinstance(impl, str) and impl in BUILTIN) and (obj := detect(impl)):
        return run_object(obj, spec, dtype, options)
    if dtype != "float32" and (callable(impl) or impl not in LOW_PRECISION):
        raise InputError(f"{dtype} runs are supported for {', '.join(LOW_PRECISION)}, "
                         f"not {impl if isinstance(impl, str) else 'a user callable'}")
    if callable(impl):
        from ..runners.user import run_user

        return run_user(spec, impl)
    if impl == "numpy":
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

        return run_keras(spec, impl)
    if ":" in impl:
        from ..runners.user import run_user

        return run_user(spec, impl)
    raise InputError(f"unknown implementation {impl!r} (known: {', '.join(BUILTIN)}, "
                     "or MODULE:CALLABLE)")


def audit(impl: str | Callable[..., Any], optimizer: str = "adam", problem: str = "probe",
          hyper: dict[str, str] | None = None, steps: int = 12, samples: int = 16,
          dtype: str = "float32") -> AuditResult:
    """Audit ``impl`` running ``optimizer`` on ``problem`` (default: the probe battery with its
    hyperparameters, which tell every catalogue variant apart) in ``dtype``."""
    if dtype not in LOW_DTYPES:
        raise InputError(f"unknown dtype {dtype!r} (known: {', '.join(LOW_DTYPES)})")
    source = probe_hyper(dtype) | dict(hyper or {})
    spec = RunSpec(find_problem(problem), optimizer, candidate_hyper(optimizer, source), steps)
    trace = run_impl(impl, spec, dtype)
    grads = replayed_gradients(trace)
    golden = run_golden(spec, grads=grads)
    d = diagnose(trace, spec, samples, hyper=source)
    a = trace.arithmetic
    version = ", ".join(f"{k} {v}" for k, v in a.get("versions", {}).items()) or "—"
    name = impl if isinstance(impl, str) else a.get("implementation", "user")
    return AuditResult(name, version, a.get("dtype", "float32"), spec, trace,
                       compare(trace, golden, name, "golden"), d)


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
