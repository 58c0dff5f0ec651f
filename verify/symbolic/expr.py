"""Parse expression strings into SymPy without eval: an AST whitelist of arithmetic.

Allowed: decimal and integer literals (kept exact), declared names, + - * / **, unary minus,
parentheses, a short list of functions (and ``max`` of two terms), and ``mean(...)`` /
``sum(...)`` over data columns.
Everything else (attributes, subscripts, lambdas, comprehensions, keywords, strings) is refused.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence

import sympy as sp

from ..errors import InputError

MAX_LENGTH = 20_000
MAX_DEPTH = 200
MAX_INT_EXPONENT = 64
MAX_POWER = 4096  # after SymPy merges powers: (w**64)**64 is w**4096
MAX_DIGITS = 4000  # Python prints integers of at most 4300 digits; the toolkit prints every number
_TOO_BIG = 10**MAX_DIGITS

FUNCTIONS = {
    "sqrt": sp.sqrt,
    "exp": sp.exp,
    "log": sp.log,
    "sin": sp.sin,
    "cos": sp.cos,
    "tanh": sp.tanh,
    "abs": sp.Abs,
}
REDUCTIONS = ("mean", "sum")

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def parse_number(text: str, *, where: str | None = None) -> sp.Rational:
    """An exact rational from a decimal string such as ``"1e-8"`` or ``"-0.25"`` (no floats)."""
    if not isinstance(text, str):
        raise InputError(f"expected a decimal string, got {type(text).__name__}", where=where)
    s = text.strip()
    if not s or len(s) > 200:
        raise InputError(f"not a decimal number: {text!r}", where=where)
    try:
        node = ast.parse(s, mode="eval").body
    except SyntaxError:
        raise InputError(f"not a decimal number: {text!r}", where=where) from None
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if not (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
        raise InputError(f"not a decimal number: {text!r}", where=where)
    literal = s.lstrip("+-").strip()
    return sign * _exact_literal(literal, where)


_DECIMAL = re.compile(r"^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?$")


def _exact_literal(literal: str, where: str | None) -> sp.Rational:
    if not _DECIMAL.match(literal):
        raise InputError(f"not a plain decimal number: {literal!r}", where=where)
    mantissa, _, exponent = literal.lower().partition("e")
    if exponent and abs(int(exponent)) > 400:
        raise InputError(f"exponent out of range in {literal!r}", where=where)
    whole, _, frac = mantissa.partition(".")
    digits = (whole or "0") + frac
    value = sp.Rational(int(digits), 10 ** len(frac))
    if exponent:
        value *= sp.Rational(10) ** int(exponent)
    return value


class _Builder:
    def __init__(self, source: str, names: Mapping[str, sp.Symbol],
                 data: Mapping[str, Sequence[sp.Rational]], where: str | None,
                 exponents: Sequence[sp.Symbol] = ()):
        self.exponents = tuple(exponents)
        self.source = source
        self.names = names
        self.data = data
        self.where = where
        self.data_symbols = {k: sp.Symbol(f"__data_{k}") for k in data}
        self.in_reduction = False

    def fail(self, message: str) -> InputError:
        return InputError(f"{message} in expression {self.source!r}", where=self.where)

    def build(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise self.fail("expression nested too deeply")
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                raise self.fail(f"literal {node.value!r} is not a number")
            text = ast.get_source_segment(self.source, node)
            return _exact_literal(text, self.where)
        if isinstance(node, ast.Name):
            written = ast.get_source_segment(self.source, node)
            if written != node.id:  # Python folds 𝑤 and ｗ into w (NFKC); a loss must not
                raise self.fail(f"name {written!r} is not plain ASCII")
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Pow):
                self.check_power(left, right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise self.fail("division by zero")
            return self.sized(_BINOPS[type(node.op)](left, right))
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.fail(f"{type(node).__name__} is not allowed")

    def sized(self, value: sp.Expr) -> sp.Expr:
        """``value``, unless it is a number too long to print (1e400**64 has 25,601 digits)."""
        if value.is_Rational and (abs(value.p) >= _TOO_BIG or value.q >= _TOO_BIG):
            raise self.fail(f"a number in it has more than {MAX_DIGITS} digits")
        return value

    def name(self, ident: str) -> sp.Expr:
        if ident in self.names:
            return self.names[ident]
        if ident in self.data:
            if not self.in_reduction:
                raise self.fail(f"data column {ident!r} used outside mean()/sum()")
            return self.data_symbols[ident]
        if ident == "pi":
            return sp.pi
        raise self.fail(f"unknown name {ident!r}")

    def check_power(self, base: sp.Expr, exponent: sp.Expr) -> None:
        if exponent.is_number and (not exponent.is_rational or abs(exponent) > MAX_INT_EXPONENT):
            raise self.fail(f"exponent {exponent} not allowed (rational, at most {MAX_INT_EXPONENT})")
        if not exponent.is_number and exponent not in self.exponents:
            raise self.fail("exponent must be a number")
        if base == 0 and exponent < 0:
            raise self.fail("division by zero")

    def call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only plain function names may be called")
        fname = node.func.id
        if fname == "max" and len(node.args) == 2 and not node.keywords and not any(
                isinstance(a, ast.Starred) for a in node.args):  # AdaMax's u_t
            return sp.Max(*(self.build(a, depth + 1) for a in node.args))
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise self.fail(f"{fname}() takes exactly one positional argument")
        if fname in REDUCTIONS:
            return self.reduction(fname, node.args[0], depth)
        if fname not in FUNCTIONS:
            raise self.fail(f"unknown function {fname!r}")
        return FUNCTIONS[fname](self.build(node.args[0], depth + 1))

    def reduction(self, fname: str, arg: ast.AST, depth: int) -> sp.Expr:
        if self.in_reduction:
            raise self.fail(f"nested {fname}() is not allowed")
        if not self.data:
            raise self.fail(f"{fname}() needs data columns")
        self.in_reduction = True
        try:
            inner = self.build(arg, depth + 1)
        finally:
            self.in_reduction = False
        rows = len(next(iter(self.data.values())))
        terms = [inner.xreplace({self.data_symbols[k]: col[i] for k, col in self.data.items()})
                 for i in range(rows)]
        total = sp.Add(*terms)
        return total / rows if fname == "mean" else total


def _head(source: str, width: int = 60) -> str:
    return repr(source if len(source) <= width else source[:width] + "…")


def parse_expr(source: str, names: Mapping[str, sp.Symbol],
               data: Mapping[str, Sequence[sp.Rational]] | None = None,
               *, where: str | None = None, exponents: Sequence[sp.Symbol] = ()) -> sp.Expr:
    """Build a SymPy expression from ``source``; only ``names`` (and ``data`` in reductions).
    ``exponents``: symbols allowed as exponents (a step counter t in β^t); else only numbers."""
    if not isinstance(source, str):
        raise InputError(f"expression must be a string, got {type(source).__name__}", where=where)
    if len(source) > MAX_LENGTH:
        raise InputError(f"expression longer than {MAX_LENGTH} characters", where=where)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"cannot parse expression {source!r}: {exc.msg if hasattr(exc, 'msg') else exc}",
                         where=where) from None
    except (RecursionError, MemoryError):  # w+w+…+w, a few thousand terms: Python's parser gives up
        raise InputError(f"expression nested too deeply: {_head(source)}", where=where) from None
    builder = _Builder(source.strip(), names, data or {}, where, exponents)
    expr = builder.build(tree.body)
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise builder.fail("expression is not finite")
    for number in expr.atoms(sp.Rational):  # data substituted into mean()/sum() included
        builder.sized(number)
    for power in expr.atoms(sp.Pow):
        if power.exp.is_Number and abs(power.exp) > MAX_POWER:
            raise builder.fail(f"exponent {power.exp} (after merging powers) exceeds {MAX_POWER}")
    return expr
