"""Run hostile notebook code in warm, isolated, resource-limited children.

>>> with Sandbox(workers=2) as sandbox:                      # doctest: +SKIP
...     outcome = sandbox.run(["import numpy as np", "x = np.arange(3)"], ["x"])
>>> outcome.values                                          # doctest: +SKIP
{'x': [0, 1, 2]}

A :class:`Sandbox` owns ``workers`` forkservers (``python -m
grader.sandbox.forkserver``), each forking one child per notebook; the
grader talks to each child directly and reads its frames as hostile input
(:mod:`grader.sandbox.channel`).  See docs/sandbox.md.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from grader.sandbox.channel import Collector, bounded_text, describe_exit, verdict
from grader.sandbox.frames import FrameReader, split_message, write_frame
from grader.sandbox.limits import Limits

log = logging.getLogger("grader.sandbox")
UID_BASE = 1_000_000_000
_UID_SLOTS = itertools.count()


_WARNED: set[str] = set()


def _warn_once(missing: list[str]) -> None:
    """Log each missing protection once per grader process (on stderr unless logging is configured)."""
    for item in missing:
        if item not in _WARNED:
            _WARNED.add(item)
            log.warning("sandbox protection missing: %s", item)


def _next_uid() -> int:
    """A uid for one worker, unique per grader process and worker.

    RLIMIT_NPROC counts processes per uid machine-wide, so every worker,
    including those of other grader processes on the machine, gets its own
    uid: ``UID_BASE + (pid << 6) + n`` (64 workers per process).
    """
    return UID_BASE + ((os.getpid() & 0x3FFFFF) << 6) + (next(_UID_SLOTS) & 63)


_COUNTER = itertools.count(1)


@dataclass
class Probe:
    """Call ``function`` (defined by the notebook) on hidden inputs.

    ``args``/``kwargs`` are plain JSON data.  Inside them,
    ``{"quadratic_gradient": {"A": [[...]], "b": [...]}}`` becomes the callable
    ``df(x) = A @ x + b`` (float in and out when A is 1x1 and x a scalar,
    ndarray otherwise) and ``{"ndarray": [...]}`` a float array; both are built
    by trusted code in the child, nothing is evaluated.
    """

    function: str
    args: list
    kwargs: dict = field(default_factory=dict)


@dataclass
class RunOutcome:
    """What one notebook produced.

    ``values``: requested name -> plain JSON data, for names bound after the
    last cell that ran (missing names absent); ``value_errors``: name -> why a
    bound value could not be sent (unsupported type, too large);
    ``probes``: per probe ``{"result": data}`` or ``{"error": "Name: message"}``;
    ``cell_errors``: ``{"cell": index, "ename", "evalue"}`` (index into the
    cells given); ``error``: a whole-run failure a TA must see, ``None`` if
    the notebook ran to the end; ``cells_run``: cells that completed;
    ``degraded``: protections missing on this machine (empty when fully
    isolated); ``peak_rss_mb``: the child's peak resident memory;
    ``peak_memory_mb``: the peak of all memory the notebook held (its
    cgroup's high-water mark: processes, page cache, shared memory, tmpfs,
    memfd files), ``None`` without a memory cgroup.

    Asked for with ``extras=True`` (hints for a TA, never graded):
    ``outputs``: cell index -> what the cell printed (and the value its last
    line shows), bounded; ``extras``: the notebook's other top-level names
    bound to plain values, bounded. Always: ``history``: requested name ->
    ``[(cell index, value)]``, the cells after which its value changed
    (None when deleted or None; the first value set when small, else
    :data:`grader.sandbox.channel.TOO_LARGE`).
    """

    values: dict[str, object]
    probes: list[object]
    cell_errors: list[dict]
    error: str | None
    seconds: float
    value_errors: dict[str, str] = field(default_factory=dict)
    cells_run: int = 0
    degraded: list[str] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    peak_memory_mb: float | None = None
    outputs: dict[int, str] = field(default_factory=dict)
    extras: dict[str, object] = field(default_factory=dict)
    history: dict[str, list[tuple[int, object]]] = field(default_factory=dict)


class InfrastructureError(Exception):
    """The grader failed, not the notebook: the sandbox itself, or a notebook grader that reported it did not
    grade (:mod:`grader.jobs`). Never a student's zero."""


