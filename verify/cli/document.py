"""A document's report built in memory, for ``report`` (which writes it) and ``check`` (which
compares it with the committed one)."""

from __future__ import annotations

from pathlib import Path

from .. import paths
from .common import done_progress, progress


def build_report(claims: Path, name: str, impls: list[str] | None = None):
    """Verify a claims file and render its report in memory: (verification, Markdown,
    {path relative to the report: PNG bytes})."""
    from ..claims.assemble import verify_document
    from ..report import render
    from ..report.figures import draw, draw_experiments

    rendered = []  # the experiments' figures, drawn in memory while the audits run

    def figures_meanwhile(experiments):
        progress("figures")
        rendered.append(draw_experiments(experiments, name))

    verification = verify_document(claims, progress=progress, impls=impls,
                                   meanwhile=figures_meanwhile)
    figures, pngs = draw(verification, name, rendered[0] if rendered else None)
    done_progress()
    return verification, render(verification, figures), pngs


def report_name(claims: Path) -> str:
    """The bundled article's report is ``article.md``; any other claims file's is its stem."""
    return "article" if Path(claims).resolve() == paths.ARTICLE_CLAIMS.resolve() else claims.stem
