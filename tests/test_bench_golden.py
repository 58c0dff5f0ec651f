"""The golden rows of ``adam-verify bench`` measure what they name (a smoke test: timings
themselves are the machine's)."""

from verify.bench import golden_pair


def test_golden_pair_measures_both_engines_and_the_bare_step():
    mpm, mpf, bare = golden_pair(steps=4, rounds=1)
    assert (mpm.count, mpf.count, bare.count) == (4, 4, 1)
    assert "mpmath" in mpm.name and "mpfr" in mpf.name and "bare" in bare.name
    assert min(mpm.seconds, mpf.seconds, bare.seconds) > 0
