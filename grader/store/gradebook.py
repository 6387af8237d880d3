"""Class-wide views of the stored results: the gradebook and per-exercise analytics, counted one way.

Both count, for every student and exercise, one graded attempt: the *best*
(the highest score, the latest of equal ones) or the *latest*, as the caller
chooses (:data:`ATTEMPTS`; :data:`DEFAULT_ATTEMPT` when it does not), and
say which. Scores are the reviewed ones: TAs' overrides are applied on top of
the grader's part rows (:func:`grader.store.reviews.review_part`), and a part
waiting for a TA (free text nobody scored, or an open request) is counted as
waiting, never as failed.

Gradebook: every student (everyone holding a student token, and everyone
with a submission) and every exercise. Analytics of one exercise: a
histogram of the counted attempts' scores, and per part the count of each
status, of each misconception and of each first wrong step, and the answers
that could not be read (``invalid``) grouped by their form.

Both return plain data; :mod:`grader.web` shapes it with the exercise catalog.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import case, func, select

from grader.contract import ExerciseResult, Result, rounded_score
from grader.contract import PartResult as GradedPart
from grader.store import reviews
from grader.store.db import Database
from grader.store.models import PartResult, Student, Submission, Token

ATTEMPTS = ("best", "latest")
DEFAULT_ATTEMPT = "best"
ATTEMPT_WORDS = {"best": "each student's best attempt", "latest": "each student's latest attempt"}
FORMS_SHOWN = 5  # the most common forms of unread answers listed per part


def attempt_choice(value: str | None) -> str:
    """``best`` or ``latest`` (None: the default); ValueError with a sentence for anything else."""
    if value is None or value == "":
        return DEFAULT_ATTEMPT
    if value not in ATTEMPTS:
        raise ValueError(f"'attempt' must be 'best' or 'latest', not {value[:40]!r}")
    return value


@dataclass(frozen=True)
class CountedPart:
    """One part of one attempt as it counts: its reviewed score and status, and whether it waits for a TA."""

    id: str
    score: float
    max_score: float
    status: str
    misconception: str | None
    first_wrong_step: int | None
    waiting: bool
    reviewed: bool


@dataclass
class Attempt:
    """One graded submission's parts of one exercise."""

    submission: str
    student: str
    exercise: str
    created_at: datetime
    parts: list[CountedPart] = field(default_factory=list)

    @property
    def score(self) -> float:
        return float(rounded_score(sum(p.score for p in self.parts)))

    @property
    def max_score(self) -> float:
        return float(rounded_score(sum(p.max_score for p in self.parts)))

    @property
    def waiting(self) -> list[CountedPart]:
        return [p for p in self.parts if p.waiting]


def attempts(db: Database, exercise: str | None = None) -> dict[tuple[str, str], list[Attempt]]:
    """Every graded attempt, reviewed, per (student, exercise), oldest first."""
    query = (
        select(
            PartResult.student_id,
            PartResult.submission_id,
            Submission.created_at,
            PartResult.exercise,
            PartResult.part,
            PartResult.score,
            PartResult.max_score,
            PartResult.status,
            PartResult.misconception,
            PartResult.first_wrong_step,
        )
        .join(Submission, Submission.id == PartResult.submission_id)
        .order_by(Submission.created_at, Submission.id, PartResult.id)
    )
    if exercise is not None:
        query = query.where(PartResult.exercise == exercise)
    with db.read() as session:
        rows = session.execute(query).all()
    records = reviews.every(db, exercise)
    states = {submission: reviews.fold(found) for submission, found in records.items()}
    found: dict[tuple[str, str], dict[str, Attempt]] = {}
    for row in rows:
        own = found.setdefault((row.student_id, row.exercise), {})
        attempt = own.get(row.submission_id)
        if attempt is None:
            attempt = own[row.submission_id] = Attempt(row.submission_id, row.student_id, row.exercise, row.created_at)
        graded = GradedPart(row.part, row.score, row.max_score, row.status, "", row.misconception)
        state = states.get(row.submission_id, {}).get((row.exercise, row.part))
        shown = reviews.review_part(graded, state)
        attempt.parts.append(
            CountedPart(
                id=row.part,
                score=float(shown.score),
                max_score=float(shown.max_score),
                status=shown.status,
                misconception=row.misconception,
                first_wrong_step=row.first_wrong_step,
                waiting=reviews.is_waiting(shown),
                reviewed=state is not None and state.override is not None,
            )
        )
    return {key: list(own.values()) for key, own in found.items()}


def counted(history: list[Attempt], attempt: str = DEFAULT_ATTEMPT) -> Attempt:
    """The attempt that counts in ``history`` (oldest first): the latest, or the best (the latest of equals)."""
    if attempt == "latest":
        return history[-1]
    best = history[0]
    for candidate in history[1:]:
        if candidate.score >= best.score:
            best = candidate
    return best


