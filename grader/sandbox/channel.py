"""The grader's end of the result channel: every frame from a child is hostile input.

:class:`Collector` reads a child's socket into a consistent outcome: frames
are accepted only from the notebook's own process (kernel-checked
``SCM_CREDENTIALS``), measured against the value limits of
:mod:`grader.sandbox.frames` *before* they are parsed, parsed strictly and
checked against the request (requested names, cell order, the probe in
flight).  :func:`verdict` decides the run's ``error`` from what the
forkserver observed (exit status, signal, CPU time, OOM kills, deadline),
never from what the notebook says.
"""

from __future__ import annotations

import array
import fcntl
import json
import re
import select
import signal
import socket
import struct
import termios
from collections.abc import Sequence

from grader.sandbox.frames import (
    CHUNK,
    ENVELOPE_ELEMENTS,
    EXTRA_TOTAL,
    HISTORY_ELEMENTS,
    MAX_EXTRAS,
    MAX_FRAME_BYTES,
    MAX_HISTORY,
    MAX_OUTPUT,
    MAX_OUTPUTS_TOTAL,
    MAX_RUN_ELEMENTS,
    MAX_TEXT,
    FrameTooLarge,
    Reassembler,
    check_frame,
)
from grader.sandbox.limits import Limits

MAX_RUN_BYTES = 64 << 20
_UCRED = struct.Struct("iII")


def bounded_text(value: object) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else "<not text>"