# ---------------------------------------------------------------------------
# One forkserver.
# ---------------------------------------------------------------------------
def _matplotlib_cache() -> str:
    """A private, persistent matplotlib config dir for the forkservers (font cache)."""
    from grader.paths import cache_dir

    path = os.path.join(cache_dir(), "matplotlib")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path
    except OSError:
        return tempfile.mkdtemp(prefix="optgrader-mpl-")


def _forkserver_env() -> dict[str, str]:
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    cache = _matplotlib_cache()
    threads = dict.fromkeys(
        ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"],
        "1",
    )
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": tempfile.gettempdir(),
        "PYTHONPATH": package_parent,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": cache,
        **threads,
    }


FORKSERVER_MODULES = ("forkserver", "child", "jail", "linux", "seccomp", "cgroup", "frames", "limits")
_compiled: list[str] = []


def compile_forkserver_modules() -> None:
    """Write the compiled form of the modules the forkserver imports, once per process, as the grader's Python does
    for its own: the forkserver writes none (it runs with ``PYTHONDONTWRITEBYTECODE``), so without them each one
    compiles these 2,800 lines again at every start. Nothing is written where the grader's Python would not."""
    if sys.dont_write_bytecode or _compiled:
        return
    import importlib.util
    import py_compile

    here = os.path.dirname(os.path.realpath(__file__))
    for name in FORKSERVER_MODULES:
        source = os.path.join(here, f"{name}.py")
        try:
            cached = importlib.util.cache_from_source(source)
            if os.path.exists(cached) and os.stat(cached).st_mtime_ns >= os.stat(source).st_mtime_ns:
                continue
            py_compile.compile(source, cfile=cached, doraise=True)
        except (OSError, ValueError, NotImplementedError, py_compile.PyCompileError):
            continue  # a read-only checkout, say: each forkserver compiles them, as before
    _compiled.append(here)


def environment_path() -> list[str]:
    """The grader's own module search path: the jail shows it, so notebooks import what the grader's Python has.

    The first entry is left out when it is the folder the grader was started
    from (a script's folder, or the working directory for ``python -m``): it is
    where the command ran, not the environment.
    """
    started_from = not (sys.flags.safe_path or sys.flags.isolated)
    entries = sys.path[1:] if started_from else sys.path
    return [entry for entry in entries if entry and os.path.isabs(entry) and os.path.isdir(entry)]


def secret_paths() -> list[str]:
    """What a notebook must never see even where it lies inside the environment: the checkout and the course's files."""
    from grader import paths

    found = [paths.PROJECT_ROOT, paths.exercises_dir(), paths.solutions_dir(), paths.data_dir(), paths.cache_dir()]
    return [str(path) for path in found]


MAX_KNOWN_CELLS = 16  # the grader's own cells a forkserver compiles ahead (Sandbox.learn); one per assignment
PRELOAD = ("numpy", "matplotlib.pyplot", "sympy")  # what the course's notebooks import, loaded once per forkserver


