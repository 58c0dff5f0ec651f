"""Smoke test for calibration set A.

Imports every implementation listed in manifest.toml, runs each for 30 steps on a tiny
quadratic (NumPy step functions on float32 arrays; torch optimizers on a torch Parameter)
and checks that nothing raises and that the parameters come back as float32 of the right
shape. Each NumPy function is run twice: hyperparameters as Python floats and as
np.float64 scalars. Also checks that the manifest and the modules list the same names.
Exit status 0 when everything passes.
"""
import inspect
import os
import sys
import tomllib
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy_impls  # noqa: E402
import torch_impls  # noqa: E402

TERMS = {"m", "v", "v_max", "buf", "bias_correction_m", "bias_correction_v", "eps", "lr",
         "step_counter", "weight_decay", "state_reset", "gradient", "update", "precision",
         "two_bugs", "none"}
OPTIMIZERS = {"adam", "adamw", "amsgrad", "rmsprop", "momentum", "nesterov"}
STEPS = 30

A = np.array([1.0, 4.0, 0.25], dtype=np.float32)   # curvatures
C = np.array([0.5, -1.0, 2.0], dtype=np.float32)   # minimum
X0 = np.array([2.0, 1.0, -1.0], dtype=np.float32)


def hyper_for(optimizer):
    if optimizer in ("adam", "adamw", "amsgrad"):
        h = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8)
        if optimizer == "adamw":
            h["weight_decay"] = 0.1
        return h
    if optimizer == "rmsprop":
        return dict(lr=1e-2, alpha=0.99, eps=1e-8)
    return dict(lr=1e-2, momentum=0.9, dampening=0.1 if optimizer == "momentum" else 0.0)


def run_numpy(fn, optimizer, scalar_type):
    hyper = {k: scalar_type(v) for k, v in hyper_for(optimizer).items()}
    p = X0.copy()
    state = {}
    for t in range(1, STEPS + 1):
        grad = (A * (p - C)).astype(np.float32)
        p, state = fn(p.copy(), grad, state, t, dict(hyper))
        if not isinstance(p, np.ndarray):
            return f"step {t}: returned {type(p).__name__}, not an ndarray"
        if p.dtype != np.float32 or p.shape != X0.shape:
            return f"step {t}: returned {p.dtype} {p.shape}, expected float32 {X0.shape}"
        if not isinstance(state, dict):
            return f"step {t}: state is {type(state).__name__}, not a dict"
    return None


def run_torch(cls, optimizer):
    h = hyper_for(optimizer)
    kwargs = dict(lr=h["lr"])
    if "beta1" in h:
        kwargs["betas"] = (h["beta1"], h["beta2"])
    for k in ("eps", "weight_decay", "momentum", "dampening", "alpha"):
        if k in h:
            kwargs[k] = h[k]
    param = torch.nn.Parameter(torch.tensor(X0))
    a, c = torch.tensor(A), torch.tensor(C)
    opt = cls([param], **kwargs)
    for t in range(1, STEPS + 1):
        opt.zero_grad()
        loss = 0.5 * (a * (param - c) ** 2).sum()
        loss.backward()
        opt.step()
        if param.dtype != torch.float32 or tuple(param.shape) != X0.shape:
            return f"step {t}: parameter is {param.dtype} {tuple(param.shape)}"
    return None


def main():
    with open(os.path.join(HERE, "manifest.toml"), "rb") as f:
        entries = tomllib.load(f)["impl"]
    modules = {"numpy_impls": numpy_impls, "torch_impls": torch_impls}
    problems = []

    listed = {(e["module"], e["name"]) for e in entries}
    if len(listed) != len(entries):
        problems.append("manifest: duplicate names")
    defined = {("numpy_impls", n) for n, o in inspect.getmembers(numpy_impls, inspect.isfunction)
               if o.__module__ == "numpy_impls" and not n.startswith("_")}
    defined |= {("torch_impls", n) for n, o in inspect.getmembers(torch_impls, inspect.isclass)
                if o.__module__ == "torch_impls"}
    for m, n in sorted(defined - listed):
        problems.append(f"{m}.{n}: defined but not in the manifest")
    for m, n in sorted(listed - defined):
        problems.append(f"{m}.{n}: in the manifest but not defined")

    for e in entries:
        name = f"{e['module']}.{e['name']}"
        if e["optimizer"] not in OPTIMIZERS:
            problems.append(f"{name}: unknown optimizer {e['optimizer']!r}")
        if e["term"] not in TERMS:
            problems.append(f"{name}: unknown term {e['term']!r}")
        if e["correct"] != (e["term"] == "none"):
            problems.append(f"{name}: correct={e['correct']} but term={e['term']!r}")
        if not e["correct"] and not e["expect"]:
            problems.append(f"{name}: broken but no expect phrases")
        if any(p != p.lower() for p in e["expect"]):
            problems.append(f"{name}: expect phrases must be lowercase")
        for key in ("condition", "bug"):
            if not e.get(key):
                problems.append(f"{name}: missing {key}")

        obj = getattr(modules[e["module"]], e["name"], None)
        if obj is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                if e["module"] == "numpy_impls":
                    for scalar_type in (float, np.float64):
                        err = run_numpy(obj, e["optimizer"], scalar_type)
                        if err:
                            problems.append(f"{name} ({scalar_type.__name__} hyper): {err}")
                else:
                    err = run_torch(obj, e["optimizer"])
                    if err:
                        problems.append(f"{name}: {err}")
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{name}: raised {type(exc).__name__}: {exc}")

    n_ok = sum(e["correct"] for e in entries)
    print(f"{len(entries)} implementations ({n_ok} correct, {len(entries) - n_ok} broken), "
          f"{STEPS} steps each")
    if problems:
        print("FAILED:")
        for p in problems:
            print("  " + p)
        return 1
    print("all ran without raising and returned float32 of the right shape")
    return 0


if __name__ == "__main__":
    sys.exit(main())
