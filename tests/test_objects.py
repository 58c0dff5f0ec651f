"""Optimizer objects audited directly (``MODULE:ATTR`` or the object): they must run through the
same code as the built-in runners, so their traces equal the built-ins' value for value."""

import functools

import numpy as np
import pytest

from verify.auditing.battery import rule_hyper
from verify.auditing.run import replayed_gradients, run_impl
from verify.errors import ImplementationError, InputError
from verify.golden.spec import RunSpec
from verify.runners.hypermap import map_hyper, parse_option
from verify.runners.numpy_ import run_numpy
from verify.runners.objects import detect
from verify.runners.statemap import StateLog, catalogue_name
from verify.symbolic.problems import find_problem

# the audit battery's probe setting: β1 = β2 = 0.9, ε = 0.1, lr 0.01 (larger in float16/bfloat16)
PROBE = {"float32": {"lr": "0.01", "beta1": "0.9", "beta2": "0.9", "eps": "0.1",
                     "weight_decay": "0.1"}}
PROBE["float16"] = PROBE["float32"] | {"lr": "0.1"}
PROBE["bfloat16"] = PROBE["float32"] | {"lr": "0.5"}


def probe(optimizer: str, dtype: str = "float32", steps: int = 12) -> RunSpec:
    return RunSpec(find_problem("probe"), optimizer, rule_hyper(optimizer, PROBE[dtype]), steps)


def same_values(a, b, state=True):
    """Every step's parameters, gradients and (where both record it) state, as texts."""
    assert len(a.steps) == len(b.steps)
    for s, u in zip(a.steps, b.steps):
        assert (s.t, s.params, s.grad) == (u.t, u.params, u.grad)
        if state:
            assert s.state == u.state


# The acceptance list: each object against the built-in runner it must reproduce.
PAIRS = [
    ("torch.optim:Adam", "torch", "adam", "torch"),
    ("torch.optim:AdamW", "torch", "adamw", "torch"),
    ("optax:adam", "optax", "adam", "optax"),
    ("mlx.optimizers:Adam", "mlx-default", "adam", "mlx.optimizers"),
    ("keras.optimizers:Adam", "keras", "adam", "keras"),
]


@pytest.mark.parametrize("target,builtin,optimizer,module", PAIRS)
def test_object_reproduces_builtin_runner(target, builtin, optimizer, module):
    pytest.importorskip(module)
    got = run_impl(target, probe(optimizer))
    same_values(got, run_impl(builtin, probe(optimizer)))
    assert got.arithmetic["implementation"] == target
    assert set(got.steps[-1].state) == {"m", "v"}  # found in the framework's own structures
    assert got.arithmetic["unmapped_state"] == []
    assert "v_max" not in got.arithmetic["state_mapped"].values()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("target,builtin,optimizer,module", [p for p in PAIRS if p[2] == "adam"])
def test_object_reproduces_builtin_runner_in_low_precision(target, builtin, optimizer, module,
                                                           dtype):
    pytest.importorskip(module)
    got = run_impl(target, probe(optimizer, dtype), dtype)
    assert got.arithmetic["dtype"] == dtype
    same_values(got, run_impl(builtin, probe(optimizer, dtype), dtype))


def test_keras_state_is_adams_m_and_v():
    pytest.importorskip("keras")
    pytest.importorskip("jax")
    spec = probe("adam")
    got = run_impl("keras.optimizers:Adam", spec)
    # names like "adam/variable_momentum" (numbered when several exist in the process)
    mapped = {k.rsplit("_", 1)[-1]: v for k, v in got.arithmetic["state_mapped"].items()}
    assert mapped == {"momentum": "m", "velocity": "v"}
    # Keras' m and v are Adam's (its ε̂ variant differs only in the step): the catalogue rule
    # in float32 (NumPy runner, independent code) on the same gradients stays within 4 ULP
    ref = run_numpy(spec, grads=replayed_gradients(got))
    for s, r in zip(got.steps[1:], ref.steps[1:]):
        for k in ("m", "v"):
            a = np.array([float(x) for x in s.state[k]], dtype=np.float32)
            b = np.array([float(x) for x in r.state[k]], dtype=np.float32)
            assert np.all(np.abs(a.view(np.int32) - b.view(np.int32)) <= 4), (s.t, k)


