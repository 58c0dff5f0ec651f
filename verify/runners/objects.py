"""An optimizer object as users have it, audited directly: a ``torch.optim.Optimizer`` subclass,
an optax factory returning a ``GradientTransformation``, a Keras 3 optimizer class or an
``mlx.optimizers.Optimizer`` class, given as ``MODULE:ATTR`` or as the Python object (a
``functools.partial`` of one carries options). It runs in its own framework on that framework's
autodiff gradients, through the same code as the built-in runners, with the hyperparameters
mapped onto its constructor's signature (``hypermap``) and its state mapped to m, v, v_max, buf
where the names allow (``statemap``). A plain step function keeps the protocol of ``user``.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ImplementationError, InputError
from ..golden.spec import RunSpec
from ..golden.trace import Trace
from .hooks import Hooks
from .hypermap import Mapped, Option, map_hyper
from .statemap import StateLog

KINDS = ("torch", "optax", "keras", "mlx", "tensorflow")
LR_NAMES = ("learning_rate", "lr")


@dataclass(frozen=True)
class OptimizerObject:
    label: str  # how it is named in the trace, e.g. "torch.optim:Adam"
    factory: Callable[..., Any]  # the class or factory function
    kind: str  # one of KINDS
    options: dict[str, Option] = field(default_factory=dict)  # from a functools.partial

    @property
    def package(self) -> str:
        return (getattr(self.factory, "__module__", None) or self.label).split(".")[0]


def detect(target: Any) -> OptimizerObject | None:
    """What ``target`` is, or None when it is not an optimizer object (a built-in name, or a
    step function for the user protocol). Importing ``MODULE`` is running the user's code."""
    if isinstance(target, str):
        if ":" not in target:
            return None
        if target.split(".")[0].split(":")[0] in ("keras", "tensorflow"):
            os.environ.setdefault("KERAS_BACKEND", "jax")  # as the built-in Keras runner
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's start-up banner
        from .user import load_callable

        label, obj = target, load_callable(target)
    else:
        label, obj = _label(target), target
    options: dict[str, Option] = {}
    while isinstance(obj, functools.partial):
        if obj.args:
            raise InputError(f"{label}: a functools.partial may fix keywords only, "
                             f"not positional arguments {obj.args!r}")
        options = dict(obj.keywords) | options
        obj = obj.func
    kind = _kind(obj, label)
    return None if kind is None else OptimizerObject(label, obj, kind, options)


def _label(obj: Any) -> str:
    inner = obj.func if isinstance(obj, functools.partial) else obj
    name = getattr(inner, "__qualname__", type(inner).__name__)
    return f"{getattr(inner, '__module__', '?')}:{name}"


def _subclass(obj: Any, module: str, path: str) -> bool:
    if not isinstance(obj, type) or module not in sys.modules:
        return False
    base = sys.modules[module]
    for part in path.split("."):
        base = getattr(base, part, None)
    return isinstance(base, type) and issubclass(obj, base)


def _kind(obj: Any, label: str) -> str | None:
    if _subclass(obj, "torch", "optim.Optimizer"):
        return "torch"
    if _subclass(obj, "keras", "optimizers.Optimizer"):
        return "keras"
    if _subclass(obj, "mlx.optimizers", "Optimizer"):
        return "mlx"
    if _subclass(obj, "tensorflow", "compat.v1.train.Optimizer"):
        return "tensorflow"
    if "optax" in sys.modules and isinstance(obj, sys.modules["optax"].GradientTransformation):
        raise InputError(f"{label} is an optax GradientTransformation already built; pass its "
                         "factory (e.g. optax:adam) so that the audit sets the hyperparameters")
    if "optax" in sys.modules and callable(obj) and not isinstance(obj, type):
        try:
            import inspect

            names = inspect.signature(obj).parameters
        except (TypeError, ValueError):
            return None
        if any(n in names for n in LR_NAMES):
            return "optax"
    return None


def run_object(obj: OptimizerObject, spec: RunSpec, dtype: str = "float32",
               options: Mapping[str, Option] | None = None) -> Trace:
    """Run ``obj`` on ``spec`` in ``dtype`` in its framework; ``options`` go to its
    constructor as they are (after those of a partial)."""
    opts = dict(obj.options) | dict(options or {})
    hyper = spec.full_hyper()
    skip = 1 if obj.kind == "torch" else 0  # torch's first parameter is the parameter list
    mapped = map_hyper(obj.factory, hyper, opts, obj.label, skip)
    log = StateLog(spec.rule.name, (len(spec.problem.params),))
    extra = {"object": obj.label, "object_kind": obj.kind,
             "hyper_mapped": dict(mapped.names), "hyper_not_passed": list(mapped.not_passed),
             "options": {k: _plain(v) for k, v in opts.items()}}
    if mapped.not_passed:  # read by the audit's findings
        extra["notes"] = [f"{obj.label} has no parameter for {', '.join(mapped.not_passed)}: "
                          "its own value was used"]
    versions = _versions(obj.package)
    runner = {"torch": _torch, "optax": _optax, "keras": _keras, "mlx": _mlx,
              "tensorflow": _tensorflow}[obj.kind]
    try:
        return runner(obj, spec, dtype, mapped, log, versions, extra)
    except (InputError, ImplementationError):
        raise
    except Exception as exc:  # misbehaving while stepping: a finding ("not audited: …")
        raise ImplementationError(f"{obj.label} raised {_one_line(exc)}") from None


