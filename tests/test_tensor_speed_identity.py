"""The chunked NumPy tensor stepper (issue #14, speed) computes bit for bit what the plain
generic rule computes on the whole vector: same parameters, same state, NaN patterns included.

The expected values come from ``reference_step``: the shared rule of ``verify/rules/`` run
once on the whole vector with ``Float32Arith``, which is what the NumPy stepper did before it
was chunked."""

from __future__ import annotations

import numpy as np
import pytest

from verify.golden.arith import Float32Arith
from verify.golden.spec import check_hyper
from verify.rules import RULES
from verify.runners.tensor import CHUNK, chunk_spans, chunked_step, stepper

STEPS = 6
# three whole chunks and a ragged tail: every chunk boundary and the short last chunk are hit
SIZE = 3 * CHUNK + 4321


def reference_step(rule, g: np.ndarray, state, x: np.ndarray, t: int,
                   hp: dict, ar: Float32Arith):
    """One step of ``rule`` on the whole vector at once (new parameters, new state): the plain
    generic rule, the reference that ``chunked_step`` must match bit for bit."""
    with np.errstate(all="ignore"):
        delta, new, _ = rule.update(g, state, x, t, hp, ar)
        return x + delta, new



def _gradients(n: int, t: int) -> np.ndarray:
    """Random float32 gradients with exact zeros, huge values (g² overflows), tiny ones
    (subnormal g, g² underflows to 0) and, from step 4 on, a few infinities and NaNs."""
    rng = np.random.default_rng([14, t])
    g = rng.standard_normal(n, dtype=np.float32)
    kind = rng.integers(0, 8, n)
    g[kind == 0] = 0
    with np.errstate(over="ignore"):
        g[kind == 1] *= np.float32(1e30)
        g[kind == 2] *= np.float32(1e-41)
        g[kind == 3] *= np.float32(3e38)
    if t >= 4:
        g[rng.integers(0, n, 9)] = np.inf
        g[rng.integers(0, n, 9)] = -np.inf
        g[rng.integers(0, n, 9)] = np.nan
    return g


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).view(np.uint32)


def _assert_same(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.dtype == want.dtype == np.float32, what
    same = _bits(got) == _bits(want)
    assert same.all(), f"{what}: {np.count_nonzero(~same)} elements differ, first at " \
                       f"{int(np.argmin(same))}"


def _start(name: str, n: int):
    rule = RULES[name]
    ar = Float32Arith("float32")
    hp = {k: ar.num(v) for k, v in check_hyper(rule, {"lr": "0.001"}).items()}
    x0 = np.random.default_rng(3).uniform(-1, 1, n).astype(np.float32)
    return rule, ar, hp, x0


def _run_both(name: str, n: int, chunk: int, threads: int = 1) -> None:
    rule, ar, hp, x0 = _start(name, n)
    x_ref, s_ref = x0.copy(), rule.init(x0, ar)
    x_new, s_new = x0.copy(), rule.init(x0, ar)
    for t in range(1, STEPS + 1):
        g = _gradients(n, t)
        x_ref, s_ref = reference_step(rule, g, s_ref, x_ref, t, hp, ar)
        x_new = chunked_step(rule, g, s_new, x_new, t, hp, ar, chunk, threads)
        _assert_same(x_new, x_ref, f"{name} params, step {t}")
        assert set(s_new) == set(s_ref)
        for k in s_ref:
            _assert_same(s_new[k], s_ref[k], f"{name} state {k}, step {t}")
    assert np.isnan(x_ref).any(), "the NaN gradients reached the parameters"


@pytest.mark.parametrize("name", ["adam", "adamw", "amsgrad", "adamax", "momentum", "rmsprop"])
def test_chunked_step_is_bit_identical(name):
    _run_both(name, SIZE, CHUNK)


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("n", [3 * 64 + 37, 3 * 64 + 5, 64, 63, 129, 17, 1])
def test_every_rule_small_chunks(name, n):
    """Every rule of RULES, chunks of 64, on sizes below, at and around the chunk size (a
    ragged rest of 5 < 16 elements: shorter than a SIMD block, merged into the last chunk)."""
    _run_both(name, n, 64)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("name", ["adam", "amsgrad", "momentum"])
def test_threads_share_the_chunks_bit_for_bit(name, threads):
    """Chunks shared among threads: the same slices, so the same bits as the whole vector (77
    chunks of 64 plus a ragged rest, split into groups per thread)."""
    _run_both(name, 77 * 64 + 29, 64, threads)


def test_chunk_spans():
    assert chunk_spans(3 * 64 + 5, 64) == [(0, 64), (64, 128), (128, 197)]
    assert chunk_spans(128, 64) == [(0, 64), (64, 128)]
    assert chunk_spans(100, 64) == [(0, 100)]
    assert chunk_spans(0, 64) == []
    with pytest.raises(ValueError):
        chunk_spans(10, 48)


@pytest.mark.parametrize("name", ["adam", "adamw", "amsgrad", "adamax"])
def test_numpy_stepper_matches_reference(name):
    """The stepper the audits and ``bench`` use (chunked, constants once per step, float32
    gradients) returns the reference parameters, and a fresh array every step."""
    rule, ar, hp, x0 = _start(name, SIZE)
    run = stepper("numpy", name, check_hyper(rule, {"lr": "0.001"}), x0)
    x_ref, s_ref = x0.copy(), rule.init(x0, ar)
    previous = None
    for t in range(1, STEPS + 1):
        g = _gradients(SIZE, t)
        x_ref, s_ref = reference_step(rule, g, s_ref, x_ref, t, hp, ar)
        got = run(g)
        _assert_same(got, x_ref, f"{name} stepper, step {t}")
        assert previous is None or not np.shares_memory(got, previous)
        previous = got


def test_state_values_that_alias_other_state_are_copied_first():
    """A rule whose new state is another key's old slice (a swap) gets the old values."""
    from verify.rules import Rule

    def update(g, state, x, t, hp, ar):
        return g * hp["lr"], {"a": state["b"], "b": state["a"]}, {}

    rule = Rule("swap", {"lr": "1"}, lambda x, ar: {"a": x * 0 + 1, "b": x * 0 + 2}, update,
                ("a", "b"))
    ar = Float32Arith("float32")
    x = np.zeros(200, np.float32)
    state = rule.init(x, ar)
    chunked_step(rule, x, state, x, 1, {"lr": ar.num("1")}, ar, chunk=64)
    assert (state["a"] == 2).all() and (state["b"] == 1).all()


def test_a_forked_child_steps_with_threads_of_its_own():
    """The thread pool is per process: a child forked after the parent used it still finishes
    its step (an inherited pool has no threads: it would wait forever) with the same bits."""
    import multiprocessing

    rule, ar, hp, x0 = _start("adam", 77 * 64)
    g = _gradients(x0.size, 1)
    want = chunked_step(rule, g, rule.init(x0, ar), x0, 1, hp, ar, 64, 2)  # pool made here
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(_child_step, (x0, g)).get(timeout=60)
    _assert_same(got, want, "forked child")


def _child_step(x0, g):
    rule, ar, hp, _ = _start("adam", x0.size)
    return chunked_step(rule, g, rule.init(x0, ar), x0, 1, hp, ar, 64, 2)
