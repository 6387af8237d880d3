"""A second Database object in a process must not drop the SQLite locks the first one holds.

POSIX record locks belong to the process: closing *any* descriptor of the
database file releases all of them. If opening a Database did that, another
process (``grader users add`` beside a running server) would believe it is
the last one connected, delete the write-ahead log on exit, and the server
would go on reading and writing a deleted file: new users unknown to it, its
own writes lost.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grader.store.db import Database
from grader.store.users import add_user, authenticate


def test_a_user_added_by_another_process_is_seen_by_a_running_service(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'grader.db'}"
    service = Database(url)
    service.migrate()
    first = add_user("s001", db=service)  # the service's connections now hold their locks
    assert authenticate(service, first) is not None
    Database(url)  # another Database object in the same process (a command, a job queue, …)
    added = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from grader.store.db import Database; from grader.store.users import add_user;"
            "print(add_user('s002', db=Database(sys.argv[1])))",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert (tmp_path / "grader.db-wal").exists()  # the log the service is using was not deleted under it
    assert authenticate(service, added) is not None
    service.dispose()
