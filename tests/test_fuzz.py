"""Adversarial inputs for every loader and CLI verb (Hypothesis): each must end in a result or
one InputError — never another exception. The number of cases tried is printed at the end of
the run (conftest.py)."""

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.claims import load_claims
from verify.cli.main import main
from verify.errors import InputError
from verify.golden.goldenset import load_manifest
from verify.golden.trace import loads
from verify.symbolic.expr import parse_expr, parse_number
from verify.symbolic.problems import load_problem

from .conftest import FUZZ

FAST = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

ident = st.text(string.ascii_letters + "_", min_size=1, max_size=6)
numberish = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True).map(repr),
                      st.sampled_from(["nan", "inf", "-inf", "1e999", "", "0x1", "1/0", "True",
                                       "1_000", "--1", "1e-8", "0.5"]),
                      st.text(max_size=8))
toml_value = st.one_of(numberish.map(json.dumps), st.integers().map(str),
                       st.floats(allow_nan=False, allow_infinity=False).map(repr),
                       st.sampled_from(["true", "[]", "{}", '["1", "2"]', "[1, 2.5]",
                                        '"w**2"', '"__import__(\\"os\\")"']))
expr_text = st.one_of(
    st.text(string.printable, max_size=40),
    st.lists(st.sampled_from(["w", "b", "x", "y", "+", "-", "*", "/", "**", "(", ")", "2",
                              "0.5", "sqrt(", "exp(", "mean(", "sum(", ".", "_", "[", "]",
                              "lambda", ":", ",", "__class__", "'a'", "1e400"]),
             max_size=14).map("".join))


def record(kind):
    FUZZ[kind] = FUZZ.get(kind, 0) + 1


def load_lines(tmp_path_factory, lines, loader):
    """Write ``lines`` as a TOML file and load it: a result or an InputError, nothing else."""
    path = tmp_path_factory.mktemp("f") / "f.toml"
    path.write_text("\n".join(lines))
    try:
        loader(path)
    except InputError:
        pass


@FAST
@given(expr_text)
def test_fuzz_expression_parser(text):
    record("expression")
    import sympy as sp

    names = {"w": sp.Symbol("w"), "b": sp.Symbol("b")}
    data = {"x": (sp.Integer(1), sp.Integer(2)), "y": (sp.Integer(3), sp.Integer(4))}
    try:
        parse_expr(text, names, data)
    except InputError:
        pass
    try:
        parse_number(text)
    except InputError:
        pass


@FAST
@given(st.fixed_dictionaries({}, optional={
    "name": toml_value, "params": toml_value, "loss": st.one_of(expr_text.map(json.dumps),
                                                                toml_value),
    "phases": toml_value, "title": toml_value}),
    st.dictionaries(ident, toml_value, max_size=3), st.dictionaries(ident, toml_value, max_size=3))
def test_fuzz_problem_loader(tmp_path_factory, top, init, data):
    record("problem file")
    lines = [f"{k} = {v}" for k, v in top.items()]
    lines += ["[init]"] + [f"{k} = {v}" for k, v in init.items()]
    lines += ["[data]"] + [f"{k} = {v}" for k, v in data.items()]
    load_lines(tmp_path_factory, lines, load_problem)


CLAIM_KINDS = st.sampled_from(['"trace"', '"formula"', '"critical_points"', '"default"',
                               '"api"', '"state"', '"identity"', '"experiment"', '"audit"',
                               '"statement"'])


@FAST
@given(st.lists(st.fixed_dictionaries({}, optional={
    "id": toml_value, "section": toml_value, "quote": toml_value,
    "kind": st.one_of(CLAIM_KINDS, toml_value),
    "golden": toml_value, "step": toml_value, "quantity": toml_value,
    "claimed": st.one_of(expr_text.map(json.dumps), toml_value),
    "reference": st.one_of(st.sampled_from(['"rule"', '"gradient"']), toml_value),
    "optimizer": toml_value, "problem": toml_value, "experiment": toml_value,
    "target": toml_value, "identity": toml_value, "reason": toml_value, "args": toml_value,
    "kwargs": toml_value, "call": toml_value}), max_size=3), st.booleans())
