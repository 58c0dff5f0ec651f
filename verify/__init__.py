"""adam-verify: symbolic-and-numeric verification of gradient optimizers."""

__version__ = "0.1.0"
