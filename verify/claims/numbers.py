"""Printed numbers of a worked example against a committed golden trace."""

from __future__ import annotations

from ..golden.trace import Trace
from .schema import Claim
from .verdicts import ClaimResult, _uncheckable, check_item


def labels(trace: Trace, n: int) -> list[str]:
    """Parameter names for parameter-sized vectors, else positions."""
    if n == len(trace.param_names):
        return list(trace.param_names)
    return [f"[{i}]" for i in range(n)]


def check_trace(claim: Claim, goldens: dict[str, Trace]) -> ClaimResult:
    trace = goldens.get(claim.golden)
    if trace is None:
        return _uncheckable(claim, f"no golden {claim.golden!r}")
    try:
        values = trace.step(claim.step).values(claim.quantity)
    except KeyError:
        return _uncheckable(claim, f"golden {claim.golden!r} has no step {claim.step}")
    if values is None:
        return _uncheckable(claim, f"golden {claim.golden!r} records no {claim.quantity!r}")
    if len(values) != len(claim.claimed):
        return _uncheckable(claim, f"claim gives {len(claim.claimed)} values, "
                                   f"golden has {len(values)}")
    names = labels(trace, len(values))
    return ClaimResult(claim, tuple(check_item(n, c, g)
                                    for n, c, g in zip(names, claim.claimed, values, strict=True)))