def test_partial_and_options_reach_the_constructor():
    torch = pytest.importorskip("torch")
    spec = probe("amsgrad")
    builtin = run_impl("torch", spec)  # torch.optim.Adam(amsgrad=True), for-loop
    same_values(run_impl(functools.partial(torch.optim.Adam, amsgrad=True), spec), builtin)
    via_option = run_impl("torch.optim:Adam", spec, options={"amsgrad": True})
    same_values(via_option, builtin)
    assert via_option.steps[-1].state.keys() == {"m", "v", "v_max"}
    assert via_option.arithmetic["options"] == {"amsgrad": True}
    # without the flag the object runs plain Adam: no v_max, so its values differ
    plain = run_impl("torch.optim:Adam", spec)
    assert "v_max" not in plain.steps[-1].state


def test_differentiable_true_is_audited_and_its_power_named():
    # differentiable=True steps with autograd on; the harness optimizes a non-leaf copy as
    # torch's own optimizer tests do. torch's differentiable path computes 1 − βᵗ from β ** step
    # with step a float32 tensor (torch/optim/adam.py), which the audit must name.
    pytest.importorskip("torch")
    from verify.auditing.run import audit

    spec = probe("adam")
    got = run_impl("torch.optim:Adam", spec, options={"differentiable": True})
    plain = run_impl("torch.optim:Adam", spec)
    assert got.status["finite"] and len(got.steps) == len(plain.steps)
    assert got.steps[-1].state.keys() == {"m", "v"}
    r = audit("torch.optim:Adam", "adam", options={"differentiable": True}, golden=False)
    assert r.verdict == "consistent"
    assert any("1 − βᵗ is computed as 1 − (βᵗ rounded in float32)" in f for f in r.findings)
    assert not any("1 − βᵗ" in f
                   for f in audit("torch.optim:Adam", "adam", golden=False).findings)


class _Odd:
    """A torch optimizer written by a user: plain SGD with momentum, but its buffer has a name
    no framework uses, and one hyperparameter without a default."""

    @staticmethod
    def make():
        import torch

        class OddSGD(torch.optim.Optimizer):
            def __init__(self, params, lr=0.01, momentum=0.9, *, k):
                super().__init__(params, {"lr": lr, "momentum": momentum, "k": k})

            @torch.no_grad()
            def step(self):
                for group in self.param_groups:
                    for p in group["params"]:
                        st = self.state[p]
                        b = st.setdefault("velocity_of_doom", torch.zeros_like(p))
                        b.mul_(group["momentum"]).add_(p.grad)
                        p.add_(b, alpha=-group["lr"])
                        st["calls"] = st.get("calls", 0) + 1

        return OddSGD


def test_unmappable_state_is_reported_not_dropped_silently():
    pytest.importorskip("torch")
    odd = _Odd.make()
    trace = run_impl(functools.partial(odd, k=3), probe("momentum", steps=3))
    assert trace.arithmetic["unmapped_state"] == ["velocity_of_doom"]
    assert trace.arithmetic["state_other"] == ["calls"]
    assert trace.steps[-1].state == {}
    assert trace.arithmetic["hyper_mapped"] == {"lr": "lr", "momentum": "momentum"}
    assert trace.arithmetic["hyper_not_passed"] == ["dampening"]
    assert trace.arithmetic["notes"] == ["tests.test_objects:_Odd.make.<locals>.OddSGD has no "
                                         "parameter for dampening: its own value was used"]


def test_required_parameter_that_cannot_be_mapped_names_the_option():
    pytest.importorskip("torch")
    with pytest.raises(InputError, match=r"required parameter 'k' .* --option k=VALUE"):
        run_impl(_Odd.make(), probe("momentum", steps=2))


def test_option_errors_are_one_clear_line():
    pytest.importorskip("torch")
    with pytest.raises(InputError, match="has no parameter 'amsgard'"):
        run_impl("torch.optim:Adam", probe("adam"), options={"amsgard": True})
    with pytest.raises(InputError, match="sets the audited hyperparameter lr; give it as --lr"):
        run_impl("torch.optim:Adam", probe("adam"), options={"lr": 0.1})


