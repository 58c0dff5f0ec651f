"""A first claims file for any Markdown or text document (``adam-verify claims init DOC``).

The document is split into sections (Markdown headings, or short title lines in plain text),
paragraphs, code blocks (fenced, or runs of lines that parse as Python from an ``import``) and
sentences. Every code block becomes a ``code`` claim, checkable at once; a stated Adam default
becomes a ``default`` claim; every formula, printed number and sentence that asserts behaviour
becomes a ``statement`` claim whose reason names the suggested kind, for the author to turn into
a real check. The draft loads as it is (``adam-verify claims`` runs on it).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_START = re.compile(r"^(import \w|from [\w.]+ import )")
_LATEX = re.compile(r"\\(frac|beta|alpha|theta|epsilon|hat|sqrt|sum|partial|nabla|cdot)|[_^]\{?\w")
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(\.\d+)?(e-?\d+)?(?![\w])")
_BEHAVIOUR = re.compile(
    r"\b(help|helps|prevent|prevents|ensur|accelerat|allow|lead|leads|caus|escape|stuck|"
    r"trap|outperform|converg|reduc|improv|effective|efficient|robust|stabil|overshoot|"
    r"oscillat|faster|slower|smooth|suited|sensitive|generaliz|scale|adjust|limits?)\w*",
    re.IGNORECASE)
_FACT = re.compile(r"\b(is|are|means|supports|provides|built|combines|uses|requires|stores|"
                   r"track|set|returns?|has|have)\b", re.IGNORECASE)
_DEFAULTS = (("lr", re.compile(r"(learning rate|α|\\alpha)[^.]{0,80}?\b(0\.001)\b", re.I)),
             ("beta1", re.compile(r"(β₁|β_1|β1|\\beta_1)[^.]{0,80}?\b(0\.9)\b(?!\d)", re.I)),
             ("beta2", re.compile(r"(β₂|β_2|β2|\\beta_2)[^.]{0,80}?\b(0\.999)\b", re.I)),
             ("eps", re.compile(r"(ε|epsilon|\\epsilon)[^.]{0,60}?(10\^\{?-8\}?|1e-8|10⁻⁸)", re.I)))


@dataclass(frozen=True)
class Draft:
    """One drafted claim: where, the quote, the suggested kind and the TOML fields."""

    section: str
    quote: str
    kind: str  # the kind written to the file (code, default or statement)
    suggested: str  # the kind the author should make it
    fields: tuple[tuple[str, object], ...] = ()


def _is_heading(lines: list[str], k: int) -> bool:
    line = lines[k].strip()
    if line.startswith("#"):
        return True
    before = k == 0 or not lines[k - 1].strip()
    after = k + 1 < len(lines) and not lines[k + 1].strip()
    return (before and after and 0 < len(line) <= 80 and not line.endswith((".", ":", ","))
            and not _CODE_START.match(line) and len(line.split()) <= 12
            and "=" not in line and "\\" not in line)


def _code_end(lines: list[str], start: int) -> int:
    """The end of a Python block starting at ``start``: the longest run that parses, stopping
    at the first prose paragraph after it."""
    best, misses = start, 0
    for end in range(start + 1, min(len(lines), start + 400) + 1):
        text = "\n".join(lines[start:end])
        try:
            ast.parse(text)
        except SyntaxError:
            if lines[end - 1].strip() and not lines[end - 1].startswith((" ", "\t")):
                misses += 1
            if misses >= 2:
                break
            continue
        best, misses = end, 0
    return best


def blocks(text: str) -> list[tuple[str, str, str]]:
    """(section, kind, text) for every code block and prose paragraph, in order."""
    lines = text.splitlines()
    out, section, k = [], "", 0
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append((section, "prose", " ".join(s.strip() for s in para)))
            para.clear()

    while k < len(lines):
        line = lines[k]
        if _FENCE.match(line):
            flush()
            end = next((j for j in range(k + 1, len(lines)) if _FENCE.match(lines[j])), len(lines))
            out.append((section, "code", "\n".join(lines[k + 1:end])))
            k = end + 1
            continue
        if _CODE_START.match(line):
            flush()
            end = _code_end(lines, k)
            if end > k:
                out.append((section, "code", "\n".join(lines[k:end])))
                k = end
                continue
        if not line.strip():
            flush()
        elif _is_heading(lines, k):
            flush()
            section = line.strip().lstrip("#").strip()
        else:
            para.append(line)
        k += 1
    flush()
    return out


def _sentences(paragraph: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z•\\])|\s*•\s*", paragraph)
    return [p.strip() for p in parts if len(p.strip()) > 3]


def _classify(sentence: str) -> str | None:
    """The suggested kind of a sentence, or None if it asserts nothing checkable."""
    decimals = re.search(r"\d\.\d", sentence)
    if decimals and re.search(r"[:=]", sentence):
        return "trace"
    if "=" in sentence and _LATEX.search(sentence):
        return "formula"
    if _BEHAVIOUR.search(sentence):
        return "experiment or literature"
    if _FACT.search(sentence) and len(sentence.split()) >= 5:
        return "literature, metadata or api"
    return None


def draft(text: str) -> list[Draft]:
    """Every statement of ``text`` the drafter recognises, as claims to review."""
    out: list[Draft] = []
    for section, kind, body in blocks(text):
        if kind == "code":
            if body.strip():
                first = next((ln for ln in body.splitlines() if ln.strip()), "")
                out.append(Draft(section, first.strip(), "code", "code", (("code", body),)))
            continue
        for sentence in _sentences(body):
            for quantity, pattern in _DEFAULTS:
                m = pattern.search(sentence)
                if m:
                    value = "1e-8" if quantity == "eps" else m.group(2)
                    out.append(Draft(section, sentence, "default", "default",
                                     (("optimizer", "adam"), ("quantity", quantity),
                                      ("claimed", value))))
            suggested = _classify(sentence)
            if suggested:
                out.append(Draft(section, sentence, "statement", suggested))
    return out


def _toml_string(s: str) -> str:
    if "\n" in s:
        if "'''" in s:
            s = s.replace("'''", "' ''")
        return "'''\n" + s + "\n'''"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(drafts: list[Draft], document: str, source: str) -> str:
    """The draft as a claims file: loadable as it is, each claim's suggested kind stated."""
    lines = [f"# Draft claims file for {document!r}, written by `adam-verify claims init`.",
             "# Review every claim: statements carry the suggested kind in their reason; turn",
             "# them into real checks (the format: docs/claims-format.md of the adam-verify",
             "# repository) or keep them with a reason.",
             "", f"document = {_toml_string(document)}", f"source = {_toml_string(source)}"]
    for n, d in enumerate(drafts, 1):
        lines += ["", "[[claim]]", f'id = "draft.{n}"', f"section = {_toml_string(d.section)}",
                  f"quote = {_toml_string(d.quote[:300])}", f'kind = "{d.kind}"']
        for key, value in d.fields:
            lines.append(f"{key} = {_toml_string(str(value))}")
        if d.kind == "statement":
            lines.append(f"reason = {_toml_string('draft: not reviewed yet; suggested kind ' + d.suggested)}")
    return "\n".join(lines) + "\n"
