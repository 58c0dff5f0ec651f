"""The audit's mutation score (verify/auditing/calibration.py): every deliberately broken
implementation of tests/mutants is flagged, every correct one written differently is
consistent, forensics names the wrong term for at least 80 % of the bugs outside the catalogue,
and the score committed in derivations/calibration.json (printed in the README and the report)
is this run's.

One test per implementation (so that pytest-xdist spreads the audits over its workers), each
checking that implementation's outcome against the audit's promise and against its committed
record; one test that the committed records are exactly tests/mutants, that the committed
numbers are what those records add up to, and that the numbers meet the promise. Together they
check what one run of ``calibrate`` over all of tests/mutants followed by a comparison with the
committed counts would."""

import json

import pytest

from verify import paths
from verify.auditing.calibration import (
    Outcome,
    Score,
    calibrate,
    check_one,
    load_counts,
    probes_from,
)
from verify.auditing.result import CONSISTENT, DISCREPANT

from .mutants import MUTANTS

PROBES = {p.name: p for p in probes_from(MUTANTS)}
UPDATE = "run adam-verify calibrate --update"


def committed_rows() -> dict[str, dict]:
    rows = json.loads(paths.CALIBRATION.read_text())["implementations"]
    by_name = {r["name"]: r for r in rows}
    assert len(by_name) == len(rows), "an implementation recorded twice; " + UPDATE
    return by_name


@pytest.mark.parametrize("name", list(PROBES))
def test_each_implementation_is_judged_as_committed(name):
    probe = PROBES[name]
    o = check_one(probe)
    if probe.correct:  # no false alarm on a correct implementation written differently
        assert o.verdict == CONSISTENT, o.summary
    else:  # every broken one flagged …
        assert o.verdict == DISCREPANT, o.summary
        if probe.computes is not None:  # … and one inside the catalogue diagnosed as its variant
            assert o.named, (o.computes, probe.computes, o.summary)
    row = committed_rows().get(name)
    assert row is not None, f"{name} is not in {paths.CALIBRATION.name}; " + UPDATE
    # this run's outcome is the committed one (what the committed counts are made of)
    assert (o.verdict, o.named, o.ok) == (row["verdict"], row["named"], row["ok"]), UPDATE


def test_the_committed_numbers_are_the_committed_records_and_keep_the_promise():
    rows = committed_rows()
    assert set(rows) == set(PROBES), UPDATE  # the committed records are exactly tests/mutants
    outcomes = []
    for name, probe in PROBES.items():
        row = rows[name]
        expected = "consistent" if probe.correct else (probe.computes or probe.term)
        assert (row["optimizer"], row["bug"], row["expected"]) == \
            (probe.optimizer, probe.bug, expected), (name, UPDATE)
        outcomes.append(Outcome(probe, row["verdict"], row["computes"], row["named"], "", 0.0))
        assert outcomes[-1].ok == row["ok"], (name, UPDATE)
    c = Score(tuple(outcomes)).counts
    assert load_counts(paths.CALIBRATION.read_text()) == c, UPDATE
    # the promise, on the counts that each implementation's test above checks this run against
    assert c["buggy"] >= 25 and c["correct"] >= 5  # the minimum calibration set
    assert c["flagged"] == c["buggy"], [o.probe.name for o in outcomes
                                        if not o.probe.correct and o.verdict != DISCREPANT]
    assert c["false_alarms"] == 0, [o.probe.name for o in outcomes
                                    if o.probe.correct and o.verdict != CONSISTENT]
    assert c["diagnosed"] == c["in_catalogue"]
    assert c["named"] >= 0.8 * c["outside_catalogue"]


def test_calibrate_audits_in_a_pool_and_keeps_the_order():
    """``calibrate`` (what ``adam-verify calibrate`` runs) on two quick implementations, a broken
    one first: outcomes in the probes' order, progress counted, each the committed record."""
    probes = [PROBES["momentum_ascends"], PROBES["momentum_torch_style"]]
    seen = []
    score = calibrate(probes, workers=2, progress=lambda i, n: seen.append((i, n)))
    assert [o.probe for o in score.outcomes] == probes and seen == [(1, 2), (2, 2)]
    rows = committed_rows()
    assert [(o.verdict, o.named, o.ok) for o in score.outcomes] == \
        [(rows[p.name]["verdict"], rows[p.name]["named"], rows[p.name]["ok"]) for p in probes]
    assert [o.verdict for o in score.outcomes] == [DISCREPANT, CONSISTENT]
