"""Fuzzing the command line: generated flag values for golden, derive, claims and report (and,
for audit and sweep, only values that must be refused before any run), ``golden --check`` on
damaged goldens, and a sample of the same through the real CLI in subprocesses.

Property of every run: exit status 0, 1 or 2; no traceback; on 2 exactly one line on stderr
and nothing written or modified; after any run no temporary file is left and every file
written is whole (a trace that reads back, a PNG with its end chunk, text ending in a newline).
Runs happen in a small project tree (``make_tiny_root``), never in the real one."""

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify import paths
from verify.cli.main import main
from verify.errors import InputError
from verify.golden.trace import read_trace
from verify.rules import RULES

from .conftest import EXITS, FUZZ, TINY_GOLDEN, make_tiny_root, root_paths
from .fuzz_inputs import byte_damage, claims_docs


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def record(kind):
    FUZZ[kind] = FUZZ.get(kind, 0) + 1


GOOD_CLAIMS = """document = "fuzz"
[[claim]]
id = "gd.grad"
section = "s"
quote = "the first gradient is (-44, -12)"
kind = "trace"
golden = "linear_regression.gd"
step = 1
quantity = "grad"
claimed = ["-44", "-12"]

[[claim]]
id = "gd.state"
section = "s"
quote = "GD keeps a velocity"
kind = "state"
optimizer = "gd"
claimed = ["velocity"]

[[claim]]
id = "adam.m_hat"
section = "s"
quote = "m_hat = m/(1 - beta1^t)"
kind = "formula"
reference = "rule"
optimizer = "adam"
quantity = "m_hat"
claimed = "m/(1 - beta1**t)"
"""
CURVES_CLAIM = """
[[claim]]
id = "curves"
section = "s"
quote = "Adam ends lower"
kind = "experiment"
experiment = "worked_example_curves"
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A tiny project tree made this process's project root (and working directory), with
    input files the strategies name: claims files good and bad, a file, a directory."""
    base = tmp_path_factory.mktemp("cli")
    tree = make_tiny_root(base / "root")
    inputs = base / "in"  # inputs live outside the watched tree
    inputs.mkdir()
    (inputs / "good.toml").write_text(GOOD_CLAIMS)
    (inputs / "curves.toml").write_text(GOOD_CLAIMS + CURVES_CLAIM)
    (inputs / "empty.toml").write_text("")
    (inputs / "binary.toml").write_bytes(b"\xff\xfe\x00junk\x80")
    (inputs / "adir").mkdir()
    (tree / "cwd").mkdir()
    (tree / "out").mkdir()
    (tree / "out" / "existing.json").write_text("keep me\n")
    mp = pytest.MonkeyPatch()
    for name, value in root_paths(tree).items():
        mp.setattr(paths, name, value)
    mp.chdir(tree / "cwd")
    yield tree
    mp.undo()


