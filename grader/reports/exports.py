"""Exports of graded results: CSV for an LMS gradebook, Gradescope's results.json, JSON.

CSV cells that a spreadsheet would run as a formula (starting with = + - @,
a tab or a carriage return) are prefixed with ``'``, so a student id such as
``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from grader.contract import NotebookResult, rounded_score

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell that spreadsheets will not evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def gradebook_csv(results: Sequence[NotebookResult]) -> str:
    """One row per notebook: student, file, each exercise's score, total, max, error, warning.

    ``warning`` says where the notebook's metadata disagrees with whose it was
    graded as (see :func:`grader.notebooks.batch.owner`).
    """
    exercise_ids: list[str] = []
    for result in results:
        for exercise in result.exercises:
            if exercise.id not in exercise_ids:
                exercise_ids.append(exercise.id)
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["student", "file", *exercise_ids, "total", "max", "error", "warning"])
    for result in results:
        scores = {e.id: e.score for e in result.exercises}
        writer.writerow(
            [safe_cell(v) for v in (result.student, result.file)]
            + [scores.get(e, "") for e in exercise_ids]
            + [
                result.score if result.graded else "",
                result.max_score,
                safe_cell(result.error or ""),
                safe_cell(result.warning or ""),
            ]
        )
    return stream.getvalue()


def gradescope(result: NotebookResult) -> dict[str, Any]:
    """Gradescope's autograder results.json for one notebook: one test per part."""
    tests = []
    for exercise, part in result.parts():
        tag = f" [{part.misconception}]" if part.misconception else ""
        tests.append(
            {
                "name": f"{exercise.id} / {part.id}",
                "score": rounded_score(part.score),
                "max_score": rounded_score(part.max_score),
                "status": "passed" if part.status == "correct" else "failed",
                "output": f"{part.status}{tag}: {part.feedback}",
                "visibility": "visible",
            }
        )
    output = f"The notebook could not be run to the end: {result.error}" if result.error else ""
    return {"score": result.score, "output": output, "tests": tests, "visibility": "visible"}


def gradescope_many(results: Sequence[NotebookResult]) -> Any:
    """One results.json object for one notebook, else one per notebook file."""
    if len(results) == 1:
        return gradescope(results[0])
    return {r.file or r.student: gradescope(r) for r in results}


def to_json(results: Sequence[NotebookResult]) -> str:
    return json.dumps([r.to_json() for r in results], indent=2, ensure_ascii=False)