def _one_line(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _built(obj: OptimizerObject, *args: Any, **kwargs: Any) -> Any:
    """The constructor's result; its refusing our arguments is bad input for this setting
    (an InputError: "not run"), not a finding about the implementation."""
    try:
        return obj.factory(*args, **kwargs)
    except Exception as exc:
        raise InputError(f"{obj.label} refuses the arguments {sorted(kwargs)}: "
                         f"{_one_line(exc)}") from None


def _plain(v: Option) -> Any:
    return list(v) if isinstance(v, tuple) else v


def _versions(package: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    dists = packages_distributions().get(package, [package])
    dist = package if package in dists else dists[0]
    try:
        return {dist: version(dist)}
    except PackageNotFoundError:
        return {}


def _torch(obj, spec, dtype, mapped: Mapped, log: StateLog, versions, extra) -> Trace:
    from .torch_ import run_torch

    def state(opt, p) -> dict[str, np.ndarray]:
        return log.map(_flat_torch(opt.state[p]))

    hooks = Hooks(lambda params: _built(obj, params, **mapped.kwargs), state, log, versions,
                  extra)
    return run_torch(spec, obj.label, dtype=dtype, hooks=hooks)


def _flat_torch(raw: Mapping[Any, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """torch state as float32 arrays by name; nested dicts (heavyball) are flattened, tensor
    subclasses holding quantized state (torchao's low-bit optimizers) dequantized."""
    import torch

    out: dict[str, np.ndarray] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= _flat_torch(value, f"{name}/")
        elif isinstance(value, torch.Tensor):
            if type(value) is not torch.Tensor and hasattr(value, "dequantize"):
                value = value.dequantize()
            out[name] = value.detach().float().cpu().numpy()
        elif isinstance(value, int | float):
            out[name] = np.asarray(value)
    return out


def _optax(obj, spec, dtype, mapped: Mapped, log: StateLog, versions, extra) -> Trace:
    import optax

    from .optax_ import run_optax

    def make():
        tx = _built(obj, **mapped.kwargs)
        if not isinstance(tx, optax.GradientTransformation):
            raise InputError(f"{obj.label} returned {type(tx).__name__}, not an optax "
                             "GradientTransformation")
        return tx

    def state(opt_state) -> dict[str, np.ndarray]:
        return log.map(_flat_optax(opt_state))

    return run_optax(spec, obj.label, dtype, hooks=Hooks(make, state, log, versions, extra))


def _flat_optax(state: Any) -> dict[str, np.ndarray]:
    """Named fields of optax's (nested) state NamedTuples, dicts and tuples, first name wins."""
    out: dict[str, np.ndarray] = {}
    stack: list[tuple[str, Any]] = [("", state)]
    while stack:
        name, s = stack.pop(0)
        if hasattr(s, "_fields"):
            stack[:0] = [(f, getattr(s, f)) for f in s._fields]
        elif isinstance(s, tuple | list):
            stack[:0] = [(name, x) for x in s]
        elif isinstance(s, Mapping):
            stack[:0] = list(s.items())
        elif name and hasattr(s, "shape"):
            key, i = name, 1
            while key in out:
                i += 1
                key = f"{name}_{i}"
            out[key] = np.asarray(s, dtype=np.float32)
    return out


def _mlx(obj, spec, dtype, mapped: Mapped, log: StateLog, versions, extra) -> Trace:
    from .mlx_ import run_mlx

    hooks = Hooks(lambda: _built(obj, **mapped.kwargs), log.map, log, versions, extra)
    return run_mlx(spec, obj.label, dtype, hooks=hooks)


def _keras(obj, spec, dtype, mapped: Mapped, log: StateLog, versions, extra) -> Trace:
    import keras

    from .keras_ import _run_here

    backend = keras.backend.backend()
    if backend not in ("jax", "torch", "tensorflow"):
        raise InputError(f"{obj.label}: Keras runs on the {backend} backend here; audits take "
                         "jax, torch or tensorflow (set KERAS_BACKEND before importing keras)")

    def state(opt, var, host) -> dict[str, np.ndarray]:
        return log.map({v.path: host(v) for v in opt.variables})

    hooks = Hooks(lambda: _built(obj, **mapped.kwargs), state, log, versions, extra)
    return _run_here(spec, obj.label, dtype, hooks)


def _tensorflow(obj, spec, dtype, mapped: Mapped, log: StateLog, versions, extra) -> Trace:
    from .tensorflow_ import run_tf_v1, v1_state

    def state(opt, var) -> dict[str, np.ndarray]:
        return log.map(v1_state(opt, var))

    hooks = Hooks(lambda: _built(obj, **mapped.kwargs), state, log, versions, extra)
    return run_tf_v1(spec, obj.label, dtype, hooks)
