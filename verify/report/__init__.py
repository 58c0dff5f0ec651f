"""Renderers: results into Markdown. Formatting only: no computation, no I/O."""

from .article import render
from .audit import render_audit, render_calibration, render_sweep, render_tensor_audit
from .bench import render_bench

__all__ = ["render", "render_audit", "render_bench", "render_calibration", "render_sweep",
           "render_tensor_audit"]
