"""Celery with a real worker and Redis: jobs run, survive a worker killed mid-job, and end once.

Each test starts ``celery -A grader.celery_app worker --pool=solo`` as a
subprocess against Redis at 127.0.0.1:6379 (database 15, on this run's own
queue) and a
SQLite store shared with this process. The notebook grader of the worker is
:func:`scripted_grade_notebook` below (``GRADER_NOTEBOOK_GRADER``): the
uploaded notebook's metadata tells it to sleep, or to fail.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select
from test_web_helpers import CORRECT, SIGN_ERROR, bearer, fake_grade_notebook, make_app, notebook_bytes

from grader.contract import StoredSubmission
from grader.store import submissions
from grader.store.models import PartResult
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

BROKER = "redis://127.0.0.1:6379/15"
TESTS = Path(__file__).resolve().parent


def scripted_grade_notebook(data: bytes, filename: str, catalog: Any, **kwargs: Any) -> dict[str, Any]:
    """The worker's notebook grader: sleeps ``metadata.sleep`` seconds, or raises if ``metadata.fail``."""
    import json

    metadata = json.loads(data)["metadata"]
    if metadata.get("fail"):
        raise OSError("the sandbox could not start")
    time.sleep(float(metadata.get("sleep", 0)))
    return fake_grade_notebook(data, filename, catalog, **kwargs)


class Worker:
    """A Celery worker process (its own process group, so that kill -9 takes all of it)."""

    def __init__(self, env: dict[str, str], name: str, log: Path) -> None:
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "grader.celery_app",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--loglevel=INFO",
                f"--hostname={name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],  # fmt: skip
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole worker, mid-job: nothing gets to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if not self.log.closed:
            self.log.close()


@pytest.fixture
def broker() -> Iterator[str]:
    """The Redis broker, with this run's queue (``GRADER_QUEUE``, see conftest) empty before and after."""
    client = redis.Redis.from_url(BROKER)
    client.delete(os.environ["GRADER_QUEUE"])
    yield BROKER
    client.delete(os.environ["GRADER_QUEUE"])
    client.close()


@pytest.fixture
def worker_env(sqlite_db: Any, broker: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "CELERY"))}
    env.update(
        DATABASE_URL=sqlite_db.url.render_as_string(hide_password=False),
        GRADER_BROKER=broker,
        GRADER_QUEUE=os.environ["GRADER_QUEUE"],
        GRADER_DATA=str(tmp_path / "data"),
        GRADER_CACHE=str(tmp_path / "cache"),
        GRADER_NOTEBOOK_GRADER="test_jobs_celery:scripted_grade_notebook",
        GRADER_VISIBILITY_TIMEOUT="2",
        GRADER_RESTORE_INTERVAL="1",
        GRADER_MAX_ATTEMPTS="3",
        GRADER_RETRY_DELAY="0.2",
        PYTHONPATH=os.pathsep.join([str(TESTS), str(TESTS.parent), env.get("PYTHONPATH", "")]),
    )
    return env


@pytest.fixture
def workers(worker_env: dict[str, str], tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def celery_app(sqlite_db: Any, catalog: Any, broker: str) -> Iterator[Any]:
    app = make_app(sqlite_db, catalog, GRADER_BROKER=broker)
    yield app


def _upload(app: Any, token: str, data: bytes) -> str:
    response = app.test_client().post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(data), "s001.ipynb")},
        headers=bearer(token),
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.json
    return response.json["id"]


def _wait(db: Any, submission_id: str, statuses: tuple[str, ...], timeout: float) -> StoredSubmission:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = submissions.get(db, submission_id)
        if stored.status in statuses:
            return stored
        time.sleep(0.05)
    raise AssertionError(f"still {stored.status} after {timeout} s: {stored}")


def _part_rows(db: Any, submission_id: str) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).where(PartResult.submission_id == submission_id))


