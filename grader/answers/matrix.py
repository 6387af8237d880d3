"""``type: matrix``: rows of numbers; its shape first, then each entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.answers.base import (
    NUMBER_ITEM,
    SHOWN,
    Example,
    ValueAnswer,
    example_numbers,
    list_or_text,
    plural,
    register,
)
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.read_as import number


@register
@dataclass(frozen=True)
class MatrixAnswer(ValueAnswer):
    name = "matrix"
    description = "A matrix: a JSON list of rows (`[[1, 0], [0, 1]]`), or the same typed as text."
    examples = (
        Example("[[6, 0], [0, 2]]", [[6.0, 0.0], [0.0, 2.0]], "correct", "[[6, 0], [0, 2]]"),
        Example("6 0; 0 2", [[6.0, 0.0], [0.0, 2.0]], "correct", "[[6, 0], [0, 2]]", why="rows as MATLAB writes them"),
        Example("[[6, 0], [0, 1]]", [[6.0, 0.0], [0.0, 2.0]], "partial", "[[6, 0], [0, 1]]", why="one entry wrong"),
        Example(
            "[[6x, 0], [0, 2]]", [[6.0, 0.0], [0.0, 2.0]], "incorrect", why="a formula left where numbers are asked"
        ),
        Example("[6, 2]", [[6.0, 0.0], [0.0, 2.0]], "invalid", why="not a 2 × 2 matrix"),
    )

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_matrix(raw, (len(key.reference), len(key.reference[0])), notes=notes)

    def read_as(self, key: AnswerKey, value: Any) -> tuple[str, str | None, str | None]:
        rows = [[number(entry) for entry in row] for row in value]
        text = "[" + ", ".join("[" + ", ".join(t for t, _ in row) + "]" for row in rows) + "]"
        body = r" \\ ".join(" & ".join(x for _, x in row) for row in rows)
        return text, r"\begin{pmatrix}" + body + r"\end{pmatrix}", f"{len(value)} × {len(value[0])} matrix"

    def hint(self, key: AnswerKey) -> str:
        rows, columns = len(key.reference), len(key.reference[0])
        numbers = example_numbers(rows * columns, key.reference)
        shown = ["[" + ", ".join(numbers[r * columns : (r + 1) * columns]) + "]" for r in range(min(rows, SHOWN))]
        example = "[" + ", ".join(shown + (["…"] if rows > SHOWN else [])) + "]"
        return f"write {plural(rows, 'row')} of {plural(columns, 'number')} each, like {example}"

    def schema(self) -> dict[str, Any]:
        return list_or_text({"type": "array", "items": NUMBER_ITEM}, self.description)
