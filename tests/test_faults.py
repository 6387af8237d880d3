"""Faults: processes killed mid-job, PostgreSQL and Redis outages, a full disk, a restart during a batch.

Real parts throughout: ``grader serve`` and ``grader grade`` as subprocesses
killed with real signals, the real sandbox, PostgreSQL (127.0.0.1:5432) and
Redis (127.0.0.1:6379, database 15). Outages are made by :class:`Proxy`, a TCP
forwarder on loopback started and stopped by the test (the machine's services
are never touched), or by pointing a URL at a closed port. A full disk is a
64 KB tmpfs mounted by the test (the tests run as root), or ``RLIMIT_FSIZE``.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import nbformat.v4 as nbf
import pytest
import redis
from sqlalchemy import event, func, select
from test_web_helpers import SIGN_ERROR, bearer, fake_grade_notebook, make_app, notebook_bytes

from grader.contract import StoredSubmission
from grader.jobs import CeleryJobs, LocalJobs
from grader.store import submissions
from grader.store.db import Database, is_unavailable
from grader.store.models import PartResult, Submission
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BROKER_DB = 15
ANSWERS = {"gd-parabola": {"iterates": SIGN_ERROR}}  # 1.5 of 6 points, two part rows
CLOSED_PORT = 1  # nothing listens on port 1 of loopback


# -- a TCP forwarder: an outage and its end, on demand ------------------------------------------


class Proxy:
    """Forwards ``127.0.0.1:port`` to ``127.0.0.1:upstream``.

    :meth:`stop` is an outage: the listening socket is closed (new connections
    are refused) and every open connection is cut, both ways. :meth:`start`
    (again) ends it, on the same port.
    """

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> Proxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _cut(listener)
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            _cut(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    _cut(client)
                    _cut(server)
                    return
                self._connections.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            with self._lock:
                self._connections.discard(end)
            _cut(end)


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def pg_proxy() -> Iterator[Proxy]:
    proxy = Proxy(5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def redis_proxy() -> Iterator[Proxy]:
    proxy = Proxy(6379).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def broker_redis() -> Iterator[redis.Redis]:
    """The broker's Redis, with this run's queue (``GRADER_QUEUE``, see conftest) empty before and after."""
    client = redis.Redis(port=6379, db=BROKER_DB)
    client.delete(os.environ["GRADER_QUEUE"])
    yield client
    client.delete(os.environ["GRADER_QUEUE"])
    client.close()


def _through(proxy: Proxy, url: str) -> str:
    return url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")


def _count(db: Database, model: Any = Submission) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _parts(db: Database, submission_id: str) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).where(PartResult.submission_id == submission_id)) or 0)


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    body = response.json
    assert body["error"] == "unavailable"
    seconds = int(response.headers["Retry-After"])
    assert f"try again in {seconds} s" in body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)


def _upload(client: Any, token: str, data: bytes, name: str = "s001.ipynb") -> Any:
    return client.post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(data), name)},
        headers=bearer(token),
        content_type="multipart/form-data",
    )


# -- PostgreSQL unreachable ---------------------------------------------------------------------


def test_a_closed_database_port_is_a_503_for_what_needs_the_database(catalog: Any) -> None:
    db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{CLOSED_PORT}/test")
    app = make_app(db, catalog, MIGRATE=False)
    client = app.test_client()
    headers = bearer("gr_" + "0" * 43)
    for response in (
        client.get("/healthz"),
        client.post("/api/grade", json={"student": "s001", "answers": ANSWERS}, headers=headers),
        client.post("/api/submissions", json={"student": "s001", "answers": ANSWERS}, headers=headers),
        client.get("/api/gradebook", headers=headers),
        client.get(f"/api/submissions/{uuid.uuid4().hex}", headers=headers),
    ):
        _assert_unavailable(response)
    assert client.get("/api/exercises").status_code == 200  # what needs no database still works
    db.dispose()


def test_a_postgresql_outage_is_a_503_stores_nothing_and_the_service_recovers(
    pg_db: Database, pg_url: str, pg_proxy: Proxy, catalog: Any
) -> None:
    db = Database(_through(pg_proxy, pg_url))
    app = make_app(db, catalog, AUTH_CACHE_SECONDS=600)  # the token stays known: requests reach the store
    client = app.test_client()
    token = add_user("ta1", "ta", db=pg_db)
    submission = {"student": "s001", "answers": ANSWERS}
    first = client.post("/api/grade", json=submission, headers=bearer(token))
    assert first.status_code == 200
    parts_before = _count(pg_db, PartResult)

    pg_proxy.stop()
    _assert_unavailable(client.post("/api/grade", json=submission, headers=bearer(token)))
    _assert_unavailable(client.post("/api/submissions", json=submission, headers=bearer(token)))
    _assert_unavailable(_upload(client, token, notebook_bytes(ANSWERS)))
    _assert_unavailable(client.get(f"/api/submissions/{first.json['submission']}", headers=bearer(token)))
    _assert_unavailable(client.get("/healthz"))
    assert _count(pg_db) == 1 and _count(pg_db, PartResult) == parts_before  # nothing half-written

    pg_proxy.start()  # the database is back: new connections, no restart of the app
    assert client.get("/healthz").status_code == 200
    again = client.post("/api/grade", json=submission, headers=bearer(token))
    assert again.status_code == 200 and again.json["score"] == first.json["score"]
    assert _count(pg_db) == 2 and _count(pg_db, PartResult) == 2 * parts_before
    app.extensions["grader"].jobs.shutdown()
    db.dispose()


def test_an_outage_inside_the_transaction_leaves_no_submission_without_its_parts(
    pg_db: Database, pg_url: str, pg_proxy: Proxy, catalog: Any
) -> None:
    db = Database(_through(pg_proxy, pg_url))
    app = make_app(db, catalog, AUTH_CACHE_SECONDS=600)
    client = app.test_client()
    token = add_user("ta1", "ta", db=pg_db)
    submission = {"student": "s001", "answers": ANSWERS}
    assert client.post("/api/grade", json=submission, headers=bearer(token)).status_code == 200

    def cut_before_the_parts(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PART_RESULTS"):
            pg_proxy.stop()  # the submission row is inserted, its transaction still open

    event.listen(db.engine, "before_cursor_execute", cut_before_the_parts)
    try:
        _assert_unavailable(client.post("/api/grade", json=submission, headers=bearer(token)))
    finally:
        event.remove(db.engine, "before_cursor_execute", cut_before_the_parts)
    assert _count(pg_db) == 1 and _count(pg_db, PartResult) == 2  # the half transaction was rolled back

    pg_proxy.start()
    assert client.post("/api/grade", json=submission, headers=bearer(token)).status_code == 200
    assert _count(pg_db) == 2 and _count(pg_db, PartResult) == 4
    app.extensions["grader"].jobs.shutdown()
    db.dispose()


def test_a_background_job_waits_out_an_outage_and_stores_its_result_once(
    pg_db: Database, pg_url: str, pg_proxy: Proxy, catalog: Any
) -> None:
    db = Database(_through(pg_proxy, pg_url))
    submission_id = submissions.create_queued(pg_db, "s001", "notebook", notebook_bytes(ANSWERS), filename="s001.ipynb")
    outages: list[float] = []

    def cut_once(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PART_RESULTS") and not outages:
            outages.append(time.monotonic())  # between 'done' and its part rows: the worst moment
            pg_proxy.stop()
            threading.Timer(1.0, pg_proxy.start).start()

    event.listen(db.engine, "before_cursor_execute", cut_once)
    jobs = LocalJobs(db, catalog, workers=1, notebook_grader=fake_grade_notebook, retry_delay=0.1)
    try:
        jobs.submit(submission_id)
        jobs.wait(30)
    finally:
        jobs.shutdown()
        event.remove(db.engine, "before_cursor_execute", cut_once)
        db.dispose()
    stored = submissions.get(pg_db, submission_id)
    assert outages, "the outage never happened"
    assert stored.status == "done" and stored.score == 1.5
    assert stored.attempts == 2  # the claim before the outage counted; its result was never stored
    assert _parts(pg_db, submission_id) == 2


def test_a_celery_worker_waits_out_a_database_outage(
    pg_db: Database, pg_url: str, pg_proxy: Proxy, broker_redis: redis.Redis, tmp_path: Path
) -> None:
    from test_jobs_celery import Worker

    submission_id = submissions.create_queued(pg_db, "s001", "notebook", notebook_bytes(ANSWERS), filename="s001.ipynb")
    env = _clean_env(tmp_path)
    env.update(
        DATABASE_URL=_through(pg_proxy, pg_url),
        GRADER_BROKER=f"redis://127.0.0.1:6379/{BROKER_DB}",
        GRADER_NOTEBOOK_GRADER="test_web_helpers:fake_grade_notebook",
        GRADER_RETRY_DELAY="0.2",
    )
    pg_proxy.stop()
    CeleryJobs(env["GRADER_BROKER"]).submit(submission_id)
    worker = Worker(env, "outage", tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 30
        while "retry" not in (tmp_path / "worker.log").read_text(errors="replace").lower():
            assert time.monotonic() < deadline, "the worker never met the outage"
            time.sleep(0.1)
        assert submissions.get(pg_db, submission_id).status == "queued"
        pg_proxy.start()
        stored = _wait(pg_db, submission_id, ("done", "failed"), 30)
    finally:
        worker.stop()
    assert stored.status == "done" and stored.attempts == 1
    assert _parts(pg_db, submission_id) == 2


def test_unavailable_means_a_connection_problem_not_a_bug(sqlite_db: Database) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    closed = Database(f"postgresql+psycopg://postgres@127.0.0.1:{CLOSED_PORT}/test")
    with pytest.raises(OperationalError) as refused:
        with closed.read() as session:
            session.execute(text("SELECT 1"))
    assert is_unavailable(refused.value)
    closed.dispose()
    with pytest.raises(OperationalError) as missing:
        with sqlite_db.read() as session:
            session.execute(text("SELECT * FROM no_such_table"))
    assert not is_unavailable(missing.value)  # a query that is wrong stays a 500 (a bug)
    assert not is_unavailable(ValueError("database is locked"))


# -- Redis unreachable ----------------------------------------------------------------------------


def test_a_closed_broker_port_is_a_503_and_no_submission_row(sqlite_db: Database, catalog: Any) -> None:
    app = make_app(sqlite_db, catalog, GRADER_BROKER=f"redis://127.0.0.1:{CLOSED_PORT}/0")
    client = app.test_client()
    token = add_user("s001", db=sqlite_db)
    started = time.monotonic()
    _assert_unavailable(_upload(client, token, notebook_bytes(ANSWERS)))
    _assert_unavailable(client.post("/api/submissions", json={"answers": ANSWERS}, headers=bearer(token)))
    assert time.monotonic() - started < 10  # answered promptly, not hung on the broker
    assert _count(sqlite_db) == 0  # the client was told to retry: no row stays behind
    graded = client.post("/api/grade", json={"answers": ANSWERS}, headers=bearer(token))
    assert graded.status_code == 200  # grading at once needs no broker


def test_a_redis_outage_is_a_503_and_queueing_resumes_when_it_ends(
    sqlite_db: Database, catalog: Any, redis_proxy: Proxy, broker_redis: redis.Redis
) -> None:
    app = make_app(sqlite_db, catalog, GRADER_BROKER=f"redis://127.0.0.1:{redis_proxy.port}/{BROKER_DB}")
    client = app.test_client()
    token = add_user("s001", db=sqlite_db)
    accepted = [_upload(client, token, notebook_bytes(ANSWERS))]
    assert accepted[0].status_code == 202

    redis_proxy.stop()
    _assert_unavailable(_upload(client, token, notebook_bytes(ANSWERS)))
    assert _count(sqlite_db) == 1

    redis_proxy.start()
    accepted.append(_upload(client, token, notebook_bytes(ANSWERS)))
    assert accepted[1].status_code == 202, accepted[1].json
    ids = {r.json["id"] for r in accepted}
    queued = [json.loads(m)["headers"]["argsrepr"] for m in broker_redis.lrange(os.environ["GRADER_QUEUE"], 0, -1)]
    assert sorted(queued) == sorted(repr([i]) for i in ids)  # each accepted submission queued once
    with sqlite_db.read() as session:
        assert set(session.scalars(select(Submission.id))) == ids


# -- the local job pool: the server killed or restarted -------------------------------------------


def hang_once_grade_notebook(data: bytes, filename: str, catalog: Any, **kwargs: Any) -> dict[str, Any]:
    """The server's notebook grader in these tests: ``metadata.sleep`` seconds, or forever the first time.

    ``metadata.hang_once`` names a file: the first attempt creates it and then
    hangs (until its server is killed), later attempts grade at once.
    """
    metadata = json.loads(data)["metadata"]
    marker = metadata.get("hang_once")
    if marker and not os.path.exists(marker):
        Path(marker).touch()
        time.sleep(3600)
    if metadata.get("hang_always"):
        Path(metadata["hang_always"]).touch()
        time.sleep(3600)
    time.sleep(float(metadata.get("sleep", 0)))
    return fake_grade_notebook(data, filename, catalog, **kwargs)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "CELERY"))}
    env.update(
        GRADER_DATA=str(tmp_path / "data"),
        GRADER_CACHE=str(tmp_path / "cache"),
        GRADER_QUEUE=os.environ["GRADER_QUEUE"],
        GRADER_RATE_LIMIT="0",
        GRADER_CPU_SHARE="0",
        PYTHONPATH=os.pathsep.join([str(TESTS), str(ROOT), env.get("PYTHONPATH", "")]),
    )
    return env


class Server:
    """``grader serve`` (werkzeug and the local job pool; unfinished jobs re-queued at start), a subprocess."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from grader.cli import main; main()", "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"grader serve did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)

    def signal(self, number: int) -> None:
        self.process.send_signal(number)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()

    def upload(self, token: str, data: bytes, name: str) -> str:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="notebook"; filename="{name}"\r\n'
                f"Content-Type: application/x-ipynb+json\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            f"{self.url}/api/submissions",
            data=body,
            method="POST",
            headers={**bearer(token), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            return json.loads(response.read())["id"]


@pytest.fixture
def servers(sqlite_db: Database, tmp_path: Path) -> Iterator[tuple[dict[str, str], list[Server]]]:
    env = _clean_env(tmp_path)
    env.update(
        DATABASE_URL=sqlite_db.url.render_as_string(hide_password=False),
        GRADER_NOTEBOOK_GRADER="test_faults:hang_once_grade_notebook",
        GRADER_JOB_WORKERS="2",
    )
    started: list[Server] = []
    yield env, started
    for server in started:
        server.stop()


def _wait(db: Database, submission_id: str, statuses: tuple[str, ...], timeout: float) -> StoredSubmission:
    deadline = time.monotonic() + timeout
    while True:
        stored = submissions.get(db, submission_id)
        if stored.status in statuses:
            return stored
        assert time.monotonic() < deadline, f"still {stored.status} after {timeout} s: {stored}"
        time.sleep(0.05)


def test_server_killed_mid_notebook_requeues_it_at_restart_and_grades_it_once(
    sqlite_db: Database, servers: tuple[dict[str, str], list[Server]], tmp_path: Path
) -> None:
    env, started = servers
    token = add_user("s001", db=sqlite_db)
    first = Server(env, tmp_path / "first.log")
    started.append(first)
    marker = tmp_path / "hung"
    submission_id = first.upload(token, notebook_bytes(ANSWERS, hang_once=str(marker)), "s001.ipynb")
    running = _wait(sqlite_db, submission_id, ("running", "done", "failed"), 15)
    assert running.status == "running" and running.attempts == 1
    deadline = time.monotonic() + 10
    while not marker.exists():  # the notebook grader has started on it
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.signal(signal.SIGKILL)  # kill -9 mid-notebook: nothing gets to clean up
    assert submissions.get(sqlite_db, submission_id).status == "running"

    started.append(Server(env, tmp_path / "second.log"))  # a new server on the same database
    stored = _wait(sqlite_db, submission_id, ("done", "failed"), 20)
    assert stored.status == "done" and stored.score == 1.5
    assert stored.attempts == 2 and _parts(sqlite_db, submission_id) == 2
    assert _count(sqlite_db) == 1


def test_a_submission_that_takes_the_server_down_every_time_ends_failed_with_a_reason(
    sqlite_db: Database, servers: tuple[dict[str, str], list[Server]], tmp_path: Path
) -> None:
    env, started = servers
    env["GRADER_MAX_ATTEMPTS"] = "2"
    token = add_user("s001", db=sqlite_db)
    marker = tmp_path / "started"
    started.append(Server(env, tmp_path / "server.log"))
    submission_id = started[-1].upload(token, notebook_bytes(ANSWERS, hang_always=str(marker)), "s001.ipynb")
    for attempt in (1, 2):
        deadline = time.monotonic() + 15
        while not marker.exists():
            assert time.monotonic() < deadline, f"attempt {attempt} never started"
            time.sleep(0.02)
        marker.unlink()
        assert submissions.get(sqlite_db, submission_id).attempts == attempt
        started[-1].signal(signal.SIGKILL)
        started.append(Server(env, tmp_path / "server.log"))  # recovers it: attempt 2, then the verdict
    stored = _wait(sqlite_db, submission_id, ("done", "failed"), 15)
    assert stored.status == "failed" and stored.attempts == 2
    assert "started 2 times and never finished" in stored.error
    assert stored.result is None and _parts(sqlite_db, submission_id) == 0  # not a zero: no grade at all
    assert not marker.exists()  # no third attempt


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_server_restarted_during_a_batch_of_uploads_loses_and_doubles_nothing(
    sqlite_db: Database, servers: tuple[dict[str, str], list[Server]], tmp_path: Path, stop_signal: int
) -> None:
    env, started = servers
    token = add_user("ta1", "ta", db=sqlite_db)
    first = Server(env, tmp_path / "first.log")
    started.append(first)
    ids = [first.upload(token, notebook_bytes(ANSWERS, sleep=0.25), f"s{n:03d}.ipynb") for n in range(20)]
    deadline = time.monotonic() + 20
    while submissions.count(sqlite_db, ["done"]) < 6:  # a third of the batch graded: restart now
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.signal(stop_signal)
    left = {s: submissions.count(sqlite_db, [s]) for s in ("queued", "running", "done")}
    assert left["done"] < 20, "the batch finished before the restart; nothing was tested"
    if stop_signal == signal.SIGTERM:
        assert left["running"] == 0  # a graceful stop finishes what it started and leaves the rest queued

    started.append(Server(env, tmp_path / "second.log"))
    stored = [_wait(sqlite_db, i, ("done", "failed"), 30) for i in ids]
    assert [s.status for s in stored] == ["done"] * 20
    assert [s.student for s in stored] == [f"s{n:03d}" for n in range(20)]
    assert all(_parts(sqlite_db, i) == 2 for i in ids)  # each result stored exactly once
    assert _count(sqlite_db) == 20 and _count(sqlite_db, PartResult) == 40
    attempts = [s.attempts for s in stored]
    if stop_signal == signal.SIGTERM:
        assert attempts == [1] * 20  # nothing was graded twice
    else:
        assert set(attempts) <= {1, 2} and attempts.count(2) <= 2  # only those cut off mid-grading (2 threads)


# -- grader grade: the sandbox killed mid-notebook ------------------------------------------------

ITERATES = "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]"
VALUES = "gd_parabola_values = [18, 6, 3, 2.25, 2.0625, 2.015625]"


def _notebook(path: Path, *cells: str) -> Path:
    node = nbf.new_notebook(cells=[nbf.new_code_cell(c) for c in cells])
    node.metadata["grader"] = {"assignment": "lec4-inclass"}
    nbformat.write(node, str(path))
    return path


def _class_folder(tmp_path: Path, quick: int, slow_seconds: float | None = None) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    for n in range(quick):
        _notebook(folder / f"s{n:02d}.ipynb", ITERATES, VALUES)
    if slow_seconds is not None:
        _notebook(folder / "slow.ipynb", ITERATES, f"import time\ntime.sleep({slow_seconds})", VALUES)
    return folder


def _grade(*args: str, **popen: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from grader.cli import main; main()", "grade", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(Path(popen.pop("home"))),
        **popen,
    )


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _forkservers(grader_pid: int) -> list[int]:
    def is_forkserver(pid: int) -> bool:
        try:
            return b"grader.sandbox.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False

    return [pid for pid in _children(grader_pid) if is_forkserver(pid)]


def _uid(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def _wait_for_slow_child(grader: subprocess.Popen, timeout: float = 30) -> tuple[int, int]:
    """(forkserver, child) once a notebook child has been running for a second (the slow notebook).

    A child runs a notebook once it dropped to the worker's uid; the child the
    forkserver forks ahead for the next notebook waits as root.
    """
    first_seen: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert grader.poll() is None, grader.communicate()
        for server in _forkservers(grader.pid):
            for child in [c for c in _children(server) if _uid(c) not in (None, _uid(server))]:
                seen = first_seen.setdefault(child, time.monotonic())
                if time.monotonic() - seen > 1.0:
                    return server, child
        time.sleep(0.05)
    raise AssertionError("no notebook child ran for a second")


def _by_file(stdout: str) -> dict[str, dict[str, Any]]:
    return {Path(r["file"]).name: r for r in json.loads(stdout)}


def test_a_notebook_child_killed_mid_notebook_is_an_error_and_the_batch_goes_on(tmp_path: Path) -> None:
    folder = _class_folder(tmp_path, quick=3, slow_seconds=60)
    grader = _grade(str(folder), "--format", "json", "--workers", "1", "--timeout", "90", home=tmp_path)
    try:
        _, child = _wait_for_slow_child(grader)
        os.kill(child, signal.SIGKILL)
        stdout, stderr = grader.communicate(timeout=60)
    finally:
        grader.kill()
    assert grader.returncode == 0, stderr
    results = _by_file(stdout)
    assert len(results) == 4
    slow = results["slow.ipynb"]
    assert slow["error"] == "killed by signal SIGKILL" and slow["graded"] is True
    parts = {p["id"]: p["status"] for p in slow["exercises"][0]["parts"]}
    assert parts == {"iterates": "correct", "values": "missing"}  # what it bound before the kill counts
    assert slow["score"] == 6  # the iterates' 6 points of gd-parabola's 12
    for n in range(3):
        assert results[f"s{n:02d}.ipynb"]["error"] is None and results[f"s{n:02d}.ipynb"]["score"] == 12
    assert "1 notebook(s) had an error" in stderr and "Traceback" not in stderr


def test_a_forkserver_killed_mid_batch_is_restarted_and_the_notebook_graded_again(tmp_path: Path) -> None:
    folder = _class_folder(tmp_path, quick=3, slow_seconds=2)
    grader = _grade(str(folder), "--format", "json", "--workers", "1", "--timeout", "60", home=tmp_path)
    try:
        server, _ = _wait_for_slow_child(grader)
        os.kill(server, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while not [pid for pid in _forkservers(grader.pid) if pid != server] and grader.poll() is None:
            assert time.monotonic() < deadline, "the forkserver was not restarted"
            time.sleep(0.02)
        stdout, stderr = grader.communicate(timeout=60)
    finally:
        grader.kill()
    assert grader.returncode == 0, stderr
    results = _by_file(stdout)
    slow = results["slow.ipynb"]
    assert slow["error"] is None and slow["graded"] is True  # retried on a new forkserver: not a zero
    assert slow["score"] == 12 and [p["status"] for p in slow["exercises"][0]["parts"]] == ["correct", "correct"]
    assert all(results[f"s{n:02d}.ipynb"]["score"] == 12 for n in range(3))
    assert "0 notebook(s) had an error" in stderr


# -- grader grade: a full disk ----------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs, mounted for the test (as root) and unmounted after it."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _one_error_line(stderr: str, starts: str) -> str:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(starts), stderr
    return errors[0]


def test_feedback_on_a_full_disk_exits_2_and_the_results_are_complete(tmp_path: Path, tiny_disk: Path) -> None:
    folder = _class_folder(tmp_path, quick=12)
    out = tmp_path / "results.json"
    feedback = tiny_disk / "feedback"
    grader = _grade(str(folder), "--format", "json", "--out", str(out), "--feedback", str(feedback), home=tmp_path)
    _, stderr = grader.communicate(timeout=120)
    assert grader.returncode == 2
    line = _one_error_line(stderr, f"error: could not write feedback files to {feedback}: No space left on device")
    written = int(re.search(r"\((\d+) of 12 written", line).group(1))
    assert 0 < written < 12
    pages = sorted(feedback.iterdir())
    assert len(pages) == written  # no temporary or half-written file is left
    assert all(p.read_text().rstrip().endswith("</html>") for p in pages)
    assert len(json.loads(out.read_text())) == 12  # the grades are all there


def test_results_that_do_not_fit_are_not_written_half(tmp_path: Path) -> None:
    folder = _class_folder(tmp_path, quick=4)
    out = tmp_path / "results.json"
    out.write_text("previous results\n")
    limit = 8 * 1024  # RLIMIT_FSIZE: no file larger than this; the results of 4 notebooks are larger

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    grader = _grade(str(folder), "--format", "json", "--out", str(out), home=tmp_path, preexec_fn=small_files)
    _, stderr = grader.communicate(timeout=120)
    assert grader.returncode == 2, stderr
    _one_error_line(stderr, f"error: could not write the results to {out}: File too large")
    assert out.read_text() == "previous results\n"  # left as it was
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".results")) == []
    unlimited = _grade(str(folder), "--format", "json", "--out", str(out), home=tmp_path)
    unlimited.communicate(timeout=120)
    assert unlimited.returncode == 0 and len(out.read_bytes()) > limit  # the same results do not fit in the limit
