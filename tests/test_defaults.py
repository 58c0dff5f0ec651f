"""Adam's shipped defaults, read from each installed framework's source without importing it,
against the imported constructor's signature and the frameworks' documentation."""

from importlib.util import find_spec

import pytest

from verify.runners import defaults as D

INSTALLED = [m for m in D.SOURCES if find_spec(m)]

# the documented defaults: PyTorch torch.optim.Adam (lr=1e-3, betas=(0.9, 0.999), eps=1e-8);
# optax.adam (learning_rate required, b1=0.9, b2=0.999, eps=1e-8); Keras 3 keras.optimizers.Adam
# (learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7); MLX mlx.optimizers.Adam
# (learning_rate required, betas=[0.9, 0.999], eps=1e-8, bias_correction=False)
DOCUMENTED = {
    "torch": {"lr": "0.001", "beta1": "0.9", "beta2": "0.999", "eps": "1e-08"},
    "optax": {"lr": D.REQUIRED, "beta1": "0.9", "beta2": "0.999", "eps": "1e-08"},
    "keras": {"lr": "0.001", "beta1": "0.9", "beta2": "0.999", "eps": "1e-07"},
    "mlx": {"lr": D.REQUIRED, "beta1": "0.9", "beta2": "0.999", "eps": "1e-08",
            "bias_correction": "False"},
}


@pytest.mark.parametrize("module", INSTALLED)
def test_source_reading_equals_the_imported_signature_and_the_docs(module):
    found = D.source_defaults(module)
    assert found is not None, f"{module}: the constructor is no longer where SOURCES says"
    from_source = D._shipped(module, found)
    assert from_source == D._shipped(module, D.imported_defaults(module))
    assert from_source.values == DOCUMENTED[module]


def fake_framework(root, default: str):
    pkg = root / "fakefw"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise ImportError('importing fakefw is not allowed')\n")
    (pkg / "opt.py").write_text(f"EPS = 1e-6\nclass Adam:\n    def __init__(self, params, *, lr=0.5, "
                                f"eps={default}, amsgrad=False):\n        pass\n")


@pytest.fixture()
def fakefw(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(D.SOURCES, "fakefw", D.Source("opt.py", "Adam", "__init__",
                                                      {"lr": "lr", "eps": "eps"}, "fakefw.opt.Adam"))
    monkeypatch.setitem(D.NAMES, "fakefw", "Fake")
    return tmp_path


def test_literal_defaults_are_read_without_importing(fakefw):
    fake_framework(fakefw, "1e-9")  # the package's __init__ raises: nothing was imported
    found = D.source_defaults("fakefw")
    assert found == {"self": D._EMPTY, "params": D._EMPTY, "lr": 0.5, "eps": 1e-9,
                     "amsgrad": False}
    assert D._shipped("fakefw", found).values == {"lr": "0.5", "eps": "1e-09"}


def test_a_default_that_is_a_name_is_left_to_the_import(fakefw):
    fake_framework(fakefw, "EPS")
    assert D.source_defaults("fakefw") is None  # then read_adam_defaults imports
    with pytest.raises(ImportError, match="not allowed"):
        D.read_adam_defaults("fakefw")


def test_a_moved_constructor_is_left_to_the_import(fakefw, monkeypatch):
    fake_framework(fakefw, "1e-9")
    monkeypatch.setitem(D.SOURCES, "fakefw", D.Source("elsewhere.py", "Adam", "__init__",
                                                      {"eps": "eps"}, "fakefw.opt.Adam"))
    assert D.source_defaults("fakefw") is None


INIT = "    def __init__(self, params, lr=0.5, eps=1e-9):\n        pass\n"
TRAPS = {  # found by review: each read lr = 0.5 from the source where Python runs another
    "a second __init__ wins": "class Adam:\n" + INIT + INIT.replace("0.5", "0.1"),
    "a decorator may replace the signature": "class Adam:\n    @wrap\n" + INIT,
    "the class is rebound": "class Adam:\n" + INIT + "Adam = Other\n",
    "__init__ is reassigned": "class Adam:\n" + INIT + "    __init__ = other\n",
    "a second class in a branch": "class Adam:\n" + INIT + "if X:\n    class Adam:\n        pass\n",
    "the parameters come through **kwargs": "class Adam:\n    def __init__(self, **kw):\n        pass\n",
    "an unknown class decorator": "@register\nclass Adam:\n" + INIT,
}


@pytest.mark.parametrize("source", TRAPS.values(), ids=TRAPS.keys())
def test_a_source_that_may_not_be_what_runs_is_left_to_the_import(fakefw, source):
    pkg = fakefw / "fakefw"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "opt.py").write_text(source)
    assert D.source_defaults("fakefw") is None


def test_the_keras_export_decorator_is_read_through(fakefw):
    pkg = fakefw / "fakefw"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "opt.py").write_text("@keras_export(['fakefw.Adam'])\nclass Adam:\n" + INIT)
    assert D._shipped("fakefw", D.source_defaults("fakefw")).values == {"lr": "0.5", "eps": "1e-09"}
