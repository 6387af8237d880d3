"""Step 6: a worked equation's answer is its last side; sides that disagree are said to disagree.

``1200/50 = 24``, ``x1 = 4 - 0.25*8 = 2``, ``4 − 0.1·(8 + 0.9·8) = 2.48``, ``(4, 3) - 0.5·(1, 2) =
(3.5, 2)``. Sides are cut at top-level ``=`` (and ``≈``; where a single number is asked, ``→`` too: "37.5 → 38" rounds). A side that cannot be read (a label such as ``x1`` or ``f(x0)``, a symbolic
step such as ``x - η∇f``, vector arithmetic) is working, not compared; each two readable sides
joined by ``=`` must agree, to the precision the student wrote, or the answer is refused naming both.

A formula after a left side that names what is asked (``σ'(z) = σ(z)(1 − σ(z))``, ``dL/dw = …``,
``∂L/∂w = …``, ``d/dz σ(z) = …``, ``∇f(x) = …``, ``f'(x) = …``) is the formula on the right
(:func:`formula_after_name`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from grader.checking.notation import Ambiguous, Reading, StepError, quoted
from grader.checking.notation.brackets import split_top, top_level

T = TypeVar("T")
MAX_SIDES = 12  # a worked equation a student writes has a few; thousands are an attack on the parser

_EQUALS = re.compile(r"(?<![<>!=≤≥])=(?![=>])|≈|~")
_LINKS = re.compile(r"(?<![<>!=≤≥])=(?![=>])|≈|~|→|->|=>")


_CLAUSES = re.compile(r"[;\n]")
_CLAUSES_OR_COMMAS = re.compile(r"[;\n,]")
_CONCLUSION = re.compile(r"→|=>|⇒|⟹")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def answer_after_working(text: str, reading: Reading) -> str:
    """The answer of a worked solution written as steps: the text after ``→`` (or ``⇒``) when what comes
    before it is working (it holds an ``=``): ``f_xx = 6x = 6, f_yy = 2 → [[6, 0], [0, 2]]``; or the
    last of several equations (cut at ``;``, new lines, or else top-level commas) when its working uses
    a value an earlier one worked out and it names another quantity than they do:
    ``b1 = 0.9·8 + 4.96 = 12.16; x2 = 2.48 − 0.1·(4.96 + 0.9·12.16) = 0.8896``.

    Anything else is left as it is: ``x1 = 2.48; x2 = 0.8896`` gives two answers, ``x1 = 2; x2 = 2 −
    0.5·2 = 1`` two iterates of one quantity, not working and an answer, and ``4 → 2 → 1`` is a list.
    """
    return _after_working(text, reading, bracketed=False)


def list_after_working(text: str, reading: Reading) -> str:
    """:func:`answer_after_working` for a vector or matrix: the last equation's value must be in brackets,
    so that ``x = 4 − 1 = 3, y = 3 − 2 = 1`` stays two components."""
    return _after_working(text, reading, bracketed=True)


def _after_working(text: str, reading: Reading, bracketed: bool) -> str:
    arrows = top_level(text, _CONCLUSION)
    if len(arrows) == 1 and top_level(text[: arrows[0].start()], _EQUALS):
        answer = text[arrows[0].end() :].strip()
        if answer:
            reading.note(f"Took {answer} after the working as your answer.")
            return answer
    for separators in (_CLAUSES, _CLAUSES_OR_COMMAS):
        clauses = [c.strip() for c in split_top(text, separators) if c.strip()]
        if len(clauses) < 2 or not all(top_level(c, _EQUALS) for c in clauses):
            continue
        *working, last = clauses
        last_equals = top_level(last, _EQUALS)[-1]
        worked_out = {n for clause in working for n in _numbers(clause[top_level(clause, _EQUALS)[-1].end() :])}
        uses_them = bool(worked_out & _numbers(last[: last_equals.start()]))
        if bracketed and not last[last_equals.end() :].strip().startswith(("(", "[", "{")):
            return text
        if uses_them and _quantity(last) not in {_quantity(clause) for clause in working}:
            reading.note(f"Took the last equation, {last}, as your answer; the ones before are its working.")
            return last
        return text
    return text


_QUANTITY = re.compile(r"^\W*([^\W\d_]+)")


def _numbers(text: str) -> set[str]:
    return {m.group() for m in _NUMBER.finditer(text)}


def _quantity(clause: str) -> str:
    """The letters that name what an equation works out (``x`` for ``x2 = …``, ``b`` for ``b_1 = …``)."""
    match = _QUANTITY.match(clause)
    return match.group(1).lower() if match else ""


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
    comparable: Callable[[T, T], bool] = lambda a, b: True,
) -> T:
    """The value of the last readable side; raises :class:`SidesDisagree`, or what ``read`` raises for
    the last side when no side can be read. Sides that are not ``comparable`` (of different shapes:
    ``Mean[{{7, 2}, …}] = {19/5, 11/5}``) are working, not a claim to check."""
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
        raise error if error is not None else StepError("there is no value in it")  # ≈→=: signs only
    for (i, left, a), (j, right, b) in zip(readable, readable[1:], strict=False):
        if all(values[k][1] == "=" for k in range(i + 1, j + 1)) and comparable(a, b) and not agree(a, b):
            worked = f"{left} is {show(a)}" if _bare(left) != _bare(show(a)) else left
            raise SidesDisagree(f"the sides of {quoted(text)} disagree: {worked}, not {right}; give only your answer")
    if len(readable) > 1:  # a worked equation, not just a label (x1 = 2)
        reading.note(f"Took the last side of {text.strip()}.")
    return readable[-1][2]


# What a left side that names the quantity looks like: σ'(z), f(x), y, dL/dw, ∂L/∂w, d/dz σ(z), ∇f(x), ∇_w L.
_NAME = r"[A-Za-z\u0370-\u03ff][\w\u0370-\u03ff]{0,12}"
_NAMED_SIDE = re.compile(
    rf"^\s*(?:{_NAME}'*(?:\([^()=]{{0,30}}\))?"
    rf"|[d∂]{_NAME}?\s*/\s*[d∂]{_NAME}(?:\([^()=]{{0,30}}\))?"
    rf"|[d∂]\s*/\s*[d∂]{_NAME}\s*{_NAME}?'*(?:\([^()=]{{0,30}}\))?"
    rf"|∇(?:_?{_NAME})?\s*{_NAME}?(?:\([^()=]{{0,30}}\))?)\s*$"
)


def formula_after_name(text: str, reading: Reading) -> str:
    """``σ'(z) = σ(z)(1 − σ(z))`` → ``σ(z)(1 − σ(z))``: one ``=`` whose left side only names what is asked
    (told); any other text is returned as it is."""
    equals = top_level(text, _EQUALS)
    if len(equals) != 1 or equals[0].group() != "=":
        return text
    left, right = text[: equals[0].start()], text[equals[0].end() :].strip()
    if not right or not _NAMED_SIDE.match(left):
        return text
    reading.note(f"Read the formula after {left.strip()} =.")
    return right
