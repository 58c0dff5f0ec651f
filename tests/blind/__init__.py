"""Calibration sets written blind: by someone who had read only the README, never tests/mutants,
the slips or the battery. Scored apart from the in-house mutants, never tuned on."""
