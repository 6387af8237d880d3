"""``grader notebook`` (generate a student notebook, :mod:`grader.notebooks.generate`) and ``grader grade`` (grade
many notebooks: :mod:`grader.notebooks.intake` and :mod:`~grader.notebooks.batch`, or the job queue with
``--queue``; deadlines with :mod:`grader.notebooks.late`; exports from :mod:`grader.reports`)."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from grader.cli.common import catalog_or_exit, fail
from grader.contract import NotebookResult


@click.command()
@click.argument("assignment")
@click.option("--student", default=None, help="Generate this student's variant.")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True), help="The .ipynb file to write."
)
@click.option(
    "--server",
    default=None,
    metavar="URL",
    help="The grader's address (https://…) that the notebook's check() and submit() use when GRADER_URL is not set.",
)
def notebook(assignment: str, student: str | None, output: str, server: str | None) -> None:
    """Generate the student notebook of ASSIGNMENT (prompts with the student's numbers, answer cells, and
    check()/submit() cells that talk to the grader)."""
    import nbformat

    from grader.notebooks.generate import student_notebook
    from grader.students import ID_RULE, is_student_id

    catalog = catalog_or_exit()
    if assignment not in catalog.assignments:
        fail(f"unknown assignment {assignment!r}; known: {', '.join(catalog.assignments)}")
    if student is not None and not is_student_id(student):
        # grading draws the variant from this id; one it cannot take back would be graded against other numbers
        fail(f"--student must be an id of {ID_RULE}")
    if server is not None and not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", server.strip()):
        fail("--server must be an http:// or https:// address, like https://grader.example.edu")
    node = student_notebook(catalog, assignment, student, server=server.strip().rstrip("/") if server else None)
    try:
        nbformat.write(node, output)
    except OSError as exc:
        fail(f"could not write {output}: {exc.strerror}")
    click.echo(f"wrote {output}", err=True)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--assignment",
    default=None,
    help="The assignment the notebooks answer (default: from metadata, folders or the code).",
)
@click.option(
    "--student",
    default=None,
    help="Whose notebooks these all are (e.g. one student's folder), instead of their metadata or paths.",
)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="Notebooks run at once.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.5, 3600),
    default=30.0,
    show_default=True,
    help="Wall-clock seconds per notebook.",
)
@click.option(
    "--memory", type=click.IntRange(64, 65536), default=1024, show_default=True, help="Memory limit per notebook, MB."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv", "gradescope"]),
    default="text",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(writable=True),
    default=None,
    help="Write the results to this file instead of stdout. With --format gradescope and several notebooks (or "
    "an existing folder): a folder, with one <student>/results.json per notebook.",
)
@click.option(
    "--feedback",
    type=click.Path(file_okay=False),
    default=None,
    help="Write one HTML feedback file per student into this folder.",
)
@click.option("--fail-under", type=float, default=None, help="Exit 1 if any notebook scores below this percentage.")
@click.option(
    "--queue",
    "use_queue",
    is_flag=True,
    help="Grade through the service's job queue: each notebook becomes a stored submission graded by the Celery "
    "workers (GRADER_BROKER) or, without a broker, by --workers threads here; the workers' limits apply.",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="With --queue: wait for the results, or print the submission ids and leave them to the workers.",
)
@click.option(
    "--roster",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV with a 'student' column (course ids) and any other ids (Canvas or Moodle id, email, name) to map from.",
)
@click.option(
    "--late-from",
    type=click.Choice(["none", "mtime", "csv"]),
    default="none",
    show_default=True,
    help="Apply the assignment's deadlines and late days (course.yaml) with each notebook's hand-in time taken from "
    "its file's modification time, or from --submitted-at; none: no deadlines.",
)
@click.option(
    "--submitted-at",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --late-from csv: a CSV with the columns student,submitted_at (ISO times with a zone).",
)
def grade(
    paths: tuple[str, ...],
    assignment: str | None,
    student: str | None,
    workers: int,
    timeout: float,
    memory: int,
    output_format: str,
    out: str | None,
    feedback: str | None,
    fail_under: float | None,
    use_queue: bool,
    wait: bool,
    roster: str | None,
    late_from: str = "none",
    submitted_at: str | None = None,
) -> None:
    """Grade notebooks: files and folders (also submitted/<student>/<assignment>/*.ipynb), in parallel sandboxes."""
    from grader.sandbox import Limits, Sandbox

    # --timeout is wall-clock time; the CPU-time limit is a backstop just above it, so a busy loop
    # is reported the same way ("timeout after N s") however loaded the machine is.
    limits = Limits(cpu_seconds=timeout + 1, wall_seconds=timeout, memory_mb=memory)
    # The forkservers start first: they take the longest to be ready, and the rest is done meanwhile.
    started = None if use_queue else Sandbox(workers=workers, limits=limits, wait=False)
    try:
        batch, catalog = _gathered(paths, assignment, student, wait, use_queue, roster)
    except BaseException:
        if started is not None:
            started.close()
        raise
    if not batch:
        if started is not None:
            started.close()
        fail("no .ipynb files found in the given paths")
    from grader.notebooks import late

    try:
        handed_in = late.plan(batch, catalog, late_from, submitted_at, output_format)  # exit 2 here, before grading
    except BaseException as exc:
        if started is not None:
            started.close()
        if isinstance(exc, late.LateError):
            fail(str(exc))
        raise
    if use_queue:
        results = _grade_queued(batch, catalog, workers, wait, handed_in)
        if results is None:
            return
    else:
        from grader.notebooks.batch import grade_batch

        results = list(_with_progress(grade_batch(batch, catalog, workers, limits, started=started), len(batch)))
    from grader.reports import exports

    if output_format == "gradescope":
        _write_gradescope(results, catalog, out)
    else:
        rendered = {
            "json": lambda: exports.to_json(results),
            "csv": lambda: exports.results_csv(results),
            "text": lambda: _text(results),
        }[output_format]()
        rendered = late.rendered(rendered, output_format, results, handed_in)
        if out:
            _write_out(Path(out), rendered)
        else:
            click.echo(rendered)
    _summary(results)
    if feedback:  # after the results: a full disk here costs the feedback pages, never the grades
        _write_feedback(results, catalog, Path(feedback))
    if fail_under is not None and any(_percent(r) < fail_under for r in results):
        sys.exit(1)


def _gathered(
    paths: tuple[str, ...], assignment: str | None, student: str | None, wait: bool, use_queue: bool, roster: str | None
) -> tuple[list[Any], Any]:
    """The options checked, and the notebooks read and identified (exit 2 with the reason otherwise)."""
    from grader.notebooks.intake import gather
    from grader.students import ID_RULE, is_student_id

    catalog = catalog_or_exit()
    if assignment is not None and assignment not in catalog.assignments:
        fail(f"unknown assignment {assignment!r}; known: {', '.join(catalog.assignments)}")
    if student is not None and not is_student_id(student):
        fail(f"--student must be an id of {ID_RULE}")
    if not wait and not use_queue:
        fail("--no-wait goes with --queue (without it the notebooks are graded here, and waited for)")
    batch = gather(paths, catalog, assignment, student, _roster(roster))
    return batch, catalog


def _write_out(path: Path, rendered: str) -> None:
    from grader.paths import write_atomically

    if path.is_dir():
        fail(f"--out {path} is a folder; give a file (only --format gradescope writes a folder)")
    try:
        write_atomically(path, rendered if rendered.endswith("\n") else rendered + "\n")
    except OSError as exc:
        fail(f"could not write the results to {path}: {exc.strerror or exc} (the file was left as it was)")


def _write_gradescope(results: list[NotebookResult], catalog: Any, out: str | None) -> None:
    """Gradescope's results.json: for one notebook to ``out`` (a file) or stdout; for several, or when ``out`` is
    an existing folder, one ``<student>/results.json`` per notebook under ``out`` (Gradescope takes one file per
    submission). The visibility is each assignment's feedback setting (``visible`` when it has none)."""
    from grader.paths import write_atomically
    from grader.reports import exports

    folder = Path(out) if out else None
    if len(results) == 1 and (folder is None or not folder.is_dir()):
        assignment = catalog.assignments.get(results[0].assignment) if results[0].assignment else None
        rendered = json.dumps(exports.gradescope(results[0], *exports.gradescope_visibility(assignment)), indent=2)
        if folder is None:
            click.echo(rendered)
        else:
            _write_out(folder, rendered)
        return
    if folder is None or (folder.exists() and not folder.is_dir()):
        fail(
            f"--format gradescope with {len(results)} notebooks writes one results.json per submission "
            "(Gradescope takes one file per submission): give --out a folder"
        )
    names = [name.removesuffix(".html") for name in exports.feedback_names(results)]
    written = 0
    try:
        for relative, text in exports.gradescope_folders(results, names, catalog).items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, text)
            written += 1
    except OSError as exc:
        fail(
            f"could not write the Gradescope results to {folder}: {exc.strerror or exc} "
            f"({written} of {len(results)} written, each one whole)"
        )
    click.echo(f"wrote {written} results.json file(s) under {folder}", err=True)


def _roster(path: str | None) -> Any:
    """The ``--roster`` CSV, or None; a file that cannot be used exits 2 with the reason."""
    from grader.notebooks.intake import Roster, RosterError

    if path is None:
        return None
    try:
        return Roster.read(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        fail(f"could not read the roster {path}: {exc.strerror}")
    except (UnicodeDecodeError, csv.Error) as exc:
        fail(f"the roster {path} is not a CSV file of UTF-8 text ({exc})")
    except RosterError as exc:
        fail(f"{path}: {exc}")


def _grade_queued(
    batch: list[Any], catalog: Any, workers: int, wait: bool, handed_in: Any = None
) -> list[NotebookResult] | None:
    """Queue the notebooks as submissions (the service's path) and wait for their results, in the files' order.

    Without waiting, print one line per notebook (submission id, student, file) and return None. With
    ``handed_in`` (``--late-from``: a :class:`grader.notebooks.late.LatePlan`), each notebook's hand-in time is
    recorded with its submission, so the service's gradebook counts its late days and penalty.
    """
    from grader.jobs import make_queue, queue_name
    from grader.notebooks.queued import QueueDown, queue_files, wait_for
    from grader.settings import current
    from grader.store.db import Database, is_unavailable

    settings = current()
    broker = settings.broker
    if not wait and not broker:
        fail("--no-wait needs GRADER_BROKER (Celery workers): without a broker the jobs run in this process")
    if not broker:  # this process grades: prove its sandbox before anything is queued
        from grader.sandbox.warm import size_warm_sandbox, warm_sandbox

        size_warm_sandbox(workers)
        warm_sandbox(catalog.kernel_packages)
    db = Database()
    try:
        db.migrate()
        jobs = make_queue(
            db,
            catalog,
            broker=broker,
            queue=queue_name(),
            workers=workers,
            notebook_grader=settings.notebook_grader,
            max_attempts=settings.max_attempts,
        )
        times = None
        if handed_in is not None:  # what the store held before this batch; then the batch's hand-ins with it
            handed_in.read_standings(db, {h.owner.student for h in batch})
            times = handed_in.times
        queued = queue_files(batch, catalog, db, jobs, handed_in_at=times)
    except QueueDown as exc:
        fail(str(exc))
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        fail(f"the database does not answer ({db!r}); nothing was queued")
    where = f"the workers of {broker}" if broker else f"{workers} local worker(s)"
    click.echo(f"queued {sum(q.id is not None for q in queued)} notebook(s) in {db!r} for {where}", err=True)
    if not wait:
        for q in queued:
            click.echo(f"{q.id or '-'}\t{q.student}\t{q.path}" + (f"\t{q.error}" if q.error else ""))
        return None
    try:
        results = list(_with_progress(wait_for(db, queued, on_idle=_nudge(broker, queue_name())), len(queued)))
    except KeyboardInterrupt:
        jobs.shutdown(wait=True, cancel_pending=True)
        click.echo("stopped waiting: the unfinished notebooks stay queued in the store", err=True)
        sys.exit(130)
    jobs.shutdown(wait=True)
    order = {str(q.path): i for i, q in enumerate(queued)}
    return sorted(results, key=lambda r: order.get(r.file, len(order)))


def _nudge(broker: str | None, queue: str) -> Any:
    """What to say when no queued notebook has finished for a while."""

    def say(seconds: float) -> None:
        if broker:
            hint = f"is a worker running on this broker and queue? (GRADER_QUEUE={queue} celery -A grader.celery_app worker)"
        else:
            hint = "the local workers are still on the first notebooks"
        click.echo(f"no notebook finished in the last {seconds:.0f} s: {hint}; Ctrl-C stops waiting", err=True)

    return say


def _with_progress(results: Any, total: int) -> Any:
    if not sys.stderr.isatty():
        yield from results
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="nb", file=sys.stderr, dynamic_ncols=True) as bar:
        for result in results:
            bar.update(1)
            yield result


def _percent(result: NotebookResult) -> float:
    return 100.0 * result.score / result.max_score if result.max_score else 0.0


def _text(results: list[NotebookResult]) -> str:
    from grader.reports.exports import problems

    width = max(len(r.student) for r in results)
    lines = []
    for r in results:
        score = f"{r.score:g}/{r.max_score:g}" if r.graded else "not graded"
        said = problems(r)
        error = f"  ({said})" if said else ""
        lines.append(f"{r.student:<{width}}  {score:>10}  {r.file}{error}")
    return "\n".join(lines)


def _summary(results: list[NotebookResult]) -> None:
    """On stderr: parts that need a human, notebooks that failed and why, and those whose metadata names another
    student or assignment than the one they were graded as."""
    from grader.reports.exports import cell_error_lines

    review = [
        f"{r.student}: {e.id}/{p.id}" + (f" ({p.details['review']['found']})" if _found(p) else "")
        for r in results
        for e, p in r.parts()
        if p.status == "needs_review"
    ]
    failed = [f"{r.file}: {r.error}" for r in results if r.error]
    raised = [f"{r.file}: {'; '.join(cell_error_lines(r))}" for r in results if r.cell_errors]
    disputed = [f"{r.file}: {r.warning}" for r in results if r.warning]
    click.echo(
        f"graded {len(results)} notebook(s); {len(review)} part(s) need a human; {len(failed)} notebook(s) had an error"
        f"; {len(raised)} notebook(s) had cells that raised"
        + (f"; {len(disputed)} notebook(s) disagree with their metadata" if disputed else ""),
        err=True,
    )
    for line in review[:50]:
        click.echo(f"  review {line}", err=True)
    for line in failed:
        click.echo(f"  error  {line}", err=True)
    for line in raised:
        click.echo(f"  cells  {line}", err=True)
    for line in disputed:
        click.echo(f"  warning {line}", err=True)


def _found(part: Any) -> bool:
    review = part.details.get("review")
    return isinstance(review, dict) and isinstance(review.get("found"), str)


def _write_feedback(results: list[NotebookResult], catalog: Any, folder: Path) -> None:
    from grader.paths import write_atomically
    from grader.reports.exports import feedback_names
    from grader.reports.feedback import feedback_html

    written = 0
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for result, name in zip(results, feedback_names(results), strict=True):
            answers = result.answers or {}
            page = feedback_html(result, catalog, lambda e, p, a=answers: a.get(e, {}).get(p))
            write_atomically(folder / name, page)
            written += 1
    except OSError as exc:
        fail(
            f"could not write feedback files to {folder}: {exc.strerror or exc} "
            f"({written} of {len(results)} written, each one whole; the results are complete)"
        )
