"""Judging numbers, vectors and matrices (shared by the number, integer, vector and matrix types).

Order: the reference → ``correct``; the value carried forward from the
student's earlier answers → ``correct``; a misconception; the right value
rounded too coarsely → half credit per coarse number; a misconception
matched at the coarse precision. What is left is simply wrong, and the type
says so in its own words (:func:`wrong_components` for lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.checking.carried import carried_reference
from grader.checking.compare import Verdict, compare_numbers, credit, same_value
from grader.checking.key import AnswerKey
from grader.checking.misconceptions import first_match
from grader.checking.outcome import fmt, result
from grader.contract import PartResult

CONSISTENT = (
    "Not the reference value, but it follows correctly from your earlier answer, "
    "where the error was already counted, so it keeps its credit."
)
COARSE = "Some values are rounded too coarsely to check (half credit each): give at least {digits} significant figures."


def coarse_feedback(key: AnswerKey) -> str:
    return COARSE.format(digits=key.tolerance.min_digits)


def judge_value(key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult | None:
    """The result of a number, vector or matrix, or None when it is simply wrong (see the module)."""
    tolerance = key.tolerance
    if same_value(value, key.reference, tolerance):
        return result(key, 1.0, "correct", "Correct.")
    carried = carried_reference(key, earlier)
    if carried is not None and same_value(value, carried, tolerance):
        return result(key, 1.0, "correct", CONSISTENT)
    found = first_match(key, value, lambda v, answer: same_value(v, answer, tolerance))
    if found:
        return found
    share = credit(value, key.reference, tolerance)
    if share > 0 and same_value(value, key.reference, tolerance, coarse_ok=True):
        return result(key, share, "partial", coarse_feedback(key))
    return first_match(key, value, lambda v, answer: same_value(v, answer, tolerance, coarse_ok=True))


def wrong_components(key: AnswerKey, value: list[Any]) -> PartResult:
    """Name the wrong components (vector) or entries (matrix) and, unless the key is secret, their
    right values; the right ones keep their credit."""
    matrix = bool(value) and isinstance(value[0], list)
    flat_value = [n for row in value for n in row] if matrix else value
    flat_reference = [r for row in key.reference for r in row] if matrix else key.reference
    verdicts = compare_numbers(flat_value, flat_reference, key.tolerance)
    columns = len(key.reference[0]) if matrix else 1
    wrong = [i for i, v in enumerate(verdicts) if v is Verdict.MISMATCH]

    def place(i: int) -> str:
        return f"row {i // columns + 1} column {i % columns + 1}" if matrix else f"component {i + 1}"

    share = credit(value, key.reference, key.tolerance)
    where = ", ".join(
        f"{place(i)} ({flat_value[i].text}{'' if key.secret else f', expected {fmt(flat_reference[i])}'})"
        for i in wrong
    )
    others = " The other components are right." if len(wrong) < len(verdicts) else ""
    return result(
        key,
        share,
        "partial" if share > 0 else "incorrect",
        f"Not right: {where}.{others}",
        wrong=[place(i) for i in wrong],
    )
