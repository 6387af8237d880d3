"""Where brackets open and close, so that separators are looked for at the top level only."""

from __future__ import annotations

import functools
import re

OPENING = "([{⟨"
CLOSING = ")]}⟩"
_ANY_BRACKET = re.compile(r"[\[\](){}⟨⟩]")


@functools.lru_cache(maxsize=256)
def depths(text: str) -> tuple[int, ...]:
    """The bracket depth before each character (a stray closing bracket never goes below 0).

    Cached: the separators of one answer are looked for at its top level several times.
    """
    if not _ANY_BRACKET.search(text):
        return (0,) * len(text)
    out = []
    depth = 0
    for char in text:
        if char in CLOSING:
            depth = max(depth - 1, 0)
        out.append(depth)
        if char in OPENING:
            depth += 1
    return tuple(out)


def top_level(text: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """The matches of ``pattern`` that start outside every bracket."""
    level = depths(text)
    return [m for m in pattern.finditer(text) if level[m.start()] == 0 and text[m.start()] not in CLOSING]


def split_top(text: str, pattern: re.Pattern[str]) -> list[str]:
    """``text`` cut at the top-level matches of ``pattern``."""
    pieces, start = [], 0
    for match in top_level(text, pattern):
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


def closing_at(text: str, start: int) -> int:
    """The index of the bracket closing the one at ``start`` (-1 if it never closes)."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] in OPENING:
            depth += 1
        elif text[index] in CLOSING:
            depth -= 1
            if depth == 0:
                return index
    return -1


def group(text: str) -> tuple[str, str, str] | None:
    """``(opening, inside, closing)`` when the whole text is one bracketed group, else None."""
    text = text.strip()
    if len(text) < 2 or text[0] not in OPENING or closing_at(text, 0) != len(text) - 1:
        return None
    return text[0], text[1:-1], text[-1]
