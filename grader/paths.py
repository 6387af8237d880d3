"""Where things live: specs, solutions, the data folder and the cache.

Environment variables override the defaults: ``GRADER_EXERCISES`` (spec
folder), ``GRADER_DATA`` (database, secret, uploads), ``GRADER_CACHE``.
By default the specs are the project's ``exercises/`` folder and the data
folder is ``data/`` beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent


def exercises_dir() -> Path:
    return Path(os.environ.get("GRADER_EXERCISES") or PROJECT_ROOT / "exercises")


def solutions_dir() -> Path:
    return PROJECT_ROOT / "solutions"


def data_dir() -> Path:
    default = PROJECT_ROOT / "data" if (PROJECT_ROOT / "exercises").is_dir() else Path.home() / ".local/share/optgrader"
    return Path(os.environ.get("GRADER_DATA") or default)


def cache_dir() -> Path:
    return Path(os.environ.get("GRADER_CACHE") or Path.home() / ".cache" / "optgrader")
