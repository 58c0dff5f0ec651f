"""A pytest helper for users' own test suites: assert a float32 trace matches a golden."""

from __future__ import annotations

from .golden.compare import compare
from .golden.trace import Trace


def assert_matches_golden(trace: Trace, golden: Trace, max_ulps: int = 4,
                          quantities: tuple[str, ...] = ("params",)) -> None:
    """Fail with the first step and value more than ``max_ulps`` float32 ULPs from the golden."""
    bad = compare(trace, golden).beyond(max_ulps, quantities)
    if bad:
        d = bad[0]
        raise AssertionError(
            f"{len(bad)} value(s) beyond {max_ulps} ULP; first at step {d.t}, {d.quantity}"
            f"[{d.index}]: got {d.tested}, golden {d.golden} ({d.ulps} ULP, rel. err. "
            f"{d.rel_err:.2e})")
