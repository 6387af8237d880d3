"""Building a part's result: the score from a fraction of its points, and values written as students write them."""

from __future__ import annotations

from typing import Any

from grader.checking.key import AnswerKey
from grader.checking.reading import Number
from grader.contract import PartResult, Status


def result(
    key: AnswerKey,
    fraction: float,
    status: Status,
    feedback: str,
    misconception: str | None = None,
    **details: Any,
) -> PartResult:
    """The part's result with ``fraction`` of its points (rounded to 6 places)."""
    return PartResult(
        id=key.part,
        score=round(key.points * fraction, 6),
        max_score=key.points,
        status=status,
        feedback=feedback,
        misconception=misconception,
        details=details,
    )


def sentence(text: str) -> str:
    """``could not read 'x'`` → ``Could not read 'x'.``"""
    text = text.strip()
    return (text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?", "…")) else ".")) if text else text


def fmt(value: Any) -> str:
    """A value as a student would write it: 6 significant figures, lists in brackets."""
    if isinstance(value, Number):
        return value.text
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, float | int) and not isinstance(value, bool):
        text = f"{float(value):.6g}"
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def subscript(index: int) -> str:
    """``12`` → ``₁₂``."""
    return str(index).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def plain(value: Any) -> Any:
    """A read value as plain data: numbers as floats, lists of them as lists."""
    if isinstance(value, Number):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
