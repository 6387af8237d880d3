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
collection of other requests' garbage that happened to start here.

The sympy worker processes that compare formulas
(:mod:`grader.checking.symbolic`) spend CPU in other processes; that is
counted apart: each budget also holds *worker seconds*
(:data:`SYMBOLIC_PART_SECONDS` an answer, :data:`SYMBOLIC_SUBMISSION_SECONDS`
a submission), a worker never runs a comparison for longer than the seconds
left (it stops the comparison itself), and a comparison stopped that way, or one
asked for once they are spent, raises :class:`BudgetExceeded` like the
thread's own budget.

Whose work it is: an :class:`Account` (:func:`charged_to`) names the caller
(the key of their CPU share, see :mod:`grader.web.service`) and collects the
CPU seconds spent for them outside the asking thread (what worker processes
report, and what :func:`yielding` grading threads use), so that the request
or job that asked for them can charge them to that caller.

Budgets nest: the grading function runs a whole submission under
:data:`SUBMISSION_SECONDS` and each part under :data:`PART_SECONDS`.
:func:`checkpoint` (called for every formula parsed) raises
:class:`BudgetExceeded` when any enclosing budget is spent; the grading
function turns that into an ``invalid`` part. Work that does not depend on
the answers (computing a variant's reference answers) runs :func:`uncounted`.
This module depends on nothing else of the grader.
"""

from __future__ import annotations

import contextvars
import gc
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

SUBMISSION_SECONDS = 0.1  # CPU seconds for checking all parts of a submission (honest: 0.5–7 ms)
PART_SECONDS = 0.02  # CPU seconds for checking one part's answer (honest: under 1 ms warm, a few ms cold)
# sympy worker CPU seconds for one answer (its comparisons with the reference and each misconception; honest
# formulas: 1 ms median, 0.2 s for the slowest known proof) and for all the answers of one submission
SYMBOLIC_PART_SECONDS = 1.0
SYMBOLIC_SUBMISSION_SECONDS = 2.0
TOO_COSTLY = "This part is too costly to check; simplify it"
YIELD_AFTER_SECONDS = 0.02  # CPU seconds of grading at the server's priority before it yields (honest: 0.5–7 ms)
YIELD_NICENESS = 10
MAX_IDLE_GRADERS = 8  # grading threads kept per process between calls (one per concurrent request)

T = TypeVar("T")


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
    """``seconds`` of this thread's CPU time from now, and ``worker_seconds`` of sympy workers' CPU time;
    ``what`` names it in the message."""

    def __init__(self, seconds: float, what: str, worker_seconds: float = math.inf) -> None:
        self.seconds = seconds
        self.what = what
        self.deadline = _cpu() + seconds
        self.worker_seconds = worker_seconds
        self.worker_left = worker_seconds

    def spent(self) -> bool:
        return _cpu() > self.deadline

    @property
    def message(self) -> str:
        """One sentence for the student: the part was not checked, and why."""
        return f"{TOO_COSTLY}: {self.what} took more than its {self.seconds * 1000:.0f} ms of checking time."

    @property
    def worker_message(self) -> str:
        return (
            f"{TOO_COSTLY}: {self.what} took more than its {self.worker_seconds * 1000:.0f} ms of time "
            "for comparing formulas."
        )


_active: ContextVar[tuple[Budget, ...]] = ContextVar("grader_budgets", default=())


@contextmanager
def limited(seconds: float, what: str, worker_seconds: float = math.inf) -> Iterator[Budget]:
    """Run the block under a budget of ``seconds`` of CPU (and ``worker_seconds`` of sympy workers' CPU), inside
    any budgets already running."""
    budget = Budget(seconds, what, worker_seconds)
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


def worker_seconds_left() -> float | None:
    """The sympy worker seconds the running budgets leave (the least of them), or None when none is running."""
    running = _active.get()
    if not running:
        return None
    return max(0.0, min(budget.worker_left for budget in running))


def spend_worker(seconds: float, *, stopped: bool = False) -> None:
    """Count ``seconds`` of a worker process's CPU: charged to the current :class:`Account` and taken from the
    running budgets. ``stopped``: the worker was stopped at the seconds left (the comparison did not finish), so
    the answer is refused: raises :class:`BudgetExceeded` when a budget is running."""
    account = _account.get()
    if account is not None:
        account.add(seconds)
    running = _active.get()
    for budget in running:
        budget.worker_left -= seconds
    if running and stopped:
        spent = min(running, key=lambda budget: budget.worker_left)
        raise BudgetExceeded(spent.worker_message)


def refuse_if_workers_spent() -> None:
    """Raise :class:`BudgetExceeded` when a running budget has no worker seconds left (before asking a worker)."""
    for budget in _active.get():
        if budget.worker_left <= 0:
            raise BudgetExceeded(budget.worker_message)


@dataclass
class Account:
    """Whose checking this is: ``key`` (the caller's CPU share, ``user:s001``; None for no one in particular),
    and the CPU seconds spent for it outside the asking thread (``worker_seconds``: worker processes, and
    :func:`yielding` threads)."""

    key: str | None = None
    worker_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self.worker_seconds += max(0.0, seconds)


_account: ContextVar[Account | None] = ContextVar("grader_account", default=None)


@contextmanager
def charged_to(key: str | None) -> Iterator[Account]:
    """Run the block on behalf of ``key``: worker processes' CPU is collected in the :class:`Account` yielded."""
    account = Account(key)
    token = _account.set(account)
    try:
        yield account
    finally:
        _account.reset(token)


def open_account(key: str | None) -> tuple[Account, object]:
    """:func:`charged_to` for a caller that opens and closes it in two places (a request's start and end): the
    account, and the token to give :func:`close_account`."""
    account = Account(key)
    return account, _account.set(account)


def close_account(token: object) -> None:
    try:
        _account.reset(token)  # type: ignore[arg-type]
    except ValueError:  # opened in another context: forget it here
        _account.set(None)


def current_account() -> Account | None:
    """The account the running work is charged to, or None."""
    return _account.get()


def yielding(function: Callable[..., T], *args: Any, after: float = YIELD_AFTER_SECONDS) -> T:
    """``function(*args)`` in a thread of its own that runs at the server's priority for its first ``after`` CPU
    seconds, then at a lower one (``YIELD_NICENESS``): a dear request gives way to everyone else's, on the same
    cores, instead of slowing them while it spends its budget. Its CPU time is added to the current
    :class:`Account` (the request's thread does not see it), and the running budgets and account come along
    (the thread runs in a copy of this context). What takes less than ``after`` (every honest submission) is
    never lowered.

    The threads are kept for the next call while their priority is the server's (starting one for each call
    cost about as much as grading an honest submission, and kept the request waiting for it); a thread that was
    lowered ends with its call, because a thread may lower its own priority but never raise it again."""
    grader = _Grader.take()
    job = _Job(function, args)
    grader.jobs.put(job)
    lowered = finished = False
    try:
        while not job.done.acquire(timeout=0.005):
            if lowered or grader.clock is None or job.started is None:
                continue
            try:
                if time.clock_gettime(grader.clock) - job.started >= after:
                    lowered = True
                    os.setpriority(os.PRIO_PROCESS, grader.native_id, YIELD_NICENESS)
            except (OSError, AttributeError):
                lowered = True
        finished = True
    finally:
        grader.give_back(finished=finished, lowered=lowered)
    account = _account.get()
    if account is not None:
        account.add(job.cpu)
    if job.error is not None:
        raise job.error
    return job.value  # type: ignore[return-value]


class _Job:
    """One :func:`yielding` call: run in the grading thread, in a copy of the caller's context."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.function, self.args = function, args
        self.context = contextvars.copy_context()
        self.done = threading.Lock()
        self.done.acquire()  # released when the call has returned or raised
        self.started: float | None = None  # the thread's CPU clock when the call began
        self.cpu = 0.0
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        start = self.started = time.thread_time()
        try:
            self.value = self.context.run(self.function, *self.args)
        except BaseException as exc:  # given back to the caller
            self.error = exc
        finally:
            self.cpu = time.thread_time() - start
            self.done.release()


class _Grader:
    """A thread that runs :func:`yielding` calls one at a time, kept idle between them (at most
    :data:`MAX_IDLE_GRADERS` per process) while its priority is the server's."""

    _idle: list[_Grader] = []
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        thread = threading.Thread(target=self._serve, name="grading", daemon=True)
        thread.start()
        self.native_id = thread.native_id or 0
        try:
            self.clock: int | None = time.pthread_getcpuclockid(thread.ident or 0)
        except (OSError, AttributeError):
            self.clock = None

    def _serve(self) -> None:
        while (job := self.jobs.get()) is not None:
            job.run()

    @classmethod
    def take(cls) -> _Grader:
        with cls._lock:
            if cls._idle:
                return cls._idle.pop()
        return cls()

    def give_back(self, *, finished: bool, lowered: bool) -> None:
        """Keep the thread for the next call, unless it was lowered (or is still running a call whose caller
        stopped waiting): it then ends once its call has."""
        if finished and not lowered:
            with self._lock:
                if len(self._idle) < MAX_IDLE_GRADERS:
                    self._idle.append(self)
                    return
        self.jobs.put(None)

    @classmethod
    def forget(cls) -> None:
        """In a forked child: none of the parent's threads run there."""
        cls._idle = []
        cls._lock = threading.Lock()


os.register_at_fork(after_in_child=_Grader.forget)
