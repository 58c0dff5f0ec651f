"""Verdict words, and the grading of a claim judged at every setting of a sweep.

A claim is rarely just true or false. It is **confirmed** when every part of it holds at every
setting tried, **contradicted** when no part holds anywhere, **depends on the setting** when it
holds at some settings of the sweep and not at others, **partly confirmed** when its parts differ
(one holds, another fails wherever it is tried), and **holds only under an assumption** when it
is proved under a stated assumption and shown false without it (a derivation, not a sweep).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CONFIRMED = "confirmed"
CONTRADICTED = "contradicted"
PARTLY = "partly confirmed"
DEPENDS = "depends on the setting"
ASSUMPTION = "holds only under an assumption"
NOT_CHECKABLE = "not checkable"
# every verdict, in the order reports list them
VERDICTS = (CONFIRMED, PARTLY, DEPENDS, ASSUMPTION, CONTRADICTED, NOT_CHECKABLE)


@dataclass(frozen=True)
class Part:
    """One part of a claim (a phrase of its quote) and whether it held at each setting."""

    text: str
    holds: tuple[bool, ...]

    @property
    def always(self) -> bool:
        return all(self.holds)

    @property
    def never(self) -> bool:
        return not any(self.holds)


Label = tuple[tuple[str, str], ...]  # one setting: ((dimension, value), …), e.g. (("α", "0.01"),)


@dataclass(frozen=True)
class Judgement:
    """A claim's parts judged over a sweep's settings, and the verdict they grade to."""

    verdict: str
    settings: tuple[Label, ...]
    parts: tuple[Part, ...]
    reference: int | None = None  # index of the document's own setting, if the sweep has it

    def whole(self) -> tuple[bool, ...]:
        """Whether the whole claim (every part) held, setting by setting."""
        return tuple(all(p.holds[k] for p in self.parts) for k in range(len(self.settings)))

    def holds_at(self) -> tuple[Label, ...]:
        return tuple(s for s, ok in zip(self.settings, self.whole(), strict=True) if ok)

    def fails_at(self) -> tuple[Label, ...]:
        return tuple(s for s, ok in zip(self.settings, self.whole(), strict=True) if not ok)

    def table(self) -> tuple[tuple[str, str, str], ...]:
        """(part, where it holds, where it fails) for every part and, if compound, the whole."""
        rows = [(p.text, p.holds) for p in self.parts]
        if len(self.parts) > 1:
            rows.append(("the whole claim", self.whole()))
        return tuple((text, ranges([s for s, ok in zip(self.settings, h, strict=True) if ok]),
                      ranges([s for s, ok in zip(self.settings, h, strict=True) if not ok]))
                     for text, h in rows)

    def sentence(self) -> str:
        """Where the claim holds and where it fails, part by part, in a few sentences."""
        n = len(self.settings)
        every = "the one setting tried" if n == 1 else f"every one of the {n} settings tried"
        if self.verdict == CONFIRMED:
            text = f"The claim holds at {every}."
        elif self.verdict == CONTRADICTED:
            text = f"The claim fails at {every}."
        elif self.verdict == DEPENDS:
            text = (f"The claim holds at {ranges(self.holds_at())} ({len(self.holds_at())} of "
                    f"{n} settings) and fails at the other {len(self.fails_at())}.")
            if len(self.parts) > 1:
                text += " " + " ".join(_part_sentence(p, self.settings) for p in self.parts)
        else:  # PARTLY
            text = " ".join(_part_sentence(p, self.settings) for p in self.parts)
        if self.reference is not None and n > 1:
            here = self.whole()[self.reference]
            text += (f" At the document's own setting ({label(self.settings[self.reference])}) "
                     "it " + ("holds." if here else "fails."))
        return text


def label(setting: Label) -> str:
    return ", ".join(f"{k} = {v}" for k, v in setting)


def ranges(settings: Sequence[Label]) -> str:
    """Settings listed compactly: grouped by all dimensions but the last, whose values are
    listed as a set ("θ0 = 2: α ∈ {0.2, 0.5}; θ0 = 1.5: α ∈ {0.5}")."""
    if not settings:
        return "no setting"
    groups: dict[Label, list[str]] = {}
    for s in settings:
        groups.setdefault(s[:-1], []).append(s[-1][1])
    last = settings[0][-1][0]
    return "; ".join((f"{label(prefix)}: " if prefix else "")
                     + (f"{last} = {vals[0]}" if len(vals) == 1
                        else f"{last} ∈ {{{', '.join(vals)}}}")
                     for prefix, vals in groups.items())


def _part_sentence(p: Part, settings: Sequence[Label]) -> str:
    if p.always:
        return f"“{p.text}” holds at every setting tried."
    if p.never:
        return f"“{p.text}” fails at every setting tried."
    held = [s for s, ok in zip(settings, p.holds, strict=True) if ok]
    failed = [s for s, ok in zip(settings, p.holds, strict=True) if not ok]
    if len(held) <= len(failed):
        return f"“{p.text}” holds only at {ranges(held)}."
    return f"“{p.text}” fails at {ranges(failed)}."


def grade(parts: Sequence[Part], settings: Sequence[Label],
          reference: int | None = None) -> Judgement:
    """The verdict of a claim whose ``parts`` were judged at every one of ``settings``."""
    if not parts or any(len(p.holds) != len(settings) for p in parts):
        raise ValueError("every part needs one outcome per setting")
    whole = [all(p.holds[k] for p in parts) for k in range(len(settings))]
    if all(whole):
        verdict = CONFIRMED
    elif any(whole):
        verdict = DEPENDS
    elif all(p.never for p in parts):
        verdict = CONTRADICTED
    else:
        verdict = PARTLY
    return Judgement(verdict, tuple(settings), tuple(parts), reference)


def combine(verdicts: Sequence[str]) -> str:
    """The verdict of a claim made of several checked items (a printed vector, a code block's
    calls): one verdict if they agree, *partly confirmed* if some hold and some fail. Items that
    could not be checked do not count unless none could (the claim's note names them)."""
    found = set(verdicts) - {NOT_CHECKABLE}
    if not found:
        return NOT_CHECKABLE
    if len(found) == 1:
        return found.pop()
    if CONTRADICTED in found or PARTLY in found:
        return PARTLY
    # confirmed mixed with a qualified verdict: the qualification stands
    return next(v for v in (ASSUMPTION, DEPENDS) if v in found)
