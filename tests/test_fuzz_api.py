"""The API fuzzed from its own OpenAPI document (a CI-sized sample of ``bench/fuzz_api.py``).

schemathesis generates requests for every operation of ``GET /openapi.json``
(positive and negative modes, and with ids that exist), and hypothesis adds
raw bodies, hostile uploads and the pages; each is sent as nobody, a student,
another student, a TA, an instructor, and with unknown, expired, revoked and
malformed tokens. No answer may be a 5xx, every 4xx of the API is
``{"error", "detail"}`` JSON, answers conform to the document, and nothing is
logged as an unhandled error. ``FUZZ_EXAMPLES`` scales the sample (the full
run: ``python bench/fuzz_api.py --requests 10000``).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "fuzz_api.py"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))


def _harness() -> Any:
    spec = importlib.util.spec_from_file_location("fuzz_api", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_api"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


fuzz_api = _harness()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, private_folders: None) -> Any:
    built = fuzz_api.build_target(tmp_path_factory.mktemp("fuzz"))
    yield built
    built.app.extensions["grader"].jobs.shutdown(wait=True)
    built.app.extensions["grader"].db.dispose()


def _assert_clean(report: Any) -> None:
    assert report.server_errors == 0, report.failures
    assert report.failures == []
    assert report.logged_errors == []


def test_every_operation_of_the_document_is_fuzzed_without_a_server_error(target: Any) -> None:
    report = fuzz_api.Report()
    with fuzz_api.watching_logs(report):
        fuzz_api.fuzz_schema(target, report, EXAMPLES)
    _assert_clean(report)
    document = target.app.test_client().get("/openapi.json").get_json()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    labels = {label.split(" [")[0] for label, _, _ in fuzz_api._schema_strategies(target)}
    assert labels == operations - {"GET /openapi.json"}  # schemathesis leaves out the document's own address
    assert report.by_source["schema"] >= len(operations) * EXAMPLES
    assert {200, 400, 401, 403, 404} <= set(report.by_status), report.by_status


def test_raw_bodies_uploads_and_pages_without_a_server_error(target: Any) -> None:
    report = fuzz_api.Report()
    with fuzz_api.watching_logs(report):
        fuzz_api.fuzz_raw(target, report, EXAMPLES * 5)
        target.app.extensions["grader"].jobs.wait(timeout=60)
    _assert_clean(report)
    assert set(report.by_source) == {"raw", "json", "upload", "page"}
    assert report.requests >= 4 * EXAMPLES * 5 - 5


def test_the_harness_catches_a_server_error(target: Any) -> None:
    """The checks can fail: a planted 500 and a 4xx that is not JSON are both reported."""
    report = fuzz_api.Report()
    fuzz_api.check_answer(report, "canary", "GET", "/api/x", 500, "application/json", b"{}")
    fuzz_api.check_answer(report, "canary", "GET", "/api/x", 404, "text/html", b"<h1>Not Found</h1>")
    fuzz_api.check_answer(report, "canary", "GET", "/api/x", 400, "application/json", b'{"error": "x"}')
    fuzz_api.check_answer(report, "canary", "GET", "/api/x", 403, "application/json", b'{"error": "x", "detail": 1}')
    assert report.server_errors == 1
    assert len(report.failures) == 3


def test_a_planted_bug_is_found_by_the_schema_fuzzer(tmp_path: Path, private_folders: None) -> None:
    """A route that crashes on some input is found by the generated requests and reported with a curl line."""
    built = fuzz_api.build_target(tmp_path)
    try:
        from grader.web import api

        view = built.app.view_functions["api.exercise"]

        def crashes_on_students(exercise_id: str) -> Any:
            if "student" in api.request.args:
                raise RuntimeError("planted")
            return view(exercise_id)

        built.app.view_functions["api.exercise"] = crashes_on_students
        report = fuzz_api.Report()
        with fuzz_api.watching_logs(report):
            fuzz_api.fuzz_schema(built, report, 10)
        assert report.server_errors > 0
        assert any("/api/exercises/" in failure for failure in report.failures)
        assert any("planted" in logged for logged in report.logged_errors)
    finally:
        built.app.extensions["grader"].jobs.shutdown(wait=True)
        built.app.extensions["grader"].db.dispose()
