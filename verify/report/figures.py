"""Draw the report's figures (PNG, matplotlib's Agg backend) from a ``Verification``.

Like the Markdown renderers this only renders what the pipeline computed: it returns the
figures as {name: path relative to the report} (which ``report.render`` links) and
{path: PNG bytes}, which the CLI writes. Each PNG carries a SHA-256 of the data it plots in its
``Description`` text chunk, so ``adam-verify check`` can tell stale figures from renderer
changes (a new matplotlib draws other pixels from the same data).
"""

from __future__ import annotations

import hashlib
import io
import zlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..claims.assemble import Verification  # noqa: E402
from ..experiments import Experiment  # noqa: E402
from ..golden.arith import Float64Arith  # noqa: E402
from ..symbolic.evaluate import compile_expr  # noqa: E402
from ..symbolic.problems import find_problem  # noqa: E402

DIR = "figures"
_PREFIX = ["report"]  # set by draw(): one report's figures do not overwrite another's
COLORS = {"gd": "#1f77b4", "adam": "#d62728", "momentum": "#2ca02c"}


def _save(fig: plt.Figure, sink: dict[str, bytes], name: str) -> str:
    """Render ``fig`` as PNG into ``sink`` (path relative to the report → bytes): figures are
    written only once the whole report is computed, and whole (a crash leaves no half PNG)."""
    rel = f"{DIR}/{_PREFIX[0]}-{name}.png"
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=110, bbox_inches="tight",
                metadata={"Software": None, "Description": DIGEST + data_digest(fig)})
    plt.close(fig)
    sink[rel] = png.getvalue()
    return rel


def _loss_curves(e: Experiment, sink: dict[str, bytes]) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for r in e.runs:
        ax.semilogy(np.arange(len(r.loss)), r.loss, label=f"{r.optimizer}, α = {r.lr}",
                    color=COLORS.get(r.optimizer))
    ax.axvline(5, color="grey", lw=0.8, ls=":")
    ax.text(5.5, ax.get_ylim()[1] * 0.5, "the article's 5 iterations", fontsize=8, color="grey")
    ax.set(xlabel="step t", ylabel="MSE loss", title="Worked example: loss, GD vs Adam")
    ax.legend()
    return _save(fig, sink, "worked_example_loss")


def _gd_rates(e: Experiment, sink: dict[str, bytes]) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for r in e.runs:
        if len(r.loss) > 2 and r.optimizer == "gd":
            loss = np.array(r.loss)
            ax.semilogy(np.arange(len(loss))[np.isfinite(loss)], loss[np.isfinite(loss)],
                        label=f"GD, α = {r.lr}")
    ax.set_ylim(1e-30, 1e4)
    ax.set(xlabel="step t", ylabel="MSE loss", title="Worked example: GD at four step sizes")
    ax.legend(fontsize=8)
    return _save(fig, sink, "gd_step_sizes")


def _rosenbrock(e: Experiment, sink: dict[str, bytes]) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    x, y = np.meshgrid(np.linspace(-1.6, 1.6, 300), np.linspace(-0.6, 2.2, 300))
    f = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    ax.contour(x, y, f, levels=np.logspace(-1, 3, 14), colors="#bbbbbb", linewidths=0.6)
    shades = iter(np.linspace(0.35, 1.0, max(1, sum(r.optimizer == "adam" for r in e.runs))))
    for r in e.runs:  # the experiment picks them: GD at its best α, Adam at every α
        p = np.array(r.params)
        color = COLORS.get(r.optimizer) if r.optimizer != "adam" else plt.cm.Reds(next(shades))
        ax.plot(p[:, 0], p[:, 1], lw=0.9, color=color, label=f"{r.optimizer}, α = {r.lr}")
    start = e.runs[0].start if e.runs else (-1.2, 1.0)
    ax.plot([1], [1], "k*", ms=10, label="minimum (1, 1)")
    ax.plot([start[0]], [start[1]], "ko", ms=4, label=f"start ({start[0]:g}, {start[1]:g})")
    ax.set(xlabel="x", ylabel="y", title="Rosenbrock: trajectories on the contours")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, sink, "rosenbrock")


def _one_d(e: Experiment, sink: dict[str, bytes], name: str, xs: np.ndarray, pick) -> str:
    problem = find_problem(e.problem)
    f = compile_expr(problem.loss, problem.symbols, Float64Arith())

    def loss(t: np.ndarray) -> np.ndarray:
        return np.asarray(f([t]), dtype=float) * np.ones_like(t)

    # left: the iterates on the landscape (each run its own marker, hollow, so one run's points
    # never hide another's); right: θ against the step, where runs that visit the same places
    # at different times are told apart
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax.plot(xs, loss(xs), color="black", lw=1)
    markers = "osD^vx+"
    for k, r in enumerate(run for run in e.runs if pick(run)):
        p = np.array([q[0] for q in r.params])
        finite = p[np.isfinite(p)]
        label = f"{r.optimizer}, α = {r.lr}, θ0 = {r.start[0]:g}"
        ax.plot(finite, loss(finite), markers[k % len(markers)], ms=5, mfc="none", alpha=0.7,
                color=COLORS.get(r.optimizer), label=label)
        bx.plot(np.arange(1, p.size + 1), p, lw=1.2, color=COLORS.get(r.optimizer),
                ls=("-", "--", ":", "-.", (0, (5, 1)), (0, (1, 3)))[k % 6], label=label)
    ax.set(xlabel="θ", ylabel="f(θ)", title=e.title)
    bx.set(xlabel="step t + 1 (log scale)", ylabel="θ_t", title="iterates against the step",
           xscale="log")
    ax.legend(fontsize=7)
    bx.legend(fontsize=7)
    return _save(fig, sink, name)


