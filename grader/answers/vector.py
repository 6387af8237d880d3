"""``type: vector``: a fixed number of numbers; its length first, then each component."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.answers.base import (
    EXPRESSION,
    NUMBER_ITEM,
    AnswerType,
    example_numbers,
    list_or_text,
    listed,
    register,
)
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.values import judge_value, wrong_components
from grader.contract import PartResult


@register
@dataclass(frozen=True)
class VectorAnswer(AnswerType):
    name = "vector"
    options = {"carried": EXPRESSION}
    description = "A vector: a JSON list of numbers, or text such as `[3.5, 2]`, `(3.5, 2)` or `3.5, 2`."

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_vector(raw, len(key.reference), notes=notes)

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        return judge_value(key, value, earlier) or wrong_components(key, value)

    def hint(self, key: AnswerKey) -> str:
        count = len(key.reference)
        return f"write {count} numbers separated by commas, like {listed(example_numbers(count, key.reference), count)}"

    def schema(self) -> dict[str, Any]:
        return list_or_text(NUMBER_ITEM, self.description)
