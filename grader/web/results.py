"""What the pages and the API show beside a result: how each answer is read, the student's path, a submission.

- :func:`read_part`: one typed answer read as grading reads it, before it is
  graded (``POST /api/read`` and the exercise page's "read as" line);
- :func:`add_extras`: ``include=read,plot`` on ``POST /api/grade`` and
  ``GET /api/submissions/<id>``: each part's reading, and each exercise's plot
  of the student's own path (an SVG ``data:`` URI, at most
  :data:`MAX_PLOT_URI` characters; never the reference path, which a student
  could draw by sending anything);
- :func:`submission_view`: a stored submission as its page shows it (with the parts its student asked a TA
  to look at again).

Every request here runs inside the caller's turn (:func:`grader.web.service.take_turn`), so reading and drawing
are charged to the caller's CPU share; reading runs under one part's budget, drawing draws at most
:data:`grader.reports.feedback.MAX_PLOTTED_POINTS` points.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from grader import budget
from grader.answers.parts import read_answer
from grader.checking.reading import ReadError
from grader.contract import ExerciseResult, StoredSubmission
from grader.reports.feedback import PathPlot, path_figure
from grader.store import reviews, submissions
from grader.web.errors import ApiError

log = logging.getLogger(__name__)

INCLUDES = ("read", "plot")
MAX_PLOT_URI = 256 * 1024  # characters of a plot's data: URI in a JSON answer; a larger one is left out
MAX_READ_TEXT = 10_000  # characters of a typed answer sent to be read (the reader refuses beyond 4000 itself)


def includes(raw: str | None) -> set[str]:
    """``include=read,plot`` → ``{"read", "plot"}``; 400 for anything else."""
    if not raw:
        return set()
    asked = {item.strip() for item in raw.split(",") if item.strip()}
    unknown = sorted(asked - set(INCLUDES))
    if unknown:
        raise ApiError(400, f"'include' takes {', '.join(INCLUDES)} (comma-separated), not {unknown[0][:40]!r}")
    return asked


def _exercise(catalog: Any, exercise_id: Any) -> Any:
    exercise = catalog.exercises.get(exercise_id) if isinstance(exercise_id, str) else None
    if exercise is None:
        raise ApiError(400, f"there is no exercise {str(exercise_id)[:64]!r}")
    return exercise


def _keys(catalog: Any, exercise: Any, student: str | None) -> dict[str, Any]:
    with budget.uncounted():  # the variant's reference answers: the same whatever the student types
        return {key.part: key for key in catalog.keys(exercise, catalog.variant(exercise, student))}


def read_part(catalog: Any, body: Any, student: str | None) -> dict[str, Any]:
    """``{"exercise", "part", "text"}`` read as grading would read it (see :func:`grader.answers.parts.read_answer`)."""
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object with 'exercise', 'part' and 'text'")
    exercise = _exercise(catalog, body.get("exercise"))
    if exercise.kind != "answers":
        raise ApiError(400, "this exercise is graded from your function in a notebook, so there is no answer to read")
    part_id, text = body.get("part"), body.get("text")
    if not isinstance(part_id, str) or exercise.part(part_id) is None:
        parts = ", ".join(p.id for p in exercise.parts)
        raise ApiError(400, f"exercise {exercise.id!r} has no part {str(part_id)[:64]!r}; its parts are {parts}")
    if not isinstance(text, str):
        raise ApiError(400, "'text' must be the answer as typed (a string)")
    if len(text) > MAX_READ_TEXT:
        raise ApiError(400, f"'text' is longer than {MAX_READ_TEXT} characters")
    key = _keys(catalog, exercise, student)[part_id]
    return {"exercise": exercise.id, "part": part_id, **read_answer(key, text).to_json()}


def read_answers(catalog: Any, exercise: Any, student: str | None, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Each answered part of ``exercise`` as read (an answers exercise; code exercises have nothing to read)."""
    if exercise.kind != "answers" or not answers:
        return {}
    keys = _keys(catalog, exercise, student)
    return {part: read_answer(keys[part], raw).to_json() for part, raw in answers.items() if part in keys}


def exercise_plot(
    catalog: Any, exercise: Any, student: str | None, answers: Mapping[str, Any], unreadable: Iterable[str] = ()
) -> PathPlot | None:
    """The student's own path on the loss curve, for exercises whose spec asks for a plot (never the reference).

    Only an answer that grading could read is drawn (``unreadable``: the parts graded ``invalid``), read again
    under one part's CPU budget.
    """
    part = (exercise.plot or {}).get("part")
    if not part or answers.get(part) is None or part in set(unreadable):
        return None
    try:
        with budget.limited(budget.PART_SECONDS, "drawing your answer"):
            key = _keys(catalog, exercise, student).get(part)
            values = key.type.plotted(key.type.read(key, answers[part], [])) if key is not None else None
    except (ReadError, TypeError, AttributeError, budget.BudgetExceeded):
        return None
    if not values:
        return None
    try:
        return path_figure(catalog, exercise, student, values, show_reference=False)
    except ValueError:
        log.warning("could not plot %s for %s", exercise.id, student)
        return None


def plot_json(plot: PathPlot | None) -> dict[str, str] | None:
    """A plot for a JSON answer: its ``data:`` URI and its text equivalent, or None when larger than the bound."""
    if plot is None:
        return None
    uri = plot.data_uri
    return {"data_uri": uri, "alt": plot.alt} if len(uri) <= MAX_PLOT_URI else None


