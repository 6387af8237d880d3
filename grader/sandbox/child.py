"""Trusted code that runs inside the limited child, before and after student code.

The forkserver imports this module once (before it hides the file system) and
calls :func:`main` in every freshly forked child.  :func:`main` then

1. isolates the process as root (:func:`prepare`: its memory and pids
   cgroup, fresh mount and IPC namespaces, an empty tmpfs as ``/tmp`` and
   working directory, resource limits, no inherited file descriptors);
2. waits for the request (cells, names, probes) on its socket;
3. confines itself (:func:`confine`: an unprivileged uid, a fresh session
   keyring, no new privileges, the seccomp filter);
4. runs the cells in one namespace, sending a snapshot of the requested names
   after each cell; then calls the probes; then sends ``done`` and exits.

Everything the child sends is plain JSON produced by :func:`to_json`, a small
serializer built from references captured at import time, i.e. before any
student code ran (see docs/sandbox.md, "The result channel").

The wire format and the value limits are :mod:`grader.sandbox.frames`; the
child refuses a value over them (a ``value_errors`` entry), so only a
forging notebook ever sends a frame the grader drops it for.
"""

from __future__ import annotations

import ast
import builtins
import decimal
import errno
import fractions
import io
import json.encoder
import os
import resource
import signal
import sys
import time

from grader.sandbox import jail, linux
from grader.sandbox.frames import (
    CHUNK,
    EXTRA_CHARS,
    EXTRA_ELEMENTS,
    EXTRA_TOTAL,
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_EXTRAS,
    MAX_OUTPUT,
    MAX_RUN_ELEMENTS,
    MAX_TEXT,
    MAX_VALUE_CHARS,
    Reassembler,
    json_shape,
    split_message,
    value_problem,
)
from grader.sandbox.limits import apply_rlimits

# Functions defined below resolve builtins through this private copy, so a
# notebook that rebinds ``builtins.len`` / ``float`` / ``isinstance`` does not
# change how the trusted code in this module behaves.
globals()["__builtins__"] = dict(builtins.__dict__)

try:  # numpy is preloaded by the forkserver; the serializer also works without it
    import numpy as _np
except ImportError:  # pragma: no cover - numpy is a hard dependency of the grader
    _np = None

SETUP_FAILED = 70
SYSV_SHM_BYTES = 16 << 20  # SysV shared memory a notebook may hold, in its own IPC namespace
NOTEBOOK_DIR = "/tmp/notebook"
SYSV_LIMITS = {  # /proc/sys/kernel/<name> inside the notebook's IPC namespace
    "shmmax": SYSV_SHM_BYTES,
    "shmall": SYSV_SHM_BYTES // 4096,
    "shmmni": 16,
    "msgmni": 16,
    "msgmnb": 1 << 16,
}

# ---------------------------------------------------------------------------
# References captured before any student code runs.
# ---------------------------------------------------------------------------
_type = type
_issubclass = issubclass
_float_repr = float.__repr__
_int_repr = int.__repr__
_str_copy = str.__str__
_str_join = str.join
_list_iter = list.__iter__
_tuple_iter = tuple.__iter__
_dict_items = dict.items
_dict_get = dict.get
_type_name = type.__dict__["__name__"].__get__
_type_module = type.__dict__["__module__"].__get__
_Fraction = fractions.Fraction
_fraction_numerator = fractions.Fraction.numerator.fget
_fraction_denominator = fractions.Fraction.denominator.fget
_Decimal = decimal.Decimal
_decimal_text = decimal.Decimal.__str__
_decimal_finite = decimal.Decimal.is_finite
_float = float
_ast_parse = ast.parse
_ast_Expr = ast.Expr
_ast_Expression = ast.Expression
_ast_Module = ast.Module
_eval = eval
_repr = repr
_encode_str = json.encoder.encode_basestring_ascii
_write = os.write
_read = os.read
_exit = os._exit
_setitimer = signal.setitimer
_signal = signal.signal
_getrusage = resource.getrusage
_compile = compile
_exec = exec
_json_loads = json.loads
_monotonic = time.monotonic
_SIGALRM, _SIGPROF = signal.SIGALRM, signal.SIGPROF
_ITIMER_REAL, _ITIMER_PROF = signal.ITIMER_REAL, signal.ITIMER_PROF
_RUSAGE_SELF = resource.RUSAGE_SELF
if _np is not None:
    _ndarray = _np.ndarray
    _generic = _np.generic
    _nd_tolist = _np.ndarray.tolist
    _nd_size = _np.ndarray.size.__get__
    _nd_ndim = _np.ndarray.ndim.__get__
    _nd_dtype = _np.ndarray.dtype.__get__
    _dtype_kind = _np.dtype.kind.__get__
    _generic_item = _np.generic.item
    _np_array = _np.array
    _nd_astype = _np.ndarray.astype
    _nd_itemsize = _np.ndarray.itemsize.__get__
    _nd_real = _np.ndarray.real.__get__
    _nd_imag = _np.ndarray.imag.__get__
    _nd_any = _np.ndarray.any
    _float64 = _np.float64


