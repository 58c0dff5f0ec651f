"""Optimizer update rules, written once and run on any number backend (mpmath, float32, ...).

Every rule here is coordinate-wise, so one ``update`` serves a scalar (high precision, one
coordinate at a time) and a NumPy array (float32, all coordinates at once). A rule is an
``init``/``update`` pair in the style of optax's ``scale_by_adam``: ``update`` takes the
gradient, the state, the current parameter and the 1-based step ``t`` and returns the parameter
change, the new state and auxiliary values (e.g. bias-corrected moments) worth recording.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

State = dict[str, Any]
Update = tuple[Any, State, dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    """A named update rule with its hyperparameters (decimal-string defaults and valid ranges)."""

    name: str
    defaults: Mapping[str, str]
    init: Callable[[Any, Any], State]
    update: Callable[[Any, State, Any, int, Mapping[str, Any], Any], Update]
    state_names: tuple[str, ...] = ()
    aux_names: tuple[str, ...] = ()
    doc: str = ""
    variant: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, str] = field(default_factory=dict)  # e.g. {"beta1": "[0,1)"}
    family: str = ""  # the constructor that built it (adam, rmsprop, momentum): its slips


@dataclass(frozen=True)
class Slips:
    """Plausible implementation slips, each one term of a rule done wrong — the hypotheses
    forensics tests (``verify/auditing/forensics.py``). The defaults are the rule itself."""

    m_beta: str = "beta1"  # the β m averages with
    v_beta: str = "beta2"
    bc1_beta: str = "beta1"  # the β of m's bias correction
    bc2_beta: str = "beta2"
    bc1_shift: int = 0  # t + shift in m's bias correction
    bc2_shift: int = 0
    corrected: bool | str = True  # False: no correction; "m" / "v": only that moment's
    v_of: str = "square"  # "abs": |g| averaged instead of g²
    root: bool = True  # False: the square root is missing
    eps_twice: bool = False
    gain: bool | str = True  # False: m = β m + g (no 1 − β); momentum: "1-d", "d" or "1"
    skip_zero: bool = False  # moments not updated where g = 0 (lazy updates)
    swap_decay: bool = False  # RMSProp: (1 − ρ) v + ρ g²
    decay: str | None = None  # AdamW: "no-lr", "after" (on the updated θ), "twice"
    max_of: str = "running"  # AMSGrad: "last" keeps max(v_{t−1}, v_t), not the running max
    stale: str = ""  # the step uses the previous value of this state ("m", "v", "buf"): a
    #                  moment read before its update (an ordering slip)


NO_SLIPS = Slips()
MOMENTUM_SLIPS = Slips(gain="1-d")


UNIT = "[0,1)"


def _no_state(x, ar):
    return {}


def _gd_update(g, state, x, t, hp, ar):
    """θ ← θ − α·g."""
    return -(hp["lr"] * g), state, {}


GD = Rule("gd", {"lr": "0.01"}, _no_state, _gd_update, doc="θ_t = θ_{t−1} − α g_t",
          ranges={"lr": "(0,inf)"})


def momentum(name: str, *, nesterov: bool = False, first: str = "g",
             slips: Slips = MOMENTUM_SLIPS) -> Rule:
    """Heavy-ball momentum with dampening d: b_t = μ b_{t−1} + (1 − d) g_t, θ −= α b_t
    (Nesterov: θ −= α (g_t + μ b_t)). ``first`` is the first buffer: ``"g"`` sets b_1 = g_1
    as PyTorch does; ``"zero"`` starts from b_0 = 0, as MLX does (they differ when d > 0)."""

    def init(x, ar):
        return {"buf": ar.zeros_like(x)}

    def update(g, state, x, t, hp, ar):
        mu = hp["momentum"]
        d = hp["dampening"]
        gain = {"1-d": lambda: ar.complement(d), "d": lambda: d, "1": lambda: ar.one}[slips.gain]()
        if first == "g" and t == 1:
            buf = g
        else:
            buf = mu * state["buf"] + gain * g
        used = state["buf"] if slips.stale == "buf" else buf  # the old buffer: an ordering slip
        step = g + mu * used if nesterov else used
        return -(hp["lr"] * step), {"buf": buf}, {}

    return Rule(name, {"lr": "0.01", "momentum": "0.9", "dampening": "0"}, init, update,
                ("buf",), (), momentum.__doc__ or "",
                {"nesterov": nesterov, "first_buffer": first},
                {"lr": "(0,inf)", "momentum": UNIT, "dampening": "[0,1]"}, "momentum")


def rmsprop(name: str, *, eps_inside: bool = False, slips: Slips = NO_SLIPS) -> Rule:
    """RMSProp (Tieleman & Hinton 2012): v_t = ρ v_{t−1} + (1 − ρ) g², θ −= α g/(√v_t + ε)
    (``eps_inside``: α g/√(v_t + ε), as Keras does)."""

    def init(x, ar):
        return {"v": ar.zeros_like(x)}

    def update(g, state, x, t, hp, ar):
        rho = hp["alpha"]
        keep, gain = (ar.complement(rho), rho) if slips.swap_decay else (rho, ar.complement(rho))
        v = keep * state["v"] + gain * _second(g, slips, ar)
        denom = _root(v + _eps(hp, slips), slips, ar) if eps_inside else \
            _root(v, slips, ar) + _eps(hp, slips)
        return -(hp["lr"] * g / denom), {"v": v}, {}

    return Rule(name, {"lr": "0.01", "alpha": "0.99", "eps": "1e-8"}, init, update, ("v",), (),
                rmsprop.__doc__ or "", {"eps": "inside" if eps_inside else "outside"},
                {"lr": "(0,inf)", "alpha": UNIT, "eps": "[0,inf)"}, "rmsprop")


def adam(name: str, *, bias_correction: bool = True, eps: str = "outside",
         decay: str | None = None, amsgrad: str | None = None, slips: Slips = NO_SLIPS) -> Rule:
    """Adam, Kingma & Ba (2015) Algorithm 1, and its variants:

    m_t = β1 m_{t−1} + (1 − β1) g;  v_t = β2 v_{t−1} + (1 − β2) g²;
    m̂_t = m_t/(1 − β1^t);  v̂_t = v_t/(1 − β2^t);  θ_t = θ_{t−1} − α m̂_t/(√v̂_t + ε).

    ``bias_correction=False``: m̂ = m, v̂ = v. ``eps="hat"``: the paper's efficient ordering
    α_t = α√(1−β2^t)/(1−β1^t), θ −= α_t m/(√v + ε). ``eps="root"``: θ −= α m̂/(√(v̂ + ε_root) + ε)
    (optax's eps_root). ``decay="l2"``: g ← g + λθ before the moments; ``decay="decoupled"``
    (AdamW, Loshchilov & Hutter 2019): θ −= α(m̂/(√v̂ + ε) + λθ). ``amsgrad="v"``: the
    denominator uses max_{s≤t} v_s (PyTorch), ``"v_hat"``: max_{s≤t} v̂_s (bias-corrected first).
    ``slips`` (forensics only): the same rule with one term done wrong.
    """
    defaults = {"lr": "0.001", "beta1": "0.9", "beta2": "0.999", "eps": "1e-8"}
    if eps == "root":
        defaults |= {"eps": "0", "eps_root": "1e-8"}
    if decay:
        defaults["weight_decay"] = "0.01"
    state_names = ("m", "v") + (("v_max",) if amsgrad else ())
    sl = slips

    def init(x, ar):
        z = {"m": ar.zeros_like(x), "v": ar.zeros_like(x)}
        return z | ({"v_max": ar.zeros_like(x)} if amsgrad else {})

    # every choice below is fixed when the rule is made; the update only does arithmetic
    m_beta, v_beta, gain, skip_zero = sl.m_beta, sl.v_beta, sl.gain, sl.skip_zero
    corrected = bias_correction and sl.corrected
    fix_m, fix_v = corrected in (True, "m"), corrected in (True, "v")
    bc1_beta, bc1_shift, bc2_beta, bc2_shift = sl.bc1_beta, sl.bc1_shift, sl.bc2_beta, sl.bc2_shift
    running_max = sl.max_of == "running"

    def update(g, state, x, t, hp, ar):
        if decay == "l2":
            g = g + hp["weight_decay"] * x
        b1, b2 = hp[m_beta], hp[v_beta]
        m = b1 * state["m"] + (ar.complement(b1) * g if gain else g)
        v = b2 * state["v"] + ar.complement(b2) * _second(g, sl, ar)
        if skip_zero:  # lazy updates: moments kept where the gradient is exactly 0
            m, v = ar.where_zero(g, state["m"], m), ar.where_zero(g, state["v"], v)
        new = {"m": m, "v": v}
        bc1 = ar.one_minus_pow(hp[bc1_beta], t + bc1_shift) if fix_m else ar.one
        bc2 = ar.one_minus_pow(hp[bc2_beta], t + bc2_shift) if fix_v else ar.one
        # the step reads a moment before its update (the previous one); the state stays fresh
        m_read = state["m"] if sl.stale == "m" else m
        v_read = state["v"] if sl.stale == "v" else v
        m_hat = m_read / bc1 if fix_m else m_read
        v_hat = v_read / bc2 if fix_v else v_read
        v_den = v_hat
        if amsgrad == "v":
            new["v_max"] = ar.maximum(state["v_max"] if running_max else state["v"], v)
            v_den = new["v_max"] / bc2 if fix_v else new["v_max"]
        elif amsgrad == "v_hat":
            new["v_max"] = ar.maximum(state["v_max"], v_hat)
            v_den = new["v_max"]
        if eps == "hat":
            raw_v = new["v_max"] if amsgrad == "v" else v
            step = hp["lr"] * ar.sqrt(bc2) / bc1 * m / (_root(raw_v, sl, ar) + _eps(hp, sl))
        elif eps == "root":
            inner = v_den + hp["eps_root"]
            step = hp["lr"] * m_hat / (_root(inner, sl, ar) + hp["eps"])
        else:
            step = hp["lr"] * m_hat / (_root(v_den, sl, ar) + _eps(hp, sl))
        if decay == "decoupled":
            step = step + _decay(hp, x, sl, step)
        return -step, new, {"m_hat": m_hat, "v_hat": v_hat}

    ranges = {"lr": "(0,inf)", "beta1": UNIT, "beta2": UNIT, "eps": "[0,inf)",
              "eps_root": "[0,inf)", "weight_decay": "[0,inf)"}
    variant = {"bias_correction": bias_correction, "eps": eps, "decay": decay, "amsgrad": amsgrad}
    return Rule(name, defaults, init, update, state_names, ("m_hat", "v_hat"), adam.__doc__ or "",
                {k: v for k, v in variant.items() if v not in (None, True, "outside")}, ranges,
                "adam")


def _second(g, sl: Slips, ar):
    """What the second moment averages: g², or |g| for the slip that forgets to square."""
    return ar.abs(g) if sl.v_of == "abs" else g * g


def _root(z, sl: Slips, ar):
    """√z, or z itself for the slip that forgets the root."""
    return ar.sqrt(z) if sl.root else z


def _eps(hp, sl: Slips):
    return hp["eps"] + hp["eps"] if sl.eps_twice else hp["eps"]


def _decay(hp, x, sl: Slips, step):
    """Decoupled weight decay λ·α·θ, or a slip: without α, on the updated θ, or twice."""
    if sl.decay == "no-lr":
        return hp["weight_decay"] * x
    if sl.decay == "after":
        return hp["lr"] * hp["weight_decay"] * (x - step)
    term = hp["lr"] * hp["weight_decay"] * x
    return term + term if sl.decay == "twice" else term


def slipped(rule: Rule, name: str, *, lr_power: int = 1, sign: int = 1, reset_every: int = 0,
            fixed: Mapping[str, str] | None = None, negate_grad: bool = False,
            reset_at: int = 0, lazy: bool = False, counter: tuple[str, int] | None = None,
            clip_update: bool = False) -> Rule:
    """``rule`` with a slip that any rule can have: the step size applied ``lr_power`` times,
    the step's sign flipped, the state zeroed after every ``reset_every``-th step or once after
    step ``reset_at`` (a state reset or cleared), hyperparameters ``fixed`` whatever the caller
    configures (hard-coded defaults), the gradient negated before the update (what
    ``maximize=True`` does), ``lazy``: θ and the state left alone where the gradient is exactly
    0 (sparse-style lazy updates), ``counter``: the step count the rule sees ``("twice", 0)``
    advanced twice per step or ``("cap", k)`` stuck at k from step k on, ``clip_update``: the
    step clipped to ±lr (a 'safety' clamp)."""

    def update(g, state, x, t, hp, ar):
        if negate_grad:
            g = -g
        if fixed:
            hp = dict(hp) | {k: ar.num(v) for k, v in fixed.items()}
        if lr_power != 1:
            lr = hp["lr"]
            for _ in range(lr_power - 1):
                lr = lr * hp["lr"]
            hp = dict(hp, lr=lr)
        seen = t if counter is None else (2 * t if counter[0] == "twice" else min(t, counter[1]))
        delta, new, aux = rule.update(g, state, x, seen, hp, ar)
        if clip_update:
            delta = -ar.maximum(-ar.maximum(delta, -hp["lr"]), -hp["lr"])
        if lazy:
            delta = ar.where_zero(g, ar.zeros_like(x), delta)
            new = {k: ar.where_zero(g, state[k], v) for k, v in new.items()}
        if (reset_every and t % reset_every == 0) or (reset_at and t == reset_at):
            new = {k: ar.zeros_like(v) for k, v in new.items()}
        return (-delta if sign < 0 else delta), new, aux

    return Rule(name, rule.defaults, rule.init, update, rule.state_names, rule.aux_names,
                rule.doc, rule.variant, rule.ranges, rule.family)


ADAM = adam("adam")


def _adamax_init(x, ar):
    return {"m": ar.zeros_like(x), "u": ar.zeros_like(x)}


def _adamax_update(g, state, x, t, hp, ar):
    """AdaMax (Kingma & Ba 2015, Algorithm 2): u_t = max(β2 u_{t−1}, |g|),
    θ −= (α/(1 − β1^t)) m_t/u_t. No ε: a coordinate whose gradients have all been 0 divides 0
    by 0."""
    b1 = hp["beta1"]
    m = b1 * state["m"] + ar.complement(b1) * g
    u = ar.maximum(hp["beta2"] * state["u"], ar.abs(g))
    return -(hp["lr"] / ar.one_minus_pow(b1, t) * m / u), {"m": m, "u": u}, {}


ADAMAX = Rule("adamax", {"lr": "0.002", "beta1": "0.9", "beta2": "0.999"}, _adamax_init,
              _adamax_update, ("m", "u"), (), _adamax_update.__doc__ or "", {},
              {"lr": "(0,inf)", "beta1": UNIT, "beta2": UNIT})

RULES: dict[str, Rule] = {r.name: r for r in (
    GD,
    momentum("momentum"),
    momentum("momentum-zero", first="zero"),
    momentum("nesterov", nesterov=True),
    momentum("nesterov-zero", nesterov=True, first="zero"),
    rmsprop("rmsprop"),
    rmsprop("rmsprop-epsinside", eps_inside=True),
    ADAM,
    adam("adam-nobias", bias_correction=False),
    adam("adam-epshat", eps="hat"),
    adam("adam-epsroot", eps="root"),
    adam("adamw", decay="decoupled"),
    adam("adamw-nobias", bias_correction=False, decay="decoupled"),
    adam("adamw-epshat", eps="hat", decay="decoupled"),
    adam("amsgrad-epshat", eps="hat", amsgrad="v"),
    adam("adam-l2", decay="l2"),
    adam("amsgrad", amsgrad="v"),
    adam("amsgrad-vhat", amsgrad="v_hat"),
    adam("amsgrad-nobias", bias_correction=False, amsgrad="v"),
    ADAMAX,
)}


def _constant(lr, t, ar):
    return lr


def _inv_sqrt(lr, t, ar):
    return lr / ar.sqrt(ar.num(t))


SCHEDULES: dict[str, Callable[[Any, int, Any], Any]] = {"constant": _constant,
                                                         "inv-sqrt": _inv_sqrt}


@dataclass(slots=True)
class Record:
    """One step of a run, in backend numbers: params after step t, the gradient used, state.
    Not frozen (a frozen dataclass costs a setattr call per field, and a golden makes one record
    per step and precision), but never changed once recorded."""

    t: int
    params: list[Any]
    grad: list[Any] | None = None
    state: dict[str, list[Any]] = field(default_factory=dict)
    aux: dict[str, list[Any]] = field(default_factory=dict)


def iterate(rule: Rule, hyper: Mapping[str, Any], init: Sequence[Any],
            grad_fn: Callable[[list[Any], int], list[Any]], steps: int, ar: Any,
            on_step: Callable[[int], None] | None = None,
            project: Callable[[Any, int], Any] | None = None,
            schedule: str = "constant", flat: bool = False) -> list[Any]:
    """Run ``rule`` for ``steps`` steps from ``init``; record every step (t = 0 is the start)
    as a ``Record``.

    ``grad_fn(params, t)`` gives the gradient used at step t; ``project(x, i)``, if given, maps
    coordinate i back onto its feasible interval after each step (projected methods).
    Stops early (after recording it) at the first step whose values are not finite.
    ``flat``: record each step as one list instead — the parameters, then (from step 1) the
    gradient, each state value of ``rule.state_names`` over all coordinates, and likewise each
    of ``rule.aux_names``: what a golden certifies, without building a record of dictionaries.
    """
    params = list(init)
    if ar.vectorized:
        x = ar.vector(params)
        state = rule.init(x, ar)
    else:
        state = [rule.init(p, ar) for p in params]
    records: list[Any] = [list(params) if flat else Record(0, list(params))]
    update, is_finite = rule.update, ar.is_finite
    state_names = [(k, itemgetter(k)) for k in rule.state_names]
    aux_names = [(k, itemgetter(k)) for k in rule.aux_names]
    for t in range(1, steps + 1):
        grad = list(grad_fn(params, t))
        hp_t = hyper if schedule == "constant" else dict(
            hyper, lr=SCHEDULES[schedule](hyper["lr"], t, ar))
        if ar.vectorized:
            g = ar.vector(grad)
            delta, state, aux = update(g, state, x, t, hp_t, ar)
            x = x + delta
            if project:
                x = project(x, None)
            params = list(x)
            if flat:
                row = params + grad
                for k, _ in state_names:
                    row += list(state[k])
                for k, _ in aux_names:
                    row += list(aux[k])
                records.append(row)
            else:
                records.append(Record(t, params, grad, {k: list(v) for k, v in state.items()},
                                      {k: list(v) for k, v in aux.items()}))
        else:
            old_state, state, moved, auxes = state, [], [], []  # one loop, no comprehensions
            for gi, si, xi in zip(grad, old_state, params, strict=True):
                d, s, a = update(gi, si, xi, t, hp_t, ar)
                moved.append(xi + d)
                state.append(s)
                auxes.append(a)
            params = [project(xi, k) for k, xi in enumerate(moved)] if project else moved
            if flat:
                row = params + grad
                for _, get in state_names:
                    row += map(get, state)
                for _, get in aux_names:
                    row += map(get, auxes)
                records.append(row)
            else:
                state_out, aux_out = {}, {}
                for k, get in state_names:
                    state_out[k] = list(map(get, state))
                for k, get in aux_names:
                    aux_out[k] = list(map(get, auxes))
                records.append(Record(t, list(params), grad, state_out, aux_out))
        if on_step:
            on_step(t)
        if not (all(map(is_finite, params)) and all(map(is_finite, grad))):
            break
    return records
