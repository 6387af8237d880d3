"""Exports of graded results: CSV for an LMS gradebook, Gradescope's results.json, JSON.

A part waiting for a TA (free text nobody scored, or a regrade asked for) is
said to be waiting in every export, never failed: the CSV lists such parts in
its ``waiting_for_ta`` column; in Gradescope's results it is a test without a
``status`` whose output starts with "waiting for a TA". A part a TA scored
shows the TA's score and comment (results with reviews applied, see
:func:`grader.store.reviews.apply_overrides`).

CSV cells that a spreadsheet would run as a formula (starting with = + - @,
a tab or a carriage return) are prefixed with ``'``, so a student id such as
``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from grader.contract import ExerciseResult, NotebookResult, PartResult, Result, rounded_score, shown_number

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A CSV cell that no spreadsheet evaluates: text that starts like a formula (:data:`FORMULA_START`) after a
    ``'``; numbers as they are shown (:func:`~grader.contract.shown_number`), booleans in lower case, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return shown_number(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


MAX_CELLS_LISTED = 3


def cell_error_lines(result: Result) -> list[str]:
    """``cell In [5] raised NameError: name 'np' is not defined``, one per cell of a notebook that raised."""
    lines = []
    for error in getattr(result, "cell_errors", None) or []:
        where = error.get("label") or f"{error.get('cell')}"
        what = error.get("line") or f"{error.get('ename')}: {error.get('evalue')}"
        lines.append(f"cell {where} raised {what}")
    return lines


def problems(result: Result) -> str:
    """What went wrong while running a notebook, in one line: the run's error, then the cells that raised."""
    error = getattr(result, "error", None)
    said = [error] if error else []
    cells = cell_error_lines(result)
    said += cells[:MAX_CELLS_LISTED]
    if len(cells) > MAX_CELLS_LISTED:
        said.append(f"{len(cells) - MAX_CELLS_LISTED} more cell(s) raised")
    return "; ".join(said)


def waiting_parts(result: Result) -> list[str]:
    """``exercise/part`` of each part of ``result`` that waits for a TA."""
    from grader.store.reviews import is_waiting

    return [f"{e.id}/{p.id}" for e, p in result.parts() if is_waiting(p)]