def test_fuzz_claims_loader(tmp_path_factory, claims, with_document):
    record("claims file")
    lines = ['document = "d"'] if with_document else []
    for c in claims:
        lines.append("[[claim]]")
        lines += [f"{k} = {v}" for k, v in c.items()]
    load_lines(tmp_path_factory, lines, load_claims)


@FAST
@given(st.lists(st.fixed_dictionaries({}, optional={
    "id": toml_value, "problem": st.sampled_from(['"linear_regression"', '"nope"', "3"]),
    "optimizer": st.sampled_from(['"adam"', '"gd"', '"sgd"', "[]"]),
    "steps": st.sampled_from(["1", "0", "-5", "10000000", '"3"', "2.5"]),
    "dps": st.sampled_from(["50", "3", "99999", '"x"']), "hyper": st.sampled_from(
        ['{ lr = "0.01" }', '{ lr = "-1" }', '{ beta1 = "1" }', '{ lr = 0.1 }', '{ zz = "1" }']),
    "quantize": st.sampled_from(['"float32"', '"float8"']),
    "schedule": st.sampled_from(['"constant"', '"inv-sqrt"', '"cosine"'])}), max_size=2))
def test_fuzz_manifest_loader(tmp_path_factory, entries):
    record("golden manifest")
    lines = []
    for e in entries:
        lines.append("[[golden]]")
        lines += [f"{k} = {v}" for k, v in e.items()]
    load_lines(tmp_path_factory, lines, load_manifest)


@pytest.fixture(scope="module")
def good_trace_text():
    from verify.golden.run import run_golden
    from verify.golden.spec import RunSpec
    from verify.golden.trace import dumps
    from verify.symbolic.problems import find_problem

    return dumps(run_golden(RunSpec(find_problem("linear_regression"), "adam", {"lr": "0.01"}, 2)))


@FAST
@given(st.data())
def test_fuzz_trace_loader(good_trace_text, data):
    record("trace file")
    text = good_trace_text
    op = data.draw(st.sampled_from(["truncate", "flip", "insert", "json"]))
    if op == "truncate":
        text = text[: data.draw(st.integers(0, len(text)))]
    elif op == "flip":
        i = data.draw(st.integers(0, len(text) - 1))
        text = text[:i] + data.draw(st.characters()) + text[i + 1:]
    elif op == "insert":
        i = data.draw(st.integers(0, len(text)))
        text = text[:i] + data.draw(st.text(max_size=5)) + text[i:]
    else:
        text = json.dumps(data.draw(st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                max_size=3), max_leaves=10)))
    try:
        loads(text)
    except InputError:
        pass


cli_args = st.lists(st.one_of(
    st.sampled_from(["golden", "derive", "claims", "report", "--problem", "--optimizer",
                     "--lr", "--beta1", "--beta2", "--eps", "--steps", "--dps", "--init",
                     "--schedule", "--quantize", "--engine", "--exact", "--check", "--out",
                     "linear_regression", "quartic", "adam", "gd", "nope", "0.01", "-1", "nan",
                     "1e999", "0", "3", "1,2", "inv-sqrt", "float32", "mpmath", "--claims",
                     "/nonexistent", "--identities", "--help-me", "audit", "--impl",
                     "tensorflow", "no_such_module:fn", "--samples", "sweep", "--workers",
                     "--scheduler", "tcp://127.0.0.1:9", "--dtype", "float16", "bfloat16",
                     "--size", "--seed", "/nonexistent.toml"]),
    st.text(max_size=6)), max_size=7)


@settings(max_examples=300, deadline=None)
@given(cli_args)
def test_fuzz_cli(args):
    record("cli")
    args = [a for a in args if a not in ("--check", "--update", "--out", "report")]
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(args)
        except SystemExit as exc:  # --help / --version exit through argparse
            code = exc.code
    assert code in (0, 1, 2)
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert err.getvalue().count("\n") == 1
