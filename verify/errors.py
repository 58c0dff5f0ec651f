"""The one exception type for bad input: the CLI turns it into one stderr line and exit 2."""

from collections.abc import Iterable


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


class StepTimeout(ImplementationError):
    """A step ran past its time limit: the settings after it are not run (each would wait as
    long again)."""


# what a framework raises when it refuses a setting (a value out of its range, say)
REFUSALS = (ValueError, TypeError, ArithmeticError)


def refusal(impl: str, exc: BaseException) -> InputError:
    """A framework's refusal of a setting, as the audit reports it: its message's last line."""
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return InputError(f"{impl} refuses this setting: {text}")


def unknown(what: str, name: str, known: Iterable[str], extra: str = "") -> str:
    """"unknown optimizer 'adma' (did you mean 'adam'? known: …)": the message for a misspelt name."""
    known = list(known)
    close = sorted((_edits(name.lower(), k.lower()), k) for k in known)
    hint = (f"did you mean {close[0][1]!r}? "
            if close and close[0][0] <= max(1, len(name) // 3) else "")
    listed = ", ".join(known) + (f", {extra}" if extra else "")
    return f"unknown {what} {name!r} ({hint}known: {listed or 'none'})"


def _edits(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) that turn ``a`` into ``b``."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]
