"""Human review: a TA's score and comment on one part (an override), or a request that a TA look at it.

Reviews are stored apart from results (table ``reviews``, one row per act,
oldest first) and put on top of a result by one function,
:func:`apply_overrides`, wherever a result is shown or counted: the API and
pages, the gradebook and analytics, the CSV and Gradescope exports. A result
graded again (a regrade) keeps its reviews: apply them to the new result.

Per part, what counts is the newest ``score`` row (the override) and, when a
``flag`` row is newer than it, an open request. A part is *waiting for a TA*
while it is ``needs_review`` (free text) and nobody scored it, or while a
request is open; it is never shown as failed for that. An overridden part
takes the TA's score, the status that score means (full: ``correct``, none:
``incorrect``, else ``partial``), and feedback that starts with the TA's
comment; its ``details["review"]`` keeps who, when, the comment and what the
grader said.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import select

from grader.contract import WAITING, PartResult, Result, StoredSubmission, rounded_score, shown_number, whole_number
from grader.store.db import Database
from grader.store.models import PartResult as PartRow
from grader.store.models import Review, Submission, isoformat, utcnow

MAX_COMMENT = 2000  # characters
ResultT = TypeVar("ResultT", bound=Result)


class ReviewError(ValueError):
    """A review that cannot be recorded: ``status`` 404 (no such submission or part) or 400 (bad score or text)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ReviewRecord:
    """One stored review: ``action`` ``score`` (an override: ``score`` points) or ``flag`` (a request)."""

    id: int
    submission: str
    student: str
    exercise: str
    part: str
    action: str
    score: float | None
    comment: str
    by: str
    at: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "submission": self.submission,
            "student": self.student,
            "exercise": self.exercise,
            "part": self.part,
            "action": self.action,
            "score": whole_number(self.score),
            "comment": self.comment,
            "by": self.by,
            "at": self.at,
        }

    @classmethod
    def from_row(cls, row: Review) -> ReviewRecord:
        return cls(
            id=row.id,
            submission=row.submission_id,
            student=row.student_id,
            exercise=row.exercise,
            part=row.part,
            action=row.action,
            score=row.score,
            comment=row.comment or "",
            by=row.reviewer,
            at=isoformat(row.created_at),
        )


@dataclass(frozen=True)
class PartReview:
    """What a part's reviews come to: the newest override, and a request newer than it (open, so waiting)."""

    override: ReviewRecord | None = None
    request: ReviewRecord | None = None


def fold(records: Iterable[ReviewRecord]) -> dict[tuple[str, str], PartReview]:
    """The reviews of one submission, oldest first, as the state of each (exercise, part) they touch."""
    states: dict[tuple[str, str], PartReview] = {}
    for record in sorted(records, key=lambda r: r.id):
        key = (record.exercise, record.part)
        state = states.get(key, PartReview())
        if record.action == "score":
            states[key] = PartReview(override=record, request=None)
        else:
            states[key] = replace(state, request=record)
    return states


def status_for(score: float, max_score: float) -> str:
    """The status a person's score means: all points ``correct``, none ``incorrect``, else ``partial``."""
    if score >= max_score:
        return "correct"
    return "incorrect" if score <= 0 else "partial"


def is_waiting(part: PartResult) -> bool:
    """Whether the part waits for a TA: free text nobody has scored, or an open request (after reviews applied)."""
    review = part.details.get("review") if isinstance(part.details, Mapping) else None
    if isinstance(review, Mapping) and review.get("waiting"):
        return True
    return part.status == "needs_review"


