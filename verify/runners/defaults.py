"""What each installed framework really ships: Adam's default hyperparameters (read from the
constructor's signature in the installed source, not from documentation) and whether an API a
document shows exists."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
from collections.abc import Collection
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
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


_EMPTY = object()  # a parameter without a default


@dataclass(frozen=True)
class Source:
    """Where a framework defines its Adam constructor: a file under the installed package, the
    class (None: a function) and the function whose signature holds the defaults."""

    path: str
    owner: str | None
    function: str
    names: dict[str, str]  # our hyperparameter name → the parameter (``betas[0]``: an element)
    where: str  # the public name: what an import reads, and what the report says
    flags: tuple[str, ...] = ()  # parameters reported as Python prints them (booleans)


SOURCES = {
    "torch": Source("optim/adam.py", "Adam", "__init__",
                    {"lr": "lr", "beta1": "betas[0]", "beta2": "betas[1]", "eps": "eps"},
                    "torch.optim.Adam"),
    "optax": Source("_src/alias.py", None, "adam",
                    {"lr": "learning_rate", "beta1": "b1", "beta2": "b2", "eps": "eps"},
                    "optax.adam"),
    "keras": Source("src/optimizers/adam.py", "Adam", "__init__",
                    {"lr": "learning_rate", "beta1": "beta_1", "beta2": "beta_2",
                     "eps": "epsilon"}, "keras.optimizers.Adam"),
    "mlx": Source("optimizers/optimizers.py", "Adam", "__init__",
                  {"lr": "learning_rate", "beta1": "betas[0]", "beta2": "betas[1]", "eps": "eps"},
                  "mlx.optimizers.Adam", ("bias_correction",)),
}
NAMES = {"torch": "PyTorch", "optax": "optax", "keras": "Keras", "mlx": "MLX"}


def _shipped(module: str, defaults: dict[str, Any]) -> Shipped:
    """A ``Shipped`` from the constructor's {parameter: default}: each of our hyperparameters
    as Python prints the float (``REQUIRED`` without a default), the flags as they are."""
    src = SOURCES[module]
    values = {}
    for ours, theirs in src.names.items():
        key, _, index = theirs.partition("[")
        if key not in defaults:
            continue
        if defaults[key] is _EMPTY:
            values[ours] = REQUIRED
            continue
        value = defaults[key][int(index[:-1])] if index else defaults[key]
        values[ours] = repr(float(value))
    for flag in src.flags:
        if defaults.get(flag, _EMPTY) is not _EMPTY:
            values[flag] = repr(defaults[flag])
    return Shipped(NAMES[module], _version(module), src.where, values)


def source_defaults(module: str) -> dict[str, Any] | None:
    """The Adam constructor's {parameter: default} read from the installed package's source
    without importing it (importing a framework takes seconds), or None where the source is
    not where ``SOURCES`` says or a default we report is not a literal: then it is imported.
    Read once per process and source file (a report asks for it once per claim)."""
    src = SOURCES[module]
    try:
        spec = find_spec(module)
        roots = list(spec.submodule_search_locations or []) if spec else []
        path = next((Path(r) / src.path for r in roots if (Path(r) / src.path).is_file()), None)
        if path is None:
            return None
        stat = path.stat()
        key = (repr(src), str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _READ:
            _READ[key] = _read_source(src, ast.parse(path.read_bytes()))
    except (ImportError, ValueError, OSError, SyntaxError):
        return None
    return None if _READ[key] is None else dict(_READ[key])


_READ: dict[tuple, dict[str, Any] | None] = {}


def _read_source(src: Source, tree: ast.Module) -> dict[str, Any] | None:
    """``source_defaults`` of one parsed file."""
    body = tree.body
    if src.owner is not None:
        if _bindings(tree, src.owner) != 1:
            return None  # defined twice, rebound, imported over: only the import knows which
        owner = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == src.owner),
                     None)
        if owner is None or any(_name(d) not in CLASS_DECORATORS for d in owner.decorator_list):
            return None
        scope: ast.AST = owner
        body = owner.body
    else:
        scope = tree
    if _bindings(scope, src.function) != 1:
        return None
    fn = next((n for n in body if isinstance(n, ast.FunctionDef) and n.name == src.function),
              None)
    if fn is None or fn.decorator_list:
        return None  # a decorator may replace the signature (overload stubs, wrappers)
    args = fn.args
    positional = args.posonlyargs + args.args
    padded = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, padded, strict=True))
    pairs += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    reported = {v.partition("[")[0] for v in src.names.values()} | set(src.flags)
    if (args.vararg or args.kwarg) and not reported <= {a.arg for a, _ in pairs}:
        return None  # the parameters may come through *args/**kwargs (a __signature__, say)
    out: dict[str, Any] = {}
    for arg, default in pairs:
        if default is None:
            out[arg.arg] = _EMPTY
            continue
        try:
            out[arg.arg] = ast.literal_eval(default)
        except (ValueError, TypeError):  # a name, a call: only the import can tell its value
            if arg.arg in reported:
                return None
    return out


CLASS_DECORATORS = {"keras_export"}  # registers the class under a public name, changes nothing


def _name(node: ast.expr) -> str:
    """A decorator's name: ``keras_export`` for ``@keras_export([...])`` or ``@x.keras_export``."""
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _bindings(scope: ast.AST, name: str) -> int:
    """How often ``name`` is bound anywhere under ``scope`` (defs, classes, assignments,
    imports, in any branch): more than once and the source alone cannot say which one wins."""
    count = 0
    for node in ast.walk(scope):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            count += node.name == name
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            count += node.id == name
        elif isinstance(node, ast.alias):
            count += (node.asname or node.name.split(".")[0]) == name
    return count


