"""MLX's optimizers (``mlx.optimizers``) on MLX autodiff gradients, float32, CPU.

``mlx-default`` uses MLX's defaults — Adam and AdamW with ``bias_correction=False`` — and
``mlx`` turns the bias correction on, as Kingma & Ba's Algorithm 1 (and the article) has it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..golden.arith import float_format
from ..golden.spec import RunSpec
from ..golden.trace import Trace
from .framework import (
    OpsArith,
    import_framework,
    init_float32,
    make_trace,
    phase_losses,
    project,
    require_counterpart,
)
from .hooks import Hooks

SUPPORTED = ("gd", "momentum", "momentum-zero", "nesterov", "nesterov-zero", "adam", "adamw",
             "rmsprop")


def _optimizer(optim, rule: str, f: dict[str, float], bias_correction: bool):
    if rule in ("gd", "momentum", "momentum-zero", "nesterov", "nesterov-zero"):
        return optim.SGD(learning_rate=f["lr"], momentum=f.get("momentum", 0.0),
                         dampening=f.get("dampening", 0.0), nesterov=rule.startswith("nesterov"))
    if rule == "rmsprop":
        return optim.RMSprop(learning_rate=f["lr"], alpha=f["alpha"], eps=f["eps"])
    kw = {"learning_rate": f["lr"], "betas": [f["beta1"], f["beta2"]], "eps": f["eps"],
          "bias_correction": bias_correction}
    if rule == "adamw":
        return optim.AdamW(weight_decay=f["weight_decay"], **kw)
    return optim.Adam(**kw)


def run_mlx(spec: RunSpec, impl: str = "mlx", dtype: str = "float32",
            hooks: Hooks | None = None) -> Trace:
    """Run mlx.optimizers with parameters (so gradients and state) in ``dtype``; ``hooks`` (an
    optimizer object's audit) build the optimizer and read its state instead."""
    mx, optim = import_framework(("mlx.core", "mlx.optimizers"),
                                 "MLX is not installed (pip install 'mlx[cpu]')")
    require_counterpart("mlx.optimizers", spec, SUPPORTED, hooks)
    f = {k: float(v) for k, v in spec.full_hyper().items()}
    opt = hooks.make() if hooks else _optimizer(optim, spec.rule.name, f,
                                                bias_correction=impl == "mlx")
    mdt = getattr(mx, dtype)
    ar = OpsArith(mx, lambda x: mx.array(x, dtype=mdt), float_format(dtype))
    losses = phase_losses(spec.problem, ar)
    n = len(spec.problem.params)
    grads = [mx.grad(lambda p, fn=fn: fn([p[i] for i in range(n)])) for fn in losses]

    def host(a):  # NumPy has no bfloat16 of its own: values go out through float32 (exact)
        return np.array(a.astype(mx.float32))

    params = {"p": mx.array(init_float32(spec.problem, dtype)).astype(mdt)}
    rows = [(host(params["p"]), None, {})]
    for t in range(1, spec.steps + 1):
        g = grads[t % len(grads)](params["p"])
        params = opt.apply_gradients({"p": g}, params)
        mx.eval(params)
        p = project(spec.problem, host(params["p"]))
        params = {"p": mx.array(p).astype(mdt)}
        if hooks:
            state = hooks.state({k: host(v) for k, v in opt.state["p"].items()})
        else:
            state = {k: host(v) for k, v in opt.state["p"].items() if k in ("m", "v")}
            if "v" in state and spec.rule.name.startswith(("momentum", "nesterov", "gd")):
                # MLX's SGD keeps no buffer without momentum (its v stays 0): nothing to expose
                state = {"buf": state.pop("v")} if f.get("momentum", 0.0) > 0 else {}
        rows.append((p, host(g), state))
    trace = make_trace(spec, impl, {"mlx": mx.__version__ if hasattr(mx, "__version__")
                                    else _version("mlx")}, rows,
                       {"dtype": dtype} if hooks else {"bias_correction": impl == "mlx",
                                                       "dtype": dtype})
    return replace(trace, arithmetic=hooks.finish(trace.arithmetic)) if hooks else trace


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)
