"""A short soak of the service: gunicorn -w 2 under steady load, memory and throughput sampled, the store checked.

Runs ``bench/soak_service.py`` for 20 s at about 100 requests/s (the full run
is 10 minutes as fast as the connections go; see docs/service.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_short_soak_keeps_every_submission_and_stays_stable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(GRADER_DATA=str(tmp_path / "data"), GRADER_CACHE=str(tmp_path / "cache"))
    command = [
        sys.executable, str(ROOT / "bench" / "soak_service.py"),
        "--seconds", "20", "--interval", "5", "--rate", "100", "--connections", "4", "--json",
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    report = json.loads(finished.stdout)
    assert finished.returncode == 0, (report["checks"], finished.stderr[-2000:])
    assert all(report["checks"].values())
    assert len(report["samples"]) == 4 and all(len(s["rss_mb"]) == 2 for s in report["samples"])
    assert 20 * 50 <= report["requests_2xx"] <= 20 * 110  # paced near the asked rate
    store = report["store"]
    assert report["requests_2xx"] <= store["rows"] <= report["requests_sent"]
    assert report["requests_sent"] - report["requests_2xx"] <= 4 * len(report["samples"])  # only those in flight
    assert store["part_rows"] == 7 * store["rows"]  # seven parts per lec4-homework submission, once each
    assert report["rss_last_mb"] < 300
