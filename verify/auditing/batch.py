"""Many audits at once (the report's framework table): one process per core, each audit a
task; what a framework cannot run is a skip with its reason, not a failure of the batch."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ..cache import lookup, note_taken, store
from ..errors import InputError, LostRun
from .result import AuditResult


def cacheable(impl: object) -> bool:
    """Built-in implementations only: a user's module is not part of the code fingerprint."""
    from .run import BUILTIN

    return isinstance(impl, str) and impl in BUILTIN


def _one(impl: str, optimizer: str) -> AuditResult | str:
    from .run import audit

    try:
        return audit(impl, optimizer)
    except LostRun as exc:  # a child process died: not a verdict, tried again next time
        return Lost(str(exc))
    except InputError as exc:  # e.g. a framework without that optimizer
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - one framework failing must not end the batch
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Lost(f"the audit raised {type(exc).__name__}: {text}"[:300])


def _group(pairs: list[tuple[str, str]], questions: Sequence[Question] = (),
           keras_backend: str = "jax") -> tuple[list[AuditResult | str], dict[Question, Any]]:
    """A worker's task: the audits of ``pairs``, then the questions on the packages they
    imported (answered here, where the import is paid already). A question on Keras is
    answered only where Keras runs on ``keras_backend``, the one the caller would load."""
    from ..runners.keras_ import claim_backend, loaded_backend

    impls = {impl for impl, _ in pairs}
    if "keras-torch" in impls and "keras" not in impls:  # this worker's Keras: on torch, here
        claim_backend("torch")
    results = [_one(impl, opt) for impl, opt in pairs]
    answers = {}
    for q in questions:
        if "keras" in q.packages and loaded_backend() not in (None, keras_backend):
            continue
        try:
            answers[q] = q.answer()
        except Exception:  # noqa: BLE001 - left to the caller, which asks again and reports it
            pass
    return results, answers


# seconds of the five audits of a report per implementation in a fresh process, imports
# included, one core (measured, 2 CPUs, 2026-12-02)
COST = {"keras-torch": 7.5, "keras": 7.3, "optax": 5.0, "torch": 4.1, "torch-foreach": 4.0,
        "torch-fused": 3.2, "mlx-default": 1.5, "mlx": 1.4, "numpy": 1.0}
# the framework an implementation imports: the audits of one framework go to one worker, which
# imports it once (Keras on torch included: that worker loads Keras on torch, no child process)
FRAMEWORK = {"torch": "torch", "torch-foreach": "torch", "torch-fused": "torch",
             "keras-torch": "torch", "keras": "jax", "optax": "jax", "mlx": "mlx",
             "mlx-default": "mlx"}
# the packages whose questions a framework's worker answers (Keras: on the JAX worker, where it
# is loaded on its default backend)
PACKAGES = {"torch": ("torch",), "jax": ("jax", "optax", "keras"), "mlx": ("mlx",)}


class Question(Protocol, Hashable):
    """What a claim asks of installed packages (``runners.defaults.ApiQuery``,
    ``codecheck.CodeQuery``): frozen data, picklable, answered by ``answer()``."""

    @property
    def packages(self) -> tuple[str, ...]: ...

    def answer(self) -> Any: ...


def _share(groups: list[list[tuple[str, str]]], questions: Sequence[Question]
           ) -> list[list[Question]]:
    """Each question to the first task whose framework imports all of the framework packages
    it names (a block importing torch and Keras is answered by the caller: no worker has
    both on one backend); questions no task imports for are left to the caller."""
    known = {p for ps in PACKAGES.values() for p in ps}
    out: list[list[Question]] = [[] for _ in groups]
    for q in dict.fromkeys(questions):
        needed = {p for p in q.packages if p in known}
        for k, g in enumerate(groups):
            covered = {p for i, _ in g for p in PACKAGES.get(FRAMEWORK.get(i, ""), ())}
            if needed and needed <= covered:
                out[k].append(q)
                break
    return out


