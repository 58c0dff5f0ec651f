import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras 3 without TensorFlow
# every test computes afresh: no result is taken from the user's cache (tests/test_cache.py
# points the cache at a temporary directory of its own)
os.environ["ADAM_VERIFY_CACHE"] = "off"

from verify.symbolic.problems import find_problem

# Hypothesis: the same examples on every run in CI ("ci", no example database), so a fuzz test
# cannot pass on one run and fail on the next; HYPOTHESIS_PROFILE=explore draws fresh random
# examples, to hunt for new failures locally.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", database=None, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def linreg():
    return find_problem("linear_regression")


TINY_PROBLEMS = ("linear_regression", "quartic")
TINY_GOLDEN = "linear_regression.gd"


def make_tiny_root(root: Path) -> Path:
    """A small project tree (two problems, one committed golden, no claims yet) under ``root``,
    so that a verb that regenerates everything stays cheap in a test."""
    from verify import paths

    for sub in ("problems", "golden", "claims", "symbolic"):
        (root / "derivations" / sub).mkdir(parents=True, exist_ok=True)
    for name in TINY_PROBLEMS + ("probe",):  # the probe and the streams: the audit battery
        shutil.copy(paths.PROBLEMS / f"{name}.toml", root / "derivations" / "problems")
    shutil.copytree(paths.STREAMS, root / "derivations" / "streams", dirs_exist_ok=True)
    shutil.copy(paths.GOLDEN / f"{TINY_GOLDEN}.json", root / "derivations" / "golden")
    manifest = (paths.GOLDEN / "manifest.toml").read_text().split("[[golden]]")[1]
    assert f'id = "{TINY_GOLDEN}"' in manifest
    (root / "derivations" / "golden" / "manifest.toml").write_text("[[golden]]" + manifest)
    shutil.copy(paths.CALIBRATION, root / "derivations")  # the report quotes the audit's score
    return root


@pytest.fixture()
def tiny_root(tmp_path, monkeypatch):
    """``make_tiny_root`` in a temporary directory, made the project root of this process."""
    from verify import paths

    root = make_tiny_root(tmp_path / "root")
    for name, value in root_paths(root).items():
        monkeypatch.setattr(paths, name, value)
    return root


def root_paths(root: Path) -> dict[str, Path]:
    """verify.paths' constants for another project root (what ADAM_VERIFY_ROOT sets)."""
    d = root / "derivations"
    return {"DERIVATIONS": d, "PROBLEMS": d / "problems", "GOLDEN": d / "golden",
            "CLAIMS": d / "claims", "SYMBOLIC": d / "symbolic", "STREAMS": d / "streams",
            "CALIBRATION": d / "calibration.json", "SENSITIVITY": d / "sensitivity.json",
            "REPORTS": root / "reports",
            "ARTICLE_CLAIMS": d / "claims" / "adam_deeply_explained.toml",
            "KINGMA_BA_CLAIMS": d / "claims" / "kingma_ba_2015.toml", "BUNDLED": d}


FUZZ: dict[str, int] = {}
EXITS: dict[str, dict[int, int]] = {}  # fuzzed CLI runs: verb → exit status → count


def pytest_sessionfinish(session):
    """Under pytest-xdist each worker hands its counts to the controller."""
    out = getattr(session.config, "workeroutput", None)
    if out is not None:
        out["fuzz"], out["exits"] = dict(FUZZ), {k: dict(v) for k, v in EXITS.items()}


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: pytest -p no:xdist still runs
def pytest_testnodedown(node, error):
    out = getattr(node, "workeroutput", {})
    for k, n in out.get("fuzz", {}).items():
        FUZZ[k] = FUZZ.get(k, 0) + n
    for verb, codes in out.get("exits", {}).items():
        mine = EXITS.setdefault(verb, {})
        for code, n in codes.items():
            mine[int(code)] = mine.get(int(code), 0) + n


def pytest_terminal_summary(terminalreporter):
    if FUZZ:
        total = sum(FUZZ.values())
        parts = ", ".join(f"{k} {v}" for k, v in sorted(FUZZ.items()))
        terminalreporter.write_line(f"adversarial input cases tried: {total} ({parts}); "
                                    "any uncaught exception fails its test")
    if EXITS:
        parts = "; ".join(f"{verb} " + ", ".join(f"{code}: {n}" for code, n in sorted(c.items()))
                          for verb, c in sorted(EXITS.items()))
        terminalreporter.write_line(f"fuzzed CLI exit statuses: {parts}")
