"""Background grading: the job, and the two queues that run it.

:func:`run_job` grades one stored submission and stores the result: it claims
the submission (``running``, one more attempt), grades it (answers with
:func:`grader.grading.grade`, a notebook with the notebook grader), and
finishes it exactly once (a second delivery of the same job writes nothing).
A malformed submission is ``failed`` with the reason. An infrastructure error
(the grader itself raised, or the notebook grader answered ``graded: false``)
is never turned into a student's zero: the
submission goes back to ``queued`` and :class:`RetryableJobError` asks the
queue to try again, until ``max_attempts`` attempts, after which it is
``failed`` with the reason. An attempt that never ends (a worker killed
mid-job) also counts: the next claim after ``max_attempts`` marks it failed.

Queues (:func:`make_queue`): :class:`LocalJobs`, a thread pool inside the
server (the default); :class:`CeleryJobs` when a broker URL is configured
(``GRADER_BROKER=redis://…``, on the queue ``GRADER_QUEUE``, default ``grader``;
workers: ``celery -A grader.celery_app worker``).

A database that does not answer (:func:`grader.store.db.is_unavailable`) is
waited out, never a lost job: the local pool tries the job again with a
growing pause (up to ``store_patience`` seconds, then the submission stays
for the next start's recovery), and the Celery task is retried the same way.
A submission caught between its claim and its result simply counts one more
attempt when it is claimed again.

Grading in a job is charged like grading in a request (the CPU share of
:mod:`grader.web.service`): the job thread's CPU time and the sympy workers'
for the submission (:class:`grader.budget.Account`) are taken from the share
of the student it grades for, through ``charge`` (see :func:`charging`),
unless someone else (staff) sent it. So queueing answers instead of posting
them to ``/api/grade`` buys no extra checking time: a student whose share is in
debt gets the same 429 on their next submission.

The notebook grader is a seam: a callable with the signature of
``grader.notebooks.batch.grade_notebook(data, filename, catalog, assignment=None,
student=None, sandbox=None) -> dict`` or a ``"module:function"`` string
(``GRADER_NOTEBOOK_GRADER``); it is imported only when a notebook is graded.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any, Protocol

import orjson

from grader import budget
from grader.contract import NotebookResult, Result
from grader.grading import SubmissionError, grade
from grader.sandbox.pool import InfrastructureError
from grader.sandbox.selfcheck import JailBroken
from grader.settings import current
from grader.store import submissions
from grader.store.db import Database, is_unavailable

log = logging.getLogger(__name__)

NotebookGrader = Callable[..., NotebookResult]
Charge = Callable[[str, float], None]  # (student, CPU milliseconds): take them from the student's CPU share
DEFAULT_NOTEBOOK_GRADER = "grader.notebooks.batch:grade_notebook"
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_QUEUE = "grader"


def queue_name() -> str:
    """The broker queue of the grading jobs: ``GRADER_QUEUE``, else ``grader`` (one per course on a shared Redis)."""
    return current().queue or DEFAULT_QUEUE


STORE_RETRY_MAX_DELAY = 30.0  # seconds between tries while the database does not answer


def student_key(student: str) -> str:
    """The key of a student's CPU share: the one their own requests count against (``grader.web.auth.caller_key``)."""
    return f"user:{student}"


def charging(limiter: Any) -> Charge:
    """A :data:`Charge` that takes a job's CPU milliseconds from its student's share in ``limiter`` (a
    :class:`grader.web.ratelimit.Limiter`: in this process, or shared through Redis with the web workers)."""

    def charge(student: str, milliseconds: float) -> None:
        limiter.charge(student_key(student), milliseconds, verified=True)

    return charge


class RetryableJobError(RuntimeError):
    """The grader (not the submission) failed; the submission is queued again for another attempt."""


def resolve_grader(grader: NotebookGrader | str | None = None) -> NotebookGrader:
    """The notebook grader: a callable as given, a ``module:function`` string, or the default."""
    if callable(grader):
        return grader
    spec = grader or current().notebook_grader or DEFAULT_NOTEBOOK_GRADER
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute or "grade_notebook")


