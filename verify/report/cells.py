"""Small text helpers every renderer shares."""

from __future__ import annotations


def cell(text: str) -> str:
    """Text safe inside a table cell: no pipes, no newlines."""
    return text.replace("|", "\\|").replace("\n", " ")
