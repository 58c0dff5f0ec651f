"""Implementations written the way users write them — correct ones in several styles, and ones
broken on purpose — to calibrate the audit like a measuring instrument (a mutation score).

Each is registered with what the audit must say: ``correct`` (consistent), ``computes`` (a
catalogue variant it really is), or ``term`` (a phrase forensics must name, for bugs outside the
catalogue). They follow the ``MODULE:CALLABLE`` protocol: ``fn(params, grad, state, t, hyper)
-> (params, state)`` in float32 NumPy, ``t`` from 1, state entries m, v, v_max, buf audited.
"""

from . import adam_family, others  # noqa: F401  (registers the mutants)
from .registry import MUTANTS, Mutant

__all__ = ["MUTANTS", "Mutant"]
