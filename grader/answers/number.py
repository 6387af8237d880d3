"""``type: number``: one real number, judged at the precision the student typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.answers.base import ValueAnswer, example_numbers, number_or_text, register
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.outcome import result
from grader.contract import PartResult


@register
@dataclass(frozen=True)
class NumberAnswer(ValueAnswer):
    name = "number"
    description = "One number: a JSON number, or text such as `3.5`, `−2`, `1e-3`, `10/3`, `sqrt(2)`."

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_number(raw, "a number", notes=notes)

    def wrong(self, key: AnswerKey, value: Any) -> PartResult:
        return result(key, 0.0, "incorrect", f"{value.text} is not right.")

    def hint(self, key: AnswerKey) -> str:
        return f"write one number, like {example_numbers(1, key.reference)[0]}"

    def schema(self) -> dict[str, Any]:
        return number_or_text(self.description)
