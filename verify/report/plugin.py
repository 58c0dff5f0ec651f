"""Failure messages of the pytest plugin: an audit's discrepancy table and a snapshot's diff."""

from __future__ import annotations

from collections.abc import Sequence

from ..auditing import AuditResult
from ..auditing.result import DISCREPANT
from ..golden.compare import ValueDiff


def _rows(diffs: Sequence[ValueDiff], limit: int, mine: str, theirs: str) -> list[str]:
    lines = [f"  {'step':>4}  {'quantity':<8} {'i':>2}  {mine:>16}  {theirs:>16}  {'ULP':>6}  "
             "rel. err", "  " + "-" * 72]
    for d in diffs[:limit]:
        ulps = "non-finite" if d.ulps is None else str(d.ulps)
        lines.append(f"  {d.t:>4}  {d.quantity:<8} {d.index:>2}  {d.tested:>16}  "
                     f"{d.golden[:16]:>16}  {ulps:>6}  {d.rel_err:.2e}")
    if len(diffs) > limit:
        lines.append(f"  … {len(diffs) - limit} more")
    return lines


def discrepancy_table(r: AuditResult, max_ulps: int = 4, limit: int = 8) -> str:
    """Why an audit failed: its first line, one row per setting of the battery, then the values
    of the first discrepant setting farther than ``max_ulps`` from the golden computed on the
    implementation's own gradients, in step order."""
    lines = [r.first_line()]
    lines += [f"  finding: {f}" for f in r.findings]
    lines += [f"  {'setting':<22} {'steps':>5}  {'status':<15} {'max ULP':>9}  first outside",
              "  " + "-" * 72]
    for s in r.settings:
        where = s.first_exit.text() if s.first_exit else (s.note or "—")
        steps = s.spec.steps if s.spec else "—"
        lines.append(f"  {s.setting.name:<22} {steps:>5}  {s.status:<15} {s.ulps_text():>9}  "
                     f"{where}")
    bad = next((s for s in r.settings if s.status == DISCREPANT and s.vs_golden), None)
    if bad is not None:
        beyond = bad.vs_golden.beyond(max_ulps)
        if beyond:
            lines.append(f"values more than {max_ulps} ULP from the golden in setting "
                         f"{bad.setting.name} ({len(beyond)} of {len(bad.vs_golden.diffs)}):")
            lines += _rows(beyond, limit, "got", "golden")
    return "\n".join(lines)


def snapshot_diff(name: str, diffs: Sequence[ValueDiff], max_ulps: int, why: str = "",
                  limit: int = 8) -> str:
    """What changed against a stored snapshot."""
    fix = "(pytest --adam-verify-update rewrites it)"
    if why:
        return f"snapshot {name}: {why} {fix}"
    return "\n".join([f"snapshot {name}: {len(diffs)} value(s) more than {max_ulps} ULP from "
                      f"the stored trace {fix}:"] + _rows(diffs, limit, "now", "stored"))


def changed_line(name: str, status: str, diffs: Sequence[ValueDiff], why: str = "") -> str:
    """One line for the terminal summary after an update."""
    if status == "missing":
        return f"{name}: written (new)"
    if why:
        return f"{name}: rewritten, {why}"
    d = diffs[0]
    return (f"{name}: updated, {len(diffs)} value(s) changed; first at step {d.t} "
            f"{d.quantity}[{d.index}]: {d.golden} → {d.tested}")
