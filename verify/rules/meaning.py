"""What each rule of the catalogue computes, in words a reader can act on, and how two rules
differ: what a verdict says when it names a variant."""

from __future__ import annotations

from .catalogue import RULES

# What each rule computes, in one line a reader can act on (named wherever a verdict names it)
MEANING: dict[str, str] = {
    "gd": "plain gradient descent, θ −= α·g",
    "momentum": "heavy ball with dampening d, b = μ·b + (1 − d)·g, first b = g (PyTorch SGD)",
    "momentum-zero": "heavy ball whose buffer starts at 0, so the first b = (1 − d)·g (MLX SGD)",
    "nesterov": "Nesterov momentum as PyTorch writes it, θ −= α·(g + μ·b), first b = g",
    "nesterov-zero": "Nesterov momentum whose buffer starts at 0",
    "rmsprop": "v = α·v + (1 − α)·g², θ −= lr·g/(√v + ε)",
    "rmsprop-epsinside": "RMSProp with ε inside the root, θ −= lr·g/√(v + ε) (TensorFlow's form)",
    "adam": "Kingma & Ba Algorithm 1, θ −= α·m̂/(√v̂ + ε)",
    "adam-nobias": "Adam without bias correction, θ −= α·m/(√v + ε)",
    "adam-epshat": "Adam with ε on the uncorrected root (ε̂): θ −= α_t·m/(√v + ε), "
                   "α_t = α·√(1 − β2ᵗ)/(1 − β1ᵗ) (Kingma & Ba §2's efficient form)",
    "adam-epsroot": "Adam with ε inside the square root, θ −= α·m̂/√(v̂ + ε)",
    "adamw": "Adam with decoupled weight decay, θ −= α·(m̂/(√v̂ + ε) + λ·θ) (Loshchilov & Hutter)",
    "adamw-nobias": "AdamW without bias correction",
    "adamw-epshat": "AdamW with ε on the uncorrected root (ε̂)",
    "amsgrad-epshat": "AMSGrad (max over v) with ε on the uncorrected root (ε̂)",
    "adam-l2": "Adam with L2 regularisation: λ·θ added to the gradient before the moments",
    "amsgrad": "AMSGrad as PyTorch writes it: the running max over raw v, then bias-corrected",
    "amsgrad-vhat": "AMSGrad with the running max taken over the bias-corrected v̂",
    "amsgrad-nobias": "AMSGrad without bias correction (Reddi et al. Algorithm 2)",
    "adamax": "AdaMax, u = max(β2·u, |g|), θ −= α/(1 − β1ᵗ)·m/u (Kingma & Ba §7.1)",
}


_ASPECT = {"bias_correction": "bias correction", "eps": "where ε enters", "decay": "weight decay",
           "amsgrad": "running max of v", "first_buffer": "first momentum buffer",
           "nesterov": "Nesterov look-ahead"}
_DEFAULT = {"bias_correction": True, "eps": "outside", "decay": "none", "amsgrad": "none",
            "first_buffer": "g", "nesterov": False}


def difference(claimed: str, got: str) -> str:
    """How rule ``got`` differs from ``claimed``, in words: "weight decay: none where adamw has
    decoupled" — what a user goes and fixes."""
    a, b = RULES[claimed].variant, RULES[got].variant
    parts = []
    for key in sorted(set(a) | set(b)):
        was, now = a.get(key, _DEFAULT.get(key)), b.get(key, _DEFAULT.get(key))
        if was != now:
            parts.append(f"{_ASPECT.get(key, key)}: {_word(now)} where {claimed} has {_word(was)}")
    return "; ".join(parts)


def _word(value: object) -> str:
    return {True: "on", False: "off", "v": "max over v", "v_hat": "max over v̂", "g": "g",
            "zero": "0", "hat": "on √v (ε̂)", "root": "inside the root", "inside": "inside the root",
            "outside": "outside the root", "l2": "L2 (added to the gradient)"}.get(value, str(value))
