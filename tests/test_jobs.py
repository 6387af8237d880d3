"""The background job: grading stored submissions once, retrying the grader's own failures."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import orjson
import pytest
from test_web_helpers import SIGN_ERROR, bearer, fake_grade_notebook, make_app, notebook_bytes

from grader.contract import NotebookResult
from grader.jobs import LocalJobs, RetryableJobError, make_queue, resolve_grader, run_job
from grader.store import submissions
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]  # the shared fixtures


def _queued_notebook(db: Any, answers: dict[str, Any] | None = None, **metadata: Any) -> str:
    data = notebook_bytes(answers or {"gd-parabola": {"iterates": SIGN_ERROR}}, **metadata)
    return submissions.create_queued(db, "s001", "notebook", data, filename="s001.ipynb")


def _parts(db: Any, submission_id: str) -> int:
    from sqlalchemy import func, select

    from grader.store.models import PartResult

    with db.read() as session:
        return session.scalar(select(func.count()).where(PartResult.submission_id == submission_id))


def test_answers_job_is_graded_and_stored(any_db: Any, catalog: Any) -> None:
    payload = orjson.dumps({"student": "s001", "answers": {"gd-parabola": {"iterates": SIGN_ERROR}}})
    submission_id = submissions.create_queued(any_db, "s001", "answers", payload)
    assert run_job(submission_id, db=any_db, catalog=catalog) == "done"
    stored = submissions.get(any_db, submission_id)
    assert stored.score == 1.5 and stored.attempts == 1 and stored.error is None
    assert run_job(submission_id, db=any_db, catalog=catalog) == "done"  # a second delivery
    assert _parts(any_db, submission_id) == 2


def test_notebook_job_uses_the_notebook_grader(any_db: Any, catalog: Any) -> None:
    submission_id = _queued_notebook(any_db, error="timeout: the notebook ran for more than 30 s")
    status = run_job(submission_id, db=any_db, catalog=catalog, notebook_grader=fake_grade_notebook)
    assert status == "done"
    stored = submissions.get(any_db, submission_id)
    assert stored.result["file"] == "s001.ipynb"
    assert stored.error.startswith("timeout")  # the student's notebook failed: graded, with the reason


def test_malformed_stored_submission_fails_with_the_sentence(sqlite_db: Any, catalog: Any) -> None:
    payload = orjson.dumps({"answers": {"nope": {}}})
    submission_id = submissions.create_queued(sqlite_db, "s001", "answers", payload)
    assert run_job(submission_id, db=sqlite_db, catalog=catalog) == "failed"
    assert "unknown exercise 'nope'" in submissions.get(sqlite_db, submission_id).error


def test_grader_failure_is_retried_then_reported_never_a_zero(any_db: Any, catalog: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise OSError("kernel died")

    submission_id = _queued_notebook(any_db)
    for attempt in (1, 2):
        with pytest.raises(RetryableJobError):
            run_job(submission_id, db=any_db, catalog=catalog, notebook_grader=broken, max_attempts=3)
        stored = submissions.get(any_db, submission_id)
        assert stored.status == "queued" and stored.attempts == attempt
    status = run_job(submission_id, db=any_db, catalog=catalog, notebook_grader=broken, max_attempts=3)
    stored = submissions.get(any_db, submission_id)
    assert status == "failed" and stored.status == "failed"
    assert "OSError" in stored.error and "giving up after 3 attempts" in stored.error
    assert stored.result is None and stored.score is None
    assert _parts(any_db, submission_id) == 0


def test_ungraded_notebook_result_counts_as_a_grader_failure(sqlite_db: Any, catalog: Any) -> None:
    def infrastructure(*args: Any, **kwargs: Any) -> NotebookResult:
        return NotebookResult.failed("s001.ipynb", "s001", "infrastructure: the sandbox could not start", graded=False)

    submission_id = _queued_notebook(sqlite_db)
    with pytest.raises(RetryableJobError, match="sandbox could not start"):
        run_job(submission_id, db=sqlite_db, catalog=catalog, notebook_grader=infrastructure)
    assert submissions.get(sqlite_db, submission_id).status == "queued"


def test_local_pool_retries_a_transient_failure(sqlite_db: Any, catalog: Any) -> None:
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("sandbox port race")
        return fake_grade_notebook(*args, **kwargs)

    jobs = LocalJobs(sqlite_db, catalog, workers=1, notebook_grader=flaky, retry_delay=0.01)
    submission_id = _queued_notebook(sqlite_db)
    jobs.submit(submission_id)
    jobs.wait(10)
    jobs.shutdown()
    stored = submissions.get(sqlite_db, submission_id)
    assert stored.status == "done" and stored.attempts == 2 and len(calls) == 2


def test_local_pool_runs_jobs_concurrently(sqlite_db: Any, catalog: Any) -> None:
    running = threading.Semaphore(0)
    release = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> dict[str, Any]:
        running.release()
        release.wait(5)
        return fake_grade_notebook(*args, **kwargs)

    jobs = LocalJobs(sqlite_db, catalog, workers=2, notebook_grader=slow)
    ids = [_queued_notebook(sqlite_db) for _ in range(2)]
    for submission_id in ids:
        jobs.submit(submission_id)
    assert running.acquire(timeout=5) and running.acquire(timeout=5)  # both started together
    release.set()
    jobs.wait(10)
    jobs.shutdown()
    assert {submissions.get(sqlite_db, i).status for i in ids} == {"done"}


def test_recover_requeues_unfinished_submissions(sqlite_db: Any, catalog: Any) -> None:
    left = _queued_notebook(sqlite_db)
    submissions.claim(sqlite_db, left, max_attempts=3)  # a server died while grading it
    jobs = LocalJobs(sqlite_db, catalog, notebook_grader=fake_grade_notebook)
    assert jobs.recover() == 1
    jobs.wait(10)
    jobs.shutdown()
    stored = submissions.get(sqlite_db, left)
    assert stored.status == "done" and stored.attempts == 2


def test_notebook_grader_seam(sqlite_db: Any, catalog: Any) -> None:
    from grader.notebooks import batch

    assert resolve_grader(None) is batch.grade_notebook
    assert resolve_grader("test_web_helpers:fake_grade_notebook") is fake_grade_notebook
    assert resolve_grader(fake_grade_notebook) is fake_grade_notebook
    assert isinstance(make_queue(sqlite_db, catalog), LocalJobs)


def test_app_config_seam_grades_uploads_with_the_injected_grader(sqlite_db: Any, catalog: Any) -> None:
    seen: list[str] = []

    def spy(data: bytes, filename: str, catalog: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append(filename)
        return fake_grade_notebook(data, filename, catalog, **kwargs)

    app = make_app(sqlite_db, catalog, NOTEBOOK_GRADER=spy)
    token = add_user("s001", db=sqlite_db)
    response = app.test_client().post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(notebook_bytes({})), "mine.ipynb")},
        headers=bearer(token),
        content_type="multipart/form-data",
    )
    assert response.status_code == 202
    app.extensions["grader"].jobs.wait(10)
    app.extensions["grader"].jobs.shutdown()
    assert seen == ["mine.ipynb"]
    deadline = time.monotonic() + 5
    while submissions.get(sqlite_db, response.json["id"]).status != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
