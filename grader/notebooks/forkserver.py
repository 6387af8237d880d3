"""The warm process that forks one limited child per notebook.

Started by :class:`grader.notebooks.sandbox.Sandbox` as
``python -P -s -m grader.notebooks.forkserver --fd-socket N --uid U --gid G``
from a clean interpreter with a scrubbed environment.  It imports numpy and
IPython's input transformer once, then isolates *itself*:

* a new network namespace (nothing but a downed loopback), new IPC and UTS
  namespaces;
* a new mount namespace whose root is an empty tmpfs holding read-only binds
  of the system directories and the Python installation only, so the
  repository (exercises, solutions), the data folder with the database, home
  directories and other submissions do not exist for it or its children.

It never imports or loads answers, specs, the database or tokens, and it
never reads a notebook's cells or results: the grader talks to each child
directly over a socket the forkserver hands back with ``SCM_RIGHTS``, so the
forkserver's memory (which every child inherits) never holds another
student's data.

Control protocol on stdin/stdout: frames of a 4-byte big-endian length and a
UTF-8 JSON object.

* forkserver -> grader at start: ``{"op": "hello", "pid": ..., "report": {...}}``
* grader -> forkserver: ``{"op": "run", "id": n, "limits": {...}}``; the
  forkserver answers ``{"op": "started", "id": n, "pid": child_pid}`` and
  sends the grader's end of the child socket over ``--fd-socket``, or
  ``{"op": "failed", "id": n, "message": ...}``;
* when the child is gone: ``{"op": "exited", "id": n, "exitcode" | "signal",
  "timed_out", "cpu_seconds", "maxrss_kb", "elapsed"}``;
* grader -> forkserver: ``{"op": "kill", "id": n}`` ends the current child;
  end of file on stdin ends the forkserver (and its child).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time

MAX_CONTROL_FRAME = 1 << 20
_HEADER = struct.Struct(">I")

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/mime.types",
)
DEVICES = ("null", "zero", "full", "random", "urandom")
CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "USER": "student",
    "LOGNAME": "student",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": "/tmp/.matplotlib",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}


# ---------------------------------------------------------------------------
# Length-prefixed JSON framing (shared with the grader side).
# ---------------------------------------------------------------------------
def encode_frame(message: dict) -> bytes:
    """One control frame: 4-byte big-endian length, then compact UTF-8 JSON."""
    body = json.dumps(message, separators=(",", ":")).encode()
    return _HEADER.pack(len(body)) + body


def write_frame(fd: int, message: dict) -> None:
    """Write one whole frame to ``fd`` (blocking)."""
    data = memoryview(encode_frame(message))
    while data:
        data = data[os.write(fd, data) :]


class FrameReader:
    """Reads length-prefixed JSON frames from a file descriptor."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.eof = False

    def _pop(self) -> dict | None:
        if len(self.buffer) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(self.buffer)
        if size > MAX_CONTROL_FRAME:
            raise ValueError(f"control frame of {size} bytes")
        if len(self.buffer) < _HEADER.size + size:
            return None
        body = bytes(self.buffer[_HEADER.size : _HEADER.size + size])
        del self.buffer[: _HEADER.size + size]
        message = json.loads(body)
        if not isinstance(message, dict):
            raise ValueError("control frame is not an object")
        return message

    def has_frame(self) -> bool:
        """True when a whole frame is already buffered."""
        if len(self.buffer) < _HEADER.size:
            return False
        (size,) = _HEADER.unpack_from(self.buffer)
        return len(self.buffer) >= _HEADER.size + size

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
# Building the filesystem view (root only).
# ---------------------------------------------------------------------------
def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def python_paths(
    prefixes: list[str], search_path: list[str], executable: str, package_dir: str
) -> tuple[list[str], list[str]]:
    """(real paths to keep readable, paths to hide inside them) for an interpreter.

    ``prefixes`` (``sys.prefix`` & co) and the existing directories on
    ``search_path`` (``sys.path``) are kept, and the directory of
    ``executable``.  ``package_dir`` is the ``grader`` package: unless it is
    installed (its parent is a ``site-packages``) its parent is the
    repository, with the exercises and solutions; ``sys.path`` entries
    inside or above the repository are then dropped (an interpreter
    installed inside the repository is kept, the rest of it is not).  The
    package directory itself, and the repository if a kept path contains it,
    are hidden under empty read-only mounts.
    """
    real_prefixes = {os.path.realpath(p) for p in prefixes}
    package_dir = os.path.realpath(package_dir)
    parent = os.path.dirname(package_dir)
    installed = os.path.basename(parent) in ("site-packages", "dist-packages")
    repo = None if installed else parent
    keep = set(real_prefixes) | {os.path.dirname(os.path.realpath(executable))}
    for entry in search_path:
        if entry and os.path.isdir(entry):
            real = os.path.realpath(entry)
            in_prefix = any(_inside(real, p) for p in real_prefixes)
            if repo is None or in_prefix or not (_inside(real, repo) or _inside(repo, real)):
                keep.add(real)
    hide = {d for d in (repo, package_dir) if d and any(_inside(d, k) for k in keep)}
    return sorted(keep), sorted(hide)