@dataclass
class Gradebook:
    """``scores[student][exercise]`` = (score, max score) of the counted attempt; ``attempts[student]`` = how many
    submissions; ``waiting[student][exercise]`` = the counted attempt's parts waiting for a TA, with their points;
    ``submissions[student][exercise]`` = the counted attempt's submission id."""

    students: list[str] = field(default_factory=list)
    names: dict[str, str | None] = field(default_factory=dict)
    scores: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    attempt: str = DEFAULT_ATTEMPT
    waiting: dict[str, dict[str, list[tuple[str, float]]]] = field(default_factory=dict)
    submissions: dict[str, dict[str, str]] = field(default_factory=dict)
    late: Any = None  # the late hand-ins applied (grader.store.course.LateBook), if any


def gradebook(db: Database, attempt: str = DEFAULT_ATTEMPT, late: Any = None) -> Gradebook:
    """The counted attempt's reviewed score per student and exercise, over graded (``done``) submissions.

    ``late``: the class's late hand-ins (:func:`grader.store.course.late_book`), whose penalties are taken from
    each attempt's score before the one that counts is chosen.
    """
    history = attempts(db)
    with db.read() as session:
        tried = session.execute(select(Submission.student_id, func.count()).group_by(Submission.student_id)).all()
        enrolled = session.scalars(select(Token.student_id).where(Token.role == "student").distinct()).all()
        names = dict(session.execute(select(Student.id, Student.name)).all())
    book = Gradebook(attempts={s: int(n) for s, n in tried}, attempt=attempt)
    book.late = late
    for (student, exercise), own in history.items():
        if late is not None:  # an assignment's late penalty, before choosing
            own = late.penalised(own)
        chosen = counted(own, attempt)
        book.scores.setdefault(student, {})[exercise] = (chosen.score, chosen.max_score)
        book.submissions.setdefault(student, {})[exercise] = chosen.submission
        if chosen.waiting:
            book.waiting.setdefault(student, {})[exercise] = [(p.id, p.max_score) for p in chosen.waiting]
    book.students = sorted(set(enrolled) | set(book.scores) | set(book.attempts))
    book.names = {s: names.get(s) for s in book.students}
    return book


def analytics(db: Database, exercise: str, bins: int = 10, attempt: str = DEFAULT_ATTEMPT) -> dict[str, Any]:
    """Statistics of one exercise over each student's counted attempt (best or latest, as the gradebook counts)."""
    history = attempts(db, exercise)
    chosen = [counted(own, attempt) for own in history.values()]
    parts: dict[str, dict[str, Any]] = {}
    unread: dict[str, list[str]] = {}  # part → submissions whose answer to it could not be read
    for item in chosen:
        for row in item.parts:
            part = parts.setdefault(
                row.id,
                {
                    "id": row.id,
                    "max_score": row.max_score,
                    "attempts": 0,
                    "mean_score": 0.0,
                    "statuses": Counter(),
                    "misconceptions": Counter(),
                    "first_wrong_step": Counter(),
                    "waiting_for_ta": 0,
                    "reviewed": 0,
                },
            )
            part["attempts"] += 1
            part["mean_score"] += row.score
            part["statuses"][row.status] += 1
            part["waiting_for_ta"] += row.waiting
            part["reviewed"] += row.reviewed
            if row.misconception:
                part["misconceptions"][row.misconception] += 1
            if row.first_wrong_step is not None:
                part["first_wrong_step"][str(row.first_wrong_step)] += 1
            if row.status == "invalid":
                unread.setdefault(row.id, []).append(item.submission)
    answers = _answers(db, exercise, {s for ids in unread.values() for s in ids})
    for part in parts.values():
        part["mean_score"] = round(part["mean_score"] / part["attempts"], 4)
        part["statuses"] = dict(part["statuses"].most_common())
        part["misconceptions"] = dict(part["misconceptions"].most_common())
        part["first_wrong_step"] = dict(sorted(part["first_wrong_step"].items(), key=lambda item: int(item[0])))
        ids = unread.get(part["id"], [])
        part["unread"] = {
            "count": len(ids),
            "share": round(len(ids) / part["attempts"], 4),
            "forms": _forms([answers.get((s, part["id"])) for s in ids]),
        }
    scores = [item.score for item in chosen]
    maximum = max((item.max_score for item in chosen), default=0.0)
    return {
        "exercise": exercise,
        "attempt": attempt,
        "students": len(chosen),
        "submissions": sum(len(own) for own in history.values()),
        "mean_score": round(sum(scores) / len(scores), 4) if scores else None,
        "max_score": maximum,
        "score_histogram": histogram(scores, maximum, bins),
        "parts": list(parts.values()),
    }