def test_worker_grades_an_upload(
    celery_app: Any, sqlite_db: Any, workers: list[Worker], worker_env: dict, tmp_path: Path
) -> None:
    token = add_user("s001", db=sqlite_db)
    submission_id = _upload(celery_app, token, notebook_bytes({"gd-parabola": {"iterates": SIGN_ERROR}}))
    assert submissions.get(sqlite_db, submission_id).status == "queued"
    workers.append(Worker(worker_env, "one", tmp_path / "worker.log"))
    stored = _wait(sqlite_db, submission_id, ("done", "failed"), 30)
    assert stored.status == "done", stored
    assert stored.result["exercises"][0]["parts"][0]["misconception"] == "sign-error"
    assert stored.attempts == 1 and _part_rows(sqlite_db, submission_id) == 2


def test_worker_killed_mid_job_loses_nothing_and_grades_once(
    celery_app: Any, sqlite_db: Any, workers: list[Worker], worker_env: dict, tmp_path: Path
) -> None:
    token = add_user("s001", db=sqlite_db)
    first = Worker(worker_env, "first", tmp_path / "first.log")
    workers.append(first)
    submission_id = _upload(celery_app, token, notebook_bytes({"gd-parabola": {"iterates": SIGN_ERROR}}, sleep=2.5))
    running = _wait(sqlite_db, submission_id, ("running", "done", "failed"), 30)
    assert running.status == "running" and running.attempts == 1
    first.kill()
    time.sleep(0.5)
    assert submissions.get(sqlite_db, submission_id).status == "running"  # nobody finished it

    workers.append(Worker(worker_env, "second", tmp_path / "second.log"))
    stored = _wait(sqlite_db, submission_id, ("done", "failed"), 45)
    assert stored.status == "done", stored
    assert stored.attempts == 2
    assert stored.result["score"] == 1.5
    assert _part_rows(sqlite_db, submission_id) == 2  # stored exactly once
    time.sleep(1.5)  # no late duplicate delivery changes anything
    assert _part_rows(sqlite_db, submission_id) == 2
    assert submissions.count(sqlite_db) == 1


def test_a_grader_that_keeps_failing_ends_failed_with_a_reason(
    celery_app: Any, sqlite_db: Any, workers: list[Worker], worker_env: dict, tmp_path: Path
) -> None:
    token = add_user("s001", db=sqlite_db)
    workers.append(Worker(worker_env, "one", tmp_path / "worker.log"))
    submission_id = _upload(celery_app, token, notebook_bytes({}, fail=True))
    stored = _wait(sqlite_db, submission_id, ("done", "failed"), 45)
    assert stored.status == "failed"
    assert stored.attempts == 3
    assert "OSError" in stored.error and "giving up after 3 attempts" in stored.error
    assert stored.result is None


def test_grade_queue_sends_a_folder_to_the_workers_and_reports_their_results(
    sqlite_db: Any, workers: list[Worker], worker_env: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from grader.cli.notebooks import grade as grade_command

    folder = tmp_path / "submitted"
    for student, iterates in (("s001", SIGN_ERROR), ("s002", CORRECT)):
        path = folder / student / "lec4-inclass" / "answers.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(notebook_bytes({"gd-parabola": {"iterates": iterates}}))
    for name in ("DATABASE_URL", "GRADER_BROKER"):
        monkeypatch.setenv(name, worker_env[name])
    workers.append(Worker(worker_env, "one", tmp_path / "worker.log"))

    queued_only = CliRunner().invoke(grade_command, [str(folder), "--queue", "--no-wait"], catch_exceptions=False)
    assert queued_only.exit_code == 0, queued_only.stderr
    lines = [line.split("\t") for line in queued_only.stdout.splitlines()]
    assert [(student, Path(file).parts[-3]) for _, student, file in lines] == [("s001", "s001"), ("s002", "s002")]
    for submission_id, _, _ in lines:
        assert _wait(sqlite_db, submission_id, ("done", "failed"), 30).status == "done"

    waited = CliRunner().invoke(grade_command, [str(folder), "--queue", "--format", "json"], catch_exceptions=False)
    assert waited.exit_code == 0, waited.stderr
    results = {r["student"]: r for r in json.loads(waited.stdout)}
    assert results["s001"]["exercises"][0]["parts"][0]["misconception"] == "sign-error"
    assert results["s002"]["exercises"][0]["parts"][0]["status"] == "correct"
    assert submissions.count(sqlite_db, ["done"]) == 4
    assert all(_part_rows(sqlite_db, r["submission"]) == 2 for r in results.values())
