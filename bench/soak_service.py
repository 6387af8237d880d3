"""Soak test of the service: sustained load for minutes, memory and throughput sampled, the store checked.

    python bench/soak_service.py [--seconds 600] [--connections 16] [--rate 0] [--database URL] [--json]

Starts ``gunicorn -w 2 'app:app'`` on loopback (a fresh SQLite store unless
``--database`` names one; rate limits off) and drives it with ``wrk`` posting
full ``lec4-homework`` submissions with a TA token, as ``bench/bench_service.py``
does: as fast as the connections go (the benchmark's rate), or at about
``--rate`` requests per second. The load runs in back-to-back ``wrk`` segments
of ``--interval`` seconds; after each one the resident memory (RSS) of every
gunicorn worker and the segment's throughput are sampled.

At the end it checks the store: every 2xx answer has its submission row
(none lost), no more rows than requests sent (none doubled: the requests in
flight when a segment stopped were never answered to wrk, but may be stored), every row ``done`` with its part rows
and no part rows without a submission (nothing half-written). Then it compares
the first and the last window (``--window``, 60 s by default, shorter for
short runs): memory is stable when no worker's RSS grew by more than
``--max-rss-growth`` (fraction) plus 5 MB, throughput when the last window
kept at least ``--min-throughput`` of the first. Exit code 0 when every check
passes, 1 otherwise; ``--json`` prints the whole report as JSON.

Needs ``wrk`` (Debian package) and gunicorn.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_service import SUBMISSION, parse_wrk, service_env, start_gunicorn, stop, stop_on_sigterm  # noqa: E402

# The benchmark's requests (a different student each time, of 300), and at the end the number of requests
# wrk *sent* (answered or not): rows in the store can never exceed it.
LUA = """
counter = 0
local token = "%(token)s"
local template = [==[%(body)s]==]
local threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
setup = function(thread)
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  local student = string.format("s%%04d", counter %% 300)
  local body = string.gsub(template, "s0000", student, 1)
  return wrk.format(nil, "/api/grade", nil, body)
end
done = function(summary, latency, requests)
  local sent = 0
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("counter")
  end
  io.write(string.format("SENT %%d\\n", sent))
end
"""

# Pace each connection so that all of them together send about ``rate`` requests a second.
PACED = """
local pause = %(pause_ms)d
delay = function()
  return pause
end
"""


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's child processes (its workers)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return sorted(int(pid) for pid in children)


def rss_mb(pid: int) -> float | None:
    """A process's resident memory in MB, or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def store_check(db: Any, before: int) -> dict[str, int]:
    """Counts of what the run left in the store (rows created after ``before`` existed)."""
    from sqlalchemy import text

    with db.read() as session:

        def scalar(sql: str) -> int:
            return int(session.execute(text(sql)).scalar() or 0)

        return {
            "rows": scalar("SELECT count(*) FROM submissions") - before,
            "not_done": scalar("SELECT count(*) FROM submissions WHERE status <> 'done' OR result IS NULL"),
            "without_parts": scalar(
                "SELECT count(*) FROM submissions s WHERE NOT EXISTS "
                "(SELECT 1 FROM part_results p WHERE p.submission_id = s.id)"
            ),
            "orphan_parts": scalar(
                "SELECT count(*) FROM part_results p WHERE NOT EXISTS "
                "(SELECT 1 FROM submissions s WHERE s.id = p.submission_id)"
            ),
            "part_rows": scalar("SELECT count(*) FROM part_results"),
        }