def run_job(
    submission_id: str,
    *,
    db: Database,
    catalog: Any,
    notebook_grader: NotebookGrader | str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    charge: Charge | None = None,
) -> str:
    """Grade one queued submission and store the outcome; returns the final status.

    The CPU time grading took (this thread's and the sympy workers') is given to ``charge`` for the submission's
    student, unless someone else sent it. Raises :class:`RetryableJobError` after an infrastructure error while
    attempts remain.
    """
    claimed = submissions.claim(db, submission_id, max_attempts)
    if claimed is None:
        current = submissions.get(db, submission_id)
        return "missing" if current is None else current.status
    try:
        result, error = _charged_grade(claimed, catalog, notebook_grader, charge)
    except SubmissionError as exc:
        submissions.fail(db, submission_id, str(exc))
        return "failed"
    except Exception as exc:  # the grader broke, not the student's submission
        log.exception("grading submission %s failed (attempt %d)", submission_id, claimed.attempts)
        cause = str(exc)[:300] if isinstance(exc, InfrastructureError | JailBroken) else type(exc).__name__
        reason = f"the grader failed ({cause}) on attempt {claimed.attempts}"
        if claimed.attempts >= max_attempts:
            submissions.fail(db, submission_id, f"{reason}; giving up after {max_attempts} attempts")
            return "failed"
        submissions.requeue(db, submission_id, f"{reason}; trying again")
        raise RetryableJobError(reason) from exc
    submissions.finish(db, submission_id, result, error)
    return "done"


def _charged_grade(
    claimed: submissions.Claimed, catalog: Any, notebook_grader: NotebookGrader | str | None, charge: Charge | None
) -> tuple[Result, str | None]:
    """:func:`_grade` on behalf of the submission's student, its CPU time given to ``charge`` (whatever the outcome:
    the time was spent). Staff have no CPU share: what they send for a student is not charged to the student."""
    start = time.thread_time()
    with budget.charged_to(student_key(claimed.student)) as account:
        try:
            return _grade(claimed, catalog, notebook_grader)
        finally:
            if charge is not None and claimed.submitted_by in (None, claimed.student):
                used_ms = (time.thread_time() - start + account.worker_seconds) * 1000
                try:
                    charge(claimed.student, used_ms)
                except Exception:  # a limit that cannot be counted must not lose the grade
                    log.exception("could not charge %.0f ms of grading to %s", used_ms, claimed.student)


def _grade(
    claimed: submissions.Claimed, catalog: Any, notebook_grader: NotebookGrader | str | None
) -> tuple[Result, str | None]:
    if claimed.kind == "answers":
        try:
            submission = orjson.loads(claimed.payload)
        except orjson.JSONDecodeError as exc:
            raise SubmissionError("the stored submission is not valid JSON") from exc
        return grade(submission, catalog), None
    grader = resolve_grader(notebook_grader)
    result = grader(
        claimed.payload,
        claimed.filename or "notebook.ipynb",
        catalog,
        assignment=claimed.assignment,
        student=claimed.student,
    )
    error = result.error
    if not result.graded:
        raise InfrastructureError(str(error or "the notebook grader did not grade the notebook"))
    return result, None if error is None else str(error)


class JobQueue(Protocol):
    """Where background jobs go: ``submit`` a stored submission's id (and whose it is); ``shutdown`` at exit."""

    def submit(self, submission_id: str, student: str | None = None) -> None: ...

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None: ...


class FairOrder:
    """Jobs taken round robin by student: one student's 40 notebooks do not hold up another's one.

    ``add`` puts a job at the end of its student's line; ``take`` gives the
    next job of the next student in turn (students with nothing waiting drop
    out of the turn). Thread-safe.
    """

    def __init__(self) -> None:
        self._lines: dict[str, deque[str]] = {}
        self._turn: deque[str] = deque()
        self._lock = threading.Lock()

    def add(self, job: str, student: str | None) -> None:
        key = student or f"job:{job}"  # unknown owner: a line of its own
        with self._lock:
            if key not in self._lines:
                self._lines[key] = deque()
                self._turn.append(key)
            self._lines[key].append(job)

    def take(self) -> str | None:
        with self._lock:
            if not self._turn:
                return None
            key = self._turn.popleft()
            line = self._lines[key]
            job = line.popleft()
            if line:
                self._turn.append(key)
            else:
                del self._lines[key]
            return job


