"""The CLI end to end: exit statuses, one-line errors, golden --check on a tampered tree."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verify import paths
from verify.cli.main import main


def run_cli(*args, root=None):
    env = None
    if root is not None:
        import os

        env = dict(os.environ, ADAM_VERIFY_ROOT=str(root))
    return subprocess.run([sys.executable, "-m", "verify", *args], capture_output=True,
                          text=True, env=env)


@pytest.mark.parametrize("args", [
    ["golden", "--problem", "nope", "--optimizer", "adam"],
    ["golden", "--problem", "linear_regression", "--optimizer", "sgdx"],
    ["golden", "--problem", "linear_regression", "--optimizer", "adam", "--beta1", "1"],
    ["golden", "--problem", "linear_regression", "--optimizer", "adam", "--lr", "-0.1"],
    ["golden", "--problem", "linear_regression", "--optimizer", "adam", "--lr", "nan"],
    ["golden", "--problem", "linear_regression", "--optimizer", "gd", "--steps", "0"],
    ["golden", "--problem", "linear_regression", "--optimizer", "gd", "--dps", "3"],
    ["golden", "--problem", "linear_regression", "--optimizer", "gd", "--init", "1,2,3"],
    ["golden", "--problem", "/nonexistent/p.toml", "--optimizer", "gd"],
    ["report", "--claims", "/nonexistent/claims.toml"],
    ["frobnicate"],
])
def test_bad_input_is_one_line_and_exit_2(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("adam-verify: error:")
    assert "Traceback" not in err


def test_golden_out_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "t.json"
    out.write_text("keep me")
    assert main(["golden", "--problem", "linear_regression", "--optimizer", "gd",
                 "--out", str(out)]) == 2
    assert out.read_text() == "keep me"


@pytest.fixture()
def tree(tmp_path):
    """A copy of the data tree, so tampering does not touch the real goldens."""
    shutil.copytree(paths.DERIVATIONS, tmp_path / "derivations")
    return tmp_path


def test_golden_check_passes_then_detects_tampering(tree):
    ok = run_cli("golden", "--check", root=tree)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    path = tree / "derivations" / "golden" / "linear_regression.gd.json"
    path.write_text(path.read_text().replace('"-33.6"', '"-28.16"'))
    bad = run_cli("golden", "--check", root=tree)
    assert bad.returncode == 1
    assert "linear_regression.gd: modified or truncated" in bad.stdout
    assert '-28.16' in bad.stdout  # the readable diff shows the changed value
    upd = run_cli("golden", "--update", root=tree)
    assert upd.returncode == 0 and "updated linear_regression.gd" in upd.stdout
    assert run_cli("golden", "--check", root=tree).returncode == 0


def test_report_writes_markdown(tree):
    out = tree / "out"
    res = run_cli("report", "--out", str(out), "--impls", "numpy", root=tree)
    assert res.returncode == 0, res.stderr
    text = (out / "article.md").read_text()
    assert "| -28.16 | -33.6 |" in text
    assert "| 0.0496 | 0.0499712923201… |" in text


def test_report_to_unwritable_path(tree):
    blocker = tree / "file"
    blocker.write_text("x")
    res = run_cli("report", "--out", str(Path(blocker) / "sub"), root=tree)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1


def test_derive_check_detects_stale_derivation(tree):
    path = tree / "derivations" / "symbolic" / "quartic.md"
    assert run_cli("derive", "--check", root=tree).returncode == 0
    path.write_text(path.read_text().replace("stationary inflection point", "local minimum"))
    res = run_cli("derive", "--check", root=tree)
    assert res.returncode == 1 and "quartic.md: differs" in res.stdout


def test_derive_prints_markdown(capsys):
    assert main(["derive", "--problem", "quartic"]) == 0
    out = capsys.readouterr().out
    assert "degenerate: stationary inflection point" in out and "\\frac{9}{4}" in out
