"""Many audits at once (the report's framework table): one process per core, each audit a
task; what a framework cannot run is a skip with its reason, not a failure of the batch."""

from __future__ import annotations

import multiprocessing
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


def audit_many(pairs: Sequence[tuple[str, str]], workers: int | None = None,
               progress: Callable[[str], None] = lambda s: None
               ) -> tuple[list[AuditResult], list[tuple[str, str, str]]]:
    """Audit every (implementation, optimizer) pair; results in the pairs' order. Workers are
    spawned, not forked: JAX and torch hold threads that a fork would copy half-alive. A
    built-in implementation's audit is reused from the cache (``verify/cache.py``) when this
    code and these library versions already ran it."""
    audits, skips = [], []
    found = {p: lookup("audit", p) if cacheable(p[0]) else None for p in pairs}
    todo = [p for p in pairs if found[p] is None]
    if workers == 1 or len(todo) < 2:
        fresh = []
        for impl, opt in todo:
            progress(f"audit {impl} {opt}")
            fresh.append(_one(impl, opt))
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = [pool.submit(_one, impl, opt) for impl, opt in todo]
            fresh = []
            for (impl, opt), f in zip(todo, futures, strict=True):
                progress(f"audit {impl} {opt}")
                fresh.append(f.result())
    computed = dict(zip(todo, fresh, strict=True))
    results = []
    for p in pairs:
        if found[p] is not None:
            value, hit = found[p]
            note_taken(hit)
            results.append(value)
        else:
            if cacheable(p[0]):
                store("audit", p, computed[p])
            results.append(computed[p])
    for (impl, opt), r in zip(pairs, results, strict=True):
        if isinstance(r, str):
            skips.append((impl, opt, r))
        else:
            audits.append(r)
    return audits, skips
