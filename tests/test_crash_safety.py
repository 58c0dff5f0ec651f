"""Fault injection: ``golden --update`` and ``report`` killed with SIGKILL while they write. Every
file they write must afterwards be whole: the old version or the new one, never a mix or a
prefix. A kill can leave a hidden ``.NAME.*.tmp`` file beside it (the write in progress), never
anything under a real name.

The processes run side by side (one working tree each) and are killed at seeded moments measured
from the first sign of writing (the output directory changes: a temporary file appears), so that
the kills land among the writes rather than in the seconds of computing before them."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from verify import paths
from verify.cli.main import main

from .conftest import make_tiny_root, root_paths

# Seconds after the first write is seen; 0 kills inside the first write (between creating the
# temporary file and renaming it), the others among the following writes or after the last.
DELAYS = (0.0, 0.0005, 0.002, 0.01, 0.05, 0.3)


def stamps(dirs: list[Path]) -> tuple[int, ...]:
    """Modification times of ``dirs``: creating a temporary file in a directory, or renaming one
    over a file, changes the directory's (one stat per directory, cheap enough to poll)."""
    return tuple(os.stat(d).st_mtime_ns for d in dirs)


def run_and_kill(jobs: list[tuple[list[str], dict, Path, float | None]]) -> list[str]:
    """Start every job (argv, env, watched directory, delay or None for no kill) at once; kill
    each ``delay`` seconds after its directory shows a write. Returns how each ended."""
    procs = []
    for argv, env, watched, delay in jobs:
        dirs = [watched] + sorted(p for p in watched.rglob("*") if p.is_dir())
        p = subprocess.Popen([sys.executable, "-m", "verify", *argv], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append({"p": p, "dirs": dirs, "before": stamps(dirs), "delay": delay, "at": None})
    ended = [""] * len(procs)
    while any(not e for e in ended):
        for i, job in enumerate(procs):
            p = job["p"]
            if ended[i]:
                continue
            if p.poll() is not None:
                ended[i] = f"exited {p.returncode}" + (f": {p.stderr.read()!r}" if p.returncode else "")
                continue
            if job["delay"] is None:
                continue
            now = time.monotonic()
            if job["at"] is None and stamps(job["dirs"]) != job["before"]:
                job["at"] = now + job["delay"]
            if job["at"] is not None and now >= job["at"]:
                p.send_signal(signal.SIGKILL)
                p.wait()
                ended[i] = f"killed {job['delay']} s after the first write"
        time.sleep(0.0005)
    for job in procs:
        job["p"].stderr.close()
    return ended


def assert_whole(directory: Path, old: dict[str, bytes], new: dict[str, bytes], how: str):
    """Each real file is byte-identical to its old or its new version; the only other files
    are hidden temporary files named after a real one."""
    for dirpath, _, files in os.walk(directory):
        for f in files:
            rel = str((Path(dirpath) / f).relative_to(directory))
            data = (Path(dirpath) / f).read_bytes()
            if f.startswith(".") and f.endswith(".tmp"):
                assert f[1:].split(".tmp")[0].rsplit(".", 1)[0] in {Path(n).name for n in new}, f
                continue
            assert rel in new, f"{rel}: unexpected file ({how})"
            assert data in (old.get(rel), new[rel]), f"{rel}: neither old nor new ({how})"


def read_all(directory: Path, names) -> dict[str, bytes]:
    return {n: (directory / n).read_bytes() for n in names}


def test_killed_golden_update_leaves_old_or_new_files(tmp_path):
    committed = {p.name: p.read_bytes() for p in paths.GOLDEN.glob("*.json")}
    stale = {n: b.replace(b'"0', b'"1', 1) for n, b in committed.items()}  # each file differs
    assert all(stale[n] != committed[n] for n in committed)
    rng = random.Random(17)
    delays = [rng.choice(DELAYS) for _ in range(3)]
    jobs = []
    for k, delay in enumerate(delays):
        root = tmp_path / f"r{k}"
        shutil.copytree(paths.PROBLEMS, root / "derivations" / "problems")
        golden = root / "derivations" / "golden"
        golden.mkdir()
        shutil.copy(paths.GOLDEN / "manifest.toml", golden)
        for n, b in stale.items():
            (golden / n).write_bytes(b)
        jobs.append((["golden", "--update"], dict(os.environ, ADAM_VERIFY_ROOT=str(root)),
                     golden, delay))
    ended = run_and_kill(jobs)
    for (_, _, golden, _), how in zip(jobs, ended):
        assert how.startswith("killed") or how == "exited 0", how
        new = committed | {"manifest.toml": (paths.GOLDEN / "manifest.toml").read_bytes()}
        assert_whole(golden, stale | {"manifest.toml": new["manifest.toml"]}, new, how)


KILL_CLAIMS = """document = "kill test"
[[claim]]
id = "gd.first_gradient"
section = "Step 1"
quote = "the first gradient is (-44, -12)"
kind = "trace"
golden = "linear_regression.gd"
step = 1
quantity = "grad"
claimed = ["-44", "-12"]

[[claim]]
id = "curves"
section = "Curves"
quote = "Adam ends lower than GD"
kind = "experiment"
experiment = "worked_example_curves"
"""
REPORT_FILES = ("kill.md", "figures/kill-worked_example_loss.png")


def test_killed_report_leaves_old_or_new_files(tmp_path, monkeypatch, capsys):
    # A report of two claims on a two-problem tree, no framework audits (--impls none): the
    # same writers as the full report (figures, then the Markdown) in a few seconds.
    # 0 s kills inside the PNG's write; the figure takes milliseconds to write, so 5–20 ms
    # later the Markdown is usually being written (seen: old .md + new .png + .kill.md.*.tmp)
    delays = [0.0, random.Random(1717).choice((0.005, 0.01, 0.02))]
    old = {n: f"old version of {n}\n".encode() for n in REPORT_FILES}
    claims = tmp_path / "kill.toml"  # one path for all: the report names its claims file
    claims.write_text(KILL_CLAIMS)

    def tree(k):
        root = make_tiny_root(tmp_path / f"r{k}")
        for n, b in old.items():
            (root / "out" / n).parent.mkdir(parents=True, exist_ok=True)
            (root / "out" / n).write_bytes(b)
        return root

    argv = ["report", "--claims", str(claims), "--impls", "none", "--out"]
    jobs = [(argv + [str(tree(k) / "out")], dict(os.environ, ADAM_VERIFY_ROOT=str(tmp_path / f"r{k}")),
             tmp_path / f"r{k}" / "out", delay) for k, delay in enumerate(delays)]
    ended = run_and_kill(jobs)
    # the new files: the same report run to the end (in this process, on a tree of its own)
    reference = tree("ref")
    for name, value in root_paths(reference).items():
        monkeypatch.setattr(paths, name, value)
    assert main(argv + [str(reference / "out")]) == 0
    new = read_all(reference / "out", REPORT_FILES)
    assert all(new[n] != old[n] for n in REPORT_FILES)
    assert new["figures/kill-worked_example_loss.png"].startswith(b"\x89PNG")
    for (_, _, out, _), how in zip(jobs, ended):
        assert how.startswith("killed") or how == "exited 0", how
        assert_whole(out, old, new, how)