def _submounts(target: str) -> list[str]:
    with open("/proc/self/mountinfo") as handle:
        points = [line.split()[4] for line in handle]
    return [p for p in points if _inside(p, target) and p != target]


def _bind(source: str, target: str, writable: bool = False) -> None:
    from grader.notebooks import child

    child.mount(source, target, None, child.MS_BIND | child.MS_REC)
    flags = child.MS_BIND | child.MS_REMOUNT | child.MS_NOSUID
    flags |= child.MS_NOEXEC if writable else child.MS_RDONLY | child.MS_NODEV
    for point in [target, *_submounts(target)]:
        try:
            child.mount(None, point, None, flags)
        except OSError:
            if point == target:
                raise


def _replicate(path: str, base: str, bound: list[str]) -> None:
    """Make ``path`` visible read-only under ``base`` (symlinks stay symlinks)."""
    if any(_inside(path, done) for done in bound) or not os.path.lexists(path):
        return
    target = base + path
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.islink(path):
        os.symlink(os.readlink(path), target)
        real = os.path.realpath(path)
        if os.path.exists(real):
            _replicate(real, base, bound)
        return
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        open(target, "w").close()
    _bind(path, target)
    bound.append(path)


def _write(path: str, text: str, mode: int = 0o644) -> None:
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)


def _populate(base: str, keep: list[str], uid: int, gid: int) -> list[str]:
    bound: list[str] = []
    for path in [*SYSTEM_DIRS, *sorted(keep, key=len), *ETC_FILES]:
        _replicate(path, base, bound)
    os.makedirs(base + "/etc", exist_ok=True)
    _write(
        base + "/etc/passwd",
        f"root:x:0:0:root:/root:/usr/sbin/nologin\nstudent:x:{uid}:{gid}:student:/tmp:/usr/sbin/nologin\n",
    )
    _write(base + "/etc/group", f"root:x:0:\nstudent:x:{gid}:\n")
    os.makedirs(base + "/dev", exist_ok=True)
    for name in DEVICES:
        open(base + "/dev/" + name, "w").close()
        _bind("/dev/" + name, base + "/dev/" + name, writable=True)
    for name, link in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("shm", "/tmp"),
    ):
        os.symlink(link, f"{base}/dev/{name}")
    for name, mode in (("proc", 0o555), ("tmp", 0o1777)):
        os.makedirs(f"{base}/{name}", exist_ok=True)
        os.chmod(f"{base}/{name}", mode)
    return bound


def _pick_base(keep: list[str]) -> str:
    for base in ("/tmp", "/mnt", "/media", "/srv", "/opt"):
        if os.path.isdir(base) and not os.path.islink(base) and not any(_inside(k, base) for k in keep):
            return base
    raise OSError("no directory to build the sandbox root in")


def build_jail(keep: list[str], hide: list[str], uid: int, gid: int) -> list[str]:
    """Enter a new mount namespace whose root shows only ``keep`` (read-only) and the basics.

    Returns the paths bound read-only from the host.
    """
    from grader.notebooks import child

    child.unshare(child.CLONE_NEWNS)
    child.mount(None, "/", None, child.MS_REC | child.MS_PRIVATE)
    base = _pick_base(keep)
    child.mount("tmpfs", base, "tmpfs", child.MS_NOSUID | child.MS_NODEV, "size=8m,mode=755")
    try:
        bound = _populate(base, keep, uid, gid)
        os.mkdir(base + "/.old")
        child.pivot_root(base, base + "/.old")
    except BaseException:
        child.umount2(base, child.MNT_DETACH)
        raise
    os.chdir("/")
    child.umount2("/.old", child.MNT_DETACH)
    os.rmdir("/.old")
    for path in hide:
        if os.path.isdir(path):
            child.mount("tmpfs", path, "tmpfs", child.MS_RDONLY | child.MS_NOSUID | child.MS_NODEV, "size=4k,mode=555")
    child.mount(None, "/", None, child.MS_REMOUNT | child.MS_BIND | child.MS_RDONLY | child.MS_NOSUID | child.MS_NODEV)
    return bound


# ---------------------------------------------------------------------------
# The server.
# ---------------------------------------------------------------------------
def _log(message: str) -> None:
    try:
        os.write(2, f"forkserver[{os.getpid()}]: {message}\n".encode())
    except OSError:
        pass


