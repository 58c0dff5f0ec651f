"""Low-bit optimizer state (torchao's ``AdamW8bit``, ``AdamW4bit``, ``AdamWFp8``) measured
against the golden, on a tensor large enough to be quantized.

torchao quantizes a state tensor only when it has at least 4096 elements and a whole number of
blocks (``_AdamBase._new_buffer``; smaller ones stay in the parameter's dtype), so the 2-parameter
probe of an ordinary audit sees plain AdamW. Here the optimizer runs on ``size`` parameters fed
seeded gradient streams (scales over four decades, as the large-tensor audit, or one scale),
and at ``sample``
random coordinates its dequantized m and v are compared with their exact values — m and v are
rational functions of rational β and float32 gradients, so the golden is an exact ``Fraction`` —
and its parameters with certified MPFR goldens (``streams.golden_streams``). State errors are
stated relative to the largest |golden| in the coordinate's quantization block (the scale the
block is quantized against), parameter errors in units of lr (Adam moves a coordinate by about
lr per step). The same measurement of ``torch.optim.AdamW`` is the float32 control.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np

from ..errors import InputError
from ..golden.arith import as_fraction
from ..golden.spec import check_hyper, get_rule
from ..golden.streams import golden_streams
from .hypermap import map_hyper
from .objects import detect


@dataclass(frozen=True)
class LowBitMeasure:
    target: str
    optimizer: str
    hyper: dict[str, str]
    size: int
    steps: int
    sample: int
    decades: int  # gradient scales spread over this many decades (0: one scale)
    block_size: int | None  # None: the optimizer has no block size
    quantized: dict[str, str]  # state name → the type holding it (Tensor: not quantized)
    state_error: dict[str, tuple[float, float]]  # m / v → (max, mean) over samples and steps
    params_error_lr: float  # max |θ − θ*| / lr at the sampled coordinates, final step
    certified_digits: int


def _stream(seed: int, size: int, steps: int, decades: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    init = rng.uniform(-1, 1, size).astype(np.float32)
    scale = (10.0 ** rng.uniform(1 - decades, 1, size)).astype(np.float32)
    grads = (rng.standard_normal((steps, size), dtype=np.float32) * scale).astype(np.float32)
    return init, grads


def _exact_state(hyper: dict[str, str], grads: np.ndarray) -> dict[str, np.ndarray]:
    """m_t and v_t (t = 1 … steps) of the sampled coordinates, exact, as float64 [t, j]."""
    b1, b2 = as_fraction(hyper["beta1"]), as_fraction(hyper["beta2"])
    steps, n = grads.shape
    out = {"m": np.zeros((steps, n)), "v": np.zeros((steps, n))}
    for j in range(n):
        m = v = Fraction(0)
        for t in range(steps):
            g = Fraction(float(grads[t, j]))
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            out["m"][t, j], out["v"][t, j] = float(m), float(v)
    return out


def _block_scale(ref: np.ndarray, block: int | None) -> np.ndarray:
    """max |ref| over each element's block (the whole tensor when there are no blocks)."""
    a = np.abs(ref)
    if not block or a.shape[-1] % block:
        return np.broadcast_to(a.max(axis=-1, keepdims=True), a.shape)
    blocks = a.reshape(*a.shape[:-1], -1, block).max(axis=-1, keepdims=True)
    return np.broadcast_to(blocks, (*a.shape[:-1], a.shape[-1] // block, block)).reshape(a.shape)


def _float64_state(hyper: dict[str, str], grads: np.ndarray) -> dict[str, np.ndarray]:
    """m, v of every coordinate in float64: only for the block scales (relative error ~1e-16)."""
    b1, b2 = float(hyper["beta1"]), float(hyper["beta2"])
    m = np.zeros(grads.shape[1])
    v = np.zeros(grads.shape[1])
    ms, vs = [], []
    for g in grads.astype(np.float64):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        ms.append(m)
        vs.append(v)
    return {"m": np.array(ms), "v": np.array(vs)}


def measure_lowbit(target: str, optimizer: str = "adamw", hyper: dict[str, str] | None = None,
                   size: int = 8192, steps: int = 20, sample: int = 64,
                   seed: int = 0, decades: int = 4) -> LowBitMeasure:
    """Run ``target`` (a torch optimizer class, ``MODULE:ATTR``) and measure its state and
    parameters against exact and certified goldens at ``sample`` coordinates; gradient scales
    spread over ``decades`` decades below 10 (0: every coordinate N(0, 10²))."""
    import torch

    from .torch_ import STATE_NAMES

    obj = detect(target)
    if obj is None or obj.kind != "torch":
        raise InputError(f"{target}: low-bit measurements take a torch optimizer class")
    full = check_hyper(get_rule(optimizer), hyper or {"lr": "0.001"})
    mapped = map_hyper(obj.factory, full, obj.options, obj.label, skip=1)
    init, grads = _stream(seed, size, steps, decades)
    chosen = np.sort(np.random.default_rng([seed, 1]).choice(size, min(sample, size), False))
    p = torch.tensor(init, requires_grad=True)
    opt = obj.factory([p], **mapped.kwargs)
    got = {"m": [], "v": []}
    traj = []
    kinds: dict[str, str] = {}
    for t in range(steps):
        p.grad = torch.from_numpy(grads[t].copy())
        opt.step()
        traj.append(p.detach().numpy()[chosen].astype(np.float64))
        for name, value in opt.state[p].items():
            ours = STATE_NAMES.get(name)
            if ours in got:
                kinds[name] = type(value).__name__
                if type(value) is not torch.Tensor and hasattr(value, "dequantize"):
                    value = value.dequantize()
                got[ours].append(value.detach().float().numpy().astype(np.float64))
    block = mapped.kwargs.get("block_size", _default(obj.factory, "block_size"))
    exact = _exact_state(full, grads[:, chosen])
    scale = {k: _block_scale(v, block)[:, chosen] for k, v in _float64_state(full, grads).items()}
    err = {}
    for k in ("m", "v"):
        e = np.abs(np.array(got[k])[:, chosen] - exact[k]) / np.where(scale[k] > 0, scale[k], 1)
        err[k] = (float(e.max()), float(e.mean()))
    gold = golden_streams(optimizer, full, [_exact(x) for x in init[chosen]],
                          [[_exact(g) for g in grads[:, j]] for j in chosen], workers=1)
    final = np.array([float(as_fraction(c[-1])) for c in gold.params])
    params_err = float(np.abs(traj[-1] - final).max() / float(full["lr"]))
    return LowBitMeasure(obj.label, optimizer, full, size, steps, len(chosen), decades, block,
                         kinds,
                         err, params_err, min(gold.digits))


def _exact(x: np.float32) -> str:
    """A float32 value as the exact decimal it is."""
    return str(Decimal(float(x)))


def _default(fn, name: str):
    import inspect

    p = inspect.signature(fn).parameters.get(name)
    return None if p is None or p.default is inspect.Parameter.empty else p.default
