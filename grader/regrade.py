"""Regrade: every stored submission of an exercise or an assignment graded again with today's specs.

``grader regrade EXERCISE|ASSIGNMENT [--dry-run]`` and ``POST /api/regrade``
(an instructor's background job, :func:`start`) both call :func:`regrade`:

* the submissions are the graded (``done``) ones that answer one of the
  target's exercises, oldest first; answers are graded again from their
  stored payload, notebooks are run again by the notebook grader;
* a result that changed replaces the submission's result and part rows in one
  transaction, and the result it replaces is kept in ``previous_results``
  (with the regrade's id): history is never overwritten, and a dry run stores
  nothing;
* TAs' overrides are stored apart (:mod:`grader.store.reviews`) and applied on
  top of whatever result a submission has (:func:`apply_overrides`), so they
  survive a regrade; the scores reported before and after are the ones that
  count, overrides included;
* a submission that cannot be graded again (a part it answers was removed
  from the spec, a notebook the sandbox could not run) keeps its result and
  is reported with the reason.

The report says, per student, the score on the target before and after (the
best of their submissions, as the gradebook counts by default), and per
submission what changed.
"""

from __future__ import annotations

import difflib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update

from grader.contract import NotebookResult, Result, rounded_score
from grader.grading import SubmissionError, grade
from grader.store.db import Database
from grader.store.models import PartResult, PreviousResult, Regrade, Submission, isoformat, utcnow
from grader.store.submissions import new_id, part_rows

log = logging.getLogger(__name__)


class RegradeError(ValueError):
    """A regrade that cannot be run (an unknown target); the message is one sentence."""


def apply_overrides(result: Result, overrides: Iterable[Any]) -> Result:
    """``result`` with the TAs' overrides of its parts on top (the one hook regrade uses).

    ``overrides`` are the submission's stored reviews (:func:`grader.store.reviews.of_submission`); they are
    kept apart from results, so they apply to a result graded again exactly as to the first one.
    """
    from grader.store import reviews

    records = list(overrides)
    return reviews.apply_overrides(result, records) if records else result


def _overrides(db: Database, submission_id: str) -> list[Any]:
    from grader.store import reviews

    return reviews.of_submission(db, submission_id)


def target_exercises(catalog: Any, target: str) -> tuple[str, list[str]]:
    """``("exercise" | "assignment", its exercises)``; RegradeError naming the nearest ids for an unknown target."""
    if target in catalog.exercises:
        return "exercise", [target]
    if target in catalog.assignments:
        return "assignment", list(catalog.assignments[target].exercises)
    known = [*catalog.exercises, *catalog.assignments]
    close = difflib.get_close_matches(str(target), known, n=2)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise RegradeError(f"{str(target)[:64]!r} is neither an exercise nor an assignment{hint}")


@dataclass
class Regraded:
    """One submission graded again: its score on the target's exercises before and after (overrides applied)."""

    submission: str
    student: str
    kind: str
    before: float
    after: float | None
    max_before: float
    max_after: float | None
    changed: bool = False
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "student": self.student,
            "kind": self.kind,
            "before": rounded_score(self.before),
            "after": None if self.after is None else rounded_score(self.after),
            "max_before": rounded_score(self.max_before),
            "max_after": None if self.max_after is None else rounded_score(self.max_after),
            "changed": self.changed,
            "error": self.error,
        }


