"""The ``Trace`` data model and its JSON file format (``adam-verify/trace@1``).

Values are decimal strings (golden: certified digits; float32: the shortest string that reads
back as the same float32). Files carry a SHA-256 of their canonical content and are written
atomically (temporary file, fsync, rename), so a reader sees the old file or the new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

FORMAT = "adam-verify/trace@1"
MAX_BYTES = 200_000_000


@dataclass(frozen=True)
class Step:
    """Parameters after step ``t`` and what produced them (grad is the one used at step t)."""

    t: int
    params: tuple[str, ...]
    grad: tuple[str, ...] | None = None
    state: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    aux: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    loss: str | None = None
    rows: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    digits: int | None = None

    def values(self, quantity: str) -> tuple[str, ...] | None:
        """The vector named ``quantity``: params, grad, loss, or a state/aux/row output name."""
        if quantity in ("params", "grad"):
            return getattr(self, quantity)
        if quantity == "loss":
            return None if self.loss is None else (self.loss,)
        for table in (self.state, self.aux, self.rows):
            if quantity in table:
                return table[quantity]
        return None


@dataclass(frozen=True)
class Trace:
    """A run of one optimizer on one problem: header plus every step."""

    problem: Mapping[str, Any]
    optimizer: Mapping[str, Any]
    arithmetic: Mapping[str, Any]
    steps: tuple[Step, ...]
    status: Mapping[str, Any] = field(default_factory=lambda: {"finite": True})

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.problem["params"])

    def step(self, t: int) -> Step:
        for s in self.steps:
            if s.t == t:
                return s
        raise KeyError(t)

    def quantities(self) -> list[str]:
        names = ["params", "grad", "loss"]
        last = self.steps[-1]
        return names + list(last.state) + list(last.aux) + list(last.rows)


def _step_to_json(s: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"t": s.t, "params": list(s.params)}
    if s.grad is not None:
        out["grad"] = list(s.grad)
    if s.state:
        out["state"] = {k: list(v) for k, v in s.state.items()}
    if s.aux:
        out["aux"] = {k: list(v) for k, v in s.aux.items()}
    if s.loss is not None:
        out["loss"] = s.loss
    if s.rows:
        out["rows"] = {k: list(v) for k, v in s.rows.items()}
    if s.digits is not None:
        out["digits"] = s.digits
    return out


def content(trace: Trace) -> dict[str, Any]:
    """The JSON object of a trace, without its hash."""
    return {
        "format": FORMAT,
        "problem": dict(trace.problem),
        "optimizer": dict(trace.optimizer),
        "arithmetic": dict(trace.arithmetic),
        "status": dict(trace.status),
        "steps": [_step_to_json(s) for s in trace.steps],
    }


def content_hash(obj: Mapping[str, Any]) -> str:
    canonical = json.dumps({k: v for k, v in obj.items() if k != "sha256"}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def dumps(trace: Trace) -> str:
    """Deterministic JSON text: header fields one per line, then one line per step."""
    obj = content(trace)
    obj["sha256"] = content_hash(obj)
    lines = ["{"]
    for i, (key, value) in enumerate(obj.items()):
        comma = "," if i < len(obj) - 1 else ""
        if key == "steps":
            lines.append(' "steps": [')
            lines += [f"  {_compact(s)}{',' if j < len(value) - 1 else ''}"
                      for j, s in enumerate(value)]
            lines.append(f" ]{comma}")
        else:
            lines.append(f" {json.dumps(key)}: {_compact(value)}{comma}")
    return "\n".join(lines + ["}"]) + "\n"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(", ", ": "))


def loads(text: str, where: str = "<trace>") -> Trace:
    """Parse and validate a trace; a wrong format, shape or hash is an ``InputError``."""
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"malformed JSON: {exc}", where=where) from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise InputError(f"not a trace file (expected format {FORMAT!r})", where=where)
    if "sha256" not in obj:
        raise InputError("missing sha256 field", where=where)
    if obj["sha256"] != content_hash(obj):
        raise InputError("content does not match its sha256: the file was modified or truncated",
                         where=where)
    try:
        steps = tuple(_step_from_json(s) for s in obj["steps"])
        trace = Trace(dict(obj["problem"]), dict(obj["optimizer"]), dict(obj["arithmetic"]),
                      steps, dict(obj.get("status", {"finite": True})))
        _check_shape(trace)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"invalid trace structure ({type(exc).__name__}: {exc})",
                         where=where) from None
    return trace


def _strs(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError("expected a list of decimal strings")
    return tuple(values)


def _step_from_json(s: dict[str, Any]) -> Step:
    t = s["t"]
    if not isinstance(t, int) or isinstance(t, bool) or t < 0:
        raise ValueError(f"bad step number {t!r}")
    loss = s.get("loss")
    if loss is not None and not isinstance(loss, str):
        raise ValueError("loss must be a decimal string")
    return Step(t, _strs(s["params"]),
                _strs(s["grad"]) if "grad" in s else None,
                {k: _strs(v) for k, v in s.get("state", {}).items()},
                {k: _strs(v) for k, v in s.get("aux", {}).items()},
                loss,
                {k: _strs(v) for k, v in s.get("rows", {}).items()},
                s.get("digits"))


def _check_shape(trace: Trace) -> None:
    n = len(trace.problem["params"])
    if not trace.steps:
        raise ValueError("no steps")
    for s in trace.steps:
        vectors = [s.params] + ([s.grad] if s.grad else []) + list(s.state.values())
        if any(len(v) != n for v in vectors):
            raise ValueError(f"step {s.t}: vectors must have {n} entries")


def read_trace(path: Path) -> Trace:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"file larger than {MAX_BYTES} bytes", where=str(path))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", where=str(path)) from None
    return loads(text, str(path))
