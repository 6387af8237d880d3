"""The warm process that forks one limited child per notebook.

Started by :class:`grader.sandbox.pool.Sandbox` as
``python -P -s -m grader.sandbox.forkserver --fd-socket N --uid U --gid G``
from a clean interpreter with a scrubbed environment.  It imports numpy and
IPython's input transformer once, then isolates *itself*:

* a cgroup base for its children (:mod:`grader.sandbox.cgroup`), opened
  before the jail hides ``/sys/fs/cgroup``, and the compiled seccomp
  program (:mod:`grader.sandbox.seccomp`) every child loads;
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
student's data. The only cells it is given are the grader's own (the setup
cell of the notebooks it generates, checked to be exactly that text), to
compile them once.

Control protocol on stdin/stdout (:mod:`grader.sandbox.frames`): frames of a
4-byte big-endian length and a UTF-8 JSON object.

* forkserver -> grader at start: ``{"op": "hello", "pid": ..., "report": {...}}``
* grader -> forkserver: ``{"op": "run", "id": n, "limits": {...}}``; the
  forkserver answers ``{"op": "started", "id": n, "pid": child_pid}`` and
  sends the grader's end of the child socket over ``--fd-socket``, or
  ``{"op": "failed", "id": n, "message": ...}``;
* when the child is gone: ``{"op": "exited", "id": n, "exitcode" | "signal",
  "timed_out", "cpu_seconds", "maxrss_kb", "elapsed", "peak_bytes",
  "oom_kills"}`` (the last two from the notebook's cgroup, when there is one);
* grader -> forkserver: ``{"op": "kill", "id": n}`` ends the current child;
* grader -> forkserver, between runs: ``{"op": "learn", "cells": [...]}``, the
  grader's own setup cells (never a student's), compiled here once so that
  every later child finds them compiled;
  end of file on stdin ends the forkserver (and its child).
"""

from __future__ import annotations

import argparse
import gc
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass

from grader.sandbox import child, linux, seccomp
from grader.sandbox.cgroup import Cgroups, NotebookCgroup
from grader.sandbox.frames import FrameReader, write_frame
from grader.sandbox.jail import build_jail, inside, python_paths
from grader.sandbox.limits import cgroup_memory_bytes

CPU_POLL_SECONDS = 0.05  # how often a running notebook's process-tree CPU is read

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
# The server.
# ---------------------------------------------------------------------------
def _log(message: str) -> None:
    try:
        os.write(2, f"forkserver[{os.getpid()}]: {message}\n".encode())
    except OSError:
        pass


