"""Implementations stepped on large float32 tensors with given gradients (no loss): what a
large-tensor audit feeds, one step at a time, so that nothing of size steps × parameters is
ever held. The parameters are split into several tensors (``pieces``) the way a model's are, so
multi-tensor kernels see tensors that cross their chunk sizes; each stepper takes the whole
gradient vector and returns the whole parameter vector after the step (float32 NumPy)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..arith import Float32Arith
from ..errors import InputError
from ..rules import RULES

Stepper = Callable[[np.ndarray], np.ndarray]
TENSOR_IMPLS = ("numpy", "torch", "torch-foreach", "torch-fused", "mlx", "mlx-default", "optax",
                "MODULE:CALLABLE")


def _bounds(pieces: Sequence[int]) -> list[tuple[int, int]]:
    edges = np.concatenate([[0], np.cumsum(pieces)]).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


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


def _torch(rule: str, hyper: dict[str, str], init: np.ndarray, impl: str,
           pieces: Sequence[int]) -> Stepper:
    import torch

    from .torch_ import MODES, _optimizer

    spans = _bounds(pieces)
    ps = [torch.tensor(init[a:b], dtype=torch.float32, requires_grad=True) for a, b in spans]
    opt = _optimizer(torch, rule, hyper, ps, MODES[impl])

    def step(g: np.ndarray) -> np.ndarray:
        g = np.ascontiguousarray(g, dtype=np.float32)
        for p, (a, b) in zip(ps, spans, strict=True):
            p.grad = torch.from_numpy(g[a:b])
        opt.step()
        return np.concatenate([p.detach().numpy() for p in ps])

    return step


def _mlx(rule: str, hyper: dict[str, str], init: np.ndarray, impl: str,
         pieces: Sequence[int]) -> Stepper:
    import mlx.core as mx
    import mlx.optimizers as optim

    from .mlx_ import _optimizer

    spans = _bounds(pieces)
    opt = _optimizer(optim, rule, {k: float(v) for k, v in hyper.items()},
                     bias_correction=impl == "mlx")
    box = {"p": {f"p{i}": mx.array(init[a:b]) for i, (a, b) in enumerate(spans)}}

    def step(g: np.ndarray) -> np.ndarray:
        grads = {f"p{i}": mx.array(g[a:b]) for i, (a, b) in enumerate(spans)}
        box["p"] = opt.apply_gradients(grads, box["p"])
        mx.eval(box["p"])
        return np.concatenate([np.array(box["p"][f"p{i}"]) for i in range(len(spans))])

    return step


def _optax(rule: str, hyper: dict[str, str], init: np.ndarray, pieces: Sequence[int]) -> Stepper:
    import jax.numpy as jnp
    import optax

    from .optax_ import _optimizer

    spans = _bounds(pieces)
    opt = _optimizer(optax, rule, {k: float(v) for k, v in hyper.items()})
    box = {"p": [jnp.asarray(init[a:b]) for a, b in spans]}
    box["s"] = opt.init(box["p"])

    def step(g: np.ndarray) -> np.ndarray:
        grads = [jnp.asarray(g[a:b]) for a, b in spans]
        updates, box["s"] = opt.update(grads, box["s"], box["p"])
        box["p"] = optax.apply_updates(box["p"], updates)
        return np.concatenate([np.asarray(p) for p in box["p"]])

    return step


def _user(target: str, hyper: dict[str, str], init: np.ndarray) -> Stepper:
    from ..errors import ImplementationError
    from .user import STEP_SECONDS, _call, _checked, load_callable

    fn = load_callable(target)
    floats = {k: float(v) for k, v in hyper.items()}
    box = {"x": init.astype(np.float32).copy(), "state": {}, "t": 0}

    def step(g: np.ndarray) -> np.ndarray:
        box["t"] += 1
        out = _call(fn, target, box["t"], (box["x"].copy(), g.copy(), box["state"], box["t"],
                                           dict(floats)), STEP_SECONDS * 20)
        try:
            box["x"], box["state"] = _checked(out, target, box["t"], g.shape)
        except ImplementationError as exc:
            raise InputError(f"--impl {target}: {exc}") from None
        return box["x"]

    return step


def stepper(impl: str, rule: str, hyper: dict[str, str], init: np.ndarray,
            pieces: Sequence[int] | None = None) -> Stepper:
    """A fresh run of ``impl`` (optimizer ``rule``, full hyperparameters) from ``init``, the
    parameters split into tensors of sizes ``pieces`` (default: one tensor)."""
    pieces = list(pieces or [init.size])
    if impl == "numpy":
        return _numpy(rule, hyper, init)
    if ":" in impl:
        return _user(impl, hyper, init)
    try:
        if impl.startswith("torch"):
            return _torch(rule, hyper, init, impl, pieces)
        if impl.startswith("mlx"):
            return _mlx(rule, hyper, init, impl, pieces)
        if impl == "optax":
            return _optax(rule, hyper, init, pieces)
    except ImportError as exc:
        raise InputError(f"{impl} is not installed here ({exc.name})") from None
    raise InputError(f"large-tensor audits support {', '.join(TENSOR_IMPLS)}, not {impl!r}")
