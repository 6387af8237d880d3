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


# Layers of the suite (markers registered in pyproject.toml): ``pytest -m "not slow" -n auto`` is the quick loop,
# README's command runs everything. Markers follow from what a test uses, so a new test is placed by itself.
BROWSER_FILES = {"test_browser.py", "test_browser_submissions.py"}
SERVICE_FIXTURES = {"app", "client", "sqlite_db", "pg_db", "any_db", "pg_url", "tokens"}
POSTGRES_FIXTURES = {"pg_db", "pg_url"}
SANDBOX_FIXTURES = {"sandbox", "sandboxes"}
SANDBOX_FILES = {
    "test_sandbox.py", "test_sandbox_kernel.py", "test_sandbox_attacks.py", "test_notebooks.py",
    "test_notebook_cli.py", "test_faults.py", "test_jail_environment.py", "test_ta_reading.py",
    "test_jupyter_flow.py", "test_gradescope_bundle.py", "test_code_exercises.py",
}  # fmt: skip
SLOW_FILES = {
    "test_faults.py", "test_soak.py", "test_browser.py", "test_browser_submissions.py", "test_jobs_celery.py",
    "test_jupyter_flow.py", "test_remote_worker.py", "test_fuzz_api.py", "test_fuzz_parsers.py",
    "test_equivalence_pairs.py", "test_notebook_cli.py", "test_sandbox_attacks.py", "test_sandbox_kernel.py",
    "test_gradescope_bundle.py", "test_ta_reading.py", "test_fair_checking.py", "test_login_limits.py",
    "test_term.py", "test_stack_algequiv.py",
}  # fmt: skip
SLOW_TESTS = {
    "test_symbolic.py::test_overruns_in_a_row_are_each_cut_off_and_the_worker_recovers",
    "test_symbolic.py::test_the_time_limit_works_off_the_main_thread",
    "test_symbolic.py::test_an_expensive_expression_is_cut_off_and_settled_by_sampling",
    "test_fairness.py::test_cpu_is_counted_for_the_notebooks_whole_process_tree",
    "test_checking.py::test_grade_never_fails_on_any_answer",
    "test_cli.py::test_validate_proves_the_shipped_specs",
    "test_notebooks.py::test_malformed_files_get_a_reason_and_the_batch_goes_on",
    "test_notebooks.py::test_a_function_that_loops_forever_is_stopped_and_the_rest_graded",
    "test_notebooks.py::test_every_solution_notebook_scores_full",
    "test_assignment_rules.py::test_grade_applies_deadlines_from_a_csv_of_hand_in_times_only_when_asked",
    "test_assignment_rules.py::test_grade_queue_with_late_from_puts_the_hand_in_times_in_the_services_gradebook",
    "test_answer_corpus.py::test_the_corpus_is_large_and_covers_every_exercise_and_notation",
}  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        file = item.path.name
        fixtures = set(getattr(item, "fixturenames", ()))
        if file in BROWSER_FILES:
            item.add_marker(pytest.mark.browser)
        if file in BROWSER_FILES or fixtures & SERVICE_FIXTURES:
            item.add_marker(pytest.mark.service)
        if fixtures & POSTGRES_FIXTURES or "[postgresql" in item.nodeid:
            item.add_marker(pytest.mark.postgres)
        in_sandbox = file in SANDBOX_FILES or fixtures & SANDBOX_FIXTURES or item.get_closest_marker("sandbox")
        if in_sandbox:
            item.add_marker(pytest.mark.sandbox)
        # starting forkservers and interpreters is what makes a test slow: the quick loop leaves them out
        if in_sandbox or file in SLOW_FILES or f"{file}::{item.name.split('[')[0]}" in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
