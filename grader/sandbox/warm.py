"""One warm, self-checked sandbox per process, for every path that grades notebooks one at a time.

The command line starts a :class:`~grader.sandbox.pool.Sandbox` per batch;
the service's job threads, a Celery worker process and a gunicorn worker grade
one notebook per job, and a cold sandbox per notebook costs ~0.5 s of
interpreter start. :func:`warm_sandbox` starts the process's sandbox on first
use, proves it with :func:`~grader.sandbox.selfcheck.self_check` (raising
:class:`~grader.sandbox.selfcheck.JailBroken` instead of grading with a
broken jail), and hands the same one to every later job. A forked child
(Celery's prefork pool, gunicorn) never inherits it: it starts its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import Any

from grader.sandbox.selfcheck import self_check

_lock = threading.Lock()
_warm: dict[str, Any] = {}
_size = {"workers": 1}


def size_warm_sandbox(workers: int) -> None:
    """How many notebooks this process grades at once (the service's job threads): its forkservers."""
    _size["workers"] = max(1, int(workers))


def warm_sandbox(declared: Iterable[str] = ()) -> Any:
    """This process's sandbox (see :func:`size_warm_sandbox`), started and self-checked on first use."""
    from grader.sandbox.pool import Sandbox

    with _lock:
        sandbox = _warm.get("sandbox")
        if sandbox is None:
            sandbox = Sandbox(workers=_size["workers"])
            try:
                self_check(sandbox, declared)
            except BaseException:
                sandbox.close()
                raise
            _warm["sandbox"] = sandbox
        return sandbox


def checked_sandbox(workers: int = 1, limits: Any = None, declared: Iterable[str] = (), started: Any = None) -> Any:
    """A sandbox that passed the self-check (the caller closes it); raises ``JailBroken`` (closing it).

    ``started``: a sandbox the caller started with ``wait=False`` before other
    work (its forkservers start meanwhile); else a new one is started here.
    """
    from grader.sandbox.pool import Limits, Sandbox

    sandbox = started if started is not None else Sandbox(workers=workers, limits=limits or Limits())
    try:
        self_check(sandbox, declared)
    except BaseException:
        sandbox.close()
        raise
    return sandbox


def _forget_after_fork() -> None:
    """In a forked child: the parent's forkservers are not ours to use (their pipes are shared)."""
    global _lock
    _lock = threading.Lock()
    _warm.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
