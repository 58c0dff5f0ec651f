"""Experiments with a declared protocol and a sensitivity sweep, for a document's behavioural
claims.

Each experiment runs the catalogue's update rules (the same ``rules.py`` as the goldens) in
float64 on a catalogue problem, over a stated grid of settings (step sizes, starts, β's),
measures what the protocol names, and grades the claim at every setting of the grid
(``outcomes.grade``): confirmed, contradicted, partly confirmed or depends on the setting. The
finding is a function of the measurements only (each experiment's ``judge*`` function), so a
different result gives a different verdict and a different sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from ..cache import cached
from ..errors import InputError
from .basins import double_well_escape, quartic_stall
from .common import Experiment, Run, run64, sign_changes
from .extra import (
    adam_more_effective,
    adam_oscillation,
    adam_sensitivity,
    adam_vs_gd_escape,
    gd_local_minimum,
    gd_lr_tuning,
    mitigations,
    momentum_push,
    noise_escape,
    per_parameter_steps,
    random_restarts,
    saddle_slowdown,
)
from .oscillation import gd_oscillation
from .rosenbrock import rosenbrock_speed
from .worked_example import bias_correction_early, worked_example_curves

EXPERIMENTS: dict[str, Callable[[], Experiment]] = {
    "gd_oscillation": gd_oscillation,
    "rosenbrock_speed": rosenbrock_speed,
    "double_well_escape": double_well_escape,
    "quartic_stall": quartic_stall,
    "worked_example_curves": worked_example_curves,
    "bias_correction_early": bias_correction_early,
    "gd_local_minimum": gd_local_minimum,
    "adam_vs_gd_escape": adam_vs_gd_escape,
    "momentum_push": momentum_push,
    "adam_oscillation": adam_oscillation,
    "adam_more_effective": adam_more_effective,
    "per_parameter_steps": per_parameter_steps,
    "noise_escape": noise_escape,
    "random_restarts": random_restarts,
    "saddle_slowdown": saddle_slowdown,
    "adam_sensitivity": adam_sensitivity,
    "gd_lr_tuning": gd_lr_tuning,
    "mitigations": mitigations,
}


@cache
def experiment(name: str) -> Experiment:
    """Run (once per process) the experiment called ``name``."""
    if name not in EXPERIMENTS:
        raise InputError(f"unknown experiment {name!r} (known: {', '.join(EXPERIMENTS)})")
    return cached("experiment", (name,), EXPERIMENTS[name])


__all__ = ["EXPERIMENTS", "Experiment", "Run", "bias_correction_early", "double_well_escape",
           "experiment", "gd_oscillation", "quartic_stall", "rosenbrock_speed", "run64",
           "sign_changes", "worked_example_curves"]
