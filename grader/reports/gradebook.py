"""The service's gradebook (:func:`grader.store.gradebook.gradebook`) as JSON and as CSV (safe to open in a
spreadsheet), for its page, ``GET /api/gradebook`` and ``grader gradebook``.

Columns follow the catalog's order of exercises (only those somebody has
attempted, plus every exercise of an assignment that was). Each score is
the counted attempt's (``attempt``: each student's best or latest, said in
the JSON and in a CSV column), with TAs' reviews applied; the parts still
waiting for a TA are listed beside it (``waiting_for_ta``), never counted
as failed. A CSV cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading ``'`` so that a spreadsheet shows it as text instead of running it as
a formula (student ids and names are user-provided; :func:`grader.reports.exports.safe_cell`).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from grader.contract import points_text, rounded_score
from grader.reports.exports import safe_cell

if TYPE_CHECKING:
    from grader.store.gradebook import Gradebook


def _columns(book: Gradebook, catalog: Any) -> list[Any]:
    attempted = {exercise for scores in book.scores.values() for exercise in scores}
    return [e for e in catalog.exercises.values() if e.id in attempted]


def gradebook_json(book: Gradebook, catalog: Any) -> dict[str, Any]:
    """``{"attempt", "counted", "exercises": [...], "students": [{"student", "name", "scores", "total", "max_score",
    "submissions", "waiting_for_ta", "counted_submissions"}]}``."""
    from grader.store.gradebook import ATTEMPT_WORDS

    columns = _columns(book, catalog)
    maximum = sum(e.max_score for e in columns)
    students = []
    for student in book.students:
        own = book.scores.get(student, {})
        scores = {e.id: (own[e.id][0] if e.id in own else None) for e in columns}
        waiting = book.waiting.get(student, {})
        students.append(
            {
                "student": student,
                "name": book.names.get(student),
                "scores": {k: _number(v) for k, v in scores.items()},
                "total": _number(sum(v for v in scores.values() if v is not None)),
                "max_score": _number(maximum),
                "submissions": book.attempts.get(student, 0),
                **_late(book, student, columns),
                "waiting_for_ta": {
                    e.id: [{"part": part, "points": _number(points)} for part, points in waiting[e.id]]
                    for e in columns
                    if e.id in waiting
                },
                "counted_submissions": {e.id: book.submissions[student][e.id] for e in columns if e.id in own},
            }
        )
    return {
        "attempt": book.attempt,
        "counted": ATTEMPT_WORDS[book.attempt],
        "exercises": [{"id": e.id, "title": e.title, "max_score": _number(e.max_score)} for e in columns],
        "students": students,
    }


def gradebook_csv(book: Gradebook, catalog: Any) -> str:
    """One row per student: id, name, one column per exercise, total, max, submissions, the attempt counted
    (``best`` or ``latest``), and the parts waiting for a TA (``learning-rate/why (2 points)``)."""
    data = gradebook_json(book, catalog)
    exercise_ids = [e["id"] for e in data["exercises"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["student", "name", *exercise_ids, "total", "max_score", "submissions", "attempt", "waiting_for_ta"]
    )
    for row in data["students"]:
        waiting = "; ".join(
            f"{exercise}/{item['part']} ({points_text(item['points'])})"
            for exercise, items in row["waiting_for_ta"].items()
            for item in items
        )
        cells = [
            row["student"],
            row["name"],
            *(row["scores"][e] for e in exercise_ids),
            row["total"],
            row["max_score"],
            row["submissions"],
            data["attempt"],
            waiting,
        ]
        writer.writerow([safe_cell(c) for c in cells])
    return _with_late_columns(out.getvalue(), data)


def _number(value: float | None) -> float | int | None:
    return None if value is None else rounded_score(value)


def _late(book: Gradebook, student: str, columns: list[Any]) -> dict[str, Any]:
    """With an assignment's rules (``book.late``): the late days the student spent per assignment, and the points
    each counted score lost to a late penalty (after the late days)."""
    late = getattr(book, "late", None)
    if late is None:
        return {}
    chosen = getattr(book, "submissions", {}).get(student, {})
    lost = {e.id: late.points_lost(chosen.get(e.id), e.id) for e in columns}
    return {
        "late_days": dict(late.late_days.get(student, {})),
        "late_penalties": {e: _number(points) for e, points in lost.items() if points},
    }


def _with_late_columns(text: str, data: dict[str, Any]) -> str:
    """The CSV with ``late_days`` (spent in all) and ``late_points_lost`` columns when the course has deadlines."""
    rows = data["students"]
    if not rows or "late_days" not in rows[0]:
        return text
    lines = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*lines[0], "late_days", "late_points_lost"])
    for cells, row in zip(lines[1:], rows, strict=True):
        lost = sum(row["late_penalties"].values())
        writer.writerow([*cells, safe_cell(sum(row["late_days"].values())), safe_cell(_number(lost))])
    return out.getvalue()