def test_the_object_failing_is_one_clear_line():
    torch = pytest.importorskip("torch")
    # the constructor refusing a value: bad input for that setting ("not run")
    bad = functools.partial(torch.optim.Adam, weight_decay=-1.0)
    with pytest.raises(InputError, match=r"torch.optim.adam:Adam refuses the arguments \['betas', "
                                         r"'eps', 'lr', 'weight_decay'\]: ValueError: Invalid "
                                         r"weight_decay value: -1.0$"):
        run_impl(bad, probe("adam", steps=2))


def test_the_object_failing_while_stepping_is_a_finding():
    torch = pytest.importorskip("torch")

    class Broken(torch.optim.SGD):
        def step(self, closure=None):
            raise RuntimeError("boom\nsecond line")

    with pytest.raises(ImplementationError) as e:
        run_impl(Broken, probe("momentum", steps=2))
    assert str(e.value).endswith("Broken raised RuntimeError: boom")


def test_step_functions_keep_the_user_protocol():
    assert detect("tests.fixtures.user_optimizers:adam") is None
    assert detect("torch") is None  # built-in names are not objects
    trace = run_impl("tests.fixtures.user_optimizers:adam", probe("adam", steps=2))
    assert trace.arithmetic["implementation"] == "tests.fixtures.user_optimizers:adam"


def test_a_built_optax_transformation_is_refused_with_the_fix():
    optax = pytest.importorskip("optax")
    with pytest.raises(InputError, match="pass its factory"):
        detect(optax.adam(0.1))
    assert detect(optax.adam).kind == "optax"


@pytest.mark.parametrize("text,expected", [
    ("amsgrad=true", ("amsgrad", True)),
    ("foreach=False", ("foreach", False)),
    ("block_size=256", ("block_size", 256)),
    ("beta2_scale=0.8", ("beta2_scale", 0.8)),
    ("eps_root=1e-8", ("eps_root", 1e-8)),
    ("betas=(0.9, 0.99)", ("betas", (0.9, 0.99))),
    ("shape=1,2", ("shape", (1, 2))),
    ("mu_dtype=none", ("mu_dtype", None)),
    ("storage_dtype=bfloat16", ("storage_dtype", "bfloat16")),
])
def test_parse_option_types_values(text, expected):
    got = parse_option(text)
    assert got == expected and type(got[1]) is type(expected[1])


@pytest.mark.parametrize("text", ["amsgrad", "=1", "1x=2", "lr=1/0", "a=$(rm)"])
def test_parse_option_rejects_in_one_line(text):
    with pytest.raises(InputError, match="--option") as e:
        parse_option(text)
    assert "\n" not in str(e.value)


def test_map_hyper_follows_signature_names():
    def keras_like(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
        return None

    m = map_hyper(keras_like, {"lr": "0.1", "beta1": "0.5", "beta2": "0.25", "eps": "0.125"},
                  {"amsgrad": True}, "f")
    assert m.kwargs == {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.25, "epsilon": 0.125,
                        "amsgrad": True}

    def mlx_like(learning_rate, betas=[0.9, 0.999], eps=1e-8):  # noqa: B006 (as MLX writes it)
        return None

    m = map_hyper(mlx_like, {"lr": "0.1", "beta1": "0.5", "beta2": "0.25", "eps": "1"}, {}, "f")
    assert m.kwargs["betas"] == [0.5, 0.25]  # a list where the default is a list


@pytest.mark.parametrize("name,ours", [
    ("exp_avg", "m"), ("exp_avg_sq", "v"), ("max_exp_avg_sq", "v_max"),
    ("momentum_buffer", "buf"), ("mu", "m"), ("nu", "v"), ("adam/variable_velocity_hat", "v_max"),
    ("update_by_adam_exp_avg_sq_0", "v"), ("step", None), ("grad_avg", None),
])
def test_catalogue_names(name, ours):
    assert catalogue_name(name) == ours


def test_state_log_sorts_names():
    log = StateLog("momentum", (2,))
    out = log.map({"momentum": np.ones(2), "count": np.int32(3), "ema_of_sth": np.zeros(2)})
    assert list(out) == ["buf"]  # a heavy-ball rule's only state is its buffer
    assert log.arithmetic() == {"state_mapped": {"momentum": "buf"},
                                "unmapped_state": ["ema_of_sth"], "state_other": ["count"]}
