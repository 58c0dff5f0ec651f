"""The registry of calibration implementations and what the audit must say of each."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    fn: Callable
    optimizer: str  # the rule it claims to implement
    correct: bool = False
    computes: str | None = None  # the catalogue variant a buggy one really is
    term: str | None = None  # a phrase forensics must name (bugs outside the catalogue)
    bug: str = ""  # what was broken, in words

    @property
    def target(self) -> str:
        return f"{self.fn.__module__}:{self.fn.__name__}"


MUTANTS: dict[str, Mutant] = {}


def register(optimizer: str, *, correct: bool = False, computes: str | None = None,
             term: str | None = None, bug: str = ""):
    def wrap(fn):
        MUTANTS[fn.__name__] = Mutant(fn.__name__, fn, optimizer, correct, computes, term, bug)
        return fn
    return wrap
