"""What a built-in framework runner needs to drive an optimizer object instead of its own:
how to build the optimizer, how to read and map its state, and what to add to the Trace."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .statemap import StateLog


@dataclass(frozen=True)
class Hooks:
    make: Callable[..., Any]  # builds the framework optimizer (torch: from the parameter list)
    state: Callable[..., dict[str, np.ndarray]]  # framework objects → mapped float32 arrays
    log: StateLog
    versions: dict[str, str] = field(default_factory=dict)  # the object's own package
    extra: dict[str, Any] = field(default_factory=dict)  # how hyperparameters were mapped

    def finish(self, arithmetic: dict[str, Any]) -> dict[str, Any]:
        """The runner's ``arithmetic`` with the state log, the mapping and the versions."""
        versions = dict(arithmetic.get("versions", {})) | self.versions
        return arithmetic | self.log.arithmetic() | self.extra | {"versions": versions}
