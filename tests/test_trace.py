"""Trace files: round trip, tamper detection, atomic writes."""

import os
import signal
import subprocess
import sys
import time

import pytest

from verify.errors import InputError
from verify.files import write_atomic
from verify.golden.run import run_golden
from verify.golden.spec import RunSpec
from verify.golden.trace import dumps, loads, read_trace


@pytest.fixture(scope="module")
def text(linreg):
    return dumps(run_golden(RunSpec(linreg, "adam", {"lr": "0.01"}, 3)))


def test_round_trip(text):
    assert dumps(loads(text)) == text


def test_modified_value_is_detected(text):
    tampered = text.replace('"-44"', '"-45"', 1)
    assert tampered != text
    with pytest.raises(InputError, match="sha256"):
        loads(tampered)


def test_truncated_file_is_detected(tmp_path, text):
    path = tmp_path / "g.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match="g.json"):
        read_trace(path)


def test_kill_during_write_keeps_old_file(tmp_path):
    # A child writes a 50 MB payload through write_atomic and is killed mid-way: the old file
    # must survive intact and no partial file may take its place.
    path = tmp_path / "golden.json"
    path.write_text("old contents\n")
    code = ("import sys; from verify.golden.trace import write_atomic;"
            "write_atomic(sys.argv[1], 'x' * 50_000_000 + chr(10) * 1)")
    for delay in (0.0, 0.02, 0.05):
        proc = subprocess.Popen([sys.executable, "-c", code, str(path)])
        time.sleep(0.3 + delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        body = path.read_text()
        assert body == "old contents\n" or len(body) == 50_000_001
        if body != "old contents\n":
            path.write_text("old contents\n")


def test_write_atomic_replaces(tmp_path):
    path = tmp_path / "a.txt"
    write_atomic(path, "one")
    write_atomic(path, "two")
    assert path.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0o600
