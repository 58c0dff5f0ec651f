"""The result cache (verify/cache.py): a result is reused only under the same code, data and
library versions, and reusing it changes nothing the report shows."""

import pytest

from verify import cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAM_VERIFY_CACHE", str(tmp_path / "c"))
    monkeypatch.delenv("ADAM_VERIFY_FRESH", raising=False)
    return tmp_path / "c"


def test_computed_once_then_reused(cache_dir):
    calls = []

    def compute():
        calls.append(1)
        return {"x": (1, "2.5")}

    mark = cache.taken()
    assert cache.cached("t", ("a", 1), compute) == {"x": (1, "2.5")}
    assert cache.cached("t", ("a", 1), compute) == {"x": (1, "2.5")}
    assert len(calls) == 1
    assert [h.what for h in cache.taken_since(mark)] == [repr(("a", 1))]
    cache.cached("t", ("a", 2), compute)  # other inputs: computed
    assert len(calls) == 2


def test_other_library_versions_or_code_are_a_miss(cache_dir, monkeypatch):
    calls = []
    cache.cached("t", ("k",), lambda: calls.append(1))
    real = cache.environment_fingerprint()
    monkeypatch.setattr(cache, "environment_fingerprint", lambda: real + (("torch", "9.9"),))
    cache.cached("t", ("k",), lambda: calls.append(1))
    monkeypatch.setattr(cache, "environment_fingerprint", lambda: real)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "0" * 64)
    cache.cached("t", ("k",), lambda: calls.append(1))
    assert len(calls) == 3


def test_code_fingerprint_covers_the_package_and_its_data(tmp_path, monkeypatch):
    # an edit to any derivations/ file changes the fingerprint
    from verify import paths

    (tmp_path / "problems").mkdir()
    (tmp_path / "problems" / "p.toml").write_text("a = 1\n")
    monkeypatch.setattr(paths, "DERIVATIONS", tmp_path)
    cache.code_fingerprint.cache_clear()
    try:
        before = cache.code_fingerprint()
        (tmp_path / "problems" / "p.toml").write_text("a = 2\n")
        cache.code_fingerprint.cache_clear()
        assert cache.code_fingerprint() != before
    finally:
        cache.code_fingerprint.cache_clear()


def test_damaged_entries_are_recomputed_not_trusted(cache_dir):
    calls = []
    cache.cached("t", ("d",), lambda: calls.append(1) or 5)
    (entry,) = cache_dir.glob("t-*.pickle")
    entry.write_bytes(entry.read_bytes()[:10])  # truncated
    assert cache.cached("t", ("d",), lambda: calls.append(1) or 5) == 5
    entry.write_bytes(b"not a pickle")
    assert cache.cached("t", ("d",), lambda: calls.append(1) or 5) == 5
    assert len(calls) == 3


def test_fresh_and_off(cache_dir, monkeypatch):
    calls = []
    cache.cached("t", ("f",), lambda: calls.append(1))
    monkeypatch.setenv("ADAM_VERIFY_FRESH", "1")
    cache.cached("t", ("f",), lambda: calls.append(1))
    monkeypatch.delenv("ADAM_VERIFY_FRESH")
    monkeypatch.setenv("ADAM_VERIFY_CACHE", "off")
    cache.cached("t", ("f",), lambda: calls.append(1))
    assert len(calls) == 3 and cache.directory() is None


def test_a_reused_audit_equals_the_fresh_one_and_user_code_is_never_cached(cache_dir):
    from tests.helpers import audit_many

    pairs = [("numpy", "momentum"), ("tests.mutants.adam_family:adam_textbook", "adam")]
    mark = cache.taken()
    first, skips = audit_many(pairs, workers=1)
    assert cache.taken_since(mark) == () and not skips
    second, _ = audit_many(pairs, workers=1)
    hits = cache.taken_since(mark)
    assert [h.what for h in hits] == [repr(("numpy", "momentum"))]  # the user's module: rerun
    assert second == first  # the whole result, every setting and finding
    assert len(list(cache_dir.glob("audit-*.pickle"))) == 1


def _api_claim(tmp_path, target: str):
    """An API claim that ``target`` accepts one positional argument."""
    from verify.claims.loader import load_claims

    f = tmp_path / f"{target}.toml"
    f.write_text(f'document = "d"\n[[claim]]\nid = "a"\nsection = "s"\nquote = "q"\n'
                 f'kind = "api"\ntarget = "{target}"\nargs = 1\ncall = true\n',
                 encoding="utf-8")
    return load_claims(f).claims[0]