class LocalJobs:
    """A thread pool inside the server process (notebook code runs in its own sandbox process).

    Each submitted job adds one turn to the pool, and each turn runs the next
    job in :class:`FairOrder`, so waiting jobs are served round robin by student.
    """

    def __init__(
        self,
        db: Database,
        catalog: Any,
        *,
        workers: int = 2,
        notebook_grader: NotebookGrader | str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retry_delay: float = 1.0,
        store_patience: float = 3600.0,
        charge: Charge | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.notebook_grader = notebook_grader
        self.charge = charge
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.store_patience = store_patience
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="grader-job")
        from grader.sandbox.warm import size_warm_sandbox

        size_warm_sandbox(workers)  # one warm forkserver per job thread
        self._order = FairOrder()
        self._futures: set[Future[str]] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def submit(self, submission_id: str, student: str | None = None) -> None:
        self._order.add(submission_id, student)
        future = self._pool.submit(self._run_next)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[str]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _run_next(self) -> str:
        submission_id = self._order.take()
        return "empty" if submission_id is None else self._run(submission_id)

    def _run(self, submission_id: str) -> str:
        outage: float | None = None  # when the database stopped answering
        pause = self.retry_delay
        while not self._stopping.is_set():
            try:
                return run_job(
                    submission_id,
                    db=self.db,
                    catalog=self.catalog,
                    notebook_grader=self.notebook_grader,
                    max_attempts=self.max_attempts,
                    charge=self.charge,
                )
            except RetryableJobError:
                self._stopping.wait(self.retry_delay)
            except Exception as exc:
                if not is_unavailable(exc):  # a bug in the store or the grader: leave it for recovery, log it
                    log.exception("background job for %s failed", submission_id)
                    return "error"
                outage = time.monotonic() if outage is None else outage
                if time.monotonic() - outage > self.store_patience:
                    log.error("no database for %.0f s: %s waits for recovery", self.store_patience, submission_id)
                    return "error"
                log.warning("no database (%s): job %s tries again in %.1f s", type(exc).__name__, submission_id, pause)
                self._stopping.wait(pause)
                pause = min(pause * 2, STORE_RETRY_MAX_DELAY)
        return "stopped"  # shut down: the submission stays queued (or running) for recovery

    def recover(self) -> int:
        """Queue again every submission left ``queued`` or ``running`` (after a restart); returns how many."""
        pending = submissions.pending(self.db)
        for submission_id, student in pending:
            self.submit(submission_id, student)
        return len(pending)

    def wait(self, timeout: float | None = None) -> None:
        """Block until every submitted job has finished (for tests and shutdown)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                futures = list(self._futures)
            if not futures:
                return
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                futures[0].result(timeout=remaining)
            except CancelledError:  # dropped by a shutdown: it stays queued for recovery
                self._forget(futures[0])

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        """Stop the pool. ``cancel_pending``: drop jobs not started yet (they stay ``queued`` for recovery)."""
        if cancel_pending:
            self._stopping.set()
        self._pool.shutdown(wait=wait, cancel_futures=cancel_pending)


class CeleryJobs:
    """Send jobs to Celery workers through the broker (``celery -A grader.celery_app worker``).

    Sending uses a Celery app of its own (the broker given, never the workers'
    global one), with short connection timeouts and a bounded retry, so that a
    broker that does not answer fails :meth:`submit` within about
    ``connect_timeout`` seconds (the API then answers 503) instead of hanging
    the request.
    """

    TASK = "grader.grade_submission"

    def __init__(self, broker: str, *, queue: str | None = None, connect_timeout: float = 2.0) -> None:
        from celery import Celery

        self.app = Celery("grader-sender", broker=broker, set_as_current=False)
        self.app.conf.update(
            task_default_queue=queue or queue_name(),
            broker_connection_timeout=connect_timeout,
            broker_transport_options={"socket_connect_timeout": connect_timeout, "socket_timeout": 2 * connect_timeout},
        )
        self._retry_policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}

    def submit(self, submission_id: str, student: str | None = None) -> None:
        self.app.send_task(self.TASK, args=[submission_id], retry=True, retry_policy=self._retry_policy)

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        return None


def make_queue(
    db: Database,
    catalog: Any,
    *,
    broker: str | None = None,
    queue: str | None = None,
    workers: int = 2,
    notebook_grader: NotebookGrader | str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    charge: Charge | None = None,
) -> JobQueue:
    """Celery when a broker URL is given (jobs on ``queue``, default :func:`queue_name`; the workers charge through
    Redis themselves), else a local thread pool whose jobs are charged through ``charge``."""
    if broker:
        return CeleryJobs(broker, queue=queue)
    return LocalJobs(
        db, catalog, workers=workers, notebook_grader=notebook_grader, max_attempts=max_attempts, charge=charge
    )
