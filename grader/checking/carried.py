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
  neither is a computation of the update;
* an item that follows from the student's own values only by repeating one
  of them earns no carried credit, unless the reference repeats there too
  (:func:`repeated_items`). Carried credit is for doing the remaining work
  right from a wrong start, not for steps that follow trivially: once a wrong
  step lands on a fixed point of the rule (``4, 2, 0, 0, 0, 0`` for gradient
  descent on x² + 2, stuck at the minimum the right run never reaches), every
  later step "follows" by copying it, and so do the values computed from those
  iterates (``18, 6, 2, 2, 2, 2``). Such items are judged against the reference
  alone, so a tail of them earns nothing, and an answer that is half or more
  such a tail earns at most half of the part (unless it is a misconception
  whose own credit is more; the catalogue's never are).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.checking.compare import Tolerance, close, plain_equal, same_value
from grader.checking.key import AnswerKey
from grader.checking.outcome import plain

_CANNOT = (KeyError, TypeError, ValueError, ArithmeticError)


def carried_reference(key: AnswerKey, earlier: Mapping[str, Any], moving: bool = False) -> Any:
    """The reference recomputed from the student's own earlier answers, or None when it cannot be.

    ``moving``: the part's items are steps of a run (a sequence), so a carried run that stands still while
    the reference moves is no reference (see the module)."""
    if key.carried is None:
        return None
    try:
        carried = key.carried(earlier)
    except _CANNOT:
        return None
    if moving and stands_still(carried) and not stands_still(key.reference):
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
    carried = carried_reference(key, earlier, moving=True)
    if carried is not None and len(carried) == len(value):
        return list(carried)
    unknown = [key.reference[0]] + [None] * (len(value) - 1)
    if not value or not same_value(value[0], key.reference[0], key.tolerance, coarse_ok=True):
        return unknown  # a wrong given start: nothing follows from it
    if stands_still(value) and not stands_still(key.reference):
        return unknown
    return [key.reference[0]] + [next_item(key, value[:k]) for k in range(1, len(value))]


def repeated_items(key: AnswerKey, value: list[Any], expected: list[Any]) -> list[int]:
    """The items that follow from the student's own values only by repeating one of them: no carried credit.

    Item k is one when it is what the student's own values give
    (``expected[k]``, from :func:`expected_items`) and not the reference's
    item, and it repeats an earlier item j of the student's while the
    reference's item k is not its item j: a tail at a fixed point of the
    rule that the right run never reaches, a cycle it never enters, or the
    values computed from such iterates. The rule knows nothing of the update
    or of the part: any step rule, any ``carried`` sequence. Honest carried
    credit is untouched: a slip followed by steps that keep moving
    (``4, 2, 1.5, 0.75, …``) repeats nothing, and a reference that stands
    still (a run started at the minimum) lets the student's items stand still
    with it.
    """
    tolerance, reference = key.tolerance, key.reference
    repeated = []
    for k in range(1, min(len(value), len(expected), len(reference))):
        target = expected[k]
        if target is None or not same_value(value[k], target, tolerance, coarse_ok=True):
            continue  # earns no carried credit anyway
        if same_value(value[k], reference[k], tolerance, coarse_ok=True):
            continue  # the reference's own item
        if any(
            _near(plain(value[k]), plain(value[j]), tolerance) and not _near(reference[k], reference[j], tolerance)
            for j in range(k)
        ):
            repeated.append(k)
    return repeated


def _near(a: Any, b: Any, tolerance: Tolerance) -> bool:
    """Two plain values (numbers or lists of them, the student's or the reference's) equal within ``tolerance``."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_near(x, y, tolerance) for x, y in zip(a, b, strict=True))
    try:
        return close(float(a), float(b), tolerance)
    except (TypeError, ValueError):
        return a == b
