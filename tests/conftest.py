import pytest

from verify.problems import find_problem


@pytest.fixture(scope="session")
def linreg():
    return find_problem("linear_regression")
