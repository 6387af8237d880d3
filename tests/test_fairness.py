"""Fair between students: CPU counted for a notebook's whole process tree, the queue served round robin,
and a clear 429 past the submissions one student may have waiting.

Written from attacks seen: a notebook that forked 14 spinning children used 6x its CPU limit (only the
wall-clock kill stopped it); behind 40 queued notebooks of one student another student's single notebook
waited 36-49 s, and all 50 uploads were accepted.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from test_web_helpers import bearer, make_app, notebook_bytes

from grader.contract import NotebookResult
from grader.jobs import FairOrder, LocalJobs
from grader.sandbox import Limits, Sandbox
from grader.store import submissions

pytest_plugins = ["test_web_helpers"]

FORK_AND_SPIN = """
import os
for _ in range(14):
    if os.fork() == 0:
        while True:
            pass
while True:
    pass
"""


@pytest.mark.sandbox
def test_cpu_is_counted_for_the_notebooks_whole_process_tree() -> None:
    with Sandbox(workers=1, limits=Limits(cpu_seconds=2, wall_seconds=60)) as box:
        if box.report.get("cgroup") is None:
            pytest.fail("this machine has no cgroup to count a notebook's processes together")
        outcome = box.run([FORK_AND_SPIN, "after = 1"], ["after"])
    assert outcome.error == "CPU time limit (2 s) exceeded by the notebook's processes together"
    assert outcome.values == {}  # stopped in the first cell, long before the wall-clock limit


def test_waiting_jobs_are_taken_round_robin_by_student() -> None:
    order = FairOrder()
    for i in range(40):
        order.add(f"a{i}", "anna")
    order.add("b0", "ben")
    order.add("c0", "cleo")
    order.add("a40", "anna")
    taken = [order.take() for _ in range(43)]
    assert taken[:4] == ["a0", "b0", "c0", "a1"]
    assert sorted(taken) == sorted([f"a{i}" for i in range(41)] + ["b0", "c0"])
    assert order.take() is None


def test_another_students_notebook_is_graded_next_behind_one_students_forty(sqlite_db: Any, catalog: Any) -> None:
    graded: list[str] = []
    gate = threading.Event()

    def notebook_grader(
        data: bytes, filename: str, catalog: Any, assignment: Any = None, student: Any = None, **_: Any
    ):
        gate.wait(10)  # hold the one worker until everything is queued
        graded.append(student)
        return NotebookResult.failed(filename, student, "nothing to grade", graded=True)

    jobs = LocalJobs(sqlite_db, catalog, workers=1, notebook_grader=notebook_grader)
    try:
        for _ in range(40):
            jobs.submit(submissions.create_queued(sqlite_db, "hoarder", "notebook", b"{}"), "hoarder")
        jobs.submit(submissions.create_queued(sqlite_db, "s002", "notebook", b"{}"), "s002")
        gate.set()
        jobs.wait(60)
    finally:
        jobs.shutdown()
    assert len(graded) == 41
    assert graded.index("s002") <= 2  # behind the job already running and the one turn the hoarder had in line


def _upload(client: Any, token: str, student: str | None = None) -> Any:
    data = {"notebook": (io.BytesIO(notebook_bytes({})), "hw.ipynb"), "assignment": "lec4-inclass"}
    if student:
        data["student"] = student
    return client.post("/api/submissions", data=data, headers=bearer(token), content_type="multipart/form-data")


class Parked:
    """A job queue that takes jobs and runs none of them, so they stay waiting."""

    def submit(self, submission_id: str, student: str | None = None) -> None:
        pass

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        pass


@pytest.mark.service
def test_past_the_waiting_limit_a_student_gets_a_429_and_others_are_not_affected(sqlite_db: Any, catalog: Any) -> None:
    from grader.store.users import add_user

    app = make_app(sqlite_db, catalog, JOBS=Parked(), MAX_WAITING_PER_STUDENT=3)
    client = app.test_client()
    anna, ben, ta = (
        add_user(name, role, db=sqlite_db) for name, role in (("anna", "student"), ("ben", "student"), ("ta1", "ta"))
    )
    assert [_upload(client, anna).status_code for _ in range(3)] == [202, 202, 202]
    refused = _upload(client, anna)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.json["error"] == "too_many_waiting"
    assert refused.json["detail"].startswith("anna already has 3 submissions waiting to be graded (at most 3 at once)")
    assert submissions.count(sqlite_db) == 3  # nothing stored for the refused one
    assert _upload(client, ben).status_code == 202
    answers = {"answers": {"gd-parabola": {"iterates": "4, 2, 1, 0.5, 0.25, 0.125"}}}
    queued_json = client.post("/api/submissions", json=answers, headers=bearer(anna))
    assert queued_json.status_code == 429  # typed answers queue the same way
    assert _upload(client, ta, student="anna").status_code == 202  # staff are not limited


@pytest.mark.service
def test_the_waiting_limit_holds_with_celery_workers(sqlite_db: Any, catalog: Any) -> None:
    from grader.jobs import CeleryJobs
    from grader.store.users import add_user

    jobs = CeleryJobs("redis://127.0.0.1:6379/0", queue="grader-tests-fairness-nobody-listens")
    app = make_app(sqlite_db, catalog, JOBS=jobs, MAX_WAITING_PER_STUDENT=2)
    client = app.test_client()
    anna = add_user("anna", db=sqlite_db)
    try:
        assert [_upload(client, anna).status_code for _ in range(3)] == [202, 202, 429]
    finally:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/0").delete("grader-tests-fairness-nobody-listens")
