"""Run hostile notebook code in warm, isolated, resource-limited children.

>>> with Sandbox(workers=2) as sandbox:                      # doctest: +SKIP
...     outcome = sandbox.run(["import numpy as np", "x = np.arange(3)"], ["x"])
>>> outcome.values                                          # doctest: +SKIP
{'x': [0, 1, 2]}

A :class:`Sandbox` owns ``workers`` forkservers (``python -m
grader.notebooks.forkserver``), each forking one child per notebook.  This
module parses everything the child sends as hostile input: frames are size
bounded, strictly parsed and checked against the request (requested names,
probe indices), accepted only from the notebook's own process (kernel
checked ``SCM_CREDENTIALS``), and the run's ``error`` is decided here from
what the forkserver observed (exit status, signal, CPU time, deadline), never
from what the notebook says.  See docs/sandbox.md.
"""

from __future__ import annotations

import array
import fcntl
import itertools
import json
import os
import queue
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from grader.notebooks.forkserver import FrameReader, write_frame

CHUNK = 65000
MAX_FRAME_BYTES = 2 << 20
MAX_RUN_BYTES = 64 << 20
MAX_TEXT = 2000
UID_BASE = 1_000_000_000
_UID_SLOTS = itertools.count()


def _next_uid() -> int:
    """A uid for one worker, unique per grader process and worker.

    RLIMIT_NPROC counts processes per uid machine-wide, so every worker,
    including those of other grader processes on the machine, gets its own
    uid: ``UID_BASE + (pid << 6) + n`` (64 workers per process).
    """
    return UID_BASE + ((os.getpid() & 0x3FFFFF) << 6) + (next(_UID_SLOTS) & 63)