def snapshot(tree: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _, files in os.walk(tree):
        for f in files:
            st_ = (Path(dirpath) / f).stat()
            out[os.path.relpath(Path(dirpath) / f, tree)] = (st_.st_size, st_.st_mtime_ns)
    return out


def assert_whole(path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".json":
        if json.loads(data).get("format") == "adam-verify/trace@1":
            read_trace(path)  # checks its sha256
    elif path.suffix == ".png":
        assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82"), path
    else:
        assert data.endswith(b"\n"), path


def check_run(tree: Path, verb: str, code, err: str, before: dict) -> None:
    """The fuzz property, given the exit status, stderr and the tree before the run."""
    after = snapshot(tree)
    assert code in (0, 1, 2), (code, err)
    counts = EXITS.setdefault(verb, {})
    counts[code] = counts.get(code, 0) + 1
    assert "Traceback" not in err, err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("adam-verify: error: "), err
        assert after == before, "a refused run wrote or modified files"
    leftovers = [k for k in after if k.endswith(".tmp")]
    assert not leftovers, leftovers
    for rel in after:
        if after[rel] != before.get(rel):
            assert_whole(tree / rel)


def run_main(tree: Path, args: list[str]) -> tuple[int, str, str]:
    before = snapshot(tree)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:  # --help and --version leave through argparse
            code = exc.code
    check_run(tree, args[0] if args else "", code, err.getvalue(), before)
    return code, out.getvalue(), err.getvalue()


# --- flag values ---------------------------------------------------------------------------

HYPER_VALUES = ["0.01", "0.1", "1e-8", "0.9", "0.999", "0", "1", "-1", "nan", "inf", "1e999",
                "1e-400", "", "x", "1/2", "0x1", " 0.5", "٣"]


def flag(name: str, good, bad=(), bad_share: int = 12) -> st.SearchStrategy[list[str]]:
    """``[]`` or ``[name, value]``; the value is bad about one time in ``bad_share``."""
    value = one_of_lists(good, bad, bad_share) if bad else st.sampled_from(good)
    return st.sampled_from([False, True]).flatmap(
        lambda on: value.map(lambda v: [name, v]) if on else st.just([]))


def one_of_lists(good, bad, bad_share: int = 4):
    """One of ``good`` most of the time, one of ``bad`` about one time in ``bad_share``."""
    # (sampled_from weighs repeated entries; one_of would merge repeated strategies)
    return st.sampled_from([True] * (bad_share - 1) + [False]).flatmap(
        lambda ok: st.sampled_from(good if ok else bad))


def out_paths(tree: Path) -> list[str]:
    return ["t.json", str(tree / "out" / "t.json"), str(tree / "out" / "existing.json"),
            str(tree / "out"), "/nonexistent/dir/t.json", str(tree / "out" / "a\nb.json"),
            str(tree / "out" / "existing.json" / "under.json")]


@st.composite
def golden_args(draw, tree: Path) -> list[str]:
    args = ["golden"]
    if draw(st.sampled_from([False] * 9 + [True])):
        args += draw(st.sampled_from([["--check"], ["--update"], ["--check", "--update"],
                                      ["--check", "--problem", "quartic"]]))
        return args
    problem = one_of_lists(["linear_regression", "quartic"],
                           ["rosenbrock", "nope", "", "../../etc/passwd", "/nonexistent.toml",
                            "a\nb", str(tree / "out")], bad_share=8)
    optimizer = one_of_lists(sorted(RULES), ["sgd", "", "ADAM"], bad_share=8)
    for name, value in (("--problem", problem), ("--optimizer", optimizer)):
        if draw(st.sampled_from([True] * 24 + [False])):
            args += [name, draw(value)]
    for h in ("lr", "beta1", "eps", "momentum"):
        args += draw(flag(f"--{h}", HYPER_VALUES[:5], HYPER_VALUES[5:]))
    args += draw(flag("--steps", ["1", "2", "3"], ["0", "-1", "x", "", "1e3", "1000001"]))
    args += draw(flag("--dps", ["15", "20", "50"], ["3", "0", "x", "100001"]))
    inits = ["0.5", "-1"] if "quartic" in args else ["0,0", "0.5,-1"]
    args += draw(flag("--init", inits, ["1,2,3", "a,b", "1e400,0", "", ",", "nan,0"]))
    args += draw(flag("--schedule", ["constant", "inv-sqrt"], ["cosine", ""]))
    args += draw(flag("--quantize", ["float32"], ["float64"]))
    args += draw(flag("--engine", ["mpfr", "mpmath"], ["x"]))
    args += draw(one_of_lists([[]] * 6 + [["--exact"], ["--force"]], [["--frobnicate"]], 12))
    args += draw(one_of_lists([[]], [["--out", p] for p in out_paths(tree)], 3))
    return args


@st.composite
def derive_args(draw, tree: Path) -> list[str]:
    return ["derive"] + draw(st.sampled_from([
        ["--problem", "quartic"], ["--problem", "linear_regression"], ["--problem", "nope"],
        ["--problem", ""], ["--problem", "/nonexistent.toml"], ["--identities"], ["--check"],
        ["--update"], ["--check", "--problem", "quartic"], [], ["--problem"],
        ["--problem", str(tree / "out")], ["--problem", "quartic", "--steps", "3"]]))


def claims_files(tree: Path) -> list[str]:
    inputs = tree.parent / "in"
    return [str(inputs / n) for n in ("good.toml", "good.toml", "empty.toml", "binary.toml",
                                      "adir", "nope.toml")] + ["", str(tree / "out")]


@st.composite
def claims_args(draw, tree: Path) -> list[str]:
    args = ["claims"]
    if draw(st.booleans()):
        path = tree.parent / "in" / "drawn.toml"  # a generated claims file
        path.write_text(draw(claims_docs()), encoding="utf-8")
        args.append(str(path))
    else:
        args += draw(st.sampled_from([[f] for f in claims_files(tree)] + [[]]))
    return args + draw(st.sampled_from([[], ["--strict"], ["--strict", "--strict"], ["-x"]]))


@st.composite
def report_args(draw, tree: Path) -> list[str]:
    args = ["report"]
    inputs = tree.parent / "in"
    args += draw(flag("--claims", [str(inputs / "good.toml"), str(inputs / "curves.toml")],
                      claims_files(tree)[2:], 3))
    args += draw(one_of_lists([["--impls", "none"]], [
        ["--impls", ""], ["--impls", "nope"], ["--impls", "numpy,nope"], ["--impls", ","],
        ["--impls", "tensorflow"]], bad_share=3))
    args += draw(flag("--out", [str(tree / "report")], [
        str(tree / "out" / "existing.json"), "/nonexistent/dir", str(tree / "out" / "a\nb")], 3))
    return args


@st.composite
def refused_audit_args(draw, tree: Path) -> list[str]:
    """audit/sweep arguments with at least one value that must be refused before a run."""
    poison = draw(st.sampled_from([
        ["--steps", "0"], ["--steps", "-3"], ["--steps", "x"], ["--samples", "0"],
        ["--dtype", "float64"], ["--dtype", "int8"], ["--size", "0"], ["--size", "1e6"],
        ["--seed", "x"], ["--impl"], ["--strict=yes"]]))
    rest = draw(st.lists(st.sampled_from([["--impl", "numpy"], ["--impl", "nope"],
                                          ["--optimizer", "adam"], ["--problem", "quartic"],
                                          ["--lr", "0.01"], ["--out", str(tree / "out")]]),
                         max_size=3))
    args = ["audit"] + [a for pair in rest for a in pair] + poison
    return args if "--impl" in args[:-1] or poison == ["--impl"] else args + ["--impl", "numpy"]


# --- the tests -----------------------------------------------------------------------------

@fuzz(150)
@given(st.data())
def test_fuzz_cli_golden(root, data):
    record("cli golden")
    run_main(root, data.draw(golden_args(root)))


@fuzz(50)
@given(st.data())
def test_fuzz_cli_derive(root, data):
    record("cli derive")
    run_main(root, data.draw(derive_args(root)))


@fuzz(70)
@given(st.data())
def test_fuzz_cli_claims(root, data):
    record("cli claims")
    run_main(root, data.draw(claims_args(root)))


@fuzz(16)
@given(st.data())
def test_fuzz_cli_report(root, data):
    record("cli report")
    run_main(root, data.draw(report_args(root)))


@fuzz(80)
@given(st.data())
def test_fuzz_cli_audit_refused(root, data):
    record("cli audit (refused)")
    code, _, _ = run_main(root, data.draw(refused_audit_args(root)))
    assert code == 2


SWEEP = (Path(__file__).resolve().parents[1] / "examples" / "sweep.toml").read_bytes()


@fuzz(60)
@given(byte_damage(SWEEP))
def test_fuzz_cli_sweep_refused(root, data):
    # Only damaged sweep files that do not load reach the CLI: a loadable one would start
    # auditing (the sweep's own tests cover that).
    from verify.auditing.sweep import load_sweep

    spec = root.parent / "in" / "sweep.toml"
    spec.write_bytes(data)
    try:
        load_sweep(spec)
    except InputError:
        record("cli sweep (refused)")
        code, _, _ = run_main(root, ["sweep", str(spec), "--out", str(root / "out")])
        assert code == 2


GOLDEN_BYTES = (paths.GOLDEN / f"{TINY_GOLDEN}.json").read_bytes()
MANIFEST_BYTES = (paths.GOLDEN / "manifest.toml").read_bytes()


@fuzz(30)
@given(st.booleans(), st.data())
def test_fuzz_golden_check_on_damaged_files(root, manifest, data):
    # golden --check on a damaged copy of a committed golden (or of the manifest): a damaged
    # golden is drift (exit 1, the file named); --check never rewrites anything.
    record("golden --check (damaged)")
    golden = paths.GOLDEN / f"{TINY_GOLDEN}.json"
    target = paths.GOLDEN / "manifest.toml" if manifest else golden
    original = target.read_bytes()
    damaged = data.draw(byte_damage(original))
    target.write_bytes(damaged)
    try:
        code, out, _ = run_main(root, ["golden", "--check"])
        assert target.read_bytes() == damaged
        if not manifest and damaged != original:
            assert code == 1 and f"{TINY_GOLDEN}: " in out
    finally:
        target.write_bytes(original)


# --- a sample through the real CLI ---------------------------------------------------------

@pytest.fixture(scope="module")
def sub_root(tmp_path_factory):
    tree = make_tiny_root(tmp_path_factory.mktemp("sub") / "root")
    (tree.parent / "in").mkdir()
    (tree.parent / "in" / "good.toml").write_text(GOOD_CLAIMS)
    (tree / "out").mkdir()
    (tree / "out" / "existing.json").write_text("keep me\n")
    return tree


@fuzz(4)
@given(st.data())
def test_fuzz_real_cli_sample(sub_root, data):
    record("cli (subprocess)")
    tree = sub_root
    args = data.draw(st.one_of(golden_args(tree), derive_args(tree), claims_args(tree),
                               refused_audit_args(tree)))
    before = snapshot(tree)
    res = subprocess.run([sys.executable, "-m", "verify", *args], capture_output=True,
                         text=True, cwd=tree, timeout=300,
                         env=dict(os.environ, ADAM_VERIFY_ROOT=str(tree)))
    check_run(tree, f"{args[0]} (subprocess)", res.returncode, res.stderr, before)


def test_the_small_tree_covers_every_project_path():
    # the fuzzed CLI must never reach the real tree: every constant of verify.paths is
    # redirected by root_paths (a new constant there must be added to it)
    constants = {k for k in vars(paths) if k.isupper()}
    assert set(root_paths(Path("/x"))) == constants
