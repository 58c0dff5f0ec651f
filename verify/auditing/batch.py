"""Many audits at once (the report's framework table): one process per core, each audit a
task; what a framework cannot run is a skip with its reason, not a failure of the batch."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from ..errors import InputError
from .result import AuditResult


def _one(impl: str, optimizer: str) -> AuditResult | str:
    from .run import audit

    try:
        return audit(impl, optimizer)
    except InputError as exc:  # e.g. a framework without that optimizer
        return str(exc)


def audit_many(pairs: Sequence[tuple[str, str]], workers: int | None = None,
               progress: Callable[[str], None] = lambda s: None
               ) -> tuple[list[AuditResult], list[tuple[str, str, str]]]:
    """Audit every (implementation, optimizer) pair; results in the pairs' order. Workers are
    spawned, not forked: JAX and torch hold threads that a fork would copy half-alive."""
    audits, skips = [], []
    if workers == 1 or len(pairs) < 2:
        results = []
        for impl, opt in pairs:
            progress(f"audit {impl} {opt}")
            results.append(_one(impl, opt))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = [pool.submit(_one, impl, opt) for impl, opt in pairs]
            results = []
            for (impl, opt), f in zip(pairs, futures, strict=True):
                progress(f"audit {impl} {opt}")
                results.append(f.result())
    for (impl, opt), r in zip(pairs, results, strict=True):
        if isinstance(r, str):
            skips.append((impl, opt, r))
        else:
            audits.append(r)
    return audits, skips
