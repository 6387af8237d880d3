"""Symbolic equivalence of formulas, with a hard time limit that works in any thread.

:func:`equivalent` asks sympy whether ``student − reference`` simplifies to
0. sympy runs in a separate worker process (started with ``spawn``, so it is
safe inside a threaded web server), and the caller waits at most
``SYMBOLIC_SECONDS``; a worker that overruns is killed and replaced. When
sympy cannot decide in time, or does not find 0, the formulas are compared
numerically at random points, which settles most cases: different
formulas differ somewhere. Both sides are whitelisted :class:`Formula`
trees; only their text crosses to the worker, where it is parsed again.
"""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import numpy as np

from grader.expressions import Formula, parse

SYMBOLIC_SECONDS = 1.0
STARTUP_SECONDS = 15.0  # starting Python and importing sympy, once per worker
SAMPLES = 24


def equivalent(student: Formula, reference: Any) -> tuple[bool, str]:
    """(equal?, how): how is ``symbolic``, ``numeric`` or ``too-complex``."""
    target = reference if isinstance(reference, Formula) else parse(str(reference))
    verdict = _WORKER.simplifies_to_zero(student.text, target.text, sorted(student.names | target.names))
    if verdict is True:
        return True, "symbolic"
    numeric = _numerically_equal(student, target)
    if numeric is None:
        return False, "too-complex"
    return numeric, "numeric"


def _numerically_equal(a: Formula, b: Formula) -> bool | None:
    """Compare at random points; None when neither can be evaluated anywhere."""
    names = tuple(sorted(a.names | b.names))
    rng = np.random.default_rng(20261126)
    points = rng.uniform(-3.0, 3.0, size=(SAMPLES, max(len(names), 1)))
    left = np.broadcast_to(a.compile(names)(*points.T[: len(names)]), (SAMPLES,))
    right = np.broadcast_to(b.compile(names)(*points.T[: len(names)]), (SAMPLES,))
    usable = np.isfinite(left) & np.isfinite(right)
    if usable.sum() < 3:
        return None
    return bool(np.allclose(left[usable], right[usable], rtol=1e-8, atol=1e-10))


def _serve(connection: Any) -> None:
    """Worker loop: say ``ready`` once sympy is imported, then answer (student, reference) texts
    with True/False/None (sympy's verdict)."""
    import sympy

    connection.send("ready")
    while True:
        try:
            student, reference, names = connection.recv()
        except EOFError:
            return
        try:
            a, b = parse(student, names), parse(reference, names)
            symbols = {name: sympy.Symbol(name, real=True) for name in a.names | b.names}
            difference = sympy.simplify(a.to_sympy(symbols) - b.to_sympy(symbols))
            connection.send(bool(difference == 0))
        except Exception:  # any failure of sympy is "undecided", not a dead worker
            connection.send(None)


class _SympyWorker:
    """One sympy process; requests are serialised, an overrun kills it.

    A killed worker is replaced at once, so its successor imports sympy while
    nobody waits; the next request waits for it to be ready (up to
    ``STARTUP_SECONDS``) and then gets the usual ``SYMBOLIC_SECONDS``. Thus a
    slow formula costs its own request the time limit, not the requests after it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Any = None
        self._ready = False

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True, name="grader-sympy")
        self._process.start()
        child.close()
        self._connection = parent
        self._ready = False

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=1)
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None
        self._ready = False

    def _wait_until_ready(self) -> None:
        if not self._ready:
            if not self._connection.poll(STARTUP_SECONDS) or self._connection.recv() != "ready":
                raise EOFError("the sympy worker did not start")
            self._ready = True

    def simplifies_to_zero(
        self, student: str, reference: str, names: list[str], timeout: float = SYMBOLIC_SECONDS
    ) -> bool | None:
        with self._lock:
            try:
                if self._process is None or not self._process.is_alive():
                    self._stop()
                    self._start()
                self._wait_until_ready()
                self._connection.send((student, reference, names))
                if self._connection.poll(timeout):
                    return self._connection.recv()
            except (OSError, EOFError):
                pass
            self._stop()
            try:
                self._start()  # the successor gets ready in the background
            except OSError:
                pass
            return None


_WORKER = _SympyWorker()
