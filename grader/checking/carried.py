"""Error carried forward: what an answer should be, given the student's own earlier values.

Two sources: a part's ``carried`` expression recomputes its whole reference
from the student's answers to earlier parts (``values(f, student("iterates"))``),
and a sequence's ``step`` gives item k from the student's own items
x₀ … x_{k−1}. Either returns None where it cannot be computed (an earlier
part unreadable, a value out of the rule's domain), and the checker then
falls back to the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.checking.key import AnswerKey
from grader.checking.outcome import plain

_CANNOT = (KeyError, TypeError, ValueError, ArithmeticError)


def carried_reference(key: AnswerKey, earlier: Mapping[str, Any]) -> Any:
    """The reference recomputed from the student's own earlier answers, or None when it cannot be."""
    if key.carried is None:
        return None
    try:
        return key.carried(earlier)
    except _CANNOT:
        return None


def next_item(key: AnswerKey, prefix: list[Any]) -> Any:
    """The update rule applied after the student's own items x₀ … x_{k−1} (None without a rule)."""
    if key.step is None:
        return None
    try:
        return key.step(plain(prefix))
    except _CANNOT:
        return None


def expected_items(key: AnswerKey, value: list[Any], earlier: Mapping[str, Any]) -> list[Any]:
    """What each item of a sequence should be given the student's own values (None where unknown).

    The carried-forward reference when it applies (same length), else x₀ from
    the reference and each later item from the student's items before it.
    """
    carried = carried_reference(key, earlier)
    if carried is not None and len(carried) == len(value):
        return list(carried)
    return [key.reference[0]] + [next_item(key, value[:k]) for k in range(1, len(value))]
