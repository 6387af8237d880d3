"""What a TA sees when reviewing: the queue of parts waiting for a person, and one part with all it needs.

The review page (``/review``) and ``grader review`` both use these. A part
waits for a TA while it is free text nobody scored (``needs_review``) or
while a request to look at it again is open (:mod:`grader.store.reviews`).
The queue holds such parts of the attempts the gradebook can count (each
student's best and latest attempt of each exercise: an older attempt that
counts neither way needs nobody), and every part with an open request,
oldest submission first.

A part shown for review (:class:`PartView`) carries the prompt with the
student's numbers, the student's answer as handed in, the keyword hint of a
free-text part, the model answer (a text part's ``model``, else the
reference answer of the student's variant; never for code exercises, whose
answers are a function's results on hidden inputs), what the grader said,
what counts now, and every review so far.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from grader.contract import PartResult, StoredSubmission
from grader.store import gradebook, reviews, submissions
from grader.store.db import Database
from grader.store.models import Submission
from grader.store.reviews import ReviewError, ReviewRecord


@dataclass(frozen=True)
class Waiting:
    """One part in the review queue."""

    submission: str
    student: str
    exercise: str
    part: str
    created_at: str | None
    score: float
    max_score: float
    reason: str  # "free text" or "regrade requested"
    request: str = ""  # the request's comment

    @property
    def ref(self) -> str:
        """``<submission>/<exercise>/<part>``: how ``grader review`` names a part."""
        return f"{self.submission}/{self.exercise}/{self.part}"

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "submission": self.submission,
            "student": self.student,
            "exercise": self.exercise,
            "part": self.part,
            "created_at": self.created_at,
            "score": self.score,
            "max_score": self.max_score,
            "reason": self.reason,
            "request": self.request,
        }


def queue(db: Database, catalog: Any = None) -> list[Waiting]:
    """Every part waiting for a TA in an attempt that counts (best or latest), or with an open request."""
    from grader.store.models import isoformat

    history = gradebook.attempts(db)
    states = {sid: reviews.fold(found) for sid, found in reviews.every(db).items()}
    items: list[tuple[Any, int, Waiting]] = []
    for own in history.values():
        counts = {gradebook.counted(own, "best").submission, gradebook.counted(own, "latest").submission}
        for attempt in own:
            for part in attempt.waiting:
                state = states.get(attempt.submission, {}).get((attempt.exercise, part.id))
                request = state.request if state is not None else None
                if request is None and attempt.submission not in counts:
                    continue
                order = _order(catalog, attempt.exercise, part.id)
                item = Waiting(
                    submission=attempt.submission,
                    student=attempt.student,
                    exercise=attempt.exercise,
                    part=part.id,
                    created_at=isoformat(attempt.created_at),
                    score=part.score,
                    max_score=part.max_score,
                    reason="regrade requested" if request is not None else "free text",
                    request=request.comment if request is not None else "",
                )
                items.append((attempt.created_at, order, item))
    items.sort(key=lambda entry: (entry[0], entry[2].submission, entry[1]))
    return [item for _, _, item in items]


def _order(catalog: Any, exercise: str, part: str) -> int:
    """A part's place in the catalog (exercises, then parts, in the specs' order)."""
    if catalog is None:
        return 0
    exercises = list(catalog.exercises)
    if exercise not in catalog.exercises:
        return 10_000
    parts = [p.id for p in catalog.exercises[exercise].parts]
    return exercises.index(exercise) * 100 + (parts.index(part) if part in parts else 99)


@dataclass
class PartView:
    """One part of one graded submission, with what a TA needs to score it."""

    submission: str
    student: str
    created_at: str | None
    exercise: str
    title: str
    part: str
    points: float
    prompt: str  # the part's prompt with the student's numbers (TeX between $ … $)
    exercise_prompt: str
    kind: str  # the part's type
    answer: str | None  # as handed in (None: no answer kept)
    hint: str | None  # a free-text part's keyword hint
    model: str | None  # the model answer, or None
    automatic: PartResult  # what the grader said
    shown: PartResult  # what counts now (reviews applied)
    reviews: list[ReviewRecord] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.submission}/{self.exercise}/{self.part}"

    @property
    def waiting(self) -> bool:
        return reviews.is_waiting(self.shown)

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "submission": self.submission,
            "student": self.student,
            "created_at": self.created_at,
            "exercise": self.exercise,
            "title": self.title,
            "part": self.part,
            "points": self.points,
            "prompt": self.prompt,
            "type": self.kind,
            "answer": self.answer,
            "hint": self.hint,
            "model_answer": self.model,
            "waiting_for_ta": self.waiting,
            "automatic": self.automatic.to_json(),
            "result": self.shown.to_json(),
            "reviews": [r.to_json() for r in self.reviews],
        }


def parse_ref(ref: str) -> tuple[str, str, str]:
    """``<submission>/<exercise>/<part>`` → its three names; ReviewError (400) if it is not that."""
    pieces = ref.strip().split("/")
    if len(pieces) != 3 or not all(pieces):
        raise ReviewError(f"{ref[:80]!r} is not SUBMISSION/EXERCISE/PART (as 'grader review list' prints it)")
    return pieces[0], pieces[1], pieces[2]


def stored(db: Database, submission_id: str) -> StoredSubmission:
    """A graded submission as stored (the grader's result); ReviewError (404) if there is none."""
    found = submissions.get(db, submission_id, reviewed=False) if len(submission_id) <= 64 else None
    if found is None or found.status != "done" or not isinstance(found.result, Mapping):
        raise ReviewError(f"there is no graded submission {submission_id[:64]!r}", 404)
    return found


def submission_parts(db: Database, catalog: Any, submission_id: str) -> list[PartView]:
    """Every part of a graded submission, for review."""
    found = stored(db, submission_id)
    records = reviews.of_submission(db, submission_id)
    answers = _answers(db, found)
    views = []
    for exercise in found.result.get("exercises") or []:
        for part in exercise.get("parts") or []:
            views.append(_view(catalog, found, str(exercise.get("id")), part, records, answers))
    return views


def part_view(db: Database, catalog: Any, submission_id: str, exercise: str, part: str) -> PartView:
    """One part of a graded submission, for review; ReviewError (404) if the submission or part is unknown."""
    found = stored(db, submission_id)
    for entry in found.result.get("exercises") or []:
        if entry.get("id") != exercise:
            continue
        for item in entry.get("parts") or []:
            if item.get("id") == part:
                records = reviews.of_submission(db, submission_id)
                return _view(catalog, found, exercise, item, records, _answers(db, found))
    raise ReviewError(f"submission {submission_id} has no part {exercise}/{part}", 404)


def _answers(db: Database, found: StoredSubmission) -> dict[str, dict[str, Any]]:
    payload = None
    if found.kind == "answers":
        with db.read() as session:
            payload = session.scalar(select(Submission.payload).where(Submission.id == found.id))
    return gradebook.submitted_answers(found.kind, payload, found.result)


def _view(
    catalog: Any,
    found: StoredSubmission,
    exercise_id: str,
    part: Mapping[str, Any],
    records: list[ReviewRecord],
    answers: Mapping[str, Mapping[str, Any]],
) -> PartView:
    automatic = PartResult.from_json(part)
    own = [r for r in records if r.exercise == exercise_id and r.part == automatic.id]
    shown = reviews.review_part(automatic, reviews.fold(own).get((exercise_id, automatic.id)))
    exercise = catalog.exercises.get(exercise_id) if catalog is not None else None
    spec = exercise.part(automatic.id) if exercise is not None else None
    prompt, intro, model = "", "", None
    if exercise is not None and spec is not None:
        try:
            params = catalog.variant(exercise, found.student)
            shown_exercise = catalog.prompt(exercise, params)
            intro = shown_exercise["prompt"]
            prompt = next((p["prompt"] for p in shown_exercise["parts"] if p["id"] == spec.id), "")
            model = _model(catalog, exercise, spec, params)
        except Exception:  # a spec changed since: show what the result holds
            pass
    given = answers.get(exercise_id, {}).get(automatic.id)
    hint = automatic.details.get("hint") if spec is None or spec.type.read_by_ta else None
    return PartView(
        submission=found.id,
        student=found.student,
        created_at=found.created_at,
        exercise=exercise_id,
        title=exercise.title if exercise is not None else exercise_id,
        part=automatic.id,
        points=automatic.max_score,
        prompt=prompt,
        exercise_prompt=intro,
        kind=spec.kind if spec is not None else "",
        answer=None if given is None or (exercise is not None and exercise.kind == "code") else shown_answer(given),
        hint=str(hint) if hint else None,
        model=model,
        automatic=automatic,
        shown=shown,
        reviews=own,
    )


def _model(catalog: Any, exercise: Any, spec: Any, params: Mapping[str, Any]) -> str | None:
    """A text part's model answer, else the reference of this variant as a student would write it."""
    if exercise.kind == "code":
        return None
    if spec.type.read_by_ta:
        return getattr(spec.type, "model", "") or None
    key = next((k for k in catalog.keys(exercise, params) if k.part == spec.id), None)
    if key is None or key.reference is None:
        return None
    return shown_answer(key.type.submitted(key.reference))


def shown_answer(value: Any) -> str:
    """An answer as text: strings as typed, numbers and lists as a student writes them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return (
            "[" + ", ".join(shown_answer(v) for v in value) + "]"
            if any(isinstance(v, list | tuple) for v in value)
            else ", ".join(shown_answer(v) for v in value)
        )
    return str(value)


def answers_of(db: Database, waiting: list[Waiting], limit: int = 120) -> dict[str, str]:
    """The answer of each waiting part (by ``ref``), cut to ``limit`` characters, for the queue's table."""
    ids = list(dict.fromkeys(item.submission for item in waiting))
    given: dict[str, dict[str, dict[str, Any]]] = {}
    with db.read() as session:
        for start in range(0, len(ids), 500):
            rows = session.execute(
                select(Submission.id, Submission.kind, gradebook.typed_payload(), Submission.result).where(
                    Submission.id.in_(ids[start : start + 500])
                )
            ).all()
            for row in rows:
                given[row.id] = gradebook.submitted_answers(row.kind, row.typed_payload, row.result)
    shown = {}
    for item in waiting:
        value = given.get(item.submission, {}).get(item.exercise, {}).get(item.part)
        if value is not None:
            text = shown_answer(value)
            shown[item.ref] = text if len(text) <= limit else text[: limit - 1] + "…"
    return shown
