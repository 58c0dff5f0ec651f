"""Optimizer identities proved by SymPy for symbolic t, β, ε, g (not sampled).

Each ``Identity`` records the statement, whether SymPy proved it, and how. References:
Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015 (Algorithm 1, §2.1, §3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import mpmath
import sympy as sp

from .witness import is_zero

t, i = sp.symbols("t i", integer=True, positive=True)
b, b1, b2 = sp.symbols("beta beta_1 beta_2", positive=True)
alpha, eps, epshat = sp.symbols("alpha epsilon epsilon_hat", positive=True)
G = sp.IndexedBase("g", real=True)
g = sp.Symbol("g", real=True)


@dataclass(frozen=True)
class Identity:
    id: str
    title: str
    statement: str  # LaTeX
    proved: bool
    method: str
    details: dict = field(default_factory=dict)



def ema_closed_form() -> Identity:
    """m_t = (1−β) Σ_{i≤t} β^{t−i} g_i, by induction on t, and the weights sum to 1 − β^t."""
    summand = (1 - b) * b ** (t - i) * G[i]
    base = sp.Sum(summand.subs(t, 0), (i, 1, 0)).doit() == 0
    # S(t+1) = Σ_{i≤t} (1−β)β^{t+1−i} g_i + (1−β) g_{t+1}; compare with β S(t) + (1−β) g_{t+1}.
    inner = is_zero((1 - b) * b ** (t + 1 - i) - b * (1 - b) * b ** (t - i))
    last = is_zero(summand.subs(t, t + 1).subs(i, t + 1) - (1 - b) * G[t + 1])
    weights = sp.summation((1 - b) * b ** (t - i), (i, 1, t))
    weights = weights.args[-1][0] if isinstance(weights, sp.Piecewise) else weights
    weights_ok = is_zero(weights - (1 - b**t))
    return Identity(
        "ema_closed_form", "Exponential moving average in closed form",
        r"m_t = \beta m_{t-1} + (1-\beta) g_t,\ m_0 = 0 \iff m_t = (1-\beta)\sum_{i=1}^{t}"
        r"\beta^{t-i} g_i;\quad (1-\beta)\sum_{i=1}^{t}\beta^{t-i} = 1-\beta^t",
        base and inner and last and weights_ok,
        "induction on t: base case m_0 = 0 is the empty sum; the step peels the last term and "
        "SymPy simplifies the summand difference (1−β)β^{t+1−i} − β(1−β)β^{t−i} to 0; the "
        "weight sum by sympy.summation (β ≠ 1 branch)",
        {"base": base, "step_summand": inner, "step_last_term": last, "weights": str(weights)})


def bias_correction_exact() -> Identity:
    """For a constant gradient, m̂_t = g and v̂_t = g² exactly, for every t ≥ 1."""
    m_t = g * (1 - b1**t)  # the weights sum times the constant gradient
    v_t = g**2 * (1 - b2**t)
    ok = is_zero(m_t / (1 - b1**t) - g) and is_zero(v_t / (1 - b2**t) - g**2)
    return Identity(
        "bias_correction_exact", "Bias correction is exact for a constant gradient",
        r"g_i \equiv g \Rightarrow \hat m_t = \frac{m_t}{1-\beta_1^t} = g,\ "
        r"\hat v_t = \frac{v_t}{1-\beta_2^t} = g^2",
        ok, "the EMA weight sum 1 − β^t times g, divided by the same 1 − β^t")


def first_step() -> Identity:
    """Adam's first step is −α g/(|g| + ε) per coordinate, whatever β1, β2."""
    m1, v1 = (1 - b1) * g, (1 - b2) * g**2
    delta = -alpha * (m1 / (1 - b1)) / (sp.sqrt(v1 / (1 - b2)) + eps)
    ok = is_zero(delta - (-alpha * g / (sp.Abs(g) + eps)))
    w1 = Fraction(1, 100) * 44 / (44 + Fraction(1, 10**8))
    return Identity(
        "first_step", "Adam's first step",
        r"\Delta_1 = -\alpha\,\frac{\hat m_1}{\sqrt{\hat v_1}+\epsilon} = "
        r"-\alpha\,\frac{g_1}{|g_1|+\epsilon}",
        ok, "m̂_1 = g_1, v̂_1 = g_1² from m_0 = v_0 = 0; √(g²) = |g| for real g",
        {"article_w1": f"{sp.N(sp.Rational(w1.numerator, w1.denominator), 30)}",
         "why": "|Δ_1| = α·|g|/(|g|+ε) ≈ α: the article's w_1 = b_1 = 0.01"})


