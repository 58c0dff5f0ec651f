"""What an audit returns: one row per setting of the battery, the verdict, the diagnosis, and
the first line scripts read (``<impl> <optimizer> (<dtype>, <versions>): consistent with …``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..golden.compare import Comparison, OperandUlps, compare
from ..golden.spec import RunSpec
from ..golden.trace import Trace
from ..rules import MEANING, RULES, difference
from .battery import Setting
from .bounds import Model
from .envelope import Exit, Judgement

CONSISTENT, DISCREPANT, NOT_AUDITED = "consistent", "discrepant", "not audited"
NOT_INFORMATIVE, NOT_RUN = "not informative", "not run"


@dataclass(frozen=True)
class SettingResult:
    """One setting: what ran, how it was judged, how far from the golden, and its findings."""

    setting: Setting
    spec: RunSpec | None
    trace: Trace | None
    judgement: Judgement | None  # the claimed rule under the audit's scalar model
    golden: Trace | None  # certified, on the run's own gradients
    status: str  # consistent | discrepant | not informative | not run
    findings: tuple[str, ...] = ()
    note: str = ""  # why not run, or what is missing
    golden_ulps: OperandUlps | None = None  # θ vs the golden, in operand ulps

    @property
    def vs_golden(self) -> Comparison | None:
        """Every value against the golden, in ULPs of the result (computed when asked)."""
        if self.trace is None or self.golden is None:
            return None
        return compare(self.trace, self.golden, "tested", "golden")

    @property
    def max_ulps(self) -> float | None:
        """Largest distance of θ from the golden in operand ulps (None: non-finite, not run)."""
        return None if self.golden_ulps is None else self.golden_ulps.worst

    def ulps_text(self) -> str:
        """The max-ULP column as a number or the reason there is none."""
        if self.golden_ulps is None:
            return "—" if self.status == NOT_RUN else "no golden"
        if self.golden_ulps.worst is None:
            return f"non-finite at step {self.golden_ulps.first_nonfinite}"
        return f"{self.golden_ulps.worst:.3g}"

    @property
    def first_exit(self) -> Exit | None:
        return self.judgement.first_exit if self.judgement else None


@dataclass(frozen=True)
class Candidate:
    """A catalogue variant tried as the explanation, judged over the whole battery."""

    rule: str
    model: Model | None
    inside: int  # settings inside its envelope
    judged: int  # settings judged
    worst_ulps: float  # farthest outside, in ulps (0 when it fits)
    held_nan: bool = False  # fits with hyperparameters held in the format, NaN where β → 1

    @property
    def fits(self) -> bool:
        return self.judged > 0 and self.inside == self.judged

    def model_text(self, dtype: str) -> str:
        if self.held_nan:
            return (f"hyperparameters held in {dtype}, where a β rounds to 1: 1 − βᵗ = 0, NaN "
                    "where the rule is finite")
        return self.model.label(dtype) if self.model else "—"


@dataclass(frozen=True)
class Term:
    """A forensic finding: which term of the rule is off and what it computes instead."""

    term: str  # e.g. "m", "bias correction of v", "step"
    finding: str  # a sentence a user can act on
    evidence: str  # how it was found (which fit, which settings)
    cause: bool = True  # False: what the data shows (a fit), not a cause found


@dataclass(frozen=True)
class Diagnosis:
    """The explanation of a discrepant run: a catalogue variant, or the terms found off."""

    claimed: str
    explanation: Candidate | None
    candidates: tuple[Candidate, ...]
    terms: tuple[Term, ...] = ()
    unidentifiable: tuple[str, ...] = ()  # what the exposed data cannot tell apart


@dataclass(frozen=True)
class AuditResult:
    impl: str
    version: str
    dtype: str
    optimizer: str
    settings: tuple[SettingResult, ...]
    verdict: str  # consistent | discrepant | not audited
    model: Model | None  # the scalar model the verdict holds under
    diagnosis: Diagnosis | None  # None when consistent
    findings: tuple[str, ...] = ()  # audit-wide: precision defects, unmapped state …
    reason: str = ""  # why not audited
    quick: bool = False

    # the first setting that ran: what single-run consumers (figures, claims) read
    @property
    def primary(self) -> SettingResult:
        return next((s for s in self.settings if s.trace is not None), self.settings[0])

    @property
    def spec(self) -> RunSpec:
        return self.primary.spec  # type: ignore[return-value]

    @property
    def trace(self) -> Trace:
        return self.primary.trace  # type: ignore[return-value]

    @property
    def vs_golden(self) -> Comparison:
        return self.primary.vs_golden  # type: ignore[return-value]

    @property
    def max_ulps(self) -> float | None:
        """Largest distance of θ from the golden over every setting, in operand ulps (None if
        a value is non-finite where the golden is finite, or nothing ran)."""
        ran = [s for s in self.settings if s.golden_ulps is not None]
        values = [s.max_ulps for s in ran]
        return None if not ran or any(v is None for v in values) else max(values)  # type: ignore

    def ulps_text(self) -> str:
        """The largest distance from the golden, or why there is no number."""
        if self.max_ulps is not None:
            return f"max {self.max_ulps:.3g} operand ULP from the golden"
        bad = next((s for s in self.settings if s.golden_ulps is not None and s.max_ulps is None),
                   None)
        if bad is None:
            ran = any(s.trace is not None for s in self.settings)
            return "goldens not computed" if ran else "no setting ran"
        return f"{bad.ulps_text()} in setting {bad.setting.name}"

    @property
    def computes(self) -> str:
        """What it computes: the claimed rule, a catalogue variant, or "unexplained"."""
        if self.verdict == CONSISTENT:
            return self.optimizer
        d = self.diagnosis
        return d.explanation.rule if d and d.explanation else "unexplained"

    @property
    def summary(self) -> str:
        return verdict_text(self)

    def first_line(self) -> str:
        head = f"{self.impl} {self.optimizer} ({self.dtype}, {self.version}): {self.summary}"
        return head if self.verdict == NOT_AUDITED else f"{head}; {self.ulps_text()}"


def verdict_text(r: AuditResult) -> str:
    """The verdict in words (the part of the first line after the colon)."""
    ran = [s for s in r.settings if s.status not in (NOT_RUN,)]
    quick = " (quick: the probe setting only)" if r.quick else ""
    if r.verdict == NOT_AUDITED:
        return f"not audited: {r.reason}"
    model = f" ({r.model.label(r.dtype)})" if r.model else ""
    if r.verdict == CONSISTENT:
        judged = [s for s in ran if s.status == CONSISTENT]
        extra = [f"{len(ran) - len(judged)} setting(s) not informative"] if len(judged) < len(ran) else []
        skipped = [s for s in r.settings if s.status == NOT_RUN]
        if skipped:
            extra.append(f"{len(skipped)} not run")
        tail = f"; {', '.join(extra)}" if extra else ""
        private = next((f for f in r.findings if f.startswith("the verdict rests on the "
                                                              "parameters alone")), None)
        if private:
            tail += "; on the parameters alone (" + private.split(": ", 1)[1] + ")"
        return (f"consistent with {r.optimizer} to {r.dtype} rounding in {len(judged)} of "
                f"{len(r.settings)} settings{model}{tail}{quick}")
    bad = [s for s in ran if s.status == DISCREPANT]
    first = bad[0] if bad else None
    where = ""
    if first is not None:
        detail = first.first_exit.text() if first.first_exit else first.note
        where = f" (first: setting {first.setting.name}, {detail})"
    text = f"discrepant with {r.optimizer} in {len(bad)} of {len(ran)} settings{where}"
    failed = [s for s in r.settings if s.status == NOT_RUN and s.note]
    if failed:
        text += (f" and not run in {len(failed)} (setting {failed[0].setting.name}: "
                 f"{failed[0].note})")
    d = r.diagnosis
    if d and d.explanation:
        e = d.explanation
        diff = difference(r.optimizer, e.rule) if e.rule in RULES and r.optimizer in RULES else ""
        text += (f"; computes {e.rule} ({e.model_text(r.dtype)})"
                 + (f" — {diff}" if diff else "") + f"; {e.rule}: {MEANING.get(e.rule, '')}")
    elif d and any(t.cause for t in d.terms):
        text += "; unexplained by the catalogue; forensics: " + "; ".join(
            t.finding for t in d.terms if t.cause)
    elif default := next((f for f in r.findings if " by default, which " in f), None):
        text += "; " + default
    else:
        text += "; not explained: no catalogue variant and no single slip of the slips tried fits"
        fits = [t.finding for t in (d.terms if d else ()) if not t.cause]
        if fits:
            text += "; the exposed state shows " + "; ".join(fits)
    return text + quick
