"""``type: expression``: a formula, equivalent to the reference (sympy in a worker, then numeric sampling)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.answers.base import TEXTS, AnswerType, register
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.misconceptions import first_match
from grader.checking.outcome import result
from grader.contract import PartResult


def _equivalent(student: Any, reference: Any) -> tuple[bool, str]:
    from grader.checking.symbolic import equivalent  # starts a sympy worker: only when a formula is checked

    return equivalent(student, reference)


@register
@dataclass(frozen=True)
class ExpressionAnswer(AnswerType):
    name = "expression"
    options = {"variables": TEXTS}
    description = "A formula as text, such as `x^2 + 2`, `2x` or `2*(x + 1)`."
    variables: tuple[str, ...] = ("x",)

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_expression(raw, self.variables, notes=notes)

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        equal, how = _equivalent(value, key.reference)
        if equal:
            return result(key, 1.0, "correct", "Correct.", method=how)
        found = first_match(key, value, lambda v, answer: _equivalent(v, answer)[0])
        if found:
            return found
        if how == "too-complex":
            return result(key, 0.0, "invalid", "The formula is too complex to check in time; simplify it.", method=how)
        return result(key, 0.0, "incorrect", f"{value.text} is not equivalent to the expected formula.", method=how)

    def hint(self, key: AnswerKey) -> str:
        names = self.variables or ("x",)
        example = " - ".join([f"3*{names[0]}^3", *(f"4*{v}" for v in names[1:])] or ["3"])
        return f"write a formula in {' and '.join(names)}, like {example}"

    def schema(self) -> dict[str, Any]:
        return {"description": self.description, "anyOf": [{"type": "string"}, {"type": "number"}]}
