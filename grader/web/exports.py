"""The gradebook as JSON and as CSV (safe to open in a spreadsheet).

Columns follow the catalog's order of exercises (only those somebody has
attempted, plus every exercise of an assignment that was). A CSV cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading ``'`` so that a spreadsheet shows it as text instead of running it as
a formula (student ids and names are user-provided).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from grader.contract import rounded_score
from grader.store.gradebook import Gradebook

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A CSV cell that no spreadsheet evaluates: numbers as they are, risky text prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return _format(value)
    text = str(value)
    return "'" + text if text.startswith(DANGEROUS_START) else text


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


def _columns(book: Gradebook, catalog: Any) -> list[Any]:
    attempted = {exercise for scores in book.scores.values() for exercise in scores}
    return [e for e in catalog.exercises.values() if e.id in attempted]


def gradebook_json(book: Gradebook, catalog: Any) -> dict[str, Any]:
    """``{"exercises": [...], "students": [{"student", "name", "scores", "total", "max_score", "submissions"}]}``."""
    columns = _columns(book, catalog)
    maximum = sum(e.max_score for e in columns)
    students = []
    for student in book.students:
        own = book.scores.get(student, {})
        scores = {e.id: (own[e.id][0] if e.id in own else None) for e in columns}
        students.append(
            {
                "student": student,
                "name": book.names.get(student),
                "scores": {k: _number(v) for k, v in scores.items()},
                "total": _number(sum(v for v in scores.values() if v is not None)),
                "max_score": _number(maximum),
                "submissions": book.attempts.get(student, 0),
            }
        )
    return {
        "exercises": [{"id": e.id, "title": e.title, "max_score": _number(e.max_score)} for e in columns],
        "students": students,
    }


def gradebook_csv(book: Gradebook, catalog: Any) -> str:
    """One row per student: id, name, one column per exercise, total, max, submissions."""
    data = gradebook_json(book, catalog)
    exercise_ids = [e["id"] for e in data["exercises"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "name", *exercise_ids, "total", "max_score", "submissions"])
    for row in data["students"]:
        cells = [
            row["student"],
            row["name"],
            *(row["scores"][e] for e in exercise_ids),
            row["total"],
            row["max_score"],
            row["submissions"],
        ]
        writer.writerow([safe_cell(c) for c in cells])
    return out.getvalue()


def _number(value: float | None) -> float | int | None:
    return None if value is None else rounded_score(value)
