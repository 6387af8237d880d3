"""How an answer is read before it is graded (``POST /api/read``, the exercise page's read URL), the extras of
``include=read,plot``, and a submission's own page (``/submissions/<id>``), through Flask's test client."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from test_web_helpers import CORRECT, SIGN_ERROR, bearer, make_app, notebook_bytes

from grader.answers.parts import read_answer
from grader.checking.read_as import formula, fraction
from grader.expressions import parse

pytest_plugins = ["test_web_helpers"]  # the shared fixtures


def _login(client: Any, token: str) -> None:
    client.delete_cookie("grader_token")
    assert client.post("/login", data={"token": token}).status_code == 303


def _read(client: Any, token: str | None, **body: Any) -> Any:
    return client.post("/api/read", json=body, headers=bearer(token) if token else {})


# What is read ------------------------------------------------------------------------------------


def _key(catalog: Any, exercise: str, part: str) -> Any:
    spec = catalog.exercises[exercise]
    return next(k for k in catalog.keys(spec, catalog.variant(spec, None)) if k.part == part)


@pytest.mark.parametrize(
    ("exercise", "part", "typed", "line"),
    [
        ("gd-parabola", "iterates", "4, 2, 1, 1/2, 1/4, 1/8", "read as: 4, 2, 1, ½, ¼, ⅛ (6 numbers)"),
        ("gd-parabola", "iterates", "[4., 2., 1.]", "read as: 4, 2, 1 (3 numbers; this part asks for 6)"),
        ("gd-parabola", "iterates", "x1 = 2; x2 = -1.50", "read as: 2, −1.50 (2 numbers; this part asks for 6)"),
        ("updates-per-epoch", "b32", "1200/32", "read as: 37.5"),
        ("updates-per-epoch", "b32", "10/3", "read as: 10/3"),
        ("gd-step-2d", "direction", "(3.5, -2)", "read as: (3.5, −2) (2 numbers)"),
        ("learning-rate", "converges", "0 < eta < 1", "read as: (0, 1) (an interval)"),
        ("stationary-points", "hessian", "[[2, 0], [0, -2]]", "read as: [[2, 0], [0, −2]] (2 × 2 matrix)"),
    ],
)
def test_an_answer_is_shown_as_read(catalog: Any, exercise: str, part: str, typed: str, line: str) -> None:
    assert read_answer(_key(catalog, exercise, part), typed).line == line


def test_what_cannot_be_read_says_why_and_how_to_write_it(catalog: Any) -> None:
    reading = read_answer(_key(catalog, "gd-parabola", "iterates"), "four, two")
    assert reading.read_as is None and reading.latex is None
    assert reading.reason.startswith("Could not read 'four, two'")
    assert reading.reason.endswith("Write 6 numbers separated by commas, like 12.3, -4.56, 7.89, …")
    ambiguous = read_answer(_key(catalog, "gd-parabola", "iterates"), "37,5")
    assert "decimal comma" in ambiguous.reason and ambiguous.read_as is None
    assert read_answer(_key(catalog, "gd-parabola", "iterates"), "  ").to_json()["reason"] is None


def test_formulas_are_written_out_from_the_checked_tree_never_evaluated() -> None:
    checked = parse("2x^2/3 - sigmoid(w*a) + |x| + sqrt(x+1)", variables={"x", "w", "a"})
    text, latex, _ = formula(checked.tree, checked.source)
    assert text == "2x^2/3 − σ(w·a) + |x| + √(x + 1)"
    assert latex == r"\frac{2 {x}^{2}}{3} - \sigma\left(w \cdot a\right) + \left|x\right| + \sqrt{x + 1}"
    assert fraction(__import__("fractions").Fraction(-1, 8)) == ("−⅛", r"-\frac{1}{8}")


# POST /api/read ----------------------------------------------------------------------------------


def test_api_read_answers_a_student_and_stores_nothing(app: Any, client: Any, tokens: dict) -> None:
    response = _read(client, tokens["s001"], exercise="gd-parabola", part="iterates", text="4, 2, 1, 1/2")
    assert response.status_code == 200
    body = response.json
    assert body["read_as"] == "4, 2, 1, ½" and body["size"] == "4 numbers; this part asks for 6"
    assert body["latex"] == r"4,\ 2,\ 1,\ \frac{1}{2}" and body["reason"] is None
    assert body["hint"].startswith("write 6 numbers")
    history = client.get("/api/students/s001/submissions", headers=bearer(tokens["s001"])).json
    assert history["submissions"] == []


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"exercise": "nope", "part": "x", "text": "1"}, 400, "there is no exercise 'nope'"),
        ({"exercise": "gd-parabola", "part": "x", "text": "1"}, 400, "has no part 'x'; its parts are iterates, values"),
        ({"exercise": "gd-parabola", "part": "iterates", "text": 4}, 400, "'text' must be the answer as typed"),
        ({"exercise": "implement-gd", "part": "basic", "text": "1"}, 400, "graded from your function"),
        ({"exercise": "gd-parabola", "part": "iterates", "text": "1" * 10_001}, 400, "longer than 10000"),
        ({"exercise": "gd-parabola", "part": "iterates", "text": "1", "student": "s002"}, 403, "its own id"),
    ],
)
def test_api_read_refuses_bad_requests_with_one_sentence(
    client: Any, tokens: dict, body: dict, status: int, detail: str
) -> None:
    response = _read(client, tokens["s001"], **body)
    assert response.status_code == status
    assert detail in response.json["detail"] and "Traceback" not in response.get_data(as_text=True)


def test_api_read_needs_a_token_and_json(client: Any, tokens: dict) -> None:
    assert _read(client, None, exercise="gd-parabola", part="iterates", text="4").status_code == 401
    plain = client.post("/api/read", data="4", headers=bearer(tokens["s001"]))
    assert plain.status_code == 415 and plain.json["error"] == "unsupported_media_type"


def test_reading_is_charged_to_the_callers_cpu_share(sqlite_db: Any, catalog: Any) -> None:
    """The API's read and the page's read take from the same share as grading: past it, a 429 that says so."""
    from grader.store.users import add_user

    # A share of 1 ms that refills at 0.001 ms a second: the first reading spends it.
    app = make_app(sqlite_db, catalog, CPU_SHARE_MS_PER_MINUTE=0.06, CPU_SHARE_BURST_MS=1)
    try:
        token = add_user("s001", db=sqlite_db)
        client = app.test_client()
        first = _read(client, token, exercise="gd-parabola", part="iterates", text="4, 2")
        again = _read(client, token, exercise="gd-parabola", part="iterates", text="4, 2")
        assert first.status_code == 200 and again.status_code == 429
        assert "your share of the server's checking time" in again.json["detail"] and again.headers["Retry-After"]
        _login(client, token)
        page = client.post("/exercises/gd-parabola/read", json={"part": "iterates", "text": "4"})
        assert page.status_code == 429  # the same share, whichever way the student comes in
    finally:
        app.extensions["grader"].jobs.shutdown(wait=True)


# include=read,plot -----------------------------------------------------------------------------


def test_grade_with_include_adds_each_reading_and_the_students_own_path(client: Any, tokens: dict) -> None:
    submission = {"answers": {"gd-parabola": {"iterates": SIGN_ERROR, "values": "18, 6, 3"}}}
    plain = client.post("/api/grade", json=submission, headers=bearer(tokens["s001"])).json
    assert "read" not in plain["exercises"][0]["parts"][0] and "plot" not in plain["exercises"][0]
    body = client.post("/api/grade?include=read,plot", json=submission, headers=bearer(tokens["s001"])).json
    iterates, values = body["exercises"][0]["parts"]
    assert iterates["read"]["read_as"] == "4, 6, 9, 13.5, 20.25, 30.375"
    assert values["read"]["size"] == "3 numbers; this part asks for 6"
    plot = body["exercises"][0]["plot"]
    assert plot["data_uri"].startswith("data:image/svg+xml;base64,") and len(plot["data_uri"]) <= 256 * 1024
    assert plot["alt"].startswith("Plot of f(x) = ") and "with your path: x₀ = 4, x₁ = 6" in plot["alt"]
    svg = base64.b64decode(plot["data_uri"].split(",", 1)[1]).decode()
    assert "expected" not in svg.lower()  # the reference path is never drawn for a student
    bad = client.post("/api/grade?include=answers", json=submission, headers=bearer(tokens["s001"]))
    assert bad.status_code == 400 and "'include' takes read, plot" in bad.json["detail"]


def test_a_notebook_result_can_include_the_path_too(app: Any, client: Any, tokens: dict) -> None:
    from grader.contract import NotebookResult
    from grader.grading import grade

    def grader(data: bytes, filename: str, catalog: Any, assignment: Any = None, student: Any = None, sandbox=None):
        answers = {"gd-parabola": {"iterates": [4, 6, 9, 13.5, 20.25, 30.375]}}
        result = grade({"student": student, "answers": answers}, catalog)
        return NotebookResult(result.student, result.exercises, file=filename, answers=answers)

    app.extensions["grader"].jobs.notebook_grader = grader
    sent = client.post(
        "/api/submissions",
        data={"notebook": (__import__("io").BytesIO(notebook_bytes({})), "s001.ipynb")},
        headers=bearer(tokens["s001"]),
    )
    assert sent.status_code == 202
    app.extensions["grader"].jobs.wait(timeout=30)
    found = client.get(f"/api/submissions/{sent.json['id']}?include=plot", headers=bearer(tokens["s001"])).json
    assert found["status"] == "done"
    assert "with your path: x₀ = 4, x₁ = 6" in found["result"]["exercises"][0]["plot"]["alt"]


# Pages -------------------------------------------------------------------------------------------


def test_the_exercise_page_reads_as_the_student_types(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    page = client.get("/exercises/gd-parabola").get_data(as_text=True)
    assert 'data-read-url="/exercises/gd-parabola/read"' in page
    assert 'aria-describedby="hint-iterates read-iterates"' in page and 'id="read-iterates" hidden' in page
    assert 'id="hint-values"' in page  # the format hint beside every field
    body = client.post("/exercises/gd-parabola/read", json={"part": "iterates", "text": "4, 2, 1/8"}).json
    assert body["read_as"] == "4, 2, ⅛"
    client.delete_cookie("grader_token")
    refused = client.post("/exercises/gd-parabola/read", json={"part": "iterates", "text": "4"})
    assert refused.status_code == 401 and refused.json["detail"].startswith("log in again")


def test_every_typed_part_has_its_format_hint_beside_its_field(client: Any, tokens: dict, catalog: Any) -> None:
    _login(client, tokens["s001"])
    for exercise in catalog.exercises.values():
        if exercise.kind != "answers":
            continue
        page = client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
        for part in exercise.parts:
            assert f'id="hint-{part.id}"' in page, (exercise.id, part.id)


def test_a_submission_page_shows_feedback_and_its_path_to_its_student_and_staff_only(client: Any, tokens: dict) -> None:
    submission = {"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}}
    graded = client.post("/api/grade", json=submission, headers=bearer(tokens["s001"])).json
    _login(client, tokens["s001"])
    page = client.get(f"/submissions/{graded['submission']}").get_data(as_text=True)
    assert "<h1>Gradient descent on a parabola</h1>" in page or "Gradient descent" in page
    assert "You moved uphill" in page and "sign-error" in page
    assert 'data-status="partial"' in page and 'data-status="missing"' in page
    assert re.search(
        r'<img src="data:image/svg\+xml;base64,[^"]+" alt="Plot of f\(x\) = [^"]+ with your path: x₀ = 4', page
    )
    assert 'data-pending="0"' in page
    history = client.get("/submissions").get_data(as_text=True)
    assert f'href="/submissions/{graded["submission"]}"' in history
    status = client.get(f"/submissions/{graded['submission']}/status").json
    assert status["status"] == "done" and status["score"] == graded["score"]
    _login(client, tokens["s002"])
    other = client.get(f"/submissions/{graded['submission']}", headers={"Accept": "text/html"})
    assert other.status_code == 404 and "You moved uphill" not in other.get_data(as_text=True)
    assert client.get(f"/submissions/{graded['submission']}/status").status_code == 404
    assert client.get("/submissions/" + "x" * 200).status_code == 404
    _login(client, tokens["ta"])
    assert "You moved uphill" in client.get(f"/submissions/{graded['submission']}").get_data(as_text=True)
    client.delete_cookie("grader_token")
    assert client.get(f"/submissions/{graded['submission']}").status_code == 303  # to the login form


def test_a_waiting_notebook_page_says_so_and_polls_its_status(app: Any, client: Any, tokens: dict) -> None:
    import threading

    from test_web_helpers import fake_grade_notebook

    gate = threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(30)
        return fake_grade_notebook(*args, **kwargs)

    app.extensions["grader"].jobs.notebook_grader = held
    try:
        data = notebook_bytes({"gd-parabola": {"iterates": CORRECT}}, error="the notebook ran out of time")
        sent = client.post(
            "/api/submissions",
            data={
                "notebook": (__import__("io").BytesIO(data), "<img src=x onerror=alert(1)>.ipynb"),
                "assignment": "lec4-inclass",
            },
            headers=bearer(tokens["s001"]),
        ).json
        _login(client, tokens["s001"])
        page = client.get(f"/submissions/{sent['id']}").get_data(as_text=True)
        assert 'data-pending="1"' in page and f'data-status-url="/submissions/{sent["id"]}/status"' in page
        assert 'role="status"' in page and "This page updates itself." in page
        assert "Lecture 4, in class" in page
        assert "&lt;img src=x onerror=alert(1)&gt;.ipynb" in page and "<img src=x" not in page  # text, not markup
    finally:
        gate.set()
    app.extensions["grader"].jobs.wait(timeout=30)
    page = client.get(f"/submissions/{sent['id']}").get_data(as_text=True)
    assert "Graded: 6 / " in page and "The notebook could not be run to the end: the notebook ran out of time" in page
