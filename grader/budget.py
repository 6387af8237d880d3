"""CPU budgets for checking answers: per submission and per part.

Checking runs in the grader's own process (a web worker thread, the CLI,
the notebook batch after the sandbox). The parser bounds what one formula
can cost (length, nodes, nesting, exponents, and the bits of every exact
value: see :mod:`grader.expressions`); these budgets bound the sum, so that
no answer, however many hostile items it holds, and no submission, however
many hostile parts, keeps a worker busy for long.

The clock is the CPU time of the calling thread (``time.thread_time``),
less the time the garbage collector spent in it: what this check consumed,
not time spent waiting while other requests ran on a loaded machine, nor a
collection of other requests' garbage that happened to start here, nor the
wall time of the sympy worker process (which has its own limit,
:data:`grader.checking.symbolic.SYMBOLIC_SECONDS`).

Budgets nest: the grading function runs a whole submission under
:data:`SUBMISSION_SECONDS` and each part under :data:`PART_SECONDS`.
:func:`checkpoint` (called for every formula parsed) raises
:class:`BudgetExceeded` when any enclosing budget is spent; the grading
function turns that into an ``invalid`` part. Work that does not depend on
the answers (computing a variant's reference answers) runs :func:`uncounted`.
This module depends on nothing else of the grader.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SUBMISSION_SECONDS = 0.1  # CPU seconds for checking all parts of a submission (honest: 0.5–7 ms)
PART_SECONDS = 0.02  # CPU seconds for checking one part's answer (honest: under 1 ms warm, a few ms cold)


class BudgetExceeded(BaseException):
    """A budget is used up; the message is a sentence for the student.

    A BaseException, like KeyboardInterrupt: code that tolerates any failure of
    its own (``except Exception``) must not swallow it and go on charging nothing.
    """


_collector = threading.local()


def _on_collection(phase: str, info: dict) -> None:
    """Count the garbage collector's CPU time per thread (it runs in whichever thread allocated)."""
    if phase == "start":
        _collector.started = time.thread_time()
    elif hasattr(_collector, "started"):
        _collector.seconds = _seconds_collecting() + time.thread_time() - _collector.started


def _seconds_collecting() -> float:
    return getattr(_collector, "seconds", 0.0)


gc.callbacks.append(_on_collection)


def _cpu() -> float:
    """CPU seconds of this thread, without the garbage collector's."""
    return time.thread_time() - _seconds_collecting()


class Budget:
    """``seconds`` of this thread's CPU time from now; ``what`` names it in the message."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.deadline = _cpu() + seconds

    def spent(self) -> bool:
        return _cpu() > self.deadline

    @property
    def message(self) -> str:
        return (
            f"This part was not checked: {self.what} took more than its {self.seconds * 1000:.0f} ms of "
            "checking time. Write the answer more simply."
        )


_active: ContextVar[tuple[Budget, ...]] = ContextVar("grader_budgets", default=())


@contextmanager
def limited(seconds: float, what: str) -> Iterator[Budget]:
    """Run the block under a budget of ``seconds`` of CPU, inside any budgets already running."""
    budget = Budget(seconds, what)
    token = _active.set((*_active.get(), budget))
    try:
        yield budget
    finally:
        _active.reset(token)


@contextmanager
def uncounted() -> Iterator[None]:
    """Run the block without charging the running budgets (work that no answer can make costly)."""
    running = _active.get()
    token = _active.set(())
    start = _cpu()
    try:
        yield
    finally:
        used = _cpu() - start
        _active.reset(token)
        for budget in running:
            budget.deadline += used


def checkpoint() -> None:
    """Raise :class:`BudgetExceeded` when a running budget is used up (the outermost one named first)."""
    for budget in _active.get():
        if budget.spent():
            raise BudgetExceeded(budget.message)
