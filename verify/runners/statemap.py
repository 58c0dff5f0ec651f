"""Optimizer state as frameworks name it, mapped to the catalogue's names (m, v, v_max, buf),
with a record of what was found and what could not be mapped, so that an audit never judges
parameters alone without saying so."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

# framework state name → catalogue name. torch.optim: exp_avg, exp_avg_sq, max_exp_avg_sq,
# momentum_buffer, square_avg (RMSprop); optax: mu, nu, nu_max, trace; Keras 3: momentum,
# velocity, velocity_hat; MLX: m, v. A name matches when it is one of these or ends in
# "_<one of these>", optionally followed by "_<index>" (Keras: "variable_velocity_hat",
# heavyball: "update_by_adam_exp_avg_sq_0"); the longest match wins.
NAMES = {"exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "v_max",
         "momentum_buffer": "buf", "square_avg": "v",
         "mu": "m", "nu": "v", "nu_max": "v_max", "trace": "buf",
         "momentum": "m", "velocity": "v", "velocity_hat": "v_max",
         "m": "m", "v": "v", "v_max": "v_max", "buf": "buf"}
# rules whose only state is the heavy-ball buffer: a framework's m (Keras' "momentum", MLX's
# "v" of SGD) is that buffer
BUFFER_RULES = ("gd", "momentum", "momentum-zero", "nesterov", "nesterov-zero")


class StateLog:
    """Maps each step's raw state and remembers every name seen: mapped (theirs → ours),
    unmapped (parameter-shaped, no catalogue name) and other (counters, scalars)."""

    def __init__(self, rule: str, shape: tuple[int, ...]):
        self.rule, self.shape = rule, tuple(shape)
        self.mapped: dict[str, str] = {}
        self.unmapped: list[str] = []
        self.other: list[str] = []

    def map(self, raw: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """``raw`` maps framework names to array-likes; returns ours → float32 arrays."""
        out: dict[str, np.ndarray] = {}
        for name, value in raw.items():
            a = np.asarray(value)
            ours = catalogue_name(name)
            if a.shape != self.shape:
                _note(self.other, name)
            elif ours is None or ours in out:
                _note(self.unmapped, name)
            else:
                if self.rule in BUFFER_RULES and ours in ("m", "v"):
                    ours = "buf"
                out[ours] = a.astype(np.float32)
                self.mapped[name] = ours
        return out

    def arithmetic(self) -> dict[str, Any]:
        """What goes into the Trace's ``arithmetic``: the names found and their fate."""
        return {"state_mapped": dict(self.mapped), "unmapped_state": list(self.unmapped),
                "state_other": list(self.other)}


def catalogue_name(name: str) -> str | None:
    """The catalogue name a framework's state name stands for, or None."""
    base = re.sub(r"_\d+$", "", name.rsplit("/", 1)[-1])
    hits = [k for k in NAMES if base == k or base.endswith("_" + k)]
    return NAMES[max(hits, key=len)] if hits else None


def _note(names: list[str], name: str) -> None:
    if name not in names:
        names.append(name)