def _audit_ulps(v: Verification, sink: dict[str, bytes]) -> str | None:
    audits = [a for a in v.audits if a.optimizer == "adam" and a.primary.golden is not None]
    if not audits:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for a in audits:
        steps = sorted({d.t for d in a.vs_golden.diffs if d.quantity == "params"})
        worst = [max((d.ulps if d.ulps is not None else np.nan) for d in a.vs_golden.diffs
                     if d.quantity == "params" and d.t == t) for t in steps]
        ax.plot(steps, np.maximum(worst, 0.5), marker="o", ms=3, label=a.impl)
    ax.set_yscale("log")
    ax.set(xlabel="step t", ylabel="max ULP of θ vs golden (0 drawn at 0.5)",
           title="Adam on the probe battery: float32 error per step")
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, sink, "audit_ulps")


Rendered = tuple[dict[str, str], dict[str, bytes]]  # {name: path}, {path: PNG}


def draw_experiments(experiments: tuple[Experiment, ...], prefix: str = "report") -> Rendered:
    """The experiments' figures rendered in memory (the report draws them while the audits
    run): ({name: path relative to the report}, {path: PNG bytes})."""
    _PREFIX[0] = prefix
    out: dict[str, str] = {}
    sink: dict[str, bytes] = {}
    by_id = {e.id: e for e in experiments}
    if "worked_example_curves" in by_id:
        out["worked_example_curves"] = _loss_curves(by_id["worked_example_curves"], sink)
    if "gd_oscillation" in by_id:
        out["gd_oscillation"] = _gd_rates(by_id["gd_oscillation"], sink)
    if "rosenbrock_speed" in by_id:
        out["rosenbrock_speed"] = _rosenbrock(by_id["rosenbrock_speed"], sink)
    if "quartic_stall" in by_id:
        out["quartic_stall"] = _one_d(
            by_id["quartic_stall"], sink, "quartic", np.linspace(-0.8, 2.8, 400),
            lambda r: r.lr == "0.01" and r.start[0] in (-0.5, 0.5))
    if "double_well_escape" in by_id:
        out["double_well_escape"] = _one_d(
            by_id["double_well_escape"], sink, "double_well", np.linspace(-1.7, 2.1, 400),
            lambda r: r.start[0] == 2.0 and (r.lr == "0.05" or (r.lr == "0.5"
                                                                and r.optimizer == "adam")))
    return out, sink


def draw(v: Verification, prefix: str = "report", rendered: Rendered | None = None) -> Rendered:
    """Every figure the verification has data for (``figures/<prefix>-*.png``; the experiments'
    from ``rendered`` when they were drawn already): ({name: path relative to the report},
    {path: PNG bytes})."""
    names, pngs = rendered if rendered is not None else draw_experiments(v.experiments, prefix)
    names, pngs = dict(names), dict(pngs)
    _PREFIX[0] = prefix
    ulps = _audit_ulps(v, pngs)
    if ulps:
        names["audit"] = ulps
    return names, pngs


DIGEST = "adam-verify figure data sha256:"


def data_digest(fig: plt.Figure) -> str:
    """SHA-256 of what a figure shows: every axis's texts, limits and scales, and the data of its
    lines, collections and images (to 12 significant digits), independent of how it is drawn."""
    h = hashlib.sha256()

    def put(*items: object) -> None:
        for item in items:
            if isinstance(item, np.ndarray | list | tuple):
                arr = np.asarray(item, dtype=float).ravel()
                h.update(" ".join(f"{x:.12g}" for x in arr).encode())
            else:
                h.update(str(item).encode())
            h.update(b"\0")

    for ax in fig.axes:
        put(ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), ax.get_xscale(), ax.get_yscale(),
            ax.get_xlim(), ax.get_ylim())
        for line in ax.get_lines():
            put("line", line.get_label(), line.get_xydata(), line.get_color(),
                line.get_linestyle(), line.get_marker())
        for coll in ax.collections:
            put("collection", coll.get_label(), coll.get_offsets(),
                np.asarray(coll.get_facecolor()), np.asarray(coll.get_edgecolor()))
            for path in coll.get_paths():
                put(path.vertices)
            if coll.get_array() is not None:
                put(np.ma.filled(coll.get_array(), np.nan))
        for patch in ax.patches:
            put("patch", patch.get_label(), patch.get_path().vertices,
                np.asarray(patch.get_facecolor()))
        for image in ax.get_images():
            put("image", np.ma.filled(image.get_array(), np.nan))
        for text in ax.texts:
            put("text", text.get_text())
        legend = ax.get_legend()
        if legend is not None:
            put("legend", *(t.get_text() for t in legend.get_texts()))
    return h.hexdigest()


def png_digest(png: bytes) -> str | None:
    """The data digest a PNG written by ``_save`` carries, or None (not ours, or damaged)."""
    pos = 8
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        kind = png[pos + 4:pos + 8]
        body = png[pos + 8:pos + 8 + length]
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            key, _, value = body.partition(b"\0")
            if key == b"Description":
                if kind == b"zTXt":
                    value = zlib.decompress(value[1:])
                elif kind == b"iTXt":
                    value = value[2:].split(b"\0", 2)[-1]
                text = value.decode("latin-1")
                return text[len(DIGEST):] if text.startswith(DIGEST) else None
        pos += 12 + length
    return None
