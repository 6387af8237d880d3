"""Grading notebooks through the job queue (``grader grade --queue``): the service's background path.

Each notebook is stored as a ``queued`` submission and handed to the job queue
(:func:`grader.jobs.make_queue`: Celery workers on any number of machines when
``GRADER_BROKER`` is set, else a pool of threads in this process), exactly as
a notebook uploaded to ``POST /api/submissions`` is; the results are read back
from the store as the jobs finish. So a batch graded this way is in the
service's gradebook and analytics, and a worker killed mid-notebook costs a
retry, never the notebook (see :mod:`grader.jobs`).

The submission's student and assignment are decided by the intake, the way
the local batch decides them (:func:`grader.notebooks.intake.gather`), and the
job grades it as that student. Given each notebook's hand-in time
(``grader grade --queue --late-from mtime|csv``), a notebook of an assignment
with rules records its hand-in with the submission, as an upload to the
service does, at that time: the service's gradebook then counts its late days
and penalty. A TA's batch is never refused (no attempt limit is checked), as
staff hand-ins to the service are not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from grader.contract import NotebookResult, StoredSubmission
from grader.jobs import JobQueue
from grader.notebooks.intake import HandedIn
from grader.specs.model import Catalog
from grader.store import course, submissions
from grader.store.db import Database


class QueueDown(RuntimeError):
    """The job queue did not take a notebook; the message says how many were queued before."""


@dataclass(frozen=True)
class Queued:
    """A notebook handed to the queue (``id``), or one that could not be read from disk (``error``)."""

    path: Path
    student: str
    id: str | None = None
    error: str | None = None
    warning: str | None = None  # where the notebook's metadata disagrees with whose it was queued as


def queue_files(
    batch: list[HandedIn],
    catalog: Catalog,
    db: Database,
    jobs: JobQueue,
    handed_in_at: Mapping[str, datetime] | None = None,
) -> list[Queued]:
    """Store each gathered notebook (stage "store") as a queued submission and submit its job.

    ``batch`` comes from :func:`grader.notebooks.intake.gather`, which read
    each file once and decided whose it is. ``handed_in_at`` (file path → an
    aware time): record each notebook's hand-in at that time (see
    :func:`handin_of`). Raises :class:`QueueDown` if the queue fails.
    """
    queued: list[Queued] = []
    for handed in batch:
        whose = handed.owner
        if handed.data is None:  # could not be read from disk
            queued.append(Queued(handed.path, whose.student, error=handed.error, warning=whose.warning))
            continue
        filename = str(handed.path) if len(str(handed.path)) <= 255 else handed.path.name[-255:]
        submission_id = submissions.create_queued(
            db,
            whose.student,
            "notebook",
            handed.data,
            handin=handin_of(catalog, whose.student, whose.assignment, (handed_in_at or {}).get(str(handed.path))),
            filename=filename,
            assignment=whose.assignment if whose.assignment in catalog.assignments else None,
        )
        try:
            jobs.submit(submission_id, whose.student)
        except Exception as exc:
            submissions.discard(db, submission_id)
            sent = sum(q.id is not None for q in queued)
            raise QueueDown(
                f"the grading queue does not answer ({type(exc).__name__}): {sent} notebook(s) were queued "
                f"before it stopped, {len(batch) - len(queued)} were not"
            ) from exc
        queued.append(Queued(handed.path, whose.student, id=submission_id, warning=whose.warning))
    return queued


def handin_of(
    catalog: Catalog, student: str, assignment: str | None, at: datetime | None
) -> Callable[[Any, str], None] | None:
    """What a notebook of ``assignment`` handed in at ``at`` records with its submission: each exercise of the
    assignment that has rules, at that time (None without a time, or for an assignment without rules)."""
    if at is None or assignment not in catalog.assignments:
        return None
    pairs = tuple(
        (ruled.id, exercise)
        for exercise in catalog.assignments[assignment].exercises
        if (ruled := catalog.rules_for(exercise)) is not None
    )
    return course.Planned(student, at, pairs).record if pairs else None


def wait_for(
    db: Database,
    queued: list[Queued],
    poll: float = 0.5,
    idle_after: float = 30.0,
    on_idle: Callable[[float], None] | None = None,
) -> Iterator[NotebookResult]:
    """Each notebook's result as its job finishes (those not read from disk first), in the batch's result shape.

    ``on_idle(seconds)`` is called once when no job has finished for ``idle_after`` seconds
    (no worker running, say).
    """
    waiting = {q.id: q for q in queued if q.id is not None}
    for q in queued:
        if q.id is None:
            yield NotebookResult.failed(str(q.path), q.student, q.error or "not queued", graded=True)
    last_change, told = time.monotonic(), False
    while waiting:
        finished = submissions.finished(db, list(waiting))
        for view in finished:
            yield as_result(waiting.pop(view.id), view)
        if finished:
            last_change = time.monotonic()
        elif waiting:
            idle = time.monotonic() - last_change
            if on_idle is not None and not told and idle >= idle_after:
                on_idle(idle)
                told = True
            time.sleep(poll)


def as_result(queued: Queued, view: StoredSubmission) -> NotebookResult:
    """A finished submission as the local batch reports a notebook (see :func:`grader.notebooks.batch.grade_notebook`)."""
    result = view.graded() or NotebookResult.failed("", queued.student, view.error or "grading failed", graded=False)
    # A warning is said in the terms of the batch (its folders), not of the job that graded it.
    return replace(result, file=str(queued.path), submission=queued.id, warning=queued.warning or result.warning)
