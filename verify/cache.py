"""Results computed once and reused while nothing they depend on changes: each entry is keyed
by what was computed, its inputs, a hash of this package's code and data files, and the
versions of every library that can change a number. Any edit or upgrade is a miss."""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import site
import sys
import sysconfig
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import distributions, packages_distributions, version
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeVar

from . import paths
from .files import write_atomic

T = TypeVar("T")

# libraries whose version can change a computed number, and environment variables that steer them
LIBRARIES = ("numpy", "sympy", "mpmath", "gmpy2", "python-flint", "ml_dtypes", "torch", "jax",
             "jaxlib", "optax", "mlx", "keras", "matplotlib", "scipy")
ENVIRONMENT = ("KERAS_BACKEND", "XLA_FLAGS", "JAX_ENABLE_X64", "JAX_DEFAULT_MATMUL_PRECISION",
               "ADAM_VERIFY_ROOT")
FORMAT = 1  # bump when the entry layout changes


@dataclass(frozen=True)
class Hit:
    """A result taken from the cache, and when it was computed."""

    kind: str
    what: str
    computed: float  # seconds since the epoch


def directory() -> Path | None:
    """Where entries live: ``ADAM_VERIFY_CACHE`` (``off`` disables the cache), else
    ``$XDG_CACHE_HOME/adam-verify`` or ``~/.cache/adam-verify``. ``ADAM_VERIFY_FRESH`` set:
    nothing is reused, every result is recomputed and stored anew."""
    setting = os.environ.get("ADAM_VERIFY_CACHE", "")
    if setting.strip().lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "adam-verify"


@cache
def code_fingerprint() -> str:
    """sha256 over this package's source and the data files next to it (problems, streams,
    goldens, claims): a result computed by other code or from other inputs never matches."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent
    roots = ((package, "*.py"), (paths.DERIVATIONS, "*"))
    for root, pattern in roots:
        for f in sorted(p for p in root.rglob(pattern) if p.is_file()):
            if "__pycache__" in f.parts:
                continue
            h.update(str(f.relative_to(root)).encode())
            h.update(b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


@cache
def environment_fingerprint() -> tuple:
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for name in LIBRARIES:
        try:
            versions.append((name, version(name)))
        except PackageNotFoundError:
            versions.append((name, None))
    return (FORMAT, sys.version, platform.machine(), platform.system(), tuple(versions),
            tuple((k, os.environ.get(k)) for k in ENVIRONMENT))


def installed_versions(packages: Sequence[str]) -> tuple | None:
    """Each top-level package with the versions of the distributions that install it, or None
    where it is not installed; None overall when an installed one is not in the environment's
    site-packages or belongs to no distribution (local code: nothing tells its changes). For
    results that depend on packages outside ``LIBRARIES`` (a code example's imports)."""
    out = []
    for name in packages:
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            return None
        if spec is None:
            out.append((name, None))
            continue
        where = spec.origin or next(iter(spec.submodule_search_locations or ()), None)
        dists = _distributions().get(name)
        if not dists or not where or not any(Path(where).resolve().is_relative_to(d)
                                             for d in _site_directories()):
            return None
        out.append((name, tuple(sorted((d, version(d)) for d in set(dists)))))
    return tuple(out)


@cache
def distributions_digest() -> str:
    """SHA-256 of every installed distribution's name and version: any install, removal or
    upgrade in the environment changes it (a package's API can come from its dependencies)."""
    names = sorted({(d.metadata["Name"] or "").lower(): d.version for d in distributions()}.items())
    return hashlib.sha256(repr(names).encode()).hexdigest()


@cache
def _distributions() -> Mapping[str, list[str]]:
    return packages_distributions()


@cache
def _site_directories() -> tuple[Path, ...]:
    """Where installed distributions live; a module found elsewhere (the working tree,
    PYTHONPATH) is local code, whatever name a distribution also claims."""
    paths_ = sysconfig.get_paths()
    return tuple(dict.fromkeys(Path(p).resolve() for p in (
        paths_["purelib"], paths_["platlib"], *site.getsitepackages(),
        site.getusersitepackages())))


def _key(kind: str, what: tuple) -> str:
    return repr((kind, what, code_fingerprint(), environment_fingerprint()))


def _file(root: Path, kind: str, key: str) -> Path:
    return root / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:40]}.pickle"


def lookup(kind: str, what: tuple) -> tuple[Any, Hit] | None:
    """The stored result for (kind, what) under this code and environment, or None. An entry
    that cannot be read, or whose full key differs, is a miss."""
    root = directory()
    if root is None or os.environ.get("ADAM_VERIFY_FRESH"):
        return None
    key = _key(kind, what)
    try:
        entry = pickle.loads(_file(root, kind, key).read_bytes())
    except Exception:  # noqa: BLE001 — missing, truncated or foreign: recompute
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    return entry["value"], Hit(kind, repr(what), entry["computed"])


def store(kind: str, what: tuple, value: Any) -> None:
    """Keep ``value`` for (kind, what); a cache that cannot be written is skipped silently
    (it only saves time)."""
    root = directory()
    if root is None:
        return
    key = _key(kind, what)
    try:
        root.mkdir(parents=True, exist_ok=True)
        data = pickle.dumps({"key": key, "computed": time.time(), "value": value})
        write_atomic(_file(root, kind, key), data)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass


_TAKEN: list[Hit] = []


def cached(kind: str, what: tuple, compute: Callable[[], T],
           keep: Callable[[T], bool] | None = None) -> T:
    """``compute()``'s result, from the cache when this code already computed it here;
    ``keep(value)``, if given, decides whether a computed value is stored."""
    found = lookup(kind, what)
    if found is not None:
        _TAKEN.append(found[1])
        return found[0]
    value = compute()
    if keep is None or keep(value):
        store(kind, what, value)
    return value


def taken() -> int:
    """A mark: how many results this process has taken from the cache so far."""
    return len(_TAKEN)


def taken_since(mark: int) -> tuple[Hit, ...]:
    return tuple(_TAKEN[mark:])


def note_taken(hit: Hit) -> None:
    _TAKEN.append(hit)
