"""The sandbox's two wire formats, and the value limits both ends of the result channel enforce.

**Control pipe** (grader <-> forkserver, stdin/stdout): frames of a 4-byte
big-endian length and a UTF-8 JSON object (:func:`write_frame`,
:class:`FrameReader`).

**Result channel** (grader <-> child, a ``SOCK_SEQPACKET`` socket, both
directions): a logical frame is UTF-8 JSON sent as one message tagged
``b"S"`` when it fits in :data:`CHUNK` bytes, else as ``b"B"`` (begin),
``b"M"`` (middle)..., ``b"E"`` (end) messages (:func:`split_message`,
:class:`Reassembler`).  Continuation messages that arrive while no frame is
open are dropped, so stray writes cannot glue onto the next frame.

**Value limits** (:func:`json_shape`, :func:`check_value`): a value crossing
the channel has at most :data:`MAX_ELEMENTS` JSON values (containers and
items, measured on the text), :data:`MAX_VALUE_CHARS` characters and
:data:`MAX_DEPTH` levels of nesting.  The child refuses a larger value (the
name gets a ``value_errors`` entry); the grader measures every frame before
parsing it, so a child that forges a larger frame is dropped without the
grader ever building it.

The child uses this module after student code ran, so its functions resolve
builtins through a private copy (a notebook rebinding ``builtins.len``
changes nothing here).
"""

from __future__ import annotations

import builtins
import json
import os
import re
import select
import struct
import time

globals()["__builtins__"] = dict(builtins.__dict__)

CHUNK = 65000
MAX_ELEMENTS = 100_000
MAX_VALUE_CHARS = 1_000_000
MAX_DEPTH = 32
MAX_TEXT = 2000
MAX_RUN_ELEMENTS = 2 * MAX_ELEMENTS  # all requested values of one notebook together
# Extras (asked for by the grader to point a TA at answers not bound to the names asked; never graded):
MAX_OUTPUT = 2000  # characters of one cell's printed output
MAX_OUTPUTS_TOTAL = 64_000  # characters of printed output of one notebook
MAX_EXTRAS = 50  # other top-level names sent
EXTRA_ELEMENTS = 2000  # JSON values of one of them
EXTRA_CHARS = 20_000  # characters of one of them
EXTRA_TOTAL = 20_000  # JSON values of all of them together
MAX_HISTORY = 8  # changes of one requested name remembered, cell by cell
HISTORY_ELEMENTS = 2000  # an earlier value is kept only up to this size
# A frame is one value plus its envelope (type, name, an error text of MAX_TEXT escaped characters).
ENVELOPE_BYTES = 64 << 10
ENVELOPE_ELEMENTS = 16
ENVELOPE_DEPTH = 2
MAX_FRAME_BYTES = MAX_VALUE_CHARS + ENVELOPE_BYTES
MAX_CONTROL_FRAME = 1 << 20
_HEADER = struct.Struct(">I")


class FrameTooLarge(ValueError):
    """A frame over the channel's limits: the sender broke the protocol."""


# ---------------------------------------------------------------------------
# Control pipe: length-prefixed JSON.
# ---------------------------------------------------------------------------
def encode_frame(message: dict) -> bytes:
    """One control frame: 4-byte big-endian length, then compact UTF-8 JSON."""
    body = json.dumps(message, separators=(",", ":")).encode()
    return _HEADER.pack(len(body)) + body


def write_frame(fd: int, message: dict) -> None:
    """Write one whole control frame to ``fd`` (blocking)."""
    data = memoryview(encode_frame(message))
    while data:
        data = data[os.write(fd, data) :]


class FrameReader:
    """Reads length-prefixed JSON frames from a file descriptor."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.eof = False

    def _size(self) -> int | None:
        if len(self.buffer) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(self.buffer)
        if size > MAX_CONTROL_FRAME:
            raise FrameTooLarge(f"control frame of {size} bytes")
        return size

    def _pop(self) -> dict | None:
        size = self._size()
        if size is None or len(self.buffer) < _HEADER.size + size:
            return None
        body = bytes(self.buffer[_HEADER.size : _HEADER.size + size])
        del self.buffer[: _HEADER.size + size]
        message = json.loads(body)
        if not isinstance(message, dict):
            raise ValueError("control frame is not an object")
        return message

    def has_frame(self) -> bool:
        """True when a whole frame is already buffered."""
        size = self._size()
        return size is not None and len(self.buffer) >= _HEADER.size + size

    def fill(self) -> None:
        """Read what is available (call when ``fd`` is readable)."""
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            self.eof = True
        self.buffer += chunk

    def read(self, timeout: float | None = None) -> dict | None:
        """The next frame; ``None`` on end of file; ``TimeoutError`` after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            message = self._pop()
            if message is not None:
                return message
            if self.eof:
                return None
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                raise TimeoutError("no control frame in time")
            self.fill()


