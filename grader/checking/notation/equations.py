"""Step 6: a worked equation's answer is its last side; sides that disagree are said to disagree.

``1200/50 = 24``, ``x1 = 4 - 0.25*8 = 2``, ``4 − 0.1·(8 + 0.9·8) = 2.48``, ``(4, 3) - 0.5·(1, 2) =
(3.5, 2)``. Sides are cut at top-level ``=`` (and ``≈``; where a single number is asked, ``→`` too: "37.5 → 38" rounds). A side that cannot be read (a label such as ``x1`` or ``f(x0)``, a symbolic
step such as ``x - η∇f``, vector arithmetic) is working, not compared; each two readable sides
joined by ``=`` must agree, to the precision the student wrote, or the answer is refused naming both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from grader.checking.notation import Ambiguous, Reading, StepError, quoted
from grader.checking.notation.brackets import top_level

T = TypeVar("T")
MAX_SIDES = 12  # a worked equation a student writes has a few; thousands are an attack on the parser

_EQUALS = re.compile(r"(?<![<>!=≤≥])=(?![=>])|≈|~")
_LINKS = re.compile(r"(?<![<>!=≤≥])=(?![=>])|≈|~|→|->|=>")


def _bare(text: str) -> str:
    return re.sub(r"[\s()\[\]]", "", text)


class SidesDisagree(Ambiguous):
    """Two sides of a worked equation have different values; the message shows both."""


def sides(text: str, rounding_links: bool) -> list[tuple[str, str]]:
    """``(side, link before it)`` pairs; the first side's link is ''."""
    links = top_level(text, _LINKS if rounding_links else _EQUALS)
    out, start, link = [], 0, ""
    for match in links:
        out.append((text[start : match.start()].strip(), link))
        link, start = match.group(), match.end()
    out.append((text[start:].strip(), link))
    return out


def last_side(
    text: str,
    reading: Reading,
    read: Callable[[str], T],
    agree: Callable[[T, T], bool],
    show: Callable[[T], str],
    rounding_links: bool = False,
) -> T:
    """The value of the last readable side; raises :class:`SidesDisagree`, or what ``read`` raises for
    the last side when no side can be read."""
    cut = sides(text, rounding_links)
    if len(cut) == 1:
        return read(text)
    if len(cut) > MAX_SIDES:
        raise StepError(f"it has {len(cut)} sides; give only your answer")
    values: list[tuple[str, str, T | None]] = []
    error: Exception | None = None
    for side, link in cut:
        try:
            values.append((side, link, read(side) if side else None))
        except ValueError as exc:
            values.append((side, link, None))
            error = error if error is not None else exc
    readable = [(i, side, value) for i, (side, _, value) in enumerate(values) if value is not None]
    if not readable:
        assert error is not None
        raise error
    for (i, left, a), (j, right, b) in zip(readable, readable[1:], strict=False):
        if all(values[k][1] == "=" for k in range(i + 1, j + 1)) and not agree(a, b):
            worked = f"{left} is {show(a)}" if _bare(left) != _bare(show(a)) else left
            raise SidesDisagree(f"the sides of {quoted(text)} disagree: {worked}, not {right}; give only your answer")
    if len(readable) > 1:  # a worked equation, not just a label (x1 = 2)
        reading.note(f"Took the last side of {text.strip()}.")
    return readable[-1][2]