def review_part(part: PartResult, state: PartReview | None) -> PartResult:
    """One part with its reviews on top (the part itself when there are none). The one place overrides apply."""
    if state is None or (state.override is None and state.request is None):
        return part
    review: dict[str, Any] = {}
    changed = replace(part, details=dict(part.details))
    override = state.override
    if override is not None and override.score is not None:
        score = min(max(float(override.score), 0.0), float(part.max_score))
        said = f"Reviewed by {override.by}" + (f": {override.comment}" if override.comment else ".")
        automatic = part.feedback if part.status != "needs_review" else ""
        if automatic:
            said += (
                f" (The automatic check gave {shown_number(part.score)} / {shown_number(part.max_score)}: {automatic})"
            )
        changed = replace(changed, score=score, status=status_for(score, part.max_score), feedback=said)
        review.update(
            score=whole_number(rounded_score(score)),
            comment=override.comment,
            by=override.by,
            at=override.at,
            automatic={"score": rounded_score(part.score), "status": part.status, "feedback": part.feedback},
        )
    if state.request is not None:
        request = state.request
        review.update(waiting=True, requested={"comment": request.comment, "by": request.by, "at": request.at})
        note = f"{request.by} asked a TA to look at this part again" + (
            f": {request.comment}" if request.comment else "."
        )
        changed = replace(changed, feedback=f"{changed.feedback} ({WAITING[0].upper()}{WAITING[1:]}: {note})")
    earlier = part.details.get("review")  # what the grader noted for a reviewer (kept, under the TA's word)
    changed.details["review"] = {**earlier, **review} if isinstance(earlier, Mapping) else review
    return changed


def apply_overrides(result: ResultT, reviews: Iterable[ReviewRecord] | Mapping[tuple[str, str], PartReview]) -> ResultT:
    """A copy of ``result`` (a Result or NotebookResult) with its reviews on top: the scores TAs gave, their
    comments, open requests. ``reviews`` are one submission's records (any order), or :func:`fold` of them.

    Reviews of a part the result does not have are left out (they stay stored). For a regrade: grade the
    stored submission again, then ``apply_overrides(new_result, of_submission(db, id))``.
    """
    states = reviews if isinstance(reviews, Mapping) else fold(reviews)
    exercises = [
        replace(exercise, parts=[review_part(p, states.get((exercise.id, p.id))) for p in exercise.parts])
        for exercise in result.exercises
    ]
    return replace(result, exercises=exercises)


def apply_to_json(data: Mapping[str, Any], reviews: Iterable[ReviewRecord]) -> dict[str, Any]:
    """:func:`apply_overrides` for a stored result document: every key it holds is kept, scores summed again."""
    states = fold(reviews)
    if not states or not isinstance(data.get("exercises"), list):
        return dict(data)
    exercises = []
    for exercise in data["exercises"]:
        if not isinstance(exercise, Mapping) or not isinstance(exercise.get("parts"), list):
            exercises.append(exercise)
            continue
        parts = []
        for part in exercise["parts"]:
            state = states.get((str(exercise.get("id")), str(part.get("id")))) if isinstance(part, Mapping) else None
            parts.append(
                part if state is None else {**part, **review_part(PartResult.from_json(part), state).to_json()}
            )
        exercises.append(
            {
                **exercise,
                "parts": parts,
                "score": _sum(parts, "score"),
                "max_score": _sum(parts, "max_score"),
            }
        )
    return {
        **data,
        "exercises": exercises,
        "score": _sum(exercises, "score"),
        "max_score": _sum(exercises, "max_score"),
    }


def _sum(items: list[Any], key: str) -> float | int:
    return rounded_score(sum(float(i.get(key) or 0) for i in items if isinstance(i, Mapping)))


# The store -------------------------------------------------------------------------------


def record(
    db: Database,
    submission_id: str,
    exercise: str,
    part: str,
    *,
    by: str,
    score: float | None = None,
    comment: str | None = "",
) -> ReviewRecord:
    """Store a review of one part of a graded submission: a score (an override), or without one a request.

    Raises :class:`ReviewError`: 404 when there is no such graded submission or part, 400 for a score
    that is not a number from 0 to the part's points, a request without a reason, or a comment over
    :data:`MAX_COMMENT` characters.
    """
    lines = str(comment or "").splitlines()  # spaces squeezed within each line, the lines kept
    text = "\n".join(" ".join(line.split()) for line in lines).strip()
    if len(text) > MAX_COMMENT:
        raise ReviewError(f"the comment has {len(text)} characters; at most {MAX_COMMENT} are kept")
    if not by:
        raise ReviewError("a review needs the reviewer's id")
    if score is not None:
        if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
            raise ReviewError("the score must be a number")
    with db.write() as session:
        row = session.get(Submission, submission_id) if len(submission_id) <= 64 else None
        if row is None or row.status != "done" or not isinstance(row.result, Mapping):
            raise ReviewError(f"there is no graded submission {submission_id[:64]!r}", 404)
        found = part_of(row.result, exercise, part)
        if found is None:
            raise ReviewError(f"submission {submission_id} has no part {exercise}/{part}", 404)
        maximum = float(found.get("max_score") or 0)
        if score is not None and not 0 <= score <= maximum:
            raise ReviewError(f"the score must be from 0 to {shown_number(maximum)} (the points of {exercise}/{part})")
        if score is None and not text:
            raise ReviewError("say what a TA should look at again (a comment)")
        review = Review(
            submission_id=submission_id,
            student_id=row.student_id,
            exercise=exercise,
            part=part,
            action="flag" if score is None else "score",
            score=None if score is None else float(score),
            comment=text,
            reviewer=by,
            created_at=utcnow(),
        )
        session.add(review)
        session.flush()
        return ReviewRecord.from_row(review)


