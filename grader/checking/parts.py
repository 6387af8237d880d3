"""Checking one part: read the answer, compare it, recognise misconceptions, explain.

:func:`check_part` is the single entry point. It takes an :class:`AnswerKey`
(the reference value and the ordered misconception rules of one part of one
variant, already computed by the specs from the optimizer core) and the raw
answer, and returns a :class:`PartResult` and the value it read (so later
parts can carry the student's own values forward).

Order of judgement, for every type: unreadable → ``invalid``; the reference →
``correct``; each misconception rule in order → its credit and sentence;
then the type's own partial credit (error carried forward for sequences,
component by component for vectors, label by label for labels).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from grader.checking import reading
from grader.checking.compare import (
    Tolerance,
    Verdict,
    compare_numbers,
    credit,
    plain_equal,
    same_interval,
    same_value,
)
from grader.checking.reading import Interval, Number, ReadError
from grader.checking.result import PartResult

KINDS = (
    "number",
    "integer",
    "vector",
    "matrix",
    "sequence",
    "interval",
    "expression",
    "labels",
    "choice",
    "text",
)


@dataclass(frozen=True)
class Misconception:
    """A wrong belief, recomputed: the answer it leads to, the credit it keeps and why it is wrong."""

    id: str
    answer: Any
    credit: float
    feedback: str


@dataclass
class AnswerKey:
    """Everything needed to check one part of one variant (no student data)."""

    part: str
    kind: str
    points: float
    reference: Any
    misconceptions: tuple[Misconception, ...] = ()
    tolerance: Tolerance = field(default_factory=Tolerance)
    item_name: str = "x"  # sequence items are called x₀, x₁, … in feedback
    step: Callable[[list[Any]], Any] | None = None  # next item after the student's own prefix (error carried forward)
    carried: Callable[[Mapping[str, Any]], Any] | None = None  # reference from the student's own earlier answers
    variables: tuple[str, ...] = ("x",)
    cases: tuple[str, ...] = ()  # labels: what each label is for (e.g. "η = 0.05")
    labels: tuple[str, ...] = ()  # labels: the allowed labels; choice: the options
    aliases: Mapping[str, str] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()  # text: what a TA looks for
    symbolic: Callable[[Any, Any], Any] | None = None  # expression: a Comparison (grader.checking.symbolic)


@dataclass(frozen=True)
class Unanswered:
    """An answer that could not be obtained (a student's function raised, say), with the reason."""

    reason: str
    missing: bool = False


def check_part(key: AnswerKey, raw: Any, earlier: Mapping[str, Any] | None = None) -> tuple[PartResult, Any]:
    """Check one raw answer against its key; returns the result and the value read (None if unreadable)."""
    if isinstance(raw, Unanswered):
        return _result(key, 0.0, "missing" if raw.missing else "invalid", _sentence(raw.reason)), None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return _result(key, 0.0, "missing", "No answer was given for this part."), None
    try:
        value = _read(key, raw)
    except ReadError as exc:
        return _result(key, 0.0, "invalid", f"{_sentence(str(exc))} This part was not graded.", reason=str(exc)), None
    checker = _CHECKERS[key.kind]
    return checker(key, value, earlier or {}), value


def _read(key: AnswerKey, raw: Any) -> Any:
    if key.kind == "integer":  # a count is exact: 4e1 is 40, not 38 rounded to one figure
        return replace(reading.read_number(raw, "a whole number"), digits=None)
    if key.kind == "number":
        return reading.read_number(raw, "a number")
    if key.kind == "vector":
        return reading.read_vector(raw, len(key.reference))
    if key.kind == "matrix":
        return reading.read_matrix(raw, (len(key.reference), len(key.reference[0])))
    if key.kind == "sequence":
        first = key.reference[0] if key.reference else None
        return reading.read_sequence(raw, len(first) if isinstance(first, list) else None)
    if key.kind == "interval":
        return reading.read_interval(raw)
    if key.kind == "expression":
        return reading.read_expression(raw, key.variables)
    if key.kind == "labels":
        return [key.aliases.get(label, label) for label in reading.read_labels(raw, len(key.reference))]
    if key.kind == "choice":
        option = reading.read_choice(raw)
        return key.aliases.get(option, option)
    if key.kind == "text":
        return reading.read_text(raw)
    raise ValueError(f"unknown answer type {key.kind!r}")


def _result(
    key: AnswerKey,
    fraction: float,
    status: str,
    feedback: str,
    misconception: str | None = None,
    **details: Any,
) -> PartResult:
    return PartResult(
        id=key.part,
        score=round(key.points * fraction, 6),
        max_score=key.points,
        status=status,  # type: ignore[arg-type]
        feedback=feedback,
        misconception=misconception,
        details=details,
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")) if text else text


def fmt(value: Any) -> str:
    """A value as a student would write it: 6 significant figures, lists in brackets."""
    if isinstance(value, Number):
        return value.text
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, float | int) and not isinstance(value, bool):
        text = f"{float(value):.6g}"
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def subscript(index: int) -> str:
    return str(index).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _misconception(key: AnswerKey, value: Any, coarse_ok: bool = False) -> PartResult | None:
    """The first misconception rule whose recomputed answer the student gave, if any."""
    for rule in key.misconceptions:
        if _is_reference(key, rule.answer):
            continue  # indistinguishable from the right answer in this variant
        if same_value(value, rule.answer, key.tolerance, coarse_ok):
            status = "partial" if rule.credit > 0 else "incorrect"
            feedback = rule.feedback.replace("{student}", fmt(value)).replace("{answer}", fmt(key.reference))
            return _result(key, rule.credit, status, feedback, rule.id)
    return None


def _is_reference(key: AnswerKey, candidate: Any) -> bool:
    return plain_equal(candidate, key.reference)


_CONSISTENT = (
    "Not the reference value, but it follows correctly from your earlier answer, "
    "where the error was already counted, so it keeps its credit."
)
_COARSE = (
    "Some values are rounded too coarsely to check (half credit each): give at least {digits} significant figures."
)


def _carried(key: AnswerKey, earlier: Mapping[str, Any]) -> Any:
    """The reference recomputed from the student's own earlier answers, or None when it cannot be."""
    if key.carried is None:
        return None
    try:
        return key.carried(earlier)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None


def _check_value(key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
    """Numbers, vectors and matrices: the reference, the carried-forward value, misconceptions, then
    credit number by number (a number rounded too coarsely earns half)."""
    if same_value(value, key.reference, key.tolerance):
        return _result(key, 1.0, "correct", "Correct.")
    carried = _carried(key, earlier)
    if carried is not None and same_value(value, carried, key.tolerance):
        return _result(key, 1.0, "correct", _CONSISTENT)
    found = _misconception(key, value)
    if found:
        return found
    share = credit(value, key.reference, key.tolerance)
    if share > 0 and same_value(value, key.reference, key.tolerance, coarse_ok=True):
        return _result(key, share, "partial", _COARSE.format(digits=key.tolerance.min_digits))
    found = _misconception(key, value, coarse_ok=True)
    if found:
        return found
    if key.kind == "integer" and not float(value.value).is_integer():
        return _result(key, 0.0, "incorrect", f"{value.text} is not a whole number, but this asks for a count.")
    if isinstance(value, Number):
        return _result(key, 0.0, "incorrect", f"{value.text} is not right.")
    return _wrong_components(key, value, share)


def _wrong_components(key: AnswerKey, value: list[Any], share: float) -> PartResult:
    """Name the wrong components (vector) or entries (matrix); the right ones keep their credit."""
    matrix = bool(value) and isinstance(value[0], list)
    flat_value = [n for row in value for n in row] if matrix else value
    flat_reference = [r for row in key.reference for r in row] if matrix else key.reference
    verdicts = compare_numbers(flat_value, flat_reference, key.tolerance)
    columns = len(key.reference[0]) if matrix else 1
    wrong = [i for i, v in enumerate(verdicts) if v is Verdict.MISMATCH]

    def place(i: int) -> str:
        return f"row {i // columns + 1} column {i % columns + 1}" if matrix else f"component {i + 1}"

    where = ", ".join(f"{place(i)} ({flat_value[i].text}, expected {fmt(flat_reference[i])})" for i in wrong)
    others = " The other components are right." if len(wrong) < len(verdicts) else ""
    return _result(
        key,
        share,
        "partial" if share > 0 else "incorrect",
        f"Not right: {where}.{others}",
        wrong=[place(i) for i in wrong],
    )


def _check_sequence(key: AnswerKey, value: list[Any], earlier: Mapping[str, Any]) -> PartResult:
    """Error carried forward: item k is judged against the rule applied to the student's own items before it."""
    reference = key.reference
    if same_value(value, reference, key.tolerance):
        return _result(key, 1.0, "correct", "Correct.")
    found = _misconception(key, value)
    if found:
        return found
    if len(value) != len(reference):
        first, last = key.item_name + subscript(0), key.item_name + subscript(len(reference) - 1)
        return _result(
            key,
            0.0,
            "incorrect",
            f"Expected {len(reference)} values, {first} to {last}; you gave {len(value)}.",
            expected_length=len(reference),
        )
    expected = _expected_items(key, value, earlier)
    shares = [
        max(
            credit(item, reference[k], key.tolerance),
            0.0 if expected[k] is None else credit(item, expected[k], key.tolerance),
        )
        for k, item in enumerate(value)
    ]
    wrong = [k for k, share in enumerate(shares) if share == 0.0]
    fraction = sum(shares) / len(shares)
    if not wrong:
        coarse = fraction < 1.0
        return _result(
            key,
            fraction,
            "partial" if coarse else "correct",
            _COARSE.format(digits=key.tolerance.min_digits) if coarse else _CONSISTENT,
        )
    found = _misconception(key, value, coarse_ok=True)
    if found:
        return found
    status = "partial" if fraction > 0 else "incorrect"
    feedback = _sequence_feedback(key, value, expected, wrong, earlier)
    return _result(key, fraction, status, feedback, **_first_wrong(wrong, value, expected))


def _expected_items(key: AnswerKey, value: list[Any], earlier: Mapping[str, Any]) -> list[Any]:
    """What each item should be given the student's own values (None where that cannot be computed)."""
    carried = _carried(key, earlier)
    if carried is not None and len(carried) == len(value):
        return list(carried)
    return [key.reference[0]] + [_apply_step(key, value[:k]) for k in range(1, len(value))]


def _apply_step(key: AnswerKey, prefix: list[Any]) -> Any:
    """The rule applied after the student's own items x₀ … x_{k−1}."""
    if key.step is None:
        return None
    try:
        return key.step(_plain(prefix))
    except (ValueError, ArithmeticError, TypeError):
        return None


def _first_wrong(wrong: list[int], value: list[Any], expected: list[Any]) -> dict[str, Any]:
    k = wrong[0]
    return {
        "first_wrong_step": k,
        "expected": _plain(expected[k]),
        "got": _plain(value[k]),
        "wrong_steps": wrong,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Number):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _sequence_feedback(
    key: AnswerKey,
    value: list[Any],
    expected: list[Any],
    wrong: list[int],
    earlier: Mapping[str, Any],
) -> str:
    name = key.item_name
    k = wrong[0]
    if expected[k] is None:
        return f"{name}{subscript(k)} is off: you wrote {fmt(value[k])}, expected {fmt(key.reference[k])}."
    if key.carried is not None and _carried(key, earlier) is not None:
        sentence = f"{name}{subscript(k)} is off: from your answers it should be {fmt(expected[k])}; you wrote {fmt(value[k])}."
    elif k == 0:
        sentence = f"{name}{subscript(0)} is off: it is given as {fmt(expected[0])}; you wrote {fmt(value[0])}."
    else:
        sentence = (
            f"Step {k} is off: from {name}{subscript(k - 1)} = {fmt(value[k - 1])} the update gives "
            f"{name}{subscript(k)} = {fmt(expected[k])}; you wrote {fmt(value[k])}."
        )
    later = range(k + 1, len(value))
    if later and not any(i in wrong for i in later):
        sentence += " Your later steps follow correctly from your value, so they keep their credit."
    elif len(wrong) > 1:
        others = ", ".join(f"{name}{subscript(i)}" for i in wrong[1:])
        sentence += f" Also off, even from your own values: {others}."
    return sentence


def _check_interval(key: AnswerKey, value: Interval, earlier: Mapping[str, Any]) -> PartResult:
    if same_interval(value, key.reference, key.tolerance):
        return _result(key, 1.0, "correct", "Correct.")
    found = _misconception(key, value)
    if found:
        return found
    return _result(key, 0.0, "incorrect", f"{value} is not the right interval.")


def _check_labels(key: AnswerKey, value: list[str], earlier: Mapping[str, Any]) -> PartResult:
    """Each label is scored on its own."""
    unknown = [label for label in value if key.labels and label not in key.labels]
    if unknown:
        return _result(
            key,
            0.0,
            "invalid",
            f"Unknown label {unknown[0]!r}; use one of: {', '.join(key.labels)}. This part was not graded.",
        )
    wrong = [i for i, (got, want) in enumerate(zip(value, key.reference, strict=True)) if got != want]
    if not wrong:
        return _result(key, 1.0, "correct", "Correct.")
    found = _misconception(key, value)
    if found:
        return found
    fraction = (len(value) - len(wrong)) / len(value)
    cases = key.cases or tuple(str(i + 1) for i in range(len(value)))
    where = "; ".join(f"{cases[i]}: you wrote {value[i]}, it is {key.reference[i]}" for i in wrong)
    return _result(
        key,
        fraction,
        "partial" if fraction > 0 else "incorrect",
        f"Not right for {where}.",
        wrong_cases=[cases[i] for i in wrong],
    )


def _check_choice(key: AnswerKey, value: str, earlier: Mapping[str, Any]) -> PartResult:
    """One option: right, a misconception's option, or wrong (an option that is not offered is not graded)."""
    if key.labels and value not in key.labels:
        return _result(
            key,
            0.0,
            "invalid",
            f"{value!r} is not one of the options; choose one of: {', '.join(key.labels)}. This part was not graded.",
        )
    if value == key.reference:
        return _result(key, 1.0, "correct", "Correct.")
    found = _misconception(key, value)
    if found:
        return found
    return _result(key, 0.0, "incorrect", f"{value} is not right for these numbers.")


def _check_expression(key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
    """The reference (sympy, see :mod:`grader.checking.symbolic`), then each misconception's formula."""
    if key.symbolic is None:
        raise ValueError(f"part {key.part} has no symbolic comparator")
    verdict = key.symbolic(value, key.reference)
    note = f" {verdict.note}" if verdict.note else ""
    if verdict.equal:
        return _result(key, 1.0, "correct", f"Correct.{note}", method=verdict.how)
    for rule in key.misconceptions:
        if key.symbolic(value, rule.answer).equal:
            return _result(key, rule.credit, "partial" if rule.credit else "incorrect", rule.feedback, rule.id)
    if verdict.how == "coarse":
        return _result(key, verdict.credit, "partial", verdict.note.strip(), method=verdict.how)
    if verdict.how == "too-complex":
        return _result(key, 0.0, "invalid", f"The formula could not be checked in time.{note}", method=verdict.how)
    return _result(
        key,
        0.0,
        "incorrect",
        f"{value.text} is not equivalent to the expected formula.{note}",
        method=verdict.how,
    )


def _check_text(key: AnswerKey, value: str, earlier: Mapping[str, Any]) -> PartResult:
    """Free text is for a person to read: ``needs_review``, with the keywords it mentions as a hint."""
    lowered = value.lower()
    found = [k for k in key.keywords if k.lower() in lowered]
    missing = [k for k in key.keywords if k not in found]
    hint = f"mentions {', '.join(found) or 'none of the keywords'}" + (
        f"; not: {', '.join(missing)}" if missing else ""
    )
    return _result(
        key,
        0.0,
        "needs_review",
        "Your answer was recorded; a TA will read it.",
        keywords_found=found,
        keywords_missing=missing,
        hint=hint,
    )


_CHECKERS: dict[str, Callable[[AnswerKey, Any, Mapping[str, Any]], PartResult]] = {
    "number": _check_value,
    "integer": _check_value,
    "vector": _check_value,
    "matrix": _check_value,
    "sequence": _check_sequence,
    "interval": _check_interval,
    "expression": _check_expression,
    "labels": _check_labels,
    "choice": _check_choice,
    "text": _check_text,
}
