"""Parallel goldens over independent coordinates equal the serial ones and the trace engine."""

from verify.golden import run_golden
from verify.problems import load_problem
from verify.spec import RunSpec
from verify.streams import golden_streams


def test_parallel_equals_serial_and_the_problem_engine(tmp_path):
    # Coordinate 0 is fed the gradient stream of the online problem phases ["1", "-2", "0.5"]
    # (gradient of phase k is its coefficient); the engine's own golden must agree exactly.
    path = tmp_path / "lin.toml"
    path.write_text('name = "lin"\nparams = ["x"]\nphases = ["0.5*x", "x", "-2*x"]\n'
                    '[init]\nx = "0.25"\n')
    trace = run_golden(RunSpec(load_problem(path), "adam", {"lr": "0.01"}, 9))
    stream = ["1", "-2", "0.5"] * 3  # t = 1, 2, 3, ...: phases[t % 3]
    others = [[str(k * 0.125 - 1)] * 9 for k in range(11)]
    serial = golden_streams("adam", {"lr": "0.01"}, ["0.25"] + ["0"] * 11, [stream] + others,
                            workers=1)
    parallel = golden_streams("adam", {"lr": "0.01"}, ["0.25"] + ["0"] * 11, [stream] + others,
                              workers=2)
    assert serial == parallel
    assert serial.params[0] == tuple(s.params[0] for s in trace.steps)
    assert min(serial.digits) >= 30
