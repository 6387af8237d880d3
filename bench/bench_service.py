"""Service throughput: POST /api/grade under load, against Flask routes that only parse and store the same JSON.

    python bench/bench_service.py [--duration 10] [--rounds 3] [--connections 16] [--threads 2]
                                  [--postgres URL | --postgres ''] [--profile sqlite|postgresql] [--cpu]

Starts ``gunicorn -w 2 'app:app'`` on loopback with a fresh SQLite store (rate
limits off) and, in the same run, ``gunicorn -w 2`` serving the references:

* *the SQLite insert*: a plain Flask route that parses the JSON body and
  inserts it into a SQLite table in one transaction, committed before it
  answers (WAL, ``synchronous=NORMAL``, ``BEGIN IMMEDIATE``: the durability the
  service's own store has), and answers with the row's id. This is the aim's
  reference: the least a service must do to answer a submission it has stored.
* *the psycopg insert*: the same route inserting with psycopg into PostgreSQL
  (``--postgres``, a schema made for the run and dropped after it), beside the
  grader's app on that database. ``--postgres ''`` leaves both out.
* *the echo*: a bare Flask route that parses the JSON and returns it (HTTP,
  WSGI and JSON alone), and *grading only*: the grader's app with storing
  replaced by a no-op (what grading, auth and JSON cost without a store).

``wrk`` drives all of them with the same requests: full ``lec4-homework``
submissions, each for a different student, with a TA's bearer token, in
alternating rounds (so that other load on the machine hits all alike).
Reports the median throughput, p50 / p99 latency and errors side by side, the
median per-round ratios of the grader to its reference, and counts the
submissions stored during the timed runs (every 2xx answer must have its row:
0 missing).

``--cpu`` instead measures in this one process, without HTTP or wrk, the CPU
time per request of the echo, the SQLite insert and the grader's app (their
WSGI callables called as gunicorn calls them), and of grading and storing
alone: what each request costs beyond the fixed cost of HTTP.

``--profile sqlite`` (or ``postgresql``) instead runs only the grader's app for
one round of ``--duration`` seconds, each gunicorn worker's Python stack
sampled as its CPU time passes (about once a clock tick), and prints the lines
and functions that take the most CPU per request (the lines
docs/service.md#benchmark quotes).

Needs ``wrk`` (Debian package) and gunicorn. Not run by the tests.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

SUBMISSION = {
    "student": "s0000",
    "assignment": "lec4-homework",
    "answers": {
        "gd-step-2d": {"direction": "[-1, -2]", "new-point": [3.5, 2]},
        "minibatch-gradient": {"full": "[19/5, 11/5]", "batch": "[10/3, 2]"},
        "updates-per-epoch": {"b50": 24, "b200": "6", "b32": "37"},
    },
}

LUA = """
local counter = 0
local token = "%(token)s"
local template = [==[%(body)s]==]
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  counter = counter + 1
  local student = string.format("s%%04d", counter %% 300)
  local body = string.gsub(template, "s0000", student, 1)
  return wrk.format(nil, "/api/grade", nil, body)
