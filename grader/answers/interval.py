"""``type: interval``: a range of the real line, with open or closed ends (``0 < eta < 1``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.answers.base import AnswerType, Example, register
from grader.checking import reading
from grader.checking.compare import same_interval
from grader.checking.key import AnswerKey
from grader.checking.misconceptions import first_match
from grader.checking.outcome import result
from grader.contract import PartResult

OPEN_UNIT = reading.Interval(0.0, 1.0, False, False)  # (0, 1), in the examples


@register
@dataclass(frozen=True)
class IntervalAnswer(AnswerType):
    name = "interval"
    description = "An interval as text: `(0, 1)`, `[0, 1)`, `]0, 1[`, `0 < eta < 1`, `eta > 0 and eta < 1`."
    examples = (
        Example("(0, 1)", OPEN_UNIT, "correct", "(0, 1)"),
        Example("0 < eta < 1", OPEN_UNIT, "correct", "(0, 1)", why="inequalities in the parameter"),
        Example("]0, 1[", OPEN_UNIT, "correct", "(0, 1)", why="the French notation"),
        Example("[0, 1]", OPEN_UNIT, "incorrect", "[0, 1]", why="the ends do not belong"),
        Example("between 0 and 1", OPEN_UNIT, "invalid", why="whether the ends belong is not said"),
    )

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_interval(raw, notes=notes)

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        if same_interval(value, key.reference, key.tolerance):
            return result(key, 1.0, "correct", "Correct.")
        found = first_match(key, value, lambda v, answer: same_interval(v, answer, key.tolerance))
        return found or result(key, 0.0, "incorrect", f"{value} is not the right interval.")

    def hint(self, key: AnswerKey) -> str:
        return "write an interval such as (a, b), [a, b) or a < eta < b, with numbers for a and b"

    @classmethod
    def fits(cls, answer: Any, reference: Any) -> bool:
        return type(answer) is type(reference)

    def submitted(self, value: Any) -> Any:
        return str(value)

    def schema(self) -> dict[str, Any]:
        return {"description": self.description, "type": "string"}