def eps_hat_ordering() -> Identity:
    """Kingma & Ba §2: α_t = α√(1−β2^t)/(1−β1^t), θ −= α_t m/(√v + ε̂) equals Algorithm 1
    exactly when ε̂ = ε√(1−β2^t)."""
    m, v = sp.symbols("m v", positive=True)
    c1, c2 = sp.symbols("c_1 c_2", positive=True)  # 1 − β1^t, 1 − β2^t: positive for t ≥ 1
    algo1 = alpha * (m / c1) / (sp.sqrt(v / c2) + eps)
    efficient = alpha * sp.sqrt(c2) / c1 * m / (sp.sqrt(v) + epshat)
    sol = sp.solve(sp.Eq(algo1, efficient), epshat)
    ok = len(sol) == 1 and is_zero(sol[0] - eps * sp.sqrt(c2))
    sol = [s.subs(c2, 1 - b2**t) for s in sol]
    return Identity(
        "eps_hat_ordering", "The ε̂ (efficient) ordering",
        r"\alpha_t\frac{m_t}{\sqrt{v_t}+\hat\epsilon} = \alpha\frac{\hat m_t}{\sqrt{\hat v_t}+"
        r"\epsilon},\ \alpha_t = \alpha\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} \iff "
        r"\hat\epsilon = \epsilon\sqrt{1-\beta_2^t}",
        ok, "sympy.solve for ε̂: the unique solution", {"solution": str(sol)})


def _ratio_sq(beta1: Fraction, beta2: Fraction, r: Fraction, n: int) -> Fraction:
    """(m̂_n/√v̂_n)² exactly (ε = 0) for the gradients g_i = r^{n−i}, i = 1..n, from the
    geometric sums m_n = (1−β1) Σ_k (β1 r)^k and v_n = (1−β2) Σ_k (β2 r²)^k, k < n."""
    def geometric(q: Fraction) -> Fraction:
        return Fraction(n) if q == 1 else (1 - q**n) / (1 - q)

    m = (1 - beta1) * geometric(beta1 * r)
    v = (1 - beta2) * geometric(beta2 * r * r)
    return (m / (1 - beta1**n)) ** 2 / (v / (1 - beta2**n))


def _sqrt_text(q: Fraction, digits: int = 12) -> str:
    ctx = mpmath.MPContext()
    ctx.dps = digits + 10
    return ctx.nstr(ctx.sqrt(ctx.mpf(q.numerator) / q.denominator), digits)


def step_bound() -> Identity:
    """Kingma & Ba §2.1's bound, attained by a spike (as t → ∞), and exceeded by a growing
    gradient sequence — so it is not a bound for every gradient sequence."""
    p1, p2 = sp.symbols("p_1 p_2", nonnegative=True)  # stand for β1^t, β2^t → 0 as t → ∞
    spike = (1 - b1) / (1 - p1) / sp.sqrt((1 - b2) / (1 - p2))  # |Δ|/α, ε = 0, spike at t
    limit = spike.subs({p1: 0, p2: 0})
    attained = is_zero(limit - (1 - b1) / sp.sqrt(1 - b2))
    spike_t1 = is_zero(spike.subs({p1: b1, p2: b2}) - 1)  # at t = 1 the spike gives exactly α
    cases = []
    for beta1, beta2 in ((Fraction(9, 10), Fraction(999, 1000)),
                         (Fraction(99, 100), Fraction(999, 1000))):
        steps = 2000
        bound_sq = ((1 - beta1) ** 2 / (1 - beta2) if (1 - beta1) ** 2 > (1 - beta2)
                    else Fraction(1))
        # Cauchy–Schwarz equality case: g_i ∝ w_i/u_i ∝ (β1/β2)^{t−i} (older gradients smaller)
        r_sq = _ratio_sq(beta1, beta2, beta1 / beta2, steps)
        # the spike: g_n = 1 after zeros, i.e. the limit r → 0 of the same sums
        spike_sq = ((1 - beta1) / (1 - beta1**steps)) ** 2 / ((1 - beta2) / (1 - beta2**steps))
        cases.append({"beta1": str(beta1), "beta2": str(beta2), "t": steps,
                      "bound": _sqrt_text(bound_sq), "spike": _sqrt_text(spike_sq),
                      "growing_sequence": _sqrt_text(r_sq),
                      "exceeds": r_sq > bound_sq, "spike_within": spike_sq <= bound_sq})
    ok = attained and spike_t1 and all(c["exceeds"] and c["spike_within"] for c in cases)
    return Identity(
        "step_bound", "Kingma & Ba §2.1 step bound: attained by a spike, exceeded by growing "
        "gradients (not a universal bound)",
        r"|\Delta_t| \le \alpha\frac{1-\beta_1}{\sqrt{1-\beta_2}} \text{ if } (1-\beta_1) > "
        r"\sqrt{1-\beta_2},\ \text{else } |\Delta_t| \le \alpha \quad (\epsilon = 0)",
        ok,
        "a single spike g_t ≠ 0 after zeros gives |Δ_t|/α = (1−β1)√(1−β2^t)/((1−β1^t)√(1−β2)),"
        " which tends to the bound as t → ∞ (exactly α at t = 1); the gradients g_i = "
        "(β1/β2)^{t−i} (the Cauchy–Schwarz extremal sequence) exceed the bound, computed in "
        "exact rationals for t = 2000 (|Δ|/α values below, ε = 0)",
        {"spike_limit": str(limit), "cases": cases})


