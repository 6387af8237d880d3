"""``type: integer``: a count, exact (``4e1`` is 40, not a number given to one figure).

Option ``unit``: what the part counts (``updates``, ``epochs``, ``batches`` or ``points``). The word a
student writes after the number is read, not dropped: ``24 steps`` or ``24 iterations`` where updates
are asked is right, ``24 epochs`` or ``24 batches`` names another quantity and earns at most
:data:`OTHER_UNIT_CREDIT`, with a sentence saying why.

Two whole numbers joined by ``/`` that are close to each other (``37/38``, ``24/25``: a quotient between
1/2 and 2 that is not whole) may be a fraction or two answers; for a count, the grader asks which
instead of guessing (a fraction written as working, ``1200/32``, is far from 1 and is read as one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from grader.answers.base import WHOLE_EXAMPLES, Example, Option, ValueAnswer, example_numbers, register
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.notation.hedges import ASK, ask_joined
from grader.checking.notation.words import QUANTITIES, quantity
from grader.checking.outcome import result
from grader.contract import PartResult

OTHER_UNIT_CREDIT = 0.5  # the right number counting another quantity (24 epochs for 24 updates)
_ASKED = {"updates": "updates (steps)", "epochs": "epochs", "batches": "batches", "points": "data points"}
_TWO_WHOLE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*\Z")
UNIT = Option(f"one of {', '.join(QUANTITIES)}", lambda v: isinstance(v, str) and v in QUANTITIES)


@register
@dataclass(frozen=True)
class IntegerAnswer(ValueAnswer):
    name = "integer"
    options: ClassVar[Mapping[str, Option]] = {**ValueAnswer.options, "unit": UNIT}
    description = "A whole number: a JSON integer, or text such as `38` or `1200/50`."
    examples = (
        Example("24", 24, "correct", "24", {"unit": "updates"}),
        Example("1200/50", 24, "correct", "24", {"unit": "updates"}, why="the division is worked out"),
        Example("24 epochs", 24, "partial", "24", {"unit": "updates"}, why="the right number of another quantity"),
        Example("24.5", 24, "incorrect", "24.5", {"unit": "updates"}, why="not a whole number"),
        Example("25", 24, "incorrect", "25", {"unit": "updates"}),
    )
    unit: str | None = None  # what the part counts; a number said to count another quantity is not full credit

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        """A whole number is exact; a number with decimals keeps its digits, so that a misconception's
        answer (``0.027`` for B/n = 0.02667) is recognised at the precision typed."""
        number = reading.read_number(raw, "a whole number", notes=notes)
        two = _TWO_WHOLE.match(number.text) if number.typed else None
        if two and not float(number.value).is_integer() and 0.5 <= number.value <= 2:
            raise reading.ReadError(ask_joined(number.text, two.group(1), "/", two.group(2)), kind=ASK)
        return replace(number, digits=None) if float(number.value).is_integer() else number

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        checked = super().check(key, value, earlier)
        named = quantity(value.unit) if self.unit and value.unit else None
        if named is None or named == self.unit:
            return checked
        why = (
            f"{value.text} {value.unit} counts {_ASKED[named]}, but this part asks for a number of {_ASKED[self.unit]}"
        )
        details = {**checked.details, "unit": value.unit, "unit_asked": self.unit}
        if checked.status == "correct":
            return result(
                key,
                OTHER_UNIT_CREDIT,
                "partial",
                f"{why}: the number is right, the quantity is not (half credit).",
                checked.misconception,
                **details,
            )
        return replace(checked, feedback=f"{why}. {checked.feedback}", details=details)

    def wrong(self, key: AnswerKey, value: Any) -> PartResult:
        if not float(value.value).is_integer():
            return result(key, 0.0, "incorrect", f"{value.text} is not a whole number, but this asks for a count.")
        return result(key, 0.0, "incorrect", f"{value.text} is not right.")

    def hint(self, key: AnswerKey) -> str:
        return f"write a whole number, like {example_numbers(1, key.reference, WHOLE_EXAMPLES)[0]}"

    def schema(self) -> dict[str, Any]:
        return {"description": self.description, "anyOf": [{"type": "integer"}, {"type": "string"}]}
