"""A memory, pids and CPU-accounting cgroup per notebook (cgroup v2 where unified, else v1).

Address-space rlimits count one process's mappings; memory that lives in
the kernel on the notebook's behalf does not show there: memfd files, SysV
and POSIX shared memory, tmpfs files, page cache, pipes.  A memory cgroup
charges all of it to the notebook, so one limit covers the whole sandbox,
and its high-water mark is the notebook's true peak.

The forkserver calls :meth:`Cgroups.create` once, before it jails itself
(the cgroup file systems are not inside the jail): it keeps directory file
descriptors and works through them from then on.  Per notebook,
:meth:`Cgroups.child` makes a fresh group with the limits, the child joins
it first thing after ``fork`` (writing ``0`` to ``cgroup.procs``), and after
the child is gone :meth:`NotebookCgroup.finish` reads the peak and the
OOM kills and removes the group.

The same group counts the CPU time of the notebook's whole process tree
(``cpuacct.usage`` on v1, ``cpu.stat``'s ``usage_usec`` on v2): RLIMIT_CPU
is per process, so a notebook forking 14 spinning children would use 14
times its limit; the forkserver reads :meth:`NotebookCgroup.cpu_seconds`
while the notebook runs and stops it at the limit.

Layout: ``<the forkserver's own cgroup>/optgrader-<pid>/nb-<n>`` on v1 (one
directory per hierarchy, ``memory``, ``pids`` and ``cpuacct`` when mounted); on v2 the same under the
forkserver's own cgroup when it may delegate controllers there, else under
the hierarchy's root.  Groups of a forkserver that died are removed by the
next one that starts beside them.
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass

PREFIX = "optgrader-"
CONTROLLERS = ("memory", "pids")
CPU_ACCOUNTING = "cpuacct"  # v1 only (optional); v2 counts CPU in every group's cpu.stat


def _read(dir_fd: int, name: str) -> str:
    fd = os.open(name, os.O_RDONLY, dir_fd=dir_fd)
    try:
        return os.read(fd, 1 << 16).decode()
    finally:
        os.close(fd)


def _write(dir_fd: int, name: str, text: str) -> None:
    fd = os.open(name, os.O_WRONLY, dir_fd=dir_fd)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _keyed(text: str, key: str) -> int:
    """The value of ``key`` in a flat-keyed file (``memory.events``, ``memory.oom_control``), 0 if absent."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return int(parts[1])
    return 0


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, file-system type, super options) of the cgroup file systems."""
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            dash = fields.index("-")
            fstype, options = fields[dash + 1], set(fields[dash + 3].split(","))
            if fstype in ("cgroup", "cgroup2"):
                found.append((fields[4], fstype, options))
    return found


def _own_paths() -> dict[str, str]:
    """Controller (or ``""`` for v2) -> this process's cgroup path, from ``/proc/self/cgroup``."""
    paths: dict[str, str] = {}
    with open("/proc/self/cgroup") as handle:
        for line in handle:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    return paths


def _remove_tree(dir_fd: int, name: str) -> None:
    """Remove an empty cgroup ``name`` and its empty descendants (cgroups hold no files to delete)."""
    try:
        sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=dir_fd)
    except FileNotFoundError:
        return
    try:
        for entry in os.scandir(sub):
            if entry.is_dir(follow_symlinks=False):
                _remove_tree(sub, entry.name)
    finally:
        os.close(sub)
    _rmdir(dir_fd, name)


def _rmdir(dir_fd: int, name: str) -> None:
    """rmdir a cgroup, waiting briefly for the kernel to let go of a task that just exited."""
    for attempt in range(50):
        try:
            os.rmdir(name, dir_fd=dir_fd)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or attempt == 49:
                raise
            time.sleep(0.002)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Usage:
    """What a notebook's cgroup recorded: peak memory charged (bytes) and OOM kills."""

    peak_bytes: int | None
    oom_kills: int


