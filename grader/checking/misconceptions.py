"""Recognising a misconception: the first written rule whose recomputed answer the student gave,
else the catalogue's small changes of the part's own computation that give it.

:func:`first_match` is the one place every answer type asks "which wrong
belief explains this value?". Each type passes its own notion of "the same
value" (numbers at the precision typed, labels exactly, formulas
symbolically), so the rules and their order are shared by all types.
Written rules come first; when none matches, :func:`searched_match` tries the
catalogue's answers for this part (see :mod:`grader.specs.catalogue`) and
reports a match like a written rule. Where several changes give the same
answer, the first is reported and the others are said too (``details.also``);
so are written rules with the same answer when the spec says
``on_collision: name-both``. :func:`shaped_match` recognises a written rule
whose answer has another shape than the part's (the gradient given where the
Hessian is asked) in an answer the part's own reader cannot read.
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
    for index, rule in enumerate(key.misconceptions):
        if plain_equal(rule.answer, key.reference):
            continue
        if same(value, rule.answer):
            status = "partial" if rule.credit > 0 else "incorrect"
            named = _named_both(key, rule, index, value, same)
            others = {**named, **(_same_answer(key, value, same, rule.id) if search else {})}
            sentences = [rule.feedback, *(change.feedback for change in others.values())]
            feedback = _joined([_filled(key, sentence, value) for sentence in sentences])
            details = {"also": list(others)} if others else {}
            return result(key, rule.credit, status, feedback, rule.id, **details)
    return searched_match(key, value, same) if search else None


def _named_both(key: AnswerKey, rule: Misconception, index: int, value: Any, same: Same) -> dict[str, Misconception]:
    """The later written rules that give the same answer where the spec says ``on_collision: name-both``."""
    found: dict[str, Misconception] = {}
    for other in key.misconceptions[index + 1 :]:
        both = "name-both" in (rule.on_collision, other.on_collision)
        if both and other.id != rule.id and other.id not in found and same(value, other.answer):
            found[other.id] = other
    return found


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


def shaped_match(key: AnswerKey, raw: Any) -> PartResult | None:
    """The first written rule whose answer has another shape than the reference and that ``raw``, read in
    that rule's shape (a number, a vector or a matrix), gives; None when there is none."""
    from grader.checking.compare import same_value
    from grader.checking.reading import ReadError, read_matrix, read_number, read_vector

    wanted = _shape(key.reference)
    for rule in key.misconceptions:
        shape = _shape(rule.answer)
        if shape is None or shape == wanted:
            continue
        try:
            if shape == ():
                value: Any = read_number(raw)
            elif len(shape) == 1:
                value = read_vector(raw, shape[0])
            else:
                value = read_matrix(raw, shape)  # type: ignore[arg-type]
        except ReadError:
            continue
        if same_value(value, rule.answer, key.tolerance):
            status = "partial" if rule.credit > 0 else "incorrect"
            return result(key, rule.credit, status, _filled(key, rule.feedback, value), rule.id, shape=list(shape))
    return None


def _shape(value: Any) -> tuple[int, ...] | None:
    """() for a number, (n,) for a vector, (r, c) for a matrix; None for anything else."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ()
    if isinstance(value, list) and value and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return (len(value),)
    if (
        isinstance(value, list)
        and value
        and all(isinstance(row, list) and len(row) == len(value[0]) and row for row in value)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for row in value for v in row)
    ):
        return (len(value), len(value[0]))
    return None
