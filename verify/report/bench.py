"""Render benchmark results (``adam-verify bench``) as Markdown."""

from __future__ import annotations

from ..experiments.bench import BenchResult


def render_bench(result: BenchResult) -> str:
    lines = ["# Benchmarks", "", f"Measured side by side in one run of `adam-verify bench` on "
             f"{result.machine}; best of several repeats. Ratio = baseline time / candidate time.",
             "", "| what | baseline | per unit | candidate | per unit | ratio |",
             "|---|---|---|---|---|---|"]
    for what, base, cand in result.rows:
        lines.append(f"| {what} | {base.name} | {_dur(base.per_unit)}/{base.unit} | {cand.name} | "
                     f"{_dur(cand.per_unit)}/{cand.unit} | **{base.per_unit / cand.per_unit:.1f}×** |")
    for t in result.tables:
        lines += ["", f"## {t.title}", "", "| " + " | ".join(t.columns) + " |",
                  "|" + "---|" * len(t.columns)]
        lines += ["| " + " | ".join(row) + " |" for row in t.rows]
        if t.note:
            lines += ["", t.note]
    return "\n".join(lines) + "\n"


def _dur(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"
