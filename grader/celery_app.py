"""Celery for background grading at scale: ``celery -A grader.celery_app worker``.

The broker is ``GRADER_BROKER`` (e.g. ``redis://127.0.0.1:6379/0``) and the
queue ``GRADER_QUEUE`` (default ``grader``: give each course its own when
several share one Redis, and start its workers with the same setting); results
live in the store (``DATABASE_URL``), not in a Celery result backend. A job is
acknowledged only after it has run (``acks_late``) and is given back to the
broker when its worker process dies (``reject_on_worker_lost``); a job whose
whole worker was killed comes back after the broker's visibility timeout
(``GRADER_VISIBILITY_TIMEOUT`` seconds, default 3600: set it above the
longest grading time). Either way the job runs again, and
:func:`grader.jobs.run_job` stores its result exactly once, or marks the
submission failed with a reason after ``GRADER_MAX_ATTEMPTS`` attempts.
A database that does not answer is waited out: the task is retried with a
growing pause (up to 30 s) until it does. The CPU time a job takes is charged
to its student's CPU share (``GRADER_CPU_SHARE``, ``GRADER_CPU_BURST``), in
the buckets the web workers keep in the same Redis.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from celery import Celery, signals

from grader.jobs import (
    STORE_RETRY_MAX_DELAY,
    Charge,
    RetryableJobError,
    charging,
    queue_name,
    run_job,
)
from grader.settings import read
from grader.store.db import is_unavailable

SETTINGS = read()  # the worker's entry point: its settings, read once

app = Celery("grader", broker=SETTINGS.broker or "redis://127.0.0.1:6379/0")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_acks_on_failure_or_timeout=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_default_queue=queue_name(),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    broker_transport_options={
        "visibility_timeout": SETTINGS.visibility_timeout,
        "unacked_restore_interval": max(1, int(SETTINGS.restore_interval)),
        "unacked_restore_throttle": 1,
    },
)


@signals.worker_init.connect
def _prove_sandbox(**_: Any) -> None:
    """A worker refuses to start with a jail that cannot run a correct notebook (one sentence, exit 2)."""
    from grader.sandbox.selfcheck import JailBroken
    from grader.sandbox.warm import checked_sandbox
    from grader.specs.model import load_catalog

    try:
        checked_sandbox(declared=load_catalog().kernel_packages).close()
    except JailBroken as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        os._exit(2)


_state: dict[str, Any] = {}
_state_lock = threading.Lock()


def _resources() -> tuple[Any, Any, Charge]:
    """This worker process's database (migrated), exercise catalog and CPU share (in the web workers' Redis), made
    once."""
    with _state_lock:
        if "db" not in _state:
            from grader.specs.model import load_catalog
            from grader.store.db import Database
            from grader.web.ratelimit import make_limiter

            db = Database()
            db.migrate()
            _state["db"] = db
            _state["catalog"] = load_catalog()
            shares = make_limiter(
                SETTINGS.cpu_share,
                SETTINGS.cpu_burst,
                redis_url=SETTINGS.broker,
                namespace=f"{queue_name()}:cpu",
            )
            _state["charge"] = charging(shares)
        return _state["db"], _state["catalog"], _state["charge"]


@app.task(bind=True, name="grader.grade_submission", max_retries=None)
def grade_submission(self: Any, submission_id: str) -> str:
    """Grade one stored submission (see :func:`grader.jobs.run_job`); retried after a grader failure."""
    try:
        db, catalog, charge = _resources()  # inside: a database down when the worker starts is waited out too
        return run_job(
            submission_id,
            db=db,
            catalog=catalog,
            max_attempts=int(SETTINGS.max_attempts),
            charge=charge,
        )
    except RetryableJobError as exc:
        raise self.retry(exc=exc, countdown=SETTINGS.retry_delay) from exc
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # The database does not answer: wait it out (the job must not be acknowledged as done, or it is lost).
        pause = min(STORE_RETRY_MAX_DELAY, SETTINGS.retry_delay * 2 ** min(self.request.retries, 8))
        raise self.retry(exc=exc, countdown=pause) from exc


@app.task(name="grader.regrade")
def regrade(job_id: str) -> str:
    """Run a regrade job queued by ``POST /api/regrade`` (:func:`grader.regrade.run_job`), with the specs as they
    are now on disk (the worker's own catalog may be older)."""
    from grader.regrade import run_job as run_regrade
    from grader.specs.model import load_catalog

    db, _ = _resources()
    return run_regrade(db, load_catalog(), job_id)