# ---------------------------------------------------------------------------
# Result channel: tagged SEQPACKET messages.
# ---------------------------------------------------------------------------
def split_message(data: bytes) -> list[bytes]:
    """The messages that carry one frame: ``[b"S" + data]`` or ``B``, ``M``..., ``E`` chunks."""
    if len(data) <= CHUNK:
        return [b"S" + data]
    starts = range(0, len(data), CHUNK)
    return [(b"B" if i == 0 else b"E" if i + CHUNK >= len(data) else b"M") + data[i : i + CHUNK] for i in starts]


class Reassembler:
    """Joins tagged messages back into frames of at most ``limit`` bytes.

    :meth:`add` returns a whole frame, or ``None`` while one is incomplete or
    when the message was stray (counted in ``stray``); it raises
    :class:`FrameTooLarge` as soon as a frame grows past ``limit``, before
    buffering the excess.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.partial: bytearray | None = None
        self.stray = 0

    def add(self, message: bytes) -> bytes | None:
        tag, body = message[:1], message[1:]
        if tag == b"S":
            self.partial = None
            self._fits(len(body))
            return body
        if tag == b"B":
            self.partial = bytearray()
        elif tag not in (b"M", b"E") or self.partial is None:
            self.stray += 1
            return None
        self._fits(len(self.partial) + len(body))
        self.partial += body
        if tag != b"E":
            return None
        frame, self.partial = bytes(self.partial), None
        return frame

    def _fits(self, size: int) -> None:
        if size > self.limit:
            self.partial = None
            raise FrameTooLarge(f"a frame of more than {self.limit} bytes")


# ---------------------------------------------------------------------------
# Value limits, measured on JSON text without parsing it.
# ---------------------------------------------------------------------------
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")


def json_shape(text: bytes) -> tuple[int, int]:
    """(values, nesting depth) of JSON ``text``, measured without building it.

    Values = commas + opening brackets + 1 outside strings: at least the
    number of containers and items the text would parse into (exact for
    non-empty containers).  Depth = the deepest bracket nesting.
    """
    bare = _STRING.sub(b"0", text)
    brackets = bare.translate(None, _NOT_BRACKETS)
    values = bare.count(b",") + brackets.count(b"[") + brackets.count(b"{") + 1
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return values, deepest


def check_frame(text: bytes, max_values: int = MAX_ELEMENTS + ENVELOPE_ELEMENTS) -> int:
    """Raise :class:`FrameTooLarge` unless ``text`` (one frame) is within the value limits; return its value count."""
    if len(text) > MAX_FRAME_BYTES:
        raise FrameTooLarge(f"a frame of {len(text)} bytes (at most {MAX_FRAME_BYTES})")
    values, depth = json_shape(text)
    if values > max_values:
        raise FrameTooLarge(f"a frame of {values} values (at most {max_values})")
    if depth > MAX_DEPTH + ENVELOPE_DEPTH:
        raise FrameTooLarge(f"a frame nested {depth} levels deep (at most {MAX_DEPTH + ENVELOPE_DEPTH})")
    return values


def value_problem(text: str) -> str | None:
    """Why the JSON ``text`` of one value may not cross the channel, or ``None`` when it may."""
    if len(text) > MAX_VALUE_CHARS:
        return f"too large (more than {MAX_VALUE_CHARS} characters as JSON)"
    values, depth = json_shape(text.encode("utf-8", "surrogatepass"))
    if values > MAX_ELEMENTS:
        return f"too large (more than {MAX_ELEMENTS} elements)"
    if depth > MAX_DEPTH:
        return f"nested more than {MAX_DEPTH} levels deep"
    return None
