"""The JSON API: exercises, grading, background submissions, histories, gradebook, analytics, errors."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest
from test_web_helpers import CORRECT, SIGN_ERROR, bearer, make_app, notebook_bytes

pytest_plugins = ["test_web_helpers"]  # the shared fixtures


def _wait_done(client: Any, url: str, headers: dict[str, str], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(url, headers=headers)
        if response.json["status"] in ("done", "failed"):
            return response
        time.sleep(0.05)
    raise AssertionError(f"{url} did not finish: {response.json}")


def test_health(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_exercise_list_names_every_exercise_and_assignment(client: Any, catalog: Any) -> None:
    data = client.get("/api/exercises").json
    assert [e["id"] for e in data["exercises"]] == list(catalog.exercises)
    assert {a["id"] for a in data["assignments"]} >= {"lec4-inclass", "lec4-homework"}


def test_exercise_prompt_has_numbers_but_never_answers(client: Any, tokens: dict) -> None:
    response = client.get("/api/exercises/gd-parabola?student=s001", headers=bearer(tokens["s001"]))
    assert response.status_code == 200
    data = response.json
    assert data["parameters"]["x0"] == 4 and data["student"] == "s001"
    assert "x_0 = 4" in data["prompt"]
    text = response.get_data(as_text=True)
    for answer_word in ("answer", "reference", "misconception", "0.125", "2.015625"):
        assert answer_word not in text


def test_another_students_variant_needs_their_token(client: Any, tokens: dict) -> None:
    url = "/api/exercises/gd-parabola?student=s002"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(tokens["s001"])).status_code == 403
    assert client.get(url, headers=bearer(tokens["ta"])).status_code == 200
    assert client.get("/api/exercises/nope").status_code == 404


def test_grade_returns_feedback_and_stores_it(client: Any, tokens: dict) -> None:
    headers = bearer(tokens["s001"])
    response = client.post("/api/grade", json={"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}}, headers=headers)
    assert response.status_code == 200
    result = response.json
    part = result["exercises"][0]["parts"][0]
    assert result["student"] == "s001"
    assert part["misconception"] == "sign-error" and part["status"] == "partial"
    assert "uphill" in part["feedback"]
    stored = client.get(f"/api/submissions/{result['submission']}", headers=headers).json
    assert stored["status"] == "done" and stored["result"]["score"] == result["score"]


def test_full_homework_submission(client: Any, tokens: dict) -> None:
    submission = {
        "student": "s001",
        "assignment": "lec4-homework",
        "answers": {
            "gd-step-2d": {"direction": "[-1, -2]", "new-point": [3.5, 2]},
            "minibatch-gradient": {"full": "[19/5, 11/5]", "batch": "[10/3, 2]"},
            "updates-per-epoch": {"b50": 24, "b200": "6", "b32": "38"},
        },
    }
    response = client.post("/api/grade", json=submission, headers=bearer(tokens["ta"]))
    assert response.status_code == 200
    assert response.json["score"] == response.json["max_score"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"answers": {"nope": {}}}, "unknown exercise 'nope'"),
        ({"answers": {"gd-parabola": {"bogus": 1}}}, "unknown part 'bogus'"),
        ({"answers": []}, "'answers' must be an object"),
        ({"answers": {}, "extra": 1}, "unknown field 'extra'"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_malformed_submission_is_a_400_with_the_sentence(client: Any, tokens: dict, body: Any, detail: str) -> None:
    response = client.post("/api/grade", json=body, headers=bearer(tokens["s001"]))
    assert response.status_code == 400
    assert response.json["error"] == "invalid_submission"
    assert detail in response.json["detail"]


def test_unreadable_bodies(client: Any, tokens: dict) -> None:
    headers = bearer(tokens["s001"])
    broken = client.post("/api/grade", data="{", content_type="application/json", headers=headers)
    assert broken.status_code == 400 and "not valid JSON" in broken.json["detail"]
    plain = client.post("/api/grade", data="x", content_type="text/plain", headers=headers)
    assert plain.status_code == 415 and plain.json["error"] == "unsupported_media_type"


def test_wrong_answers_are_never_server_errors(client: Any, tokens: dict) -> None:
    headers = bearer(tokens["s001"])
    for answer in ("x**x**x**x**99999", "[" * 500, "__import__('os')", "1/0", "ñ", 1e308, None):
        response = client.post("/api/grade", json={"answers": {"gd-parabola": {"iterates": answer}}}, headers=headers)
        assert response.status_code in (200, 400), answer
        if response.status_code == 200:
            assert response.json["exercises"][0]["parts"][0]["status"] != "correct"


def test_answers_submission_is_graded_in_the_background(client: Any, tokens: dict) -> None:
    headers = bearer(tokens["s001"])
    response = client.post(
        "/api/submissions", json={"answers": {"gd-parabola": {"iterates": CORRECT}}}, headers=headers
    )
    assert response.status_code == 202
    assert response.headers["Location"] == response.json["url"]
    done = _wait_done(client, response.json["url"], headers).json
    assert done["status"] == "done" and done["score"] == 6 and done["attempts"] == 1


def test_notebook_upload_is_graded_in_the_background(client: Any, tokens: dict) -> None:
    headers = bearer(tokens["s001"])
    data = notebook_bytes({"gd-parabola": {"iterates": SIGN_ERROR}}, grader={"student": "s002"})
    response = client.post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(data), "homework.ipynb"), "assignment": "lec4-inclass"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.json
    done = _wait_done(client, response.json["url"], headers).json
    assert done["kind"] == "notebook" and done["filename"] == "homework.ipynb"
    assert done["student"] == "s001"  # a student's upload is theirs, whatever the metadata says
    assert done["result"]["exercises"][0]["parts"][0]["misconception"] == "sign-error"


def test_ta_upload_takes_the_student_from_the_notebook(client: Any, tokens: dict) -> None:
    headers = bearer(tokens["ta"])
    data = notebook_bytes({}, grader={"student": "s042", "assignment": "lec4-homework"})
    response = client.post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(data), "whatever.ipynb")},
        headers=headers,
        content_type="multipart/form-data",
    )
    done = _wait_done(client, response.json["url"], headers).json
    assert done["student"] == "s042"
    assert done["assignment"] == "lec4-homework"  # stored as the metadata names it
    by_stem = client.post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(notebook_bytes({})), "s077.ipynb")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert _wait_done(client, by_stem.json["url"], headers).json["student"] == "s077"


@pytest.mark.parametrize(
    ("files", "status", "detail"),
    [
        ({"notebook": (io.BytesIO(b"{}"), "a.txt")}, 415, ".ipynb"),
        ({"notebook": (io.BytesIO(b"not json"), "a.ipynb")}, 400, "not JSON"),
        ({"notebook": (io.BytesIO(b'{"x": 1}'), "a.ipynb")}, 400, "no list of cells"),
        ({"other": (io.BytesIO(b"{}"), "a.ipynb")}, 400, "'notebook'"),
        (
            {"notebook": (io.BytesIO(b'{"cells": []}'), "a.ipynb"), "assignment": "nope"},
            400,
            "no assignment",
        ),
    ],
)
def test_bad_uploads(client: Any, tokens: dict, files: dict, status: int, detail: str) -> None:
    response = client.post(
        "/api/submissions",
        data=files,
        headers=bearer(tokens["s001"]),
        content_type="multipart/form-data",
    )
    assert response.status_code == status
    assert detail in response.json["detail"]


def test_submissions_need_json_or_multipart(client: Any, tokens: dict) -> None:
    response = client.post("/api/submissions", data="x", content_type="text/plain", headers=bearer(tokens["s001"]))
    assert response.status_code == 415


def test_history_lists_own_submissions(client: Any, tokens: dict) -> None:
    headers = bearer(tokens["s001"])
    for iterates in (SIGN_ERROR, CORRECT):
        client.post("/api/grade", json={"answers": {"gd-parabola": {"iterates": iterates}}}, headers=headers)
    data = client.get("/api/students/s001/submissions", headers=headers).json
    assert [s["score"] for s in data["submissions"]] == [6, 1.5]
    limited = client.get("/api/students/s001/submissions?limit=1", headers=headers).json
    assert len(limited["submissions"]) == 1
    bad = client.get("/api/students/s001/submissions?limit=x", headers=headers)
    assert bad.status_code == 400


def test_gradebook_and_csv(client: Any, tokens: dict) -> None:
    client.post(
        "/api/grade",
        json={"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}},
        headers=bearer(tokens["s001"]),
    )
    data = client.get("/api/gradebook", headers=bearer(tokens["ta"])).json
    assert [e["id"] for e in data["exercises"]] == ["gd-parabola"]
    rows = {r["student"]: r for r in data["students"]}
    assert rows["s001"]["scores"] == {"gd-parabola": 1.5}
    assert rows["s002"]["scores"] == {"gd-parabola": None}
    response = client.get("/api/gradebook.csv", headers=bearer(tokens["instructor"]))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == [
        "student", "name", "gd-parabola", "total", "max_score", "submissions", "attempt", "waiting_for_ta",
    ]  # fmt: skip
    assert ["s001", "", "1.5", "1.5", "12", "1", "best", ""] in table
    assert client.get("/api/gradebook?attempt=first", headers=bearer(tokens["ta"])).status_code == 400


def test_analytics(client: Any, tokens: dict) -> None:
    for student in ("s001", "s002"):
        client.post(
            "/api/grade",
            json={"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}},
            headers=bearer(tokens[student]),
        )
    data = client.get("/api/analytics/gd-parabola", headers=bearer(tokens["ta"])).json
    assert data["students"] == 2 and data["title"].startswith("Gradient descent")
    assert data["parts"][0]["id"] == "iterates"
    assert data["parts"][0]["misconceptions"] == {"sign-error": 2}
    assert client.get("/api/analytics/nope", headers=bearer(tokens["ta"])).status_code == 404


def test_errors_are_json(client: Any, tokens: dict) -> None:
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    wrong_method = client.delete("/api/grade", headers=bearer(tokens["s001"]))
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    assert wrong_method.json == {
        "error": "method_not_allowed",
        "detail": "this address does not accept that method",
    }
    unknown = client.get("/api/submissions/" + "0" * 32, headers=bearer(tokens["s001"]))
    assert unknown.status_code == 404 and unknown.json["error"] == "not_found"


def test_a_bug_is_a_json_500_without_traceback(app: Any, client: Any, tokens: dict) -> None:
    app.extensions["grader"].catalog = None  # every grading call now breaks
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.testing = False
    response = client.post(
        "/api/grade",
        json={"answers": {"gd-parabola": {"iterates": "4"}}},
        headers=bearer(tokens["s001"]),
    )
    assert response.status_code == 500
    assert response.json["error"] == "internal_error"
    assert "Traceback" not in response.get_data(as_text=True)
    assert "AttributeError" not in response.get_data(as_text=True)


def test_the_api_works_on_postgresql(pg_db: Any, catalog: Any) -> None:
    from grader.store.users import add_user

    app = make_app(pg_db, catalog)
    client = app.test_client()
    token = add_user("s001", db=pg_db)
    response = client.post(
        "/api/grade",
        json={"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}},
        headers=bearer(token),
    )
    assert response.status_code == 200
    history = client.get("/api/students/s001/submissions", headers=bearer(token)).json
    assert history["submissions"][0]["id"] == response.json["submission"]
    app.extensions["grader"].jobs.shutdown()