def add_extras(
    body: dict[str, Any], catalog: Any, student: str | None, answers: Mapping[str, Any], include: set[str]
) -> dict[str, Any]:
    """Add to a result's JSON, in place, each part's ``read`` and each exercise's ``plot`` (as ``include`` asks)."""
    for exercise_json in body.get("exercises") or []:
        if exercise_json.get("withheld"):  # the assignment shows nothing of it yet (course.yaml feedback: none)
            continue
        exercise = catalog.exercises.get(exercise_json.get("id"))
        given = answers.get(exercise_json.get("id")) if isinstance(answers, Mapping) else None
        if exercise is None or not isinstance(given, Mapping):
            continue
        parts = exercise_json.get("parts") or []
        if "read" in include:
            reads = read_answers(catalog, exercise, student, given)
            for part in parts:
                if part.get("id") in reads:
                    part["read"] = reads[part["id"]]
        if "plot" in include:
            unreadable = [p.get("id") for p in parts if p.get("status") == "invalid"]
            plot = plot_json(exercise_plot(catalog, exercise, student, given, unreadable))
            if plot:
                exercise_json["plot"] = plot
    return body


def answers_of(db: Any, stored: StoredSubmission) -> dict[str, Any]:
    """What a submission answered, exercise → part → value: a notebook's bound values from its result, typed
    answers from what was sent."""
    if stored.kind == "notebook":
        answers = (stored.result or {}).get("answers") if isinstance(stored.result, Mapping) else None
        return answers if isinstance(answers, dict) else {}
    data = submissions.payload(db, stored.id)
    try:
        sent = orjson.loads(data) if data else {}
    except orjson.JSONDecodeError:
        return {}
    answers = sent.get("answers") if isinstance(sent, dict) else None
    return answers if isinstance(answers, dict) else {}


# A submission's page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseView:
    """One graded exercise on a submission's page: its title, its result and the student's path, or the
    sentence saying when its result will be shown (an assignment that withholds feedback)."""

    id: str
    title: str
    result: ExerciseResult | None = None
    plot: PathPlot | None = None
    withheld: str | None = None


@dataclass(frozen=True)
class SubmissionView:
    """A stored submission as its page shows it."""

    stored: StoredSubmission
    title: str
    exercises: list[ExerciseView] = field(default_factory=list)
    error: str | None = None  # a notebook that could not be run to the end
    warning: str | None = None
    cell_errors: list[dict[str, Any]] = field(default_factory=list)
    graded: bool = True
    asked: frozenset[str] = frozenset()  # ``exercise/part`` of each part with an open request for a second look

    @property
    def pending(self) -> bool:
        return self.stored.status in ("queued", "running")


def title_of(stored: StoredSubmission, exercise_ids: list[str], catalog: Any) -> str:
    """What a submission answers, in words: its assignment's title, else its exercises' titles, else its file."""
    assignment = catalog.assignments.get(stored.assignment) if stored.assignment else None
    if assignment is not None:
        return str(assignment.title)
    titles = [str(catalog.exercises[e].title) for e in exercise_ids if e in catalog.exercises]
    if titles:
        return ", ".join(titles)
    return stored.filename or ("Notebook" if stored.kind == "notebook" else "Answers")


def submission_view(db: Any, catalog: Any, stored: StoredSubmission) -> SubmissionView:
    """The page of one submission: per exercise its parts and the student's path; a notebook's errors.

    ``stored.result`` is read as the API shows it to the visitor, so an exercise may be withheld (``withheld``:
    when it will be shown) or reduced to scores and statuses.
    """
    data = stored.result if isinstance(stored.result, Mapping) else None
    listed = [e for e in (data or {}).get("exercises") or [] if isinstance(e, Mapping)]
    title = title_of(stored, [str(e.get("id")) for e in listed], catalog)
    if data is None or stored.status != "done":
        return SubmissionView(stored=stored, title=title)
    answers = answers_of(db, stored)
    student = str(data.get("student") or stored.student)
    shown = []
    for entry in listed:
        exercise = catalog.exercises.get(entry.get("id"))
        name = exercise.title if exercise is not None else str(entry.get("id"))
        if entry.get("withheld") or "score" not in entry:
            shown.append(ExerciseView(id=str(entry.get("id")), title=name, withheld=str(entry.get("withheld") or "")))
            continue
        result = ExerciseResult.from_json(entry)
        plot = None
        if exercise is not None and isinstance(answers.get(result.id), Mapping):
            unreadable = [p.id for p in result.parts if p.status == "invalid"]
            plot = exercise_plot(catalog, exercise, student, answers[result.id], unreadable)
        shown.append(ExerciseView(id=result.id, title=name, result=result, plot=plot))
    states = reviews.fold(reviews.of_submission(db, stored.id))
    return SubmissionView(
        stored=stored,
        title=title,
        exercises=shown,
        error=data.get("error"),
        warning=data.get("warning"),
        cell_errors=[e for e in data.get("cell_errors") or [] if isinstance(e, Mapping)],
        graded=bool(data.get("graded", True)),
        asked=frozenset(f"{e}/{p}" for (e, p), state in states.items() if state.request is not None),
    )
