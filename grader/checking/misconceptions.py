"""Recognising a misconception: the first written rule whose recomputed answer the student gave,
else the catalogue's small changes of the part's own computation that give it.

:func:`first_match` is the one place every answer type asks "which wrong
belief explains this value?". Each type passes its own notion of "the same
value" (numbers at the precision typed, labels exactly, formulas
symbolically), so the rules and their order are shared by all types.
Written rules come first; when none matches, :func:`searched_match` tries the
catalogue's answers for this part (see :mod:`grader.specs.catalogue`) and
reports a match like a written rule. Where several changes give the same
answer, the first is reported and the others are said too (``details.also``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader import budget
from grader.checking.compare import plain_equal
from grader.checking.key import AnswerKey, Misconception
from grader.checking.outcome import fmt, result
from grader.contract import PartResult

Same = Callable[[Any, Any], bool]  # (student's value, a rule's answer) → is it that answer?


def first_match(key: AnswerKey, value: Any, same: Same, search: bool = True) -> PartResult | None:
    """The result of the first misconception rule whose answer ``same`` finds in ``value``, or None.

    A rule whose answer equals the reference in this variant is skipped (it
    cannot be told apart). The rule's sentence may use ``{student}`` (the
    value given) and ``{answer}`` (the right value, unless the key is secret).
    With ``search``, the catalogue is tried when no written rule matches.
    """
    for rule in key.misconceptions:
        if plain_equal(rule.answer, key.reference):
            continue
        if same(value, rule.answer):
            status = "partial" if rule.credit > 0 else "incorrect"
            others = _same_answer(key, value, same, rule.id) if search else {}
            sentences = [rule.feedback, *(change.feedback for change in others.values())]
            feedback = _joined([_filled(key, sentence, value) for sentence in sentences])
            details = {"also": list(others)} if others else {}
            return result(key, rule.credit, status, feedback, rule.id, **details)
    return searched_match(key, value, same) if search else None


def searched_match(key: AnswerKey, value: Any, same: Same, at_least: float = 0.0) -> PartResult | None:
    """The catalogue's changes whose answer ``same`` finds in ``value``: the first reported, the others said too.

    The credit is the change's, or ``at_least`` (what error carried forward
    already gives) when that is more: naming a mistake never lowers a score.
    """
    if key.searched is None:
        return None
    found = _same_answer(key, value, same)
    if not found:
        return None
    first, *others = found.values()
    fraction = max(first.credit, at_least)
    details = {"also": [change.id for change in others]} if others else {}
    feedback = _joined([_filled(key, change.feedback, value) for change in found.values()])
    return result(key, fraction, "partial" if fraction > 0 else "incorrect", feedback, first.id, **details)


def _same_answer(key: AnswerKey, value: Any, same: Same, besides: str | None = None) -> dict[str, Misconception]:
    """The catalogue's changes whose answer is ``value``, the first of each misconception id, in catalogue order."""
    if key.searched is None:
        return {}
    with budget.uncounted():  # the catalogue's answers depend on the variant only, not on this answer
        changes = key.searched()
    found: dict[str, Misconception] = {}
    for change in changes:
        if change.id != besides and change.id not in found and same(value, change.answer):
            found[change.id] = change
    return found


def _joined(sentences: list[str]) -> str:
    """The first explanation, then the others that give the same answer."""
    if len(sentences) == 1:
        return sentences[0]
    return sentences[0] + " The same answer also comes from another slip: " + " ".join(sentences[1:])


def _filled(key: AnswerKey, feedback: str, value: Any) -> str:
    """A rule's sentence with ``{student}`` (the value given) and ``{answer}`` (the right value) filled in."""
    right = "the right value" if key.secret else fmt(key.reference)
    return feedback.replace("{student}", fmt(value)).replace("{answer}", right)
