"""What the code checker (``codecheck.py``) tracks while it walks a block: resolved objects,
instances, methods and classes defined in the block, unknown values with the reason, and the
import of a module the block names (aliases applied; a module that exists but cannot be
imported here is told apart from one that does not exist)."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import typing
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Obj:
    """A resolved Python object (module, class, function) and its dotted name."""

    obj: Any
    name: str


@dataclass(frozen=True)
class Instance:
    cls: Any
    name: str


@dataclass(frozen=True)
class Method:
    """A function looked up on a class, to be called on an instance (self is bound)."""

    func: Any
    name: str


@dataclass(frozen=True)
class Property:
    name: str


@dataclass
class UserClass:
    name: str
    node: ast.ClassDef
    bases: list[Any]
    attrs: dict[str, Any] = field(default_factory=dict)

    def method(self, name: str) -> ast.FunctionDef | None:
        return next((n for n in self.node.body
                     if isinstance(n, ast.FunctionDef) and n.name == name), None)


@dataclass(frozen=True)
class UserInstance:
    cls: UserClass


@dataclass(frozen=True)
class Unknown:
    why: str


class ImportFailed(LookupError):
    """A module that is installed but cannot be imported here (a missing dependency, say)."""


def load_module(name: str, aliases: dict[str, str]) -> tuple[Any, str]:
    """Import ``name`` (after alias substitution); raise KeyError when there is no such module,
    ImportFailed when it cannot be imported here, LookupError when its package is absent."""
    real = name
    for old, new in aliases.items():
        if name == old or name.startswith(old + "."):
            real = new + name[len(old):]
    top = real.split(".")[0]
    if top == "keras":  # Keras 3 without TensorFlow: the backend this project installs
        os.environ.setdefault("KERAS_BACKEND", "jax")
    if importlib.util.find_spec(top) is None:
        raise LookupError(f"{top} is not installed here")
    try:
        return importlib.import_module(real), real
    except ModuleNotFoundError as exc:
        if exc.name and (real == exc.name or real.startswith(exc.name + ".")):
            raise KeyError(f"no module {exc.name}") from None
        raise ImportFailed(f"importing {real} failed: missing dependency {exc.name}") from None
    except Exception as exc:  # a package that fails to import here
        raise ImportFailed(f"importing {real} failed: {type(exc).__name__}: {exc}") from None


def missing_on_instance(owner: Instance, attr: str) -> str:
    """Why ``attr`` was not found on the class: a failure when no class in the MRO has a
    ``__getattr__`` nor assigns ``self.<attr>`` in its source, else unresolved."""
    dynamic = [c.__name__ for c in owner.cls.__mro__ if "__getattr__" in vars(c)]
    if dynamic:
        return (f"{owner.name} instances have no class attribute {attr!r}; "
                f"{dynamic[0]}.__getattr__ may provide it at run time")
    pattern = re.compile(rf"\bself\.{re.escape(attr)}\s*=")
    for c in owner.cls.__mro__[:-1]:
        try:
            if pattern.search(inspect.getsource(c)):
                return f"{owner.name}.{attr} is an instance attribute set at run time"
        except (OSError, TypeError):
            return f"{owner.name} instances: {attr!r} not found (source of {c.__name__} unavailable)"
    return (f"{owner.name} has no attribute {attr!r} (not on the class or its bases, not "
            "assigned in their source)|missing")


def returned_class(target: Any) -> Any:
    """The class a callable is annotated to return, if any."""
    try:
        hint = typing.get_type_hints(target).get("return")
    except Exception:  # unresolvable string annotations
        return None
    return hint if inspect.isclass(hint) else None


def signature_of_def(node: ast.FunctionDef, drop_self: bool) -> inspect.Signature:
    """The signature a ``def`` in the block declares (defaults are placeholders)."""
    a = node.args
    params = []
    positional = a.posonlyargs + a.args
    first_default = len(positional) - len(a.defaults)
    for k, arg in enumerate(positional):
        kind = (inspect.Parameter.POSITIONAL_ONLY if k < len(a.posonlyargs)
                else inspect.Parameter.POSITIONAL_OR_KEYWORD)
        default = None if k >= first_default else inspect.Parameter.empty
        params.append(inspect.Parameter(arg.arg, kind, default=default))
    if a.vararg:
        params.append(inspect.Parameter(a.vararg.arg, inspect.Parameter.VAR_POSITIONAL))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append(inspect.Parameter(arg.arg, inspect.Parameter.KEYWORD_ONLY,
                                        default=None if d is not None else inspect.Parameter.empty))
    if a.kwarg:
        params.append(inspect.Parameter(a.kwarg.arg, inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(params[1:] if drop_self and params else params)