class Worker:
    """A handle on one forkserver process; used by one thread at a time."""

    def __init__(
        self, slot: int, preload: Sequence[str], disabled: Sequence[str], python: str, hide: Sequence[str] = ()
    ) -> None:
        self.slot = slot
        self.hide = [*secret_paths(), *hide]
        self.preload = list(preload)
        self.disabled = list(disabled)  # protections switched off: "namespaces", "cgroups", "seccomp"
        self.python = python
        self.proc: subprocess.Popen | None = None
        self.report: dict = {}
        self.uid = _next_uid()
        self.taught = 0  # how many of the sandbox's known cells this forkserver was given

    # -- lifecycle ---------------------------------------------------------
    def spawn(self) -> None:
        """Start the forkserver (without waiting for it to be ready)."""
        compile_forkserver_modules()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        uid = self.uid
        command = [self.python, "-P", "-s", "-m", "grader.sandbox.forkserver", "--fd-socket", str(theirs.fileno())]
        command += ["--uid", str(uid), "--gid", str(uid), "--preload", ",".join(self.preload)]
        command += ["--search-path", os.pathsep.join(environment_path()), "--hide", os.pathsep.join(self.hide)]
        command += [f"--no-{name}" for name in self.disabled]
        try:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
                env=_forkserver_env(),
                cwd="/",
                start_new_session=True,
            )
        finally:
            theirs.close()
        self.fd_socket = ours
        self.reader = FrameReader(self.proc.stdout.fileno())
        self.taught = 0

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait for the forkserver's hello; raise :class:`InfrastructureError` otherwise."""
        try:
            hello = self.reader.read(timeout)
        except (TimeoutError, ValueError, OSError) as exc:
            raise InfrastructureError(f"forkserver did not start: {exc}") from exc
        if not hello or hello.get("op") != "hello":
            raise InfrastructureError(f"forkserver did not start (exit code {self.proc.poll()})")
        self.report = hello.get("report", {})

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def stop(self) -> None:
        """Stop the forkserver and whatever child it runs."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.fd_socket.close()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- one notebook ------------------------------------------------------
    def run(
        self,
        cells: list[str],
        names: list[str],
        probes: list[dict],
        limits: Limits,
        extras: bool = False,
        known: Sequence[str] = (),
    ) -> RunOutcome:
        """Run one notebook; raise :class:`InfrastructureError` if the sandbox failed.

        ``known``: the grader's own cells (:meth:`Sandbox.learn`); those this forkserver has not been given yet
        are sent first.
        """
        if not self.alive:
            self.restart()
        started = time.monotonic()
        run_id = next(_COUNTER)
        try:
            if len(known) > self.taught:
                write_frame(self.proc.stdin.fileno(), {"op": "learn", "cells": list(known[self.taught :])})
                self.taught = len(known)
            write_frame(self.proc.stdin.fileno(), {"op": "run", "id": run_id, "limits": asdict(limits)})
            reply = self._control(run_id, 15)
            if reply.get("op") != "started":
                raise InfrastructureError(bounded_text(reply.get("message", "forkserver refused to fork")))
            sock = self._receive_socket(15)
        except (OSError, ValueError, TimeoutError) as exc:
            raise InfrastructureError(f"forkserver: {exc}") from exc
        collector = Collector(len(cells), names, len(probes), int(reply["pid"]))
        with sock:
            request = {
                "cells": cells,
                "names": names,
                "probe_count": len(probes),
                "probe_seconds": limits.probe_seconds,
            }
            if extras:
                request["extras"] = True
            _send_frame(sock, request)
            exited = self._pump(sock, collector, run_id, probes, started + limits.wall_seconds + 15)
        if not collector.ready:
            raise InfrastructureError(f"sandbox setup failed: {collector.setup_error or describe_exit(exited)}")
        return RunOutcome(
            values=collector.values,
            probes=[p or {"error": "not run: the notebook stopped before this probe"} for p in collector.probes],
            cell_errors=collector.cell_errors,
            error=verdict(collector, exited, limits),
            seconds=0.0,
            value_errors=collector.value_errors,
            cells_run=collector.cells_run,
            degraded=list(self.report.get("missing", [])),
            peak_rss_mb=round(float(exited.get("maxrss_kb", 0)) / 1024, 1),
            peak_memory_mb=None if exited.get("peak_bytes") is None else round(exited["peak_bytes"] / 2**20, 1),
            outputs=collector.outputs,
            extras=collector.extras,
            history=collector.history,
        )

    def _control(self, run_id: int, timeout: float) -> dict:
        message = self.reader.read(timeout)
        if message is None:
            raise InfrastructureError("forkserver closed its control pipe")
        if message.get("id") != run_id:
            raise InfrastructureError(f"unexpected control frame {message.get('op')!r}")
        return message

    def _receive_socket(self, timeout: float) -> socket.socket:
        ready, _, _ = select.select([self.fd_socket], [], [], timeout)
        if not ready:
            raise InfrastructureError("no socket from the forkserver")
        _, fds, _, _ = socket.recv_fds(self.fd_socket, 16, 1)
        if len(fds) != 1:
            raise InfrastructureError("no socket from the forkserver")
        return socket.socket(fileno=fds[0])

    def _pump(
        self, sock: socket.socket, collector: Collector, run_id: int, probes: list[dict], backstop: float
    ) -> dict:
        """Read the child's frames until the forkserver reports its end."""
        open_, kill_sent = True, False
        while True:
            index = collector.next_probe
            if index is not None and open_:
                collector.in_flight = index
                _send_frame(sock, probes[index])
            if (collector.flooded or collector.broken) and not kill_sent:
                write_frame(self.proc.stdin.fileno(), {"op": "kill", "id": run_id})
                kill_sent = True
            if self.reader.has_frame() or self.reader.eof:
                message = self._control_frame()
                if message.get("op") == "exited" and message.get("id") == run_id:
                    if open_ and not (collector.flooded or collector.broken):
                        collector.receive(sock)
                    return message
                continue
            remaining = backstop - time.monotonic()
            if remaining <= 0:
                raise InfrastructureError("forkserver did not report the end of the notebook in time")
            ready, _, _ = select.select([self.reader.fd] + ([sock] if open_ else []), [], [], remaining)
            if sock in ready:
                open_ = collector.receive(sock)
            if self.reader.fd in ready:
                try:
                    self.reader.fill()
                except OSError as exc:
                    raise InfrastructureError(f"forkserver control pipe: {exc}") from exc

    def _control_frame(self) -> dict:
        try:
            message = self.reader.read(0)
        except (ValueError, TimeoutError) as exc:
            raise InfrastructureError(f"forkserver control pipe: {exc}") from exc
        if message is None:
            raise InfrastructureError("forkserver died during the run")
        return message


