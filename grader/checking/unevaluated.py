"""Answers left partly symbolic where numbers are asked: diagnosed, not refused.

A student who writes the Hessian ``[[6x, 0], [0, 2]]`` where its value at a
point is asked has done most of the work and stopped before putting the
point in. Reading such an answer as numbers fails (``x`` is not a number),
but refusing it as unreadable says nothing about the mistake. Here the
answer is read as formulas in the variables (the whitelist parser of
:mod:`grader.expressions`, nothing evaluated as code), and when the part
knows its point (``hessian(f, points[0])``: :attr:`AnswerKey.at`) the
formulas are evaluated there and the result is judged like any answer:

* right once evaluated: ``not-evaluated``, half credit, saying where to evaluate;
* wrong once evaluated: what the judgement of the evaluated value says (a
  misconception, the wrong entries), at half its credit, with ``left-symbolic``;
* no point known: ``left-symbolic``, no credit, naming the variable left in.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import Any

from grader.checking.compare import shape
from grader.checking.key import AnswerKey
from grader.checking.outcome import fmt, result
from grader.checking.reading import ReadError
from grader.contract import PartResult
from grader.expressions import DEFAULT_VARIABLES, ExpressionError, Formula, normalise, parse

NOT_EVALUATED_CREDIT = 0.5  # of what the evaluated answer earns


def formulas(raw: Any, variables: frozenset[str] = DEFAULT_VARIABLES) -> Any:
    """The answer as a formula, or a (nested) list of formulas, when it is one and uses a variable; else None."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        source = normalise(raw, variables)
        tree = ast.parse(source, mode="eval").body
        structure = _structure(tree, source, variables, depth=0)
    except (ExpressionError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return structure if _names(structure) else None


def _structure(node: ast.expr, source: str, variables: frozenset[str], depth: int) -> Any:
    if isinstance(node, ast.List | ast.Tuple):
        if depth >= 2 or not node.elts:
            raise ValueError("not a vector or matrix")
        return [_structure(item, source, variables, depth + 1) for item in node.elts]
    text = ast.get_source_segment(source, node) or ast.unparse(node)
    return parse(text, variables)


def _names(structure: Any) -> set[str]:
    if isinstance(structure, Formula):
        return set(structure.names)
    return set().union(*(_names(item) for item in structure)) if structure else set()


def _typed(formula: Formula) -> str:
    """A formula as the student typed it, near enough: ``6 * x`` → ``6x``."""
    return re.sub(r"(\d)\s*\*\s*(?=[A-Za-z(])", r"\1", formula.text).replace(" * ", "·")


def _shown(structure: Any) -> str:
    if isinstance(structure, Formula):
        return _typed(structure)
    return "[" + ", ".join(_shown(item) for item in structure) + "]"


def _symbolic_items(structure: Any) -> list[str]:
    if isinstance(structure, Formula):
        return [_typed(structure)] if structure.names else []
    return [text for item in structure for text in _symbolic_items(item)]


def _evaluated(structure: Any, point: Mapping[str, float]) -> Any:
    if isinstance(structure, Formula):
        return structure.evaluate(dict(point))
    return [_evaluated(item, point) for item in structure]


def diagnose(key: AnswerKey, raw: Any, judge: Callable[[Any], PartResult]) -> PartResult | None:
    """The result of an answer that reads as formulas where numbers are asked, or None when it does not.

    ``judge`` is how the part's type judges numbers (the formulas evaluated at the part's point, plain floats
    in the reference's shape); it raises ReadError for numbers the type cannot take.
    """
    point = key.at() if key.at is not None else None
    variables = frozenset(point) if point else DEFAULT_VARIABLES
    structure = formulas(raw, variables)
    if structure is None or shape(structure) != shape(key.reference):
        return None
    left = sorted(_names(structure))
    where = ", ".join(_symbolic_items(structure)[:3])
    said = f"Your answer still contains {' and '.join(left)} (in {where}): this part asks for numbers"
    if not point or not set(left) <= set(point):
        feedback = f"{said}; put in the values the question gives for {' and '.join(left)}."
        return result(key, 0.0, "incorrect", feedback, "left-symbolic", left_symbolic=_shown(structure))
    at = ", ".join(f"{name} = {fmt(value)}" for name, value in point.items())
    try:
        value = _evaluated(structure, point)
        judged = judge(value)
    except (ExpressionError, ReadError):  # undefined there, or no number (a division by zero, an overflow)
        return result(key, 0.0, "incorrect", f"{said}, at {at}.", "left-symbolic", left_symbolic=_shown(structure))
    fraction = NOT_EVALUATED_CREDIT * judged.score / key.points if key.points else 0.0
    shown = fmt(value)
    details = {**judged.details, "left_symbolic": _shown(structure), "evaluated": shown}
    if judged.status == "correct":
        feedback = f"{said}: evaluated at {at} it is {shown}, which is right (half credit: give the numbers)."
        return result(key, fraction, "partial", feedback, "not-evaluated", **details)
    found = judged.misconception
    details["also"] = [*details.get("also", []), "left-symbolic"] if found else []
    if not found:
        details.pop("also")
    feedback = f"{said}; evaluated at {at} it is {shown}, and that is not right either: {judged.feedback}"
    status = "partial" if fraction > 0 else "incorrect"
    return result(key, fraction, status, feedback, found or "left-symbolic", **details)
