"""Render audits (one implementation, a large tensor, a sweep, the report's audit section)."""

from __future__ import annotations

from ..auditing import AuditResult
from ..auditing.bounds import K_ROUNDINGS, MODELS
from ..auditing.calibration import Score, blind_line, explained_text
from ..auditing.result import CONSISTENT, NOT_INFORMATIVE, NOT_RUN
from ..auditing.sampled import TensorAudit
from ..auditing.sensitivity import sentence
from ..auditing.sweep import Row
from ..claims.assemble import Verification
from .cells import cell as _cell


def audit_section(v: Verification, figures: dict[str, str]) -> str:
    lines = ["## Framework audit", "",
             "Every implementation installed here, under every setting of the audit battery "
             "(`verify/auditing/battery.py`: the probe, the paper's defaults, inverted betas, a "
             "large step, tiny, huge and zero gradients, ε = 0, 1,000 steps); "
             "`adam-verify audit --impl …` for the per-setting table.", "",
             "| implementation | version | optimizer | dtype | verdict | settings consistent | "
             "max ULP vs golden | diagnosis |", "|---|---|---|---|---|---|---|---|"]
    for r in v.audits:
        ok = sum(s.status == CONSISTENT for s in r.settings)
        lines.append(f"| `{r.impl}` | {r.version} | {r.optimizer} | {r.dtype} | {r.verdict} | "
                     f"{ok} of {len(r.settings)} | {_cell(r.ulps_text())} | {_cell(r.summary)} |")
    if v.audit_skips:
        lines += ["", "Not audited: " + "; ".join(f"`{i}` {o} ({why})"
                                                  for i, o, why in v.audit_skips) + "."]
    lines += ["", envelope_method()]
    if v.calibration:
        lines += ["", f"Calibration of this instrument (`adam-verify calibrate`, "
                  f"`reports/calibration.md`): {v.calibration}."]
    if "audit" in figures:
        lines += ["", f"![float32 error per step of each audited Adam]({figures['audit']})"]
    return "\n".join(lines)


WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def envelope_method() -> str:
    """The verdict method in words, its constants read from the code that applies them."""
    k = WORDS.get(K_ROUNDINGS, str(K_ROUNDINGS))
    models = "; ".join(m.label("format") for m in MODELS)
    return (
        "Verdict method: every step is judged locally. The claimed rule's update is evaluated "
        "from the implementation's own previous parameters, its own gradient and its own "
        "previous state (where it exposes it) in running error analysis (Higham, *Accuracy and "
        "Stability of Numerical Algorithms*, §3.3): the exact result and a bound on the rounding "
        f"error of the rule in the run's format, {k} roundings of every operation's result. "
        f"{k.capitalize()} is calibrated, not proven: it is the smallest whole number of "
        "roundings under which the evaluation orders measured (torch's reordered Adam, lerp for "
        "the moments, AdamW's θ·(1 − αλ), fused and wider arithmetic) stay inside. A value "
        "outside [exact − bound, exact + bound], a NaN or infinity where the rule is finite, a "
        "missing step or state: each makes the setting *discrepant*. Scalar constants are "
        f"modelled {WORDS.get(len(MODELS), str(len(MODELS)))} ways ({models}; \"format\" is the "
        "run's format, and a naive power is reported as a precision defect); the verdict names "
        "the one it holds under. A setting where the format cannot hold the rule (overflow) or "
        "where no correct implementation can move θ is *not informative*, and says why.")


def render_audit(r: AuditResult) -> str:
    """One audit: the verdict, one row per setting, findings, and the diagnosis."""
    lines = [f"# Audit: {r.impl} — {r.optimizer}", "",
             f"- implementation: `{r.impl}` ({r.version}), dtype {r.dtype}",
             f"- **verdict: {r.summary}**", f"- distance from the golden (same gradients): "
             f"{r.ulps_text()}", ""]
    lines += [envelope_method(), "", "| setting | steps | hyperparameters | max ULP vs golden | "
              "max ULP from the local exact step | inside the envelope? | first step outside | "
              "findings |", "|---|---|---|---|---|---|---|---|"]
    for s in r.settings:
        hyper = ", ".join(f"{k} = {v}" for k, v in (s.spec.full_hyper().items() if s.spec else ()))
        j = s.judgement
        far = "—" if j is None else f"{j.max_ulps:.3g}"
        inside = {CONSISTENT: "yes", NOT_INFORMATIVE: "yes (not informative)"}.get(s.status, "no")
        if s.status == NOT_RUN:
            inside = "not run"
        exit_ = s.first_exit.text() if s.first_exit else (s.note or "—")
        found = "; ".join(s.findings) or "—"
        lines.append(f"| {s.setting.name} ({s.setting.stream}) | {s.spec.steps if s.spec else '—'} "
                     f"| {hyper} | {_cell(s.ulps_text())} | {far} | {inside} | {_cell(exit_)} | "
                     f"{_cell(found)} |")
    if r.findings:
        lines += ["", "Findings:", ""] + [f"- {_cell(f)}" for f in r.findings]
    d = r.diagnosis
    if d is not None:
        lines += ["", "## Diagnosis", "", "| candidate | settings inside its envelope | "
                  "farthest outside (ulp) | scalar model |", "|---|---|---|---|"]
        lines += [f"| {c.rule} | {c.inside} of {c.judged} | {c.worst_ulps:.3g} | "
                  f"{c.model_text(r.dtype)} |" for c in d.candidates]
        causes = [t for t in d.terms if t.cause]
        fits = [t for t in d.terms if not t.cause]
        if causes:
            lines += ["", "Forensics — the terms found off:", ""]
            lines += [f"- **{t.term}**: {t.finding} ({t.evidence})" for t in causes]
        if fits:
            lines += ["", "What the exposed state fits (evidence, not a cause found):", ""]
            lines += [f"- **{t.term}**: {t.finding} ({t.evidence})" for t in fits]
        if d.unidentifiable:
            lines += ["", "Not identified: " + "; ".join(d.unidentifiable) + "."]
    return "\n".join(lines) + "\n"


