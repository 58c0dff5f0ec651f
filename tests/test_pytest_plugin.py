"""The pytest plugin, used as a user would: pytest run in a subprocess on a throwaway test file,
with the plugin loaded through its ``pytest11`` entry point (no ``-p`` flag)."""

import os
import subprocess
import sys
from pathlib import Path

import verify

USER_TESTS = '''
import os

import numpy as np

from verify.auditing import run_impl
from verify.symbolic.problems import find_problem
from verify.golden.spec import RunSpec


def adam(params, grad, state, t, hyper):
    b1, b2 = np.float32(hyper["beta1"]), np.float32(hyper["beta2"])
    m = b1 * state.get("m", np.zeros_like(params)) + (np.float32(1) - b1) * grad
    v = b2 * state.get("v", np.zeros_like(params)) + (np.float32(1) - b2) * grad * grad
    m_hat = m / np.float32(1 - hyper["beta1"] ** t)
    v_hat = v / np.float32(1 - hyper["beta2"] ** t)
    step = np.float32(hyper["lr"]) * m_hat / (np.sqrt(v_hat) + np.float32(hyper["eps"]))
    return (params - step).astype(np.float32), {"m": m, "v": v}


def adam_without_bias_correction(params, grad, state, t, hyper):
    b1, b2 = np.float32(hyper["beta1"]), np.float32(hyper["beta2"])
    m = b1 * state.get("m", np.zeros_like(params)) + (np.float32(1) - b1) * grad
    v = b2 * state.get("v", np.zeros_like(params)) + (np.float32(1) - b2) * grad * grad
    step = np.float32(hyper["lr"]) * m / (np.sqrt(v) + np.float32(hyper["eps"]))
    return (params - step).astype(np.float32), {"m": m, "v": v}


def test_correct_adam(optimizer_audit):
    optimizer_audit(adam, "adam", quick=True)


def test_buggy_adam(optimizer_audit):
    optimizer_audit(adam_without_bias_correction, "adam", quick=True)


def test_buggy_adam_is_what_we_expect(optimizer_audit):
    optimizer_audit(adam_without_bias_correction, "adam", expect="adam-nobias", quick=True)


def test_trace_snapshot(adam_snapshot):
    lr = os.environ.get("USER_LR", "0.01")
    spec = RunSpec(find_problem("probe"), "adam", {"lr": lr, "eps": "0.1"}, 5)
    adam_snapshot(run_impl(adam, spec))
'''


def run_pytest(folder: Path, *args: str, lr: str = "0.01") -> subprocess.CompletedProcess:
    # the plugin under test is this checkout's (the one this process imported), also where the
    # installed package points elsewhere (an editable install of another working tree)
    here = str(Path(verify.__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, USER_LR=lr, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=path)
    # Hypothesis' plugin (installed here for this project's own tests) plays no part in the
    # throwaway file and takes 1.5 s of each run's 4 s to import: left out
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:hypothesispytest", "--rootdir", str(folder), *args,
                           str(folder / "test_user.py")],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=600)


def user_folder(tmp_path: Path) -> Path:
    """The throwaway test file written in ``tmp_path`` (no snapshot yet); the snapshot's path."""
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    return tmp_path / "__adam_verify__" / "test_user" / "test_trace_snapshot.json"


# Two tests, each from a fresh folder, so that pytest-xdist can run them side by side: the first
# run of the whole file, then the snapshot's life (written, kept, changed, updated).

def test_plugin_passes_and_fails_with_the_table(tmp_path):
    snap = user_folder(tmp_path)

    # first run: the audits pass and fail as they should; the missing snapshot fails
    first = run_pytest(tmp_path)
    out = first.stdout
    assert first.returncode == 1, out
    assert "2 failed, 2 passed" in out, out
    # the buggy Adam fails with the verdict line and the discrepancy table (values vs golden)
    assert "FAILED test_user.py::test_buggy_adam " in out
    assert "adam_without_bias_correction adam (float32, —): discrepant with adam" in out
    assert "computes adam-nobias" in out
    assert "setting" in out and "probe" in out and "first outside" in out
    assert "values more than 4 ULP from the golden in setting probe" in out
    assert "step  quantity" in out
    assert "Traceback" not in out
    assert "no snapshot __adam_verify__/test_user/test_trace_snapshot.json; run pytest " \
           "--adam-verify-update to write it" in out
    assert not snap.exists()


def test_plugin_writes_keeps_and_updates_snapshots(tmp_path):
    snap = user_folder(tmp_path)
    assert not snap.exists()

    # --adam-verify-update writes it, and says so
    written = run_pytest(tmp_path, "--adam-verify-update", "-k", "snapshot")
    assert written.returncode == 0, written.stdout
    assert "test_trace_snapshot.json: written (new)" in written.stdout
    stored = snap.read_text()
    assert '"lr": "0.01"' in stored

    # unchanged trace: passes, nothing rewritten
    same = run_pytest(tmp_path, "-k", "snapshot")
    assert same.returncode == 0 and "1 passed" in same.stdout, same.stdout
    assert snap.read_text() == stored

    # a changed optimizer (lr 0.02): fails with what changed, the file is untouched
    changed = run_pytest(tmp_path, "-k", "snapshot", lr="0.02")
    assert changed.returncode == 1, changed.stdout
    assert "value(s) more than 0 ULP from the stored trace" in changed.stdout
    assert "now" in changed.stdout and "stored" in changed.stdout
    assert snap.read_text() == stored

    # update rewrites it and names the first change
    updated = run_pytest(tmp_path, "-k", "snapshot", "--adam-verify-update", lr="0.02")
    assert updated.returncode == 0, updated.stdout
    assert "test_trace_snapshot.json: updated, " in updated.stdout
    assert "first at step 1 params[0]" in updated.stdout
    assert '"lr": "0.02"' in snap.read_text()
