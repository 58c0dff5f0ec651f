"""Check a document's code example without running it.

The block is parsed (``ast``, never executed); every imported name is resolved against the
installed packages, every call is followed to the object it names and its arguments are bound to
that object's real signature (``inspect.signature(...).bind``). Values are tracked just enough to
follow ``x = Cls(...)`` to ``x.method(...)``: calling a class gives an instance of it, a class
defined in the block is read from its ``ast``. What cannot be resolved (a package that is not
installed, an attribute set only at run time) is reported as unresolved, never as a failure.
Importing an installed package runs that package's own import code, not the document's.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
from dataclasses import dataclass
from typing import Any

from .codevalues import (
    ImportFailed,
    Instance,
    Method,
    Obj,
    Property,
    Unknown,
    UserClass,
    UserInstance,
    load_module,
    missing_on_instance,
    returned_class,
    signature_of_def,
)

OK, FAILS, UNRESOLVED = "binds", "fails", "unresolved"
# a layer whose documentation says it returns several arrays (e.g. mlx.nn.LSTM: "The layer
# returns two arrays, the hidden state and the cell state")
_RETURNS_TUPLE = re.compile(r"\breturns? (two|three|a tuple|a pair)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """One imported name or call: where, what it resolved to, and whether it binds."""

    line: int
    text: str
    target: str
    status: str  # binds | fails | unresolved
    detail: str


@dataclass(frozen=True)
class CodeCheck:
    findings: tuple[Finding, ...]
    undefined: tuple[str, ...] = ()  # names the block uses but never defines or imports
    aliases: tuple[tuple[str, str], ...] = ()  # module substitutions the caller asked for
    import_failed: bool = False  # an installed module could not be imported (a missing dependency)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.findings)


class _Walker:
    def __init__(self, source: str, aliases: dict[str, str]):
        self.source = source
        self.aliases = aliases
        self.findings: list[Finding] = []
        self.undefined: dict[str, None] = {}
        self.import_failed = False  # a module that exists could not be imported here

    def imp(self, name: str) -> tuple[Any, str]:
        """``load_module``, noting a module that exists but cannot be imported here."""
        try:
            return load_module(name, self.aliases)
        except ImportFailed:
            self.import_failed = True
            raise

    # --- statements ---------------------------------------------------------------------
    def block(self, body: list[ast.stmt], env: dict[str, Any]) -> None:
        for node in body:
            self.statement(node, env)

    def statement(self, node: ast.stmt, env: dict[str, Any]) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.import_module(node, alias, env)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                self.import_from(node, alias, env)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            value = self.value(node.value, env) if node.value is not None else Unknown("")
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                self.bind(t, value, env)
        elif isinstance(node, ast.ClassDef):
            self.class_def(node, env)
        elif isinstance(node, ast.FunctionDef):
            env[node.name] = Unknown(f"function {node.name} defined in the block")
            inner = dict(env) | {a.arg: Unknown("a parameter") for a in node.args.args}
            self.block(node.body, inner)
        elif isinstance(node, ast.For):
            self.value(node.iter, env)
            self.bind(node.target, Unknown("a loop variable"), env)
            self.block(node.body + node.orelse, env)
        elif isinstance(node, ast.With):
            for item in node.items:
                self.value(item.context_expr, env)
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, Unknown("a with target"), env)
            self.block(node.body, env)
        elif isinstance(node, ast.If | ast.While):
            self.value(node.test, env)
            self.block(node.body + node.orelse, env)
        elif isinstance(node, ast.Expr | ast.Return) and node.value is not None:
            self.value(node.value, env)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.value(child, env)

    def bind(self, target: ast.expr, value: Any, env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            for t in target.elts:
                self.bind(t, Unknown("unpacked from a tuple"), env)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner = env.get(target.value.id)
            if isinstance(owner, UserInstance):
                owner.cls.attrs[target.attr] = value

    def import_module(self, node: ast.stmt, alias: ast.alias, env: dict[str, Any]) -> None:
        text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        try:
            module, real = self.imp(alias.name)
        except LookupError as exc:
            self.add(node, text, alias.name, UNRESOLVED, str(exc))
            value: Any = Unknown(str(exc))
        except KeyError as exc:
            self.add(node, text, alias.name, FAILS, str(exc.args[0]))
            value = Unknown(str(exc.args[0]))
        else:
            self.add(node, text, real, OK, "module found")
            value = Obj(module, real)
        if alias.asname:
            env[alias.asname] = value
        else:
            top = alias.name.split(".")[0]
            try:
                env[top] = Obj(self.imp(top)[0], top)
            except (LookupError, KeyError) as exc:
                env[top] = Unknown(str(exc))

    def import_from(self, node: ast.ImportFrom, alias: ast.alias, env: dict[str, Any]) -> None:
        base = node.module or ""
        text = f"from {base} import {alias.name}"
        name = alias.asname or alias.name
        try:
            module, real = self.imp(base)
        except (LookupError, KeyError) as exc:
            status = FAILS if isinstance(exc, KeyError) else UNRESOLVED
            self.add(node, text, base, status, str(exc.args[0]))
            env[name] = Unknown(str(exc.args[0]))
            return
        if hasattr(module, alias.name):
            env[name] = Obj(getattr(module, alias.name), f"{real}.{alias.name}")
            self.add(node, text, f"{real}.{alias.name}", OK, "name found")
            return
        try:
            sub, subname = self.imp(f"{base}.{alias.name}")
        except KeyError:
            self.add(node, text, f"{real}.{alias.name}", FAILS,
                     f"{real} has no attribute or submodule {alias.name!r}")
            env[name] = Unknown("missing")
            return
        except LookupError as exc:  # the submodule exists but cannot be imported here
            self.add(node, text, f"{real}.{alias.name}", UNRESOLVED, str(exc))
            env[name] = Unknown(str(exc))
            return
        env[name] = Obj(sub, subname)
        self.add(node, text, subname, OK, "module found")

    def class_def(self, node: ast.ClassDef, env: dict[str, Any]) -> None:
        cls = UserClass(node.name, node, [self.value(b, env) for b in node.bases])
        env[node.name] = cls
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                inner = dict(env) | {a.arg: Unknown("a parameter") for a in item.args.args}
                if item.args.args:
                    inner[item.args.args[0].arg] = UserInstance(cls)
                self.block(item.body, inner)

    # --- expressions --------------------------------------------------------------------
    def value(self, node: ast.expr, env: dict[str, Any]) -> Any:
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if hasattr(builtins, node.id):
                return Obj(getattr(builtins, node.id), node.id)
            self.undefined.setdefault(node.id)
            return Unknown(f"{node.id} is not defined in the block")
        if isinstance(node, ast.Attribute):
            return self.attribute(self.value(node.value, env), node.attr)
        if isinstance(node, ast.Call):
            return self.call(node, env)
        for child in ast.iter_child_nodes(node):  # subscripts, f-strings, operators, …
            if isinstance(child, ast.expr):
                self.value(child, env)
        return Unknown("an expression")

    def attribute(self, owner: Any, attr: str) -> Any:
        if isinstance(owner, Obj):
            if hasattr(owner.obj, attr):
                return Obj(getattr(owner.obj, attr), f"{owner.name}.{attr}")
            if inspect.ismodule(owner.obj):
                try:
                    sub, name = self.imp(f"{owner.name}.{attr}")
                    return Obj(sub, name)
                except KeyError:
                    pass
                except LookupError as exc:  # the submodule exists but cannot be imported here
                    return Unknown(str(exc))
            return Unknown(f"{owner.name} has no attribute {attr!r}|missing")
        if isinstance(owner, Instance):
            try:
                found = inspect.getattr_static(owner.cls, attr)
            except AttributeError:
                return Unknown(missing_on_instance(owner, attr))
            if isinstance(found, property):
                return Property(f"{owner.name}.{attr}")
            if inspect.isfunction(found):
                return Method(found, f"{owner.name}.{attr}")
            return Obj(getattr(owner.cls, attr), f"{owner.name}.{attr}")
        if isinstance(owner, UserInstance):
            cls = owner.cls
            if attr in cls.attrs:
                return cls.attrs[attr]
            if cls.method(attr) is not None:
                return Unknown(f"method {attr} defined in the block")
            for base in cls.bases:
                if isinstance(base, Obj) and inspect.isclass(base.obj):
                    return self.attribute(Instance(base.obj, base.name), attr)
            return Unknown(f"{cls.name} has no attribute {attr!r} known statically")
        return Unknown("an attribute of an unresolved value")

    def call(self, node: ast.Call, env: dict[str, Any]) -> Any:
        fn = self.value(node.func, env)
        args = [self.value(a, env) for a in node.args]
        for k in node.keywords:
            self.value(k.value, env)
        text = ast.get_source_segment(self.source, node) or ast.unparse(node)
        text = " ".join(text.split())
        starred = any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords)
        n_args, names = len(node.args), [k.arg for k in node.keywords if k.arg]
        if isinstance(fn, Unknown):
            missing = fn.why.endswith("|missing")
            self.add(node, text, "", FAILS if missing else UNRESOLVED, fn.why.removesuffix("|missing"))
            return Unknown("the result of an unresolved call")
        if isinstance(fn, Property):
            self.add(node, text, fn.name, FAILS, f"{fn.name} is a property, not a method: it "
                                                 "cannot be called")
            return Unknown("a property's value")
        if isinstance(fn, UserClass):
            init = fn.method("__init__")
            if init is not None:
                self.bind_check(node, text, fn.name, signature_of_def(init, True), n_args, names,
                                starred)
            return UserInstance(fn)
        if isinstance(fn, UserInstance):
            return Unknown("the result of calling a model defined in the block")
        returns = None
        if isinstance(fn, Instance):  # calling an object: its class's __call__
            call = inspect.getattr_static(fn.cls, "__call__", None)
            if not inspect.isfunction(call):
                self.add(node, text, fn.name, UNRESOLVED, f"{fn.name} instances: no __call__ "
                                                           "found statically")
                return Unknown("a call's result")
            forward = inspect.getattr_static(fn.cls, "forward", None)  # torch.nn modules
            returns = returned_class(call) or (returned_class(forward) if inspect.isfunction(forward)
                                         else None)
            fn = Method(call, f"{fn.name}.__call__")
        target = fn.func if isinstance(fn, Method) else fn.obj
        name = fn.name
        try:
            sig = inspect.signature(target)
        except (TypeError, ValueError):
            self.add(node, text, name, UNRESOLVED, "no signature available")
            return Unknown("no signature")
        if isinstance(fn, Method):
            params = list(sig.parameters.values())
            sig = sig.replace(parameters=params[1:]) if params else sig
        self.bind_check(node, text, name, sig, n_args, names, starred)
        if isinstance(fn, Obj) and inspect.isclass(fn.obj):
            self.sequential(node, fn, args)
            return Instance(fn.obj, fn.name)
        returns = returns or returned_class(target)
        if returns is not None:
            return Instance(returns, f"{returns.__module__}.{returns.__qualname__}")
        return Unknown("a call's result")

    def bind_check(self, node: ast.AST, text: str, name: str, sig: inspect.Signature,
                   n_args: int, names: list[str], starred: bool) -> None:
        try:
            if starred:  # *args / **kwargs at the call: only the named keywords are checked
                accepts_any = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
                bad = [k for k in names if k not in sig.parameters and not accepts_any]
                if bad:
                    raise TypeError(f"got an unexpected keyword argument {bad[0]!r}")
            else:
                sig.bind(*([None] * n_args), **dict.fromkeys(names))
        except TypeError as exc:
            self.add(node, text, name, FAILS, f"{name}{_short(sig)} rejects the call: {exc}")
            return
        self.add(node, text, name, OK, f"{name}{_short(sig)} accepts the call")

    def sequential(self, node: ast.Call, fn: Obj, args: list[Any]) -> None:
        """A container that feeds each layer's output to the next: flag a layer documented to
        return several arrays that is followed by another layer."""
        if not fn.name.endswith("Sequential"):
            return
        for k, layer in enumerate(args[:-1]):
            if isinstance(layer, Instance):
                doc = inspect.getdoc(layer.cls) or ""
                m = _RETURNS_TUPLE.search(doc)
                if m:
                    sentence = doc[m.start():].split(".")[0]
                    self.add(node, f"{fn.name.split('.')[-1]}(… {layer.name.split('.')[-1]}, …)",
                             layer.name, FAILS,
                             f"{layer.name} {sentence} (its documentation), but {fn.name} "
                             f"passes its output as the input of layer {k + 2}")

    def add(self, node: ast.AST, text: str, target: str, status: str, detail: str) -> None:
        self.findings.append(Finding(getattr(node, "lineno", 0), text, target, status,
                                     " ".join(detail.split())))


def _short(sig: inspect.Signature, limit: int = 90) -> str:
    text = str(sig)
    return text if len(text) <= limit else text[: limit - 2] + "…)"


@dataclass(frozen=True)
class CodeQuery:
    """One ``check_code`` question, as data: a worker process that has the block's framework
    imported already answers it there (``auditing/batch.py``)."""

    source: str
    aliases: tuple[tuple[str, str], ...] = ()

    @property
    def packages(self) -> tuple[str, ...]:
        """The top-level packages the block imports, aliases applied."""
        try:
            tree = ast.parse(self.source)
        except SyntaxError:
            return ()
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree)
                  if isinstance(n, ast.ImportFrom) and n.module and not n.level]
        out = []
        for name in names:
            for old, new in self.aliases:
                if name == old or name.startswith(old + "."):
                    name = new + name[len(old):]
            out.append(name.split(".")[0])
        return tuple(dict.fromkeys(out))

    def answer(self) -> CodeCheck:
        return check_code(self.source, dict(self.aliases))


def check_code(source: str, aliases: dict[str, str] | None = None) -> CodeCheck:
    """Every import and call of ``source`` resolved and bound (nothing is executed)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return CodeCheck((Finding(exc.lineno or 0, (exc.text or "").strip(), "", FAILS,
                                  f"not valid Python: {exc.msg}"),))
    walker = _Walker(source, dict(aliases or {}))
    walker.block(tree.body, {})
    return CodeCheck(tuple(walker.findings), tuple(walker.undefined),
                     tuple(sorted((aliases or {}).items())), walker.import_failed)
