"""The forkserver's file-system view: an empty tmpfs root with read-only binds of what Python needs.

:func:`build_jail` runs once, in the forkserver, as root: a new mount
namespace whose root holds read-only, nosuid binds of the system
directories, the Python installation (:func:`python_paths`) and a few
``/etc`` files; everything else (the repository, answers, the database,
home directories) does not exist there.
"""

from __future__ import annotations

import os

from grader.sandbox import linux

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


# ---------------------------------------------------------------------------
# Building the filesystem view (root only).
# ---------------------------------------------------------------------------
def inside(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or lies below it."""
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
            in_prefix = any(inside(real, p) for p in real_prefixes)
            if repo is None or in_prefix or not (inside(real, repo) or inside(repo, real)):
                keep.add(real)
    hide = {d for d in (repo, package_dir) if d and any(inside(d, k) for k in keep)}
    return sorted(keep), sorted(hide)


def _submounts(target: str) -> list[str]:
    with open("/proc/self/mountinfo") as handle:
        points = [line.split()[4] for line in handle]
    return [p for p in points if inside(p, target) and p != target]


def _bind(source: str, target: str, writable: bool = False) -> None:
    linux.mount(source, target, None, linux.MS_BIND | linux.MS_REC)
    flags = linux.MS_BIND | linux.MS_REMOUNT | linux.MS_NOSUID
    flags |= linux.MS_NOEXEC if writable else linux.MS_RDONLY | linux.MS_NODEV
    for point in [target, *_submounts(target)]:
        try:
            linux.mount(None, point, None, flags)
        except OSError:
            if point == target:
                raise


def _replicate(path: str, base: str, bound: list[str]) -> None:
    """Make ``path`` visible read-only under ``base`` (symlinks stay symlinks)."""
    if any(inside(path, done) for done in bound) or not os.path.lexists(path):
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
        if os.path.isdir(base) and not os.path.islink(base) and not any(inside(k, base) for k in keep):
            return base
    raise OSError("no directory to build the sandbox root in")


def build_jail(keep: list[str], hide: list[str], uid: int, gid: int) -> list[str]:
    """Enter a new mount namespace whose root shows only ``keep`` (read-only) and the basics.

    Returns the paths bound read-only from the host.
    """
    linux.unshare(linux.CLONE_NEWNS)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    base = _pick_base(keep)
    linux.mount("tmpfs", base, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "size=8m,mode=755")
    try:
        bound = _populate(base, keep, uid, gid)
        os.mkdir(base + "/.old")
        linux.pivot_root(base, base + "/.old")
    except BaseException:
        linux.umount2(base, linux.MNT_DETACH)
        raise
    os.chdir("/")
    linux.umount2("/.old", linux.MNT_DETACH)
    os.rmdir("/.old")
    for path in hide:
        if os.path.isdir(path):
            linux.mount("tmpfs", path, "tmpfs", linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV, "size=4k,mode=555")
    linux.mount(None, "/", None, linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV)
    return bound
