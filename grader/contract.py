"""The typed values every layer passes around: submissions, answers from notebooks, and results.

Their JSON form (``to_json``) is the service's contract (docs/service.md, HTTP API): the
field names never change; only Python code sees the types.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["correct", "partial", "incorrect", "missing", "invalid", "needs_review"]
STATUSES: tuple[Status, ...] = (
    "correct",
    "partial",
    "incorrect",
    "missing",
    "invalid",
    "needs_review",
)
WAITING = "waiting for a TA"  # what a part waiting for a person says, wherever it is shown


def status_label(status: str) -> str:
    """A part's status as people read it: ``needs_review`` is "waiting for a TA" (never a failure); the others
    as they are written, without the underscore. The pages' ``status_label`` filter and the feedback files use it."""
    return WAITING if status == "needs_review" else str(status).replace("_", " ")


@dataclass(frozen=True)
class Unanswered:
    """An answer that could not be obtained (a student's function raised, say), with the reason."""

    reason: str
    missing: bool = False


@dataclass(frozen=True)
class Bound:
    """A value a notebook bound to a part's variable (plain data from the sandbox).

    Its decimals are judged at the precision they show, as typed answers are
    (``2.02`` for 2.015625 is right, ``2.0`` too coarse), not by the tolerance
    of numbers a script computed and posted as JSON.
    """

    value: Any


@dataclass(frozen=True)
class Shown:
    """Something a notebook shows that may answer a part: a cell's printed output, a line of Markdown, or a
    value under another name. ``where`` starts the sentence (``cell In [4] prints``); ``bound`` is True for a
    value (read like :class:`Bound`), False for text."""

    value: Any
    where: str
    kind: str  # "printed", "markdown" or "other-name"
    bound: bool = False


@dataclass(frozen=True)
class Found:
    """A part whose variable the notebook never set, though it shows what may be the answer.

    Never graded by itself: the first of ``candidates`` that reads as an
    answer of the part goes to a TA (``needs_review``, 0 points until they
    decide) with what was found, where, and what it would earn; when none
    reads, the part is ``otherwise`` (why it has no answer) or ``missing``.
    """

    variable: str
    candidates: tuple[Shown, ...]
    otherwise: Unanswered | None = None


@dataclass(frozen=True)
class Returned:
    """What a student's function returned when the grader called it on a part's hidden input.

    Only the notebook grader makes these (JSON cannot): an answer to a code
    exercise that is not one is typed, and is refused.
    """

    value: Any


@dataclass
class PartResult:
    """Score and feedback for one part: ``feedback`` says what is wrong, where and why."""

    id: str
    score: float
    max_score: float
    status: Status
    feedback: str
    misconception: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": rounded_score(self.score),
            "max_score": rounded_score(self.max_score),
            "status": self.status,
            "feedback": self.feedback,
            "misconception": self.misconception,
            "details": self.details,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PartResult:
        return cls(
            id=str(data["id"]),
            score=float(data.get("score") or 0),
            max_score=float(data.get("max_score") or 0),
            status=data.get("status", "invalid"),
            feedback=str(data.get("feedback", "")),
            misconception=data.get("misconception"),
            details=dict(data.get("details") or {}),
        )


class _Summed:
    """``score`` and ``max_score`` as the sums of the summands' (rounded as the JSON shows them)."""

    def _summands(self) -> list[Any]:
        raise NotImplementedError

    @property
    def score(self) -> float | int:
        return rounded_score(sum(s.score for s in self._summands()))

    @property
    def max_score(self) -> float | int:
        return rounded_score(sum(s.max_score for s in self._summands()))


@dataclass
class ExerciseResult(_Summed):
    """The parts of one exercise, in order; its score is the sum of theirs."""

    id: str
    parts: list[PartResult]

    def _summands(self) -> list[Any]:
        return self.parts

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": self.score,
            "max_score": self.max_score,
            "parts": [p.to_json() for p in self.parts],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExerciseResult:
        return cls(id=str(data["id"]), parts=[PartResult.from_json(p) for p in data.get("parts") or []])


