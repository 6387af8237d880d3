"""Service throughput: POST /api/grade under load, against a bare Flask JSON echo as the ceiling.

    python bench/bench_service.py [--duration 10] [--rounds 3] [--connections 16] [--threads 2]

Starts ``gunicorn -w 2 'app:app'`` on loopback with a fresh SQLite store
(rate limits off) and, in the same run, ``gunicorn -w 2`` serving a bare Flask
route that only parses the JSON body and returns it (the ceiling: the cost of
HTTP, WSGI and JSON without grading, auth or storage), and the grader's app
with storing replaced by a no-op (what grading, auth and JSON cost alone: the
best any store could do). ``wrk`` drives both
with the same requests: full ``lec4-homework`` submissions, each for a
different student, with a TA's bearer token, in alternating rounds (so that
other load on the machine hits all alike). Reports the median throughput,
p50 / p99 latency and errors side by side, the median per-round ratios, and
counts the submissions stored during the timed runs (every 2xx answer must
have its row: 0 missing).

Needs ``wrk`` (Debian package) and gunicorn. Not run by the tests.
"""

from __future__ import annotations

import argparse
import json
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
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gunicorn", default="", help="more gunicorn options for both servers, e.g. '-k gthread'")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    from grader.store import submissions
    from grader.store.db import Database
    from grader.store.users import add_user

    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    env = service_env(work, GRADER_RATE_LIMIT="0", GRADER_CPU_SHARE="0")
    db = Database(env["DATABASE_URL"])
    db.migrate()
    token = add_user("ta1", "ta", db=db)
    script = work / "post.lua"
    script.write_text(LUA % {"token": token, "body": json.dumps(SUBMISSION)})

    targets = {
        "ceiling (bare Flask echo)": ("bench_service:ceiling()", ROOT / "bench", None),
        "grader POST /api/grade": ("app:app", ROOT, lambda: submissions.count(db)),
        "grading only, nothing stored": ("bench_service:grading_only()", ROOT / "bench", None),
    }
    servers = {}
    try:
        for name, (target, chdir, _) in targets.items():
            log = work / f"{target.partition(':')[2]}.log"
            servers[name] = start_gunicorn(target, env, chdir, log, args.gunicorn.split())
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for _ in range(args.rounds):  # alternate, so that noise on a shared machine hits both
            for name, (_, _, count) in targets.items():
                rounds[name].append(run_wrk(servers[name][1], script, args, count))
    finally:
        for process, _ in servers.values():
            stop(process)

    ceiling_runs, grader_runs, grading_runs = rounds.values()
    print(
        f"wrk -t{args.threads} -c{args.connections}, {args.rounds} alternating rounds of "
        f"{args.duration} s each, {' '.join(['gunicorn -w 2', *args.gunicorn.split()])}, {os.cpu_count()} cores; medians"
    )
    print(f"{'':30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}")
    for name, runs in rounds.items():
        errors = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
        requests = sum(r["requests"] for r in runs)
        print(
            f"{name:30} {_median(runs, 'rps'):9.0f} {_median(runs, 'p50'):8.2f} "
            f"{_median(runs, 'p99'):8.2f} {requests:9d} {errors:7d}"
        )
    for label, runs in (("grader", grader_runs), ("grading only", grading_runs)):
        throughput = statistics.median(g["rps"] / c["rps"] for g, c in zip(runs, ceiling_runs, strict=True))
        tail = statistics.median(g["p99"] / c["p99"] for g, c in zip(runs, ceiling_runs, strict=True))
        print(
            f"{label + ':':14} throughput ratio {throughput:.0%} (aim >= 75 %), p99 ratio {tail:.2f}x (aim <= 2x); "
            "median of the per-round ratios"
        )
    answered = sum(r["requests"] - r["non_2xx"] for r in grader_runs)
    stored = sum(r["stored"] for r in grader_runs)
    print(
        f"store: {stored:.0f} submissions stored for {answered} answered 2xx in the timed runs; "
        f"missing {max(0, answered - stored):.0f}"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
