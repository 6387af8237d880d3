"""``type: integer``: a count, exact (``4e1`` is 40, not a number given to one figure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from grader.answers.base import WHOLE_EXAMPLES, ValueAnswer, example_numbers, register
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.outcome import result
from grader.contract import PartResult


@register
@dataclass(frozen=True)
class IntegerAnswer(ValueAnswer):
    name = "integer"
    description = "A whole number: a JSON integer, or text such as `38` or `1200/50`."

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        """A whole number is exact; a number with decimals keeps its digits, so that a misconception's
        answer (``0.027`` for B/n = 0.02667) is recognised at the precision typed."""
        number = reading.read_number(raw, "a whole number", notes=notes)
        return replace(number, digits=None) if float(number.value).is_integer() else number

    def wrong(self, key: AnswerKey, value: Any) -> PartResult:
        if not float(value.value).is_integer():
            return result(key, 0.0, "incorrect", f"{value.text} is not a whole number, but this asks for a count.")
        return result(key, 0.0, "incorrect", f"{value.text} is not right.")

    def hint(self, key: AnswerKey) -> str:
        return f"write a whole number, like {example_numbers(1, key.reference, WHOLE_EXAMPLES)[0]}"

    def schema(self) -> dict[str, Any]:
        return {"description": self.description, "anyOf": [{"type": "integer"}, {"type": "string"}]}
