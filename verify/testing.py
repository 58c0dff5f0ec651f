"""A pytest helper for users' own test suites: assert a float32 trace matches a golden."""

from __future__ import annotations

from .compare import compare
from .trace import Trace


def assert_matches_golden(trace: Trace, golden: Trace, max_ulps: int = 4,
                          quantities: tuple[str, ...] = ("params",)) -> None:
    """Fail with the first step and value more than ``max_ulps`` float32 ULPs from the golden."""
    c = compare(trace, golden)
    bad = [d for d in c.diffs if d.quantity in quantities and (d.ulps is None or d.ulps > max_ulps)]
    if bad:
        d = min(bad, key=lambda d: d.t)
        raise AssertionError(
            f"{len(bad)} value(s) beyond {max_ulps} ULP; first at step {d.t}, {d.quantity}"
            f"[{d.index}]: got {d.tested}, golden {d.golden} ({d.ulps} ULP, rel. err. "
            f"{d.rel_err:.2e})")
