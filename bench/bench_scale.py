"""Grading through Celery + Redis + PostgreSQL with 1 and with 2 worker processes: does it scale?

    python bench/bench_scale.py [--notebooks 1000] [--processes 1 2]

Writes the class of ``bench_grade.py`` (realistic ``lec4-inclass``
notebooks), then for each number of worker processes: starts
``celery -A grader.celery_app worker --concurrency N`` on a queue of its own
(Redis at 127.0.0.1:6379, a fresh PostgreSQL schema in the ``test``
database), waits for it to be ready (its sandbox self-check passed), and runs
``grader grade DIR --queue`` against it, end to end: every notebook stored as
a submission, graded by the workers, its result read back. Prints the rate
per configuration and the ratio (2 processes / 1). Each worker process keeps
one warm sandbox (a forkserver) for all its jobs.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_grade import ASSIGNMENT, write_class  # noqa: E402

REDIS = "redis://127.0.0.1:6379/0"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fresh_schema() -> tuple[str, str]:
    """(schema, DATABASE_URL) of a new PostgreSQL schema, migrated."""
    from sqlalchemy import create_engine, text

    from grader.store.db import Database

    schema = f"bench_scale_{uuid.uuid4().hex[:10]}"
    with create_engine(POSTGRES).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    Database(url).migrate()
    return schema, url


def drop_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    with create_engine(POSTGRES).begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def start_worker(env: dict[str, str], processes: int, log: Path) -> subprocess.Popen:
    celery = str(Path(sys.executable).parent / "celery")
    args = [celery, "-A", "grader.celery_app", "worker", "--concurrency", str(processes), "--loglevel", "INFO"]
    process = subprocess.Popen(args, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if "ready." in log.read_text(errors="replace"):
            return process
        if process.poll() is not None:
            raise SystemExit(f"the worker stopped: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    raise SystemExit("the worker was not ready within 2 minutes")


def stop_worker(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def one_run(folder: Path, processes: int, tmp: Path) -> float:
    """Seconds to grade every notebook of ``folder`` through ``processes`` Celery worker processes."""
    schema, url = fresh_schema()
    env = {
        **os.environ,
        "GRADER_BROKER": REDIS,
        "GRADER_QUEUE": f"bench-scale-{uuid.uuid4().hex[:8]}",
        "DATABASE_URL": url,
        "GRADER_DATA": str(tmp / f"data-{processes}"),
        "GRADER_MAX_WAITING": "0",
    }
    worker = start_worker(env, processes, tmp / f"worker-{processes}.log")
    try:
        grader = str(Path(sys.executable).parent / "grader")
        start = time.perf_counter()
        run = subprocess.run(
            [grader, "grade", str(folder), "--queue", "--format", "csv", "--out", str(tmp / f"grades-{processes}.csv")],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if run.returncode != 0:
            raise SystemExit(f"grader grade --queue failed: {run.stderr[-2000:]}")
        rows = (tmp / f"grades-{processes}.csv").read_text().count("\n") - 1
        if rows != len(list(folder.glob("*.ipynb"))):
            raise SystemExit(f"{rows} results for {len(list(folder.glob('*.ipynb')))} notebooks")
        return seconds
    finally:
        stop_worker(worker)
        drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=int, default=1000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp_name:
        tmp = Path(tmp_name)
        folder = tmp / ASSIGNMENT
        folder.mkdir()
        write_class(folder, options.notebooks)
        print(f"{options.notebooks} notebooks of {ASSIGNMENT}; Celery on Redis, PostgreSQL; {os.cpu_count()} CPUs")
        results = {}
        for processes in options.processes:
            seconds = one_run(folder, processes, tmp)
            results[processes] = seconds
            rate = options.notebooks / seconds
            print(
                f"  {processes} worker process(es): {seconds:6.1f} s, {rate:6.1f} notebooks/s, {1000 / rate:6.1f} ms each"
            )
        if 1 in results and len(results) > 1:
            for processes, seconds in results.items():
                if processes != 1:
                    print(f"  speed-up with {processes} processes: {results[1] / seconds:.2f}x")


if __name__ == "__main__":
    main()