def render_tensor_audit(r: TensorAudit) -> str:
    """A large-tensor audit as Markdown."""
    hyper = ", ".join(f"{k} = {v}" for k, v in r.hyper.items())
    if r.first_exit is None:
        where = "every coordinate inside the envelope at every step"
    else:
        coord, e = r.first_exit
        where = (f"{r.outside_coordinates:,} of {r.size:,} coordinates leave it; first: coordinate "
                 f"{coord}, {e.text()}")
    model = f" ({r.model.label('float32')})" if r.model else ""
    lines = [f"# Large-tensor audit: {r.impl} — {r.optimizer}", "",
             f"- {r.size:,} parameters in {len(r.pieces)} tensors of "
             + ", ".join(f"{p:,}" for p in r.pieces) + f" elements × {r.steps} steps, seeded "
             f"gradient streams (seed {r.seed}; per-coordinate scales 10⁻³…10), hyperparameters "
             + hyper,
             f"- **verdict: {r.verdict}**{model}: {where}",
             f"- what it computes: **{r.computes}**",
             f"- every coordinate against the exact local step: at most {r.max_ulps_local:.3g} "
             "operand ulps",
             f"- {r.sampled} random coordinates (probability {r.detect:g} of including one of "
             f"any set of {r.fraction:g} of the coordinates) + {r.extremes} extreme ones "
             f"(farthest from the exact local step, largest and smallest gradients) against "
             f"certified goldens ({r.certified_digits} digits): at most {r.max_ulps_golden:.3g} "
             "operand ulps from the exact trajectory",
             f"- checked trajectories: `{r.npz}`" if r.npz else "", "",
             envelope_method(), "",
             "An operand ulp is a float32 ulp of the larger of a value before and after its step "
             "(for the golden: of the largest |θ| so far): rounding errors are absolute and carry "
             "over, so once θ shrinks they would be thousands of ulps of the result for "
             "arithmetic as good as float32 allows.", "",
             "| step | max operand ulps from the exact local step | mean | coordinates outside |",
             "|---|---|---|---|"]
    shown = [s for s in r.per_step if s.t in (1, 2, 5) or s.t % max(1, r.steps // 10) == 0]
    lines += [f"| {s.t} | {s.max_ulps:.3g} | {s.mean_ulps:.3g} | {s.outside} |" for s in shown]
    if r.candidates:
        lines += ["", "| candidate | inside on the checked coordinates | farthest outside (ulp) |",
                  "|---|---|---|"]
        lines += [f"| {c.rule} | {'yes' if c.fits else 'no'} | {c.worst_ulps:.3g} |"
                  for c in r.candidates]
    lines += ["", "| phase | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in r.seconds.items()]
    return "\n".join(lines) + "\n"


def _options(c) -> str:
    return ", ".join(f"{k}={v}" for k, v in c.options) or "defaults"


def sweep_findings(rows: list[Row]) -> list[str]:
    """What the options change, computed from the rows: each cell whose verdict or computed
    rule differs from the same cell without options, and the cells that could not run."""
    base = {r.cell.base_key(): r for r in rows if not r.cell.options}
    out = []
    for r in rows:
        b = base.get(r.cell.base_key())
        if r is b or b is None:
            continue
        who = f"`{r.cell.impl}` as {r.cell.optimizer}, {r.cell.dtype}, with {_options(r.cell)}"
        if r.verdict == "failed":
            out.append(f"{who}: failed — {_cell(r.error)}")
        elif r.verdict == "not audited":
            out.append(f"{who}: {_cell(r.diagnosis)}")
        elif (r.verdict, r.computes) != (b.verdict, b.computes):
            named = r.diagnosis.split("forensics: ", 1)[1] if "forensics: " in r.diagnosis else ""
            out.append(f"{who}: {r.verdict}, computes {r.computes}"
                       + (f" (forensics: {_cell(named)})" if named else "")
                       + f"; without options: {b.verdict}, computes {b.computes}")
    return out


def render_sweep(rows: list[Row], source: str) -> str:
    """A sweep's rows as a Markdown table, with a count of verdicts and, on top, what the
    options change (computed from the rows)."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    changes = sweep_findings(rows)
    same = sum(1 for r in rows if r.cell.options) - len(changes)
    lines = [f"# Sweep: `{source}`", "",
             f"{len(rows)} cells: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
             + "."]
    if any(r.cell.options for r in rows):
        lines += ["", f"**What the options change.** {same} cells with options have the same "
                  "verdict and computed rule as the same cell without them"
                  + (f"; {len(changes)} differ:" if changes else "."), ""]
        lines += [f"- {c}" for c in changes]
    lines += ["", "| impl | optimizer | problem | dtype | hyperparameters | options | verdict | "
              "computes | max ULP | diagnosis / error | seconds |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r.cell
        hyper = ", ".join(f"{k} = {v}" for k, v in c.hyper) or "battery"
        lines.append(f"| `{c.impl}` | {c.optimizer} | {c.problem} | {c.dtype} | {hyper} | "
                     f"{_options(c)} | {r.verdict} | {r.computes or '—'} | "
                     f"{'—' if r.max_ulps is None else f'{r.max_ulps:.3g}'} | "
                     f"{_cell(r.error or r.diagnosis)} | "
                     f"{'—' if r.seconds is None else f'{r.seconds:.1f}'} |")
    return "\n".join(lines) + "\n"


def render_calibration(score: Score, blind: dict[str, Score] | None = None) -> str:
    """The mutation score and one row per calibration implementation; each blind set apart."""
    lines = ["# Calibration of the audit: a mutation score", "",
             f"**{score.line()}.**", "",
             "The same implementations scored as the blind sets are: "
             f"{explained_text(score.blind_counts)}.", "",
             "Each implementation below was written by hand (`tests/mutants/`), correct ones in "
             "different styles and broken ones with one bug each, and audited over the full "
             "battery (`adam-verify calibrate`).", "",
             "| implementation | claims | bug | expected | verdict | computes / named | ok |",
             "|---|---|---|---|---|---|---|"]
    for o in score.outcomes:
        p = o.probe
        expected = _cell("consistent" if p.correct else (f"computes {p.computes}" if p.computes
                                                         else f"names “{p.term}”"))
        found = o.computes if p.correct or p.computes else ("named" if o.named else "not named")
        lines.append(f"| `{p.name}` | {p.optimizer} | {_cell(p.bug) or '—'} | {expected} | "
                     f"{o.verdict} | {found} | {'✅' if o.ok else '❌'} |")
    lines += ["", "Verdicts in full:", ""]
    lines += [f"- `{o.probe.name}`: {_cell(o.summary)}" for o in score.outcomes]
    for name, b in (blind or {}).items():
        lines += _blind_section(name, b)
    return "\n".join(lines) + "\n"


def render_sensitivity(rows: list[dict]) -> str:
    """The audit's resolution: one row per way of auditing and sign of the error."""
    lines = ["# Sensitivity of the audit", "", f"**{sentence(rows)}.**", "",
             "A correct float32 Adam whose step is scaled by (1 + r), audited for r on a grid of "
             "four points a decade from 10⁻⁷, then bisected: the smallest |r| flagged discrepant "
             "and the largest seen to pass (`verify/auditing/sensitivity.py`).", "",
             "| audit | state | r | smallest flagged | largest passed |", "|---|---|---|---|---|"]
    for r in rows:
        flagged = "none up to 10⁻²" if r["smallest"] is None else f"{r['smallest']:.2g}"
        lines.append(f"| {r['audit']} | {r['state']} | {'> 0' if r['sign'] > 0 else '< 0'} | "
                     f"{flagged} | {r['largest_passed']:.2g} |")
    return "\n".join(lines) + "\n"


def _blind_section(name: str, b: Score) -> list[str]:
    lines = ["", f"## Blind set {name}", "", f"**{blind_line(name, b.blind_counts)}.**", "",
             f"Written by someone who had read only the README (`tests/blind/{name}/`), never "
             "the in-house mutants, the slips or the battery; scored apart and never tuned on. "
             "An explanation is right when it is about the term the author planted and says one "
             "of the phrases the author expected; wrong when it names a cause that is not that; "
             "none when the audit names no cause.", "",
             "| implementation | claims | planted | verdict | cause named | about |",
             "|---|---|---|---|---|---|"]
    for o in b.outcomes:
        p = o.probe
        lines.append(f"| `{p.name}` | {p.optimizer} | {p.planted or 'correct'} | {o.verdict} | "
                     f"{o.explained or '—'} | {', '.join(o.categories) or '—'} |")
    return lines
