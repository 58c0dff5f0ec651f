"""Update rules written once, generic over the number type (``catalogue.py``), and what each
computes in words (``meaning.py``)."""

from .catalogue import (
    ADAM,
    RULES,
    SCHEDULES,
    Record,
    Rule,
    Slips,
    State,
    adam,
    iterate,
    momentum,
    rmsprop,
    slipped,
)
from .meaning import MEANING, difference

__all__ = ["ADAM", "MEANING", "RULES", "SCHEDULES", "Record", "Rule", "Slips", "State", "adam",
           "difference", "iterate", "momentum", "rmsprop", "slipped"]
