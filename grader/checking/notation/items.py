"""Step 7: the items of a list, the separator decided from the whole answer.

Separators, strongest first: ``;``, new lines (not where a list goes on after a comma, as a PDF's line
breaks it: ``4, 2,`` / ``1, 0.5``), tabs, ``→``/``->``, ``|``, commas, then spaces between plain numbers
(numpy's ``[3.5 2. ]``, ``-1 -2``, ``(1/4) 2``). Brackets ``()`` ``[]`` ``{}`` ``⟨⟩`` group; a column vector
``[[3.5], [2]]`` / ``[3.5; 2]``, a transposed ``[3.5, 2]^T`` and a negated ``−[1, 2]`` are lists too, and so
is a bracketed item after its label (``x1 = (3.5, 2), x2 = (3.1, 1.6)``: the points, told).

Decimal commas: a comma between two digits (``0,5``) is a decimal comma when the items are separated
by something else – ``;``, new lines, tabs, spaces or comma-and-space (``4, 2, 0,5``); alone (``3,5``,
``10,6``) it is ambiguous and refused showing both readings, except inside brackets, where ``[3,5]``
is a list as Python writes it.
"""

from __future__ import annotations

import re

from grader.checking.notation import Ambiguous, Reading, StepError, quoted
from grader.checking.notation.brackets import group, split_top, top_level

Tree = str | list["Tree"]


class AmbiguousComma(Ambiguous):
    """A comma that could separate two numbers or be a decimal comma; the message shows both readings."""


MAX_ITEMS = 1000
_SEMICOLON = re.compile(r";")
_NEWLINE = re.compile(r"\n")
_TAB = re.compile(r"\t")
_ARROW = re.compile(r"→|->|=>")
_PIPE = re.compile(r"\|")
_COMMA = re.compile(r",")
_TIGHT_COMMA = re.compile(r"(?<=\d),(?=\d)")
_TRANSPOSED = re.compile(r"\s*(?:\^\s*\(?\s*[Tt]\s*\)?|\.T|')\s*$")
_NEGATED = re.compile(r"^\s*-\s*(?=[\[(⟨{])")
_PLAIN_NUMBER = re.compile(
    r"^[+-]?(?:\d+(?:\.\d*|,\d+)?|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?\d+/\d+$|^[+-]?\(\d+(?:\+\d+)?/\d+\)$"
)  # 3.5, 3,5, 1e-3, 1/4, and (1/4) or (3+1/3) as the characters step writes ¼ and 3⅓
_LABELLED = re.compile(r"^\s*[A-Za-z\u0370-\u03ff][\w\u0370-\u03ff']{0,12}(?:\([^()\n]{0,20}\))?\s*[=:]\s*(?=[\[(⟨{])")
_DECIMAL_NOTE = "Read commas between digits as decimal commas"
_DECIMAL_NUMBER = re.compile(r"^[+-]?\d+,\d+$")


def split_items(text: str, reading: Reading, decimal_comma: bool = False) -> Tree:
    """A nested list of item texts (a leaf is one item's text, decimal commas already made points)."""
    text = text.strip()
    transposed = _TRANSPOSED.search(text)
    if transposed and group(text[: transposed.start()]):
        text = text[: transposed.start()]
    negated = _NEGATED.match(text)
    if negated and group(text[negated.end() :]):
        return _negate(split_items(text[negated.end() :], reading, decimal_comma))
    labelled = _LABELLED.match(text)
    if labelled and group(text[labelled.end() :]):
        reading.note("Read each bracketed value after its label.")
        text = text[labelled.end() :]  # x1 = (3.5, 2): a point after its label
    bracketed = group(text)
    inside = bracketed[1] if bracketed else text
    pieces, decimal = _pieces(inside, reading, bracketed is not None, decimal_comma)
    if pieces is None:
        if bracketed and bracketed[0] != "(" and inside.strip():
            return [split_items(inside, reading, decimal_comma)]  # [4]: a list of one
        if bracketed and bracketed[0] == "(" and group(inside.strip()):
            return split_items(inside, reading, decimal_comma)  # ((3.5, 2)): extra parentheses
        return _leaf(text, reading, decimal_comma)
    if len(pieces) > MAX_ITEMS:
        raise StepError(f"it has {len(pieces)} items, more than {MAX_ITEMS}")
    return [split_items(piece, reading, decimal) for piece in pieces if piece.strip()]


def _pieces(inside: str, reading: Reading, bracketed: bool, decimal_comma: bool) -> tuple[list[str] | None, bool]:
    """The top-level pieces of ``inside`` and whether commas within them are decimal commas."""
    for separator in (_SEMICOLON, _NEWLINE, _TAB, _ARROW, _PIPE):
        if separator is _NEWLINE:
            lines = [line for line in inside.split("\n") if line.strip()]
            if len(lines) < 2:
                continue
            if bracketed and not all(group(line.strip().rstrip(",")) for line in lines):
                inside = " ".join(lines)  # numpy wraps a long row over several lines
                continue
            if all(_ends_with_comma(line) for line in lines[:-1]) and not all(
                group(line.strip().rstrip(",")) for line in lines
            ):
                inside = " ".join(lines)  # 4, 2, / 1, 0.5: a list broken across lines (a PDF's copy)
                continue
            return [line.strip().rstrip(",") for line in lines], True
        found = split_top(inside, separator)
        if len([p for p in found if p.strip()]) >= 2:
            return found, True
    chunks = inside.split()
    if len(chunks) >= 2 and all(_PLAIN_NUMBER.match(chunk) for chunk in chunks):
        return chunks, True  # numpy's [3.5 2. ], -1 -2, 3,8 2,2
    if top_level(inside, _COMMA):
        return _comma_pieces(inside, reading, bracketed, decimal_comma)
    return None, decimal_comma