@dataclass
class Spawned:
    """A forked child: its pid, the grader's end of its socket, and what it was made with."""

    pid: int
    sock: socket.socket
    limits: dict
    cgroup: NotebookCgroup | None
    workdir: str | None


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
        self.cgroups: Cgroups | None = None
        self.running: Spawned | None = None  # the child running a notebook
        self.parked: Spawned | None = None  # the child waiting for the next one
        self.seccomp_program: bytes | None = None
        self.rebinds: list[tuple[str, str]] = []  # kept paths under /tmp, bound again over each child's /tmp
        self.hidden: list[str] = []
        self.report: dict = {
            "namespaces": {},
            "privileges_dropped": self.root,
            "uid": self.uid,
            "cgroup": None,
            "seccomp": False,
            "missing": [],
        }

    # -- isolation of the forkserver itself --------------------------------
    def isolate(
        self, secrets: list[str], use_namespaces: bool = True, use_cgroups: bool = True, use_seccomp: bool = True
    ) -> dict:
        """Try every protection (those not switched off); record what is active and what is missing."""
        if use_seccomp:
            self._setup_seccomp()
        if use_cgroups:
            self._setup_cgroups()  # before the jail hides /sys/fs/cgroup
        for name, used in (("seccomp", use_seccomp), ("memory cgroup", use_cgroups)):
            if not used:
                self.report["missing"].append(f"{name} disabled by option")
        ns = self.report["namespaces"]
        ns["network"] = use_namespaces and self._try("network namespace", linux.unshare, linux.CLONE_NEWNET)
        ns["ipc"] = use_namespaces and self._try(
            "IPC/UTS namespaces", linux.unshare, linux.CLONE_NEWIPC | linux.CLONE_NEWUTS
        )
        ns["pid"] = use_namespaces and self._try("PID namespace", self._check_pid_namespace)
        prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
        keep, hide = python_paths(prefixes, sys.path, sys.executable, secrets)
        bound: list[str] = []

        def jail() -> None:
            paths, self.rebinds = build_jail(keep, hide, self.uid, self.gid)
            bound.extend(paths)

        ns["mount"] = use_namespaces and self._try("mount namespace", jail)
        self.hidden = hide if ns["mount"] else []
        self.report["visible_paths"] = bound if ns["mount"] else ["/ (everything the uid can read)"]
        self.report["hidden_inside_visible"] = self.hidden
        if not self.root:
            self.report["missing"].append(
                "not root: children keep the grader's uid (RLIMIT_NPROC counts all its processes, files it can read are readable)"
            )
        if not use_namespaces:
            self.report["missing"].append("namespaces disabled by option")
        if not ns["mount"]:
            self.workdirs = tempfile.mkdtemp(prefix="optgrader-nb-")
        return self.report

    def _setup_seccomp(self) -> None:
        try:
            self.seccomp_program = seccomp.compile_filter()
            self.report["seccomp"] = True
        except (ImportError, OSError) as exc:
            self.report["missing"].append(f"seccomp: {exc}")
            _log(f"seccomp unavailable: {exc}")

    def _setup_cgroups(self) -> None:
        if not self.root:
            self.report["missing"].append(
                "memory cgroup: needs root (memory is limited per process only: RLIMIT_AS, not shared memory)"
            )
            return
        try:
            self.cgroups = Cgroups.create()
            self.cgroups.remove_stale()
            self.report["cgroup"] = self.cgroups.where
        except OSError as exc:
            self.report["missing"].append(f"memory cgroup: {exc}")

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
        linux.setns(self.own_pid_ns, linux.CLONE_NEWPID)
        linux.unshare(linux.CLONE_NEWPID)

    # -- one notebook ------------------------------------------------------
    def _vm_mb(self) -> int:
        try:
            pages = int(os.pread(self.statm, 64, 0).split()[0])
            return pages * os.sysconf("SC_PAGE_SIZE") // 2**20
        except (OSError, ValueError, IndexError):
            return 0

    def _child_config(self, limits: dict, workdir: str | None, cgroup_procs: list[int]) -> dict:
        ns = self.report["namespaces"]
        return {
            "cgroup_procs": cgroup_procs,
            "seccomp": self.seccomp_program,
            "limits": limits,
            "uid": self.uid,
            "gid": self.gid,
            "vm_mb": self._vm_mb(),
            "mount_namespace": ns["mount"],
            "pid_namespace": ns["pid"],
            "workdir": workdir,
            "env": CHILD_ENV,
            "rebinds": self.rebinds,
            "hidden": self.hidden,
        }

    def _new_workdir(self) -> str | None:
        if self.workdirs is None:
            return None
        path = tempfile.mkdtemp(dir=self.workdirs)
        if self.root:
            os.chown(path, self.uid, self.gid)
        return path

    def _spawn(self, limits: dict) -> Spawned:
        """Fork a child for ``limits``: it isolates itself and waits for its notebook (raises OSError)."""
        cgroup = self.cgroups.child(cgroup_memory_bytes(limits), int(limits["max_processes"])) if self.cgroups else None
        workdir = self._new_workdir()
        config = self._child_config(limits, workdir, cgroup.procs_fds if cgroup else [])
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        try:
            if self.report["namespaces"]["pid"]:
                self._enter_fresh_pid_namespace()
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            if cgroup:
                cgroup.finish()
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            raise
        if pid == 0:  # the child: never returns
            try:
                child.main(theirs.fileno(), config)
            finally:
                os._exit(child.SETUP_FAILED)
        theirs.close()
        if cgroup:
            cgroup.close_fds()
        return Spawned(pid, ours, limits, cgroup, workdir)

    def _take_parked(self, limits: dict) -> Spawned | None:
        """The child forked after the last notebook, if it is alive and was made for these limits."""
        parked, self.parked = self.parked, None
        if parked is None:
            return None
        if parked.limits == limits and os.waitpid(parked.pid, os.WNOHANG) == (0, 0):
            return parked
        self._discard(parked)
        return None

    def _discard(self, spawned: Spawned) -> None:
        """Kill a child that will not run a notebook, and clean up after it."""
        self._kill(spawned.pid)
        try:
            os.waitpid(spawned.pid, 0)
        except ChildProcessError:
            pass
        self._clean_up(spawned)

    def _clean_up(self, spawned: Spawned) -> dict:
        """Close, remove and read what a finished child leaves: socket, working directory, cgroup."""
        spawned.sock.close()
        if spawned.workdir:
            shutil.rmtree(spawned.workdir, ignore_errors=True)
        if not spawned.cgroup:
            return {}
        try:
            used = spawned.cgroup.finish()
            return {"peak_bytes": used.peak_bytes, "oom_kills": used.oom_kills}
        except OSError as exc:
            _log(f"cgroup {spawned.cgroup.name}: {exc}")
            return {}

    def run(self, request: dict) -> None:
        """Run one notebook's child for ``request`` and report its end; then park the next child.

        The next child is forked as soon as this one is gone: it joins its
        cgroup and builds its namespaces (the slow steps: moving a process
        between cgroups waits for an RCU grace period) while the grader
        reads this notebook's result, and it waits, still root and before
        any student code, for the next notebook's request.
        """
        run_id = request.get("id")
        limits = request["limits"]
        try:
            spawned = self._take_parked(limits) or self._spawn(limits)
        except OSError as exc:
            write_frame(self.ctl_out, {"op": "failed", "id": run_id, "message": f"fork: {exc}"})
            return
        self.running = spawned
        started = time.monotonic()
        socket.send_fds(self.fd_socket, [b"F"], [spawned.sock.fileno()])
        spawned.sock.close()  # the grader's end now lives in the grader only
        write_frame(self.ctl_out, {"op": "started", "id": run_id, "pid": spawned.pid})
        cpu_limit = float(limits["cpu_seconds"])
        timed_out, killed, over_cpu = self._wait(spawned, started + float(limits["wall_seconds"]), cpu_limit)
        _, status, usage = os.wait4(spawned.pid, 0)
        self._kill_group(spawned.pid)
        self.running = None
        tree_cpu = spawned.cgroup.cpu_seconds() if spawned.cgroup else None
        report = {"op": "exited", "id": run_id, "timed_out": timed_out, "killed": killed, "cpu_exceeded": over_cpu}
        if os.WIFSIGNALED(status):
            report["signal"] = os.WTERMSIG(status)
        else:
            report["exitcode"] = os.WEXITSTATUS(status)
        own_cpu = usage.ru_utime + usage.ru_stime
        report.update(
            cpu_seconds=max(own_cpu, tree_cpu or 0.0), maxrss_kb=usage.ru_maxrss, elapsed=time.monotonic() - started
        )
        report.update(self._clean_up(spawned))
        write_frame(self.ctl_out, report)
        try:
            self.parked = self._spawn(limits)
        except OSError as exc:  # the next run forks its own child
            _log(f"could not fork ahead: {exc}")

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

    def _wait(self, spawned: Spawned, deadline: float, cpu_limit: float) -> tuple[bool, bool, bool]:
        """Wait for the child to exit; kill it at ``deadline``, on request, or when its tree's CPU passes the limit.

        The CPU of the notebook's whole process tree (its cgroup's count) is
        read every :data:`CPU_POLL_SECONDS`: RLIMIT_CPU alone holds per
        process, and forked children would each get the whole limit.
        Returns (timed_out, killed_on_request, cpu_exceeded).
        """
        pid = spawned.pid
        counts_cpu = spawned.cgroup is not None and spawned.cgroup.cpu_seconds() is not None
        pidfd = os.pidfd_open(pid)
        try:
            while True:
                if self.reader.has_frame() or self.reader.eof:
                    message = self.reader.read(0)
                    if message is None or message.get("op") == "kill":
                        self._kill(pid)
                        if message is None:
                            self._exit_after(pid)
                        return False, True, False
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._kill(pid)
                    return True, False, False
                if counts_cpu and (spawned.cgroup.cpu_seconds() or 0.0) > cpu_limit:
                    self._kill(pid)
                    return False, False, True
                pause = min(remaining, CPU_POLL_SECONDS) if counts_cpu else remaining
                ready, _, _ = select.select([pidfd, self.reader.fd], [], [], pause)
                if pidfd in ready:
                    return False, False, False
                if self.reader.fd in ready:
                    self.reader.fill()
        finally:
            os.close(pidfd)

    def _exit_after(self, pid: int) -> None:
        """The grader went away: reap the child and leave."""
        os.waitpid(pid, 0)
        self._kill_group(pid)
        if self.running:
            self._clean_up(self.running)
        self._shut_down()
        os._exit(0)

    def _shut_down(self) -> None:
        """Discard the parked child; remove the working directories and the cgroup base."""
        if self.parked:
            self._discard(self.parked)
            self.parked = None
        if self.workdirs:
            shutil.rmtree(self.workdirs, ignore_errors=True)
        if self.cgroups:
            try:
                self.cgroups.close()
            except OSError as exc:
                _log(f"cgroups left behind: {exc}")

    def serve(self) -> None:
        """Handle requests until stdin closes."""
        while True:
            message = self.reader.read()
            if message is None:
                break
            if message.get("op") == "run":
                self.run(message)
            elif message.get("op") == "learn":
                self.learn(message.get("cells"))
        self._shut_down()

    def learn(self, cells: object) -> None:
        """Compile the grader's own cells once, for every later child (:func:`grader.sandbox.child.learn`); a
        child parked before has not got them, so it is replaced by the next run."""
        if isinstance(cells, list) and child.learn([c for c in cells if isinstance(c, str)]) and self.parked:
            self._discard(self.parked)
            self.parked = None


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


