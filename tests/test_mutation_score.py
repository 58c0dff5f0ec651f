"""The audit's mutation score (verify/auditing/calibration.py): every deliberately broken
implementation of tests/mutants is flagged, every correct one written differently is
consistent, forensics names the wrong term for at least 80 % of the bugs outside the catalogue,
and the score committed in derivations/calibration.json (printed in the README and the report)
is this run's."""

from verify import paths
from verify.auditing.calibration import calibrate, load_counts, probes_from

from .mutants import MUTANTS


def test_mutation_score_and_the_committed_numbers():
    score = calibrate(probes_from(MUTANTS), workers=2)
    c = score.counts
    assert c["buggy"] >= 25 and c["correct"] >= 5  # the minimum calibration set
    assert c["flagged"] == c["buggy"], [o.probe.name for o in score.outcomes
                                        if not o.probe.correct and o.verdict != "discrepant"]
    assert c["false_alarms"] == 0, [o.summary for o in score.outcomes
                                    if o.probe.correct and o.verdict != "consistent"]
    assert c["diagnosed"] == c["in_catalogue"]
    assert c["named"] >= 0.8 * c["outside_catalogue"]
    assert load_counts(paths.CALIBRATION.read_text()) == c, "run adam-verify calibrate --update"
