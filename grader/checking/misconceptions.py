"""Recognising a misconception: the first written rule whose recomputed answer the student gave.

:func:`first_match` is the one place every answer type asks "which wrong
belief explains this value?". Each type passes its own notion of "the same
value" (numbers at the precision typed, labels exactly, formulas
symbolically), so the rules and their order are shared by all types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader.checking.compare import plain_equal
from grader.checking.key import AnswerKey
from grader.checking.outcome import fmt, result
from grader.contract import PartResult

Same = Callable[[Any, Any], bool]  # (student's value, a rule's answer) → is it that answer?


def first_match(key: AnswerKey, value: Any, same: Same) -> PartResult | None:
    """The result of the first misconception rule whose answer ``same`` finds in ``value``, or None.

    A rule whose answer equals the reference in this variant is skipped (it
    cannot be told apart). The rule's sentence may use ``{student}`` (the
    value given) and ``{answer}`` (the right value, unless the key is secret).
    """
    for rule in key.misconceptions:
        if plain_equal(rule.answer, key.reference):
            continue
        if same(value, rule.answer):
            status = "partial" if rule.credit > 0 else "incorrect"
            right = "the right value" if key.secret else fmt(key.reference)
            feedback = rule.feedback.replace("{student}", fmt(value)).replace("{answer}", right)
            return result(key, rule.credit, status, feedback, rule.id)
    return None
