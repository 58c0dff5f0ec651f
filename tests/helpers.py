"""Helpers several test modules share."""

from verify.auditing.batch import start_audits


def audit_many(pairs, workers=None, progress=lambda s: None):
    """Audit every pair in worker processes and wait: results in the pairs' order, and skips."""
    return start_audits(pairs, workers).collect(progress)
