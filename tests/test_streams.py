"""Parallel goldens over independent coordinates equal the serial ones and the trace engine."""

from verify.golden.run import run_golden
from verify.golden.spec import RunSpec
from verify.golden.streams import golden_streams
from verify.symbolic.problems import load_problem


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


def test_stream_texts_are_mpmaths_certified_text():
    # The same two MPFR runs certified value by value through mpmath (golden.certified_text):
    # the expected texts and digit counts.
    import mpmath

    from verify.golden.arith import MpfrArith
    from verify.golden.run import certified_text
    from verify.golden.spec import check_hyper, get_rule
    from verify.rules import iterate

    stream = ["0.3", "-1.25", "2e-9", "0", "7"]
    got = golden_streams("adam", {"lr": "0.1"}, ["1"], [stream], workers=1)
    ctx = mpmath.MPContext()
    ctx.prec = mpmath.libmp.dps_to_prec(100) + 64
    runs = []
    for ar in (MpfrArith(50), MpfrArith(100)):
        with ar.activate():
            hp = {k: ar.num(v) for k, v in check_hyper(get_rule("adam"), {"lr": "0.1"}).items()}
            g = [ar.num(s) for s in stream]
            recs = iterate(get_rule("adam"), hp, [ar.num("1")], lambda p, t, g=g: [g[t - 1]], 5,
                           ar)
            runs.append([ar.to_mpmath(r.params[0], ctx) for r in recs])
    want = [certified_text(a, b, 50, ctx) for a, b in zip(*runs, strict=True)]
    assert got.params[0] == tuple(t for t, _ in want)
    assert got.digits[0] == min(d for _, d in want)
