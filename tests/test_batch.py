"""The report's audits run in worker processes while the main process works on: results come
back in the pairs' order whether tasks are grouped by implementation or not, equal to audits
run in this process; a failing caller stops the workers instead of waiting for them."""

import time
from pathlib import Path

import pytest

from verify.auditing.batch import _one, start_audits

MUTANT = "tests.mutants.adam_family:adam_swapped_betas"


def _verdicts(audits):
    return [(a.impl, a.optimizer, a.verdict, a.model) for a in audits]


def test_grouped_tasks_come_back_in_the_pairs_order():
    """Two implementations on two workers: one task per implementation (the mutant's first in
    the pairs, the cheaper numpy's last); the results follow the pairs, and equal the same
    audits run here (expected values: ``audit`` in this process)."""
    pairs = [(MUTANT, "gd"), ("numpy", "rmsprop"), ("numpy", "gd"), (MUTANT, "momentum")]
    pending = start_audits(pairs, workers=2)
    assert len(pending.futures) == 2  # grouped by implementation
    audits, skips = pending.collect()
    here = [_one(i, o) for i, o in pairs]
    assert _verdicts(audits) == _verdicts([h for h in here if not isinstance(h, str)])
    assert [s for _, _, s in skips] == [h for h in here if isinstance(h, str)]
    assert len(audits) + len(skips) == 4


def test_one_implementation_is_split_per_pair():
    pending = start_audits([("numpy", "adam"), ("numpy", "rmsprop")], workers=2)
    assert len(pending.futures) == 2  # one implementation: a task per pair, both workers busy
    audits, _ = pending.collect()
    assert [(a.optimizer, a.verdict) for a in audits] == [("adam", "consistent"),
                                                          ("rmsprop", "consistent")]


def _ended(pid: int) -> bool:
    """Whether the process is gone or a zombie (the pool's own thread may reap it first, after
    which ``Process.is_alive`` can no longer tell)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status or "\nState:\tX" in status


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_cancel_ends_the_workers_at_once():
    pending = start_audits([("numpy", o) for o in ("adam", "adamw", "amsgrad", "rmsprop")],
                           workers=2)
    time.sleep(1.0)  # let the workers start
    pids = list(pending.pool._processes)
    start = time.perf_counter()
    pending.cancel()
    while not all(_ended(pid) for pid in pids) and time.perf_counter() - start < 10:
        time.sleep(0.05)
    assert all(_ended(pid) for pid in pids)
    assert time.perf_counter() - start < 5  # not after an audit's worth of waiting
