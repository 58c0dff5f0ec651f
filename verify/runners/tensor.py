"""Implementations stepped on one large float32 tensor with given gradients (no loss): what a
large-tensor audit feeds, one step at a time, so that nothing of size steps × parameters is
ever held. Each stepper returns the parameters after the step as a float32 NumPy array."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..arith import Float32Arith
from ..errors import InputError
from ..rules import RULES

Stepper = Callable[[np.ndarray], np.ndarray]
TENSOR_IMPLS = ("numpy", "torch", "torch-foreach", "torch-fused", "mlx", "mlx-default", "optax")


def _numpy(rule: str, hyper: dict[str, str], init: np.ndarray) -> Stepper:
    ar = Float32Arith("float32")
    r = RULES[rule]
    hp = {k: ar.num(v) for k, v in hyper.items()}
    box = {"x": init.astype(np.float32).copy(), "state": r.init(init, ar), "t": 0}

    def step(g: np.ndarray) -> np.ndarray:
        box["t"] += 1
        with np.errstate(all="ignore"):
            delta, box["state"], _ = r.update(g, box["state"], box["x"], box["t"], hp, ar)
            box["x"] = box["x"] + delta
        return box["x"]

    return step


def _torch(rule: str, hyper: dict[str, str], init: np.ndarray, impl: str) -> Stepper:
    import torch

    from .torch_ import MODES, _optimizer

    p = torch.tensor(init, dtype=torch.float32, requires_grad=True)
    opt = _optimizer(torch, rule, hyper, [p], MODES[impl])

    def step(g: np.ndarray) -> np.ndarray:
        p.grad = torch.from_numpy(np.ascontiguousarray(g, dtype=np.float32))
        opt.step()
        return p.detach().numpy().copy()

    return step


def _mlx(rule: str, hyper: dict[str, str], init: np.ndarray, impl: str) -> Stepper:
    import mlx.core as mx
    import mlx.optimizers as optim

    from .mlx_ import _optimizer

    f = {k: float(v) for k, v in hyper.items()}
    opt = _optimizer(optim, rule, f, bias_correction=impl == "mlx")
    box = {"p": {"p": mx.array(init)}}

    def step(g: np.ndarray) -> np.ndarray:
        box["p"] = opt.apply_gradients({"p": mx.array(g)}, box["p"])
        mx.eval(box["p"])
        return np.array(box["p"]["p"])

    return step


def _optax(rule: str, hyper: dict[str, str], init: np.ndarray) -> Stepper:
    import jax.numpy as jnp
    import optax

    from .optax_ import _optimizer

    opt = _optimizer(optax, rule, {k: float(v) for k, v in hyper.items()})
    box = {"p": jnp.asarray(init)}
    box["s"] = opt.init(box["p"])

    def step(g: np.ndarray) -> np.ndarray:
        updates, box["s"] = opt.update(jnp.asarray(g), box["s"], box["p"])
        box["p"] = optax.apply_updates(box["p"], updates)
        return np.asarray(box["p"])

    return step


def stepper(impl: str, rule: str, hyper: dict[str, str], init: np.ndarray) -> Stepper:
    """A fresh run of ``impl`` (optimizer ``rule``, full hyperparameters) from ``init``."""
    if impl == "numpy":
        return _numpy(rule, hyper, init)
    try:
        if impl.startswith("torch"):
            return _torch(rule, hyper, init, impl)
        if impl.startswith("mlx"):
            return _mlx(rule, hyper, init, impl)
        if impl == "optax":
            return _optax(rule, hyper, init)
    except ImportError as exc:
        raise InputError(f"{impl} is not installed here ({exc.name})") from None
    raise InputError(f"large-tensor audits support {', '.join(TENSOR_IMPLS)}, not {impl!r}")
