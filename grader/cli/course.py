"""``grader extensions …`` (students' extra days, with who gave them) and ``grader regrade`` (after a spec change).

    grader extensions set s001 lec4-homework --days 3 [--reason "illness"] [--by prof]
    grader extensions remove s001 lec4-homework
    grader extensions list [--student S] [--assignment A] [--history] [--format text|json]
    grader extensions import extensions.csv          # columns student,assignment,days[,reason]
    grader regrade gd-parabola [--dry-run] [--format text|json]

The store is ``--database URL``, else ``DATABASE_URL``, else the SQLite file
in the data folder; the course is ``GRADER_EXERCISES`` (``exercises/``).
Every change to an extension is recorded with ``--by`` (default: your login
name) and the time. Exit codes: 0 done, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import getpass
import json
import sys

import click

from grader.cli.common import DATABASE, FORMAT, catalog_or_exit, database_or_exit, fail

by_option = click.option(
    "--by",
    default=None,
    help="Who is making the change, as recorded (default: your login name).",
)


def _by(by: str | None) -> str:
    if by:
        return by[:128]
    try:
        return getpass.getuser()[:128] or "unknown"
    except (KeyError, OSError):
        return "unknown"


@click.group("extensions")
def extensions() -> None:
    """Students' extra days on an assignment's due date (accommodations, illness), and who gave them."""


@extensions.command("set")
@click.argument("student")
@click.argument("assignment")
@click.option("--days", type=int, required=True, help="Whole days the due date and the late window move by.")
@click.option("--reason", default=None, help="Why (kept with the change).")
@by_option
@DATABASE
def extensions_set(
    student: str, assignment: str, days: int, reason: str | None, by: str | None, database_url: str | None
) -> None:
    """Give STUDENT DAYS more days on ASSIGNMENT (replacing any extension they had)."""
    from grader import deadlines
    from grader.store import course

    catalog = catalog_or_exit()
    try:
        course.check_extension(catalog, student, assignment, days, reason)
        row = course.set_extension(
            database_or_exit(database_url), catalog, student, assignment, days, by=_by(by), reason=reason
        )
    except course.ExtensionError as exc:
        fail(str(exc))
    window = deadlines.window(catalog.assignments[assignment], row.days)
    late = f"; late hand-ins until {deadlines.shown_time(window.until)}" if window.until else ""
    click.echo(f"{student}: {assignment} {window.due_sentence()}{late}")


@extensions.command("remove")
@click.argument("student")
@click.argument("assignment")
@click.option("--reason", default=None, help="Why (kept with the change).")
@by_option
@DATABASE
def extensions_remove(
    student: str, assignment: str, reason: str | None, by: str | None, database_url: str | None
) -> None:
    """Take STUDENT's extension on ASSIGNMENT away."""
    from grader.store import course

    if not course.remove_extension(database_or_exit(database_url), student, assignment, by=_by(by), reason=reason):
        fail(f"{student} has no extension on {assignment}")
    click.echo(f"{student}: extension on {assignment} removed")


@extensions.command("list")
@click.option("--student", default=None, help="Only this student's.")
@click.option("--assignment", default=None, help="Only this assignment's.")
@click.option("--history", is_flag=True, help="Every change (who, when, how) instead of the extensions in force.")
@FORMAT
@DATABASE
def extensions_list(
    student: str | None, assignment: str | None, history: bool, output_format: str, database_url: str | None
) -> None:
    """The extensions in force, or with --history every change to them."""
    from grader.store import course

    db = database_or_exit(database_url)
    if history:
        changes = course.extension_changes(db, student, assignment, limit=100_000)
        if output_format == "json":
            click.echo(json.dumps(changes, indent=2))
            return
        for c in changes:
            change = "removed" if c["days"] is None else f"{c['days']} day(s)"
            reason = f"  ({c['reason']})" if c["reason"] else ""
            click.echo(f"{c['at']}\t{c['by']}\t{c['source']}\t{c['student']}\t{c['assignment']}\t{change}{reason}")
        return
    rows = course.list_extensions(db, student, assignment)
    if output_format == "json":
        click.echo(json.dumps([r.to_json() for r in rows], indent=2))
        return
    if not rows:
        click.echo("no extensions", err=True)
    for r in rows:
        reason = f"  ({r.reason})" if r.reason else ""
        click.echo(f"{r.student}\t{r.assignment}\t+{r.days} day(s)\tset by {r.set_by} at {r.set_at}{reason}")


@extensions.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False))
@by_option
@DATABASE
def extensions_import(csv_file: str, by: str | None, database_url: str | None) -> None:
    """Set every extension of FILE.csv (columns student,assignment,days, optionally reason): all or none."""
    from pathlib import Path

    from grader.store import course

    catalog = catalog_or_exit()
    try:
        text = Path(csv_file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"{csv_file} does not exist")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"could not read {csv_file} as UTF-8 text ({exc})")
    try:
        rows = course.read_extensions_csv(text, catalog)
        count = course.import_extensions(database_or_exit(database_url), catalog, rows, by=_by(by))
    except course.ExtensionError as exc:
        fail(f"{csv_file}: {exc}; nothing was imported")
    click.echo(f"{count} extension(s) imported from {csv_file}")


@click.command("regrade")
@click.argument("target")
@click.option("--dry-run", is_flag=True, help="Grade again and print before/after, but store nothing.")
@by_option
@FORMAT
@DATABASE
def regrade(target: str, dry_run: bool, by: str | None, output_format: str, database_url: str | None) -> None:
    """Grade every stored submission of TARGET (an exercise or assignment) again with today's specs.

    Prints, per student, the score on TARGET before and after (TAs' overrides included). A changed result
    replaces the submission's, and the one it replaces is kept in the history; --dry-run stores nothing.
    """
    from grader import regrade as regrading
    from grader.settings import current

    catalog = catalog_or_exit()
    try:
        regrading.target_exercises(catalog, target)
    except regrading.RegradeError as exc:
        fail(str(exc))
    db = database_or_exit(database_url)

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            click.echo(f"\r{done}/{total} submissions", nl=done == total, err=True)

    try:
        report = regrading.run_now(
            db,
            catalog,
            target,
            dry_run=dry_run,
            by=_by(by),
            notebook_grader=current().notebook_grader,
            progress=progress,
        )
    except regrading.RegradeError as exc:
        fail(str(exc))
    click.echo(json.dumps(report.to_json(), indent=2) if output_format == "json" else report.text())
