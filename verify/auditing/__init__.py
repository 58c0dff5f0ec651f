"""The audit stage: run an implementation, judge it against the rounding envelope of the rule
it claims, diagnose what it computes, at small and large scale and over grids."""

from .run import BUILTIN, LOW_PRECISION, AuditResult, audit, installed, run_impl

__all__ = ["BUILTIN", "LOW_PRECISION", "AuditResult", "audit", "installed", "run_impl"]
