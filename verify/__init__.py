"""adam-verify: symbolic-and-numeric verification of gradient optimizers."""

from .version import __version__

__all__ = ["__version__", "audit"]


def audit(*args, **kwargs):
    """Audit an implementation (see ``verify.auditing.audit``); returns an ``AuditResult``."""
    from .auditing import audit as _audit

    return _audit(*args, **kwargs)