_UCRED = struct.Struct("iII")
_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one notebook."""

    cpu_seconds: float = 10  # RLIMIT_CPU for the notebook (cells and probes)
    wall_seconds: float = 30  # whole notebook, enforced from outside (SIGKILL)
    memory_mb: int = 1024  # RLIMIT_AS on top of the preloaded interpreter's address space
    file_size_mb: int = 16  # RLIMIT_FSIZE; the child's tmpfs holds 2x this + 16 MB
    max_processes: int = 16  # RLIMIT_NPROC for the child's own uid (threads count)
    probe_seconds: float = 2.0  # budget for each probe call

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"Limits.{name} must be a positive number, not {value!r}")


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
    isolated); ``peak_rss_mb``: the child's peak resident memory.
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


class InfrastructureError(Exception):
    """The sandbox itself failed (not the notebook)."""


# ---------------------------------------------------------------------------
# Frames from the child.
# ---------------------------------------------------------------------------
def _text(value: object) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else "<not text>"


class Collector:
    """Accumulates a child's frames into a consistent outcome.

    Values arrive per name and become visible only when the following
    ``cell`` frame commits them, so a notebook killed mid-snapshot keeps the
    previous cell's complete snapshot.  Once all cells are committed (or a
    ``stop`` arrived) values are frozen: nothing sent during probes can
    change them.  A probe result is accepted once, and only for the probe
    whose inputs were sent last.
    """

    def __init__(self, n_cells: int, names: Sequence[str], n_probes: int, pid: int) -> None:
        self.n_cells = n_cells
        self.names = set(names)
        self.pid = pid
        self.ready = False
        self.done = False
        self.setup_error: str | None = None
        self.values: dict[str, object] = {}
        self.value_errors: dict[str, str] = {}
        self.pending: dict[str, tuple[str, object] | None] = {}
        self.cell_errors: list[dict] = []
        self.cells_run = 0
        self.stop: tuple[int, str] | None = None
        self.probes: list[dict | None] = [None] * n_probes
        self.received = 0
        self.rejected = 0
        self.flooded = False
        self.partial: bytearray | None = None
        self.in_flight: int | None = None  # the probe whose inputs were sent last

    @property
    def next_probe(self) -> int | None:
        """Index of the probe to send now, if any (one at a time, after the cells)."""
        if not self.cells_finished or self.done:
            return None
        if self.in_flight is None:
            return 0 if self.probes else None
        if self.probes[self.in_flight] is not None and self.in_flight + 1 < len(self.probes):
            return self.in_flight + 1
        return None

    @property
    def cells_finished(self) -> bool:
        """All cells committed, or the child stopped running cells."""
        return self.cells_run >= self.n_cells or self.stop is not None

    # -- reading the socket -------------------------------------------------
    def receive(self, sock: socket.socket) -> bool:
        """Read what is queued; return False once the socket is closed or flooded."""
        for _ in range(512):
            try:
                data, ancillary, flags, _ = sock.recvmsg(
                    CHUNK + 16, socket.CMSG_SPACE(_UCRED.size), socket.MSG_DONTWAIT
                )
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                return False
            if not data:
                if _peer_closed(sock):
                    return False
                continue
            self.received += len(data) + 64
            if self.received > MAX_RUN_BYTES:
                self.flooded = True
                return False
            self._message(data, ancillary, flags)
        return True

    def _message(self, data: bytes, ancillary: list, flags: int) -> None:
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or _sender(ancillary) != self.pid:
            self.rejected += 1
            return
        tag, body = data[:1], data[1:]
        if tag == b"S":
            self.partial = None
            self._frame(body)
            return
        if tag == b"B":
            self.partial = bytearray()
        elif tag not in (b"M", b"E") or self.partial is None:
            self.rejected += 1
            return
        self.partial += body
        if len(self.partial) > MAX_FRAME_BYTES:
            self.partial = None
            self.rejected += 1
        elif tag == b"E":
            frame, self.partial = bytes(self.partial), None
            self._frame(frame)

    def _frame(self, body: bytes) -> None:
        """Parse and apply one frame; anything malformed is counted and dropped."""
        try:
            message = json.loads(body)
        except (ValueError, RecursionError, MemoryError):
            self.rejected += 1
            return
        kind = message.get("t") if isinstance(message, dict) else None
        allowed = self._AFTER_READY if self.ready else self._BEFORE_READY
        handler = allowed.get(kind) if isinstance(kind, str) and not self.done else None
        try:
            accepted = handler is not None and handler(self, message) is not False
        except Exception:  # a frame that slipped past the checks: drop it, never crash
            accepted = False
        if not accepted:
            self.rejected += 1

    # -- frame handlers (return False to reject) ----------------------------
    def _on_ready(self, message: dict) -> bool:
        self.ready = True
        return True

    def _on_setup_error(self, message: dict) -> bool:
        self.setup_error = _text(message.get("m"))
        return True

    def _on_val(self, message: dict) -> bool:
        name = message.get("n")
        if not isinstance(name, str) or name not in self.names or self.cells_finished:
            return False
        if "v" in message:
            self.pending[name] = ("v", message["v"])
        else:
            self.pending[name] = ("e", _text(message.get("e")))
        return True

    def _on_del(self, message: dict) -> bool:
        name = message.get("n")
        if not isinstance(name, str) or name not in self.names or self.cells_finished:
            return False
        self.pending[name] = None
        return True

    def _on_cell(self, message: dict) -> bool:
        index = message.get("i")
        if type(index) is not int or not self.cells_run <= index < self.n_cells or self.stop:
            return False
        for name, entry in self.pending.items():
            self.values.pop(name, None)
            self.value_errors.pop(name, None)
            if entry is not None:
                (self.values if entry[0] == "v" else self.value_errors)[name] = entry[1]
        self.pending.clear()
        self.cells_run = index + 1
        error = message.get("err")
        if isinstance(error, dict):
            entry = {"cell": index, "ename": _text(error.get("ename")), "evalue": _text(error.get("evalue"))}
            self.cell_errors.append(entry)
        return True

    def _on_stop(self, message: dict) -> bool:
        index, why = message.get("i"), message.get("why")
        if type(index) is not int or why not in ("wall", "cpu") or self.stop:
            return False
        self.stop = (index, why)
        self.pending.clear()
        return True

    def _on_probe(self, message: dict) -> bool:
        index = message.get("i")
        if type(index) is not int or index != self.in_flight or self.probes[index]:
            return False
        if "r" in message:
            self.probes[index] = {"result": message["r"]}
        else:
            self.probes[index] = {"error": _text(message.get("e"))}
        return True

    def _on_done(self, message: dict) -> bool:
        self.done = True
        return True

    _BEFORE_READY = {"ready": _on_ready, "setup_error": _on_setup_error}
    _AFTER_READY = {
        "val": _on_val,
        "del": _on_del,
        "cell": _on_cell,
        "stop": _on_stop,
        "probe": _on_probe,
        "done": _on_done,
    }


def _sender(ancillary: list) -> int | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(data) >= _UCRED.size:
            return _UCRED.unpack_from(data)[0]
    return None


def _peer_closed(sock: socket.socket) -> bool:
    """True when the peer hung up and no (non-empty) message is queued."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLRDHUP)
    events = poller.poll(0)
    hung_up = bool(events and events[0][1] & (select.POLLHUP | select.POLLRDHUP))
    queued = array.array("i", [0])
    fcntl.ioctl(sock, termios.FIONREAD, queued)
    return hung_up and queued[0] == 0