def results_csv(results: Sequence[NotebookResult]) -> str:
    """One row per notebook: student, file, each exercise's score, total, max, error, warning, and the parts
    waiting for a TA (``waiting_for_ta``, ``; ``-separated).

    ``error`` says why the notebook could not be run to the end and which cells raised (:func:`problems`);
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
    writer.writerow(["student", "file", *exercise_ids, "total", "max", "error", "warning", "waiting_for_ta"])
    for result in results:
        scores = {e.id: e.score for e in result.exercises}
        writer.writerow(
            [safe_cell(v) for v in (result.student, result.file)]
            + [scores.get(e, "") for e in exercise_ids]
            + [
                result.score if result.graded else "",
                result.max_score,
                safe_cell(problems(result)),
                safe_cell(result.warning or ""),
                safe_cell("; ".join(waiting_parts(result))),
            ]
        )
    return stream.getvalue()


# The assignment's ``feedback`` setting (course.yaml) as Gradescope's visibility: what students see, and when.
FEEDBACK_VISIBILITY = {"full": "visible", "verdict": "visible", "none": "after_due_date"}


def gradescope_visibility(assignment: Any) -> tuple[str, bool]:
    """Gradescope's ``visibility`` for an assignment (a :class:`~grader.specs.model.Assignment`, or None), and
    whether the tests' output may carry the feedback sentences: from its ``feedback`` setting, ``visible`` and
    full feedback when it has none. ``verdict`` shows each test's score and status only; ``none`` hides the
    tests until the due date."""
    rules = getattr(assignment, "rules", None)
    mode = getattr(rules, "feedback", None) or getattr(assignment, "feedback", None) or "full"
    return FEEDBACK_VISIBILITY.get(mode, "visible"), mode != "verdict"


def gradescope_test(
    exercise_id: str, part: PartResult, visibility: str = "visible", sentences: bool = True
) -> dict[str, Any]:
    """One part as a Gradescope test: passed when correct, failed when graded and not; a part waiting for a TA
    has no status (it is neither), and its output says it waits."""
    from grader.store.reviews import WAITING, is_waiting

    tag = f" [{part.misconception}]" if part.misconception else ""
    said = part.feedback if sentences else ""
    test: dict[str, Any] = {
        "name": f"{exercise_id} / {part.id}",
        "score": rounded_score(part.score),
        "max_score": rounded_score(part.max_score),
        "visibility": visibility,
    }
    if is_waiting(part):
        test["output"] = f"{WAITING}: " + (said or "a person will score this part")
        test["tags"] = [WAITING]
    else:
        test["status"] = "passed" if part.status == "correct" else "failed"
        test["output"] = f"{part.status}{tag}" + (f": {said}" if said else "")
    return test


def gradescope(result: Result, visibility: str = "visible", sentences: bool = True) -> dict[str, Any]:
    """Gradescope's autograder results.json for one submission: one test per part (see :func:`gradescope_test`).

    ``visibility`` is Gradescope's (``visible``, ``hidden``, ``after_due_date``, ``after_published``), for the
    whole result and each test; without ``sentences`` the tests say only their status and score.
    """
    tests = [gradescope_test(e.id, p, visibility, sentences) for e, p in result.parts()]
    error = getattr(result, "error", None)
    output = f"The notebook could not be run to the end: {error}." if error else ""
    cells = cell_error_lines(result)
    if cells:
        output = f"{output} Cells that raised an error (the notebook ran on): {'; '.join(cells)}.".strip()
    waiting = waiting_parts(result)
    if waiting:
        note = f"{len(waiting)} part{'' if len(waiting) == 1 else 's'} waiting for a TA: {', '.join(waiting)}."
        output = f"{output} {note}".strip()
    return {"score": result.score, "output": output, "tests": tests, "visibility": visibility}


def with_every_exercise(result: Result, exercise_ids: Sequence[str], catalog: Any) -> Result:
    """``result`` holding each of ``exercise_ids``, in that order: one it lacks (never attempted) with its parts
    ``missing``, so that Gradescope shows every test of the assignment."""
    have = {e.id: e for e in result.exercises}
    return Result(
        student=result.student,
        exercises=[
            have.get(e)
            or ExerciseResult(
                e,
                [
                    PartResult(p.id, 0.0, p.points, "missing", "No answer was handed in.")
                    for p in catalog.exercises[e].parts
                ],
            )
            for e in exercise_ids
        ],
    )


def gradescope_folders(results: Sequence[Result], names: Sequence[str], catalog: Any = None) -> dict[str, str]:
    """``<name>/results.json`` → its text, one per result (Gradescope takes one results.json per submission);
    each result's visibility comes from its assignment's feedback setting in ``catalog``."""
    files = {}
    for result, name in zip(results, names, strict=True):
        assignment = getattr(result, "assignment", None)
        found = catalog.assignments.get(assignment) if catalog is not None and assignment else None
        visibility, sentences = gradescope_visibility(found)
        report = gradescope(result, visibility, sentences)
        files[f"{name}/results.json"] = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    return files


def to_json(results: Sequence[NotebookResult]) -> str:
    return json.dumps([r.to_json() for r in results], indent=2, ensure_ascii=False)


def file_stem(text: Any) -> str:
    """``text`` as the name of one file or folder: letters, digits and ``. _ @ + -`` (anything else ``_``), at most
    100 characters, not hidden (no leading dot); ``unknown`` when nothing is left."""
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", str(text))[:100].lstrip(".") or "unknown"


def feedback_names(results: Sequence[NotebookResult]) -> list[str]:
    """One file name per result: ``<student>.html``, or ``<student>-<assignment>.html`` for a student with several
    notebooks in the batch, and ``-2``, ``-3``, … after any name already taken (a notebook handed in twice)."""
    notebooks = Counter(file_stem(r.student or "unknown") for r in results)
    taken: set[str] = set()
    names = []
    for result in results:
        stem = file_stem(result.student or "unknown")
        if notebooks[stem] > 1 and result.assignment:
            stem = f"{stem}-{file_stem(result.assignment)}"
        name, number = f"{stem}.html", 1
        while name.lower() in taken:  # also on a case-insensitive file system
            number += 1
            name = f"{stem}-{number}.html"
        taken.add(name.lower())
        names.append(name)
    return names
