"""Render the third-party audit (``reports/third-party.md``)."""

from __future__ import annotations

from ..auditing.thirdparty import ThirdPartyReport


def _module(target: str) -> str:
    return target.split(":")[0].split(".")[0]


def render_third_party(r: ThirdPartyReport, kept: tuple[tuple[str, str], ...] = ()) -> str:
    """The third-party audit as Markdown. ``kept``: (package, table row) of packages not
    installed in this run, carried over from the committed file as they were computed."""
    lines = ["# Third-party Adams", "",
             "Each optimizer is audited as an object (`adam-verify audit --impl MODULE:ATTR`) "
             "over the audit's battery of settings, on its framework's own autodiff gradients. "
             "Regenerate with `adam-verify third-party`.", "",
             "| versions | optimizer object | audited as | dtype | verdict | distance from the "
             "golden | audit |",
             "|---|---|---|---|---|---|---|"]
    for p in r.packages:
        for row in r.rows:
            if _module(row.target) == p.module:
                lines.append(f"| {row.version} | `{row.target}` | {row.optimizer} | "
                             f"{row.dtype} | {row.verdict} | {row.max_ulps} | {row.summary} |")
        lines += [line for module, line in kept if module == p.module]
    lines += ["", "## What each computes (from its source; asserted in "
              "`tests/test_thirdparty.py`)", ""]
    lines += [f"- **{p.module}** (`{p.install}`): {p.note}" for p in r.packages]
    if r.lowbit:
        lines += ["", "## Quantized state against the golden", "",
                  f"AdamW (defaults: lr {r.lowbit[0].hyper['lr']}, weight decay "
                  f"{r.lowbit[0].hyper['weight_decay']}) on {r.lowbit[0].size} parameters × "
                  f"{r.lowbit[0].steps} steps of seeded gradients, {r.lowbit[0].sample} sampled "
                  "coordinates: m and v (dequantized) against their exact values, relative to the "
                  "largest |golden| of the coordinate's quantization block; parameters against "
                  f"certified goldens ({min(q.certified_digits for q in r.lowbit)} digits), in units "
                  "of lr, at the last step. `torch.optim.AdamW` is the float32 control. Each "
                  "block of coordinates shares one scale: when gradient scales within a block "
                  "spread over decades, a small-gradient coordinate's m carries an error of a "
                  "fraction of the block's largest m, divided by its own small √v̂ in the step.",
                  "",
                  "| optimizer | gradient scales | block | state held as | m error max / mean | "
                  "v error max / mean | max param. error (lr) |", "|---|---|---|---|---|---|---|"]
        for q in r.lowbit:
            held = ", ".join(sorted(set(q.quantized.values())))
            scales = "one scale" if q.decades == 0 else f"{q.decades} decades"
            m, v = q.state_error["m"], q.state_error["v"]
            lines.append(f"| `{q.target}` | {scales} | {q.block_size or '—'} | {held} | "
                         f"{m[0]:.3g} / {m[1]:.3g} | {v[0]:.3g} / {v[1]:.3g} | "
                         f"{q.params_error_lr:.3g} |")
    if r.missing:
        held = {module for module, _ in kept}
        lines += ["", "Not installed when this file was regenerated: " + ", ".join(
            f"{p.module} (`{p.install}`)" for p in r.packages if p.module in r.missing) + "."]
        if held:
            lines += ["Their rows above are kept from the last run that had them: the versions "
                      "column names what they were computed with, and since when they are kept."]
    return "\n".join(lines) + "\n"
