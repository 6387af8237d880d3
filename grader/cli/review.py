"""``grader review …``: the review page from a terminal (:mod:`grader.review`, :mod:`grader.store.reviews`).

    grader review list [--format text|json]
    grader review show SUBMISSION/EXERCISE/PART [--format text|json]
    grader review set SUBMISSION/EXERCISE/PART --score 1.5 [--comment "…"] [--by ta1]
    grader review flag SUBMISSION/EXERCISE/PART --comment "…" [--by s001]

A part is named as ``review list`` prints it: submission id, exercise and
part, joined by ``/``. The store is ``--database URL``, else
``DATABASE_URL``, else the SQLite file in the data folder. Exit codes: 0
done, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import getpass
import json

import click

from grader.cli.common import DATABASE, FORMAT, catalog_or_exit, database_or_exit, fail
from grader.contract import shown_number, status_label


def _reviewer(by: str | None) -> str:
    """``--by``, else ``GRADER_REVIEWER``, else the login name."""
    from grader.settings import current
    from grader.students import ID_RULE, is_student_id

    name = by or current().reviewer or getpass.getuser()
    if not is_student_id(name):
        fail(f"--by must be an id of {ID_RULE}, not {name[:40]!r}")
    return name


@click.group("review")
def review() -> None:
    """Score the parts waiting for a TA, and override any part's score, with a comment (as the /review page)."""


@review.command("list")
@FORMAT
@DATABASE
def list_command(output_format: str, database_url: str | None) -> None:
    """The parts waiting for a TA, oldest submission first: free text nobody scored in the attempts the gradebook
    counts (each student's best and latest), and every part a student asked about again."""
    from grader.review import answers_of, queue

    db = database_or_exit(database_url)
    waiting = queue(db, catalog_or_exit())
    if output_format == "json":
        answers = answers_of(db, waiting, limit=2000)
        click.echo(json.dumps([{**w.to_json(), "answer": answers.get(w.ref)} for w in waiting], indent=2))
        return
    if not waiting:
        click.echo("nothing waits for a TA")
        return
    answers = answers_of(db, waiting, limit=60)
    for item in waiting:
        why = item.reason + (f": {item.request}" if item.request else "")
        click.echo(f"{item.ref}\t{item.student}\t{shown_number(item.max_score)} pt\t{why}\t{answers.get(item.ref, '')}")
    click.echo(f"{len(waiting)} part(s) wait for a TA", err=True)


@review.command("show")
@click.argument("part")
@FORMAT
@DATABASE
def show_command(part: str, output_format: str, database_url: str | None) -> None:
    """Everything about one part (SUBMISSION/EXERCISE/PART): the question, the answer, the keyword hint, the model
    answer, what the grader said, the score now and every review."""
    from grader.reports.maths_text import maths_as_text
    from grader.review import parse_ref, part_view
    from grader.store.reviews import ReviewError

    db = database_or_exit(database_url)
    try:
        view = part_view(db, catalog_or_exit(), *parse_ref(part))
    except ReviewError as exc:
        fail(str(exc))
    if output_format == "json":
        click.echo(json.dumps(view.to_json(), indent=2, ensure_ascii=False))
        return
    lines = [
        f"{view.title}, part {view.part} ({shown_number(view.points)} pt) — {view.student}, submitted {view.created_at}",
        f"question: {maths_as_text(view.prompt)}" if view.prompt else "",
        f"answer:   {view.answer if view.answer is not None else '(none kept)'}",
        f"hint:     {view.hint}" if view.hint else "",
        f"model:    {view.model}" if view.model else "",
        f"grader:   {status_label(view.automatic.status)}, {shown_number(view.automatic.score)} / {shown_number(view.points)}: "
        f"{view.automatic.feedback}",
        f"now:      {status_label(view.shown.status)}, {shown_number(view.shown.score)} / {shown_number(view.points)}"
        + (" (waiting for a TA)" if view.waiting and view.shown.status != "needs_review" else ""),
    ]
    lines += [
        f"  {r.at} {r.by}: "
        + (f"score {shown_number(r.score or 0)}" if r.action == "score" else "asked to look again")
        + (f" — {r.comment}" if r.comment else "")
        for r in view.reviews
    ]
    click.echo("\n".join(line for line in lines if line))


@review.command("set")
@click.argument("part")
@click.option("--score", type=str, default=None, help="The points to give (0 to the part's points).")
@click.option("--comment", default=None, help="What the student reads beside the score.")
@click.option("--by", default=None, help="Who reviews (default: GRADER_REVIEWER, else your login name).")
@DATABASE
def set_command(part: str, score: str | None, comment: str | None, by: str | None, database_url: str | None) -> None:
    """Score one part (SUBMISSION/EXERCISE/PART) with a comment: an override of the grader's score, kept when the
    submission is graded again. Without --score, the part keeps the score it has now (a comment only)."""
    from grader.review import parse_ref, part_view
    from grader.store import reviews
    from grader.store.reviews import ReviewError

    reviewer = _reviewer(by)
    db = database_or_exit(database_url)
    try:
        submission_id, exercise, part_id = parse_ref(part)
        view = part_view(db, catalog_or_exit(), submission_id, exercise, part_id)
        if score is None and view.waiting:
            fail("give --score: this part waits for a TA and has no score of a person yet")
        value = view.shown.score if score is None else _number(score)
        record = reviews.record(db, submission_id, exercise, part_id, by=reviewer, score=value, comment=comment)
    except ReviewError as exc:
        fail(str(exc))
    click.echo(
        f"{part}: {shown_number(record.score or 0)} / {shown_number(view.points)} by {record.by}"
        + (f" ({record.comment})" if record.comment else "")
    )


@review.command("flag")
@click.argument("part")
@click.option("--comment", required=True, help="What a TA should look at again.")
@click.option("--by", default=None, help="Who asks (default: GRADER_REVIEWER, else your login name).")
@DATABASE
def flag_command(part: str, comment: str, by: str | None, database_url: str | None) -> None:
    """Ask a TA to look at one part again (a regrade request): it waits for a TA until someone scores it."""
    from grader.review import parse_ref
    from grader.store import reviews
    from grader.store.reviews import ReviewError

    reviewer = _reviewer(by)
    db = database_or_exit(database_url)
    try:
        record = reviews.record(db, *parse_ref(part), by=reviewer, comment=comment)
    except ReviewError as exc:
        fail(str(exc))
    click.echo(f"{part}: waiting for a TA ({record.comment})")


def _number(text: str) -> float:
    try:
        return float(text.replace(",", ".").replace("−", "-"))
    except ValueError:
        fail(f"--score must be a number, not {text[:20]!r}")
