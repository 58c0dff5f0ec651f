"""Calibration of the audit as a measuring instrument: a mutation score. Implementations broken
on purpose must be flagged, correct ones written differently must pass, and for bugs outside
the catalogue forensics must name the wrong term. The implementations are test data
(``tests/mutants``); this module runs them and counts."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
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
    planted: str | None = None  # blind sets: the term the bug changes (PLANTED vocabulary)
    expect: tuple[str, ...] = ()  # blind sets: phrases, one of which a right explanation says


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    verdict: str
    computes: str
    named: bool  # the expected variant or term was named (correct ones: consistent)
    summary: str
    seconds: float
    explanation: str = ""  # the cause the audit gives, in words ("" when it names none)
    categories: tuple[str, ...] = ()  # the terms that explanation is about (PLANTED vocabulary)

    @property
    def explained(self) -> str:
        """right / wrong / none for a flagged bug; "" otherwise."""
        if self.probe.correct or self.verdict != DISCREPANT:
            return ""
        if not self.explanation:
            return "none"
        return "right" if self.named else "wrong"

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

    @property
    def blind_counts(self) -> dict[str, int]:
        """A set scored apart: bugs flagged, and of the flagged the cause named right, wrong or
        not at all; false alarms on the correct ones."""
        buggy = [o for o in self.outcomes if not o.probe.correct]
        correct = [o for o in self.outcomes if o.probe.correct]
        flagged = [o for o in buggy if o.verdict == DISCREPANT]
        return {"buggy": len(buggy), "flagged": len(flagged),
                "right": sum(o.explained == "right" for o in flagged),
                "wrong": sum(o.explained == "wrong" for o in flagged),
                "none": sum(o.explained == "none" for o in flagged),
                "correct": len(correct),
                "false_alarms": sum(o.verdict != CONSISTENT for o in correct)}

    def to_json(self, blind: dict[str, Score] | None = None) -> str:
        rows = [{"name": o.probe.name, "optimizer": o.probe.optimizer, "bug": o.probe.bug,
                 "expected": "consistent" if o.probe.correct else (o.probe.computes or o.probe.term),
                 "verdict": o.verdict, "computes": o.computes, "named": o.named, "ok": o.ok}
                for o in self.outcomes]
        out: dict[str, Any] = {"counts": self.counts, "implementations": rows}
        if blind:
            out["blind"] = {name: {"counts": b.blind_counts, "implementations": [
                {"name": o.probe.name, "optimizer": o.probe.optimizer, "planted": o.probe.planted,
                 "verdict": o.verdict, "explained": o.explained,
                 "categories": list(o.categories)} for o in b.outcomes]}
                for name, b in blind.items()}
        return json.dumps(out, indent=1, ensure_ascii=False) + "\n"


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
    line = counts_line(json.loads(paths.CALIBRATION.read_text())["counts"])
    if paths.SENSITIVITY.exists():
        from .sensitivity import sentence

        line += "; " + sentence(json.loads(paths.SENSITIVITY.read_text()))
    return line


def check_one(probe: Probe) -> Outcome:
    """Audit one calibration implementation (the full battery; no goldens: the verdict does
    not use them)."""
    from .run import audit

    t0 = time.perf_counter()
    r = audit(probe.target, probe.optimizer, golden=False)
    explanation, categories = explanation_of(r)
    if probe.correct:
        named = r.verdict == CONSISTENT
    elif probe.planted is not None:
        named = names_planted(probe, explanation, categories)
    elif probe.computes:
        named = r.computes == probe.computes
    else:
        named = any(probe.term in t.finding for t in r.diagnosis.terms if t.cause) \
            if r.diagnosis else False
    return Outcome(probe, r.verdict, r.computes, named, r.summary, time.perf_counter() - t0,
                   explanation, categories)


# The blind sets' vocabulary of terms a bug can change, and what each audit finding is about.
PLANTED = ("m", "v", "v_max", "buf", "bias_correction_m", "bias_correction_v", "eps", "lr",
           "step_counter", "weight_decay", "state_reset", "gradient", "update", "precision",
           "two_bugs")
VARIANT_KEY_TERMS = {"bias_correction": ("bias_correction_m", "bias_correction_v"),
                     "eps": ("eps",), "decay": ("weight_decay",), "amsgrad": ("v_max",),
                     "first_buffer": ("buf",), "nesterov": ("update",)}
FORENSIC_TERMS = {"m": ("m",), "v": ("v",), "m, v": ("m", "v"), "v_max": ("v_max",),
                  "bias correction of m": ("bias_correction_m",),
                  "bias correction of v": ("bias_correction_v",),
                  "bias corrections": ("bias_correction_m", "bias_correction_v", "step_counter"),
                  "buffer": ("buf",), "buf": ("buf",), "gradient": ("gradient",),
                  "state": ("state_reset",), "step": ("update", "lr"),
                  "step counter": ("step_counter",),
                  "lazy updates": ("update", "m", "v", "buf"),
                  "weight decay": ("weight_decay",)}


def explanation_of(r: Any) -> tuple[str, tuple[str, ...]]:
    """The cause an audit names for a discrepancy, in words, and the terms it is about: a
    catalogue variant (what differs from the claimed rule), or forensics' causes. Fits of the
    exposed state are evidence, not causes, and name nothing."""
    from ..rules import MEANING, RULES, difference

    d = r.diagnosis
    if d is None:
        return "", ()
    if d.explanation is not None:
        got, claimed = RULES[d.explanation.rule].variant, RULES[r.optimizer].variant
        keys = {k for k in set(got) | set(claimed) if got.get(k) != claimed.get(k)}
        cats = tuple(dict.fromkeys(c for k in sorted(keys) for c in VARIANT_KEY_TERMS.get(k, ())))
        rule = d.explanation.rule
        return (f"computes {rule} ({difference(r.optimizer, rule)}): {MEANING.get(rule, '')}",
                cats)
    causes = [t for t in d.terms if t.cause]
    cats: list[str] = []
    for t in causes:
        if t.term == "hyperparameters":
            cats += _hyperparameter_terms(t.finding)
        else:
            cats += FORENSIC_TERMS.get(t.term, ())
    text = "; ".join(f"{t.term}: {t.finding}" for t in causes)
    return text, tuple(dict.fromkeys(cats))


def _hyperparameter_terms(finding: str) -> list[str]:
    """Which terms a finding about hyperparameters is about (a fixed ε, β, lr, momentum; a
    format where a β rounds to 1)."""
    out = []
    for mark, terms in (("ε", ["eps"]), ("β1", ["m"]), ("β2", ["v"]), ("momentum", ["buf"]),
                        ("α", ["v"]), ("learning rate", ["lr"]), ("rounds to 1", ["precision"])):
        if mark in finding:
            out += terms
    return out


def names_planted(probe: Probe, explanation: str, categories: tuple[str, ...]) -> bool:
    """A blind bug's cause is named right when the explanation is about the planted term and
    says one of the phrases its author expected (two bugs: either one, by phrase)."""
    said = _plain(explanation)
    phrase = any(re.search(r"(?<![\w-])" + re.escape(_plain(p)) + r"(?![\w-])", said)
                 for p in probe.expect)
    if probe.planted == "two_bugs":
        return bool(categories) and phrase
    return probe.planted in categories and phrase


def _plain(text: str) -> str:
    """Lower case, the symbols written as their names (ε → eps, β2 → beta2, ² → ^2, …)."""
    table = {"ε": " eps epsilon ", "β1": "beta1", "β2": "beta2", "β": "beta", "α": "alpha",
             "λ": "weight decay", "θ": "param", "²": "^2", "√": "sqrt", "−": "-", "ᵗ": "^t",
             "̂": "_hat", "·": "*"}
    text = text.lower()
    for sym, name in table.items():
        text = text.replace(sym, name)
    return " ".join(text.split())


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


def blind_probes(directory: Path, package: str) -> list[Probe]:
    """Probes from a blind set: ``manifest.toml`` (one ``[[impl]]`` per implementation: name,
    module, optimizer, correct, term, expect, bug) beside the modules it names."""
    import tomllib

    from ..errors import InputError

    path = Path(directory) / "manifest.toml"
    try:
        rows = tomllib.loads(path.read_text())["impl"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"not a blind set manifest: {exc}", where=str(path)) from None
    return [Probe(e["name"], f"{package}.{e['module']}:{e['name']}", e["optimizer"],
                  bool(e["correct"]), None, None, e.get("bug", ""),
                  None if e["correct"] else e["term"], tuple(e.get("expect", ())))
            for e in rows]


def blind_sets(root: Path) -> dict[str, list[Probe]]:
    """Every blind set of a checkout (``tests/blind/<name>/manifest.toml``), by name."""
    found = sorted(Path(root).glob("tests/blind/*/manifest.toml"))
    return {m.parent.name: blind_probes(m.parent, f"tests.blind.{m.parent.name}") for m in found}


def explained_text(c: dict[str, int]) -> str:
    """Bugs flagged, and of the flagged the cause named right, wrong or not at all; false alarms."""
    return (f"{c['flagged']}/{c['buggy']} bugs flagged; of the flagged, the cause named right for "
            f"{c['right']}, wrong for {c['wrong']}, not named for {c['none']}; "
            f"{c['false_alarms']}/{c['correct']} false alarms")


def blind_line(name: str, c: dict[str, int]) -> str:
    """A blind set's score in one sentence."""
    return f"blind set {name}: {explained_text(c)}"


def probes_from(mutants: dict[str, Any]) -> list[Probe]:
    """Probes from a registry of objects with name, target, optimizer, correct, computes,
    term and bug attributes (``tests/mutants``)."""
    return [Probe(m.name, m.target, m.optimizer, m.correct, m.computes, m.term, m.bug)
            for m in mutants.values()]


def load_counts(text: str) -> dict[str, int]:
    return dict(json.loads(text)["counts"])

