"""``type: sequence``: iterates x₀, x₁, … (numbers or vectors), each judged with error carried forward.

Item k is right when it is the reference's, or what the update rule (the
part's ``step``) gives from the student's own items before it; so one slip
costs one item's share, and the feedback names the first wrong step. An
item that follows from the student's own values only by repeating one of
them (a wrong step onto a fixed point of the rule, then the same value again)
is judged against the reference alone, and the feedback says so (see
:mod:`grader.checking.carried` for what earns no carried credit). The
catalogue's changes are tried after carried forward: a value that follows
from the student's own earlier value is not a new mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from grader.answers.base import (
    EXPRESSION,
    NUMBER_ITEM,
    TEXT,
    AnswerType,
    Example,
    example_numbers,
    list_or_text,
    listed,
    register,
)
from grader.checking import reading
from grader.checking.carried import carried_reference, expected_items, repeated_items, stands_still
from grader.checking.compare import credit, same_value, shape
from grader.checking.key import AnswerKey
from grader.checking.misconceptions import first_match, searched_match
from grader.checking.outcome import fmt, plain, result, subscript
from grader.checking.values import CONSISTENT, coarse_feedback
from grader.contract import PartResult

RUN = [4.0, 2.0, 1.0, 0.5, 0.25, 0.125]  # gradient descent on x² + 2 from 4 with η = 0.25 (the examples)
COUNTED_WRONG = 0.5  # a right run that goes on too long (as off-by-one's); one that stops early, that share of it


@register
@dataclass(frozen=True)
class SequenceAnswer(AnswerType):
    name = "sequence"
    options = {"item": TEXT, "step": EXPRESSION, "carried": EXPRESSION}
    description = (
        "A sequence: a JSON list of numbers or of vectors, or text such as `4, 2, 1, 0.5` or `[[4, 3], [3.5, 2]]`."
    )
    examples = (
        Example("4, 2, 1, 0.5, 0.25, 0.125", RUN, "correct", "4, 2, 1, 0.5, 0.25, 0.125"),
        Example("4, 2, 1, 1/2, 1/4, 1/8", RUN, "correct", "4, 2, 1, ½, ¼, ⅛", why="fractions are shown as fractions"),
        Example("4 2 1 .5 .25 .125", RUN, "correct", "4, 2, 1, .5, .25, .125", why="spaces, and decimals without 0"),
        Example("4, 2, 1, 0.5, 0.25, 0.1", RUN, "partial", why="the last step wrong: five items of six earn"),
        Example("4, 2, 1, 0.5", RUN, "partial", "4, 2, 1, 0.5", why="stopped two steps early"),
    )

    item: str = "x"  # how items are named in feedback: x₀, x₁, …

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_sequence(raw, _item_length(key.reference), notes=notes)

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        reference, tolerance = key.reference, key.tolerance
        if same_value(value, reference, tolerance):
            return result(key, 1.0, "correct", "Correct.")
        exact = lambda v, answer: same_value(v, answer, tolerance)  # noqa: E731
        coarse = lambda v, answer: same_value(v, answer, tolerance, coarse_ok=True)  # noqa: E731
        found = first_match(key, value, exact, search=False)  # the catalogue only after carried forward
        if found:
            return found
        if len(value) != len(reference):
            found = searched_match(key, value, exact)
            if found:
                return found
            first, last = self.item + subscript(0), self.item + subscript(len(reference) - 1)
            expected_count = f"the list has {len(reference)} values, {first} to {last}; you gave {len(value)}"
            shared = min(len(value), len(reference))
            if shared >= 2 and all(coarse(value[k], reference[k]) for k in range(shared)):
                return result(
                    key,
                    COUNTED_WRONG * shared / len(reference),
                    "partial",
                    f"Your first {shared} values are right, but {expected_count}: count the steps again.",
                    "off-by-one",
                    expected_length=len(reference),
                )
            return result(
                key,
                0.0,
                "incorrect",
                f"Expected {len(reference)} values, {first} to {last}; you gave {len(value)}.",
                expected_length=len(reference),
            )
        expected = expected_items(key, value, earlier)

        def share(item: Any, target: Any) -> float:
            """An item's credit: full, half per coarse number, none with any wrong component (a point is one item)."""
            return credit(item, target, tolerance) if target is not None and coarse(item, target) else 0.0

        repeated = repeated_items(key, value, expected)  # they follow only by copying: no carried credit
        shares = [
            max(share(item, reference[k]), 0.0 if k in repeated else share(item, expected[k]))
            for k, item in enumerate(value)
        ]
        wrong = [k for k, share in enumerate(shares) if share == 0.0]
        fraction = sum(shares) / len(shares)
        if not wrong:
            coarse = fraction < 1.0
            return result(
                key, fraction, "partial" if coarse else "correct", coarse_feedback(key) if coarse else CONSISTENT
            )
        found = first_match(key, value, coarse, search=False) or searched_match(key, value, coarse, at_least=fraction)
        if found and repeated:  # the mistake is named; the copied tail is still said
            return replace(found, feedback=f"{found.feedback} {repeated_sentence(self.item, value, repeated)}")
        if found:
            return found
        k = wrong[0]
        right = key.reference[k] if k in repeated else expected[k]  # a copied value is not what is expected
        where = {"first_wrong_step": k} if key.secret else {"first_wrong_step": k, "expected": plain(right)}
        return result(
            key,
            fraction,
            "partial" if fraction > 0 else "incorrect",
            self._feedback(key, value, expected, wrong, repeated, earlier),
            **where,
            got=plain(value[k]),
            wrong_steps=wrong,
            **({"repeated_steps": repeated} if repeated else {}),
        )

    def _feedback(
        self,
        key: AnswerKey,
        value: list[Any],
        expected: list[Any],
        wrong: list[int],
        repeated: list[int],
        earlier: Mapping[str, Any],
    ) -> str:
        """The first wrong step, from what it follows; then whether the later steps follow from it, and
        which of them only repeat the student's own values (they earn no carried credit)."""
        name, k = self.item, wrong[0]
        if k in repeated:  # follows from the student's earlier answers, by copying one of them
            right = "" if key.secret else f", expected {fmt(key.reference[k])}"
            sentence = f"{name}{subscript(k)} is off: you wrote {fmt(value[k])}{right}."
        elif key.secret:
            sentence = _secret_step(
                name, k, value, expected[k] is not None and carried_reference(key, earlier, moving=True) is None
            )
        elif expected[k] is None:
            sentence = f"{name}{subscript(k)} is off: you wrote {fmt(value[k])}, expected {fmt(key.reference[k])}."
            return f"{sentence} {repeated_sentence(name, value, repeated)}" if repeated else sentence
        elif carried_reference(key, earlier, moving=True) is not None:
            sentence = f"{name}{subscript(k)} is off: from your answers it should be {fmt(expected[k])}; you wrote {fmt(value[k])}."
        elif k == 0:
            sentence = f"{name}{subscript(0)} is off: it is given as {fmt(expected[0])}; you wrote {fmt(value[0])}."
        else:
            sentence = (
                f"Step {k} is off: from {name}{subscript(k - 1)} = {fmt(value[k - 1])} the update gives "
                f"{name}{subscript(k)} = {fmt(expected[k])}; you wrote {fmt(value[k])}."
            )
        others = [i for i in wrong[1:] if i not in repeated]
        if range(k + 1, len(value)) and not others and not repeated:
            sentence += " Your later steps follow correctly from your value, so they keep their credit."
        elif others:
            named = ", ".join(f"{name}{subscript(i)}" for i in others)
            judged = all(expected[i] is None for i in others) and key.step is not None
            if judged and stands_still(value):
                sentence += f" Your values never move, so they cannot follow from the update; also off: {named}."
            elif judged:
                sentence += f" Nothing follows from a wrong start, so the later values are compared with the right ones; also off: {named}."
            else:
                sentence += f" Also off, even from your own values: {named}."
        if repeated:
            sentence += " " + repeated_sentence(name, value, repeated)
        return sentence

    def hint(self, key: AnswerKey) -> str:
        count, length = len(key.reference), _item_length(key.reference)
        if length is None:
            numbers = example_numbers(count, key.reference)
            return f"write {count} numbers separated by commas, like {listed(numbers, count)}"
        numbers = example_numbers(count * length, key.reference)
        points = ["[" + ", ".join(numbers[i * length : (i + 1) * length]) + "]" for i in range(count)]
        return f"write {count} points of {length} numbers each, like {listed(points, count)}"

    @classmethod
    def fits(cls, answer: Any, reference: Any) -> bool:
        """Any length, but items of the reference's shape (numbers, or points of d numbers)."""
        return isinstance(answer, list) and bool(answer) and {shape(a) for a in answer} == {shape(reference[0])}

    def plotted(self, value: Any) -> list[Any] | None:
        """The iterates as plain numbers (or points), drawn on the loss curve when the spec asks for a plot."""
        return plain(value)

    def schema(self) -> dict[str, Any]:
        item = {"anyOf": [*NUMBER_ITEM["anyOf"], {"type": "array", "items": NUMBER_ITEM}]}
        return list_or_text(item, self.description)


