"""Keras on the torch backend runs in one serving child per process (verify/runners/keras_.py):
jobs go in line by line, the same child serves every audit, and a dead child is replaced."""

import pytest

from verify.auditing.battery import rule_hyper
from verify.golden.spec import RunSpec
from verify.symbolic.problems import find_problem


def test_one_child_serves_every_run_and_a_dead_one_is_replaced():
    pytest.importorskip("keras")
    pytest.importorskip("torch")
    from verify.runners import keras_

    spec = RunSpec(find_problem("probe"), "adam", rule_hyper("adam", {"lr": "0.01"}), 6)
    first = keras_.run_keras_child([spec], "torch")[0]
    child = keras_._server("torch")
    second = keras_.run_keras_child([spec, spec], "torch")
    assert keras_._server("torch") is child and child.poll() is None  # the same process
    # the same job gives the same trace, value for value (keras on torch is deterministic)
    assert [s.params for s in second[0].steps] == [s.params for s in first.steps]
    assert second[0].steps == second[1].steps and len(first.steps) == 7
    child.kill()  # a child that died between jobs is replaced before the next one
    child.wait()
    again = keras_.run_keras_child([spec], "torch")[0]
    assert keras_._server("torch") is not child
    assert [s.params for s in again.steps] == [s.params for s in first.steps]


def test_a_process_that_claimed_torch_runs_keras_torch_itself():
    """An audit worker with only Keras-on-torch audits loads Keras on torch itself
    (``claim_backend``): no child process, and the same trace, value for value, as the child's
    (expected values: the serving child, in this process)."""
    import json
    import os
    import subprocess
    import sys

    pytest.importorskip("keras")
    pytest.importorskip("torch")
    from verify.runners import keras_

    code = (
        "import json\n"
        "from verify.auditing.battery import rule_hyper\n"
        "from verify.auditing.run import run_many\n"
        "from verify.symbolic.problems import find_problem\n"
        "from verify.runners import keras_\n"
        "from verify.golden.spec import RunSpec\n"
        "spec = RunSpec(find_problem('probe'), 'adam', rule_hyper('adam', {'lr': '0.01'}), 6)\n"
        "keras_.claim_backend('torch')\n"
        "out = run_many('keras-torch', [spec])[0]\n"
        "print(json.dumps({'servers': len(keras_._SERVERS), 'backend': keras_.loaded_backend(),"
        " 'impl': out.arithmetic['implementation'], 'params': [list(s.params) for s in out.steps]}))\n")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=300, check=True)
    here = json.loads(done.stdout.strip().splitlines()[-1])
    spec = RunSpec(find_problem("probe"), "adam", rule_hyper("adam", {"lr": "0.01"}), 6)
    child = keras_.run_keras_child([spec], "torch")[0]
    assert (here["servers"], here["backend"], here["impl"]) == (0, "torch", "keras-torch")
    assert here["params"] == [list(s.params) for s in child.steps]
