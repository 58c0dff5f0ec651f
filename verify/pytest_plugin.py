"""pytest plugin (entry point ``pytest11``): audit an optimizer in one line of a test, and keep
snapshots of your own traces.

- ``optimizer_audit(impl, optimizer="adam", **audit_kwargs)`` runs ``verify.audit`` and fails
  with the discrepancy table unless the verdict is consistent (or, with ``expect="<rule>"``,
  unless the diagnosis says the implementation computes that catalogue rule).
- ``adam_snapshot(trace, name=None, max_ulps=0)`` compares a Trace (or an AuditResult's trace)
  with ``__adam_verify__/<test file>/<name>.json`` beside the test; a missing or different
  snapshot fails. ``pytest --adam-verify-update`` writes missing ones and rewrites changed
  ones, never silently: each is listed at the end of the run with what changed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

UPDATED = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("adam-verify")
    group.addoption("--adam-verify-update", action="store_true", default=False,
                    help="write missing adam-verify snapshots and rewrite changed ones")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[UPDATED] = []


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(UPDATED, [])
    if lines:
        terminalreporter.section("adam-verify snapshots")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def optimizer_audit():
    """``optimizer_audit(impl, optimizer="adam", expect=None, **kwargs) -> AuditResult``."""
    from .auditing import audit
    from .report.plugin import discrepancy_table

    def run(impl: Any, optimizer: str = "adam", expect: str | None = None, **kwargs: Any):
        r = audit(impl, optimizer, **kwargs)
        if r.computes != (expect or optimizer):
            pytest.fail(discrepancy_table(r), pytrace=False)
        return r

    return run


@pytest.fixture
def adam_snapshot(request: pytest.FixtureRequest):
    """``adam_snapshot(trace, name=None, max_ulps=0)``: compare with the stored snapshot."""
    from .files import write_atomic
    from .golden.trace import dumps
    from .report.plugin import changed_line, snapshot_diff

    update = request.config.getoption("--adam-verify-update")
    folder = request.path.parent / "__adam_verify__" / request.path.stem
    used: list[str] = []

    def check(trace: Any, name: str | None = None, max_ulps: int = 0) -> None:
        trace = getattr(trace, "trace", trace)
        base = name or re.sub(r"\W+", "_", request.node.name).strip("_")
        used.append(base)
        if name is None and used.count(base) > 1:
            base = f"{base}_{used.count(base)}"
        path = folder / f"{base}.json"
        root = request.config.rootpath
        label = str(path.relative_to(root) if path.is_relative_to(root) else path)
        status, diffs, why = _status(trace, path, max_ulps)
        if status == "same":
            return
        if not update:
            if status == "missing":
                pytest.fail(f"no snapshot {label}; run pytest --adam-verify-update to write it",
                            pytrace=False)
            pytest.fail(snapshot_diff(label, diffs, max_ulps, why), pytrace=False)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, dumps(trace))
        request.config.stash[UPDATED].append(changed_line(label, status, diffs, why))

    return check


def _shape(trace: Any) -> list[tuple[int, int, list[str]]]:
    return [(s.t, len(s.params), sorted(s.state)) for s in trace.steps]


def _status(trace: Any, path: Path, max_ulps: int) -> tuple[str, list, str]:
    """("missing" | "same" | "changed" | "reshaped", values beyond ``max_ulps``, why)."""
    from .errors import InputError
    from .golden.compare import compare
    from .golden.trace import read_trace

    if not path.exists():
        return "missing", [], ""
    try:
        stored = read_trace(path)
    except InputError as exc:
        return "reshaped", [], f"the stored file is unreadable ({exc})"
    if _shape(trace) != _shape(stored):
        return "reshaped", [], (f"steps, parameters or state names differ (stored "
                                f"{len(stored.steps)} steps, state {_shape(stored)[-1][2]}; now "
                                f"{len(trace.steps)} steps, state {_shape(trace)[-1][2]})")
    diffs = compare(trace, stored, "now", "stored").beyond(max_ulps)
    return ("changed" if diffs else "same"), diffs, ""
