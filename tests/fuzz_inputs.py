"""Hypothesis strategies for the fuzz tests: problem files (losses from a grammar with hostile
tokens), claims files (valid claims of every kind, then mutated), byte-level damage, and a
small TOML writer. Shared by ``test_fuzz_files.py`` and ``test_fuzz_cli.py``."""

import json
import string

from hypothesis import strategies as st

# --- a TOML writer for generated values ---------------------------------------------------


def toml_value(v) -> str:
    """TOML text of a generated value (strings keep non-ASCII characters as they are)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)  # TOML spells inf and nan as Python does
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def toml_doc(top: dict, tables: dict[str, dict] | None = None,
             arrays: dict[str, list[dict]] | None = None) -> str:
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in top.items()]
    for name, table in (tables or {}).items():
        lines.append(f"[{name}]")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    for name, items in (arrays or {}).items():
        for item in items:
            lines.append(f"[[{name}]]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


# --- values of the wrong type, and hostile strings ------------------------------------------

HOSTILE_TEXT = [
    "", " ", "nan", "inf", "-inf", "1e999", "1e-999", "0x1f", "1_000", "--1", "+-1", "1/0",
    "0.1.2", "٣", "１", "1e400", "-0", "9" * 300, "__import__('os').system('true')",
    "os.system", "eval('1')", "open('/etc/passwd')", "lambda: 1", "[w][0]", "w.real",
    "'w'", "w if b else w", "𝑤", "ｗ", "w\u200b", "\u202ew", "w\x00", "w\n+ b", "\t",
    "../../etc/passwd", "/dev/zero", "C:\\x", "a" * 2000, "💥", "\ud7ff", "${HOME}", "%s%n",
]
wrong_typed = st.one_of(
    st.integers(-10**20, 10**20), st.floats(), st.booleans(),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=4),
                    st.one_of(st.integers(-5, 5), st.text(max_size=3)), max_size=2),
)
hostile_string = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=12))

# --- loss expressions: a grammar over the declared names, plus hostile tokens ---------------

NAMES = ["w", "b"]  # the parameters of generated problems
ATOMS = NAMES + ["x", "y", "c", "k", "pi", "2", "0.5", "3", "0", "1e-8", "64", "65", "1e400",
                 "1e-400", "-1", "N"]
FUNCS = ["sqrt", "exp", "log", "sin", "cos", "tanh", "abs", "mean", "sum", "max", "eval",
         "__import__", "getattr"]
HOSTILE_EXPR = ["__import__('os')", "w.real", "[w][0]", "lambda: w", "'w'", "w if b else w",
                "𝑤", "ｗ", "w\u200b", "w\x00", "1j", "0x10", "1_0", "w;b", "w@b", "w<b", "(",
                ")", "**", "*", "9**9**9", "1e400**64", "2**(1e400**64)", "exp(exp(exp(w)))",
                "sqrt(-1)", "log(0)", "log(-1)", "1/(w-w)", "mean(mean(x))", "sum(w)", "w**w",
                "w**0.5", "(-8)**(1/3)", "abs(w)**-1", "(w+b)**64**64", "x", "mean(x*y)",
                "-" * 300 + "w", "(" * 250 + "w" + ")" * 250, "w" + "+w" * 7000]


def _binary(t):
    a, op, b = t
    return f"({a}){op}({b})"


VALID_ATOMS = ["w", "b", "c", "k", "pi", "2", "0.5", "3", "0", "1e-8", "64", "1e400", "1e-400",
               "-1", "mean(x*w)", "sum((y - w*x - b)**2)"]
atoms = st.one_of(st.sampled_from(VALID_ATOMS), st.sampled_from(VALID_ATOMS),
                  st.sampled_from(VALID_ATOMS), st.sampled_from(ATOMS + HOSTILE_EXPR))
expressions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "+", "*", "**", " ", "//"]),
                  inner).map(_binary),
        st.tuples(st.sampled_from(FUNCS[:7] + FUNCS), inner).map(lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda s: f"-({s})"),
    ),
    max_leaves=6,
)


@st.composite
def damaged_text(draw, text: str) -> str:
    """``text`` with one edit: a token inserted, a span deleted, or a character replaced."""
    op = draw(st.sampled_from(["insert", "delete", "replace", "keep"]))
    if op == "keep" or not text:
        return text
    i = draw(st.integers(0, len(text)))
    if op == "insert":
        return text[:i] + draw(st.sampled_from(HOSTILE_EXPR + ["(", ")", "**"])) + text[i:]
    j = draw(st.integers(i, min(len(text), i + 4)))
    if op == "delete":
        return text[:i] + text[j:]
    return text[:i] + draw(st.characters()) + text[i + 1:]


# --- problem files ---------------------------------------------------------------------------

numbers = st.one_of(st.sampled_from(["0", "1", "-2", "0.5", "1e-8", "3", "1e400", "-1e-400"]),
                    st.integers(-100, 100), hostile_string, wrong_typed)


good_numbers = st.sampled_from(["0", "1", "-2", "0.5", "1e-8", "3", "1e400", "-1e-400", "0.25"])
numbers = st.one_of(good_numbers, good_numbers, st.integers(-100, 100), hostile_string,
                    wrong_typed)


@st.composite
def problem_docs(draw) -> str:
    """A problem TOML: a well-formed problem (parameters w, b; a loss from the grammar; constants,
    data, rows, init, maybe a domain), then up to three fields replaced by hostile strings,
    numbers or values of the wrong type, or dropped."""
    top = {"name": "fuzzed", "params": ["w", "b"]}
    if draw(st.integers(0, 3)):
        top["loss"] = draw(expressions)
    else:
        top["phases"] = draw(st.lists(expressions, min_size=1, max_size=3))
    tables = {"constants": {"c": draw(good_numbers), "k": draw(good_numbers)},
              "data": {"x": ["1", "2", "3"], "y": ["2", "4", draw(good_numbers)]},
              "init": {"w": draw(good_numbers), "b": draw(good_numbers)}}
    if draw(st.booleans()):
        tables["rows"] = {"pred": draw(st.sampled_from(["w*x + b", "y - w*x"]))}
    if draw(st.booleans()):
        tables["domain"] = {"w": ["-1e400", "1e400"], "b": [draw(good_numbers), "1e400"]}
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["top", "constants", "data", "init", "domain", "rows"]))
        table = top if where == "top" else tables.setdefault(where, {})
        key = draw(st.sampled_from(sorted(table) + ["params", "loss", "phases", "title", "w",
                                                    "b", "c", "x", "zz", "1c", "pi"]))
        op = draw(st.sampled_from(["drop", "value", "expr", "list"]))
        if op == "drop":
            table.pop(key, None)
        elif op == "value":
            table[key] = draw(numbers)
        elif op == "expr":
            table[key] = draw(st.one_of(expressions, expressions.flatmap(damaged_text)))
        else:
            table[key] = draw(st.lists(st.one_of(numbers, expressions), max_size=4))
    return toml_doc(top, tables)


@st.composite
def byte_damage(draw, data: bytes) -> bytes:
    """``data`` with one to three byte-level edits: bit flips, truncation, deletion, insertion
    of random bytes, a duplicated line."""
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "truncate", "delete", "insert", "dup"]))
        if not data:
            data = draw(st.binary(max_size=8))
            continue
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data = data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1:]
        elif op == "truncate":
            data = data[:i]
        elif op == "delete":
            data = data[:i] + data[i + draw(st.integers(1, 16)):]
        elif op == "insert":
            data = data[:i] + draw(st.binary(min_size=1, max_size=6)) + data[i:]
        else:
            lines = data.split(b"\n")
            k = draw(st.integers(0, len(lines) - 1))
            data = b"\n".join(lines[:k + 1] + lines[k:])
    return data


# --- claims files: a valid claim of each kind, then mutated ----------------------------------

COMMON = {"id": "c", "section": "s", "quote": "q"}
TEMPLATES = {
    "trace": {"golden": "linear_regression.gd", "step": 1, "quantity": "grad",
              "claimed": ["-44", "-12"]},
    "formula_rule": {"kind": "formula", "reference": "rule", "optimizer": "adam",
                     "quantity": "m_hat", "claimed": "m/(1 - beta1**t)"},
    "formula_gradient": {"kind": "formula", "reference": "gradient", "problem": "quartic",
                         "quantity": "theta", "claimed": "4*theta**3 - 9*theta**2"},
    "critical_points": {"problem": "quartic", "quantity": "minimum", "claimed": "1"},
    "default": {"optimizer": "adam", "quantity": "eps", "claimed": "1e-8"},
    "api": {"target": "numpy.linalg.norm", "args": 1, "kwargs": ["axis"], "call": True},
    "state": {"optimizer": "adam", "claimed": ["m", "v"]},
    "identity": {"identity": "first_step"},
    "experiment": {"experiment": "worked_example_curves"},
    "audit": {"impl": "nope", "optimizer": "adam", "expect": "adam", "problem": "probe"},
    "statement": {"reason": "a matter of taste"},
    "code": {"code": "import numpy as np\nx = np.linalg.norm([3.0, 4.0], axis=0)\n"},
    "reduction": {"optimizer": "adam-nobias", "equals": "momentum-zero",
                  "mapping": {"momentum": "beta1", "dampening": "beta1", "lr": "lr"},
                  "compare": [["m", "buf"]]},
    "literature": {"cites": "Nocedal & Wright (2006), §2.1", "says": "f(x*) ≤ f(x) near x*",
                   "verdict": "confirmed"},
    "metadata": {"package": "numpy", "contains": ["array"]},
}
OPTIONAL_FIELDS = ["assumption", "without", "counterexample", "at", "negates", "aliases",
                   "setting", "steps", "constants", "problem", "args", "kwargs", "call"]
FIELDS = sorted({k for t in TEMPLATES.values() for k in t} | set(COMMON) | {"kind"}
                | set(OPTIONAL_FIELDS))
# values a mutation may put in a field: the other templates' values, hostile strings,
# expressions, and values of the wrong type
field_values = st.one_of(st.sampled_from([v for t in TEMPLATES.values() for v in t.values()]),
                         hostile_string, expressions, wrong_typed,
                         st.sampled_from(["numpy.pi", "math.nope", "numpy.linalg.frobenius",
                                          "quartic", "beale", "probe", "adam", "gd", "m", "v",
                                          "theta_next", "delta", "maximum", "saddle", "lr",
                                          "bias_correction_early", "step_bound", "rule",
                                          "gradient", "-28.16", "1e-7", "0.001"]))


@st.composite
def claims(draw) -> dict:
    """A valid claim of a random kind with none, one or a few fields dropped, replaced by a
    value of another field, a hostile string, an expression or a value of the wrong type, or
    added."""
    name = draw(st.sampled_from(sorted(TEMPLATES)))
    claim = dict(COMMON) | {"kind": name} | TEMPLATES[name]
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 1, 2, 3]))):
        op = draw(st.sampled_from(["drop", "set", "set", "add"]))
        key = draw(st.sampled_from(sorted(claim) if op != "add" else FIELDS + ["extra"]))
        if op == "drop":
            claim.pop(key, None)
        else:
            claim[key] = draw(field_values)
    return claim


@st.composite
def claims_docs(draw) -> str:
    top = {}
    if draw(st.sampled_from([True] * 9 + [False])):
        top["document"] = draw(st.sampled_from(["fuzzed"] * 4 + [17, "", "💥", True]))
    if draw(st.booleans()):
        top["source"] = draw(st.sampled_from(["s", 3, ["s"]]))
    items = [draw(claims()) for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3])))]
    for i, item in enumerate(items):
        if "id" in item and item["id"] == COMMON["id"]:
            item["id"] = draw(st.sampled_from([f"c{i}"] * 6 + ["c0", "", "a b", "💥"]))
    if draw(st.sampled_from([False] * 15 + [True])):
        top["claim"] = draw(wrong_typed)
        items = []
    return toml_doc(top, arrays={"claim": items} if items else None)