def _send_frame(sock: socket.socket, message: dict) -> None:
    """Send a request frame to the child; a child that is gone is noticed later."""
    pieces = split_message(json.dumps(message, separators=(",", ":")).encode())
    sock.settimeout(10)
    try:
        for piece in pieces:
            sock.sendmsg([piece], [], socket.MSG_NOSIGNAL)
    except OSError:
        pass
    finally:
        sock.setblocking(False)


# ---------------------------------------------------------------------------
# The public API.
# ---------------------------------------------------------------------------
def _probe_dict(probe: Probe | dict) -> dict:
    if isinstance(probe, Probe):
        probe = {"function": probe.function, "args": list(probe.args), "kwargs": dict(probe.kwargs)}
    json.dumps(probe)  # plain data only: a TypeError here is the caller's bug
    return {
        "function": str(probe["function"]),
        "args": list(probe.get("args", [])),
        "kwargs": dict(probe.get("kwargs", {})),
    }


class Sandbox:
    """``workers`` warm forkservers running notebooks in isolated children.

    ``run`` is thread-safe and blocks; up to ``workers`` notebooks run at
    once.  A sandbox failure is retried once on a restarted forkserver, then
    reported as ``error="infrastructure: ..."``, never as empty answers.
    The jail shows the grader's Python environment (:func:`environment_path`)
    and never the course's files (:func:`secret_paths`, and ``hide``).
    Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        workers: int = 2,
        limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe as a default
        *,
        preload: Sequence[str] = PRELOAD,
        namespaces: bool = True,
        cgroups: bool = True,
        seccomp: bool = True,
        python: str = sys.executable,
        hide: Sequence[str] = (),
        wait: bool = True,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.limits = limits
        switches = {"namespaces": namespaces, "cgroups": cgroups, "seccomp": seccomp}
        disabled = [name for name, on in switches.items() if not on]
        self._workers = [Worker(slot, preload, disabled, python, hide) for slot in range(workers)]
        self._idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._started = threading.Lock()
        self._ready = False
        self._known: tuple[str, ...] = ()  # the grader's own cells, compiled once per forkserver (learn)
        self._learning = threading.Lock()
        try:
            for worker in self._workers:
                worker.spawn()
        except BaseException:
            self.close()
            raise
        if wait:
            self.ready()

    def ready(self) -> None:
        """Wait until every forkserver has said hello (``wait=False`` lets a caller start them, then work meanwhile)."""
        with self._started:
            if self._ready:
                return
            try:
                for worker in self._workers:
                    worker.wait_ready()
            except BaseException:
                self.close()
                raise
            for worker in self._workers:
                self._idle.put(worker)
            self._ready = True
        _warn_once(self.report.get("missing", []))

    @property
    def report(self) -> dict:
        """Which protections are active (the first forkserver's hello report)."""
        self.ready()
        return dict(self._workers[0].report)

    def learn(self, cells: Iterable[str]) -> None:
        """Have every forkserver compile ``cells`` once, for all later notebooks: only the grader's own code (the
        setup cell of the notebooks it generates), never a student's, since every child inherits it. Each
        forkserver is given them before its next notebook; at most :data:`MAX_KNOWN_CELLS` in all."""
        with self._learning:
            new = [c for c in dict.fromkeys(str(c) for c in cells) if c not in self._known]
            room = MAX_KNOWN_CELLS - len(self._known)
            if new and room > 0:
                self._known = (*self._known, *new[:room])

    def run(
        self, cells: Iterable[str], names: Iterable[str], probes: Iterable[Probe | dict] = (), *, extras: bool = False
    ) -> RunOutcome:
        """Run the notebook's code ``cells`` in order; return the requested ``names`` and probe results.

        ``extras``: also each cell's printed output and the notebook's other plain top-level values
        (:class:`RunOutcome`), for pointing a TA at answers the names asked for do not hold.
        """
        cells, names = [str(c) for c in cells], [str(n) for n in names]
        probe_dicts = [_probe_dict(p) for p in probes]
        if self._closed.is_set():
            raise RuntimeError("sandbox is closed")
        self.ready()
        started = time.monotonic()
        failure = ""
        for _attempt in range(2):
            worker = self._idle.get()
            try:
                if self._closed.is_set():
                    failure = "sandbox closed"
                    break
                outcome = worker.run(cells, names, probe_dicts, self.limits, extras, self._known)
                outcome.seconds = time.monotonic() - started
                return outcome
            except (InfrastructureError, OSError) as exc:
                failure = str(exc) or type(exc).__name__
                self._replace(worker)
            finally:
                self._idle.put(worker)
        return RunOutcome({}, [], [], f"infrastructure: {failure}", time.monotonic() - started)

    def _replace(self, worker: Worker) -> None:
        """Restart a failed forkserver (unless the sandbox is closing)."""
        try:
            worker.stop()
            if not self._closed.is_set():
                worker.start()
        except (InfrastructureError, OSError):
            worker.stop()  # started again by the next run that gets it

    def close(self) -> None:
        """Stop all forkservers (and any notebook still running)."""
        self._closed.set()
        for worker in self._workers:
            worker.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def run_cells(
    cells: Iterable[str],
    names: Iterable[str],
    probes: Iterable[Probe | dict] = (),
    limits: Limits = Limits(),  # noqa: B008
) -> RunOutcome:
    """One-shot convenience: a one-worker :class:`Sandbox` for one notebook."""
    with Sandbox(workers=1, limits=limits) as sandbox:
        return sandbox.run(cells, names, probes)


def sandbox_report(namespaces: bool = True) -> dict:
    """Which protections are active on this machine (starts one forkserver)."""
    with Sandbox(workers=1, namespaces=namespaces) as sandbox:
        return sandbox.report
