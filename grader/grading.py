"""The one grading function: a submission and the specs in, a result out.

Every way in (``grader check``, notebooks, the web service) calls
:func:`grade`; none checks answers on its own. The submission and result
formats are the contracts every client relies on (docs/service.md):

    {"student": "s001", "assignment": "lec4-homework" (optional),
     "answers": {"gd-parabola": {"iterates": [4, 2, 1, 0.5, 0.25, 0.125], ...}, ...}}

Every part of each exercise answered (or of every exercise of the
assignment) gets a result; a part left out is ``missing``. In Python the
submission and the result are the typed values of :mod:`grader.contract`
(:class:`~grader.contract.Submission`, :class:`~grader.contract.Result`),
whose ``to_json`` is the JSON above. Checking runs under CPU budgets
(:mod:`grader.budget`, this thread's CPU and the sympy workers'): a part
whose answer costs more than its share, or that comes after the submission's
budget is spent, is ``invalid`` with one sentence saying it is too costly to
check.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from grader import budget
from grader.answers.parts import check_part
from grader.checking.key import AnswerKey
from grader.contract import (
    Bound,
    ExerciseResult,
    Found,
    PartResult,
    Result,
    Returned,
    Submission,
    Unanswered,
    shown_number,
)
from grader.specs.model import DEFAULT_STUDENT, Catalog, Exercise
from grader.students import ID_RULE, is_student_id

log = logging.getLogger(__name__)


class SubmissionError(ValueError):
    """The submission itself is malformed; the message is one sentence naming the field."""


def validate_submission(submission: Any, catalog: Catalog) -> Submission:
    """Check the submission's shape and names; raises :class:`SubmissionError` naming the field."""
    if not isinstance(submission, dict):
        raise SubmissionError("the submission must be a JSON object with 'student' and 'answers'")
    unknown = set(submission) - {"student", "answers", "assignment"}
    if unknown:
        raise SubmissionError(f"unknown field {min(unknown, key=str)!r} in the submission")
    student = submission.get("student", DEFAULT_STUDENT)
    if not is_student_id(student):
        raise SubmissionError(f"'student' must be an id of {ID_RULE}")
    answers = submission.get("answers")
    if not isinstance(answers, dict):
        raise SubmissionError("'answers' must be an object mapping exercise ids to their parts")
    for exercise_id, parts in answers.items():
        if exercise_id not in catalog.exercises:
            raise SubmissionError(f"'answers' names unknown exercise {exercise_id!r}")
        if not isinstance(parts, dict):
            raise SubmissionError(f"'answers.{exercise_id}' must be an object mapping part ids to answers")
        exercise = catalog.exercises[exercise_id]
        for part_id in parts:
            if exercise.part(part_id) is None:
                raise SubmissionError(f"'answers.{exercise_id}' names unknown part {part_id!r}")
    assignment = submission.get("assignment")
    if assignment is not None and (not isinstance(assignment, str) or assignment not in catalog.assignments):
        raise SubmissionError(f"'assignment' names unknown assignment {assignment!r}")
    return Submission(student, answers, assignment)


def grade(submission: Any, catalog: Catalog) -> Result:
    """Grade a submission (JSON data); raises :class:`SubmissionError` for a malformed one (never for a wrong answer)."""
    return grade_checked(validate_submission(submission, catalog), catalog)


def grade_checked(submission: Submission, catalog: Catalog) -> Result:
    """Grade a submission already checked by :func:`validate_submission` (a caller that had to look at
    the student first, to authorise, need not check it twice), or built by the notebook grader."""
    with budget.limited(budget.SUBMISSION_SECONDS, "this submission", budget.SYMBOLIC_SUBMISSION_SECONDS):
        exercises = [
            grade_exercise(catalog, exercise, submission.answers.get(exercise.id, {}), submission.student)
            for exercise in _exercises(submission, catalog)
        ]
    return Result(student=submission.student, exercises=exercises)


def _exercises(submission: Submission, catalog: Catalog) -> list[Exercise]:
    """The exercises answered, in the submission's order; with an assignment, all of its exercises first."""
    ordered = list(submission.answers)
    if submission.assignment is not None:
        listed = catalog.assignments[submission.assignment].exercises
        ordered = list(listed) + [e for e in ordered if e not in listed]
    return [catalog.exercises[e] for e in ordered]


def grade_exercise(catalog: Catalog, exercise: Exercise, answers: Mapping[str, Any], student: str) -> ExerciseResult:
    """Grade the parts of one exercise in order, carrying the student's own values forward."""
    with budget.uncounted():  # the variant's reference answers: the same whatever the student wrote
        keys = catalog.keys(exercise, catalog.variant(exercise, student))
    earlier: dict[str, Any] = {}
    parts: list[PartResult] = []
    for key in keys:
        raw = answers.get(key.part)
        misshapen = _not_the_shape(key, raw.value) if exercise.kind == "code" and isinstance(raw, Returned) else None
        if isinstance(raw, Found):
            result, value = _for_review(key, raw, earlier), None  # not the student's answer until a TA says so
        elif misshapen is not None:
            result, value = misshapen, None
        else:
            result, value = _check_within_budget(key, _returned(raw) if exercise.kind == "code" else raw, earlier)
        earlier[key.part] = value
        parts.append(result)
    return ExerciseResult(exercise.id, parts)