@dataclass
class Result(_Summed):
    """A graded submission: one student's exercises; the score is the sum of the exercises' scores."""

    student: str
    exercises: list[ExerciseResult]

    def _summands(self) -> list[Any]:
        return self.exercises

    def parts(self) -> Iterator[tuple[ExerciseResult, PartResult]]:
        """Every part, with its exercise, in order."""
        for exercise in self.exercises:
            for part in exercise.parts:
                yield exercise, part

    def to_json(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "score": self.score,
            "max_score": self.max_score,
            "exercises": [e.to_json() for e in self.exercises],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Result:
        return cls(
            student=str(data.get("student", "")),
            exercises=[ExerciseResult.from_json(e) for e in data.get("exercises") or []],
        )


@dataclass
class NotebookResult(Result):
    """A graded notebook: the result of its answers, the file, and what went wrong while running it.

    ``error`` says why the notebook could not be run to the end (timeout,
    memory, crash); ``graded`` is False when the grader itself failed, so the
    zero is not the student's. ``assignment``, ``cell_errors`` (the cells that
    raised) and ``answers`` (the values the notebook bound) are None, and left
    out of the JSON, for a notebook that could not be read or run at all;
    ``submission`` is the stored submission's id when it went through the queue.
    """

    file: str = ""
    warning: str | None = None  # where the notebook's metadata disagrees with whose it was graded as
    error: str | None = None
    graded: bool = True
    assignment: str | None = None
    cell_errors: list[dict[str, Any]] | None = None
    answers: dict[str, dict[str, Any]] | None = None
    submission: str | None = None  # the stored submission's id, when graded through the queue

    def to_json(self) -> dict[str, Any]:
        data = {**super().to_json(), "file": self.file}
        if self.warning is not None:
            data["warning"] = self.warning
        if self.assignment is not None or self.cell_errors is not None:
            data["assignment"] = self.assignment
        data["error"] = self.error
        if self.cell_errors is not None:
            data["cell_errors"] = self.cell_errors
        if self.answers is not None:
            data["answers"] = self.answers
        data["graded"] = self.graded
        if self.submission is not None:
            data["submission"] = self.submission
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotebookResult:
        return cls(
            student=str(data.get("student", "")),
            exercises=[ExerciseResult.from_json(e) for e in data.get("exercises") or []],
            file=str(data.get("file", "")),
            warning=data.get("warning"),
            error=data.get("error"),
            graded=bool(data.get("graded", True)),
            assignment=data.get("assignment"),
            cell_errors=data.get("cell_errors"),
            answers=data.get("answers"),
            submission=data.get("submission"),
        )

    @classmethod
    def failed(cls, file: str, student: str, reason: str, graded: bool, warning: str | None = None) -> NotebookResult:
        """A notebook that has no grades: 0 of 0, with the reason (``graded`` False when the grader failed)."""
        return cls(student=student, exercises=[], file=file, warning=warning, error=reason, graded=graded)


@dataclass(frozen=True)
class Submission:
    """Answers of one student, checked for shape and names: exercise id → part id → raw answer.

    A raw answer is JSON data (number, list, string), a :class:`Returned` value
    or an :class:`Unanswered` reason (from notebooks). ``assignment`` orders
    the exercises and makes the parts it names but the answers leave out ``missing``.
    """

    student: str
    answers: Mapping[str, Mapping[str, Any]]
    assignment: str | None = None


@dataclass(frozen=True)
class StoredSubmission:
    """A stored submission as the API shows it, never its payload: whose, where it is in the queue, its score.

    ``result`` is the stored result document (a :class:`Result`, or a
    :class:`NotebookResult` for a notebook, in their JSON form), None while
    not graded; ``graded()`` reads it back. ``with_result`` False leaves the
    ``result`` field out of the JSON (a student's history lists no results).
    """

    id: str
    student: str
    kind: str
    status: str
    assignment: str | None
    filename: str | None
    score: float | None
    max_score: float | None
    attempts: int
    error: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    result: Mapping[str, Any] | None = None
    with_result: bool = True

    def graded(self) -> NotebookResult | None:
        """The stored result of a finished notebook, or None (not done, or nothing stored)."""
        if self.status != "done" or not isinstance(self.result, Mapping):
            return None
        return NotebookResult.from_json(self.result)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "student": self.student,
            "kind": self.kind,
            "status": self.status,
            "assignment": self.assignment,
            "filename": self.filename,
            "score": whole_number(self.score),
            "max_score": whole_number(self.max_score),
            "attempts": self.attempts,
            "error": self.error,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }
        if self.with_result:
            data["result"] = self.result
        return data


def whole_number(value: float | None) -> float | int | None:
    """A score or point value as the JSON shows it, unrounded: an integer when whole."""
    return None if value is None else int(value) if float(value).is_integer() else value


def rounded_score(value: float) -> float | int:
    """A score as the JSON shows it: 4 decimal places, an integer when whole."""
    rounded = round(float(value), 4)
    return int(rounded) if rounded.is_integer() else rounded


def shown_number(value: float) -> str:
    """A score or a point count as people read it, wherever it is shown (pages, terminal, CSV, feedback):
    ``6``, ``1.5``, ``0.3333`` (the JSON's :func:`rounded_score`)."""
    return str(rounded_score(value))


def points_text(value: float) -> str:
    """``1 point``, ``1.5 points``."""
    return f"{shown_number(value)} point{'' if value == 1 else 's'}"
