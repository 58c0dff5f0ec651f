"""Adam, AdamW and AMSGrad as users write them: correct ones in different styles, and broken
ones (one bug each). Nothing here uses verify's rules: these are independent implementations."""

import numpy as np

from .registry import register

f32 = np.float32


def _hp(hyper):
    return (f32(hyper["lr"]), f32(hyper["beta1"]), f32(hyper["beta2"]), f32(hyper["eps"]))


# --- correct, written differently ------------------------------------------------------------

@register("adam", correct=True)
def adam_textbook(params, grad, state, t, hyper):
    """Algorithm 1 line by line, everything in float32 (1 − βᵗ from float32 β, accurately)."""
    lr, b1, b2, eps = _hp(hyper)
    m = b1 * state.get("m", np.zeros_like(params)) + (f32(1) - b1) * grad
    v = b2 * state.get("v", np.zeros_like(params)) + (f32(1) - b2) * grad * grad
    bc1 = -np.expm1(f32(t) * np.log1p(-(f32(1) - b1)))
    bc2 = -np.expm1(f32(t) * np.log1p(-(f32(1) - b2)))
    step = lr * (m / bc1) / (np.sqrt(v / bc2) + eps)
    return (params - step).astype(f32), {"m": m, "v": v}


@register("adam", correct=True)
def adam_torch_style(params, grad, state, t, hyper):
    """torch.optim's ordering: lerp for m, scalars in double, lr/(1 − β1ᵗ)·m/(√v/√(1 − β2ᵗ) + ε)."""
    b1, b2 = hyper["beta1"], hyper["beta2"]
    m = state.get("m", np.zeros_like(params))
    v = state.get("v", np.zeros_like(params))
    m = m + (grad - m) * f32(1 - b1)
    v = v * f32(b2) + grad * grad * f32(1 - b2)
    step_size = f32(hyper["lr"] / (1 - b1 ** t))
    denom = np.sqrt(v) / f32(np.sqrt(1 - b2 ** t)) + f32(hyper["eps"])
    return (params - step_size * (m / denom)).astype(f32), {"m": m, "v": v}


@register("adam", correct=True)
def adam_in_place(params, grad, state, t, hyper):
    """In-place NumPy updates into preallocated buffers (out=), scalars as Python floats."""
    if not state:
        state.update(m=np.zeros_like(params), v=np.zeros_like(params), tmp=None)
    m, v = state["m"], state["v"]
    np.multiply(m, f32(hyper["beta1"]), out=m)
    m += f32(1 - hyper["beta1"]) * grad
    np.multiply(v, f32(hyper["beta2"]), out=v)
    v += f32(1 - hyper["beta2"]) * np.square(grad)
    denom = np.sqrt(v / f32(1 - hyper["beta2"] ** t))
    denom += f32(hyper["eps"])
    out = params.copy()
    out -= f32(hyper["lr"]) * (m / f32(1 - hyper["beta1"] ** t)) / denom
    return out, {"m": m.copy(), "v": v.copy()}


@register("adam", correct=True)
def adam_one_expression(params, grad, state, t, hyper):
    """The whole update in one expression, the moments kept private (not exposed)."""
    lr, b1, b2, eps = _hp(hyper)
    m = b1 * state.get("_m", np.zeros_like(params)) + (f32(1) - b1) * grad
    v = b2 * state.get("_v", np.zeros_like(params)) + (f32(1) - b2) * (grad * grad)
    new = params - lr * (m / f32(1 - hyper["beta1"] ** t)) / (
        np.sqrt(v / f32(1 - hyper["beta2"] ** t)) + eps)
    return new.astype(f32), {"_m": m, "_v": v}


@register("adamw", correct=True)
def adamw_decay_first(params, grad, state, t, hyper):
    """AdamW as torch writes it: θ ← θ(1 − lr·λ), then the Adam step on the decayed θ."""
    lr, b1, b2, eps = _hp(hyper)
    decayed = params * f32(1 - hyper["lr"] * hyper["weight_decay"])
    m = b1 * state.get("m", np.zeros_like(params)) + (f32(1) - b1) * grad
    v = b2 * state.get("v", np.zeros_like(params)) + (f32(1) - b2) * grad * grad
    step = lr * (m / f32(1 - hyper["beta1"] ** t)) / (np.sqrt(v / f32(1 - hyper["beta2"] ** t)) + eps)
    return (decayed - step).astype(f32), {"m": m, "v": v}


