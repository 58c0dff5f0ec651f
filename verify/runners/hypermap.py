"""The audited hyperparameters mapped onto an optimizer constructor's own parameter names, read
from its signature, and typed ``NAME=VALUE`` options for everything else.

``lr`` → ``lr`` / ``learning_rate``; β1, β2 → a ``betas`` pair or ``beta_1``/``b1``/``beta1``
and the same for β2; ε → ``eps`` / ``epsilon``; weight decay → ``weight_decay`` / ``wd``;
RMSprop's α → ``alpha`` / ``rho`` / ``decay``; ``momentum``, ``dampening``, ``eps_root`` as
named. Flags (``amsgrad``, ``nesterov``, ``bias_correction`` …) are never set for the user:
an audit checks the object as its defaults make it, and ``--option`` changes them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InputError

ALIASES = {
    "lr": ("lr", "learning_rate"),
    "beta1": ("beta1", "beta_1", "b1"),
    "beta2": ("beta2", "beta_2", "b2"),
    "eps": ("eps", "epsilon"),
    "eps_root": ("eps_root",),
    "weight_decay": ("weight_decay", "wd"),
    "momentum": ("momentum",),
    "dampening": ("dampening",),
    "alpha": ("alpha", "rho", "decay"),
}
PAIRS = {"betas": ("beta1", "beta2")}  # one constructor parameter holding two of ours
Option = bool | int | float | str | None | tuple
_NAME = re.compile(r"^[A-Za-z_]\w*$")
_INT = re.compile(r"^[+-]?\d+$")
_WORD = re.compile(r"^[A-Za-z_][\w.\-]*$")


@dataclass(frozen=True)
class Mapped:
    """Keyword arguments for the constructor and how they were found."""

    kwargs: dict[str, Any]
    names: dict[str, str]  # our hyperparameter → the constructor's parameter
    not_passed: tuple[str, ...]  # ours with no parameter to go to (the object's own value rules)
    options: dict[str, Option]


def parse_option(text: str) -> tuple[str, Option]:
    """``NAME=VALUE`` typed: true/false → bool, an integer → int, a number → float, none →
    None, comma-separated values (optionally in parentheses) → tuple, a plain word → str."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name):
        raise InputError(f"--option {text!r}: expected NAME=VALUE (e.g. amsgrad=true)")
    value = value.strip()
    inner = value[1:-1] if value.startswith("(") and value.endswith(")") else None
    if inner is not None or "," in value:
        parts = [p.strip() for p in (value if inner is None else inner).split(",")]
        return name, tuple(_scalar(name, p) for p in parts if p)
    return name, _scalar(name, value)


def _scalar(name: str, text: str) -> Option:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    if _INT.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        pass
    if _WORD.match(text):
        return text
    raise InputError(f"--option {name}={text}: not a bool, int, float, tuple or plain word")


def map_hyper(factory: Callable[..., Any], hyper: Mapping[str, str], options: Mapping[str, Option],
              label: str, skip: int = 0) -> Mapped:
    """Keyword arguments for ``factory`` from the audited ``hyper`` (decimal strings, passed as
    Python floats, as users write them) and ``options``. ``skip`` leading parameters are fed
    by the runner (torch's parameter list)."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        raise InputError(f"{label}: its signature cannot be read, so its hyperparameters "
                         "cannot be mapped") from None
    params = [p for p in sig.parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)][skip:]
    by_name = {p.name: p for p in params}
    open_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    kwargs: dict[str, Any] = {}
    names: dict[str, str] = {}
    for pair, (a, b) in PAIRS.items():
        if pair in by_name and a in hyper and b in hyper:
            default = by_name[pair].default
            value = (float(hyper[a]), float(hyper[b]))
            kwargs[pair] = list(value) if isinstance(default, list) else value
            names[a] = names[b] = pair
    for ours, text in hyper.items():
        if ours in names:
            continue
        theirs = next((n for n in ALIASES.get(ours, (ours,)) if n in by_name), None)
        if theirs is not None:
            kwargs[theirs] = float(text)
            names[ours] = theirs
    for name, value in options.items():
        if name in kwargs:
            ours = next(k for k, v in names.items() if v == name)
            raise InputError(f"{label}: --option {name} sets the audited hyperparameter {ours}; "
                             f"give it as --{ours.replace('_', '-')} instead")
        if name not in by_name and not open_kw:
            raise InputError(f"{label} has no parameter {name!r} "
                             f"(it has: {', '.join(by_name) or 'none'})")
        kwargs[name] = value
    for p in params:
        if p.name not in kwargs and p.default is inspect.Parameter.empty:
            raise InputError(f"{label}: required parameter {p.name!r} matches no audited "
                             f"hyperparameter; pass it with --option {p.name}=VALUE")
    not_passed = tuple(k for k in hyper if k not in names)
    return Mapped(kwargs, names, not_passed, dict(options))