def _merged_path(grader_path: list[str], own: list[str]) -> list[str]:
    """The grader's search path first (its order decides which copy of a package imports), then our own extras."""
    merged: list[str] = []
    for entry in [*grader_path, *own]:
        if entry and entry not in merged:
            merged.append(entry)
    return merged


def _importable_from(entry: str, visible: list[str], hidden: list[str]) -> bool:
    """Whether a ``sys.path`` entry still shows anything inside the jail (path hooks' names are kept)."""
    if not entry.startswith("/"):
        return bool(entry)  # e.g. an editable install's path-hook name: not a folder
    real = os.path.realpath(entry)
    return any(inside(real, v) for v in visible) and not any(inside(real, h) for h in hidden)


def _preload(modules: list[str]) -> None:
    """Import ``modules`` once so that every child starts with them loaded."""
    import importlib

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
    parser.add_argument("--no-cgroups", action="store_true", help="no memory and pids cgroup per notebook")
    parser.add_argument("--no-seccomp", action="store_true", help="no system-call filter")
    parser.add_argument("--preload", default="numpy", help="comma-separated modules to import once")
    parser.add_argument("--search-path", default="", help="the grader's sys.path (os.pathsep-separated), kept visible")
    parser.add_argument("--hide", default="", help="paths a notebook must not see (os.pathsep-separated)")
    args = parser.parse_args(argv)
    ctl_in, ctl_out = _take_stdio()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when we stop
    import grader

    package_dir = os.path.dirname(os.path.realpath(grader.__file__))
    sys.path[:] = _merged_path(args.search_path.split(os.pathsep), sys.path)
    _preload([m for m in args.preload.split(",") if m])
    fd_socket = socket.socket(fileno=args.fd_socket)
    server = ForkServer(ctl_in, ctl_out, fd_socket, args.uid, args.gid)
    secrets = [package_dir, *(p for p in args.hide.split(os.pathsep) if p)]
    report = server.isolate(secrets, not args.no_namespaces, not args.no_cgroups, not args.no_seccomp)
    if report["namespaces"].get("mount"):
        visible, hidden = report["visible_paths"], report["hidden_inside_visible"]
        sys.path[:] = [p for p in sys.path if _importable_from(p, visible, hidden)]
    gc.collect()
    gc.freeze()  # children then do not touch (and copy) the preloaded objects
    try:
        write_frame(ctl_out, {"op": "hello", "pid": os.getpid(), "report": report})
    except BrokenPipeError:  # the grader stopped before we were ready (a bad option, say): nothing to serve
        server._shut_down()
        os._exit(0)
    server.serve()


if __name__ == "__main__":
    main()