end
"""

# The references' table: what a plain service would keep of a submission it stores.
REFERENCE_TABLE = {
    "sqlite": "CREATE TABLE IF NOT EXISTS reference_submissions (id INTEGER PRIMARY KEY, student TEXT NOT NULL, "
    "body BLOB NOT NULL, created_at REAL NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS reference_submissions (id BIGSERIAL PRIMARY KEY, student TEXT NOT NULL, "
    "body BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())",
}
REFERENCE_DATABASE = "BENCH_REFERENCE_DATABASE"  # the references' database (a SQLite path or a libpq URL)


def ceiling() -> object:
    """The bare Flask app: parse the JSON body, return it (``gunicorn 'bench_service:ceiling()'``)."""
    from flask import Flask, jsonify, request

    app = Flask("ceiling")

    @app.post("/api/grade")
    def echo() -> object:
        return jsonify(request.get_json())

    @app.get("/healthz")
    def healthz() -> object:
        return jsonify({"status": "ok"})

    return app


def sqlite_reference() -> object:
    """Flask parsing the JSON body and inserting it into SQLite in one transaction, committed before answering
    (``gunicorn 'bench_service:sqlite_reference()'``, the file in ``$BENCH_REFERENCE_DATABASE``).

    WAL with ``synchronous=NORMAL``, as the service's store: a commit survives the process, and the OS unless
    the machine loses power. Writers queue in SQLite's busy handler.
    """
    import sqlite3

    from flask import Flask, jsonify, request

    app = Flask("sqlite_reference")
    connection = sqlite3.connect(os.environ[REFERENCE_DATABASE], isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")

    @app.post("/api/grade")
    def store() -> object:
        body = request.get_json()
        connection.execute("BEGIN IMMEDIATE")
        try:
            row = connection.execute(
                "INSERT INTO reference_submissions (student, body, created_at) VALUES (?, ?, ?)",
                (body["student"], request.get_data(), time.time()),
            ).lastrowid
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return jsonify({"id": row, "student": body["student"]})

    @app.get("/healthz")
    def healthz() -> object:
        return jsonify({"status": "ok"})

    return app


def postgres_reference() -> object:
    """Flask parsing the JSON body and inserting it with psycopg into PostgreSQL, committed before answering
    (``gunicorn 'bench_service:postgres_reference()'``, the libpq URL in ``$BENCH_REFERENCE_DATABASE``)."""
    import psycopg
    from flask import Flask, jsonify, request

    app = Flask("postgres_reference")
    connection = psycopg.connect(os.environ[REFERENCE_DATABASE])

    @app.post("/api/grade")
    def store() -> object:
        body = request.get_json()
        try:
            row = connection.execute(
                "INSERT INTO reference_submissions (student, body) VALUES (%s, %s) RETURNING id",
                (body["student"], request.get_data()),
            ).fetchone()[0]
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        return jsonify({"id": row, "student": body["student"]})

    @app.get("/healthz")
    def healthz() -> object:
        return jsonify({"status": "ok"})

    return app


def grading_only() -> object:
    """The grader's app with storing replaced by a no-op (``gunicorn 'bench_service:grading_only()'``).

    Not a way to run the service: it shows what grading, auth and JSON cost on
    their own, i.e. the best ratio any store could reach.
    """
    from grader.store import submissions

    submissions.store_graded = lambda *args, **kwargs: submissions.new_id()
    from app import app

    return app


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(work: Path, database_url: str | None = None, **settings: str) -> dict[str, str]:
    """This environment without its GRADER_ settings, plus a store, data and cache folder under ``work``
    (SQLite unless ``database_url``) and ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(
        DATABASE_URL=database_url or f"sqlite:///{work / 'grader.db'}",
        GRADER_DATA=str(work / "data"),
        GRADER_CACHE=str(work / "cache"),
        PYTHONPATH=str(ROOT),
        **settings,
    )
    return env


