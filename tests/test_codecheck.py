"""Code examples checked without running them: imports resolved, calls bound to the installed
packages' real signatures (expected outcomes read off those signatures by hand)."""

import pytest

from verify.claims.codecheck import FAILS, OK, UNRESOLVED, check_code


def by_text(source: str, **kw) -> dict[str, tuple[str, str]]:
    return {f.text: (f.status, f.detail) for f in check_code(source, **kw).findings}


def test_a_call_that_binds_and_one_that_does_not():
    # numpy.linalg.norm(x, ord=None, axis=None, keepdims=False): one positional binds; a
    # keyword it does not declare is rejected, as calling it would be
    found = by_text("import numpy as np\nx = [3.0, 4.0]\nnp.linalg.norm(x)\n"
                    "np.linalg.norm(x, p=2)\nnp.linalg.norm(x, 2, 0, False, 1)\n")
    assert found["import numpy as np"][0] == OK
    assert found["np.linalg.norm(x)"][0] == OK
    status, detail = found["np.linalg.norm(x, p=2)"]
    assert status == FAILS and "unexpected keyword argument 'p'" in detail
    status, detail = found["np.linalg.norm(x, 2, 0, False, 1)"]
    assert status == FAILS and "too many positional arguments" in detail


def test_instances_follow_their_class_and_nothing_runs(tmp_path):
    # fractions.Fraction(numerator=0, denominator=None); .limit_denominator(max_denominator=…)
    marker = tmp_path / "ran"
    source = (f"import fractions\nopen({str(marker)!r}, 'w')\n"
              "f = fractions.Fraction(1, 3)\nf.limit_denominator(10)\nf.limit_denominator(1, 2)\n"
              "f.no_such_method()\n")
    found = by_text(source)
    assert not marker.exists()  # the block's own code is parsed, never executed
    assert found["f.limit_denominator(10)"][0] == OK
    assert found["f.limit_denominator(1, 2)"][0] == FAILS
    status, detail = found["f.no_such_method()"]
    assert status == FAILS and "no attribute 'no_such_method'" in detail


def test_missing_packages_and_names_are_unresolved_not_failures():
    r = check_code("import surely_not_a_package_xyz\nsurely_not_a_package_xyz.f(1)\n"
                   "from numpy import definitely_missing_name\nprint(undefined_thing)\n")
    status = {f.text: f.status for f in r.findings}
    assert status["import surely_not_a_package_xyz"] == UNRESOLVED
    assert status["surely_not_a_package_xyz.f(1)"] == UNRESOLVED
    assert status["from numpy import definitely_missing_name"] == FAILS
    assert r.undefined == ("undefined_thing",)


def test_syntax_error_is_one_finding():
    r = check_code("def f(:\n  pass\n")
    assert len(r.findings) == 1 and r.findings[0].status == FAILS
    assert "not valid Python" in r.findings[0].detail


def test_user_classes_bind_against_their_own_init():
    source = ("class Net:\n    def __init__(self, a, b=1):\n        self.a = a\n"
              "Net(1)\nNet(1, 2, 3)\n")
    found = by_text(source)
    assert found["Net(1)"][0] == OK and found["Net(1, 2, 3)"][0] == FAILS


def test_the_articles_mlx_example():
    pytest.importorskip("mlx")
    # mlx.nn.LSTM(input_size, hidden_size, bias=True) has no num_layers; mlx.optimizers.Adam
    # takes learning_rate, not lr; Adam.step is a property; mlx.nn has no CrossEntropyLoss;
    # LSTM's docstring: "The layer returns two arrays", which Sequential feeds to Linear
    source = ("import mlx\nfrom mlx.nn import Sequential, Embedding, LSTM, Linear\n"
              "from mlx.optimizers import Adam\n"
              "model = Sequential(Embedding(10, 4), LSTM(4, 8, num_layers=2), Linear(8, 2))\n"
              "criterion = mlx.nn.CrossEntropyLoss()\n"
              "optimizer = Adam(model.parameters(), lr=0.001)\noptimizer.step()\n")
    found = by_text(source)
    assert found["LSTM(4, 8, num_layers=2)"][0] == FAILS
    assert found["Embedding(10, 4)"][0] == OK
    assert found["mlx.nn.CrossEntropyLoss()"][0] == FAILS
    assert "'lr'" in found["Adam(model.parameters(), lr=0.001)"][1]
    assert "property" in found["optimizer.step()"][1]
    assert any("returns two arrays" in d for s, d in found.values() if s == FAILS)


def test_a_submodule_whose_dependency_is_missing_is_unresolved_not_absent():
    """torch.utils.tensorboard exists but needs the tensorboard package: without it, the
    block's import is not checkable here (and flagged, so that it is not cached), not "torch.utils
    has no such submodule"; a submodule that does not exist still fails."""
    from importlib.util import find_spec

    if find_spec("torch") is None or find_spec("tensorboard") is not None:
        pytest.skip("needs torch without tensorboard")
    for source in ("from torch.utils import tensorboard", "import torch.utils.tensorboard",
                   "import torch\nw = torch.utils.tensorboard.SummaryWriter()"):
        r = check_code(source)
        assert r.import_failed and r.findings[-1].status == "unresolved", source
        assert FAILS not in [f.status for f in r.findings], source
    assert "missing dependency tensorboard" in check_code(
        "from torch.utils import tensorboard").findings[0].detail
    r = check_code("from torch.utils import nothing_here")
    assert not r.import_failed and [f.status for f in r.findings] == [FAILS]
