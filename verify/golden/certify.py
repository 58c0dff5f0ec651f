"""Certification of MPFR values (gmpy2) without mpmath objects: the digits on which a run at
precision P and one at 2P agree, and the 2P value printed to those digits.

The text is the one ``mpmath.nstr(x, n)`` prints (golden files were defined by it and must stay
byte-identical), computed here from the exact binary mantissa and exponent with the same integer
steps as mpmath's ``to_digits_exp``/``to_str``. That is not the correctly rounded decimal in every
case (mpmath truncates to n + 3 digits first, then rounds half up), so it is reproduced, not
replaced by MPFR's own formatting. The digit count repeats mpmath's arithmetic too: |a − b|/|b|
rounded to nearest at the same binary precision (both libraries round these correctly), then
its binary exponent and 53-bit mantissa. ``tests/test_certify.py`` checks both against mpmath.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gmpy2
import mpmath
import numpy

_LOG2_10 = math.log(10, 2)  # the float mpmath's to_digits_exp uses
_LOG10_2 = math.log10(2)
_BIG_EXPONENT = 3500  # beyond 2^±3500 mpmath rescales by a power of ten first: defer to it
_POW10: dict[int, Any] = {}


def _pow10(n: int) -> Any:
    p = _POW10.get(n)
    if p is None:
        p = _POW10[n] = gmpy2.mpz(10) ** n
    return p


def nstr_digits(man: Any, exp: int, dps: int) -> tuple[str, int]:
    """mpmath's ``to_digits_exp`` for the positive value man·2^exp: the decimal digits of the
    value truncated to about ``dps`` digits, and the decimal exponent of the first one."""
    bc = man.bit_length()
    bitprec = int(dps * _LOG2_10) + 10
    fixprec = max(bitprec - exp - bc, 0)
    fixdps = int(fixprec / _LOG2_10 + 0.5)
    offset = exp + fixprec
    fixed = man << offset if offset >= 0 else man >> -offset  # floor(x·2^fixprec)
    digits = str(fixed * _pow10(fixdps) >> fixprec)  # floor(that·10^fixdps / 2^fixprec)
    return digits, len(digits) - fixdps - 1


def nstr(x: Any, n: int) -> str:
    """``mpmath.nstr(x, n)`` (strip_zeros=True, default fixed-point range) of a gmpy2 mpfr."""
    if not gmpy2.is_finite(x):
        return "nan" if gmpy2.is_nan(x) else ("+inf" if x > 0 else "-inf")
    if not x:
        return "0.0"
    man, exp = x.as_mantissa_exp()
    exp = int(exp)
    sign = ""
    if man < 0:
        sign, man = "-", -man
    if abs(exp + man.bit_length()) > _BIG_EXPONENT:
        return mpmath.libmp.to_str(mpmath.libmp.from_man_exp(int(-man if sign else man), exp), n)
    digits, exponent = nstr_digits(man, exp, n + 3)
    return sign + _layout(digits, exponent, n)


def _layout(digits: str, exponent: int, dps: int) -> str:
    """The rounding and layout half of mpmath's ``to_str`` (dps ≥ 1, strip_zeros=True)."""
    if len(digits) > dps and digits[dps] in "56789":  # round half up on the truncated digits
        digits = digits[:dps]
        i = dps - 1
        while i >= 0 and digits[i] == "9":
            i -= 1
        if i >= 0:
            digits = digits[:i] + str(int(digits[i]) + 1) + "0" * (dps - i - 1)
        else:
            digits = "1" + "0" * (dps - 1)
            exponent += 1
    else:
        digits = digits[:dps]
    if min(-(dps // 3), -5) < exponent < dps:
        if exponent < 0:
            digits = "0" * -exponent + digits
            split = 1
        else:
            split = exponent + 1
            if split > dps:
                digits += "0" * (split - dps)
        exponent = 0
    else:
        split = 1
    digits = (digits[:split] + "." + digits[split:]).rstrip("0")
    if digits[-1] == ".":
        digits += "0"
    if exponent == 0:
        return digits
    return digits + ("e+" if exponent > 0 else "e") + str(exponent)


class MpfrCertifier:
    """Certifies pairs (value at P, value at 2P) of gmpy2 mpfr numbers: what
    ``golden.certified_text`` does with mpmath numbers, with the same digits and text."""

    def __init__(self, dps: int):
        if not 1 <= dps <= 4000:
            raise ValueError(f"digits must be 1 to 4000, not {dps}")
        self.dps = dps
        # the precision golden.py's mpmath context uses: holds either run's values exactly;
        # its methods round there whatever gmpy2's current context is
        self.context = gmpy2.context(precision=mpmath.libmp.dps_to_prec(2 * dps) + 64)
        self._double = gmpy2.context(precision=53)
        self._scales = _SCALES  # depends on (digits, binary exponent) only: shared

    def agreeing_digits(self, a: Any, b: Any) -> int:
        """Significant decimal digits on which ``a`` (precision P) and ``b`` (2P) agree, ≤ P."""
        if a == b:
            return self.dps
        if not (gmpy2.is_finite(a) and gmpy2.is_finite(b)) or not b:
            return 0
        ctx = self.context
        exp, man = ctx.frexp(ctx.div(ctx.sub(a, b), b))  # ±rel = man·2^exp, |man| in [1/2, 1)
        with gmpy2.context(self._double):  # float() rounds as the current context does: nearest
            d = math.floor(-(math.log10(abs(float(man))) + exp * _LOG10_2))
        return 0 if d < 0 else (self.dps if d > self.dps else d)

    def text(self, a: Any, b: Any) -> tuple[str, int]:
        """``b`` printed to the digits it shares with ``a``, and that digit count."""
        if not gmpy2.is_finite(b):
            return ("nan" if gmpy2.is_nan(b) else ("inf" if b > 0 else "-inf")), 0
        d = self.agreeing_digits(a, b)
        text = nstr(b, d or 1)
        return (text[:-2] if text.endswith(".0") else text), d

    def texts(self, los: Sequence[Any], his: Sequence[Any]) -> tuple[list[str], list[int]]:
        """``text`` of each pair, split into the texts and the digit counts: the hot loop of a
        golden, inlined.

        The digit counts come from ``_estimated_counts`` (all pairs at once, in double
        precision); a pair it cannot decide goes through ``text``. The text is
        ``_certified_text``'s, inlined for the common case."""
        counts, decided = self._estimated_counts(los, his)
        get_exp, scales, text_of = gmpy2.get_exp, self._scales, self.text
        out: list[str] = []
        for i, b in enumerate(his):
            if not decided[i]:
                text, counts[i] = text_of(los[i], b)
                out.append(text)
                continue
            n = counts[i] or 1
            top2 = get_exp(b)  # b = ±m·2^top2, m in [1/2, 1): mpmath's exponent + bit count
            scale = scales.get((n, top2))
            if scale is None:  # |top2| < 1000 here, and n ≤ dps ≤ 4000
                scale = scales[n, top2] = _scale(n, top2)
            fixprec, fixdps, shift, p10 = scale  # _certified_text from here on
            man = b.as_mantissa_exp()[0]
            sign = ""
            if man < 0:
                sign, man = "-", -man
            offset = shift - man.bit_length()
            fixed = man << offset if offset >= 0 else man >> -offset
            digits = str(fixed * p10 >> fixprec)
            length = len(digits)
            if length <= n:
                out.append(_certified_text(b, n))
                continue
            # _certified_text's rounding and layout, copied on purpose: a call per printed value
            # costs 5 % of a golden (measured); tests/test_certify.py holds both to mpmath
            exponent = length - fixdps - 1
            if digits[n] >= "5":  # round half up on the first digit dropped
                last = digits[n - 1]
                if last != "9":
                    digits = digits[:n - 1] + "123456789"[int(last)]
                else:
                    digits = str(int(digits[:n]) + 1)
                    if len(digits) > n:  # 99…9 + 1
                        digits, exponent = digits[:n], exponent + 1
            else:
                digits = digits[:n]
            digits = digits.rstrip("0")
            if exponent < n and exponent > (-5 if n < 15 else -(n // 3)):
                if exponent < 0:
                    out.append(f"{sign}0.{'0' * (-exponent - 1)}{digits}")
                elif len(digits) <= exponent + 1:  # an integer: "123", not "123.0"
                    out.append(f"{sign}{digits}{'0' * (exponent + 1 - len(digits))}")
                else:
                    out.append(f"{sign}{digits[:exponent + 1]}.{digits[exponent + 1:]}")
            else:
                out.append(f"{sign}{digits[0]}.{digits[1:] or '0'}"
                           f"e{'+' if exponent > 0 else ''}{exponent}")
        return out, counts

    def _estimated_counts(self, los: Sequence[Any], his: Sequence[Any]
                          ) -> tuple[list[int], list[bool]]:
        """``agreeing_digits`` of every pair, estimated in double precision in one NumPy pass,
        and whether the estimate decides it.

        log10|b| − log10|a − b| (a − b rounded to 53 bits) is within 1e-12 of the exact
        −log10(rel), and so is the value mpmath computes, so where the estimate is 1e-9 or more
        away from an integer both floors agree. Not decided: b zero, not finite or beyond double
        range, a not finite, |a − b| beyond double range, or an estimate near an integer. a − b
        rounds to 0 only when a = b (no underflow in MPFR's exponent range): dps digits."""
        size = len(his)
        if len(los) != size:
            raise ValueError(f"{len(los)} values at P against {size} at 2P")
        with gmpy2.context(self._double):
            fb = numpy.abs(numpy.fromiter(map(float, his), float, size))
            fd = numpy.abs(numpy.fromiter(map(float, map(self._double.sub, los, his)), float,
                                          size))
        with numpy.errstate(all="ignore"):
            est = numpy.log10(fb) - numpy.log10(fd)
            d = numpy.floor(est)
            equal = fd == 0
            decided = (fb > 1e-300) & (fb < 1e300) & (equal | (
                (fd > 1e-300) & (fd < 1e300) & (est - d >= 1e-9) & (d + 1 - est >= 1e-9)))
            d = numpy.where(decided & ~equal, d, 0)
        d = numpy.where(equal, self.dps, numpy.clip(d, 0, self.dps))
        return d.astype(numpy.int64).tolist(), decided.tolist()


_SCALES: dict[tuple[int, int], tuple[int, int, int, Any]] = {}  # _scale's results
_BITPREC = [int(n * _LOG2_10) + 10 for n in range(4, 4004)]  # nstr_digits' bitprec, n + 3 ≥ 4


def _scale(n: int, top2: int) -> tuple[int, int, int, Any]:
    """What ``nstr_digits`` computes for n + 3 digits of a value whose binary exponent (mpmath's
    exponent + bit count) is top2: fixprec, fixdps, top2 + fixprec (the shift of a mantissa of
    bc bits is that minus bc) and 10^fixdps."""
    fixprec = max(_BITPREC[n - 1] - top2, 0)
    fixdps = int(fixprec / _LOG2_10 + 0.5)
    return fixprec, fixdps, top2 + fixprec, _pow10(fixdps)


def _certified_text(x: Any, n: int) -> str:
    """``nstr(x, n)`` without a trailing ".0" (as golden files print), for a finite nonzero x,
    in fewer Python steps: the integers of ``nstr_digits`` (floor(x·2^F) needs only the binary
    exponent of x), then ``_layout``'s rounding and layout."""
    top2 = gmpy2.get_exp(x)  # x = ±m·2^top2, m in [1/2, 1): mpmath's exponent + bit count
    if not -_BIG_EXPONENT <= top2 <= _BIG_EXPONENT or n > 4000:
        text = nstr(x, n)
        return text[:-2] if text.endswith(".0") else text
    man = x.as_mantissa_exp()[0]
    sign = ""
    if man < 0:
        sign, man = "-", -man
    fixprec = _BITPREC[n - 1] - top2
    if fixprec < 0:
        fixprec = 0
    fixdps = int(fixprec / _LOG2_10 + 0.5)
    offset = top2 - man.bit_length() + fixprec  # the binary exponent of man, plus fixprec
    fixed = man << offset if offset >= 0 else man >> -offset
    digits = str(fixed * (_POW10.get(fixdps) or _pow10(fixdps)) >> fixprec)
    length = len(digits)
    if length <= n:  # never for nonzero values (n + 3 digits are asked for)
        text = sign + _layout(digits, length - fixdps - 1, n)
        return text[:-2] if text.endswith(".0") else text
    exponent = length - fixdps - 1
    if digits[n] in "56789":  # round half up on the first digit dropped
        digits = str(int(digits[:n]) + 1)
        if len(digits) > n:  # 99…9 + 1
            digits, exponent = digits[:n], exponent + 1
    else:
        digits = digits[:n]
    digits = digits.rstrip("0")
    if min(-(n // 3), -5) < exponent < n:
        if exponent < 0:
            return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
        split = exponent + 1
        if len(digits) <= split:  # an integer: "123", not "123.0"
            return f"{sign}{digits}{'0' * (split - len(digits))}"
        return f"{sign}{digits[:split]}.{digits[split:]}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}e{'+' if exponent > 0 else ''}{exponent}"