def part_of(result: Mapping[str, Any], exercise: str, part: str) -> Mapping[str, Any] | None:
    """One part of a result document, or None."""
    for entry in result.get("exercises") or []:
        if isinstance(entry, Mapping) and entry.get("id") == exercise:
            for item in entry.get("parts") or []:
                if isinstance(item, Mapping) and item.get("id") == part:
                    return item
    return None


def of_submission(db: Database, submission_id: str) -> list[ReviewRecord]:
    """A submission's reviews, oldest first."""
    return of_submissions(db, [submission_id]).get(submission_id, [])


def of_submissions(db: Database, ids: Iterable[str], chunk: int = 500) -> dict[str, list[ReviewRecord]]:
    """The reviews of each of ``ids`` that has any, oldest first."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, list[ReviewRecord]] = defaultdict(list)
    with db.read() as session:
        for start in range(0, len(wanted), chunk):
            rows = session.scalars(
                select(Review).where(Review.submission_id.in_(wanted[start : start + chunk])).order_by(Review.id)
            )
            for row in rows:
                found[row.submission_id].append(ReviewRecord.from_row(row))
    return dict(found)


def every(db: Database, exercise: str | None = None) -> dict[str, list[ReviewRecord]]:
    """Every submission's reviews (of one exercise), oldest first: for the gradebook and analytics."""
    query = select(Review).order_by(Review.id)
    if exercise is not None:
        query = query.where(Review.exercise == exercise)
    found: dict[str, list[ReviewRecord]] = defaultdict(list)
    with db.read() as session:
        for row in session.scalars(query):
            found[row.submission_id].append(ReviewRecord.from_row(row))
    return dict(found)


def reviewed(db: Database, stored: StoredSubmission) -> StoredSubmission:
    """A stored submission with its reviews on its result and score (itself when it has none)."""
    if stored.status != "done" or not isinstance(stored.result, Mapping):
        return stored
    records = of_submission(db, stored.id)
    if not records:
        return stored
    result = apply_to_json(stored.result, records)
    return replace(stored, result=result, score=float(result["score"]))


def reviewed_scores(db: Database, stored: list[StoredSubmission]) -> list[StoredSubmission]:
    """Submissions (without their results, as a history lists them) with the scores their reviews give."""
    records = of_submissions(db, [s.id for s in stored if s.status == "done"])
    if not records:
        return stored
    automatic: dict[tuple[str, str, str], PartResult] = {}
    with db.read() as session:
        rows = session.execute(
            select(
                PartRow.submission_id,
                PartRow.exercise,
                PartRow.part,
                PartRow.score,
                PartRow.max_score,
                PartRow.status,
            ).where(PartRow.submission_id.in_(list(records)))
        ).all()
    for row in rows:
        automatic[(row.submission_id, row.exercise, row.part)] = PartResult(
            row.part, row.score, row.max_score, row.status, ""
        )
    changed = []
    for item in stored:
        states = fold(records.get(item.id, []))
        delta = 0.0
        for (exercise, part), state in states.items():
            before = automatic.get((item.id, exercise, part))
            if before is not None:
                delta += review_part(before, state).score - before.score
        changed.append(replace(item, score=rounded_score((item.score or 0) + delta)) if delta else item)
    return changed
