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
    prefixes: list[str], search_path: list[str], executable: str, secrets: list[str]
) -> tuple[list[str], list[str]]:
    """(real paths to keep readable, paths to hide inside them) for an interpreter and its environment.

    Kept: ``prefixes`` (``sys.prefix`` & co), the directory of ``executable``
    and every existing directory on ``search_path`` (the grader's own
    ``sys.path``: a virtualenv anywhere, conda, the user site, a
    ``PYTHONPATH``), so a student imports whatever the grader's Python has.
    ``secrets`` (the ``grader`` package, the checkout, exercises, solutions,
    the data and cache folders) must not be seen: a search-path entry that is
    a secret, or lies inside one without lying inside a prefix, is dropped
    (the checkout on ``PYTHONPATH`` gives a student nothing to import, a
    virtualenv inside the checkout is kept). A secret inside a kept tree is
    hidden: whole, or, when kept paths lie inside it, everything in it but
    the way to them (:func:`carve`).
    """
    real_prefixes = {os.path.realpath(p) for p in prefixes if p}
    secrets = sorted({os.path.realpath(s) for s in secrets if s})
    keep = set(real_prefixes) | {os.path.dirname(os.path.realpath(executable))}
    for entry in search_path:
        if entry and os.path.isdir(entry):
            real = os.path.realpath(entry)
            in_prefix = any(inside(real, p) for p in real_prefixes)
            if in_prefix or not any(inside(real, s) for s in secrets):
                keep.add(real)
    hide: set[str] = set()
    for secret in secrets:
        if os.path.lexists(secret) and any(inside(secret, k) and secret != k for k in keep):
            hide.update(carve(secret, keep))
    return sorted(keep), sorted(hide)


def carve(secret: str, keep: set[str]) -> list[str]:
    """The paths to cover so that nothing of ``secret`` shows but the kept paths inside it (symlinks are left)."""
    if secret in keep or os.path.islink(secret):
        return []
    if not any(inside(k, secret) for k in keep):
        return [secret]
    try:
        names = sorted(os.listdir(secret))
    except OSError:
        return []
    return [path for name in names for path in carve(os.path.join(secret, name), keep)]


def private_rebinds(bound: list[str], private: str = "/tmp") -> list[str]:
    """The bound paths that a child's own ``private`` directory would cover (a virtualenv under /tmp)."""
    return [path for path in bound if inside(path, private) and path != private]


def _submounts(target: str) -> list[str]:
    try:
        with open("/proc/self/mountinfo") as handle:
            points = [line.split()[4] for line in handle]
    except OSError:  # a child without its own /proc: the source's submounts were made read-only when bound
        return []
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


STASH = "/.stash"  # read-only second views of kept paths that a child's private /tmp covers
EMPTY_FILE = "/.empty"  # bound read-only over a secret file inside a kept tree


def build_jail(keep: list[str], hide: list[str], uid: int, gid: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Enter a new mount namespace whose root shows only ``keep`` (read-only) and the basics.

    Returns the paths bound read-only from the host, and the ``(stash, path)``
    pairs a child binds again over its fresh /tmp (:func:`rebind`).
    """
    linux.unshare(linux.CLONE_NEWNS)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    base = _pick_base(keep)
    linux.mount("tmpfs", base, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "size=8m,mode=755")
    try:
        bound = _populate(base, keep, uid, gid)
        rebinds = []
        for number, path in enumerate(private_rebinds(bound)):
            stash = f"{STASH}/{number}"
            os.makedirs(base + stash) if os.path.isdir(path) else _touch(base + stash)
            _bind(path, base + stash)
            rebinds.append((stash, path))
        if any(os.path.isfile(path) and not os.path.islink(path) for path in hide):
            _touch(base + EMPTY_FILE)  # only then: the root's listing stays the system's
        os.mkdir(base + "/.old")
        linux.pivot_root(base, base + "/.old")
    except BaseException:
        linux.umount2(base, linux.MNT_DETACH)
        raise
    os.chdir("/")
    linux.umount2("/.old", linux.MNT_DETACH)
    os.rmdir("/.old")
    cover(hide)
    linux.mount(None, "/", None, linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV)
    return bound, rebinds


def cover(hide: list[str]) -> None:
    """Hide each path: a folder under an empty read-only tmpfs, a file under an empty read-only file."""
    for path in hide:
        if os.path.islink(path):
            continue
        if os.path.isdir(path):
            linux.mount("tmpfs", path, "tmpfs", linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV, "size=4k,mode=555")
        elif os.path.exists(path):
            _bind(EMPTY_FILE, path)


def rebind(rebinds: list[tuple[str, str]], hide: list[str]) -> None:
    """In a child with its own /tmp: show the kept paths that lived under /tmp again, with their secrets hidden."""
    for stash, path in rebinds:
        if os.path.isdir(stash):
            os.makedirs(path, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            _touch(path)
        _bind(stash, path)
    cover([h for h in hide if any(inside(h, path) for _, path in rebinds)])


def _touch(path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").close()
