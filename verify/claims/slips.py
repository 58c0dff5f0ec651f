"""Where a wrong printed number came from: a search over a small grammar of plausible slips.

A slip is one departure from the correct computation of a worked example's number: an input
taken from the wrong place (the other optimizer's table, the previous step, the exact value
instead of the document's own printed one), or a formula applied wrongly (β1 and β2 swapped,
β and 1 − β swapped, the bias correction with the wrong step index or left out or done twice,
a power 1 − βᵗ rounded to a few digits, the square root left out, the gradient's factor 2/N
dropped). Every combination of at most two slips is evaluated; the simplest that reproduces the
printed number (within half a unit of its last printed digit) explains it, and the report says
how many digits it reproduces. A number no combination reproduces is *unexplained*.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MAX_SLIPS = 2


@dataclass(frozen=True)
class Slip:
    """The explanation found for one number (or the closest miss)."""

    slips: tuple[str, ...]
    value: float
    digits: int  # significant digits of the printed number the candidate reproduces
    printed_digits: int
    reproduces: bool

    def text(self) -> str:
        what = " and ".join(self.slips) if self.slips else "the correct computation"
        if self.reproduces:
            return (f"reproduced by {what} ({_g(self.value)}; all {self.printed_digits} "
                    "printed digits)")
        return (f"unexplained: no combination of up to {MAX_SLIPS} slips reproduces it (closest: "
                f"{what}, {_g(self.value)}, {self.digits} of {self.printed_digits} digits)")


def _g(x: float) -> str:
    return f"{x:.8g}"


def significant(text: str) -> int:
    """Significant digits printed: "-28.16" → 4, "0.0196" → 3, "1539" → 4."""
    mantissa = text.strip().lstrip("+-").lower().partition("e")[0].replace(".", "")
    return max(1, len(mantissa.lstrip("0")))


def matching_digits(value: float, printed: str) -> int:
    """How many leading significant digits of ``printed`` the value reproduces, written to the
    same decimal place ("1678.3" against "1677.5": 3)."""
    if not math.isfinite(value):
        return 0
    place = _last_place(printed)
    mine = f"{value:.{max(0, -place)}f}" if place <= 0 else f"{round(value, place):.0f}"
    if (value < 0) != printed.strip().startswith("-"):
        return 0

    def digits(text: str) -> str:
        return text.strip().lstrip("+-").lower().partition("e")[0].replace(".", "").lstrip("0")

    a, b = digits(mine), digits(printed)
    if len(a) != len(b):
        return 0
    return next((k for k, (x, y) in enumerate(zip(a, b, strict=True)) if x != y), len(b))


def _last_place(printed: str) -> int:
    mantissa, _, exp = printed.strip().lower().partition("e")
    return -len(mantissa.partition(".")[2]) + (int(exp) if exp else 0)


# --- the grammar ---------------------------------------------------------------------------

Source = tuple[tuple[str, ...], float]  # (slips used to get this input, value)


@dataclass(frozen=True)
class Inputs:
    """Everything one number of an optimizer's table could have been computed from, each
    choice tagged with the slip it would be (the document's own printed input: no slip)."""

    t: int
    hyper: dict[str, float]
    grad: tuple[Source, ...]  # gradient candidates at step t
    prev: dict[str, tuple[Source, ...]]  # quantity at step t − 1: m, v, params
    same: dict[str, tuple[Source, ...]]  # quantity at step t: m, v, m_hat, v_hat


def _bc(beta: float, t: int) -> Iterator[tuple[tuple[str, ...], float]]:
    """1 − βᵗ and its slips: the wrong step index, left out, a power rounded to a few digits."""
    yield (), 1 - beta**t
    yield ("the bias correction with t − 1",), 1 - beta ** (t - 1) if t > 1 else math.nan
    yield ("the bias correction with t + 1",), 1 - beta ** (t + 1)
    yield ("no bias correction",), 1.0
    for k in (1, 2, 3):
        yield (f"1 − βᵗ rounded to {k} significant digit{'s' if k > 1 else ''}",), float(
            f"{1 - beta**t:.{k}g}")


def _betas(h: dict[str, float], which: str) -> Iterator[tuple[tuple[str, ...], float, float]]:
    """(slips, β used for the decay, weight of the new term)."""
    b = h[which]
    other = h["beta2" if which == "beta1" else "beta1"]
    yield (), b, 1 - b
    yield ("β1 and β2 swapped",), other, 1 - other
    yield ("β and 1 − β swapped",), 1 - b, b


def candidates(quantity: str, x: Inputs) -> Iterator[tuple[tuple[str, ...], float]]:
    """Every way (with its slips) the table's ``quantity`` at step t could have been computed."""
    h = x.hyper
    if quantity in ("m", "v"):
        which = "beta1" if quantity == "m" else "beta2"
        for (s1, prev), (s2, g), (s3, decay, weight) in itertools.product(
                x.prev[quantity], x.grad, _betas(h, which)):
            term = g if quantity == "m" else g * g
            yield s1 + s2 + s3, decay * prev + weight * term
            if quantity == "v":
                yield s1 + s2 + s3 + ("|g| instead of g²",), decay * prev + weight * abs(g)
    elif quantity in ("m_hat", "v_hat"):
        raw, which = ("m", "beta1") if quantity == "m_hat" else ("v", "beta2")
        for (s1, value), (s2, bc) in itertools.product(x.same[raw], _bc(h[which], x.t)):
            yield s1 + s2, value / bc
            yield s1 + s2 + ("the bias correction applied twice",), value / bc / bc
    elif quantity == "params":
        for (s1, prev), (s2, m_hat), (s3, v_hat) in itertools.product(
                x.prev["params"], x.same["m_hat"], x.same["v_hat"]):
            base = s1 + s2 + s3
            yield base, prev - h["lr"] * m_hat / (math.sqrt(v_hat) + h["eps"])
            yield base + ("the square root left out",), prev - h["lr"] * m_hat / (v_hat + h["eps"])
        for s1, prev in x.prev["params"]:
            yield s1 + ("a step of exactly α",), prev + h["lr"]
            yield s1 + ("the previous value carried over",), prev


def search(quantity: str, x: Inputs, printed: str,
           extra: Callable[[], Iterator[tuple[tuple[str, ...], float]]] | None = None) -> Slip:
    """The simplest combination of slips that reproduces ``printed``, else the closest."""
    target, n = float(printed), significant(printed)
    tol = 0.5 * 10 ** _last_place(printed)
    best: tuple[tuple[int, int], Slip] | None = None
    pool = itertools.chain(candidates(quantity, x), extra() if extra else ())
    for slips, value in pool:
        slips = tuple(dict.fromkeys(slips))
        if len(slips) > MAX_SLIPS or not math.isfinite(value):
            continue
        ok = abs(value - target) <= tol * (1 + 1e-9)
        digits = n if ok else matching_digits(value, printed)
        key = (0 if ok else 1, len(slips) if ok else -digits)
        if best is None or key < best[0]:
            best = (key, Slip(slips, value, digits, n, ok))
    if best is None:
        return Slip((), math.nan, 0, n, False)
    return best[1]