def _branch(e: sp.Expr) -> sp.Expr:
    """The generic (β ≠ 1) branch of every piecewise part of a ``sympy.summation`` result."""
    return e.replace(lambda x: isinstance(x, sp.Piecewise), lambda x: x.args[-1][0])


def bias_correction_drift() -> Identity:
    """Without stationarity the correction is not exact: for gradients whose mean drifts
    linearly, E[g_i] = μ + δi, the corrected mean lags, E[m̂_t] − E[g_t] ≠ 0 (Kingma & Ba §3:
    their ζ vanishes only for stationary moments)."""
    mu, delta = sp.symbols("mu delta", real=True)
    w0 = _branch(sp.summation(b ** (t - i), (i, 1, t)))
    w1 = _branch(sp.summation(i * b ** (t - i), (i, 1, t)))
    bias = sp.factor(sp.cancel((1 - b) * (mu * w0 + delta * w1) / (1 - b**t) - (mu + delta * t)))
    at2 = sp.factor(bias.subs(t, 2))
    ok = is_zero(at2 + delta * b / (1 + b))
    return Identity(
        "bias_correction_drift", "Bias correction is not exact when the gradient's mean drifts",
        r"\mathbb{E}[g_i] = \mu + \delta i \Rightarrow \mathbb{E}[\hat m_t] - \mathbb{E}[g_t] = "
        r"\delta\,\frac{t\beta^t(1-\beta) + \beta^{t+1} - \beta}{(1-\beta)(1-\beta^t)} \ne 0",
        ok, "sympy.summation of the EMA weights times μ + δi, divided by 1 − β^t; at t = 2 the "
        "bias is −δβ/(1+β) ≠ 0, and as t → ∞ (tβ^t → 0) it tends to −δβ/(1−β); the same "
        "weights act on E[g_i²] in v̂, so v̂ is unbiased only for a stationary second moment",
        {"bias": str(bias), "t2": str(at2), "why": "the correction divides by the weight sum, "
         "which makes a weighted mean of past expectations, not the current one"})


def _scale_free_bound(beta1: sp.Expr, beta2: sp.Expr, n: sp.Expr) -> sp.Expr:
    """sup |Δ_n|/α over gradient sequences (ε = 0): Cauchy–Schwarz on m_n = Σ w_i g_i with
    v_n = Σ u_i g_i², equality at g_i ∝ w_i/u_i ∝ (β1/β2)^{n−i}."""
    q = beta1**2 / beta2
    s = n if q == 1 else (1 - q**n) / (1 - q)
    return (1 - beta1) / (1 - beta1**n) * sp.sqrt((1 - beta2**n) / (1 - beta2) * s)


def _scale_free_bound_sq(beta1: Fraction, beta2: Fraction, n: int) -> Fraction:
    """The same bound squared, in exact rationals (no square root of a huge rational)."""
    q = beta1**2 / beta2
    s = Fraction(n) if q == 1 else (1 - q**n) / (1 - q)
    return ((1 - beta1) / (1 - beta1**n)) ** 2 * (1 - beta2**n) / (1 - beta2) * s


def _moments(gs: list[sp.Expr]) -> tuple[sp.Expr, sp.Expr]:
    """Bias-corrected m̂_n, v̂_n after the gradients ``gs`` (symbolic β1, β2)."""
    n = len(gs)
    m = sum((1 - b1) * b1 ** (n - k) * x for k, x in enumerate(gs, 1)) / (1 - b1**n)
    v = sum((1 - b2) * b2 ** (n - k) * x**2 for k, x in enumerate(gs, 1)) / (1 - b2**n)
    return m, v


