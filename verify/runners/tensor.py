"""Implementations stepped on large float32 tensors with given gradients (no loss): what a
large-tensor audit feeds, one step at a time, so that nothing of size steps × parameters is
ever held. The parameters are split into several tensors (``pieces``) the way a model's are, so
multi-tensor kernels see tensors that cross their chunk sizes; each stepper takes the whole
gradient vector and returns the whole parameter vector after the step (float32 NumPy)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..errors import InputError
from ..golden.arith import Float32Arith
from ..rules import RULES, Rule, State

Stepper = Callable[[np.ndarray], np.ndarray]
TENSOR_IMPLS = ("numpy", "torch", "torch-foreach", "torch-fused", "mlx", "mlx-default", "optax",
                "MODULE:CALLABLE")


def _bounds(pieces: Sequence[int]) -> list[tuple[int, int]]:
    edges = np.concatenate([[0], np.cumsum(pieces)]).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


# Elements per chunk of the NumPy stepper: the rule's dozen float32 temporaries of one chunk
# (128 KiB each) stay in cache instead of streaming 40 MB arrays through memory once per
# operation. Measured on 10⁷ parameters: 2¹⁵ fastest, 2¹⁴ and 2¹⁶ ~10 % slower, 2²⁰ 1.8× slower.
CHUNK = 1 << 15


class _StepArith(Float32Arith):
    """Float32 arithmetic that computes each 1 − βᵗ once per (β, t): the chunks of one step
    share the scalar constants instead of recomputing them (same values, same bits)."""

    def __init__(self) -> None:
        super().__init__("float32")
        self._powers: dict[tuple[float, int], Any] = {}

    def one_minus_pow(self, beta: Any, t: int) -> Any:
        key = (float(beta), t)
        value = self._powers.get(key)
        if value is None:
            if len(self._powers) >= 8:  # earlier steps' constants: done with
                self._powers.clear()
            value = self._powers[key] = super().one_minus_pow(beta, t)
        return value


def chunk_spans(n: int, chunk: int = CHUNK) -> list[tuple[int, int]]:
    """Consecutive slices of ``chunk`` elements covering ``n``, the last one taking the ragged
    rest (between ``chunk`` and 2·``chunk`` − 1 elements, so it is never short)."""
    if chunk <= 0 or chunk % 64:
        raise ValueError(f"chunk must be a positive multiple of 64, not {chunk}")
    spans, a = [], 0
    while a < n:
        b = n if n - a < 2 * chunk else a + chunk
        spans.append((a, b))
        a = b
    return spans


def chunked_step(rule: Rule, g: np.ndarray, state: State, x: np.ndarray, t: int, hp: dict,
                 ar: Float32Arith, chunk: int = CHUNK, threads: int = 1) -> np.ndarray:
    """The same step, the rule run on consecutive slices (it is coordinate-wise, so every
    element sees the same operations in the same order): the new parameter vector (a fresh
    array); ``state``'s arrays are updated in place. ``threads`` > 1 shares the slices among
    threads (NumPy releases the GIL inside its loops); the slices, so the bits, are the same.

    Bit for bit, NaN signs included: NumPy's SIMD loops pick the NaN of a NaN ⊕ NaN by where an
    element falls (full vectors or the ragged tail of the array), so slices are a multiple of
    64 elements and the last one long: each element falls where it does in the whole vector."""
    out = np.empty_like(x)

    def run(spans: list[tuple[int, int]]) -> None:
        with np.errstate(all="ignore"):  # per thread: NumPy's error state is thread-local
            for a, b in spans:
                part = {k: v[a:b] for k, v in state.items()}
                delta, new, _ = rule.update(g[a:b], part, x[a:b], t, hp, ar)
                np.add(x[a:b], delta, out=out[a:b])
                # a new value that is a view of another key's old slice is copied before writes
                new = {k: np.array(v) if any(np.may_share_memory(v, p) for j, p in part.items()
                                             if j != k) else v for k, v in new.items()}
                for k, v in new.items():
                    part[k][...] = v

    spans = chunk_spans(x.size, chunk)
    if threads <= 1 or len(spans) < 2 * threads:
        run(spans)
        return out
    run(spans[:1])  # the step's scalar constants are computed here, before threads share them
    rest = spans[1:]
    size = -(-len(rest) // threads)
    groups = [rest[i:i + size] for i in range(0, len(rest), size)]
    for f in [_pool(threads).submit(run, grp) for grp in groups]:
        f.result()
    return out


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    """One pool per size and per process: a pool inherited through fork has no threads left
    (work handed to it would wait forever), so a forked child builds its own."""
    key = (os.getpid(), threads)
    if key not in _POOLS:
        _POOLS[key] = ThreadPoolExecutor(threads, thread_name_prefix="adam-verify-chunks")
    return _POOLS[key]


def _numpy(rule: str, hyper: dict[str, str], init: np.ndarray) -> Stepper:
    ar = _StepArith()
    r = RULES[rule]
    hp = {k: ar.num(v) for k, v in hyper.items()}
    box = {"x": init.astype(np.float32).copy(), "state": r.init(init, ar), "t": 0}

    def step(g: np.ndarray) -> np.ndarray:
        box["t"] += 1
        g = np.ascontiguousarray(g, dtype=np.float32)
        box["x"] = chunked_step(r, g, box["state"], box["x"], box["t"], hp, ar,
                                threads=os.cpu_count() or 1)
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
