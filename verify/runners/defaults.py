"""What each installed framework really ships: Adam's default hyperparameters (read from the
constructor's signature, not from documentation) and whether an API a document shows exists."""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any

# Kingma & Ba (ICLR 2015), Algorithm 1: "Good default settings for the tested machine learning
# problems are α = 0.001, β1 = 0.9, β2 = 0.999 and ε = 10⁻⁸".
PAPER_ADAM = {"lr": "0.001", "beta1": "0.9", "beta2": "0.999", "eps": "1e-8"}
REQUIRED = "required"  # the framework has no default: the user must pass a value


@dataclass(frozen=True)
class Shipped:
    framework: str
    version: str
    where: str  # the constructor read
    values: dict[str, str]  # our hyperparameter name → the default as Python prints it


def _signature_defaults(fn: Callable[..., Any], names: dict[str, str]) -> dict[str, str]:
    params = inspect.signature(fn).parameters
    out = {}
    for ours, theirs in names.items():
        key, _, index = theirs.partition("[")
        p = params.get(key)
        if p is None:
            continue
        if p.default is inspect.Parameter.empty:
            out[ours] = REQUIRED
            continue
        value = p.default[int(index[:-1])] if index else p.default
        out[ours] = repr(float(value))
    return out


def _torch() -> Shipped:
    import torch

    names = {"lr": "lr", "beta1": "betas[0]", "beta2": "betas[1]", "eps": "eps"}
    return Shipped("PyTorch", torch.__version__, "torch.optim.Adam",
                   _signature_defaults(torch.optim.Adam, names))


def _optax() -> Shipped:
    import optax

    names = {"lr": "learning_rate", "beta1": "b1", "beta2": "b2", "eps": "eps"}
    return Shipped("optax", optax.__version__, "optax.adam", _signature_defaults(optax.adam, names))


def _keras() -> Shipped:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    names = {"lr": "learning_rate", "beta1": "beta_1", "beta2": "beta_2", "eps": "epsilon"}
    return Shipped("Keras", keras.__version__, "keras.optimizers.Adam",
                   _signature_defaults(keras.optimizers.Adam.__init__, names))


def _mlx() -> Shipped:
    from importlib.metadata import version

    import mlx.optimizers as optim

    names = {"lr": "learning_rate", "beta1": "betas[0]", "beta2": "betas[1]", "eps": "eps"}
    values = _signature_defaults(optim.Adam.__init__, names)
    bias = inspect.signature(optim.Adam.__init__).parameters.get("bias_correction")
    if bias is not None and bias.default is not inspect.Parameter.empty:
        values["bias_correction"] = repr(bias.default)
    return Shipped("MLX", version("mlx"), "mlx.optimizers.Adam", values)


READERS = {"torch": _torch, "optax": _optax, "keras": _keras, "mlx": _mlx}


def unread_frameworks(frameworks: Collection[str] | None = None) -> tuple[str, ...]:
    """The frameworks whose Adam defaults were asked for but are not installed here."""
    return tuple(m for m in READERS if (frameworks is None or m in frameworks)
                 and not find_spec(m))


def shipped_adam_defaults(frameworks: Collection[str] | None = None) -> tuple[Shipped, ...]:
    """Adam's defaults in every installed framework (the module must import), or only in
    ``frameworks`` (module names: torch, optax, keras, mlx)."""
    return tuple(read() for module, read in READERS.items()
                 if (frameworks is None or module in frameworks) and find_spec(module))


@dataclass(frozen=True)
class ApiCheck:
    exists: bool | None  # None: the package is not installed
    detail: str


def check_api(target: str, args: int = 0, kwargs: tuple[str, ...] = (),
              call: bool = False) -> ApiCheck:
    """Whether ``target`` (a dotted path such as ``mlx.optimizers.Adam``) exists and, with
    ``call``, accepts ``args`` positional arguments and the keyword names ``kwargs``.

    ``exists`` is None when the question cannot be answered here: the package is not installed,
    a module on the path fails to import (a missing dependency is not a missing API), or the
    callable has no inspectable signature."""
    parts = target.split(".")
    try:
        spec = find_spec(parts[0])
    except (ImportError, ValueError) as exc:
        return ApiCheck(None, f"not checkable here: looking up {parts[0]} failed: {_one_line(exc)}")
    if spec is None:
        return ApiCheck(None, f"{parts[0]} is not installed here")
    if parts[0] == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
    found = _import_longest(parts)
    if isinstance(found, ApiCheck):
        return found
    obj, i = found
    for name in parts[i:]:
        owner = ".".join(parts[:i])
        try:
            obj = getattr(obj, name)
        except AttributeError:
            return ApiCheck(False, f"{owner} has no attribute {name!r}")
        except Exception as exc:  # a lazy attribute whose import fails
            return ApiCheck(None, f"not checkable here: importing {owner}.{name} failed: "
                                  f"{_one_line(exc)}")
        i += 1
    if not call:
        return ApiCheck(True, f"{target} exists")
    return _check_call(target, obj, args, kwargs)


def _import_longest(parts: list[str]) -> tuple[Any, int] | ApiCheck:
    """The longest importable module prefix of ``parts`` and its length, imported from the
    top down. A prefix that is no module ends the walk (the rest are attributes); one that
    exists but fails to import (a missing dependency, say) makes the API not checkable here."""
    obj, found = None, 0
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        try:
            obj, found = importlib.import_module(name), i
        except ModuleNotFoundError as exc:
            if exc.name == name:
                break
            return ApiCheck(None, f"not checkable here: importing {name} failed: {_one_line(exc)}")
        except Exception as exc:  # the module exists but its import raises
            return ApiCheck(None, f"not checkable here: importing {name} failed: {_one_line(exc)}")
    if not found:
        return ApiCheck(None, f"not checkable here: {parts[0]} cannot be imported")
    return obj, found


def _check_call(target: str, obj: Any, args: int, kwargs: tuple[str, ...]) -> ApiCheck:
    if isinstance(obj, property):
        return ApiCheck(False, f"{target} is a property, not a method: it cannot be called")
    if not callable(obj):
        return ApiCheck(False, f"{target} is a {type(obj).__name__}, not callable")
    try:
        sig = inspect.signature(obj)
    except Exception:  # builtins and extension callables without a signature
        return ApiCheck(None, f"not checkable here: {target} has no inspectable signature")
    try:
        sig.bind(*([None] * args), **{k: None for k in kwargs})
    except TypeError as exc:
        return ApiCheck(False, f"{target}{_short(sig)} rejects the call: {exc}")
    return ApiCheck(True, f"{target}{_short(sig)} accepts the call")


def _one_line(exc: BaseException, width: int = 200) -> str:
    """``Type: message``, first line only, cut to ``width`` characters."""
    text = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return text if len(text) <= width else text[: width - 1] + "…"


def _short(sig: inspect.Signature, width: int = 100) -> str:
    """A signature without annotations, cut to ``width`` characters."""
    text = "(" + ", ".join(p.replace(annotation=inspect.Parameter.empty).__str__()
                           for p in sig.parameters.values()) + ")"
    return text if len(text) <= width else text[: width - 1] + "…)"
