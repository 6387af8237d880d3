"""``type: vector``: a fixed number of numbers; its length first, then each component."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.answers.base import NUMBER_ITEM, Example, ValueAnswer, example_numbers, list_or_text, listed, register
from grader.checking import reading
from grader.checking.key import AnswerKey


@register
@dataclass(frozen=True)
class VectorAnswer(ValueAnswer):
    name = "vector"
    description = "A vector: a JSON list of numbers, or text such as `[3.5, 2]`, `(3.5, 2)` or `3.5, 2`."
    examples = (
        Example("(3.5, 2)", [3.5, 2.0], "correct", "(3.5, 2)"),
        Example("3.5 2", [3.5, 2.0], "correct", "(3.5, 2)", why="spaces between numbers"),
        Example("[3.5; 2]", [3.5, 2.0], "correct", "(3.5, 2)", why="a column as MATLAB writes it"),
        Example("[-3.5, 2]", [3.5, 2.0], "partial", "(−3.5, 2)", why="one component of two wrong"),
        Example("[3.5, 2, 0]", [3.5, 2.0], "invalid", why="three numbers where two are asked"),
    )

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_vector(raw, len(key.reference), notes=notes)

    def read_as(self, key: AnswerKey, value: Any) -> tuple[str, str | None, str | None]:
        text, latex, size = super().read_as(key, value)
        return f"({text})", r"\left(" + str(latex) + r"\right)", size

    def hint(self, key: AnswerKey) -> str:
        count = len(key.reference)
        return f"write {count} numbers separated by commas, like {listed(example_numbers(count, key.reference), count)}"

    def schema(self) -> dict[str, Any]:
        return list_or_text(NUMBER_ITEM, self.description)