class Collector:
    """Accumulates a child's frames into a consistent outcome.

    Values arrive per name and become visible only when the following
    ``cell`` frame commits them, so a notebook killed mid-snapshot keeps the
    previous cell's complete snapshot.  Once all cells are committed (or a
    ``stop`` arrived) values are frozen: nothing sent during probes can
    change them.  A probe result is accepted once, and only for the probe
    whose inputs were sent last.

    A frame over the value limits, or values that together exceed what the
    child would ever send (:data:`MAX_RUN_ELEMENTS` for the values it holds,
    twice that while a snapshot is pending), sets ``broken``: the grader
    stops reading and kills the child; what was committed before stands.

    Extras, when the run asked for them, are bounded hints for a TA and never
    graded: ``outputs`` (cell index → what it printed, at most
    :data:`MAX_OUTPUT` characters each and :data:`MAX_OUTPUTS_TOTAL` in all),
    ``extras`` (other top-level names, sent after the cells and before any
    probe result, at most :data:`MAX_EXTRAS` of :data:`EXTRA_TOTAL` JSON
    values together). ``history`` records, for each requested name, the
    cells after which its value changed: None when deleted (or None), the
    first value set when small, else :data:`TOO_LARGE`; :data:`MAX_HISTORY`
    entries at most.
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
        self.broken: str | None = None
        self.joiner = Reassembler(MAX_FRAME_BYTES)
        self.frame_values = 0  # JSON values of the frame being handled
        self.sizes: dict[str, int] = {}  # committed name -> JSON values of its frame
        self.pending_sizes: dict[str, int] = {}
        self.max_held = 2 * (MAX_RUN_ELEMENTS + ENVELOPE_ELEMENTS * len(self.names))
        self.in_flight: int | None = None  # the probe whose inputs were sent last
        self.outputs: dict[int, str] = {}
        self.output_chars = 0
        self.extras: dict[str, object] = {}
        self.extra_values = 0
        self.history: dict[str, list[tuple[int, object]]] = {}
        self.history_values = 0

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
        """Read what is queued; return False once the socket is closed, flooded or broken."""
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
            try:
                self._message(data, ancillary, flags)
            except FrameTooLarge as exc:
                self.broken = str(exc)
                return False
        return True

    def _message(self, data: bytes, ancillary: list, flags: int) -> None:
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or _sender(ancillary) != self.pid:
            self.rejected += 1
            return
        stray = self.joiner.stray
        frame = self.joiner.add(data)
        self.rejected += self.joiner.stray - stray
        if frame is not None:
            self._frame(frame)

    def _frame(self, body: bytes) -> None:
        """Measure, parse and apply one frame; anything malformed is counted and dropped.

        Raises :class:`FrameTooLarge` (before parsing) for a frame over the limits.
        """
        self.frame_values = check_frame(body)
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
        except FrameTooLarge:
            raise
        except Exception:  # a frame that slipped past the checks: drop it, never crash
            accepted = False
        if not accepted:
            self.rejected += 1

    # -- frame handlers (return False to reject) ----------------------------
    def _on_ready(self, message: dict) -> bool:
        self.ready = True
        return True

    def _on_setup_error(self, message: dict) -> bool:
        self.setup_error = bounded_text(message.get("m"))
        return True

    def _on_val(self, message: dict) -> bool:
        name = message.get("n")
        if not isinstance(name, str) or name not in self.names or self.cells_finished:
            return False
        self.pending_sizes[name] = self.frame_values
        if sum(self.sizes.values()) + sum(self.pending_sizes.values()) > self.max_held:
            raise FrameTooLarge(f"values of more than {self.max_held} JSON values in all")
        if "v" in message:
            self.pending[name] = ("v", message["v"])
        else:
            self.pending[name] = ("e", bounded_text(message.get("e")))
        return True

    def _on_del(self, message: dict) -> bool:
        name = message.get("n")
        if not isinstance(name, str) or name not in self.names or self.cells_finished:
            return False
        self.pending[name] = None
        self.pending_sizes[name] = 0
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
            self._remember(name, index, entry)
        self.pending.clear()
        output = message.get("o")
        if isinstance(output, str) and output and self.output_chars < MAX_OUTPUTS_TOTAL:
            kept = output[: min(MAX_OUTPUT, MAX_OUTPUTS_TOTAL - self.output_chars)]
            self.outputs[index] = kept
            self.output_chars += len(kept)
        self.sizes.update(self.pending_sizes)
        self.pending_sizes.clear()
        self.cells_run = index + 1
        error = message.get("err")
        if isinstance(error, dict):
            entry = {
                "cell": index,
                "ename": bounded_text(error.get("ename")),
                "evalue": bounded_text(error.get("evalue")),
            }
            self.cell_errors.append(entry)
        return True

    def _remember(self, name: str, index: int, entry: tuple[str, object] | None) -> None:
        """That ``name`` changed after cell ``index``, for "set again in a later cell": None when it was deleted
        (or set to None), the value when it is the first one set and small, else :data:`TOO_LARGE`."""
        changes = self.history.setdefault(name, [])
        if len(changes) >= MAX_HISTORY:
            return
        if entry is None or entry[0] != "v" or entry[1] is None:
            changes.append((index, None))
            return
        size = self.pending_sizes.get(name, 0)
        first = all(value is None for _, value in changes)
        if first and size <= HISTORY_ELEMENTS + ENVELOPE_ELEMENTS and self.history_values + size <= MAX_RUN_ELEMENTS:
            self.history_values += size
            changes.append((index, entry[1]))
        else:
            changes.append((index, TOO_LARGE))

    def _on_extra(self, message: dict) -> bool:
        name, value = message.get("n"), message.get("v")
        if (
            not isinstance(name, str)
            or not name.isidentifier()
            or name in self.names
            or "v" not in message
            or not self.cells_finished
            or any(p is not None for p in self.probes)
            or len(self.extras) >= MAX_EXTRAS
            or self.extra_values + self.frame_values > EXTRA_TOTAL + ENVELOPE_ELEMENTS * MAX_EXTRAS
        ):
            return False
        self.extra_values += self.frame_values
        self.extras[name] = value
        return True

    def _on_stop(self, message: dict) -> bool:
        index, why = message.get("i"), message.get("why")
        if type(index) is not int or why not in ("wall", "cpu") or self.stop:
            return False
        self.stop = (index, why)
        self.pending.clear()
        self.pending_sizes.clear()
        return True

    def _on_probe(self, message: dict) -> bool:
        index = message.get("i")
        if type(index) is not int or index != self.in_flight or self.probes[index]:
            return False
        if "r" in message:
            self.probes[index] = {"result": message["r"]}
        else:
            self.probes[index] = {"error": bounded_text(message.get("e"))}
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
        "extra": _on_extra,
        "done": _on_done,
    }


TOO_LARGE = "<too large to keep>"  # a history entry whose value was not kept


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
    if collector.broken:
        return f"result channel: the notebook sent {collector.broken}; it was stopped"
    if exited.get("cpu_exceeded"):
        return f"CPU time limit ({limits.cpu_seconds:g} s) exceeded by the notebook's processes together"
    if sig == signal.SIGKILL and exited.get("oom_kills") and not exited.get("killed"):
        return f"memory limit ({limits.memory_mb} MB) exceeded"
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
    if any(_memory_ran_out(e, limits) for e in collector.cell_errors):
        return f"memory limit ({limits.memory_mb} MB) exceeded"
    return None


_ALLOCATION = re.compile(r"^Unable to allocate (\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB|PiB|EiB) for an array")
_UNITS = {"B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40, "PiB": 50, "EiB": 60}


def _memory_ran_out(error: dict, limits: Limits) -> bool:
    """A ``MemoryError`` because the notebook's memory was used up; not numpy refusing one array that alone
    is larger than the whole limit (``Unable to allocate 74.5 GiB for an array with shape (100000, 100000)``):
    that is the cell's error, and the notebook ran on."""
    if error.get("ename") != "MemoryError":
        return False
    found = _ALLOCATION.match(str(error.get("evalue", "")))
    if found is None:
        return True
    asked = float(found.group(1)) * 2 ** _UNITS[found.group(2)]
    return asked <= limits.memory_mb * 2**20


def describe_exit(exited: dict) -> str:
    if "signal" in exited:
        return f"child killed by signal {_signal_name(exited['signal'])}"
    return f"child exited with code {exited.get('exitcode')}"