class ForkServer:
    """Forks isolated children on request; see the module docstring for the protocol."""

    def __init__(self, ctl_in: int, ctl_out: int, fd_socket: socket.socket, uid: int, gid: int) -> None:
        self.reader = FrameReader(ctl_in)
        self.ctl_out = ctl_out
        self.fd_socket = fd_socket
        self.root = os.geteuid() == 0
        self.uid = uid if self.root else os.getuid()
        self.gid = gid if self.root else os.getgid()
        self.statm = os.open("/proc/self/statm", os.O_RDONLY)
        self.own_pid_ns: int | None = None
        self.workdirs: str | None = None
        self.report: dict = {"namespaces": {}, "privileges_dropped": self.root, "uid": self.uid, "missing": []}

    # -- isolation of the forkserver itself --------------------------------
    def isolate(self, use_namespaces: bool, package_dir: str) -> dict:
        """Try every protection; record what is active and what is missing."""
        from grader.notebooks import child

        ns = self.report["namespaces"]
        ns["network"] = use_namespaces and self._try("network namespace", child.unshare, child.CLONE_NEWNET)
        ns["ipc"] = use_namespaces and self._try(
            "IPC/UTS namespaces", child.unshare, child.CLONE_NEWIPC | child.CLONE_NEWUTS
        )
        ns["pid"] = use_namespaces and self._try("PID namespace", self._check_pid_namespace)
        prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
        keep, hide = python_paths(prefixes, sys.path, sys.executable, package_dir)
        bound: list[str] = []
        ns["mount"] = use_namespaces and self._try(
            "mount namespace", lambda: bound.extend(build_jail(keep, hide, self.uid, self.gid))
        )
        self.report["visible_paths"] = bound if ns["mount"] else ["/ (everything the uid can read)"]
        self.report["hidden_inside_visible"] = hide if ns["mount"] else []
        if not self.root:
            self.report["missing"].append(
                "not root: children keep the grader's uid (RLIMIT_NPROC counts all its processes, files it can read are readable)"
            )
        if not use_namespaces:
            self.report["missing"].append("namespaces disabled by option")
        if not ns["mount"]:
            self.workdirs = tempfile.mkdtemp(prefix="optgrader-nb-")
        return self.report

    def _try(self, what: str, function, *args) -> bool:
        if not self.root:
            self.report["missing"].append(f"{what}: needs root")
            return False
        try:
            function(*args)
            return True
        except OSError as exc:
            self.report["missing"].append(f"{what}: {exc}")
            _log(f"{what} unavailable: {exc}")
            return False

    def _check_pid_namespace(self) -> None:
        self.own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
        self._enter_fresh_pid_namespace()
        pid = os.fork()
        if pid == 0:
            os._exit(0 if os.getpid() == 1 else 1)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise OSError(0, "first child is not pid 1")

    def _enter_fresh_pid_namespace(self) -> None:
        from grader.notebooks import child

        child.setns(self.own_pid_ns, child.CLONE_NEWPID)
        child.unshare(child.CLONE_NEWPID)

    # -- one notebook ------------------------------------------------------
    def _vm_mb(self) -> int:
        try:
            pages = int(os.pread(self.statm, 64, 0).split()[0])
            return pages * os.sysconf("SC_PAGE_SIZE") // 2**20
        except (OSError, ValueError, IndexError):
            return 0

    def _child_config(self, limits: dict, workdir: str | None) -> dict:
        ns = self.report["namespaces"]
        return {
            "limits": limits,
            "uid": self.uid,
            "gid": self.gid,
            "vm_mb": self._vm_mb(),
            "mount_namespace": ns["mount"],
            "pid_namespace": ns["pid"],
            "workdir": workdir,
            "env": CHILD_ENV,
        }

    def _new_workdir(self) -> str | None:
        if self.workdirs is None:
            return None
        path = tempfile.mkdtemp(dir=self.workdirs)
        if self.root:
            os.chown(path, self.uid, self.gid)
        return path

    def run(self, request: dict) -> None:
        """Fork one child for ``request`` and report its end."""
        from grader.notebooks import child

        run_id = request.get("id")
        limits = request["limits"]
        workdir = self._new_workdir()
        config = self._child_config(limits, workdir)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        try:
            if self.report["namespaces"]["pid"]:
                self._enter_fresh_pid_namespace()
            pid = os.fork()
        except OSError as exc:
            ours.close()
            theirs.close()
            write_frame(self.ctl_out, {"op": "failed", "id": run_id, "message": f"fork: {exc}"})
            return
        if pid == 0:  # the child: never returns
            try:
                child.main(theirs.fileno(), config)
            finally:
                os._exit(child.SETUP_FAILED)
        started = time.monotonic()
        theirs.close()
        socket.send_fds(self.fd_socket, [b"F"], [ours.fileno()])
        ours.close()
        write_frame(self.ctl_out, {"op": "started", "id": run_id, "pid": pid})
        timed_out, killed = self._wait(pid, started + float(limits["wall_seconds"]))
        _, status, usage = os.wait4(pid, 0)
        self._kill_group(pid)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        report = {"op": "exited", "id": run_id, "timed_out": timed_out, "killed": killed}
        if os.WIFSIGNALED(status):
            report["signal"] = os.WTERMSIG(status)
        else:
            report["exitcode"] = os.WEXITSTATUS(status)
        report.update(
            cpu_seconds=usage.ru_utime + usage.ru_stime, maxrss_kb=usage.ru_maxrss, elapsed=time.monotonic() - started
        )
        write_frame(self.ctl_out, report)

    def _kill(self, pid: int) -> None:
        try:
            if self.report["namespaces"]["pid"]:
                os.kill(pid, signal.SIGKILL)  # pid 1 of its namespace: the kernel kills the rest
            else:
                os.killpg(pid, signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _kill_group(self, pid: int) -> None:
        if not self.report["namespaces"]["pid"]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _wait(self, pid: int, deadline: float) -> tuple[bool, bool]:
        """Wait for the child to exit; kill it at ``deadline`` or on request.

        Returns (timed_out, killed_on_request).
        """
        pidfd = os.pidfd_open(pid)
        try:
            while True:
                if self.reader.has_frame() or self.reader.eof:
                    message = self.reader.read(0)
                    if message is None or message.get("op") == "kill":
                        self._kill(pid)
                        if message is None:
                            self._exit_after(pid)
                        return False, True
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._kill(pid)
                    return True, False
                ready, _, _ = select.select([pidfd, self.reader.fd], [], [], remaining)
                if pidfd in ready:
                    return False, False
                if self.reader.fd in ready:
                    self.reader.fill()
        finally:
            os.close(pidfd)

    def _exit_after(self, pid: int) -> None:
        """The grader went away: reap the child and leave."""
        os.waitpid(pid, 0)
        self._kill_group(pid)
        os._exit(0)

    def serve(self) -> None:
        """Handle requests until stdin closes."""
        while True:
            message = self.reader.read()
            if message is None:
                break
            if message.get("op") == "run":
                self.run(message)
        if self.workdirs:
            shutil.rmtree(self.workdirs, ignore_errors=True)


# ---------------------------------------------------------------------------
# Entry point.
# ---------------------------------------------------------------------------
def _take_stdio() -> tuple[int, int]:
    """Move the control pipes off fds 0/1 so stray prints cannot corrupt them."""
    ctl_in, ctl_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    return ctl_in, ctl_out


def _preload(modules: list[str]) -> None:
    """Import ``modules`` once so that every child starts with them loaded."""
    import importlib

    from grader.notebooks import child

    child.warm_up()
    for name in modules:
        try:
            module = importlib.import_module(name)
            if name == "matplotlib.pyplot":  # load the Agg canvas and a font too
                figure = module.figure()
                figure.text(0.5, 0.5, "warm")
                figure.canvas.draw()
                module.close(figure)
        except Exception as exc:  # an optional extra; the sandbox still works
            _log(f"could not preload {name}: {exc}")


def main(argv: list[str] | None = None) -> None:
    """Run the forkserver (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fd-socket", type=int, required=True)
    parser.add_argument("--uid", type=int, default=65534)
    parser.add_argument("--gid", type=int, default=65534)
    parser.add_argument("--no-namespaces", action="store_true", help="rlimits + setsid/killpg only")
    parser.add_argument("--preload", default="numpy", help="comma-separated modules to import once")
    args = parser.parse_args(argv)
    ctl_in, ctl_out = _take_stdio()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when we stop
    import grader

    package_dir = os.path.dirname(os.path.realpath(grader.__file__))
    _preload([m for m in args.preload.split(",") if m])
    fd_socket = socket.socket(fileno=args.fd_socket)
    server = ForkServer(ctl_in, ctl_out, fd_socket, args.uid, args.gid)
    report = server.isolate(not args.no_namespaces, package_dir)
    repo = os.path.dirname(package_dir)
    sys.path[:] = [p for p in sys.path if p and not _inside(os.path.realpath(p), repo)]
    gc.collect()
    gc.freeze()  # children then do not touch (and copy) the preloaded objects
    write_frame(ctl_out, {"op": "hello", "pid": os.getpid(), "report": report})
    server.serve()


if __name__ == "__main__":
    main()
