"""Class-wide views of the stored results: the gradebook and per-exercise analytics.

Gradebook: for every student (everyone holding a student token, and everyone
with a submission) and every exercise, the *best* score over their graded
submissions. Analytics of one exercise look at each student's *latest* graded
attempt of it, so that a student who resubmits many times counts once: a
histogram of exercise scores, and per part the count of each status, of each
misconception and of each first wrong step.

Both return plain data; :mod:`grader.web` shapes it with the exercise catalog.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from grader.store.db import Database
from grader.store.models import PartResult, Student, Submission, Token


@dataclass
class Gradebook:
    """``scores[student][exercise]`` = (best score, max score); ``attempts[student]`` = submissions."""

    students: list[str] = field(default_factory=list)
    names: dict[str, str | None] = field(default_factory=dict)
    scores: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)


def gradebook(db: Database) -> Gradebook:
    """Best score per student and exercise over graded (``done``) submissions."""
    with db.read() as session:
        per_submission = session.execute(
            select(
                PartResult.student_id,
                PartResult.exercise,
                func.sum(PartResult.score),
                func.sum(PartResult.max_score),
            ).group_by(PartResult.submission_id, PartResult.student_id, PartResult.exercise)
        ).all()
        attempts = session.execute(select(Submission.student_id, func.count()).group_by(Submission.student_id)).all()
        enrolled = session.scalars(select(Token.student_id).where(Token.role == "student").distinct()).all()
        names = dict(session.execute(select(Student.id, Student.name)).all())
    book = Gradebook(attempts={s: int(n) for s, n in attempts})
    for student, exercise, score, maximum in per_submission:
        own = book.scores.setdefault(student, {})
        best = own.get(exercise)
        if best is None or score > best[0]:
            own[exercise] = (float(score or 0), float(maximum or 0))
    book.students = sorted(set(enrolled) | set(book.scores) | set(book.attempts))
    book.names = {s: names.get(s) for s in book.students}
    return book


def analytics(db: Database, exercise: str, bins: int = 10) -> dict[str, Any]:
    """Statistics of one exercise over each student's latest graded attempt of it."""
    with db.read() as session:
        rows = session.execute(
            select(
                PartResult.student_id,
                PartResult.submission_id,
                Submission.created_at,
                PartResult.part,
                PartResult.score,
                PartResult.max_score,
                PartResult.status,
                PartResult.misconception,
                PartResult.first_wrong_step,
            )
            .join(Submission, Submission.id == PartResult.submission_id)
            .where(PartResult.exercise == exercise)
            .order_by(Submission.created_at, PartResult.id)
        ).all()
    latest: dict[str, str] = {}
    for row in rows:  # ordered by time: the last submission seen per student wins
        latest[row.student_id] = row.submission_id
    chosen = set(latest.values())
    totals: dict[str, list[float]] = {}
    parts: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.submission_id not in chosen:
            continue
        total = totals.setdefault(row.submission_id, [0.0, 0.0])
        total[0] += row.score
        total[1] += row.max_score
        part = parts.setdefault(
            row.part,
            {
                "id": row.part,
                "max_score": row.max_score,
                "attempts": 0,
                "mean_score": 0.0,
                "statuses": Counter(),
                "misconceptions": Counter(),
                "first_wrong_step": Counter(),
            },
        )
        part["attempts"] += 1
        part["mean_score"] += row.score
        part["statuses"][row.status] += 1
        if row.misconception:
            part["misconceptions"][row.misconception] += 1
        if row.first_wrong_step is not None:
            part["first_wrong_step"][str(row.first_wrong_step)] += 1
    for part in parts.values():
        part["mean_score"] = round(part["mean_score"] / part["attempts"], 4)
        part["statuses"] = dict(part["statuses"].most_common())
        part["misconceptions"] = dict(part["misconceptions"].most_common())
        part["first_wrong_step"] = dict(sorted(part["first_wrong_step"].items(), key=lambda item: int(item[0])))
    scores = [score for score, _ in totals.values()]
    maximum = max((m for _, m in totals.values()), default=0.0)
    return {
        "exercise": exercise,
        "students": len(latest),
        "submissions": len({row.submission_id for row in rows}),
        "mean_score": round(sum(scores) / len(scores), 4) if scores else None,
        "max_score": maximum,
        "score_histogram": histogram(scores, maximum, bins),
        "parts": list(parts.values()),
    }


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
