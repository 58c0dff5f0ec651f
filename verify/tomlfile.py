"""Reading TOML data files with errors that name the file and the field."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import InputError

MAX_BYTES = 5_000_000


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing, unreadable or malformed file is an ``InputError``."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a TOML file", where=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=str(path)) from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"file larger than {MAX_BYTES} bytes", where=str(path))
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", where=str(path)) from None


def field(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str,
          default: Any = ...) -> Any:
    """``table[key]`` checked to be of ``kind``; missing (without default) or mistyped fails."""
    if key not in table:
        if default is ...:
            raise InputError(f"missing field {key!r}", where=where)
        return default
    value = table[key]
    if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
        raise InputError(f"field {key!r} must be {_kind_name(kind)}, got a boolean", where=where)
    if not isinstance(value, kind):
        raise InputError(f"field {key!r} must be {_kind_name(kind)}, got {type(value).__name__}",
                         where=where)
    return value


def decimal_text(value: Any, where: str) -> str:
    """A number written as a decimal string or an integer; binary floats are refused."""
    if isinstance(value, bool):
        raise InputError("expected a number, got a boolean", where=where)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        raise InputError(f"write the number {value!r} as a string (\"{value!r}\") so it stays exact",
                         where=where)
    raise InputError(f"expected a number, got {type(value).__name__}", where=where)


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", list: "a list", dict: "a table", bool: "a boolean"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))
