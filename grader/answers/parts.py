"""The part protocol: an answer to one part read, shown and checked by the part's answer type.

:func:`check_part` is the single entry point of grading a part. It takes an
:class:`~grader.checking.key.AnswerKey` (the reference value and the ordered
misconception rules of one part of one variant, computed by the specs from
the optimizer core) and the raw answer, and returns a
:class:`~grader.contract.PartResult` and the value it read (so later parts
can carry the student's own values forward).

Order of judgement, for every type: no answer → ``missing``; unreadable, or
not one answer (hedged, guessed, two answers offered: ``details["hedge"]``
says which) → ``invalid``, with the reader's reason and the accepted form for
this part;
then the part's answer type checks the value: the reference, each
misconception rule in order, then its own partial credit.
An answer of another shape than the part's (a vector where a matrix is asked)
that is a written misconception's answer is that misconception, not ``invalid``;
so is an answer left partly symbolic where numbers are asked (a Hessian entry
``6x``: :mod:`grader.checking.unevaluated`).
Whatever the reader had to interpret ("read 37,5 as 37.5") comes first in
the feedback and in ``details["read_as"]``.

:func:`read_answer` runs the same reader under one part's CPU budget and says
what it read: ``read_as`` in plain text (``4, 2, 1, ½, ¼, ⅛``, with its
``size``, ``6 numbers``), ``latex`` for KaTeX, the liberties the reader took
(``notes``: the sentences a result carries in ``details.read_as``, such as
"Read 37,5 as 37.5 (decimal comma)."), or the ``reason`` it cannot be read
yet, followed by the part's hint. Nothing is compared with the reference, so
showing this while a student types reveals nothing that grading would not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from grader import budget
from grader.checking import unevaluated
from grader.checking.key import AnswerKey
from grader.checking.misconceptions import shaped_match
from grader.checking.outcome import result, sentence
from grader.checking.reading import Number, ReadError
from grader.contract import PartResult, Unanswered


def check_part(
    key: AnswerKey, raw: Any, earlier: Mapping[str, Any] | None = None, bound: bool = False
) -> tuple[PartResult, Any]:
    """Check one raw answer against its key; returns the result and the value read (None if unreadable).

    ``bound``: the answer is a value a notebook bound (JSON data from the sandbox); its decimals are judged at
    the precision they show, as if typed (``2.02`` for 2.015625), not by the tolerance of computed JSON numbers.
    """
    if isinstance(raw, Unanswered):
        return result(key, 0.0, "missing" if raw.missing else "invalid", sentence(raw.reason)), None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return result(key, 0.0, "missing", "No answer was given for this part."), None
    notes: list[str] = []
    try:
        value = key.type.read(key, raw, notes)
    except ReadError as exc:
        shaped = shaped_match(key, raw) if key.type.fixed_shape else None
        if shaped is not None:  # a written misconception's answer, of another shape than the part's
            return shaped, None
        left = None if exc.kind or not key.type.asks_numbers else unevaluated.diagnose(key, raw, judged(key, earlier))
        if left is not None:  # formulas where numbers are asked (a Hessian entry 6x): diagnosed, not refused
            return left, None
        feedback = f"{sentence(str(exc))} {sentence(key.hint())} This part was not graded."
        hedge = {"hedge": exc.kind} if exc.kind else {}  # not one answer: hedged, guessed, doubled or asked about
        return result(key, 0.0, "invalid", feedback, reason=str(exc), **hedge), None
    if bound:
        value = _as_typed(value)
    checked = key.type.check(key, value, earlier or {})
    if notes:
        checked = replace(
            checked,
            feedback=" ".join([*notes, checked.feedback]),
            details={**checked.details, "read_as": notes},
        )
    return checked, value


def judged(key: AnswerKey, earlier: Mapping[str, Any] | None) -> Any:
    """How the part's type judges numbers computed from an answer left as formulas (see :func:`check_part`)."""
    return lambda numbers: key.type.check(key, key.type.from_numbers(key, numbers), earlier or {})


def _as_typed(value: Any) -> Any:
    """Every number of a value read from JSON, judged as if it had been typed (see :func:`check_part`)."""
    if isinstance(value, Number):
        return value if value.typed else replace(value, typed=True)
    if isinstance(value, list):
        return [_as_typed(item) for item in value]
    return value


@dataclass(frozen=True)
class ReadAs:
    """What the reader made of an answer: its text and LaTeX, or why it cannot be read yet."""

    read_as: str | None = None
    latex: str | None = None
    size: str | None = None
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "read_as": self.read_as,
            "latex": self.latex,
            "size": self.size,
            "notes": list(self.notes),
            "reason": self.reason,
            "hint": self.hint,
        }

    @property
    def line(self) -> str:
        """One line for a person: ``read as: 4, 2, 1, ½, ¼, ⅛ (6 numbers)``, or the reason it is not read yet."""
        if self.reason:
            return self.reason
        if self.read_as is None:
            return ""
        return f"read as: {self.read_as}" + (f" ({self.size})" if self.size else "")


def read_answer(key: AnswerKey, raw: Any) -> ReadAs:
    """Read ``raw`` as the part's type reads it when grading; never raises for what a student sends."""
    hint = key.hint()
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ReadAs(hint=hint)
    notes: list[str] = []
    try:
        with budget.limited(budget.PART_SECONDS, "reading this answer"):
            value = key.type.read(key, raw, notes)
            text, latex, size = key.type.read_as(key, value)
    except ReadError as exc:
        return ReadAs(notes=notes, reason=f"{sentence(str(exc))} {sentence(hint)}", hint=hint)
    except budget.BudgetExceeded as exc:
        return ReadAs(notes=notes, reason=sentence(str(exc)), hint=hint)
    return ReadAs(read_as=text, latex=latex, size=size, notes=notes, hint=hint)
