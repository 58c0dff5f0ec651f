"""Regression tests for the defects of issue #17: API checks that crashed or blamed the API for a
missing dependency, the audit-claim cache that ignored the claim's problem, ``claims --strict``."""

import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from verify.claims import CONFIRMED, CONTRADICTED, NOT_CHECKABLE, Claim, load_claims
from verify.claims.audits import check_audit
from verify.cli.main import main
from verify.runners.defaults import check_api


@pytest.fixture()
def fakepkg(tmp_path, monkeypatch):
    """A package on sys.path with a submodule whose dependency is missing, a module whose import
    raises, a lazy attribute that fails to import and a callable whose signature cannot be read."""
    pkg = tmp_path / "avfake"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        def __getattr__(name):
            if name == "lazy":
                import avfake_missing_lazy_dependency  # noqa: F401
            raise AttributeError(name)

        class Opaque:
            @property
            def __signature__(self):
                raise RuntimeError("no signature here")

            def __call__(self, *args):
                return args

        opaque = Opaque()
        value = 3.5

        def fn(a, b=1):
            return a + b
        """))
    (pkg / "needs_dep.py").write_text("import avfake_missing_dependency\nThing = 1\n")
    (pkg / "broken.py").write_text("raise RuntimeError('cannot start\\nsecond line')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "avfake"
    for name in [m for m in sys.modules if m == "avfake" or m.startswith("avfake.")]:
        del sys.modules[name]


def test_non_callable_target_with_call_is_a_verdict_not_a_crash():
    # The issue's reproduction: numpy.pi with call = true raised UnboundLocalError ('sig').
    # numpy.pi is a float, so "numpy.pi()" is false: contradicted, with the reason.
    r = check_api("numpy.pi", call=True)
    assert r.exists is False and r.detail == "numpy.pi is a float, not callable"


def test_missing_dependency_of_a_submodule_is_not_checkable(fakepkg):
    r = check_api("avfake.needs_dep.Thing")
    assert r.exists is None
    assert r.detail.startswith("not checkable here: importing avfake.needs_dep failed: "
                               "ModuleNotFoundError: No module named 'avfake_missing_dependency'")


def test_module_that_raises_on_import_is_not_checkable(fakepkg):
    r = check_api("avfake.broken.anything", call=True)
    assert r.exists is None
    # one line: the exception's first line only
    assert r.detail == ("not checkable here: importing avfake.broken failed: "
                        "RuntimeError: cannot start")


def test_lazy_attribute_whose_import_fails_is_not_checkable(fakepkg):
    r = check_api("avfake.lazy")
    assert r.exists is None and "avfake_missing_lazy_dependency" in r.detail


def test_missing_module_or_attribute_is_still_contradicted(fakepkg):
    assert check_api("avfake.nothere").exists is False  # neither a module nor an attribute
    assert check_api("avfake.nothere.deeper").detail == "avfake has no attribute 'nothere'"
    assert check_api("avfake.fn", args=1, call=True).exists is True
    assert check_api("avfake.fn", args=3, call=True).exists is False  # fn takes at most 2


def test_unreadable_signature_is_not_checkable(fakepkg):
    r = check_api("avfake.opaque", call=True)
    assert r.exists is None and "no inspectable signature" in r.detail


def _claims_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text('document = "t"\n' + textwrap.dedent(body))
    return path


def test_issue_reproduction_through_the_cli(tiny_root, capsys):
    path = _claims_file(tiny_root, """
        [[claim]]
        id = "x"
        section = "s"
        quote = "numpy.pi()"
        kind = "api"
        target = "numpy.pi"
        call = true
        """)
    assert main(["claims", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split() == ["contradicted", "x"] and err == ""


def test_api_claim_on_a_missing_dependency_is_not_contradicted(tmp_path, fakepkg):
    from verify.claims.frameworks import check_api_claim

    path = _claims_file(tmp_path, """
        [[claim]]
        id = "dep"
        section = "s"
        quote = "avfake.needs_dep.Thing"
        kind = "api"
        target = "avfake.needs_dep.Thing"
        """)
    result = check_api_claim(load_claims(path).claims[0])
    assert result.verdict == NOT_CHECKABLE
    assert result.note.startswith("not checkable here: importing avfake.needs_dep failed")


def _fake_audit(rule: str):
    """A stand-in AuditResult: consistent with ``rule``."""
    return SimpleNamespace(verdict="consistent", computes=rule, version="fake 1",
                           summary=f"consistent with {rule}")


def test_audit_claim_cache_is_keyed_by_problem():
    # The cache holds the probe's audit of ("nope", "adam") (problem None: the probe). A claim
    # about another problem used to receive the probe's verdict; now it misses the cache and
    # runs its own audit, and "nope" is no implementation, so the claim is not checkable.
    cache = {("nope", "adam", None): _fake_audit("adam")}
    on_probe = Claim("a", "s", "q", "audit", options={"impl": "nope", "optimizer": "adam",
                                                      "expect": "adam"})
    assert check_audit(on_probe, cache).verdict == CONFIRMED
    other = Claim("b", "s", "q", "audit", options={"impl": "nope", "optimizer": "adam",
                                                   "expect": "adam", "problem": "quartic"})
    result = check_audit(other, cache)
    assert result.verdict == NOT_CHECKABLE and "nope" in result.note


STRICT_CLAIMS = """
    [[claim]]
    id = "adam.state"
    section = "s"
    quote = "Adam keeps m and v"
    kind = "state"
    optimizer = "adam"
    claimed = ["m", "v"]

    [[claim]]
    id = "gd.state"
    section = "s"
    quote = "GD keeps a velocity"
    kind = "state"
    optimizer = "gd"
    claimed = ["velocity"]
    """


def test_claims_strict_exits_1_on_a_contradicted_claim(tiny_root, capsys):
    path = _claims_file(tiny_root, STRICT_CLAIMS)
    assert main(["claims", str(path)]) == 0
    out = capsys.readouterr().out
    # Rule "gd" keeps no state (verify/rules/catalogue.py), Adam keeps m and v (Kingma & Ba, Algorithm 1)
    verdicts = {line.split()[-1]: " ".join(line.split()[:-1]) for line in out.splitlines()[:2]}
    assert verdicts == {"adam.state": CONFIRMED, "gd.state": CONTRADICTED}
    assert main(["claims", "--strict", str(path)]) == 1
    only_true = _claims_file(tiny_root, "[[claim]]" + STRICT_CLAIMS.split("[[claim]]")[1])
    assert main(["claims", "--strict", str(only_true)]) == 0


# --- found by the fuzz tests on their first runs (tests/test_fuzz_files.py) -------------------

@pytest.mark.parametrize("source, message", [
    ("+".join(["w"] * 7000), "nested too deeply"),  # was RecursionError from Python's parser
    ("1e400**64 + w", "more than 4000 digits"),  # was ValueError when the loss was printed
    ("2**(1e400**64)", "more than 4000 digits"),  # was ValueError while building the message
    ("((w**64)**64)**64", "exceeds 4096"),  # SymPy merges it into w**262144
    ("ｗ**2", "not plain ASCII"),  # Python's parser folds ｗ (and 𝑤) into w
])
def test_expressions_found_by_fuzzing_are_refused(source, message):
    import sympy as sp

    from verify.errors import InputError
    from verify.symbolic.expr import parse_expr

    with pytest.raises(InputError, match=message):
        parse_expr(source, {"w": sp.Symbol("w")})


def _problem(tmp_path: Path, loss: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(f'name = "t"\nparams = ["w", "b"]\nloss = "{loss}"\n[init]\nw = "1"\nb = "1"\n')
    return path


@pytest.mark.parametrize("loss, message", [
    ("sqrt(-1)*w", "ImaginaryUnit"),  # was ValueError in the golden engine
    ("(-8)**(1/3) + w", "exponent 1/3"),
    ("abs(w) + b", "sign"),  # its gradient is sign(w)
])
def test_losses_the_engines_cannot_evaluate_are_refused_on_load(tmp_path, capsys, loss, message):
    path = _problem(tmp_path, loss)
    assert main(["golden", "--problem", str(path), "--optimizer", "gd", "--steps", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be evaluated numerically" in err and message in err


def test_half_integer_powers_are_evaluated(tmp_path):
    # w*sqrt(w) is w**(3/2) to SymPy; it was refused by the engine (ValueError). At w = b = 1:
    # ∂L/∂w = (3/2)·√w = 1.5 and ∂L/∂b = 2b = 2, so one GD step of 0.01 gives w = 0.985, b = 0.98.
    from verify.golden.run import run_golden
    from verify.golden.spec import RunSpec
    from verify.symbolic.problems import load_problem

    trace = run_golden(RunSpec(load_problem(_problem(tmp_path, "w*sqrt(w) + b**2")), "gd",
                               {"lr": "0.01"}, 1, 30))
    assert trace.step(1).grad == ("1.5", "2") and trace.step(1).params == ("0.985", "0.98")
