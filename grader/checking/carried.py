"""Error carried forward: what an answer should be, given the student's own earlier values.

Two sources: a part's ``carried`` expression recomputes its whole reference
from the student's answers to earlier parts (``values(f, student("iterates"))``),
and a sequence's ``step`` gives item k from the student's own items
x₀ … x_{k−1}. Either returns None where it cannot be computed (an earlier
part unreadable, a value out of the rule's domain), and the checker then
falls back to the reference.

Carried credit cannot be gamed:

* the start x₀ of a sequence is given in the prompt, so a wrong x₀ is not a
  slip: nothing after it earns carried credit;
* a sequence that never moves (every item the same) earns no carried credit
  unless the reference stands still too: ``0, 0, 0, 0`` "follows" from a
  wrong start at the minimum, and ``2, 2, 2`` from those iterates, but
  neither is a computation of the update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.checking.compare import plain_equal, same_value
from grader.checking.key import AnswerKey
from grader.checking.outcome import plain

_CANNOT = (KeyError, TypeError, ValueError, ArithmeticError)


def carried_reference(key: AnswerKey, earlier: Mapping[str, Any]) -> Any:
    """The reference recomputed from the student's own earlier answers, or None when it cannot be."""
    if key.carried is None:
        return None
    try:
        carried = key.carried(earlier)
    except _CANNOT:
        return None
    if key.kind == "sequence" and stands_still(carried) and not stands_still(key.reference):
        return None
    return carried


def stands_still(items: Any) -> bool:
    """Whether a sequence of two or more items never moves (every item equal to the first)."""
    if not isinstance(items, list) or len(items) < 2:
        return False
    first = plain(items[0])
    return all(plain_equal(plain(item), first) for item in items[1:])


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
    the reference and each later item from the student's items before it;
    nothing after a wrong x₀, nor for a sequence that stands still while the
    reference moves (see the module).
    """
    carried = carried_reference(key, earlier)
    if carried is not None and len(carried) == len(value):
        return list(carried)
    unknown = [key.reference[0]] + [None] * (len(value) - 1)
    if not value or not same_value(value[0], key.reference[0], key.tolerance, coarse_ok=True):
        return unknown  # a wrong given start: nothing follows from it
    if stands_still(value) and not stands_still(key.reference):
        return unknown
    return [key.reference[0]] + [next_item(key, value[:k]) for k in range(1, len(value))]