@dataclass
class RegradeReport:
    target: str
    kind: str
    exercises: list[str]
    dry_run: bool
    id: str | None = None
    submissions: list[Regraded] = field(default_factory=list)

    def students(self) -> list[dict[str, Any]]:
        """Per student: the best score on the target before and after, its maximum, submissions and changes."""
        rows: dict[str, dict[str, Any]] = {}
        for item in self.submissions:
            row = rows.setdefault(
                item.student,
                {
                    "student": item.student,
                    "before": None,
                    "after": None,
                    "max_score": 0.0,
                    "submissions": 0,
                    "changed": 0,
                },
            )
            row["submissions"] += 1
            row["changed"] += item.changed
            row["before"] = item.before if row["before"] is None else max(row["before"], item.before)
            after = item.after if item.after is not None else item.before  # not regraded: its result stays
            row["after"] = after if row["after"] is None else max(row["after"], after)
            row["max_score"] = max(row["max_score"], item.max_after or item.max_before)
        for row in rows.values():
            for key in ("before", "after", "max_score"):
                row[key] = rounded_score(row[key] or 0)
        return sorted(rows.values(), key=lambda r: r["student"])

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "kind": self.kind,
            "exercises": self.exercises,
            "dry_run": self.dry_run,
            "regraded": len(self.submissions),
            "changed": sum(s.changed for s in self.submissions),
            "errors": sum(s.error is not None for s in self.submissions),
            "students": self.students(),
            "submissions": [s.to_json() for s in self.submissions],
        }

    def text(self) -> str:
        changed = sum(s.changed for s in self.submissions)
        note = " (dry run: nothing stored)" if self.dry_run else ""
        lines = [
            f"regrade {self.target}: {len(self.submissions)} submission(s) of {len(self.students())} student(s), "
            f"{changed} changed{note}"
        ]
        if self.submissions:
            width = max(7, *(len(r["student"]) for r in self.students()))
            lines.append(f"{'student':<{width}}  {'before':>7}  {'after':>7}  {'max':>5}  submissions")
            for row in self.students():
                marker = "" if row["before"] == row["after"] else "  *"
                lines.append(
                    f"{row['student']:<{width}}  {row['before']:>7g}  {row['after']:>7g}  {row['max_score']:>5g}  "
                    f"{row['submissions']} ({row['changed']} changed){marker}"
                )
        for item in self.submissions:
            if item.error:
                lines.append(f"not regraded {item.submission} ({item.student}): {item.error}")
        return "\n".join(lines)


def candidates(db: Database, exercises: list[str], assignment: str | None = None) -> list[str]:
    """The graded submissions that answer one of ``exercises`` (or hand in ``assignment``), oldest first."""
    answered = select(PartResult.submission_id).where(PartResult.exercise.in_(exercises))
    query = select(Submission.id).where(Submission.status == "done")
    if assignment is not None:
        query = query.where((Submission.id.in_(answered)) | (Submission.assignment == assignment))
    else:
        query = query.where(Submission.id.in_(answered))
    with db.read() as session:
        return list(session.scalars(query.order_by(Submission.created_at, Submission.id)))


def _on_target(data: Mapping[str, Any] | None, exercises: list[str]) -> tuple[float, float]:
    """(score, max score) of a result document on the target's exercises."""
    score = maximum = 0.0
    for exercise in (data or {}).get("exercises") or []:
        if isinstance(exercise, Mapping) and exercise.get("id") in exercises:
            score += float(exercise.get("score") or 0)
            maximum += float(exercise.get("max_score") or 0)
    return score, maximum


