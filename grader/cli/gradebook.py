"""``grader gradebook``: the service's gradebook (:mod:`grader.store.gradebook`) as CSV or JSON
(:mod:`grader.reports.gradebook`), or as one Gradescope results.json per student (:mod:`grader.reports.exports`).

    grader gradebook [--attempt best|latest] [--format csv|json|gradescope] [--assignment A] [--out PATH]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from grader.cli.common import DATABASE, catalog_or_exit, database_or_exit, fail


@click.command("gradebook")
@click.option(
    "--attempt",
    type=click.Choice(["best", "latest"]),
    default="best",
    show_default=True,
    help="Which attempt of each exercise counts (the same choice as the gradebook page's).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "json", "gradescope"]),
    default="csv",
    show_default=True,
    help="gradescope: one <student>/results.json per student under --out (needs --assignment).",
)
@click.option("--assignment", default=None, help="The assignment whose exercises Gradescope's results hold.")
@click.option("--out", type=click.Path(), default=None, help="A file (csv, json) or a folder (gradescope).")
@DATABASE
def gradebook(
    attempt: str, output_format: str, assignment: str | None, out: str | None, database_url: str | None
) -> None:
    """The service's gradebook: each student's counted score per exercise, with TAs' reviews; parts waiting for a
    TA are listed (CSV column waiting_for_ta) and never count as failed."""
    from grader.paths import write_atomically
    from grader.reports.gradebook import gradebook_csv, gradebook_json
    from grader.store import course
    from grader.store import gradebook as book

    catalog = catalog_or_exit()
    if output_format == "gradescope":
        if assignment is None or assignment not in catalog.assignments:
            known = ", ".join(catalog.assignments)
            fail(f"--format gradescope needs --assignment, one of: {known}")
        if not out:
            fail("--format gradescope writes one <student>/results.json per student: give --out a folder")
        _gradescope_folder(database_or_exit(database_url), catalog, assignment, attempt, Path(out))
        return
    db = database_or_exit(database_url)
    late = course.late_book(db, catalog) if any(a.rules.due for a in catalog.assignments.values()) else None
    data = book.gradebook(db, attempt, late)  # late penalties, as the service's gradebook applies them
    text = (
        gradebook_csv(data, catalog) if output_format == "csv" else json.dumps(gradebook_json(data, catalog), indent=2)
    )
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        write_atomically(Path(out), text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        fail(f"could not write {out}: {exc.strerror or exc} (the file was left as it was)")


def _gradescope_folder(db: Any, catalog: Any, assignment: str, attempt: str, folder: Path) -> None:
    """One Gradescope results.json per student: the counted attempt of each exercise of ``assignment``, reviewed;
    an exercise never attempted has its parts ``missing``."""
    from grader.paths import write_atomically
    from grader.reports import exports
    from grader.store import gradebook as book

    exercises = list(catalog.assignments[assignment].exercises)
    visibility, sentences = exports.gradescope_visibility(catalog.assignments[assignment])
    results = book.counted_results(db, exercises, attempt)
    if folder.exists() and not folder.is_dir():
        fail(f"--out {folder} is a file; give a folder")
    written = 0
    try:
        for student, result in results.items():
            target = folder / exports.file_stem(student) / "results.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            report = exports.gradescope(exports.with_every_exercise(result, exercises, catalog), visibility, sentences)
            write_atomically(target, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
            written += 1
    except OSError as exc:
        fail(f"could not write to {folder}: {exc.strerror or exc} ({written} of {len(results)} written)")
    click.echo(
        f"wrote {written} results.json file(s) under {folder} (counting each student's {attempt} attempt)", err=True
    )
