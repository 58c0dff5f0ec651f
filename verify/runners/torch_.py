"""PyTorch's own optimizers (``torch.optim``) on the problem's autodiff gradients, in float32.

Modes: the for-loop path (``foreach=False``), ``foreach=True`` and ``fused=True`` (CPU). The
loss is built from the problem's SymPy expression with torch operations, so the gradient is
torch autograd's, not ours. Hyperparameters are passed as Python floats, as users do.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ..errors import InputError
from ..golden.arith import as_fraction, float32_text, float_format, round_to
from ..golden.run import optimizer_header, problem_header, status_of
from ..golden.spec import RunSpec
from ..golden.trace import Step, Trace
from ..symbolic.evaluate import compile_expr
from .framework import OpsArith, import_framework, require_counterpart
from .framework import texts as array_texts
from .hooks import Hooks

MODES = {"torch": "for-loop", "torch-foreach": "foreach", "torch-fused": "fused"}
# catalogue rule → (torch.optim class, keyword arguments from our hyperparameters)
SUPPORTED = ("gd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adam-l2", "amsgrad")
STATE_NAMES = {"exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "v_max",
               "momentum_buffer": "buf", "square_avg": "v"}


def _optimizer(torch: Any, rule: str, hyper: dict[str, str], params: list, mode: str):
    f = {k: float(v) for k, v in hyper.items()}
    flags = {"foreach": mode == "foreach"} | ({"fused": True} if mode == "fused" else {})
    if rule in ("gd", "momentum", "nesterov"):
        if mode == "fused":
            flags = {"fused": True}
        return torch.optim.SGD(params, lr=f["lr"], momentum=f.get("momentum", 0.0),
                               dampening=f.get("dampening", 0.0), nesterov=rule == "nesterov",
                               **flags)
    if rule == "rmsprop":
        if mode == "fused":
            raise InputError("torch has no fused RMSprop")
        return torch.optim.RMSprop(params, lr=f["lr"], alpha=f["alpha"], eps=f["eps"], **flags)
    betas = (f["beta1"], f["beta2"])
    if rule == "adamw":
        return torch.optim.AdamW(params, lr=f["lr"], betas=betas, eps=f["eps"],
                                 weight_decay=f["weight_decay"], **flags)
    return torch.optim.Adam(params, lr=f["lr"], betas=betas, eps=f["eps"],
                            weight_decay=f.get("weight_decay", 0.0) if rule == "adam-l2" else 0.0,
                            amsgrad=rule == "amsgrad", **flags)


def run_torch(spec: RunSpec, impl: str = "torch",
              progress: Callable[[int], None] | None = None, dtype: str = "float32",
              hooks: Hooks | None = None) -> Trace:
    """Run torch.optim on ``spec`` with parameters (and so gradients and state) in ``dtype``;
    ``hooks`` (an optimizer object's audit) build the optimizer and read its state instead."""
    (torch,) = import_framework(("torch",), "PyTorch is not installed (pip install 'adam-verify[torch]')")
    require_counterpart("torch.optim", spec, SUPPORTED, hooks)
    mode = MODES.get(impl, "object")
    problem = spec.problem
    tdt = getattr(torch, dtype)
    fmt = float_format(dtype)
    ar = OpsArith(torch, lambda x: torch.tensor(x, dtype=tdt), fmt)
    losses = [compile_expr(e, problem.symbols, ar) for e in (problem.phases or (problem.loss,))]
    hyper = spec.full_hyper()
    p = torch.tensor([float(round_to(as_fraction(v), fmt)) for v in problem.init],
                     dtype=tdt, requires_grad=True)
    opt = hooks.make([p]) if hooks else _optimizer(torch, spec.rule.name, hyper, [p], mode)
    if getattr(opt, "defaults", {}).get("differentiable"):
        # differentiable=True steps with autograd on, which an in-place update of a leaf refuses:
        # optimize a non-leaf copy (as torch's own tests do) and take gradients on a detached one
        p = p.detach().clone().requires_grad_(True).clone()
        opt = hooks.make([p]) if hooks else _optimizer(torch, spec.rule.name, hyper, [p], mode)
    full_loss = compile_expr(problem.loss, problem.symbols, ar)

    def values():
        return [p[i] for i in range(p.shape[0])]

    def texts(tensor):
        return tuple(float32_text(x) for x in tensor.detach().float().numpy())

    def loss_text():
        return float32_text(full_loss(values()).float().numpy())

    with torch.no_grad():
        steps = [Step(0, texts(p), loss=loss_text())]
    with warnings.catch_warnings():
        # a non-leaf parameter (differentiable=True) makes torch warn on every .grad access
        warnings.filterwarnings("ignore", message="The .grad attribute of a Tensor that is not")
        for t in range(1, spec.steps + 1):
            opt.zero_grad()
            at = p if p.is_leaf else p.detach().requires_grad_(True)
            loss = losses[t % len(losses)]([at[i] for i in range(at.shape[0])])
            if isinstance(loss, torch.Tensor) and loss.requires_grad:
                loss.backward()
            else:  # a constant phase: its gradient is 0
                at.grad = torch.zeros_like(at)
            if at is not p:
                p.grad = at.grad
            grad = texts(p.grad)
            opt.step()
            if problem.domain:
                with torch.no_grad():
                    for i, (lo, hi) in enumerate(problem.domain):
                        p[i].clamp_(float(lo), float(hi))
            if hooks:
                state = {k: array_texts(v) for k, v in hooks.state(opt, p).items()}
            else:
                state = {STATE_NAMES[k]: texts(v) for k, v in opt.state[p].items() if k in STATE_NAMES}
            with torch.no_grad():
                steps.append(Step(t, texts(p), grad, state, loss=loss_text()))
            if progress:
                progress(t)
    steps_t = tuple(steps)
    arithmetic = {"kind": dtype, "implementation": impl, "dtype": dtype,
                  "mode": mode, "versions": {"torch": str(torch.__version__)}}
    if hooks:
        arithmetic = hooks.finish(arithmetic)
    return Trace(problem_header(problem), optimizer_header(spec), arithmetic, steps_t,
                 status_of(steps_t, spec.steps))
