"""Shared fixtures: a private data and cache folder for the whole session, the lecture's catalog, the sandbox.

The environment is set before any test runs, so that nothing a test does
(the derivative cache, the course secret) writes into the user's home or
the repository, and so that the user's own ``GRADER_*`` settings cannot
change what the tests see.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps no example database, and its caches go to a temporary folder:
# the tests write nothing into the repository (where ``.hypothesis/`` would be its default).
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="grader-tests-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
settings.register_profile("grader", database=None)
settings.load_profile("grader")


@pytest.fixture(scope="session", autouse=True)
def private_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """GRADER_CACHE, GRADER_DATA and GRADER_QUEUE private to this run; the user's variant settings cleared."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_CACHE", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("GRADER_DATA", str(tmp_path_factory.mktemp("data")))
        # A broker queue of this run's own: two test runs on one machine never take each other's jobs.
        patch.setenv("GRADER_QUEUE", f"grader-tests-{uuid.uuid4().hex[:12]}")
        for name in ("GRADER_EXERCISES", "GRADER_VARIANTS", "GRADER_SECRET"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def catalog(private_folders: None):
    """The lecture's exercises (``exercises/``) as a Catalog, loaded once."""
    from grader.specs.model import load_catalog

    return load_catalog()


@pytest.fixture(scope="session")
def sandboxes(private_folders: None) -> Iterator[Any]:
    """Warm sandboxes shared by the whole run, one per set of limits: ``sandboxes(limits)``."""
    from grader.sandbox import Sandbox

    made: dict[Any, Any] = {}

    def sandbox_for(limits: Any) -> Any:
        if limits not in made:
            made[limits] = Sandbox(workers=2, limits=limits)
        return made[limits]

    yield sandbox_for
    for box in made.values():
        box.close()


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest, sandboxes: Any) -> Any:
    """A warm sandbox with the test module's ``LIMITS`` (else 10 s of CPU, 20 s of wall time), shared by the run."""
    from grader.sandbox import Limits

    return sandboxes(getattr(request.module, "LIMITS", None) or Limits(cpu_seconds=10, wall_seconds=20))