def step_scale_free() -> Identity:
    """Adam's step does not grow with the gradients: with ε = 0 it is unchanged when every
    gradient is scaled by c > 0, and it is bounded by a constant times α for every gradient
    sequence, uniformly in t, exactly when β1² < β2 (the defaults: about 7.27α)."""
    g1, g2, c = sp.symbols("g_1 g_2 c", positive=True)
    m, v = _moments([g1, g2])
    mc, vc = _moments([c * g1, c * g2])
    homogeneous = is_zero(mc / sp.sqrt(vc) - m / sp.sqrt(v))
    r = b1 / b2  # the extremal sequence attains the closed form (checked exactly at t = 3)
    m3, v3 = _moments([r**2, r, sp.Integer(1)])
    attained = is_zero(m3**2 / v3 - _scale_free_bound(b1, b2, sp.Integer(3)) ** 2)
    d1, d2 = Fraction(9, 10), Fraction(999, 1000)
    # for β1²/β2 < 1 every power β1^t, β2^t, (β1²/β2)^t in the bound tends to 0 as t → ∞
    q = d1**2 / d2
    limit_sq = (1 - d1) ** 2 / ((1 - d2) * (1 - q))
    ok = homogeneous and attained and q < 1
    return Identity(
        "step_scale_free", "Adam's step is bounded independently of the gradients' size "
        "when β1² < β2",
        r"\epsilon = 0:\ \Delta_t(c\,g) = \Delta_t(g);\ \ \frac{|\Delta_t|}{\alpha} \le "
        r"\frac{1-\beta_1}{1-\beta_1^t}\sqrt{\frac{1-\beta_2^t}{1-\beta_2}\sum_{k<t}"
        r"\Big(\frac{\beta_1^2}{\beta_2}\Big)^k} \to "
        r"\frac{1-\beta_1}{\sqrt{(1-\beta_2)(1-\beta_1^2/\beta_2)}}",
        ok, "homogeneity: the bias-corrected moments after two steps on symbols, gradients "
        "scaled by c, SymPy simplifies the difference of m̂/√v̂ to 0; the bound: Cauchy–Schwarz "
        "on m_t = Σ w_i g_i against v_t = Σ u_i g_i², attained by g_i = (β1/β2)^{t−i} "
        "(checked exactly at t = 3); for β1²/β2 < 1 every power of t in it vanishes as t → ∞, "
        "which leaves the limit (value at β1 = 0.9, β2 = 0.999 below)",
        {"limit_at_defaults": _sqrt_text(limit_sq),
         "why": "a bound for every t exists when β1²/β2 < 1; the defaults satisfy it"})


def step_unbounded() -> Identity:
    """When β1² > β2 no bound holds: the extremal gradients make |Δ_t|/α grow without bound."""
    d1, d2 = Fraction(9, 10), Fraction(4, 5)  # β1² = 0.81 > β2 = 0.8
    squares = {n: _scale_free_bound_sq(Fraction(9, 10), Fraction(4, 5), n)
               for n in (10, 100, 1000)}
    grows = squares[10] < squares[100] < squares[1000]
    values = {n: _sqrt_text(sq) for n, sq in squares.items()}
    return Identity(
        "step_unbounded", "Without β1² < β2 Adam's step has no gradient-independent bound",
        r"\beta_1^2 > \beta_2 \Rightarrow \sup_g \frac{|\Delta_t|}{\alpha} \to \infty",
        grows and d1**2 > d2,
        "the Cauchy–Schwarz extremal sequence g_i = (β1/β2)^{t−i} for β1 = 0.9, β2 = 0.8 "
        "attains (|Δ_t|/α)² = ((1−β1)/(1−β1^t))²(1−β2^t)/(1−β2)·Σ_{k<t} q^k with q = β1²/β2 = "
        "81/80 > 1, so the sum exceeds t and the step grows without bound; exact values at "
        "t = 10, 100, 1000 below",
        {"values": {str(k): str(val) for k, val in values.items()}})


@lru_cache(maxsize=1)
def all_identities() -> tuple[Identity, ...]:
    return (ema_closed_form(), bias_correction_exact(), first_step(), eps_hat_ordering(),
            step_bound(), bias_correction_drift(), step_scale_free(), step_unbounded())
