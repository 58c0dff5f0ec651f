"""Objectives as data: ``derivations/problems/*.toml`` loaded into a ``Problem``."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from .. import paths
from ..errors import InputError, unknown
from ..tomlfile import decimal_text, field, read_toml
from .evaluate import unsupported
from .expr import parse_expr, parse_number

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_PARAMS = 64
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Problem:
    """A differentiable objective: parameters, exact loss expression (data folded in), start."""

    name: str
    title: str
    params: tuple[str, ...]
    loss: sp.Expr
    init: tuple[sp.Rational, ...]
    data: tuple[tuple[str, tuple[sp.Rational, ...]], ...] = ()
    rows: tuple[tuple[str, tuple[sp.Expr, ...]], ...] = ()
    source: str = ""
    phases: tuple[sp.Expr, ...] = ()  # online: at step t the loss is phases[t % len(phases)]
    domain: tuple[tuple[sp.Rational, sp.Rational], ...] = ()  # box constraint, per parameter

    @property
    def online(self) -> bool:
        return bool(self.phases)

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(sp.Symbol(p, real=True) for p in self.params)

    @property
    def init_text(self) -> tuple[str, ...]:
        return tuple(rational_text(v) for v in self.init)

    def with_init(self, init: tuple[sp.Rational, ...]) -> Problem:
        if len(init) != len(self.params):
            raise InputError(f"init needs {len(self.params)} values ({', '.join(self.params)}), "
                             f"got {len(init)}")
        return dataclasses.replace(self, init=tuple(init))


def rational_text(value: sp.Rational) -> str:
    """Exact decimal text of a rational with a terminating expansion, else ``p/q``."""
    value = sp.Rational(value)
    p, q = value.p, value.q
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        return f"{value.p}/{value.q}"
    places = max(twos, fives)
    scaled = abs(p) * 10**places // value.q
    digits = str(scaled).rjust(places + 1, "0")
    text = digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")
    return ("-" if p < 0 else "") + text


def load_problem(path: Path) -> Problem:
    """Load and validate one problem file."""
    where = str(path)
    doc = read_toml(path)
    name = field(doc, "name", str, where)
    if not NAME_RE.match(name):
        raise InputError(f"field 'name' must be an identifier, got {name!r}", where=where)
    title = field(doc, "title", str, where, default=name)
    params = field(doc, "params", list, where)
    if not params or len(params) > MAX_PARAMS:
        raise InputError(f"field 'params' must list 1 to {MAX_PARAMS} names", where=where)
    for p in params:
        if not isinstance(p, str) or not NAME_RE.match(p):
            raise InputError(f"field 'params' has an invalid name {p!r}", where=where)
    if len(set(params)) != len(params):
        raise InputError("field 'params' repeats a name", where=where)
    data = _load_data(field(doc, "data", dict, where, default={}), params, where)
    names = {p: sp.Symbol(p, real=True) for p in params}
    constants = field(doc, "constants", dict, where, default={})
    for key, value in constants.items():
        if not NAME_RE.match(key) or key in names or key in data:
            raise InputError(f"constant {key!r} is not a fresh identifier", where=f"{where}: constants")
        names[key] = parse_number(decimal_text(value, f"{where}: constants.{key}"),
                                  where=f"{where}: constants.{key}")
    phases = tuple(parse_expr(text, names, data, where=f"{where}: phases[{k}]")
                   for k, text in enumerate(_strings(doc, "phases", where)))
    if phases and "loss" in doc:
        raise InputError("give either 'loss' or 'phases' (whose average is the loss)", where=where)
    loss = (sp.Add(*phases) / len(phases) if phases else
            parse_expr(field(doc, "loss", str, where), names, data, where=f"{where}: loss"))
    extra = loss.free_symbols - {names[p] for p in params}
    if extra:
        raise InputError(f"loss uses undeclared symbols {sorted(map(str, extra))}", where=where)
    _check_evaluable(loss, phases, names, params, where)
    domain = _load_domain(field(doc, "domain", dict, where, default={}), params, where)
    rows = []
    for key, text in field(doc, "rows", dict, where, default={}).items():
        if not data:
            raise InputError("table 'rows' needs data columns", where=where)
        if not NAME_RE.match(key):
            raise InputError(f"row output name {key!r} is not an identifier", where=where)
        w = f"{where}: rows.{key}"
        rows.append((key, _row_expressions(field({key: text}, key, str, w), names, data, w)))
        why = unsupported(sp.Add(*rows[-1][1]), [names[p] for p in params])
        if why:
            raise InputError(f"cannot be evaluated numerically ({why})", where=w)
    init_table = field(doc, "init", dict, where)
    missing = [p for p in params if p not in init_table]
    unknown = [k for k in init_table if k not in params]
    if missing or unknown:
        raise InputError(f"field 'init' must give exactly {params}; missing {missing}, "
                         f"unknown {unknown}", where=where)
    init = tuple(parse_number(decimal_text(init_table[p], f"{where}: init.{p}"),
                              where=f"{where}: init.{p}") for p in params)
    for (lo, hi), x0, p in zip(domain, init, params, strict=False):
        if not lo <= x0 <= hi:
            raise InputError(f"init.{p} = {x0} lies outside the domain [{lo}, {hi}]", where=where)
    return Problem(name, title, tuple(params), loss, init, tuple(data.items()), tuple(rows), where,
                   phases, domain)


def _check_evaluable(loss: sp.Expr, phases: tuple, names: dict, params: list | tuple,
                     where: str) -> None:
    """The numeric engines evaluate the loss, each phase and their gradients: refuse, before any
    run, what none of them can evaluate (sign(w) from abs, the imaginary unit, x**(1/3))."""
    symbols = [names[p] for p in params]
    for label, expr in (("loss", loss), *((f"phases[{k}]", f) for k, f in enumerate(phases))):
        for what, e in ((label, expr), *((f"∂{label}/∂{p}", sp.diff(expr, names[p]))
                                         for p in params)):
            why = unsupported(e, symbols)
            if why:
                raise InputError(f"{what} cannot be evaluated numerically ({why}): the engines "
                                 "evaluate + − × ÷, integer and half-integer powers, sqrt, exp, "
                                 "log, sin, cos and tanh (abs(u) only where u's gradient "
                                 "vanishes: d|u| = sign(u) du)", where=where)


def _strings(doc: dict, key: str, where: str) -> list[str]:
    items = field(doc, key, list, where, default=[])
    if len(items) > 100 or not all(isinstance(x, str) for x in items):
        raise InputError(f"field {key!r} must be a list of at most 100 expression strings",
                         where=where)
    return items


def _load_domain(table: dict, params: list[str], where: str) -> tuple:
    if not table:
        return ()
    if set(table) != set(params):
        raise InputError(f"table 'domain' must bound every parameter {params}", where=where)
    out = []
    for p in params:
        w = f"{where}: domain.{p}"
        pair = table[p]
        if not isinstance(pair, list) or len(pair) != 2:
            raise InputError("must be [low, high]", where=w)
        lo, hi = (parse_number(decimal_text(v, w), where=w) for v in pair)
        if not lo < hi:
            raise InputError(f"low {lo} must be below high {hi}", where=w)
        out.append((lo, hi))
    return tuple(out)


def _load_data(table: dict, params: list[str], where: str) -> dict[str, tuple[sp.Rational, ...]]:
    data: dict[str, tuple[sp.Rational, ...]] = {}
    for key, column in table.items():
        w = f"{where}: data.{key}"
        if not NAME_RE.match(key) or key in params:
            raise InputError("data column name must be a fresh identifier", where=w)
        if not isinstance(column, list) or not column or len(column) > MAX_ROWS:
            raise InputError(f"must be a list of 1 to {MAX_ROWS} numbers", where=w)
        data[key] = tuple(parse_number(decimal_text(v, w), where=w) for v in column)
    lengths = {len(c) for c in data.values()}
    if len(lengths) > 1:
        raise InputError(f"data columns differ in length: {sorted(lengths)}", where=where)
    return data


def _row_expressions(text: str, names: dict, data: dict, where: str) -> tuple[sp.Expr, ...]:
    rows = len(next(iter(data.values())))
    out = []
    for i in range(rows):
        row_data = {k: (col[i],) for k, col in data.items()}
        out.append(parse_expr(f"sum({text})", names, row_data, where=where))
    return tuple(out)


def problem_path(name: str) -> Path:
    """The bundled problem file for ``name``, or the path itself if it names a TOML file."""
    candidate = Path(name)
    if candidate.suffix == ".toml":
        return candidate
    if not NAME_RE.match(name):
        raise InputError(f"unknown problem {name!r}")
    path = paths.PROBLEMS / f"{name}.toml"
    if not path.exists():
        raise InputError(unknown("problem", name, available_problems()))
    return path


def find_problem(name: str) -> Problem:
    """A problem by catalogue name or by path to a TOML file."""
    return load_problem(problem_path(name))


def available_problems() -> list[str]:
    return sorted(p.stem for p in paths.PROBLEMS.glob("*.toml"))
