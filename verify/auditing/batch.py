"""Many audits at once (the report's framework table): one process per core, each audit a
task; what a framework cannot run is a skip with its reason, not a failure of the batch."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from ..cache import lookup, note_taken, store
from ..errors import InputError
from .result import AuditResult


def cacheable(impl: object) -> bool:
    """Built-in implementations only: a user's module is not part of the code fingerprint."""
    from .run import BUILTIN

    return isinstance(impl, str) and impl in BUILTIN


def _one(impl: str, optimizer: str) -> AuditResult | str:
    from .run import audit

    try:
        return audit(impl, optimizer)
    except InputError as exc:  # e.g. a framework without that optimizer
        return str(exc)


def _group(pairs: list[tuple[str, str]]) -> list[AuditResult | str]:
    return [_one(impl, opt) for impl, opt in pairs]


# seconds of the five audits of a report per implementation, one core (measured, 2 CPUs)
COST = {"keras": 46.0, "optax": 31.0, "keras-torch": 20.0, "torch": 13.6, "torch-foreach": 8.4,
        "torch-fused": 5.9, "mlx-default": 5.5, "numpy": 5.5, "mlx": 4.7}


class PendingAudits:
    """Audits started in worker processes (``start_audits``); ``collect`` waits for them. The
    caller works on meanwhile: the report computes its derivations and experiments while the
    frameworks run."""

    def __init__(self, pairs: Sequence[tuple[str, str]], workers: int | None = None):
        self.pairs = list(pairs)
        self.found = {p: lookup("audit", p) if cacheable(p[0]) else None for p in self.pairs}
        self.todo = [p for p in self.pairs if self.found[p] is None]
        self.pool = None
        self.futures: list = []
        if workers != 1 and len(self.todo) >= 2:
            workers = workers or os.cpu_count() or 1
            ctx = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(workers, mp_context=ctx)
            # one task per implementation when there are enough of them (a worker imports a
            # framework once, Keras-on-torch starts one serving child), the longest first so
            # that the workers finish together (COST)
            impls = list(dict.fromkeys(i for i, _ in self.todo))
            groups = ([[p for p in self.todo if p[0] == i] for i in impls]
                      if len(impls) >= workers else [[p] for p in self.todo])
            groups.sort(key=lambda g: -COST.get(g[0][0], 0.0) * len(g))
            self.todo = [p for g in groups for p in g]
            self.futures = [(g, self.pool.submit(_group, g)) for g in groups]

    def cancel(self) -> None:
        """Stop the audits now (the caller failed): queued ones are dropped, running workers
        ended rather than waited for."""
        if self.pool:
            procs = list((getattr(self.pool, "_processes", None) or {}).values())  # no public way
            self.pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.terminate()
            self.pool = None
            self.futures = []
            self.todo = []

    def collect(self, progress: Callable[[str], None] = lambda s: None
                ) -> tuple[list[AuditResult], list[tuple[str, str, str]]]:
        """The results in the pairs' order, and the pairs a framework could not run."""
        fresh = []
        try:
            if self.pool:
                for group, future in self.futures:
                    progress(f"audit {group[0][0]} {', '.join(o for _, o in group)}")
                    fresh += future.result()
            else:
                for impl, opt in self.todo:
                    progress(f"audit {impl} {opt}")
                    fresh.append(_one(impl, opt))
        finally:
            if self.pool:
                self.pool.shutdown(cancel_futures=True)
        computed = dict(zip(self.todo, fresh, strict=True))
        audits, skips = [], []
        for p in self.pairs:
            if self.found[p] is not None:
                value, hit = self.found[p]
                note_taken(hit)
            else:
                value = computed[p]
                if cacheable(p[0]):
                    store("audit", p, value)
            if isinstance(value, str):
                skips.append((p[0], p[1], value))
            else:
                audits.append(value)
        return audits, skips


def start_audits(pairs: Sequence[tuple[str, str]], workers: int | None = None) -> PendingAudits:
    """Start auditing every (implementation, optimizer) pair in worker processes (spawned, not
    forked: JAX and torch hold threads that a fork would copy half-alive); a built-in
    implementation's audit is reused from the cache (``verify/cache.py``) when this code and
    these library versions already ran it."""
    return PendingAudits(pairs, workers)


def audit_many(pairs: Sequence[tuple[str, str]], workers: int | None = None,
               progress: Callable[[str], None] = lambda s: None
               ) -> tuple[list[AuditResult], list[tuple[str, str, str]]]:
    """Audit every pair (``start_audits``) and wait: results in the pairs' order."""
    return start_audits(pairs, workers).collect(progress)