def _answers(db: Database, exercise: str, ids: set[str]) -> dict[tuple[str, str], Any]:
    """The answers given to ``exercise`` in the submissions ``ids``: typed ones from the payload, a notebook's from
    the values its result kept."""
    found: dict[tuple[str, str], Any] = {}
    if not ids:
        return found
    with db.read() as session:
        rows = session.execute(
            select(Submission.id, Submission.kind, typed_payload(), Submission.result).where(
                Submission.id.in_(list(ids))
            )
        ).all()
    for row in rows:
        given = submitted_answers(row.kind, row.typed_payload, row.result).get(exercise, {})
        for part, value in given.items():
            found[(row.id, part)] = value
    return found


def typed_payload() -> Any:
    """The payload column of typed-answer submissions only (a notebook's bytes are never read for its answers)."""
    return case((Submission.kind == "answers", Submission.payload), else_=None).label("typed_payload")


def submitted_answers(kind: str, payload: bytes | None, result: Any) -> dict[str, dict[str, Any]]:
    """What a stored submission answered, exercise → part → answer: the typed answers of an ``answers`` submission
    (its JSON payload), the values a notebook bound (kept in its result)."""
    data: Any = None
    if kind == "answers":
        try:
            data = orjson.loads(payload or b"{}").get("answers")
        except (orjson.JSONDecodeError, AttributeError):
            data = None
    elif isinstance(result, dict):
        data = result.get("answers")
    if not isinstance(data, dict):
        return {}
    return {str(e): dict(parts) for e, parts in data.items() if isinstance(parts, dict)}


def answer_form(answer: Any) -> str:
    """The shape of an answer, to group unread answers: digits become ``#``, spaces are squeezed, letters lower
    case (``4; 2; 1,5`` → ``#; #; #,#``; ``four, two`` stays)."""
    text = answer if isinstance(answer, str) else orjson.dumps(answer, default=str).decode()
    text = re.sub(r"\d+", "#", " ".join(text.split())).lower()
    return text if len(text) <= 60 else text[:59] + "…"


def _forms(answers: list[Any]) -> list[dict[str, Any]]:
    """The most common forms among ``answers`` (None: not kept), each with how many and one example."""
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for answer in answers:
        if answer is None:
            form = "(answer not kept)"
        else:
            form = answer_form(answer)
            examples.setdefault(form, answer if isinstance(answer, str) else orjson.dumps(answer).decode())
        counts[form] += 1
    return [
        {"form": form, "count": n, "example": examples.get(form, "")[:200]}
        for form, n in counts.most_common(FORMS_SHOWN)
    ]


def histogram(values: list[float], maximum: float, bins: int = 10) -> dict[str, list[float]]:
    """Counts of ``values`` in ``bins`` equal bins over [0, maximum] (the last bin includes the top)."""
    if maximum <= 0:
        return {"edges": [0.0, 0.0], "counts": [len(values)] if values else [0]}
    width = maximum / bins
    edges = [round(width * k, 6) for k in range(bins + 1)]
    counts = [0] * bins
    for value in values:
        index = min(int(max(value, 0) / width), bins - 1)
        counts[index] += 1
    return {"edges": edges, "counts": counts}


def counted_results(db: Database, exercises: list[str], attempt: str = DEFAULT_ATTEMPT) -> dict[str, Result]:
    """Per student, one result made of the counted attempt of each of ``exercises`` (in that order), with TAs'
    reviews applied: what the gradebook counts, part by part (for Gradescope's results). An exercise a student
    never attempted is left out of theirs."""
    history = attempts(db)
    chosen: dict[str, dict[str, str]] = {}
    for (student, exercise), own in history.items():
        if exercise in exercises:
            chosen.setdefault(student, {})[exercise] = counted(own, attempt).submission
    ids = sorted({sid for own in chosen.values() for sid in own.values()})
    stored: dict[str, Any] = {}
    with db.read() as session:
        for start in range(0, len(ids), 500):
            rows = session.execute(
                select(Submission.id, Submission.result).where(Submission.id.in_(ids[start : start + 500]))
            ).all()
            stored.update({row.id: row.result for row in rows})
    records = reviews.of_submissions(db, ids)
    reviewed = {sid: reviews.apply_to_json(stored[sid], records.get(sid, [])) for sid in ids if sid in stored}
    results = {}
    for student in sorted(chosen):
        parts = []
        for exercise in exercises:
            sid = chosen[student].get(exercise)
            document = reviewed.get(sid) if sid else None
            entry = next((e for e in (document or {}).get("exercises", []) if e.get("id") == exercise), None)
            if entry is not None:
                parts.append(ExerciseResult.from_json(entry))
        results[student] = Result(student=student, exercises=parts)
    return results