def start_gunicorn(
    target: str, env: dict[str, str], chdir: Path, log: Path, extra: Sequence[str] = (), workers: int = 2
) -> tuple[subprocess.Popen, str]:
    """``gunicorn -w <workers> target`` (plus ``extra`` options) on a free loopback port, once its /healthz
    answers."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
        "--chdir", str(chdir), "--log-level", "warning", *extra, target,
    ]  # fmt: skip
    return start_server(command, port, env, log, chdir)


def start_server(
    command: Sequence[str], port: int, env: dict[str, str], log: Path, cwd: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """Run ``command`` (a server listening on ``port``) in its own session; return once its /healthz answers."""
    process = subprocess.Popen(
        list(command), env=env, cwd=cwd, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{' '.join(command[:4])} did not start; see {log}")


def stop_on_sigterm() -> None:
    """SIGTERM ends a benchmark with exit code 143, through its ``finally``: the servers it started are stopped."""

    def interrupt(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, interrupt)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


def run_wrk(url: str, script: Path, args: argparse.Namespace, count: object = None) -> dict[str, float]:
    """A 2 s warm-up, then the timed run; ``count()`` (if given) is read between the two and after."""
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
        "--timeout", "10s", "--latency", "-s", str(script), url,
    ]  # fmt: skip
    subprocess.run([*command[:3], "-d2s", *command[4:]], capture_output=True, check=True)
    before = count() if callable(count) else 0
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = parse_wrk(output)
    if callable(count):
        time.sleep(0.5)  # let requests still in flight when wrk stopped finish
        result["stored"] = count() - before
    return result


def _millis(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output: str) -> dict[str, float]:
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _millis(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p99": _millis(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
        "requests": requests,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(x) for x in socket_errors.groups()) if socket_errors else 0,
    }


@dataclass
class Target:
    """One server of the run: what gunicorn serves, from where, with which environment, and how to count what it
    stored (the grader's apps)."""

    name: str
    wsgi: str
    chdir: Path
    env: dict[str, str]
    script: Path
    count: Callable[[], int] | None = None


@dataclass
class Backend:
    """A database the grader's app runs on: its URL, the references' database, and the TA token wrk sends."""

    name: str  # sqlite or postgresql
    url: str
    reference: str
    script: Path
    db: object
    cleanup: Callable[[], None]


def _backend(name: str, work: Path, postgres: str) -> Backend:
    """A fresh store (migrated, with a TA) and a reference table, on SQLite under ``work`` or in a new schema."""
    from grader.store.db import Database
    from grader.store.users import add_user

    if name == "sqlite":
        url, reference = f"sqlite:///{work / 'grader.db'}", str(work / "reference.db")
        import sqlite3

        with sqlite3.connect(reference) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(REFERENCE_TABLE["sqlite"])

        def cleanup() -> None:
            db.dispose()

    else:
        import psycopg

        schema = f"bench_service_{uuid.uuid4().hex[:10]}"
        plain = postgres.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
            connection.execute(f'SET search_path TO "{schema}"')
            connection.execute(REFERENCE_TABLE["postgresql"])
        url, reference = f"{postgres}?options=-csearch_path%3D{schema}", f"{plain}?options=-csearch_path%3D{schema}"

        def cleanup() -> None:
            db.dispose()
            with psycopg.connect(plain, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')

    db = Database(url)
    db.migrate()
    token = add_user("ta1", "ta", db=db)
    script = work / f"post-{name}.lua"
    script.write_text(LUA % {"token": token, "body": json.dumps(SUBMISSION)})
    return Backend(name, url, reference, script, db, cleanup)


def _targets(backends: list[Backend], work: Path, settings: dict[str, str]) -> list[Target]:
    """Every server of the run: the echo, then per database its reference and the grader's app (and on SQLite,
    the grader's app storing nothing)."""
    from grader.store import submissions

    sqlite = backends[0]
    bench = ROOT / "bench"
    targets = [
        Target("echo (bare Flask)", "bench_service:ceiling()", bench, service_env(work, **settings), sqlite.script)
    ]
    for backend in backends:
        env = service_env(work, backend.url, **settings, **{REFERENCE_DATABASE: backend.reference})
        label = "SQLite" if backend.name == "sqlite" else "PostgreSQL"
        reference = "sqlite_reference()" if backend.name == "sqlite" else "postgres_reference()"
        targets.append(Target(f"{label} insert (reference)", f"bench_service:{reference}", bench, env, backend.script))
        count = (lambda db: lambda: submissions.count(db))(backend.db)
        targets.append(Target(f"grader, {label}", "app:app", ROOT, env, backend.script, count))
        if backend.name == "sqlite":
            targets.append(
                Target("grading only, nothing stored", "bench_service:grading_only()", bench, env, backend.script)
            )
    return targets


# A sampling profiler for gunicorn workers (``gunicorn -c``): as the worker's CPU time passes (ITIMER_PROF: user
# and system time, never time spent waiting; the kernel fires it at most once a clock tick), the Python stack
# running is counted: the line at its top ("own") and every function on it ("total"); each sample then stands for
# the worker's CPU time divided by the samples. Time waiting for the lock, the disk or the CPU (another process
# running) is not counted, unlike a wall-clock profiler under load, which charges it to whichever call was
# running when the process was descheduled (often the next system call, such as reading the CPU clock). Python
# runs the handler in the main thread: the CPU of a thread the request waits for (its grading, in a thread of
# grader.budget.yielding) is counted at the line where it waits.
PROFILE_CONFIG = """
import collections, json, os, signal

def post_worker_init(worker):
    own, total, requests = collections.Counter(), collections.Counter(), [0]

    def sample(signum, frame):
        if frame is None:
            return
        own[(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)] += 1
        seen = set()
        while frame is not None:
            code = frame.f_code
            key = (code.co_filename, code.co_firstlineno, code.co_name)
            if key not in seen:
                seen.add(key)
                total[key] += 1
            frame = frame.f_back

    app = worker.wsgi

    def counting(environ, start_response):
        requests[0] += environ.get("PATH_INFO") == "/api/grade"
        return app(environ, start_response)

    worker.wsgi = counting
    worker.samples = (own, total, requests, sum(os.times()[:2]))
    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, %(interval)r, %(interval)r)

def worker_exit(server, worker):
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    own, total, requests, cpu = worker.samples
    cpu = sum(os.times()[:2]) - cpu
    with open(os.path.join(%(folder)r, "worker-%%d.json" %% os.getpid()), "w") as handle:
        json.dump({"requests": requests[0], "cpu": cpu, "own": list(own.items()), "total": list(total.items())}, handle)
"""
PROFILE_INTERVAL = 0.001  # seconds of CPU between samples (at most one a clock tick)


def profile(backend: Backend, work: Path, args: argparse.Namespace, settings: dict[str, str]) -> None:
    """The grader's app with each worker sampled on its CPU time for one run of wrk; print the top lines and
    functions in CPU µs per request."""
    folder = work / "profiles"
    folder.mkdir()
    config = work / "gunicorn_profile.py"
    config.write_text(PROFILE_CONFIG % {"folder": str(folder), "interval": PROFILE_INTERVAL})
    env = service_env(work, backend.url, **settings)
    process, url = start_gunicorn("app:app", env, ROOT, work / "profile.log", ["-c", str(config)])
    try:
        result = run_wrk(url, backend.script, args)
    finally:
        stop(process)
    own: dict[tuple, int] = {}
    total: dict[tuple, int] = {}
    requests, cpu = 0, 0.0
    for path in folder.glob("worker-*.json"):
        data = json.loads(path.read_text())
        requests += data["requests"]
        cpu += data["cpu"]
        for counts, found in ((own, data["own"]), (total, data["total"])):
            for key, count in found:
                counts[tuple(key)] = counts.get(tuple(key), 0) + count
    if not requests:
        raise SystemExit(f"no profile was written; see {work / 'profile.log'}")
    samples = sum(own.values())
    per_request = cpu * 1e6 / samples / requests  # CPU µs per request that one sample stands for
    print(
        f"CPU-time samples of gunicorn -w 2 'app:app' on {backend.name}, wrk -t{args.threads} -c{args.connections} "
        f"{args.duration} s: {result['rps']:.0f} req/s while sampled; {requests} requests, {samples} samples, "
        f"{cpu * 1e6 / requests:.0f} µs of worker CPU per request (all the workers' threads)"
    )
    for title, counts, line in (("own time (the line running)", own, True), ("time with callees", total, False)):
        print(f"\ntop {args.top} by {title}, CPU µs per request:")
        for (path, number, name), count in sorted(counts.items(), key=lambda item: -item[1])[: args.top]:
            print(f"{count * per_request:8.1f}  {_short(path)}:{number} {name}{'' if line else '()'}")


def _short(path: str) -> str:
    for marker in ("site-packages/", "lib/python3", str(ROOT) + "/"):
        if marker in path:
            return path.split(marker, 1)[1].removeprefix(".11/").removeprefix(".12/")
    return path


def cpu_per_request(work: Path, settings: dict[str, str], batches: int = 6, size: int = 500) -> None:
    """In this process, without HTTP: the CPU time (all threads) per request of each app's WSGI callable, called
    as gunicorn calls it with the benchmark's requests, and of grading and storing alone; each the least of
    ``batches`` batches of ``size`` calls (the least disturbed by other load on the machine)."""
    import io
    import sqlite3

    os.environ.update(service_env(work, **settings, **{REFERENCE_DATABASE: str(work / "cpu-reference.db")}))
    from werkzeug.test import EnvironBuilder

    from grader.grading import grade_checked, validate_submission
    from grader.store import submissions
    from grader.store.db import Database
    from grader.store.users import add_user

    db = Database(os.environ["DATABASE_URL"])
    db.migrate()
    token = add_user("ta1", "ta", db=db)
    with sqlite3.connect(os.environ[REFERENCE_DATABASE]) as connection:
        connection.execute(REFERENCE_TABLE["sqlite"])
    from app import app as grader_app

    bodies = [json.dumps({**SUBMISSION, "student": f"s{k:04d}"}).encode() for k in range(300)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    environs = [
        EnvironBuilder("/api/grade", method="POST", data=body, headers=headers).get_environ() for body in bodies
    ]

    def answered(status: str, headers: object, exc_info: object = None) -> None:
        if not status.startswith("200"):
            raise SystemExit(f"the in-process request was answered {status}")

    def caller(wsgi: Callable) -> Callable[[int], None]:
        def call(k: int) -> None:
            environ = dict(environs[k % 300], **{"wsgi.input": io.BytesIO(bodies[k % 300])})
            response = wsgi(environ, answered)
            for _ in response:
                pass
            getattr(response, "close", lambda: None)()

        return call

    checked = validate_submission(SUBMISSION, grader_app.extensions["grader"].catalog)
    result = grade_checked(checked, grader_app.extensions["grader"].catalog)
    payload = json.dumps(SUBMISSION).encode()
    rows = {
        "echo (bare Flask)": caller(ceiling()),
        "SQLite insert (reference)": caller(sqlite_reference()),
        "grader POST /api/grade, SQLite": caller(grader_app),
        "  of which grading (grade_checked)": lambda k: grade_checked(checked, grader_app.extensions["grader"].catalog),
        "  of which storing (store_graded)": lambda k: submissions.store_graded(db, f"s{k % 300:04d}", result, payload),
    }
    print(f"CPU per request in one process, without HTTP (the least of {batches} batches of {size}):")
    for name, call in rows.items():
        for k in range(300):
            call(k)
        best = math.inf
        for _ in range(batches):
            start = time.process_time()
            for k in range(size):
                call(k)
            best = min(best, (time.process_time() - start) / size)
        print(f"{name:36} {best * 1e6:7.0f} µs")
    db.dispose()


def _ratio_line(label: str, runs: list[dict[str, float]], reference: list[dict[str, float]]) -> str:
    throughput = statistics.median(g["rps"] / c["rps"] for g, c in zip(runs, reference, strict=True))
    tail = statistics.median(g["p99"] / c["p99"] for g, c in zip(runs, reference, strict=True))
    return f"{label:42} throughput {throughput:5.2f}, p99 {tail:5.2f}x"


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gunicorn", default="", help="more gunicorn options for every server, e.g. '-k gthread'")
    parser.add_argument(
        "--postgres", default=POSTGRES, help=f"PostgreSQL to compare on as well ('' for none; default {POSTGRES})"
    )
    parser.add_argument("--profile", choices=("sqlite", "postgresql"), help="profile the grader's app on this store")
    parser.add_argument("--top", type=int, default=25, help="functions listed by --profile")
    parser.add_argument(
        "--cpu", action="store_true", help="only the CPU time per request of each app in this process, without HTTP"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    settings = {"GRADER_RATE_LIMIT": "0", "GRADER_CPU_SHARE": "0"}
    if args.cpu:
        cpu_per_request(work, settings)
        shutil.rmtree(work, ignore_errors=True)
        return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    names = [args.profile] if args.profile else ["sqlite", *(["postgresql"] if args.postgres else [])]
    backends: list[Backend] = []
    servers = {}
    try:
        for name in names:
            backends.append(_backend(name, work, args.postgres))
        if args.profile:
            profile(backends[0], work, args, settings)
            shutil.rmtree(work, ignore_errors=True)
            return
        targets = _targets(backends, work, settings)
        for target in targets:
            log = work / f"{re.sub(r'[^a-z]+', '-', target.name.lower())}.log"
            servers[target.name] = start_gunicorn(target.wsgi, target.env, target.chdir, log, args.gunicorn.split())
        rounds: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
        for _ in range(args.rounds):  # alternate, so that noise on a shared machine hits all alike
            for target in targets:
                rounds[target.name].append(run_wrk(servers[target.name][1], target.script, args, target.count))
    finally:
        for process, _ in servers.values():
            stop(process)
        for backend in backends:
            backend.cleanup()

    print(
        f"wrk -t{args.threads} -c{args.connections}, {args.rounds} alternating rounds of "
        f"{args.duration} s each, {' '.join(['gunicorn -w 2', *args.gunicorn.split()])}, {os.cpu_count()} cores; medians"
    )
    print(f"{'':32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}")
    for name, runs in rounds.items():
        errors = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
        requests = sum(r["requests"] for r in runs)
        print(
            f"{name:32} {_median(runs, 'rps'):9.0f} {_median(runs, 'p50'):8.2f} "
            f"{_median(runs, 'p99'):8.2f} {requests:9d} {errors:7d}"
        )
    print("median of the per-round ratios (aim: throughput >= 0.75 of the insert, p99 <= 2x its p99):")
    echo = rounds["echo (bare Flask)"]
    for backend in backends:
        label = "SQLite" if backend.name == "sqlite" else "PostgreSQL"
        grader = rounds[f"grader, {label}"]
        print(_ratio_line(f"grader, {label} / {label} insert", grader, rounds[f"{label} insert (reference)"]))
        print(_ratio_line(f"grader, {label} / echo", grader, echo))
        print(_ratio_line(f"{label} insert / echo", rounds[f"{label} insert (reference)"], echo))
    print(_ratio_line("grading only / echo", rounds["grading only, nothing stored"], echo))
    for backend in backends:
        label = "SQLite" if backend.name == "sqlite" else "PostgreSQL"
        runs = rounds[f"grader, {label}"]
        answered = sum(r["requests"] - r["non_2xx"] for r in runs)
        stored = sum(r["stored"] for r in runs)
        print(
            f"store, {label}: {stored:.0f} submissions stored for {answered} answered 2xx in the timed runs; "
            f"missing {max(0, answered - stored):.0f}"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
