"""Calibration of the audit as a measuring instrument: a mutation score. Implementations broken
on purpose must be flagged, correct ones written differently must pass, and for bugs outside
the catalogue forensics must name the wrong term. The implementations are test data
(``tests/mutants``); this module runs them and counts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from .result import CONSISTENT, DISCREPANT


@dataclass(frozen=True)
class Probe:
    """One calibration implementation and what the audit must say of it."""

    name: str
    target: str  # MODULE:CALLABLE
    optimizer: str
    correct: bool = False
    computes: str | None = None  # a catalogue variant
    term: str | None = None  # a phrase forensics must name
    bug: str = ""


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    verdict: str
    computes: str
    named: bool  # the expected variant or term was named (correct ones: consistent)
    summary: str
    seconds: float

    @property
    def ok(self) -> bool:
        if self.probe.correct:
            return self.verdict == CONSISTENT
        return self.verdict == DISCREPANT and self.named


@dataclass(frozen=True)
class Score:
    outcomes: tuple[Outcome, ...]

    def _buggy(self, catalogue: bool | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if not o.probe.correct and (
            catalogue is None or (o.probe.computes is not None) == catalogue)]

    @property
    def counts(self) -> dict[str, int]:
        buggy, correct = self._buggy(), [o for o in self.outcomes if o.probe.correct]
        outside = self._buggy(catalogue=False)
        inside = self._buggy(catalogue=True)
        return {"buggy": len(buggy), "flagged": sum(o.verdict == DISCREPANT for o in buggy),
                "outside_catalogue": len(outside), "named": sum(o.named for o in outside),
                "in_catalogue": len(inside), "diagnosed": sum(o.named for o in inside),
                "correct": len(correct),
                "false_alarms": sum(o.verdict != CONSISTENT for o in correct)}

    def line(self) -> str:
        return counts_line(self.counts)

    def to_json(self) -> str:
        rows = [{"name": o.probe.name, "optimizer": o.probe.optimizer, "bug": o.probe.bug,
                 "expected": "consistent" if o.probe.correct else (o.probe.computes or o.probe.term),
                 "verdict": o.verdict, "computes": o.computes, "named": o.named, "ok": o.ok}
                for o in self.outcomes]
        return json.dumps({"counts": self.counts, "implementations": rows}, indent=1,
                          ensure_ascii=False) + "\n"


def counts_line(c: dict[str, int]) -> str:
    """The mutation score in one sentence."""
    return (f"mutation score: {c['flagged']}/{c['buggy']} broken implementations flagged; "
            f"forensics named the faulty term for {c['named']}/{c['outside_catalogue']} bugs "
            f"outside the catalogue, the diagnosis the variant for {c['diagnosed']}/"
            f"{c['in_catalogue']} inside it; {c['false_alarms']}/{c['correct']} false alarms "
            "on correct implementations written differently")


def committed_line() -> str | None:
    """The committed score (derivations/calibration.json) as a sentence, if there is one."""
    from .. import paths

    if not paths.CALIBRATION.exists():
        return None
    return counts_line(load_counts(paths.CALIBRATION.read_text()))


def check_one(probe: Probe) -> Outcome:
    """Audit one calibration implementation (the full battery; no goldens: the verdict does
    not use them)."""
    from .run import audit

    t0 = time.perf_counter()
    r = audit(probe.target, probe.optimizer, golden=False)
    terms = r.diagnosis.terms if r.diagnosis else ()
    if probe.correct:
        named = r.verdict == CONSISTENT
    elif probe.computes:
        named = r.computes == probe.computes
    else:
        named = any(probe.term in t.finding for t in terms)
    return Outcome(probe, r.verdict, r.computes, named, r.summary, time.perf_counter() - t0)


def calibrate(probes: Sequence[Probe], workers: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> Score:
    """Every probe audited (in a process pool); outcomes in the probes' order."""
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(check_one, p) for p in probes]
        out = []
        for i, f in enumerate(futures, 1):
            out.append(f.result())
            if progress:
                progress(i, len(futures))
    return Score(tuple(out))


def probes_from(mutants: dict[str, Any]) -> list[Probe]:
    """Probes from a registry of objects with name, target, optimizer, correct, computes,
    term and bug attributes (``tests/mutants``)."""
    return [Probe(m.name, m.target, m.optimizer, m.correct, m.computes, m.term, m.bug)
            for m in mutants.values()]


def load_counts(text: str) -> dict[str, int]:
    return dict(json.loads(text)["counts"])