def _check_within_budget(key: AnswerKey, raw: Any, earlier: Mapping[str, Any]) -> tuple[PartResult, Any]:
    """:func:`check_part` under the part's CPU budget; ``invalid`` (with the reason) when a budget runs out.

    A failure of the grader's own code while checking is never shown as the student's: it is logged, and the
    part goes to a TA (``needs_review``, ``details["grader_error"]``).
    """
    bound = isinstance(raw, Bound)
    try:
        with budget.limited(budget.PART_SECONDS, "this answer", budget.SYMBOLIC_PART_SECONDS):
            budget.checkpoint()  # the submission's budget may be spent already
            return check_part(key, raw.value if bound else raw, earlier, bound=bound)
    except budget.BudgetExceeded as exc:
        result = PartResult(
            id=key.part,
            score=0.0,
            max_score=key.points,
            status="invalid",
            feedback=str(exc),
            details={"reason": "time"},
        )
        return result, None
    except Exception as exc:  # noqa: BLE001 - a bug of the grader, whatever it is, must not become a student's grade
        log.exception("the grader failed while checking part %s", key.part)
        result = PartResult(
            id=key.part,
            score=0.0,
            max_score=key.points,
            status="needs_review",
            feedback=GRADER_ERROR,
            details={"grader_error": f"{type(exc).__name__}: {exc}"[:500]},
        )
        return result, None


GRADER_ERROR = (
    "The grader itself failed while checking this answer (its error, not yours); a TA will look at it and "
    "grade it by hand."
)


def _for_review(key: AnswerKey, found: Found, earlier: Mapping[str, Any]) -> PartResult:
    """A part the notebook answers only by showing something (:class:`~grader.contract.Found`): the first
    thing shown that reads as an answer goes to a TA, 0 points until they decide, with what it would earn."""
    for shown in found.candidates[:MAX_SHOWN]:
        with budget.uncounted():  # each under the part's budget, none at the cost of the answers that are bound
            would, value = _check_within_budget(key, Bound(shown.value) if shown.bound else shown.value, earlier)
        if would.status in ("invalid", "missing") or value is None or not _answer_shaped(value, key.reference):
            continue
        said = f"{shown.where} {_summary(value)}; `{found.variable}` is not set"
        if would.status == "needs_review":  # free text: a person reads it in any case
            outcome = "A TA will read it as your answer"
        else:
            outcome = (
                f"Taken as your answer, it would be {would.status} "
                f"({shown_number(would.score)}/{shown_number(key.points)})"
            )
        feedback = (
            f"For a TA to decide: {said}. {outcome}; until a TA accepts it, this part earns nothing. "
            f"Bind your answer to `{found.variable}` so that it is graded by itself."
        )
        review = {
            "reason": "answer-not-bound",
            "found": said,
            "kind": shown.kind,
            "if_accepted": {
                "score": would.score,
                "status": would.status,
                "feedback": would.feedback,
                "misconception": would.misconception,
            },
        }
        return PartResult(key.part, 0.0, key.points, "needs_review", feedback, details={"review": review})
    result, _ = check_part(key, found.otherwise)
    return result


MAX_SHOWN = 4  # things shown tried for one part


def _answer_shaped(value: Any, reference: Any) -> bool:
    """Whether something shown looks like an answer to the part at all: a list where a list is asked for, of
    about its length (one item more or fewer is an answer with a slip), not a lone number printed nearby."""
    if not isinstance(reference, list | tuple):
        return True
    return isinstance(value, list) and abs(len(value) - len(reference)) <= 1


def _summary(value: Any) -> str:
    """A value read, as a TA recognises it: ``4, 2, 1, …``."""
    if isinstance(value, list):
        items = [_summary(item) for item in value[:3]]
        return ", ".join(items + (["…"] if len(value) > 3 else []))
    text = str(getattr(value, "text", value))
    return text if len(text) <= 60 else text[:57] + "…"


def _not_the_shape(key: AnswerKey, returned: Any) -> PartResult | None:
    """A function's result that is not the kind of value the part's contract says (a number where the list
    of points is asked for, a single point where a list of points is): wrong, whatever its numbers."""
    reference = key.reference
    if not isinstance(reference, list):
        return None
    if not isinstance(returned, list):
        what = _kind_of(returned)
    elif reference and isinstance(reference[0], list) and returned and not all(isinstance(r, list) for r in returned):
        what = "a list of numbers (one point?)"
    else:
        return None
    return PartResult(
        key.part,
        0.0,
        key.points,
        "incorrect",
        f"Your function returned {what}; it must return the list of points [x0, x1, …, x_steps], steps + 1 of "
        "them (for steps = 0, the list [x0]), as its docstring says.",
        details={"returned": what},
    )


def _kind_of(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number (only the last point?)"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a dict"
    return "something else"


CODE_ONLY = "this exercise is graded from your function in a notebook"


def _returned(raw: Any) -> Any:
    """A code exercise's answer: what the student's function returned (:class:`Returned`); a typed
    answer is refused, so that nobody learns the hidden results by typing guesses."""
    if raw is None or isinstance(raw, Unanswered):
        return raw
    if isinstance(raw, Returned):
        return raw.value
    return Unanswered(CODE_ONLY)