@register("amsgrad", correct=True)
def amsgrad_max_over_v(params, grad, state, t, hyper):
    """AMSGrad keeping the running max of v (PyTorch's convention)."""
    lr, b1, b2, eps = _hp(hyper)
    m = b1 * state.get("m", np.zeros_like(params)) + (f32(1) - b1) * grad
    v = b2 * state.get("v", np.zeros_like(params)) + (f32(1) - b2) * grad * grad
    v_max = np.maximum(state.get("v_max", np.zeros_like(params)), v)
    step = lr / f32(1 - hyper["beta1"] ** t) * m / (np.sqrt(v_max / f32(1 - hyper["beta2"] ** t)) + eps)
    return (params - step).astype(f32), {"m": m, "v": v, "v_max": v_max}


# --- broken: one bug each ----------------------------------------------------------------------

def _adam(params, grad, state, t, hyper, *, m_beta="beta1", v_beta="beta2", bc1_beta="beta1",
          bc2_beta="beta2", bc1_t=0, bc2_t=0, square=True, root=True, eps_times=1, gain=True,
          correct=(True, True), lr_power=1, sign=1, reset=0, lazy=False, fixed=None,
          decay=None, amsgrad=None, eps_in_root=False):
    """A plain user Adam with switches for the bugs below (each mutant turns one on)."""
    h = dict(hyper) | (fixed or {})
    lr = f32(h["lr"]) ** lr_power
    eps = f32(h["eps"])
    m0 = state.get("m", np.zeros_like(params))
    v0 = state.get("v", np.zeros_like(params))
    bm, bv = f32(h[m_beta]), f32(h[v_beta])
    m = bm * m0 + ((f32(1) - bm) * grad if gain else grad)
    v = bv * v0 + (f32(1) - bv) * (grad * grad if square else np.abs(grad))
    if lazy:
        m, v = np.where(grad == 0, m0, m), np.where(grad == 0, v0, v)
    m_hat = m / f32(1 - h[bc1_beta] ** (t + bc1_t)) if correct[0] else m
    v_hat = v / f32(1 - h[bc2_beta] ** (t + bc2_t)) if correct[1] else v
    new_state = {"m": m, "v": v}
    if amsgrad == "v_hat":
        v_hat = np.maximum(state.get("v_max", np.zeros_like(params)), v_hat)
        new_state["v_max"] = v_hat
    if amsgrad == "stale":  # max against the previous v, not the running max
        new_state["v_max"] = np.maximum(v0, v)
        v_hat = new_state["v_max"] / f32(1 - h["beta2"] ** t)
    den = np.sqrt(v_hat + eps) if eps_in_root else (np.sqrt(v_hat) if root else v_hat) + eps * eps_times
    step = lr * m_hat / den
    x = params
    if decay == "decoupled":
        step = step + lr * f32(h["weight_decay"]) * params
    if decay == "no-lr":
        step = step + f32(h["weight_decay"]) * params
    if decay == "twice":
        step = step + f32(2) * lr * f32(h["weight_decay"]) * params
    new = (x - sign * step).astype(f32)
    if reset and t % reset == 0:
        new_state = {k: np.zeros_like(val) for k, val in new_state.items()}
    return new, new_state


def _coupled_adamw(params, grad, state, t, hyper):
    g = (grad + f32(hyper["weight_decay"]) * params).astype(f32)
    return _adam(params, g, state, t, hyper)