# ---------------------------------------------------------------------------
# The verdict: decided from what the forkserver saw, never from the child.
# ---------------------------------------------------------------------------
def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def verdict(collector: Collector, exited: dict, limits: Limits) -> str | None:
    """The run-level ``error`` for a child that got past setup."""
    cpu_limit = max(1, -(-limits.cpu_seconds // 1))
    sig = exited.get("signal")
    if exited.get("timed_out"):
        return f"timeout after {limits.wall_seconds:g} s"
    if collector.flooded:
        return f"result channel flooded by the notebook (more than {MAX_RUN_BYTES >> 20} MB)"
    if sig is not None:
        # RLIMIT_CPU ends in a SIGKILL the forkserver did not send.  The CPU
        # time wait4() reports is tick-sampled and can read 10-20 % low under
        # load (measured on a busy 2-core VM), hence the tolerance; an
        # OOM-killer SIGKILL of a notebook that barely computed stays a signal.
        near_limit = exited.get("cpu_seconds", 0) >= 0.5 * cpu_limit
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and near_limit and not exited.get("killed")):
            return f"CPU time limit ({limits.cpu_seconds:g} s) exceeded"
        return f"killed by signal {_signal_name(sig)}"
    code = exited.get("exitcode")
    if code != 0 or not collector.done:
        return f"process exited early with code {code}"
    if collector.stop is not None:
        if collector.stop[1] == "wall":
            return f"timeout after {limits.wall_seconds:g} s"
        return f"CPU time limit ({limits.cpu_seconds:g} s) exceeded"
    if any(e["ename"] == "MemoryError" for e in collector.cell_errors):
        return f"memory limit ({limits.memory_mb} MB) exceeded"
    return None


def _describe_exit(exited: dict) -> str:
    if "signal" in exited:
        return f"child killed by signal {_signal_name(exited['signal'])}"
    return f"child exited with code {exited.get('exitcode')}"


# ---------------------------------------------------------------------------
# One forkserver.
# ---------------------------------------------------------------------------
def _matplotlib_cache() -> str:
    """A private, persistent matplotlib config dir for the forkservers (font cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    path = os.path.join(base, "optgrader", "matplotlib")
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


class Worker:
    """A handle on one forkserver process; used by one thread at a time."""

    def __init__(self, slot: int, preload: Sequence[str], namespaces: bool, python: str) -> None:
        self.slot = slot
        self.preload = list(preload)
        self.namespaces = namespaces
        self.python = python
        self.proc: subprocess.Popen | None = None
        self.report: dict = {}
        self.uid = _next_uid()

    # -- lifecycle ---------------------------------------------------------
    def spawn(self) -> None:
        """Start the forkserver (without waiting for it to be ready)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        uid = self.uid
        command = [self.python, "-P", "-s", "-m", "grader.notebooks.forkserver", "--fd-socket", str(theirs.fileno())]
        command += ["--uid", str(uid), "--gid", str(uid), "--preload", ",".join(self.preload)]
        if not self.namespaces:
            command.append("--no-namespaces")
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
    def run(self, cells: list[str], names: list[str], probes: list[dict], limits: Limits) -> RunOutcome:
        """Run one notebook; raise :class:`InfrastructureError` if the sandbox failed."""
        if not self.alive:
            self.restart()
        started = time.monotonic()
        run_id = next(_COUNTER)
        try:
            write_frame(self.proc.stdin.fileno(), {"op": "run", "id": run_id, "limits": asdict(limits)})
            reply = self._control(run_id, 15)
            if reply.get("op") != "started":
                raise InfrastructureError(_text(reply.get("message", "forkserver refused to fork")))
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
            _send_frame(sock, request)
            exited = self._pump(sock, collector, run_id, probes, started + limits.wall_seconds + 15)
        if not collector.ready:
            raise InfrastructureError(f"sandbox setup failed: {collector.setup_error or _describe_exit(exited)}")
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
            if collector.flooded and not kill_sent:
                write_frame(self.proc.stdin.fileno(), {"op": "kill", "id": run_id})
                kill_sent = True
            if self.reader.has_frame() or self.reader.eof:
                message = self._control_frame()
                if message.get("op") == "exited" and message.get("id") == run_id:
                    if open_ and not collector.flooded:
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
    data = json.dumps(message, separators=(",", ":")).encode()
    if len(data) <= CHUNK:
        pieces = [b"S" + data]
    else:
        starts = range(0, len(data), CHUNK)
        pieces = [(b"B" if i == 0 else b"E" if i + CHUNK >= len(data) else b"M") + data[i : i + CHUNK] for i in starts]
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
    Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        workers: int = 2,
        limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe as a default
        *,
        preload: Sequence[str] = ("numpy", "matplotlib.pyplot"),
        namespaces: bool = True,
        python: str = sys.executable,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.limits = limits
        self._workers = [Worker(slot, preload, namespaces, python) for slot in range(workers)]
        self._idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        self._closed = threading.Event()
        try:
            for worker in self._workers:
                worker.spawn()
            for worker in self._workers:
                worker.wait_ready()
        except BaseException:
            self.close()
            raise
        for worker in self._workers:
            self._idle.put(worker)

    @property
    def report(self) -> dict:
        """Which protections are active (the first forkserver's hello report)."""
        return dict(self._workers[0].report)

    def run(self, cells: Iterable[str], names: Iterable[str], probes: Iterable[Probe | dict] = ()) -> RunOutcome:
        """Run the notebook's code ``cells`` in order; return the requested ``names`` and probe results."""
        cells, names = [str(c) for c in cells], [str(n) for n in names]
        probe_dicts = [_probe_dict(p) for p in probes]
        if self._closed.is_set():
            raise RuntimeError("sandbox is closed")
        started = time.monotonic()
        failure = ""
        for _attempt in range(2):
            worker = self._idle.get()
            try:
                if self._closed.is_set():
                    failure = "sandbox closed"
                    break
                outcome = worker.run(cells, names, probe_dicts, self.limits)
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


if __name__ == "__main__":
    print(json.dumps(sandbox_report(), indent=2))
