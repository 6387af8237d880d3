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
