"""Where things live: specs, solutions, the data folder and the cache.

Settings override the defaults (:mod:`grader.settings`): ``GRADER_EXERCISES``
(spec folder), ``GRADER_DATA`` (database, secret, uploads), ``GRADER_CACHE``.
By default the specs are the project's ``exercises/`` folder and the data
folder is ``data/`` beside it.

Files that hold secrets (the database, the course secret, token lists) are
made readable by their owner only (0600), also when they already exist, and
so is the data folder (0700): see :func:`private_file` and :func:`private_dir`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from grader.settings import current

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent


def exercises_dir() -> Path:
    return current().exercises or PROJECT_ROOT / "exercises"


def solutions_dir() -> Path:
    return PROJECT_ROOT / "solutions"


def data_dir() -> Path:
    default = PROJECT_ROOT / "data" if (PROJECT_ROOT / "exercises").is_dir() else Path.home() / ".local/share/optgrader"
    return current().data or default


def cache_dir() -> Path:
    return current().cache or Path.home() / ".cache" / "optgrader"


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner may enter (0700): created so, or narrowed if it exists."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # not ours to change: leave it as its owner made it
        path.chmod(PRIVATE_DIR)
    return path


def private_file(path: Path | str, flags: int = os.O_RDONLY) -> int:
    """Open ``path`` (created if missing) with ``flags``, readable by its owner only (0600) even if it existed.

    Returns the file descriptor. The mode is set on the open file, so there is
    no moment at which a file created here is readable by others.
    """
    descriptor = os.open(path, flags | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)
    except PermissionError:  # someone else's file that we may write: its mode is theirs
        pass
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def write_atomically(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all: a temporary file beside it, then a rename.

    On any error (a full disk, a file size limit) the temporary file is
    removed and ``path`` keeps what it held before. The file gets ``mode``,
    else the mode a plain ``open()`` would give (0666 less the umask).
    Something that is not a regular file (``/dev/null``, ``/dev/stdout``, a
    pipe) is written to as it is: renaming over it would replace the device
    itself.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        with path.open("wb") as stream:
            stream.write(raw)
        return
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(descriptor, mode)  # mkstemp's own is 0600
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(raw)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
