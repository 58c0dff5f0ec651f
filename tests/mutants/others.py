"""RMSProp and heavy-ball momentum as users write them: correct ones and broken ones."""

import numpy as np

from .registry import register

f32 = np.float32


@register("rmsprop", correct=True)
def rmsprop_plain(params, grad, state, t, hyper):
    a = f32(hyper["alpha"])
    v = a * state.get("v", np.zeros_like(params)) + (f32(1) - a) * grad * grad
    return (params - f32(hyper["lr"]) * grad / (np.sqrt(v) + f32(hyper["eps"]))).astype(f32), {"v": v}


@register("momentum", correct=True)
def momentum_lr_in_buffer(params, grad, state, t, hyper):
    """The step size folded into the buffer (b = μb + lr·(1 − d)g, θ −= b): the same rule for a
    constant step size, rounded differently; the buffer is kept private."""
    lr, mu, d = f32(hyper["lr"]), f32(hyper["momentum"]), f32(hyper["dampening"])
    if "_b" not in state:
        b = lr * grad
    else:
        b = mu * state["_b"] + lr * ((f32(1) - d) * grad)
    return (params - b).astype(f32), {"_b": b}


@register("momentum", correct=True)
def momentum_torch_style(params, grad, state, t, hyper):
    mu, d = f32(hyper["momentum"]), f32(1 - hyper["dampening"])
    buf = grad.copy() if t == 1 else mu * state["buf"] + d * grad
    return (params - f32(hyper["lr"]) * buf).astype(f32), {"buf": buf}


def _rms(params, grad, state, t, hyper, *, swap=False, root=True, eps_in=False, lr_power=1,
         abs_g=False):
    a = f32(hyper["alpha"])
    keep, gain = (f32(1) - a, a) if swap else (a, f32(1) - a)
    v = keep * state.get("v", np.zeros_like(params)) + gain * (np.abs(grad) if abs_g else grad * grad)
    eps = f32(hyper["eps"])
    den = np.sqrt(v + eps) if eps_in else (np.sqrt(v) if root else v) + eps
    return (params - f32(hyper["lr"]) ** lr_power * grad / den).astype(f32), {"v": v}


def _mom(params, grad, state, t, hyper, *, gain="1-d", first="g", sign=1):
    mu, d = f32(hyper["momentum"]), f32(hyper["dampening"])
    w = {"1-d": f32(1) - d, "d": d, "1": f32(1)}[gain]
    if t == 1 and first == "g":
        buf = grad.copy()
    else:
        buf = mu * state.get("buf", np.zeros_like(params)) + w * grad
    return (params - sign * f32(hyper["lr"]) * buf).astype(f32), {"buf": buf}


BUGS = [
    ("rmsprop_alpha_swapped", "rmsprop", _rms, {"swap": True}, ("term", "1 − α where α"),
     "α and 1 − α swapped"),
    ("rmsprop_no_sqrt", "rmsprop", _rms, {"root": False}, ("term", "square root"), "missing sqrt"),
    ("rmsprop_eps_in_root", "rmsprop", _rms, {"eps_in": True}, ("computes", "rmsprop-epsinside"),
     "ε inside the root"),
    ("rmsprop_lr_twice", "rmsprop", _rms, {"lr_power": 2}, ("term", "learning rate is applied twice"),
     "lr applied twice"),
    ("rmsprop_abs_grad", "rmsprop", _rms, {"abs_g": True}, ("term", "|g|, not g²"), "|g| for g²"),
    ("momentum_dampening_swapped", "momentum", _mom, {"gain": "d"}, ("term", "d instead of 1 − d"),
     "d where 1 − d belongs"),
    ("momentum_ignores_dampening", "momentum", _mom, {"gain": "1"}, ("term", "dampening is ignored"),
     "dampening ignored"),
    ("momentum_zero_start", "momentum", _mom, {"first": "zero"}, ("computes", "momentum-zero"),
     "first buffer from 0 (MLX's convention) where PyTorch's is claimed"),
    ("momentum_ascends", "momentum", _mom, {"sign": -1}, ("term", "wrong sign"), "wrong sign"),
]


def _make(name, base, switches):
    def fn(params, grad, state, t, hyper):
        return base(params, grad, state, t, hyper, **switches)
    fn.__name__ = fn.__qualname__ = name
    return fn


for _name, _opt, _base, _sw, (_kind, _what), _bug in BUGS:
    _fn = _make(_name, _base, _sw)
    globals()[_name] = _fn
    register(_opt, computes=_what if _kind == "computes" else None,
             term=_what if _kind == "term" else None, bug=_bug)(_fn)
