"""adam-verify: symbolic-and-numeric verification of gradient optimizers."""

__version__ = "0.1.0"


def audit(*args, **kwargs):
    """Audit an implementation (see ``verify.auditing.audit``); returns an ``AuditResult``."""
    from .auditing import audit as _audit

    return _audit(*args, **kwargs)