# ---------------------------------------------------------------------------
# The serializer: Python values -> JSON text, plain data only.
# ---------------------------------------------------------------------------
class Refused(Exception):
    """A value that cannot cross the channel as plain data (the message says why)."""


class _Writer:
    """Collects JSON text and enforces the element and size budgets.

    ``timed`` is set once a library value (sympy, pandas, …) had to be
    converted by the library's own code: that runs under :data:`CONVERT_SECONDS`.
    """

    __slots__ = ("parts", "chars", "elements", "max_elements", "max_chars", "timed")

    def __init__(self, max_elements: int = MAX_ELEMENTS, max_chars: int = MAX_VALUE_CHARS) -> None:
        self.parts: list[str] = []
        self.chars = 0
        self.elements = 0
        self.max_elements = max_elements
        self.max_chars = max_chars
        self.timed = False

    def add(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > self.max_chars:
            raise Refused(f"too large (more than {self.max_chars} characters as JSON)")
        self.parts.append(text)

    def count(self, n: int = 1) -> None:
        self.elements += n
        if self.elements > self.max_elements:
            raise Refused(f"too large (more than {self.max_elements} elements)")


_FLOAT_WORDS = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


def _float_text(value: float) -> str:
    text = _float_repr(value)
    return _FLOAT_WORDS.get(text, text)


def _int_text(value: int) -> str:
    try:
        return _int_repr(value)
    except ValueError:
        raise Refused("integer too large") from None


def type_name(obj: object) -> str:
    """The real class name of ``obj`` (not what ``__class__`` claims), bounded."""
    return _str_copy(_type_name(_type(obj)))[:100]


def _emit(obj: object, out: _Writer, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise Refused(f"nested more than {MAX_DEPTH} levels deep")
    out.count()
    cls = _type(obj)
    if obj is None:
        out.add("null")
    elif cls is bool:
        out.add("true" if obj is True else "false")
    elif _issubclass(cls, int):
        out.add(_int_text(obj))
    elif _issubclass(cls, float):
        out.add(_float_text(obj))
    elif _issubclass(cls, str):
        out.add(_encode_str(_str_copy(obj)))
    elif _issubclass(cls, (list, tuple)):
        items = _list_iter(obj) if _issubclass(cls, list) else _tuple_iter(obj)
        _emit_sequence(items, out, depth)
    elif _issubclass(cls, dict):
        _emit_dict(obj, out, depth)
    elif _np is not None and _issubclass(cls, _ndarray):
        _emit_array(obj, out, depth)
    elif _np is not None and _issubclass(cls, _generic):
        _emit_numpy_scalar(obj, out, depth)
    elif _issubclass(cls, _Fraction):
        _emit_fraction(_fraction_numerator(obj), _fraction_denominator(obj), out)
    elif _issubclass(cls, _Decimal):
        if not _decimal_finite(obj):
            raise Refused("a Decimal that is not a finite number")
        out.add(_encode_str(_decimal_text(obj)))  # read as typed: 2.02 keeps its digits
    elif _module_root(cls) in _LIBRARIES:
        _emit(_converted(obj, cls, out), out, depth + 1)
    else:
        raise Refused(f"unsupported type {type_name(obj)}")


def _emit_fraction(numerator: int, denominator: int, out: _Writer) -> None:
    """An exact fraction as the text a student would type (``10/3``), so the grader reads it exactly."""
    if _type(numerator) is not int or _type(denominator) is not int:
        raise Refused("a fraction whose parts are not integers")
    if denominator == 1:
        out.add(_int_text(numerator))
    else:
        out.add('"' + _int_text(numerator) + "/" + _int_text(denominator) + '"')


def _emit_numpy_scalar(obj, out: _Writer, depth: int) -> None:
    """Any numpy scalar through a 0-d array, so every dtype reads as :func:`_emit_array` reads it."""
    kind = _dtype_kind(_nd_dtype(_np_array(obj)))
    if kind in ("U", "S"):
        value = _generic_item(obj)
        if _type(value) is bytes:
            raise Refused(f"unsupported type {type_name(obj)}")
        _emit(value, out, depth)
        return
    _emit_array(_np_array(obj), out, depth)


# Values of these libraries are converted by the library itself (sympy's numbers, matrices and
# formulas; pandas' Series and DataFrames), under a time budget: a notebook that patched them can
# only make the grader receive a value of its choosing, which binding that value would have done.
_LIBRARIES = ("sympy", "pandas")
CONVERT_SECONDS = 1.0


def _module_root(cls) -> str:
    module = _type_module(cls)
    return _str_copy(module).partition(".")[0] if _issubclass(_type(module), str) else ""


def _converted(obj, cls, out: _Writer):
    """A library value as plain Python data (numbers, text a student could type, lists, arrays)."""
    if not out.timed:
        out.timed = True
        _Timer.arm(CONVERT_SECONDS, CONVERT_SECONDS)
    try:
        if _module_root(cls) == "sympy":
            return _sympy_plain(obj, out)
        size = obj.size
        if _type(size) is not int or size > out.max_elements:
            raise Refused(f"too large (more than {out.max_elements} elements)")
        return obj.to_numpy()
    except (Refused, NotebookTimeout):
        raise
    except BaseException as exc:  # noqa: BLE001 - the library (or a patch of it) may raise anything
        raise Refused(f"unsupported type {type_name(obj)} ({type_name(exc)} while converting it)") from None


def _sympy_plain(obj, out: _Writer):
    """A sympy matrix as rows, an integer as an int, a rational as ``p/q``, a float as a float, a boolean
    as a bool, anything else (``sqrt(2)``, ``exp(-z)/(1 + exp(-z))**2``) as its text, which the grader
    parses with its own whitelist."""
    if getattr(obj, "is_Matrix", False) is True:
        rows, columns = obj.shape
        if _type(rows) is not int or _type(columns) is not int or rows * columns > out.max_elements:
            raise Refused(f"too large (more than {out.max_elements} elements)")
        return obj.tolist()
    if getattr(obj, "is_Integer", False) is True:
        return int(obj)
    if getattr(obj, "is_Rational", False) is True:
        return _Fraction(int(obj.p), int(obj.q))
    if getattr(obj, "is_Float", False) is True:
        return _float(obj)
    if getattr(obj, "is_Boolean", False) is True and getattr(obj, "is_Atom", False) is True:
        return bool(obj)
    text = str(obj)
    if _type(text) is not str or len(text) > out.max_chars:
        raise Refused(f"unsupported type {type_name(obj)}")
    return text


def _emit_sequence(items, out: _Writer, depth: int) -> None:
    out.add("[")
    first = True
    for item in items:
        if not first:
            out.add(",")
        first = False
        _emit(item, out, depth + 1)
    out.add("]")


def _emit_dict(obj: dict, out: _Writer, depth: int) -> None:
    out.add("{")
    first = True
    for key, item in _dict_items(obj):
        if not _issubclass(_type(key), str):
            raise Refused(f"dict key of type {type_name(key)} (only str keys are plain data)")
        if not first:
            out.add(",")
        first = False
        out.add(_encode_str(_str_copy(key)))
        out.add(":")
        _emit(item, out, depth + 1)
    out.add("}")


def _emit_array(arr, out: _Writer, depth: int) -> None:
    """An array as nested lists: bool, int and float dtypes (float32 and float16 values as numpy prints them,
    0.8004 and not 0.8004000186920166; longdouble as float64), complex ones whose imaginary parts are all 0,
    strings, and object arrays item by item."""
    kind = _dtype_kind(_nd_dtype(arr))
    if kind not in ("b", "i", "u", "f", "c", "U", "O"):
        raise Refused(f"array of dtype kind {kind!r} (only bool, int, float, text and object arrays)")
    size = _nd_size(arr)
    out.count(size)
    if _nd_ndim(arr) > MAX_DEPTH:
        raise Refused(f"array with more than {MAX_DEPTH} dimensions")
    if kind == "c":
        if _nd_any(_nd_imag(arr)):
            raise Refused("array of complex numbers")
        arr, kind = _nd_real(arr), _dtype_kind(_nd_dtype(_nd_real(arr)))
    if kind == "O":
        items = _nd_tolist(arr)
        if _type(items) is list:
            _emit_sequence(_list_iter(items), out, depth)
        else:
            _emit(items, out, depth + 1)
        return
    if kind == "U":
        _emit_plain_nested(_nd_tolist(arr), out, _encode_str)
        return
    if kind == "f" and _nd_itemsize(arr) < 8:
        _emit_plain_nested(_nd_tolist(_nd_astype(arr, "U32")), out, _short_float)
        return
    if kind == "f" and _nd_itemsize(arr) > 8:
        arr = _nd_astype(arr, _float64)
    _emit_plain_nested(_nd_tolist(arr), out)


def _emit_plain_nested(value, out: _Writer, leaf=None) -> None:
    """Emit the output of ``ndarray.tolist`` (exact bool/int/float leaves, or ``leaf`` applied to each)."""
    leaf = leaf or _leaf_text
    cls = _type(value)
    if cls is list:
        if value and _type(value[0]) is not list:
            out.add("[" + _str_join(",", [leaf(v) for v in value]) + "]")
            return
        out.add("[")
        for i, item in enumerate(value):
            if i:
                out.add(",")
            _emit_plain_nested(item, out, leaf)
        out.add("]")
    else:
        out.add(leaf(value))


def _short_float(text: str) -> str:
    """A float32 or float16 as numpy prints it (its shortest decimal), as a float64."""
    return _float_text(_float(text))


def _leaf_text(value) -> str:
    cls = _type(value)
    if cls is float:
        return _float_text(value)
    if cls is bool:
        return "true" if value is True else "false"
    return _int_text(value)


def to_json(obj: object, max_elements: int = MAX_ELEMENTS, max_chars: int = MAX_VALUE_CHARS) -> str:
    """Serialize ``obj`` to JSON text made only of plain data, or raise :class:`Refused`.

    Accepts None, bool, int, float (NaN/Infinity as JSON extensions), str,
    list/tuple, dict with str keys, numpy scalars and arrays of any number
    dtype (float32 as numpy prints it), ``Fraction`` (as ``"10/3"``),
    ``Decimal`` (as its digits), and sympy and pandas values converted by
    their library (:func:`_converted`).  Subclasses of the built-in types are
    read through their base type's C methods, so a lying ``__eq__``,
    ``__repr__``, ``__float__`` or ``__iter__`` has no effect: the result is
    what the object really holds.  At most ``max_elements`` elements and
    ``max_chars`` characters.
    """
    out = _Writer(max_elements, max_chars)
    try:
        _emit(obj, out, 0)
        text = _str_join("", out.parts)
    except RecursionError:
        raise Refused("nested too deeply") from None
    except MemoryError:
        raise Refused("out of memory while converting") from None
    except NotebookTimeout:
        raise Refused(f"converting it took more than {CONVERT_SECONDS:g} s") from None
    finally:
        if out.timed:
            _Timer.disarm()
    problem = value_problem(text)  # the measure the grader applies before parsing
    if problem:
        raise Refused(problem)
    return text


# ---------------------------------------------------------------------------
# The channel.
# ---------------------------------------------------------------------------
class Channel:
    """Frames over the child's SOCK_SEQPACKET socket (format: :mod:`grader.sandbox.frames`)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send_text(self, text: str) -> None:
        for message in split_message(text.encode("utf-8", "surrogatepass")):
            _write(self.fd, message)

    def receive_text(self, limit: int) -> str:
        joiner = Reassembler(limit)
        while True:
            message = _read(self.fd, CHUNK + 16)
            if not message:
                raise EOFError("request channel closed")
            frame = joiner.add(message)
            if frame is not None:
                return frame.decode("utf-8")


def _field(key: str, text_json: str) -> str:
    return _encode_str(key) + ":" + text_json


def frame(kind: str, **fields: str) -> str:
    """Build a frame from already-encoded JSON field values."""
    body = [_field("t", _encode_str(kind))]
    body.extend(_field(key, value) for key, value in fields.items())
    return "{" + _str_join(",", body) + "}"


# ---------------------------------------------------------------------------
# Isolation of this process (runs as root, before any student code).
# ---------------------------------------------------------------------------
def _join_cgroups(procs_fds: list[int]) -> None:
    """Move this process into its notebook cgroup(s): ``0`` in ``cgroup.procs`` means the writer."""
    for fd in procs_fds:
        os.write(fd, b"0")
        os.close(fd)


def _fresh_filesystem(config: dict) -> None:
    """Private mount + IPC namespaces, a new empty tmpfs on /tmp, a proc for this pid ns.

    Kept paths that lived under /tmp (a virtualenv there) are bound again over
    the new /tmp, read-only, so the student's /tmp is private and the
    grader's environment still imports.

    With a proc mounted, the new IPC namespace gets small SysV limits
    (:data:`SYSV_LIMITS`): shared memory beyond :data:`SYSV_SHM_BYTES` and
    more than a few message queues are refused.
    """
    linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWIPC)
    size_mb = 2 * int(config["limits"]["file_size_mb"]) + 16
    flags = linux.MS_NOSUID | linux.MS_NODEV
    linux.mount("tmpfs", "/tmp", "tmpfs", flags, f"size={size_mb}m,nr_inodes=4096,mode=1777")
    if config.get("pid_namespace"):
        linux.mount("proc", "/proc", "proc", flags | linux.MS_NOEXEC)
        for name, value in SYSV_LIMITS.items():
            with open(f"/proc/sys/kernel/{name}", "w") as handle:
                handle.write(str(value))
    jail.rebind(config.get("rebinds") or [], config.get("hidden") or [])


def _working_directory(config: dict) -> str:
    """``/tmp``; or, when the grader's environment lives under /tmp (and so shows there), a fresh
    ``/tmp/notebook`` of the student's own, so that the notebook's folder holds only what it writes."""
    if not config.get("rebinds"):
        return "/tmp"
    os.mkdir(NOTEBOOK_DIR, 0o700)
    os.chown(NOTEBOOK_DIR, int(config["uid"]), int(config["gid"]))
    return NOTEBOOK_DIR


def _close_fds(keep: int) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    if null > 2:
        os.close(null)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)


def _drop_privileges(uid: int, gid: int) -> None:
    if os.geteuid() != 0:
        return
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError(errno.EPERM, "could not drop privileges")


def _reset_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGALRM):
        _signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def prepare(fd: int, config: dict) -> None:
    """First half of the isolation, as root, before the notebook is known (raise if anything fails).

    ``config`` comes from the forkserver: ``limits``, ``uid``, ``gid``,
    ``mount_namespace``, ``pid_namespace``, ``workdir`` (used only when there
    is no mount namespace), ``env``, ``cgroup_procs`` (fds to join the
    notebook's cgroups; empty without cgroups), ``seccomp`` (the compiled
    filter, or ``None``).  The cgroup comes first, so that all the child
    allocates is charged.  The forkserver forks the next child ahead of
    time, so these steps, the slow ones, overlap with the grader's work.
    """
    _join_cgroups(config.get("cgroup_procs") or [])
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)  # while it waits: dies with the forkserver
    os.setsid()
    if config.get("mount_namespace"):
        _fresh_filesystem(config)
        os.chdir(_working_directory(config))
    else:
        os.chdir(config["workdir"])
    apply_rlimits(config["limits"], int(config.get("vm_mb", 0)))
    _close_fds(fd)


def confine(config: dict) -> None:
    """Second half, once the notebook arrived and before any of it runs.

    The keyring after dropping privileges (the new keyring belongs to the
    notebook's uid); the parent-death signal again (a change of uid clears
    it); seccomp last, since it denies calls made before it.
    """
    _drop_privileges(int(config["uid"]), int(config["gid"]))
    linux.join_fresh_session_keyring()
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    _reset_signals()
    if config.get("seccomp"):
        linux.load_seccomp_program(config["seccomp"])
    os.environ.clear()
    os.environ.update(config["env"])
    sys.path.insert(0, "")  # as in Jupyter: modules in the working directory import
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115


# ---------------------------------------------------------------------------
# IPython semantics.
# ---------------------------------------------------------------------------
def _noop(*_args, **_kwargs) -> None:
    return None


class Shell:
    """A neutral stand-in for ``get_ipython()``.

    Magics and shell escapes do nothing (``!pip install x`` never runs a
    shell).  The timing magics ``%time``/``%%time``/``%timeit``/``%%timeit``/
    ``%prun`` and ``%%capture`` run their body once, as a student expects;
    ``%%writefile`` writes into the working directory.
    """

    RUN_BODY = ("time", "timeit", "prun", "capture")

    def __init__(self, namespace: dict, run_source) -> None:
        self.user_ns = namespace
        self._run_source = run_source

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> None:
        if name in self.RUN_BODY and line.strip():
            self._run_source(_strip_options(line))
        return None

    def run_cell_magic(self, name: str, line: str, cell: str) -> None:
        if name in self.RUN_BODY:
            self._run_source(cell)
        elif name == "writefile":
            _write_file(line, cell)
        return None

    def system(self, _cmd: str) -> None:
        return None

    def getoutput(self, _cmd: str, split: bool = True, depth: int = 0) -> list:
        return []

    def magic(self, _line: str) -> None:
        return None

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _noop


def _strip_options(line: str) -> str:
    """``%timeit -n 10 f(x)`` -> ``f(x)`` (drop leading ``-x value`` options)."""
    words = line.split()
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] in ("-n", "-r") else words[1:]
    return " ".join(words) if words else ""


def _write_file(line: str, cell: str) -> None:
    words = line.split()
    append = "-a" in words or "--append" in words
    names = [w for w in words if not w.startswith("-")]
    if names:
        with open(names[0], "a" if append else "w") as handle:
            handle.write(cell)


_transformer = None


def transform_cell(source: str) -> str:
    """IPython's own cell transformation (magics, ``!cmd``, ``x?``) into Python."""
    global _transformer
    if _transformer is None:
        from IPython.core.inputtransformer2 import TransformerManager

        _transformer = TransformerManager()
    try:
        return _transformer.transform_cell(source)
    except Exception:  # the raw text then fails to compile and is reported as such
        return source


def warm_up() -> None:
    """Import and exercise the transformer once (called in the forkserver)."""
    transform_cell("%matplotlib inline\n!echo\nx = 1\n")


def compile_shown(source: str, label: str):
    """A cell's code without its last line when that is an expression (Jupyter shows its value), and that line's."""
    text = transform_cell(source)
    tree = _ast_parse(text, label)
    last = tree.body[-1] if tree.body else None
    if _type(last) is not _ast_Expr or text.rstrip().endswith(";"):
        return _compile(tree, label, "exec", dont_inherit=True), None
    body = _ast_Module(body=tree.body[:-1], type_ignores=[])
    shown = _ast_Expression(body=last.value)
    return _compile(body, label, "exec", dont_inherit=True), _compile(shown, label, "eval", dont_inherit=True)


# The grader's own cells, compiled once in the forkserver so that every child inherits them compiled: the setup
# cell of a generated notebook is 14 KB of code that every notebook repeats and that costs ~9 ms to transform,
# parse and compile. Only the grader's code is ever put here (never a student's: children inherit it); only
# as the first code cell, where generated notebooks have it; a cell found here is the very same text, so its code
# is the same as compiling it again.
FIRST_CELL = "<cell 0>"
MAX_KNOWN = 16
_known: dict[tuple[str, str], tuple] = {}
_known_get = _known.get


def learn(sources: list[str]) -> bool:
    """Compile the grader's own ``sources`` for every later child (called in the forkserver); whether any was new."""
    new = False
    for source in sources:
        key = (source, FIRST_CELL)
        if not isinstance(source, str) or key in _known or len(_known) >= MAX_KNOWN:
            continue
        try:
            _known[key] = compile_shown(source, FIRST_CELL)
        except (SyntaxError, ValueError):  # the child compiles it again, and reports the error as the cell's
            continue
        new = True
    return new


# ---------------------------------------------------------------------------
# Time budgets inside the child (the hard limits are enforced from outside).
# ---------------------------------------------------------------------------
class NotebookTimeout(BaseException):
    """Raised into student code when a soft time budget runs out."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class _Timer:
    """One-shot soft budgets on wall-clock (SIGALRM) and CPU time (SIGPROF)."""

    armed = False

    @classmethod
    def handler(cls, signum, _frame) -> None:
        if not cls.armed:
            return
        cls.armed = False
        raise NotebookTimeout("wall" if signum == _SIGALRM else "cpu")

    @classmethod
    def arm(cls, wall: float, cpu: float) -> None:
        _signal(_SIGALRM, cls.handler)
        _signal(_SIGPROF, cls.handler)
        cls.armed = True
        _setitimer(_ITIMER_REAL, max(wall, 0.001))
        _setitimer(_ITIMER_PROF, max(cpu, 0.001))

    @classmethod
    def disarm(cls) -> None:
        cls.armed = False
        _setitimer(_ITIMER_REAL, 0)
        _setitimer(_ITIMER_PROF, 0)


def _cpu_used() -> float:
    usage = _getrusage(_RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _clock() -> float:
    return _monotonic()


# ---------------------------------------------------------------------------
# Probes: hidden inputs built by trusted code.
# ---------------------------------------------------------------------------
def quadratic_gradient(a_matrix: list, b_vector: list):
    """``df(x) = A @ x + b``; a float in and out when A is 1x1 and x is a scalar."""
    a = _np_array(a_matrix, dtype=float)
    b = _np_array(b_vector, dtype=float).reshape(-1)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] != b.shape[0]:
        raise ValueError("quadratic_gradient needs a square A and a matching b")
    scalar = a.shape == (1, 1)

    def df(x):
        if scalar and _np.ndim(x) == 0:
            return float(a[0, 0] * float(x) + b[0])
        return a @ _np.asarray(x, dtype=float) + b

    return df


def build_argument(data):
    """Turn probe argument data into Python values.

    ``{"quadratic_gradient": {"A": ..., "b": ...}}`` becomes a callable,
    ``{"ndarray": [...]}`` a float array, ``{"float64": x}`` a numpy float
    (a number that also has numpy's methods, as numpy's own results do);
    lists and other dicts are walked.
    """
    if _type(data) is dict:
        if len(data) == 1 and "quadratic_gradient" in data:
            spec = data["quadratic_gradient"]
            return quadratic_gradient(spec["A"], spec["b"])
        if len(data) == 1 and "ndarray" in data:
            return _np_array(data["ndarray"], dtype=float)
        if len(data) == 1 and "float64" in data:
            return _float64(data["float64"])
        return {key: build_argument(value) for key, value in data.items()}
    if _type(data) is list:
        return [build_argument(item) for item in data]
    return data


# ---------------------------------------------------------------------------
# The session: cells, snapshots, probes.
# ---------------------------------------------------------------------------
def exception_text(exc: BaseException) -> str:
    """``"Name: message"`` for an exception, bounded; never raises."""
    name, message = describe(exc)
    return f"{name}: {message}"


def describe(exc: BaseException) -> tuple[str, str]:
    """(class name, message) of an exception, bounded; never raises."""
    name = type_name(exc)
    try:
        message = _str_copy(str(exc))
    except BaseException:  # noqa: BLE001 - a student's __str__ may do anything
        message = "<unprintable message>"
    return name, message[:MAX_TEXT]


class CellOutput(io.TextIOBase):
    """A cell's standard output, kept up to :data:`MAX_OUTPUT` characters (the rest is dropped).

    Only for pointing a TA at an answer a notebook printed but did not bind; it never grades.
    """

    def __init__(self, quiet) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.buffer = quiet.buffer  # bytes written there, or to fileno(), go to /dev/null as before
        self._fd = quiet.fileno()

    def write(self, text) -> int:
        if not _issubclass(_type(text), str):
            raise TypeError(f"write() argument must be str, not {type_name(text)}")
        text = _str_copy(text)
        room = MAX_OUTPUT - self.size
        if room > 0:
            piece = text[:room]
            self.parts.append(piece)
            self.size += len(piece)
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fd

    @property
    def encoding(self) -> str:
        return "utf-8"

    def text(self) -> str:
        return _str_join("", self.parts)[:MAX_OUTPUT]


_NOT_EXTRAS = frozenset({"In", "Out", "get_ipython", "display", "exit", "quit"})
EXTRAS_SECONDS = 2.0  # for all the extras together (each library value also has CONVERT_SECONDS)


class Session:
    """Runs one notebook's cells and probes and reports over the channel.

    With ``extras`` in the request, each cell's printed output (and the value
    its last line shows, as Jupyter would) goes with its ``cell`` frame, and
    after the last cell the notebook's other top-level names of plain types
    are sent as ``extra`` frames (all bounded, see :mod:`grader.sandbox.frames`).
    """

    def __init__(self, channel: Channel, request: dict, config: dict) -> None:
        self.channel = channel
        self.cells: list[str] = request["cells"]
        self.names: list[str] = request["names"]
        self.probe_count = int(request.get("probe_count", 0))
        self.probe_seconds = float(request.get("probe_seconds", 2.0))
        self.extras = request.get("extras") is True
        self.limits = config["limits"]
        self.namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.namespace["get_ipython"] = lambda: self.shell
        self.namespace["display"] = self._display if self.extras else _noop
        self.output: CellOutput | None = None
        self.quiet = sys.stdout  # /dev/null (see confine), kept before any student code runs
        self.shell = Shell(self.namespace, self._run_nested)
        self.sent: dict[str, str] = {}
        self.held: dict[str, int] = {}  # name -> JSON values of what was last sent for it
        self.start = _clock()
        self.soft_wall, self.soft_cpu = self._soft_budgets()

    def _soft_budgets(self) -> tuple[float, float]:
        """Budgets after which cells are interrupted, keeping time for the probes."""
        wall, cpu = float(self.limits["wall_seconds"]), float(self.limits["cpu_seconds"])
        need = self.probe_seconds * self.probe_count + 0.2 if self.probe_count else 0.2
        return wall - min(need, wall / 3), cpu - min(need, cpu / 3)

    # -- running code ------------------------------------------------------
    def _compile(self, source: str, label: str):
        known = _known_get((source, label))
        if known is not None and known[1] is None:
            return known[0]
        return _compile(transform_cell(source), label, "exec", dont_inherit=True)

    def _run_nested(self, source: str) -> None:
        """Body of ``%%time`` & co: the student's own code, same namespace."""
        _exec(self._compile(source, "<magic>"), self.namespace)

    def _compile_shown(self, source: str, label: str):
        """The cell without its last line when that is an expression (Jupyter shows its value), and that line."""
        known = _known_get((source, label))
        return known if known is not None else compile_shown(source, label)

    def _display(self, *objects, **_kwargs) -> None:
        for obj in objects:
            self._show(obj)

    def _show(self, value) -> None:
        """Write a value's repr to the cell's output, as Jupyter's ``Out[n]`` or ``display()`` would show it."""
        if value is None or self.output is None:
            return
        try:
            text = _repr(value)
        except Exception:  # noqa: BLE001 - a student's __repr__ may fail; Jupyter would show nothing useful either
            return
        if _issubclass(_type(text), str):
            self.output.write(_str_copy(text) + "\n")

    def run_cell(self, index: int) -> tuple[dict | None, str | None]:
        """Run one cell; return (error entry or None, stop kind or None)."""
        wall_left = self.soft_wall - (_clock() - self.start)
        cpu_left = self.soft_cpu - _cpu_used()
        if self.extras:
            self.output = CellOutput(self.quiet)
            sys.stdout = self.output
        try:
            if wall_left <= 0 or cpu_left <= 0:
                raise NotebookTimeout("wall" if wall_left <= 0 else "cpu")
            _Timer.arm(wall_left, cpu_left)
            try:
                if self.extras:
                    code, shown = self._compile_shown(self.cells[index], f"<cell {index}>")
                else:
                    code, shown = self._compile(self.cells[index], f"<cell {index}>"), None
                # The one place where student code runs: the notebook's own
                # cells, inside this limited, unprivileged, isolated child.
                _exec(code, self.namespace)
                if shown is not None:
                    self._show(_eval(shown, self.namespace))
                return None, None
            except NotebookTimeout:
                raise
            except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
                name, message = describe(exc)
                return {"cell": index, "ename": name, "evalue": message}, None
            finally:
                _Timer.disarm()
        except NotebookTimeout as stop:
            _Timer.disarm()
            return self._stop_entry(index, stop.kind), stop.kind

    def _stop_entry(self, index: int, kind: str) -> dict:
        if kind == "wall":
            what = f"the notebook's wall-clock limit ({self.limits['wall_seconds']:g} s)"
        else:
            what = f"the notebook's CPU time limit ({self.limits['cpu_seconds']:g} s)"
        return {"cell": index, "ename": "TimeoutError", "evalue": f"interrupted near {what}"}

    # -- reporting ---------------------------------------------------------
    def send(self, kind: str, **fields: str) -> None:
        self.channel.send_text(frame(kind, **fields))

    def snapshot(self) -> None:
        """Send the requested names whose JSON changed since the last snapshot."""
        missing = object()
        for name in self.names:
            value = _dict_get(self.namespace, name, missing)
            if value is missing:
                if name in self.sent:
                    del self.sent[name], self.held[name]
                    self.send("del", n=_encode_str(name))
                continue
            try:
                text = to_json(value)
                held = self._held_with(name, text) if self.sent.get(name) != text else self.held[name]
                fields = {"n": _encode_str(name), "v": text}
            except Refused as why:
                text, held = "!" + _str_copy(str(why)), 1
                fields = {"n": _encode_str(name), "e": _encode_str(text[1:])}
            if self.sent.get(name) != text:
                self.sent[name], self.held[name] = text, held
                self.send("val", **fields)

    def _held_with(self, name: str, text: str) -> int:
        """The size of ``text`` in JSON values, if all requested values together stay within the run's budget."""
        size = json_shape(text.encode("utf-8", "surrogatepass"))[0]
        others = sum(count for key, count in _dict_items(self.held) if key != name)
        if others + size > MAX_RUN_ELEMENTS:
            raise Refused(f"too large (the requested values together exceed {MAX_RUN_ELEMENTS} elements)")
        return size

    def commit(self, index: int, error: dict | None) -> None:
        fields = {"i": _int_repr(index), "err": "null" if error is None else to_json(error)}
        if self.output is not None:
            try:  # the notebook can reach this object (sys.stdout) and may have broken it
                text = self.output.text()
            except BaseException:  # noqa: BLE001
                text = ""
            if _issubclass(_type(text), str) and text:
                fields["o"] = _encode_str(_str_copy(text)[:MAX_OUTPUT])
            self.output = None
        self.send("cell", **fields)

    def send_extras(self) -> None:
        """The notebook's other top-level names bound to plain values, each small, a few in all.

        For the grader to point a TA at an answer bound under another name (``iterates``); never graded.
        """
        requested = set(self.names)
        sent = total = 0
        until = min(_clock() + EXTRAS_SECONDS, self.start + self.soft_wall)  # the probes' reserve stays theirs
        for key, value in list(_dict_items(self.namespace))[:5000]:
            if sent >= MAX_EXTRAS or _clock() > until:
                break
            if _module_root(_type(value)) in _LIBRARIES and until - _clock() < CONVERT_SECONDS:
                continue
            if _type(key) is not str or key in requested or key in _NOT_EXTRAS or key[:1] == "_" or len(key) > 100:
                continue
            if not _may_be_an_answer(value):
                continue
            try:
                text = to_json(value, EXTRA_ELEMENTS, EXTRA_CHARS)
            except Refused:
                continue
            size = json_shape(text.encode("utf-8", "surrogatepass"))[0]
            if total + size > EXTRA_TOTAL:
                continue
            total, sent = total + size, sent + 1
            self.send("extra", n=_encode_str(key), v=text)

    def run_probes(self) -> None:
        """Receive each probe only now, one at a time, and call it.

        The cells never see the hidden inputs, and a probe's inputs arrive
        only after the previous probe's result was sent.
        """
        for index in range(self.probe_count):
            probe = _json_loads(self.channel.receive_text(64 * 2**20))
            self.send("probe", i=_int_repr(index), **self._probe_result(probe))

    def _probe_result(self, probe: dict) -> dict:
        function = _dict_get(self.namespace, probe["function"])
        if function is None or not callable(function):
            return {"e": _encode_str(f"NameError: function {probe['function']!r} is not defined")}
        try:
            args = build_argument(probe.get("args", []))
            kwargs = build_argument(probe.get("kwargs", {}))
        except Exception as exc:  # bad probe data from the grader itself
            return {"e": _encode_str("ProbeError: " + exception_text(exc))}
        try:
            _Timer.arm(self.probe_seconds, self.probe_seconds)
            try:
                result = function(*args, **kwargs)
            finally:
                _Timer.disarm()
        except NotebookTimeout:
            return {"e": _encode_str(f"TimeoutError: probe exceeded {self.probe_seconds:g} s")}
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            return {"e": _encode_str(exception_text(exc))}
        try:
            return {"r": to_json(result)}
        except Refused as why:
            return {"e": _encode_str(f"ValueError: result is not plain data: {why}")}

    def run(self) -> None:
        self.send("ready")
        for index in range(len(self.cells)):
            error, stop = self.run_cell(index)
            self.snapshot()
            self.commit(index, error)
            if stop is not None:
                self.send("stop", i=_int_repr(index), why=_encode_str(stop))
                break
        if self.extras:
            sys.stdout = self.quiet  # what the probes print is nobody's
            self.send_extras()
        self.run_probes()
        self.send("done")


def _may_be_an_answer(value) -> bool:
    """Numbers, short texts, lists, arrays, fractions and library values; not modules, functions or classes."""
    cls = _type(value)
    if cls is bool or value is None:
        return False
    if _issubclass(cls, str):
        return len(_str_copy(value)) <= 300
    if _issubclass(cls, (int, float, list, tuple, _Fraction, _Decimal)):
        return True
    if _np is not None and _issubclass(cls, (_ndarray, _generic)):
        return True
    return _module_root(cls) in _LIBRARIES and not _issubclass(cls, type)


def main(fd: int, config: dict) -> None:
    """Entry point in the forked child; never returns (``os._exit``)."""
    channel = Channel(fd)
    try:
        prepare(fd, config)
        request = _json_loads(channel.receive_text(64 * 2**20))  # parked here until the notebook comes
        confine(config)
        session = Session(channel, request, config)
    except BaseException as exc:  # noqa: BLE001 - report any setup failure as such
        try:
            channel.send_text(frame("setup_error", m=_encode_str(exception_text(exc))))
        finally:
            _exit(SETUP_FAILED)
    try:
        session.run()
    except BaseException:  # noqa: BLE001 - e.g. the channel was closed by the notebook
        _exit(SETUP_FAILED + 1)
    _exit(0)
