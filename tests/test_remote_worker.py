"""A Celery worker on "another machine": its own network namespace, reaching Redis and PostgreSQL over a veth pair.

What docs/scaling.md tells an instructor to do on a second machine is done
here for real: the worker shares nothing with the web side but the broker,
the database, the exercises and the course secret, all given by settings;
it reaches Redis and PostgreSQL at the host's address on a veth link (a
small TCP relay on the host side stands in for services that listen on
another interface), grades a notebook queued on the host, and the result is
in the host's store.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from grader.jobs import CeleryJobs
from grader.store import submissions
from grader.store.db import Database

pytestmark = [pytest.mark.slow, pytest.mark.service, pytest.mark.sandbox, pytest.mark.postgres]

pytest_plugins = ["test_web_helpers"]


def _relay(listen: tuple[str, int], target: tuple[str, int], stop: threading.Event) -> threading.Thread:
    """Forward TCP connections from ``listen`` to ``target`` until ``stop`` is set (a port forward on the host)."""
    server = socket.create_server(listen, reuse_port=False)
    server.settimeout(0.2)

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve() -> None:
        with server:
            while not stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(target)
                threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
                threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def second_machine():
    """A network namespace joined to this one by a veth pair: (namespace, host-side address)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.fail("this test needs root and iproute2 (ip) to make a second machine's network namespace")
    tag = uuid.uuid4().hex[:6]
    namespace, host_if, ns_if = f"grader-w-{tag}", f"gw{tag}h", f"gw{tag}n"
    octet = 16 + int(tag[:2], 16) % 200
    host_ip, ns_ip = f"10.231.{octet}.1", f"10.231.{octet}.2"
    commands = [
        ["ip", "netns", "add", namespace],
        ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
        ["ip", "link", "set", ns_if, "netns", namespace],
        ["ip", "addr", "add", f"{host_ip}/30", "dev", host_if],
        ["ip", "link", "set", host_if, "up"],
        ["ip", "netns", "exec", namespace, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if],
        ["ip", "netns", "exec", namespace, "ip", "link", "set", ns_if, "up"],
        ["ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up"],
    ]
    try:
        for command in commands:
            subprocess.run(command, check=True, capture_output=True)
        yield namespace, host_ip
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def test_a_worker_on_a_second_machine_grades_what_the_web_side_queued(
    second_machine: tuple[str, str], pg_url: str, tmp_path: Path
) -> None:
    namespace, host_ip = second_machine
    stop = threading.Event()
    _relay((host_ip, 6379), ("127.0.0.1", 6379), stop)
    _relay((host_ip, 5432), ("127.0.0.1", 5432), stop)
    queue = f"grader-tests-remote-{uuid.uuid4().hex[:8]}"
    remote_db = pg_url.replace("127.0.0.1", host_ip)
    env = {
        **os.environ,
        "GRADER_BROKER": f"redis://{host_ip}:6379/0",
        "GRADER_QUEUE": queue,
        "DATABASE_URL": remote_db,
        "GRADER_DATA": str(tmp_path / "worker-data"),
        "GRADER_SECRET": "the-course-secret",
    }
    log = tmp_path / "worker.log"
    celery = str(Path(sys.executable).parent / "celery")
    worker = subprocess.Popen(
        ["ip", "netns", "exec", namespace, celery, "-A", "grader.celery_app", "worker", "--concurrency", "1"],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    db = Database(pg_url)
    try:
        node = nbformat.v4.new_notebook()
        node.metadata["grader"] = {"assignment": "lec4-inclass", "student": "s042"}
        node.cells = [nbformat.v4.new_code_cell("gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]")]
        submission = submissions.create_queued(
            db, "s042", "notebook", nbformat.writes(node).encode(), filename="s042.ipynb", assignment="lec4-inclass"
        )
        CeleryJobs("redis://127.0.0.1:6379/0", queue=queue).submit(submission, "s042")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            view = submissions.get(db, submission)
            if view.status in ("done", "failed") or worker.poll() is not None:
                break
            time.sleep(0.3)
        assert view.status == "done", (view.status, view.error, log.read_text()[-3000:])
        assert view.graded().exercises[0].score == 6
        # the worker really was on the other side of the link: its namespace cannot reach 127.0.0.1's services
        probe = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                namespace,
                sys.executable,
                "-c",
                "import socket; socket.create_connection(('127.0.0.1', 6379), 1)",
            ],
            capture_output=True,
        )
        assert probe.returncode != 0
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        stop.set()
        db.dispose()