def _secret_step(name: str, k: int, value: list[Any], by_rule: bool) -> str:
    """The first wrong step of a secret key (a function's result on a hidden input): where, never the value."""
    if k == 0:
        return f"{name}{subscript(0)} is off: the list starts with the starting point; you gave {fmt(value[0])}."
    if by_rule:
        return (
            f"Step {k} is off: {name}{subscript(k)} = {fmt(value[k])} does not follow from "
            f"{name}{subscript(k - 1)} = {fmt(value[k - 1])} by the update rule."
        )
    return f"{name}{subscript(k)} is off: you gave {fmt(value[k])}."


def repeated_sentence(name: str, value: list[Any], repeated: list[int]) -> str:
    """Why items that follow from the student's own values by repeating one of them earn nothing, in one sentence."""
    names = ", ".join(f"{name}{subscript(i)}" for i in repeated)
    copied = list(dict.fromkeys(fmt(value[i]) for i in repeated))
    one = len(repeated) == 1
    return (
        f"{names} only {'repeats' if one else 'repeat'} your earlier "
        f"{'value' if len(copied) == 1 else 'values'} {' and '.join(copied)} while the right sequence keeps moving, "
        f"so {'it earns' if one else 'they earn'} no credit for following from your own values."
    )


def _item_length(reference: Any) -> int | None:
    """The length of each item when the items are vectors, None for numbers."""
    first = reference[0] if reference else None
    return len(first) if isinstance(first, list) else None
