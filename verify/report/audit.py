"""Render audits (one implementation, a large tensor, a sweep, the report's audit section)."""

from __future__ import annotations

from ..assemble import Verification
from ..auditing import AuditResult
from ..auditing.sampled import TensorAudit
from ..auditing.sweep import Row
from .cells import cell as _cell


def audit_section(v: Verification, figures: dict[str, str]) -> str:
    lines = ["## Framework audit", "",
             "Every implementation installed here, on the probe battery (`probe` problem, "
             "12 steps, ε = 0.1, β2 = 0.9, weight decay 0.1; momentum without dampening), "
             "`adam-verify audit --impl …` for details.", "",
             "| implementation | version | optimizer | dtype | verdict | max ULP vs golden | "
             "diagnosis |", "|---|---|---|---|---|---|---|"]
    for r in v.audits:
        lines.append(f"| `{r.impl}` | {r.version} | {r.spec.optimizer} | {r.dtype} | "
                     f"{r.verdict} | {r.max_ulps} | {r.diagnosis.summary} |")
    if v.audit_skips:
        lines += ["", "Not audited: " + "; ".join(f"`{i}` {o} ({why})"
                                                  for i, o, why in v.audit_skips) + "."]
    lines += ["", ENVELOPE_METHOD]
    if "audit" in figures:
        lines += ["", f"![float32 error per step of each audited Adam]({figures['audit']})"]
    return "\n".join(lines)


ENVELOPE_METHOD = (
    "Verdict method: the implementation's own gradients are replayed into the reference rule; "
    "the reference runs once with round-to-nearest and N times in Monte Carlo arithmetic "
    "(random rounding of every operation in the run's format — float32, float16 or bfloat16; "
    "Parker 1997, Sohier et al. 2021), for scalar constants (1 − β, 1 − βᵗ) derived in that "
    "format, in double, or mixed (1 − β in double, βᵗ as a power in the format); the "
    "implementation is *consistent* when its "
    "parameters and optimizer state lie inside one of these envelopes (widened by 2 ULP) at "
    "every step. Otherwise every catalogue variant is tried the same way and the one whose "
    "envelope holds the run is reported.")


def render_audit(r: AuditResult) -> str:
    d = r.diagnosis
    lines = [f"# Audit: {r.impl} — {r.spec.optimizer}", "",
             f"- implementation: `{r.impl}` ({r.version}), dtype {r.dtype}",
             f"- problem: `{r.spec.problem.name}`, {r.spec.steps} steps, hyperparameters "
             + ", ".join(f"{k} = {v}" for k, v in r.spec.full_hyper().items()),
             f"- **verdict: {d.summary}**",
             f"- largest distance from the golden (same gradients): {r.max_ulps} ULP", "",
             ENVELOPE_METHOD + f" N = {d.envelope_samples}.", "",
             f"| candidate | scalars | max ULP from its {r.dtype} reference | inside its envelope |",
             "|---|---|---|---|"]
    lines += [f"| {c.rule} | {d.scalars_text(c)} | {'—' if c.max_ulps is None else c.max_ulps} | "
              f"{'yes' if c.inside_envelope else 'no'} |" for c in d.candidates]
    return "\n".join(lines) + "\n"


def render_tensor_audit(r: TensorAudit) -> str:
    """A large-tensor (sampled) audit as Markdown."""
    hyper = ", ".join(f"{k} = {v}" for k, v in r.hyper.items())
    where = ("inside the envelope at every checked coordinate and step" if r.first_outside is None
             else f"first outside at step {r.first_outside[0]}, coordinate "
                  f"{r.first_outside[1]}; at worst {r.beyond_ulps:.3g} operand ulps outside")
    lines = [f"# Large-tensor audit: {r.impl} — {r.optimizer}", "",
             f"- {r.size:,} parameters × {r.steps} steps, seeded gradient streams (seed {r.seed}; "
             "per-coordinate scales 10⁻³…10), hyperparameters " + hyper,
             f"- **verdict: {r.verdict}** with the rounding envelope"
             + (f" (scalars in {r.placement})" if r.placement else "") + f": {where}",
             f"- nearest catalogue variant on the checked coordinates: **{r.closest[0]}** "
             f"(scalars in {r.closest[1]}, {r.closest[2]:.3g} operand ulps)",
             f"- every coordinate vs a float64 shadow of the rule: at most "
             f"{r.max_ulps_shadow:.3g} operand ulps",
             f"- {r.sampled} random coordinates (probability {r.detect:g} of including one of "
             f"any set of {r.fraction:g} of the coordinates) + {r.extremes} extreme ones "
             f"(farthest from the shadow, largest and smallest gradients) against certified "
             f"goldens ({r.certified_digits} digits): at most {r.max_ulps_golden:.3g} operand "
             f"ulps; the shadow itself is within {r.shadow_error_ulps:.2g} ulps of them",
             f"- checked trajectories: `{r.npz}`" if r.npz else "", "",
             "Verdicts: *consistent* — inside the rounding envelope (random rounding of the rule "
             "in Algorithm 1's operation order, + 2 operand ulps); *consistent up to evaluation "
             "order* — outside it, but the nearest catalogue variant is the claimed rule, within "
             "8 operand ulps of its float32 run (the same rule, operations in another order); "
             "*discrepant* — otherwise.", "",
             "An operand ulp is a float32 ulp of the largest |θ| the coordinate has had so far: "
             "rounding errors are absolute and carry over, so once θ shrinks they would be "
             "thousands of ulps of the result for arithmetic as good as float32 allows.", "",
             "| step | max operand ulps vs shadow | mean | coordinates > 4 | max result ulps |",
             "|---|---|---|---|---|"]
    shown = [s for s in r.per_step if s.t in (1, 2, 5) or s.t % max(1, r.steps // 10) == 0]
    lines += [f"| {s.t} | {s.max_ulps:.3g} | {s.mean_ulps:.3g} | {s.beyond_4} | "
              f"{s.max_result_ulps} |" for s in shown]
    lines += ["", "| phase | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in r.seconds.items()]
    return "\n".join(lines) + "\n"


def render_sweep(rows: list[Row], source: str) -> str:
    """A sweep's rows as a Markdown table with a count of verdicts."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    lines = [f"# Sweep: `{source}`", "",
             f"{len(rows)} cells: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
             + ".", "",
             "| impl | optimizer | problem | dtype | hyperparameters | verdict | max ULP | "
             "diagnosis / error | seconds |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r.cell
        hyper = ", ".join(f"{k} = {v}" for k, v in c.hyper) or "probe defaults"
        lines.append(f"| `{c.impl}` | {c.optimizer} | {c.problem} | {c.dtype} | {hyper} | "
                     f"{r.verdict} | {'—' if r.max_ulps is None else r.max_ulps} | "
                     f"{_cell(r.error or r.diagnosis)} | {r.seconds:.1f} |")
    return "\n".join(lines) + "\n"
