import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras 3 without TensorFlow

from verify.problems import find_problem


@pytest.fixture(scope="session")
def linreg():
    return find_problem("linear_regression")


FUZZ: dict[str, int] = {}


def pytest_terminal_summary(terminalreporter):
    if FUZZ:
        total = sum(FUZZ.values())
        parts = ", ".join(f"{k} {v}" for k, v in sorted(FUZZ.items()))
        terminalreporter.write_line(f"adversarial input cases tried: {total} ({parts}); "
                                    "any uncaught exception fails its test")