def _comma_pieces(inside: str, reading: Reading, bracketed: bool, decimal_comma: bool) -> tuple[list[str] | None, bool]:
    commas = top_level(inside, _COMMA)
    tight = [m for m in commas if _TIGHT_COMMA.match(inside, m.start())]
    if not tight:
        return split_top(inside, _COMMA), decimal_comma
    tight_at = {m.start() for m in tight}
    loose = [m for m in commas if m.start() not in tight_at]
    if decimal_comma and not loose:
        return None, True  # one item with decimal commas: 0,5 after a ;
    if loose and not decimal_comma and _DECIMAL_POINT.search(inside):
        return split_top(inside, _COMMA), False  # 4,2,-0.8: decimal points, so no comma is a decimal comma
    if decimal_comma or loose:
        pieces = _cut(inside, loose)
        if all(_DECIMAL_NUMBER.match(p.strip()) or "," not in p for p in pieces):
            return pieces, True  # 4, 2, 0,5: the spaced commas separate, the tight ones are decimal
        return split_top(inside, _COMMA), False
    pieces = split_top(inside, _COMMA)
    a, b = (pieces[0].strip(), pieces[-1].strip())
    if len(pieces) == 2 and not bracketed and a.lstrip("+-").isdigit() and b.isdigit():
        raise AmbiguousComma(
            f"{quoted(inside)} could be the number {a}.{b} (with a decimal comma) or the two numbers {a}, {b}; "
            f"write {a}.{b} for one number, or {a}; {b} for two"
        )
    for left, right in zip(pieces, pieces[1:], strict=False):
        # 0,5 outside brackets, or ,0625 anywhere: no one writes a whole number with a leading zero
        if (not bracketed and left.strip() == "0" and right.strip().isdigit()) or _LEADING_ZERO.match(right.strip()):
            first_left, first_right = pieces[0].strip(), pieces[1].strip()
            raise AmbiguousComma(
                f"could not tell which commas in {quoted(inside)} separate numbers and which are decimal commas "
                f"({first_left},{first_right} could be {first_left}, {first_right} or {first_left}.{first_right}); "
                "separate the numbers with ; or write decimal points"
            )
    return pieces, False


_LEADING_ZERO = re.compile(r"^0\d+$")
_DECIMAL_POINT = re.compile(r"\d\.\d")


def _ends_with_comma(line: str) -> bool:
    return line.rstrip()[-1:] == ","


def decimal_comma_readings(text: str, count: int, limit: int = 3) -> list[str]:
    """Readings of ``3,5,2`` that give ``count`` numbers when some commas are decimal commas (``3.5, 2`` and
    ``3, 5.2``), at most ``limit``; none unless every comma sits between digits."""
    inside = text.strip()
    bracketed = group(inside)
    inside = bracketed[1].strip() if bracketed else inside
    digits = inside.split(",")
    if len(digits) <= count or not all(d.isdigit() for d in digits):
        return []
    readings: list[str] = []

    def walk(start: int, taken: list[str]) -> None:
        left, pieces = len(digits) - start, count - len(taken)
        if len(readings) >= limit or not pieces <= left <= 2 * pieces:
            return  # every path walked can still be completed: at most limit × len(digits) steps
        if start == len(digits):
            if len(taken) == count:
                readings.append(", ".join(taken))
            return
        walk(start + 1, [*taken, digits[start]])
        if start + 1 < len(digits):
            walk(start + 2, [*taken, f"{digits[start]}.{digits[start + 1]}"])

    walk(0, [])
    return readings


def _cut(text: str, at: list[re.Match[str]]) -> list[str]:
    pieces, start = [], 0
    for match in at:
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


def _leaf(text: str, reading: Reading, decimal_comma: bool) -> str:
    if decimal_comma and _TIGHT_COMMA.search(text):
        point = _TIGHT_COMMA.sub(".", text)
        if not any(note.startswith(_DECIMAL_NOTE) for note in reading.notes):
            reading.note(f"{_DECIMAL_NOTE} ({text} as {point}).")
        return point
    return text


def _negate(tree: Tree) -> Tree:
    """``−[1, 2]`` → ``[-1, -2]``, keeping each item as typed (so its significant figures still count)."""
    if isinstance(tree, list):
        return [_negate(item) for item in tree]
    item = tree.strip()
    if item.startswith("-"):
        return item[1:]
    if _PLAIN_NUMBER.match(item.lstrip("+")):
        return "-" + item.lstrip("+")
    return f"-({item})"
