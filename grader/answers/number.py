"""``type: number``: one real number, judged at the precision the student typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.answers.base import Example, ValueAnswer, example_numbers, number_or_text, register
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.outcome import result
from grader.contract import PartResult


@register
@dataclass(frozen=True)
class NumberAnswer(ValueAnswer):
    name = "number"
    description = "One number: a JSON number, or text such as `3.5`, `−2`, `1e-3`, `10/3`, `sqrt(2)`."
    examples = (
        Example("2.015625", 2.015625, "correct", "2.015625"),
        Example("129/64", 2.015625, "correct", "2.015625", why="a fraction is worked out"),
        Example("2.02", 2.015625, "correct", "2.02", why="judged at the precision typed"),
        Example("2,015625", 2.015625, "correct", "2.015625", why="a decimal comma, said in the feedback"),
        Example("2.5", 2.015625, "incorrect", "2.5"),
        Example("about 2", 2.015625, "invalid", why="an estimate is not a value"),
        Example("2.0156 or 2.0157", 2.015625, "invalid", why="two answers: the student is asked which"),
    )

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_number(raw, "a number", notes=notes)

    def wrong(self, key: AnswerKey, value: Any) -> PartResult:
        return result(key, 0.0, "incorrect", f"{value.text} is not right.")

    def hint(self, key: AnswerKey) -> str:
        return f"write one number, like {example_numbers(1, key.reference)[0]}"

    def schema(self) -> dict[str, Any]:
        return number_or_text(self.description)