def window_mean(samples: list[dict[str, Any]], key: str, first: bool, window: float) -> float:
    """The mean of ``key`` over the samples of the first (or last) ``window`` seconds."""
    end = samples[-1]["t"]
    chosen = [s for s in samples if (s["t"] <= window if first else s["t"] > end - window)] or samples[:1]
    return statistics.fmean(s[key] for s in chosen)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from grader.store.db import Database
    from grader.store.users import add_user

    work = Path(tempfile.mkdtemp(prefix="soak-service-"))
    url = args.database or f"sqlite:///{work / 'grader.db'}"
    env = service_env(work, url, GRADER_RATE_LIMIT="0", GRADER_CPU_SHARE="0")
    db = Database(url)
    db.migrate()
    token = add_user(f"soak-ta-{os.getpid()}", "ta", db=db)
    with db.read() as session:
        from sqlalchemy import text

        before = int(session.execute(text("SELECT count(*) FROM submissions")).scalar() or 0)
    script = work / "post.lua"
    lua = LUA % {"token": token, "body": json.dumps(SUBMISSION)}
    if args.rate:
        lua += PACED % {"pause_ms": max(1, round(1000 * args.connections / args.rate))}
    script.write_text(lua)

    process, base = start_gunicorn("app:app", env, ROOT, work / "gunicorn.log")
    samples: list[dict[str, Any]] = []
    segments: list[dict[str, float]] = []
    first_workers = worker_pids(process.pid)
    started = time.monotonic()
    try:
        while (elapsed := time.monotonic() - started) < args.seconds - 0.5:
            seconds = max(1, min(args.interval, round(args.seconds - elapsed)))
            command = [
                "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s",
                "--timeout", "10s", "--latency", "-s", str(script), base,
            ]  # fmt: skip
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            segment = parse_wrk(output)
            segment["sent"] = int(re.search(r"^SENT (\d+)$", output, re.M).group(1))
            segments.append(segment)
            pids = worker_pids(process.pid)
            memory = {pid: rss_mb(pid) for pid in pids}
            samples.append(
                {
                    "t": round(time.monotonic() - started, 1),
                    "rps": segment["rps"],
                    "p99_ms": segment["p99"],
                    "errors": segment["non_2xx"] + segment["socket_errors"],
                    "rss_mb": {str(pid): round(mb, 1) for pid, mb in memory.items() if mb is not None},
                    "rss_max_mb": round(max((mb for mb in memory.values() if mb), default=0.0), 1),
                }
            )
            if not args.json:
                print(
                    f"{samples[-1]['t']:7.1f} s  {segment['rps']:8.0f} req/s  p99 {segment['p99']:7.1f} ms  "
                    f"errors {samples[-1]['errors']:4.0f}  RSS "
                    + "  ".join(f"{mb:.1f}" for mb in memory.values() if mb is not None)
                    + " MB",
                    flush=True,
                )
        time.sleep(1.0)  # the requests in flight when the last segment stopped are answered
        last_workers = worker_pids(process.pid)
    finally:
        stop(process)

    store = store_check(db, before)
    db.dispose()
    answered = int(sum(s["requests"] - s["non_2xx"] for s in segments))
    sent = int(sum(s["sent"] for s in segments))
    window = min(args.window, max(args.interval, samples[-1]["t"] / 3))
    rss_first = window_mean(samples, "rss_max_mb", True, window)
    rss_last = window_mean(samples, "rss_max_mb", False, window)
    rps_first = window_mean(samples, "rps", True, window)
    rps_last = window_mean(samples, "rps", False, window)
    checks = {
        "none_lost": store["rows"] >= answered,
        "none_doubled": store["rows"] <= sent,
        "nothing_half_written": store["not_done"] == 0 and store["without_parts"] == 0 and store["orphan_parts"] == 0,
        "no_errors": all(s["non_2xx"] + s["socket_errors"] == 0 for s in segments),
        "workers_not_restarted": first_workers == last_workers and len(first_workers) == 2,
        "memory_stable": rss_last <= rss_first * (1 + args.max_rss_growth) + 5,
        "throughput_stable": rps_last >= args.min_throughput * rps_first,
    }
    report = {
        "seconds": samples[-1]["t"],
        "connections": args.connections,
        "rate": args.rate or None,
        "database": "sqlite" if url.startswith("sqlite") else url.split(":", 1)[0],
        "requests_sent": sent,
        "requests_2xx": answered,
        "in_flight_at_stops": sent - int(sum(s["requests"] for s in segments)),
        "store": store,
        "window_seconds": window,
        "rps_first": round(rps_first, 1),
        "rps_last": round(rps_last, 1),
        "rss_first_mb": round(rss_first, 1),
        "rss_last_mb": round(rss_last, 1),
        "p99_ms_max": max(s["p99_ms"] for s in samples),
        "samples": samples,
        "checks": checks,
        "ok": all(checks.values()),
    }
    if args.keep:
        report["work"] = str(work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return report


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600, help="length of the run (default 10 minutes)")
    parser.add_argument("--interval", type=int, default=10, help="seconds between samples")
    parser.add_argument("--window", type=float, default=60, help="seconds compared at the start and the end")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rate", type=float, default=0, help="about this many requests/s (0: as fast as possible)")
    parser.add_argument("--database", default=None, help="a SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--max-rss-growth", type=float, default=0.2, help="allowed RSS growth, as a fraction")
    parser.add_argument("--min-throughput", type=float, default=0.8, help="last/first window throughput at least")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, gunicorn log)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if args.seconds < args.interval:
        raise SystemExit("--seconds must be at least --interval")
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{report['seconds']:.0f} s, gunicorn -w 2, wrk -c{args.connections}"
            + (f" at ~{args.rate:g} req/s" if args.rate else " (as fast as it goes)")
            + f"; first vs last {report['window_seconds']:.0f} s:"
        )
        print(f"  throughput {report['rps_first']:.0f} -> {report['rps_last']:.0f} req/s")
        print(f"  worker RSS (largest) {report['rss_first_mb']:.1f} -> {report['rss_last_mb']:.1f} MB")
        store = report["store"]
        print(
            f"  store: {store['rows']} rows for {report['requests_2xx']} 2xx answers and "
            f"{report['requests_sent']} requests sent ({report['in_flight_at_stops']} in flight when wrk stopped); "
            f"{store['not_done']} not done, "
            f"{store['without_parts']} without part rows, {store['orphan_parts']} orphan part rows"
        )
        for name, passed in report["checks"].items():
            print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