def test_api_claims_on_versioned_libraries_are_reused(cache_dir, tmp_path, monkeypatch):
    # numpy's version is part of every key: its API verdicts are computed once; a module outside
    # the keyed libraries (json) and an answer "not checkable here" are looked up every time
    from verify.claims import check as dispatch
    from verify.claims import frameworks
    from verify.claims.verdicts import _uncheckable

    calls = []
    real = frameworks.check_api_claim

    def counting(claim):
        calls.append(claim.options["target"])
        if claim.options["target"] == "numpy.add":  # as for a dependency that fails to import
            return _uncheckable(claim, "not checkable here: importing numpy.add failed")
        return real(claim)

    monkeypatch.setitem(dispatch.CHECKERS, "api", counting)
    norm, dumps = _api_claim(tmp_path, "numpy.linalg.norm"), _api_claim(tmp_path, "json.dumps")
    unanswered = _api_claim(tmp_path, "numpy.add")
    mark = cache.taken()
    for _ in range(2):  # norm(x) and dumps(obj): one positional argument (their documentation)
        first = dispatch.check_claim(norm, {})
        assert first.verdict == "confirmed" and "accepts the call" in first.note
        assert dispatch.check_claim(dumps, {}).verdict == "confirmed"
        assert dispatch.check_claim(unanswered, {}).verdict == "not checkable"
    assert calls == ["numpy.linalg.norm", "json.dumps", "numpy.add", "json.dumps", "numpy.add"]
    assert [(h.kind, h.what) for h in cache.taken_since(mark)] == [("claim", repr((repr(norm),)))]


def _code_claim(tmp_path, name: str, code: str):
    from verify.claims.loader import load_claims

    f = tmp_path / f"{name}.toml"
    f.write_text(f"document = \"d\"\n[[claim]]\nid = \"{name}\"\nsection = \"s\"\nquote = \"q\"\n"
                 f"kind = \"code\"\ncode = '''\n{code}\n'''\n", encoding="utf-8")
    return load_claims(f).claims[0]


def test_code_claims_are_reused_under_the_same_package_versions(cache_dir, tmp_path,
                                                                monkeypatch):
    """A code block's check is keyed by the versions of the packages it imports (absent ones
    too) and of the whole environment: computed once, then reused; another installed version is
    a miss. A block importing a module that belongs to no distribution (a local module) is never
    cached, nor is a check where an installed module failed to import (a missing dependency may
    be installed later)."""
    from importlib.util import find_spec

    from verify.claims import check as dispatch
    from verify.claims import code as code_claims
    from verify.claims.codecheck import CodeQuery

    calls = []
    real = CodeQuery.answer

    def counting(self):
        calls.append(self.source.strip())
        return real(self)

    monkeypatch.setattr(CodeQuery, "answer", counting)
    plain = _code_claim(tmp_path, "plain", "import numpy as np\nimport no_such_pkg_xyz\n"
                                           "np.zeros(3)")
    (tmp_path / "local_mod_xyz.py").write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    local = _code_claim(tmp_path, "local", "import local_mod_xyz")
    claims = [plain, local]
    # torch is installed here without tensorboard: torch.utils.tensorboard exists, but its
    # import fails on the missing dependency
    failing = find_spec("torch") is not None and find_spec("tensorboard") is None
    if failing:
        claims.append(_code_claim(tmp_path, "failing", "from torch.utils import tensorboard"))
    assert cache.installed_versions(("numpy", "no_such_pkg_xyz"))[1] == ("no_such_pkg_xyz", None)
    assert cache.installed_versions(("local_mod_xyz",)) is None
    # not in site-packages, though a distribution (mlx) claims a top-level "tests" too
    assert cache.installed_versions(("tests",)) is None
    first = [dispatch.check_claim(c, {}) for c in claims]
    again = [dispatch.check_claim(c, {}) for c in claims]
    assert first == again
    names = [c.options["code"].strip() for c in claims]
    assert calls == names + names[1:]  # plain once; local and failing every time
    assert [i.verdict for i in first[0].items] == ["confirmed", "not checkable", "confirmed"]
    if failing:
        assert [i.verdict for i in first[2].items] == ["not checkable"]
        assert "missing dependency tensorboard" in first[2].items[0].golden
    # another numpy version installed: the key differs, the block is checked again
    versions = cache.installed_versions

    def bumped(packages):
        return tuple((n, (("numpy", "0.0.1"),) if n == "numpy" else v)
                     for n, v in versions(packages))

    monkeypatch.setattr(code_claims, "installed_versions", bumped)
    dispatch.check_claim(plain, {})
    assert calls[-1] == names[0] and len(calls) == 2 * len(names)
