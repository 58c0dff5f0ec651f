"""Blind calibration set A: NumPy step functions.

Every function has the signature step(params, grad, state, t, hyper) -> (params, state).
Which ones are correct and which are broken (and how) is recorded in manifest.toml only.
"""
import math

import numpy as np

F32 = np.float32
_CHUNK = 1 << 16


# =====================================================================
# Adam (Kingma & Ba, Algorithm 1)
# =====================================================================

def adam_textbook(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    m = b1 * state["m"] + (1 - b1) * grad
    v = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    new = params - lr * m_hat / (np.sqrt(v_hat) + eps)
    state["m"], state["v"] = m, v
    return new, state


def adam_torch_style_inplace(params, grad, state, t, hyper):
    lr = float(hyper["lr"])
    beta1 = float(hyper["beta1"])
    beta2 = float(hyper["beta2"])
    eps = float(hyper["eps"])
    if "m" not in state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    m, v = state["m"], state["v"]
    m *= beta1
    m += (1.0 - beta1) * grad
    v *= beta2
    v += (1.0 - beta2) * np.square(grad)
    bias_correction1 = 1.0 - beta1 ** t
    bias_correction2 = 1.0 - beta2 ** t
    step_size = lr / bias_correction1
    denom = np.sqrt(v) / math.sqrt(bias_correction2)
    denom += eps
    out = params.copy()
    out -= step_size * (m / denom)
    return out, state


def adam_lerp_f64_scalars(params, grad, state, t, hyper):
    h = {k: np.float64(x) for k, x in hyper.items()}
    m = state.get("m")
    v = state.get("v")
    if m is None:
        m = np.zeros(params.shape, dtype=F32)
        v = np.zeros(params.shape, dtype=F32)
    w1 = F32(1.0 - h["beta1"])
    w2 = F32(1.0 - h["beta2"])
    m = m + w1 * (grad - m)
    v = v + w2 * (grad * grad - v)
    bc1 = 1.0 - np.power(h["beta1"], t)
    bc2 = 1.0 - np.power(h["beta2"], t)
    alpha_t = F32(h["lr"] / bc1)
    inv_sqrt_bc2 = F32(1.0 / np.sqrt(bc2))
    new = params - alpha_t * m / (np.sqrt(v) * inv_sqrt_bc2 + F32(h["eps"]))
    state["m"] = m
    state["v"] = v
    return new.astype(F32), state


def adam_wide_float64(params, grad, state, t, hyper):
    """Compute in double, store in single."""
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    g = grad.astype(np.float64)
    m = state.get("m", np.zeros_like(params)).astype(np.float64)
    v = state.get("v", np.zeros_like(params)).astype(np.float64)
    m = b1 * m + (1.0 - b1) * g
    v = b2 * v + (1.0 - b2) * g ** 2
    mh = m / -math.expm1(t * math.log(b1)) if b1 > 0 else m
    vh = v / -math.expm1(t * math.log(b2)) if b2 > 0 else v
    p = params.astype(np.float64) - lr * mh / (np.sqrt(vh) + eps)
    state["m"] = m.astype(F32)
    state["v"] = v.astype(F32)
    return p.astype(F32), state


# ---- Adam, broken --------------------------------------------------

def adam_bc1_uses_beta2(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad ** 2
    m_hat = state["m"] / (1 - b2 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_eps_in_sqrt(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    m = state.setdefault("m", np.zeros_like(params))
    v = state.setdefault("v", np.zeros_like(params))
    m[:] = b1 * m + (1 - b1) * grad
    v[:] = b2 * v + (1 - b2) * grad * grad
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    # "numerically safer"
    return params - lr * m_hat / np.sqrt(v_hat + eps), state


def adam_step_off_by_one(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["_step"] = 1
    state["_step"] += 1
    step = state["_step"]
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    c1 = 1 - b1 ** step
    c2 = 1 - b2 ** step
    return params - (lr / c1) * state["m"] / (np.sqrt(state["v"] / c2) + eps), state


def adam_no_bias_correction_v(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    step_size = lr / (1 - b1 ** t)
    return params - step_size * state["m"] / (np.sqrt(state["v"]) + eps), state


def adam_abs_grad_second_moment(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * np.abs(grad)
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_v_from_new_m(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    m = b1 * state["m"] + (1 - b1) * grad
    v = b2 * state["v"] + (1 - b2) * m * m
    state["m"], state["v"] = m, v
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_stale_first_moment(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    v = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    new = params - lr * m_hat / (np.sqrt(v_hat) + eps)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = v
    return new, state


def adam_reset_every_100(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state or t % 100 == 0:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_lazy_zero_grad(params, grad, state, t, hyper):
    """'Sparse-friendly' Adam: coordinates with no gradient are left alone."""
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    idx = np.nonzero(grad)[0]
    m, v = state["m"], state["v"]
    g = grad[idx]
    m[idx] = b1 * m[idx] + (1 - b1) * g
    v[idx] = b2 * v[idx] + (1 - b2) * g * g
    out = params.copy()
    out[idx] -= lr * (m[idx] / (1 - b1 ** t)) / (np.sqrt(v[idx] / (1 - b2 ** t)) + eps)
    return out, state


def adam_half_second_moment(params, grad, state, t, hyper):
    """Keeps v in float16 to save memory."""
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros(params.shape, dtype=np.float16)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    v32 = b2 * state["v"].astype(F32) + (1 - b2) * grad * grad
    state["v"] = v32.astype(np.float16)
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"].astype(F32) / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_hardcoded_beta2(params, grad, state, t, hyper):
    lr, b1, eps = float(hyper["lr"]), float(hyper["beta1"]), float(hyper["eps"])
    b2 = 0.999
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_hardcoded_eps(params, grad, state, t, hyper):
    lr, b1, b2 = float(hyper["lr"]), float(hyper["beta1"]), float(hyper["beta2"])
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    m = state["m"] = b1 * state["m"] + (1 - b1) * grad
    v = state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + 1e-8), state


def adam_cached_bias_correction2(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["_sqrt_bc2"] = math.sqrt(1 - b2 ** t)  # computed once "for speed"
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    step_size = lr / (1 - b1 ** t)
    denom = np.sqrt(state["v"]) / state["_sqrt_bc2"] + eps
    return params - step_size * state["m"] / denom, state


def adam_leftover_warmup(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    lr = lr * min(1.0, t / 10.0)
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_builtin_grad_clip(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    norm = float(np.linalg.norm(grad))
    if norm > 1.0:
        grad = grad * F32(1.0 / norm)
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_v_floor(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    v = b2 * state["v"] + (1 - b2) * grad * grad
    state["v"] = np.maximum(v, F32(eps))  # guard against division by zero
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_running_beta_powers(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["_b1t"] = F32(1.0)
        state["_b2t"] = F32(1.0)
    state["_b1t"] = F32(state["_b1t"] * F32(b1))
    state["_b2t"] = F32(state["_b2t"] * F32(b2))
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    bc1 = F32(1) - state["_b1t"]
    bc2 = F32(1) - state["_b2t"]
    new = params - F32(lr) * (state["m"] / bc1) / (np.sqrt(state["v"] / bc2) + F32(eps))
    return new.astype(F32), state


def adam_double_unscale(params, grad, state, t, hyper):
    """Mixed-precision helper that divides the gradient by the loss scale again."""
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    loss_scale = 1024.0
    g = grad / F32(loss_scale)
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * g
    state["v"] = b2 * state["v"] + (1 - b2) * g * g
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_bc2_without_sqrt(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    m, v = state["m"], state["v"]
    np.multiply(m, b1, out=m)
    m += (1 - b1) * grad
    np.multiply(v, b2, out=v)
    v += (1 - b2) * grad * grad
    bias_correction1 = 1 - b1 ** t
    bias_correction2 = 1 - b2 ** t
    denom = np.sqrt(v) / bias_correction2 + eps
    return params - (lr / bias_correction1) * m / denom, state


def adam_chunked_step_counter(params, grad, state, t, hyper):
    """Processes the tensor in 64k chunks (cache friendly)."""
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["_step"] = 0
    m, v = state["m"], state["v"]
    out = params.copy()
    n = params.size
    for s in range(0, n, _CHUNK):
        e = min(s + _CHUNK, n)
        state["_step"] += 1
        step = state["_step"]
        g = grad[s:e]
        m[s:e] = b1 * m[s:e] + (1 - b1) * g
        v[s:e] = b2 * v[s:e] + (1 - b2) * g * g
        denom = np.sqrt(v[s:e]) / math.sqrt(1 - b2 ** step) + eps
        out[s:e] -= (lr / (1 - b1 ** step)) * m[s:e] / denom
    return out, state


def adam_v_uses_beta1(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b1) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adam_two_no_bc1_eps_in_sqrt(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    v_hat = state["v"] / (1 - b2 ** t)
    return params - lr * state["m"] / np.sqrt(v_hat + eps), state


# =====================================================================
# AdamW (decoupled weight decay, torch convention)
# =====================================================================

def adamw_private_counter_inplace(params, grad, state, t, hyper):
    lr = float(hyper["lr"])
    beta1, beta2 = float(hyper["beta1"]), float(hyper["beta2"])
    eps = float(hyper["eps"])
    wd = float(hyper.get("weight_decay", 0.0))
    if "m" not in state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["_t"] = 0
    state["_t"] += 1
    k = state["_t"]
    p = params.copy()
    p *= 1.0 - lr * wd
    m, v = state["m"], state["v"]
    m *= beta1
    m += (1.0 - beta1) * grad
    v *= beta2
    v += (1.0 - beta2) * grad * grad
    denom = np.sqrt(v)
    denom /= math.sqrt(1.0 - beta2 ** k)
    denom += eps
    p -= (lr / (1.0 - beta1 ** k)) * m / denom
    return p, state


def adamw_fused_expression(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    wd = float(hyper.get("weight_decay", 0.0))
    m = b1 * state.get("m", 0.0) + (1 - b1) * grad
    v = b2 * state.get("v", 0.0) + (1 - b2) * np.square(grad)
    state.update(m=np.asarray(m, F32), v=np.asarray(v, F32))
    new = params * (1 - lr * wd) - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return new.astype(F32), state


# ---- AdamW, broken -------------------------------------------------

def adamw_decay_without_lr(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    wd = float(hyper.get("weight_decay", 0.0))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    p = params * (1 - wd)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adamw_decay_after_update(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    wd = float(hyper.get("weight_decay", 0.0))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    p = params - lr * m_hat / (np.sqrt(v_hat) + eps)
    p *= 1 - lr * wd
    return p, state


def adamw_decay_inside_step_size(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    wd = float(hyper.get("weight_decay", 0.0))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    m, v = state["m"], state["v"]
    m *= b1
    m += (1 - b1) * grad
    v *= b2
    v += (1 - b2) * grad * grad
    step_size = lr / (1 - b1 ** t)
    denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps
    return params - step_size * (m / denom + wd * params), state


def adamw_decay_forgets_param(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    wd = float(hyper.get("weight_decay", 0.0))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    p = params.copy()
    p -= lr * wd  # meant p -= lr * wd * p
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adamw_skip_zero_grad(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    wd = float(hyper.get("weight_decay", 0.0))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    if not np.any(grad):
        return params, state  # nothing to do
    p = params * (1 - lr * wd)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adamw_half_decay_factor(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    wd = float(hyper.get("weight_decay", 0.0))
    decay = np.float16(1.0 - lr * wd)  # constants kept in half like the AMP weights
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    p = (params * decay).astype(F32)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adamw_no_decay_for_vectors(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    wd = float(hyper.get("weight_decay", 0.0))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    p = params
    if p.ndim >= 2:  # biases / norms are not decayed
        p = p * (1 - lr * wd)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), state


def adamw_chunk_tail_dropped(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    wd = float(hyper.get("weight_decay", 0.0))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    m, v = state["m"], state["v"]
    out = params.copy()
    bc1 = 1 - b1 ** t
    sbc2 = math.sqrt(1 - b2 ** t)

    def run(s, e):
        g = grad[s:e]
        out[s:e] *= 1 - lr * wd
        m[s:e] = b1 * m[s:e] + (1 - b1) * g
        v[s:e] = b2 * v[s:e] + (1 - b2) * g * g
        out[s:e] -= (lr / bc1) * m[s:e] / (np.sqrt(v[s:e]) / sbc2 + eps)

    n = params.size
    full = (n // _CHUNK) * _CHUNK
    for s in range(0, full, _CHUNK):
        run(s, s + _CHUNK)
    if n < _CHUNK:
        run(0, n)
    return out, state


def adamw_two_decay_no_lr_fixed_beta1(params, grad, state, t, hyper):
    lr, b2, eps = float(hyper["lr"]), float(hyper["beta2"]), float(hyper["eps"])
    wd = float(hyper.get("weight_decay", 0.0))
    b1 = 0.9
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
    p = params - wd * params
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v"] / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), state


# =====================================================================
# AMSGrad (torch convention: max over raw v, then bias-correct)
# =====================================================================

def amsgrad_plain(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    state["v_max"] = np.maximum(state["v_max"], state["v"])
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v_max"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def amsgrad_inplace_out(params, grad, state, t, hyper):
    lr = float(hyper["lr"])
    beta1, beta2, eps = float(hyper["beta1"]), float(hyper["beta2"]), float(hyper["eps"])
    if "m" not in state:
        for name in ("m", "v", "v_max"):
            state[name] = np.zeros(params.shape, F32)
    m, v, vmax = state["m"], state["v"], state["v_max"]
    m += (grad - m) * (1.0 - beta1)
    v *= beta2
    v += (1.0 - beta2) * (grad * grad)
    np.maximum(vmax, v, out=vmax)
    denom = np.sqrt(vmax)
    denom *= 1.0 / math.sqrt(1.0 - beta2 ** t)
    denom += eps
    step = m / denom
    step *= lr / (1.0 - beta1 ** t)
    return params - step, state


# ---- AMSGrad, broken -----------------------------------------------

def amsgrad_max_of_vhat(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    v_hat = state["v"] / (1 - b2 ** t)
    state["v_max"] = np.maximum(state["v_max"], v_hat)
    m_hat = state["m"] / (1 - b1 ** t)
    return params - lr * m_hat / (np.sqrt(state["v_max"]) + eps), state


def amsgrad_max_not_saved(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    v_max = np.maximum(state["v_max"], state["v"])
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = v_max / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def amsgrad_max_of_grad_sq(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.zeros_like(params)
    g2 = grad * grad
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * g2
    state["v_max"] = np.maximum(state["v_max"], g2)
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v_max"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def amsgrad_eps_twice(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    state["v_max"] = np.maximum(state["v_max"], state["v"])
    denom = np.sqrt(state["v_max"] + eps) / math.sqrt(1 - b2 ** t) + eps
    return params - (lr / (1 - b1 ** t)) * state["m"] / denom, state


def amsgrad_vmax_init_ones(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.ones_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    state["v_max"] = np.maximum(state["v_max"], state["v"])
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v_max"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def amsgrad_bc2_uses_beta1(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    state["v_max"] = np.maximum(state["v_max"], state["v"])
    bias_correction1 = 1 - b1 ** t
    bias_correction2 = 1 - b1 ** t
    denom = np.sqrt(state["v_max"]) / math.sqrt(bias_correction2) + eps
    return params - lr / bias_correction1 * state["m"] / denom, state


def amsgrad_lr_key_mismatch(params, grad, state, t, hyper):
    lr = float(hyper.get("learning_rate", 1e-3))
    b1, b2, eps = float(hyper["beta1"]), float(hyper["beta2"]), float(hyper["eps"])
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    state["v_max"] = np.maximum(state["v_max"], state["v"])
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = state["v_max"] / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def amsgrad_max_starts_at_step2(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.zeros_like(params)
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    if t > 1:
        state["v_max"] = np.maximum(state["v_max"], state["v"])
        v_used = state["v_max"]
    else:
        v_used = state["v"]  # nothing to compare against yet
    m_hat = state["m"] / (1 - b1 ** t)
    v_hat = v_used / (1 - b2 ** t)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), state


def amsgrad_two_vhat_max_step_plus_one(params, grad, state, t, hyper):
    lr, b1, b2, eps = (float(hyper[k]) for k in ("lr", "beta1", "beta2", "eps"))
    if not state:
        state["m"] = np.zeros_like(params)
        state["v"] = np.zeros_like(params)
        state["v_max"] = np.zeros_like(params)
    k = t + 1
    state["m"] = b1 * state["m"] + (1 - b1) * grad
    state["v"] = b2 * state["v"] + (1 - b2) * grad * grad
    state["v_max"] = np.maximum(state["v_max"], state["v"] / (1 - b2 ** k))
    m_hat = state["m"] / (1 - b1 ** k)
    return params - lr * m_hat / (np.sqrt(state["v_max"]) + eps), state


# =====================================================================
# RMSProp (v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps))
# =====================================================================

def rmsprop_plain(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    v = state.get("v")
    if v is None:
        v = np.zeros_like(params)
    v = alpha * v + (1 - alpha) * grad ** 2
    state["v"] = v
    return params - lr * grad / (np.sqrt(v) + eps), state


def rmsprop_lerp_inplace(params, grad, state, t, hyper):
    lr = np.float64(hyper["lr"])
    alpha = np.float64(hyper["alpha"])
    eps = np.float64(hyper["eps"])
    if "v" not in state:
        state["v"] = np.zeros(params.shape, dtype=F32)
    v = state["v"]
    v += F32(1.0 - alpha) * (np.square(grad) - v)
    denom = np.sqrt(v)
    denom += F32(eps)
    upd = grad / denom
    upd *= F32(lr)
    out = params.copy()
    out -= upd
    return out, state


# ---- RMSProp, broken -----------------------------------------------

def rmsprop_lerp_weight_swapped(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    if "v" not in state:
        state["v"] = np.zeros_like(params)
    v = state["v"]
    v += alpha * (grad * grad - v)  # lerp towards g^2
    return params - lr * grad / (np.sqrt(v) + eps), state


def rmsprop_eps_in_sqrt(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    if "v" not in state:
        state["v"] = np.zeros_like(params)
    state["v"] = alpha * state["v"] + (1 - alpha) * grad * grad
    return params - lr * grad / np.sqrt(state["v"] + eps), state


def rmsprop_adam_style_bias_correction(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    if "v" not in state:
        state["v"] = np.zeros_like(params)
    state["v"] = alpha * state["v"] + (1 - alpha) * grad * grad
    v_hat = state["v"] / (1 - alpha ** t)
    return params - lr * grad / (np.sqrt(v_hat) + eps), state


def rmsprop_centered_by_default(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    centered = bool(hyper.get("centered", True))
    if "v" not in state:
        state["v"] = np.zeros_like(params)
        if centered:
            state["_g_avg"] = np.zeros_like(params)
    state["v"] = alpha * state["v"] + (1 - alpha) * grad * grad
    if centered:
        state["_g_avg"] = alpha * state["_g_avg"] + (1 - alpha) * grad
        avg = np.sqrt(state["v"] - state["_g_avg"] ** 2)
    else:
        avg = np.sqrt(state["v"])
    return params - lr * grad / (avg + eps), state


def rmsprop_momentum_default(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    mom = float(hyper.get("momentum", 0.9))
    if "v" not in state:
        state["v"] = np.zeros_like(params)
        state["_mom"] = np.zeros_like(params)
    state["v"] = alpha * state["v"] + (1 - alpha) * grad * grad
    step = grad / (np.sqrt(state["v"]) + eps)
    if mom > 0:
        state["_mom"] = mom * state["_mom"] + step
        step = state["_mom"]
    return params - lr * step, state


def rmsprop_eps_in_half(params, grad, state, t, hyper):
    lr, alpha = float(hyper["lr"]), float(hyper["alpha"])
    eps = np.float16(hyper["eps"])
    if "v" not in state:
        state["v"] = np.zeros_like(params)
    state["v"] = alpha * state["v"] + (1 - alpha) * grad * grad
    denom = np.sqrt(state["v"]) + eps
    return (params - lr * grad / denom).astype(F32), state


def rmsprop_cached_denominator(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    if "v" not in state:
        state["v"] = np.zeros_like(params)
    state["v"] = alpha * state["v"] + (1 - alpha) * grad * grad
    if t % 10 == 1 or "_denom" not in state:  # sqrt is expensive, refresh every 10 steps
        state["_denom"] = np.sqrt(state["v"]) + eps
    return params - lr * grad / state["_denom"], state


def rmsprop_adagrad_lr_decay(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    lr_t = lr / math.sqrt(t)
    if "v" not in state:
        state["v"] = np.zeros_like(params)
    state["v"] = alpha * state["v"] + (1 - alpha) * grad * grad
    return params - lr_t * grad / (np.sqrt(state["v"]) + eps), state


def rmsprop_grad_clamped(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    g = np.clip(grad, -1e3, 1e3)  # keep g*g finite
    if "v" not in state:
        state["v"] = np.zeros_like(params)
    state["v"] = alpha * state["v"] + (1 - alpha) * g * g
    return params - lr * g / (np.sqrt(state["v"]) + eps), state


def rmsprop_half_grad_square(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    if "v" not in state:
        state["v"] = np.zeros_like(params)
    gh = grad.astype(np.float16)
    g2 = (gh * gh).astype(F32)
    state["v"] = alpha * state["v"] + (1 - alpha) * g2
    return params - lr * grad / (np.sqrt(state["v"]) + eps), state


def rmsprop_two_swapped_alpha_eps_inside(params, grad, state, t, hyper):
    lr, alpha, eps = float(hyper["lr"]), float(hyper["alpha"]), float(hyper["eps"])
    if "v" not in state:
        state["v"] = np.zeros_like(params)
    state["v"] = (1 - alpha) * state["v"] + alpha * grad * grad
    return params - lr * grad / np.sqrt(state["v"] + eps), state


# =====================================================================
# SGD with momentum (torch): buf = mu buf + (1 - d) g, first buf = g; p -= lr buf
# =====================================================================

def momentum_plain(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    if "buf" not in state:
        state["buf"] = grad.copy()
    else:
        state["buf"] = mu * state["buf"] + (1 - d) * grad
    return params - lr * state["buf"], state


def momentum_f64_scalars_inplace(params, grad, state, t, hyper):
    lr = np.float64(hyper["lr"])
    mu = np.float64(hyper["momentum"])
    damp = np.float64(hyper.get("dampening", 0.0))
    if t == 1:
        buf = state["buf"] = np.array(grad, dtype=F32, copy=True)
    else:
        buf = state["buf"]
        buf *= F32(mu)
        buf += F32(1.0 - damp) * grad
    params -= F32(lr) * buf  # updates the caller's array in place
    return params, state


# ---- momentum, broken ----------------------------------------------

def momentum_buffer_from_zero(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    buf = state.setdefault("buf", np.zeros_like(params))
    buf *= mu
    buf += (1 - d) * grad
    return params - lr * buf, state


def momentum_dampening_key_typo(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("damping", 0.0))
    if "buf" not in state:
        state["buf"] = grad.copy()
    else:
        state["buf"] = mu * state["buf"] + (1 - d) * grad
    return params - lr * state["buf"], state


def momentum_applies_nesterov(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    if "buf" not in state:
        state["buf"] = grad.copy()
    else:
        state["buf"] = mu * state["buf"] + (1 - d) * grad
    step = grad + mu * state["buf"]
    return params - lr * step, state


def momentum_step_before_buffer(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    if "buf" not in state:
        state["buf"] = grad.copy()
        return params - lr * state["buf"], state
    new = params - lr * state["buf"]
    state["buf"] = mu * state["buf"] + (1 - d) * grad
    return new, state


def momentum_reinit_when_buffer_zero(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    buf = state.get("buf")
    if buf is None or not buf.any():  # first step
        state["buf"] = grad.copy()
    else:
        state["buf"] = mu * buf + (1 - d) * grad
    return params - lr * state["buf"], state


def momentum_half_buffer_large(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    big = params.size > _CHUNK
    dtype = np.float16 if big else F32  # memory saver for big tensors
    if "buf" not in state:
        state["buf"] = grad.astype(dtype)
    else:
        state["buf"] = (mu * state["buf"].astype(F32) + (1 - d) * grad).astype(dtype)
    return params - lr * state["buf"].astype(F32), state


def momentum_grad_accumulates(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    if "_acc" not in state:
        state["_acc"] = np.zeros_like(params)
    state["_acc"] += grad  # gradient accumulation; never zeroed
    g = state["_acc"]
    if "buf" not in state:
        state["buf"] = g.copy()
    else:
        state["buf"] = mu * state["buf"] + (1 - d) * g
    return params - lr * state["buf"], state


def momentum_two_stale_buffer_no_dampening(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    if "buf" not in state:
        state["buf"] = grad.copy()
        return params - lr * grad, state
    new = params - lr * state["buf"]
    state["buf"] = mu * state["buf"] + grad
    return new, state


# =====================================================================
# Nesterov (torch SGD nesterov=True): buf as momentum; p -= lr (g + mu buf)
# =====================================================================

def nesterov_fused(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    buf = grad.copy() if t == 1 else mu * state["buf"] + (1 - d) * grad
    state["buf"] = buf
    return params - lr * (grad + mu * buf), state


# ---- Nesterov, broken ----------------------------------------------

def nesterov_lookahead_sign(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    if "buf" not in state:
        state["buf"] = grad.copy()
    else:
        state["buf"] = mu * state["buf"] + (1 - d) * grad
    return params - lr * (grad - mu * state["buf"]), state


def nesterov_roles_swapped(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    if "buf" not in state:
        state["buf"] = grad.copy()
    else:
        state["buf"] = mu * state["buf"] + (1 - d) * grad
    return params - lr * (state["buf"] + mu * grad), state


def nesterov_fixed_momentum(params, grad, state, t, hyper):
    lr = float(hyper["lr"])
    d = float(hyper.get("dampening", 0.0))
    mu = 0.9
    if "buf" not in state:
        state["buf"] = grad.copy()
    else:
        state["buf"] = mu * state["buf"] + (1 - d) * grad
    return params - lr * (grad + mu * state["buf"]), state


def nesterov_reset_each_epoch(params, grad, state, t, hyper):
    lr, mu = float(hyper["lr"]), float(hyper["momentum"])
    d = float(hyper.get("dampening", 0.0))
    steps_per_epoch = 50
    if "buf" not in state or (t - 1) % steps_per_epoch == 0:
        state["buf"] = grad.copy()
    else:
        state["buf"] = mu * state["buf"] + (1 - d) * grad
    return params - lr * (grad + mu * state["buf"]), state