def imported_defaults(module: str) -> dict[str, Any]:
    """The same read from the imported constructor's signature (``inspect``)."""
    if module == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
    head, _, name = SOURCES[module].where.rpartition(".")
    obj = getattr(importlib.import_module(head), name)
    fn = obj.__init__ if inspect.isclass(obj) else obj
    return {k: (_EMPTY if p.default is inspect.Parameter.empty else p.default)
            for k, p in inspect.signature(fn).parameters.items()}


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "unknown"


def read_adam_defaults(module: str) -> Shipped:
    """Adam's defaults in ``module``: from its source where they are literals there (as in
    every version tested), else from the imported constructor."""
    found = source_defaults(module)
    if found is not None:
        try:
            return _shipped(module, found)
        except (TypeError, ValueError, IndexError, KeyError):  # a literal that is no number
            pass
    return _shipped(module, imported_defaults(module))


READERS = tuple(SOURCES)


def unread_frameworks(frameworks: Collection[str] | None = None) -> tuple[str, ...]:
    """The frameworks whose Adam defaults were asked for but are not installed here."""
    return tuple(m for m in READERS if (frameworks is None or m in frameworks)
                 and not find_spec(m))


def shipped_adam_defaults(frameworks: Collection[str] | None = None) -> tuple[Shipped, ...]:
    """Adam's defaults in every installed framework (the module must import), or only in
    ``frameworks`` (module names: torch, optax, keras, mlx)."""
    return tuple(read_adam_defaults(module) for module in READERS
                 if (frameworks is None or module in frameworks) and find_spec(module))


@dataclass(frozen=True)
class ApiCheck:
    exists: bool | None  # None: the package is not installed
    detail: str


@dataclass(frozen=True)
class ApiQuery:
    """One ``check_api`` question, as data: a worker process that has the package imported
    already answers it there (``auditing/batch.py``)."""

    target: str
    args: int = 0
    kwargs: tuple[str, ...] = ()
    call: bool = False

    @property
    def packages(self) -> tuple[str, ...]:
        return (self.target.split(".")[0],)

    def answer(self) -> ApiCheck:
        return check_api(self.target, self.args, self.kwargs, self.call)


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