def _groups(todo: list[tuple[str, str]], workers: int) -> list[list[tuple[str, str]]]:
    """The worker tasks: one per framework when there are at least as many frameworks as
    workers, else one per implementation, else one per pair; the longest first (``COST``), so
    that the workers finish together."""
    impls = list(dict.fromkeys(i for i, _ in todo))
    frameworks = list(dict.fromkeys(FRAMEWORK.get(i, i) for i in impls))
    if len(frameworks) >= workers:
        groups = [[p for p in todo if FRAMEWORK.get(p[0], p[0]) == f] for f in frameworks]
    elif len(impls) >= workers:
        groups = [[p for p in todo if p[0] == i] for i in impls]
    else:
        groups = [[p] for p in todo]
    per_pair = {i: COST.get(i, 0.0) / 5 for i in impls}
    return sorted(groups, key=lambda g: -sum(per_pair[i] for i, _ in g))


class Lost(str):
    """The skip reason of an audit that failed (its worker process died, or the framework
    raised): not kept in the cache, tried again next time."""


LOST = ("an audit worker process ended abruptly (a crash inside a framework, or a kill), and "
        "with it this audit; it is tried again next time")


class PendingAudits:
    """Audits started in worker processes (``start_audits``); ``collect`` waits for them. The
    caller works on meanwhile: the report computes its derivations and experiments while the
    frameworks run."""

    def __init__(self, pairs: Sequence[tuple[str, str]], workers: int | None = None,
                 questions: Sequence[Question] = ()):
        self.pairs = list(pairs)
        self.answers: dict[Question, Any] = {}  # what the workers answered, after collect
        self.found = {p: lookup("audit", p) if cacheable(p[0]) else None for p in self.pairs}
        self.todo = [p for p in self.pairs if self.found[p] is None]
        self.pool = None
        self.futures: list = []
        if workers != 1 and len(self.todo) >= 2:
            workers = workers or os.cpu_count() or 1
            ctx = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(workers, mp_context=ctx)
            groups = _groups(self.todo, workers)
            self.todo = [p for g in groups for p in g]
            keras = os.environ.get("KERAS_BACKEND") or "jax"  # what this process would load
            self.futures = [(g, self.pool.submit(_group, g, qs, keras))
                            for g, qs in zip(groups, _share(groups, questions), strict=True)]

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
                    impls = ", ".join(dict.fromkeys(i for i, _ in group))
                    opts = ", ".join(dict.fromkeys(o for _, o in group))
                    progress(f"audit {impls}: {opts}")
                    try:
                        results, answers = future.result()
                        fresh += results
                        self.answers |= answers
                    except BrokenProcessPool:  # a worker died: a crash in a framework, a kill
                        fresh += [Lost(LOST)] * len(group)
            else:
                for impl, opt in self.todo:
                    progress(f"audit {impl} {opt}")
                    fresh.append(_one(impl, opt))
        except BaseException:
            self.cancel()  # interrupted, or a result that cannot come back: stop the workers
            raise
        if self.pool:  # the workers exit on their own while this process goes on
            self.pool.shutdown(wait=False, cancel_futures=True)
        computed = dict(zip(self.todo, fresh, strict=True))
        audits, skips = [], []
        for p in self.pairs:
            if self.found[p] is not None:
                value, hit = self.found[p]
                note_taken(hit)
            else:
                value = computed[p]
                if cacheable(p[0]) and not isinstance(value, Lost):
                    store("audit", p, value)
            if isinstance(value, str):
                skips.append((p[0], p[1], value))
            else:
                audits.append(value)
        return audits, skips


def start_audits(pairs: Sequence[tuple[str, str]], workers: int | None = None,
                 questions: Sequence[Question] = ()) -> PendingAudits:
    """Start auditing every (implementation, optimizer) pair in worker processes (spawned, not
    forked: JAX and torch hold threads that a fork would copy half-alive); a built-in
    implementation's audit is reused from the cache (``verify/cache.py``) when this code and
    these library versions already ran it. ``questions``: claims' questions on the audited
    frameworks' packages, answered by the workers (``PendingAudits.answers``) when there are
    any."""
    return PendingAudits(pairs, workers, questions)