class NotebookCgroup:
    """One notebook's group; ``procs_fds`` are the ``cgroup.procs`` files the child writes ``0`` to."""

    def __init__(self, owner: Cgroups, name: str, procs_fds: list[int]) -> None:
        self.owner = owner
        self.name = name
        self.procs_fds = procs_fds
        self._cpu_fd: int | None = None

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by every process of the group (None where the hierarchy does not count it)."""
        base = self.owner.cpu_base
        if base is None:
            return None
        try:
            if self._cpu_fd is None:
                usage_file = "cpu.stat" if self.owner.version == 2 else "cpuacct.usage"
                self._cpu_fd = os.open(f"{self.name}/{usage_file}", os.O_RDONLY, dir_fd=base)
            text = os.pread(self._cpu_fd, 4096, 0).decode()
        except OSError:
            return None
        if self.owner.version == 2:
            return _keyed(text, "usage_usec") / 1e6
        return int(text.strip() or 0) / 1e9

    def close_fds(self) -> None:
        for fd in self.procs_fds:
            os.close(fd)
        self.procs_fds = []

    def finish(self) -> Usage:
        """Read the peak and the OOM kills, then remove the group (call after the child is reaped)."""
        self.close_fds()
        if self._cpu_fd is not None:
            os.close(self._cpu_fd)
            self._cpu_fd = None
        memory = self.owner.bases["memory"]
        try:
            sub = os.open(self.name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=memory)
            try:
                usage = self.owner.read_usage(sub)
            finally:
                os.close(sub)
        finally:
            for base in set(self.owner.bases.values()):
                _remove_tree(base, self.name)
        return usage


class Cgroups:
    """A forkserver's cgroup base directories (one per controller; the same one on v2)."""

    def __init__(self, version: int, bases: dict[str, int], where: str) -> None:
        self.version = version
        self.bases = bases
        self.where = where
        self.count = 0

    @property
    def cpu_base(self) -> int | None:
        """The base group whose children count CPU time (v2: the shared one; v1: cpuacct's, if mounted)."""
        return self.bases.get("memory") if self.version == 2 else self.bases.get(CPU_ACCOUNTING)

    @classmethod
    def create(cls) -> Cgroups:
        """Make this process's base groups; raise :class:`OSError` saying why when that is impossible."""
        mounts = _mounts()
        own = _own_paths()
        v2 = [m for m in mounts if m[1] == "cgroup2"]
        for point, _, _ in v2:
            try:
                available = _read_path(os.path.join(point, "cgroup.controllers")).split()
            except OSError:
                continue
            if all(c in available for c in CONTROLLERS):
                return cls._create_v2(point, own.get("", "/"))
        v1 = {c: point for point, fstype, options in mounts if fstype == "cgroup" for c in CONTROLLERS if c in options}
        missing = [c for c in CONTROLLERS if c not in v1]
        if missing:
            raise OSError(errno.ENOENT, f"no cgroup hierarchy with the {' and '.join(missing)} controller")
        accounting = [p for p, fstype, options in mounts if fstype == "cgroup" and CPU_ACCOUNTING in options]
        bases = {}
        try:
            for controller in CONTROLLERS:
                parent = os.path.join(v1[controller], own.get(controller, "/").lstrip("/"))
                bases[controller] = _make_base(parent)
            if accounting:
                parent = os.path.join(accounting[0], own.get(CPU_ACCOUNTING, "/").lstrip("/"))
                try:
                    bases[CPU_ACCOUNTING] = _make_base(parent)
                except OSError:
                    pass  # CPU is then limited per process only (RLIMIT_CPU)
        except OSError:
            for fd in bases.values():
                os.close(fd)
            raise
        return cls(1, bases, f"cgroup v1 under {', '.join(sorted(set(v1.values())))}")

    @classmethod
    def _create_v2(cls, point: str, own: str) -> Cgroups:
        enable = " ".join("+" + c for c in CONTROLLERS)
        for parent in (os.path.join(point, own.lstrip("/")), point):
            try:
                _write_path(os.path.join(parent, "cgroup.subtree_control"), enable)
            except OSError:
                continue  # a group with processes cannot delegate controllers: try the root
            base = _make_base(parent)
            try:
                _write(base, "cgroup.subtree_control", enable)
            except OSError:
                os.close(base)
                raise
            return cls(2, dict.fromkeys(CONTROLLERS, base), f"cgroup v2 under {parent}")
        raise OSError(errno.EBUSY, f"cgroup v2 at {point}: cannot enable the memory and pids controllers")

    def child(self, memory_bytes: int, max_processes: int) -> NotebookCgroup:
        """A fresh group for one notebook, limits set, ready to be joined."""
        self.count += 1
        name = f"nb-{self.count}"
        procs: list[int] = []
        created: list[int] = []
        try:
            for base in dict.fromkeys(self.bases.values()):
                os.mkdir(name, dir_fd=base)
                created.append(base)
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=base)
                try:
                    self._limit(sub, base, memory_bytes, max_processes)
                    procs.append(os.open("cgroup.procs", os.O_WRONLY, dir_fd=sub))
                finally:
                    os.close(sub)
        except OSError:
            for fd in procs:
                os.close(fd)
            for base in created:
                _remove_tree(base, name)
            raise
        return NotebookCgroup(self, name, procs)

    def _limit(self, sub: int, base: int, memory_bytes: int, max_processes: int) -> None:
        if self.version == 2:
            _write(sub, "memory.max", str(memory_bytes))
            _write(sub, "memory.swap.max", "0")
            _write(sub, "pids.max", str(max_processes))
            return
        if base == self.bases["memory"]:
            _write(sub, "memory.limit_in_bytes", str(memory_bytes))
            try:  # present when swap accounting is on: no swapping past the limit
                _write(sub, "memory.memsw.limit_in_bytes", str(memory_bytes))
            except FileNotFoundError:
                pass
        if base == self.bases["pids"]:
            _write(sub, "pids.max", str(max_processes))

    def read_usage(self, sub: int) -> Usage:
        if self.version == 2:
            try:
                peak = int(_read(sub, "memory.peak"))
            except (FileNotFoundError, ValueError):  # memory.peak is Linux >= 5.19
                peak = None
            return Usage(peak, _keyed(_read(sub, "memory.events"), "oom_kill"))
        control = _read(sub, "memory.oom_control")
        return Usage(int(_read(sub, "memory.max_usage_in_bytes")), _keyed(control, "oom_kill"))

    def remove_stale(self) -> None:
        """Remove the groups of forkservers that are gone (left behind by a SIGKILL)."""
        for base in dict.fromkeys(self.bases.values()):
            parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=base)
            try:
                for entry in os.scandir(parent):
                    pid = entry.name[len(PREFIX) :]
                    if entry.name.startswith(PREFIX) and pid.isdigit() and not _pid_alive(int(pid)):
                        try:
                            _remove_tree(parent, entry.name)
                        except OSError:
                            pass  # still in use: left for later
            finally:
                os.close(parent)

    def close(self) -> None:
        """Remove this forkserver's base groups (when it stops)."""
        for base in dict.fromkeys(self.bases.values()):
            parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=base)
            os.close(base)
            try:
                _remove_tree(parent, f"{PREFIX}{os.getpid()}")
            except OSError:
                pass
            finally:
                os.close(parent)
        self.bases = {}


def _read_path(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def _write_path(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _make_base(parent: str) -> int:
    path = os.path.join(parent, f"{PREFIX}{os.getpid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY)