BUGS = [
    # (name, optimizer, switches, expected: ("computes", rule) or ("term", phrase), what)
    ("adam_swapped_betas", "adam", {"m_beta": "beta2", "v_beta": "beta1", "bc1_beta": "beta2",
                                    "bc2_beta": "beta1"}, ("term", "swapped"), "betas swapped"),
    ("adam_m_uses_beta2", "adam", {"m_beta": "beta2"}, ("term", "m averages with β2"),
     "m's average uses β2"),
    ("adam_v_uses_beta1", "adam", {"v_beta": "beta1"}, ("term", "v averages with β1"),
     "v's average uses β1"),
    ("adam_bc1_uses_beta2", "adam", {"bc1_beta": "beta2"},
     ("term", "bias correction of m uses β2"), "copy-paste of 1 − β2ᵗ"),
    ("adam_bc2_uses_beta1", "adam", {"bc2_beta": "beta1"},
     ("term", "bias correction of v uses β1"), "copy-paste of 1 − β1ᵗ"),
    ("adam_bc_t_plus_1", "adam", {"bc1_t": 1, "bc2_t": 1}, ("term", "t + 1"),
     "step counter incremented twice"),
    ("adam_bc1_t_plus_1", "adam", {"bc1_t": 1}, ("term", "bias correction of m uses t + 1"),
     "off-by-one in m's correction"),
    ("adam_v_abs", "adam", {"square": False}, ("term", "|g|, not g²"), "|g| for g²"),
    ("adam_no_sqrt", "adam", {"root": False}, ("term", "square root"), "missing sqrt"),
    ("adam_eps_twice", "adam", {"eps_times": 2}, ("term", "ε enters twice"), "ε added twice"),
    ("adam_no_gain", "adam", {"gain": False}, ("term", "without the factor (1 − β1)"),
     "m = β1·m + g"),
    ("adam_lr_twice", "adam", {"lr_power": 2}, ("term", "learning rate is applied twice"),
     "lr applied twice"),
    ("adam_ascends", "adam", {"sign": -1}, ("term", "wrong sign"), "wrong sign"),
    ("adam_reset_10", "adam", {"reset": 10}, ("term", "reset to 0 after every 10th"),
     "state reset every 10 steps"),
    ("adam_lazy_zero_grad", "adam", {"lazy": True}, ("term", "lazy"),
     "moments skipped where g = 0"),
    ("adam_hardcoded_betas", "adam", {"fixed": {"beta1": 0.9, "beta2": 0.999}},
     ("term", "fixed at 0.9, 0.999"), "betas hard-coded"),
    ("adam_hardcoded_eps", "adam", {"fixed": {"eps": 1e-8}}, ("term", "ε is fixed"),
     "ε hard-coded"),
    ("adam_only_m_corrected", "adam", {"correct": (True, False)},
     ("term", "only m is bias-corrected"), "v left uncorrected"),
    ("adam_no_correction", "adam", {"correct": (False, False)}, ("computes", "adam-nobias"),
     "no bias correction"),
    ("adam_eps_in_root", "adam", {"eps_in_root": True}, ("computes", "adam-epsroot"),
     "ε inside the root"),
    ("adamw_decay_without_lr", "adamw", {"decay": "no-lr"},
     ("term", "not multiplied by the learning rate"), "θ −= λθ"),
    ("adamw_decay_twice", "adamw", {"decay": "twice"}, ("term", "applied twice"),
     "decay applied twice"),
    ("adamw_forgot_decay", "adamw", {}, ("computes", "adam"), "no decay at all"),
    ("amsgrad_max_over_vhat", "amsgrad", {"amsgrad": "v_hat"}, ("computes", "amsgrad-vhat"),
     "max over v̂"),
    ("amsgrad_stale_max", "amsgrad", {"amsgrad": "stale"}, ("term", "v_max"),
     "max against the previous v only"),
]


def _make(name, switches):
    def fn(params, grad, state, t, hyper):
        return _adam(params, grad, state, t, hyper, **switches)
    fn.__name__ = fn.__qualname__ = name
    return fn


for _name, _opt, _sw, (_kind, _what), _bug in BUGS:
    _fn = _make(_name, _sw)
    globals()[_name] = _fn
    register(_opt, computes=_what if _kind == "computes" else None,
             term=_what if _kind == "term" else None, bug=_bug)(_fn)

_coupled_adamw.__name__ = _coupled_adamw.__qualname__ = "adamw_coupled_decay"
adamw_coupled_decay = _coupled_adamw
register("adamw", computes="adam-l2", bug="decay added to the gradient (L2, coupled)")(
    adamw_coupled_decay)
