"""``type: expression``: a formula, equivalent to the reference (sympy in a worker, then numeric sampling).

A formula that is not the reference is named by the part's misconceptions, then by the catalogue's changes of
the reference formula (:data:`grader.specs.catalogue.FORMULA_CHANGES`: a sign, a factor, the chain rule stopped
one link early, …); one that neither sympy nor sampling can decide waits for a TA (``needs_review``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader import budget
from grader.answers.base import TEXTS, AnswerType, Example, register
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.misconceptions import first_match
from grader.checking.outcome import result
from grader.contract import PartResult


def _compare(student: Any, reference: Any, variables: tuple[str, ...]) -> Any:
    with budget.uncounted():  # importing it once per process is not the answer's cost
        from grader.checking.symbolic import compare  # its worker starts only when a formula is checked

    return compare(student, reference, variables)


def _same_formula(student: Any, answer: Any, variables: tuple[str, ...]) -> bool:
    """Is the student's formula a misconception's (or a catalogue change's) formula? Floating point first rules
    out the formulas that are clearly different (most of the catalogue's), so that only a likely match costs a
    proof by the sympy workers."""
    from grader.checking.symbolic import could_be_equal, reference_formula

    try:
        formula = reference_formula(answer, variables)
    except ValueError:
        return False
    return could_be_equal(student, formula) and _compare(student, formula, variables).equal


@register
@dataclass(frozen=True)
class ExpressionAnswer(AnswerType):
    name = "expression"
    options = {"variables": TEXTS}
    description = "A formula as text, such as `x^2 + 2`, `2x` or `2*(x + 1)`."
    examples = (
        Example("2x + 20y", "2*x + 20*y", "correct", "2x + 20y", {"variables": ["x", "y"]}),
        Example("2(x + 10y)", "2*x + 20*y", "correct", options={"variables": ["x", "y"]}, why="any equal form"),
        Example("x^2 + 10y^2", "2*x + 20*y", "incorrect", options={"variables": ["x", "y"]}),
        Example("2x+20y+", "2*x + 20*y", "invalid", options={"variables": ["x", "y"]}, why="not a formula"),
    )
    variables: tuple[str, ...] = ("x",)

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_expression(raw, self.variables, notes=notes)

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        """The reference, then each misconception's formula, in the part's variables (see
        :mod:`grader.checking.symbolic`: a decimal that rounds an exact number is right with a note,
        one with too few figures earns partial credit)."""
        verdict = _compare(value, key.reference, self.variables)
        note = f" {verdict.note}" if verdict.note else ""
        if verdict.equal:
            return result(key, 1.0, "correct", f"Correct.{note}", method=verdict.how)
        found = first_match(key, value, lambda v, answer: _same_formula(v, answer, self.variables))
        if found:
            return found
        if verdict.how == "coarse":
            return result(key, verdict.credit, "partial", verdict.note, method=verdict.how)
        if verdict.how == "too-complex":
            return result(key, 0.0, "invalid", f"The formula could not be checked in time.{note}", method=verdict.how)
        if verdict.how == "review":  # neither proved nor disproved: a person decides, it is not marked wrong
            return result(key, 0.0, "needs_review", verdict.note, method=verdict.how, reason="formula undecided")
        return result(
            key, 0.0, "incorrect", f"{value.text} is not equivalent to the expected formula.{note}", method=verdict.how
        )

    def hint(self, key: AnswerKey) -> str:
        names = self.variables or ("x",)
        example = " - ".join([f"3*{names[0]}^3", *(f"4*{v}" for v in names[1:])] or ["3"])
        return f"write a formula in {' and '.join(names)}, like {example}"

    def schema(self) -> dict[str, Any]:
        return {"description": self.description, "anyOf": [{"type": "string"}, {"type": "number"}]}