def regrade(
    db: Database,
    catalog: Any,
    target: str,
    *,
    dry_run: bool = False,
    notebook_grader: Callable[..., NotebookResult] | str | None = None,
    regrade_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RegradeReport:
    """Grade every stored submission of ``target`` again with ``catalog`` (today's specs); see the module."""
    kind, exercises = target_exercises(catalog, target)
    report = RegradeReport(target, kind, exercises, dry_run, regrade_id)
    ids = candidates(db, exercises, target if kind == "assignment" else None)
    grader: Any = None
    for number, submission_id in enumerate(ids, start=1):
        with db.read() as session:
            row = session.get(Submission, submission_id)
            if row is None or row.status != "done":
                continue
            snapshot = {
                "id": row.id,
                "student": row.student_id,
                "kind": row.kind,
                "payload": row.payload,
                "filename": row.filename,
                "assignment": row.assignment,
                "result": row.result,
                "score": row.score,
                "max_score": row.max_score,
                "error": row.error,
                "finished_at": row.finished_at,
            }
        if snapshot["kind"] == "notebook" and grader is None:
            from grader.jobs import resolve_grader

            grader = resolve_grader(notebook_grader)
        report.submissions.append(_regrade_one(db, catalog, snapshot, exercises, dry_run, grader, regrade_id))
        if progress is not None:
            progress(number, len(ids))
    return report


def _regrade_one(
    db: Database,
    catalog: Any,
    row: dict[str, Any],
    exercises: list[str],
    dry_run: bool,
    grader: Any,
    regrade_id: str | None,
) -> Regraded:
    overrides = _overrides(db, row["id"])
    old = row["result"] if isinstance(row["result"], Mapping) else None
    shown_before = apply_overrides(Result.from_json(old), overrides).to_json() if old else None
    before, max_before = _on_target(shown_before, exercises)
    item = Regraded(row["id"], row["student"], row["kind"], before, None, max_before, None)
    try:
        result, error = _grade_again(catalog, row, grader)
    except SubmissionError as exc:
        item.error = f"{exc}; its result stays as it was"
        return item
    except Exception as exc:  # the grader itself failed: never the student's loss
        log.exception("regrading %s failed", row["id"])
        item.error = f"the grader failed ({type(exc).__name__}); its result stays as it was"
        return item
    after, max_after = _on_target(apply_overrides(result, overrides).to_json(), exercises)
    item.after, item.max_after = after, max_after
    new = result.to_json()
    item.changed = new != old
    if item.changed and not dry_run:
        _replace(db, row, result, error, regrade_id)
    return item


def _grade_again(catalog: Any, row: Mapping[str, Any], grader: Any) -> tuple[Result, str | None]:
    if row["kind"] == "answers":
        try:
            submission = orjson.loads(row["payload"])
        except orjson.JSONDecodeError as exc:
            raise SubmissionError("the stored submission is not valid JSON") from exc
        return grade(submission, catalog), None
    result = grader(
        row["payload"],
        row["filename"] or "notebook.ipynb",
        catalog,
        assignment=row["assignment"],
        student=row["student"],
    )
    if not result.graded:
        raise SubmissionError(f"the notebook could not be graded again ({result.error or 'no reason given'})")
    return result, None if result.error is None else str(result.error)


def _replace(db: Database, row: Mapping[str, Any], result: Result, error: str | None, regrade_id: str | None) -> None:
    """Keep the submission's result in ``previous_results``, then store the new one and its part rows."""
    with db.write() as session:
        current = session.get(Submission, row["id"])
        if current is None or current.status != "done" or current.result != row["result"]:
            return  # changed meanwhile (deleted, or regraded by another job): leave it
        session.execute(
            insert(PreviousResult).values(
                submission_id=row["id"],
                result=row["result"],
                score=row["score"],
                max_score=row["max_score"],
                graded_at=row["finished_at"],
                replaced_at=utcnow(),
                regrade_id=regrade_id,
            )
        )
        session.execute(
            update(Submission)
            .where(Submission.id == row["id"])
            .values(result=result.to_json(), score=result.score, max_score=result.max_score, error=error)
            .execution_options(synchronize_session=False)
        )
        session.execute(delete(PartResult).where(PartResult.submission_id == row["id"]))
        rows = part_rows(row["id"], row["student"], result)
        if rows:
            session.execute(insert(PartResult), rows)


def previous_results(db: Database, submission_id: str) -> list[dict[str, Any]]:
    """The results a submission had before regrades replaced them, oldest first."""
    with db.read() as session:
        rows = session.scalars(
            select(PreviousResult).where(PreviousResult.submission_id == submission_id).order_by(PreviousResult.id)
        )
        return [
            {
                "result": r.result,
                "score": r.score,
                "max_score": r.max_score,
                "graded_at": isoformat(r.graded_at),
                "replaced_at": isoformat(r.replaced_at),
                "regrade": r.regrade_id,
            }
            for r in rows
        ]


# Regrade jobs ----------------------------------------------------------------------------------------------------


def create_job(db: Database, catalog: Any, target: str, *, dry_run: bool, by: str | None) -> str:
    """Record a queued regrade of ``target`` (RegradeError for an unknown one); returns its id."""
    target_exercises(catalog, target)
    job_id = new_id()
    with db.write() as session:
        session.add(
            Regrade(
                id=job_id,
                target=target,
                dry_run=dry_run,
                status="queued",
                requested_by=by,
                created_at=utcnow(),
                total=0,
                done=0,
            )
        )
    return job_id


def run_job(
    db: Database, catalog: Any, job_id: str, notebook_grader: Callable[..., NotebookResult] | str | None = None
) -> str:
    """Run a queued regrade job and store its report; returns its final status (a second run does nothing)."""
    with db.write() as session:
        claimed = session.execute(
            update(Regrade)
            .where(Regrade.id == job_id, Regrade.status == "queued")
            .values(status="running", started_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        job = session.get(Regrade, job_id)
        if not claimed or job is None:
            return "missing" if job is None else job.status
        target, dry_run = job.target, job.dry_run

    def progress(done: int, total: int) -> None:
        with db.write() as session:
            session.execute(
                update(Regrade)
                .where(Regrade.id == job_id)
                .values(done=done, total=total)
                .execution_options(synchronize_session=False)
            )

    try:
        report = regrade(
            db, catalog, target, dry_run=dry_run, notebook_grader=notebook_grader, regrade_id=job_id, progress=progress
        )
    except Exception as exc:
        log.exception("regrade %s failed", job_id)
        reason = str(exc) if isinstance(exc, RegradeError) else f"the regrade stopped ({type(exc).__name__})"
        _finish(db, job_id, "failed", None, reason)
        return "failed"
    _finish(db, job_id, "done", report.to_json(), None)
    return "done"


def run_now(
    db: Database,
    catalog: Any,
    target: str,
    *,
    dry_run: bool = False,
    by: str | None = None,
    notebook_grader: Callable[..., NotebookResult] | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RegradeReport:
    """A regrade run here and now (``grader regrade``), recorded as a job like the service's."""
    job_id = create_job(db, catalog, target, dry_run=dry_run, by=by)
    with db.write() as session:
        session.execute(
            update(Regrade)
            .where(Regrade.id == job_id)
            .values(status="running", started_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    try:
        report = regrade(
            db, catalog, target, dry_run=dry_run, notebook_grader=notebook_grader, regrade_id=job_id, progress=progress
        )
    except BaseException as exc:
        _finish(db, job_id, "failed", None, f"the regrade stopped ({type(exc).__name__})")
        raise
    _finish(db, job_id, "done", report.to_json(), None)
    return report


def _finish(db: Database, job_id: str, status: str, report: dict[str, Any] | None, error: str | None) -> None:
    with db.write() as session:
        values: dict[str, Any] = {"status": status, "report": report, "error": error, "finished_at": utcnow()}
        if report is not None:
            values["total"] = values["done"] = report["regraded"]
        session.execute(
            update(Regrade).where(Regrade.id == job_id).values(**values).execution_options(synchronize_session=False)
        )


def job(db: Database, job_id: str) -> dict[str, Any] | None:
    """A regrade job's status and, once done, its report; None if unknown."""
    with db.read() as session:
        row = session.get(Regrade, job_id) if len(job_id) <= 32 else None
        if row is None:
            return None
        return {
            "id": row.id,
            "target": row.target,
            "dry_run": row.dry_run,
            "status": row.status,
            "requested_by": row.requested_by,
            "created_at": isoformat(row.created_at),
            "started_at": isoformat(row.started_at),
            "finished_at": isoformat(row.finished_at),
            "progress": {"done": row.done, "total": row.total},
            "error": row.error,
            "report": row.report,
        }


_running: set[threading.Thread] = set()


def start(db: Database, catalog: Any, job_id: str, jobs: Any, notebook_grader: Any = None) -> None:
    """Run a queued regrade job in the background: on the Celery workers when the service has a broker, else in a
    thread of this process."""
    app = getattr(jobs, "app", None)
    if app is not None:  # grader.jobs.CeleryJobs: the workers have the sandbox and today's specs
        app.send_task("grader.regrade", args=[job_id])
        return
    thread = threading.Thread(
        target=lambda: _run_quietly(db, catalog, job_id, notebook_grader), name=f"regrade-{job_id}", daemon=True
    )
    _running.add(thread)
    thread.start()


def _run_quietly(db: Database, catalog: Any, job_id: str, notebook_grader: Any) -> None:
    try:
        run_job(db, catalog, job_id, notebook_grader)
    except Exception:  # the store went away: the job stays 'running' with its progress; logged
        log.exception("regrade job %s could not be finished", job_id)
    finally:
        _running.discard(threading.current_thread())


def wait_all(timeout: float | None = None) -> None:
    """Wait for the regrade threads of this process (tests, shutdown)."""
    for thread in list(_running):
        thread.join(timeout)
