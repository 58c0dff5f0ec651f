"""Fuzzing the data files in-process (Hypothesis; deterministic in CI, see conftest.py).

Property: a problem, claims or trace file either loads or is refused with one ``InputError`` —
never another exception; what loads can be used (a problem runs two golden steps, a claim gets
a verdict), and a damaged trace is never accepted with content other than what was hashed."""

import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify import paths
from verify.claims import VERDICTS, check_claim, load_claims
from verify.errors import InputError
from verify.golden.goldenset import load_committed, load_manifest
from verify.golden.run import run_golden
from verify.golden.spec import RunSpec
from verify.golden.trace import content, content_hash, dumps, loads, read_trace
from verify.symbolic.problems import load_problem

from .conftest import FUZZ
from .fuzz_inputs import byte_damage, claims_docs, problem_docs


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def record(kind):
    FUZZ[kind] = FUZZ.get(kind, 0) + 1


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz_files")


def refused_or(loader, path):
    """``loader(path)``, or None when it refuses the file with a one-line InputError."""
    try:
        return loader(path)
    except InputError as exc:
        assert str(exc)
        return None


def two_golden_steps(problem) -> None:
    """A loaded problem must print (as ``derive`` and the report show it) and run: two GD
    steps at 20 digits end in a trace (which writes and reads back unchanged) or an InputError."""
    import sympy as sp

    assert sp.latex(problem.loss) and sp.sstr(problem.loss)
    try:
        trace = run_golden(RunSpec(problem, "gd", {"lr": "0.01"}, 2, 20))
    except InputError:
        return
    assert loads(dumps(trace)) == trace


@fuzz(200)
@given(problem_docs())
def test_fuzz_problem_files(scratch, doc):
    record("problem file (grammar)")
    path = scratch / "p.toml"
    path.write_text(doc, encoding="utf-8")
    problem = refused_or(load_problem, path)
    if problem is not None:
        two_golden_steps(problem)


BUNDLED = {p.name: p.read_bytes() for p in sorted(paths.PROBLEMS.glob("*.toml"))}


@fuzz(150)
@given(st.sampled_from(sorted(BUNDLED)).flatmap(lambda n: byte_damage(BUNDLED[n])))
def test_fuzz_problem_bytes(scratch, data):
    record("problem file (bytes)")
    path = scratch / "p.toml"
    path.write_bytes(data)
    problem = refused_or(load_problem, path)
    if problem is not None:
        two_golden_steps(problem)


@pytest.fixture(scope="module")
def goldens():
    return load_committed(load_manifest())


CHEAP_EXPERIMENTS = ("worked_example_curves", "bias_correction_early")


def checkable_here(claim) -> bool:
    """Claims whose check is cheap and imports nothing a fuzzer should not import: API
    targets and code blocks in numpy/math, audits of no real implementation, the quick
    experiments."""
    o = claim.options
    if claim.kind == "api":
        return o["target"].split(".")[0] in ("numpy", "math")
    if claim.kind == "audit":
        from verify.auditing import BUILTIN

        return ":" not in o["impl"] and o["impl"] not in BUILTIN
    if claim.kind == "experiment":
        return o["experiment"] in CHEAP_EXPERIMENTS
    if claim.kind == "code":  # resolving a code block imports what it imports
        imported = re.findall(r"(?m)^\s*(?:from|import)\s+([\w.]+)", o["code"])
        return "__import__" not in o["code"] and all(
            m.split(".")[0] in ("numpy", "math") for m in imported)
    return True


@fuzz(300)
@given(claims_docs())
def test_fuzz_claims_files(scratch, goldens, doc):
    record("claims file (mutated)")
    path = scratch / "c.toml"
    path.write_text(doc, encoding="utf-8")
    loaded = refused_or(load_claims, path)
    if loaded is None:
        return
    for claim in loaded.claims:
        if checkable_here(claim):
            result = check_claim(claim, goldens, {})
            assert result.verdict in VERDICTS and all(i.verdict in VERDICTS for i in result.items)


GOLDENS = {p.name: p.read_bytes() for p in sorted(paths.GOLDEN.glob("*.json"))}


def _reordered(value, rng):
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: _reordered(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [_reordered(v, rng) for v in value]
    return value


@fuzz(200)
@given(st.sampled_from(sorted(GOLDENS)), st.sampled_from(["bytes", "reorder", "value", "rehash"]),
       st.data())
def test_fuzz_golden_files(scratch, name, op, data):
    # The sha256 covers the canonical content (keys sorted), so: byte damage is refused unless
    # it only touched JSON whitespace; reordered keys still load; a changed value under the old
    # hash is refused; a changed value with a recomputed hash loads as a different trace
    # (the hash detects damage, not forgery — golden --check regenerates to catch that).
    record("golden file")
    original = GOLDENS[name]
    obj = json.loads(original)
    path = scratch / name
    if op == "bytes":
        path.write_bytes(data.draw(byte_damage(original)))
    elif op == "reorder":
        path.write_text(json.dumps(_reordered(obj, random.Random(data.draw(st.integers())))))
    else:
        step = data.draw(st.integers(0, len(obj["steps"]) - 1))
        obj["steps"][step]["params"][0] += data.draw(st.sampled_from(["1", "0", "e1"]))
        if op == "rehash":
            obj["sha256"] = content_hash(obj)
        path.write_text(json.dumps(obj))
    trace = refused_or(read_trace, path)
    if op == "value":
        assert trace is None
    elif op in ("reorder", "rehash"):
        assert trace is not None
        same = content_hash(content(trace)) == json.loads(original)["sha256"]
        assert same == (op == "reorder")
    elif trace is not None:  # survived byte damage: only whitespace changed
        assert content_hash(content(trace)) == json.loads(original)["sha256"]
