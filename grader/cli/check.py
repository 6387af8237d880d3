"""``grader check``: a submission (a JSON file, or one typed answer) graded by :func:`grader.grading.grade`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from grader.cli.common import FORMAT, catalog_or_exit, fail
from grader.contract import Result


@click.command()
@click.argument("submission", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--exercise", help="Check a single answer: the exercise id.")
@click.option("--part", help="Check a single answer: the part id.")
@click.option("--answer", help="Check a single answer: the answer as typed.")
@click.option("--student", default=None, help="Student id (selects the student's variant).")
@click.option("--fail-under", type=float, default=None, help="Exit 1 if the score is below this percentage.")
@FORMAT
def check(
    submission: str | None,
    exercise: str | None,
    part: str | None,
    answer: str | None,
    student: str | None,
    fail_under: float | None,
    output_format: str,
) -> None:
    """Grade SUBMISSION.json (or '-' for stdin), or one answer with --exercise/--part/--answer."""
    from grader.grading import SubmissionError, grade
    from grader.reports.text import result_text

    if submission is None:
        if not (exercise and part and answer is not None):
            fail("give SUBMISSION.json, or all of --exercise, --part and --answer")
        data: Any = {"answers": {exercise: {part: answer}}}
        if student:
            data["student"] = student
    else:
        if exercise or part or answer is not None:
            fail("give either SUBMISSION.json or --exercise/--part/--answer, not both")
        data = _read_json(submission)
        if student and isinstance(data, dict):
            data["student"] = student
    from grader.specs.model import SpecError

    catalog = catalog_or_exit()
    try:
        result = grade(data, catalog)
    except (SubmissionError, SpecError) as exc:  # a spec whose answers cannot be computed: as 'grader validate' says
        fail(str(exc))
    if submission is None:
        _keep_only_part(result, part)
    text = (
        json.dumps(result.to_json(), indent=2, ensure_ascii=False) if output_format == "json" else result_text(result)
    )
    click.echo(text)
    _exit_for_score(result, fail_under)


def _keep_only_part(result: Result, part: str | None) -> None:
    """For a single answer, report just that part (the scores are its points)."""
    exercise = result.exercises[0]
    exercise.parts = [p for p in exercise.parts if p.id == part]


def _read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path} does not exist")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"could not read {path}: {exc}")
    try:
        return json.loads(text)
    except ValueError as exc:
        fail(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})")  # type: ignore[attr-defined]


def _exit_for_score(result: Result, fail_under: float | None) -> None:
    if fail_under is None:
        return
    percent = 100.0 * result.score / result.max_score if result.max_score else 100.0
    if percent < fail_under:
        click.echo(f"score {percent:.1f}% is below --fail-under {fail_under:g}%", err=True)
        sys.exit(1)
