"""The one exception type for bad input: the CLI turns it into one stderr line and exit 2."""


class InputError(Exception):
    """Bad user input (file, field, value); the message names where and what."""

    def __init__(self, message: str, *, where: str | None = None):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class LostRun(InputError):
    """A run lost to something outside the input and the implementation's arithmetic (the
    child process running it died): reported in one line like bad input, never cached."""


class ImplementationError(Exception):
    """An audited implementation misbehaved (raised, returned the wrong shape or type, ran past
    its time): a finding about the implementation, reported as "not audited: …", not bad input."""


# what a framework raises when it refuses a setting (a value out of its range, say)
REFUSALS = (ValueError, TypeError, ArithmeticError)


def refusal(impl: str, exc: BaseException) -> InputError:
    """A framework's refusal of a setting, as the audit reports it: its message's last line."""
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return InputError(f"{impl} refuses this setting: {text}")
