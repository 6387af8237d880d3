"""The server-rendered pages (through Flask's test client) and the SVG plots they show."""

from __future__ import annotations

import base64
import re
from typing import Any

from test_web_helpers import CORRECT, SIGN_ERROR, bearer, make_app

from grader.reports.plots import bar_chart, histogram_chart, path_plot

pytest_plugins = ["test_web_helpers"]  # the shared fixtures


def _login(client: Any, token: str) -> None:
    assert client.post("/login", data={"token": token}).status_code == 303


def test_pages_ask_for_a_login(client: Any) -> None:
    response = client.get("/exercises/gd-parabola")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=/exercises/gd-parabola")
    assert client.get("/login").status_code == 200


def test_index_lists_the_assignments(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    page = client.get("/").get_data(as_text=True)
    assert "Lecture 4, in class" in page and "/exercises/gd-parabola" in page
    assert "Gradebook" not in page


def test_exercise_page_shows_the_prompt_with_katex(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    page = client.get("/exercises/gd-parabola").get_data(as_text=True)
    assert "Start from $x_0 = 4$" in page
    assert 'name="part-iterates"' in page and 'name="part-values"' in page
    assert "/static/katex/katex.min.js" in page and "/static/katex/auto-render.min.js" in page
    assert "cdn" not in page.lower()


def test_static_katex_is_served_locally(client: Any) -> None:
    for name in ("katex.min.js", "katex.min.css", "auto-render.min.js"):
        assert client.get(f"/static/katex/{name}").status_code == 200
    css = client.get("/static/katex/katex.min.css").get_data(as_text=True)
    font = re.search(r"url\((fonts/[^)]+\.woff2)\)", css).group(1)
    assert client.get(f"/static/katex/{font}").status_code == 200


def test_submitting_a_wrong_run_shows_the_misconception_and_a_plot(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    response = client.post("/exercises/gd-parabola", data={"part-iterates": SIGN_ERROR})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You moved uphill" in page and "sign-error" in page
    assert 'data-status="partial"' in page and 'data-status="missing"' in page
    image = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    svg = base64.b64decode(image.group(1)).decode()
    assert svg.startswith("<svg") and "<script" not in svg
    assert SIGN_ERROR in page  # the form keeps what the student typed


def test_a_choice_part_is_a_list_of_its_options_and_keeps_the_pick(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    page = client.get("/exercises/momentum-iterations").get_data(as_text=True)
    select = re.search(r'<select id="input-shape" name="part-shape"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "monotone", "overshoots", "does-not-converge"]
    answered = client.post("/exercises/momentum-iterations", data={"part-shape": "monotone"}).get_data(as_text=True)
    assert "no-momentum" in answered and "That is how plain gradient descent moves" in answered
    assert '<option value="monotone" selected>' in answered


def test_page_submissions_are_stored(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    client.post("/exercises/gd-parabola", data={"part-iterates": CORRECT})
    history = client.get("/api/students/s001/submissions", headers=bearer(tokens["s001"])).json
    assert history["submissions"][0]["score"] == 6
    assert "6 / 12" in client.get("/submissions").get_data(as_text=True)


def test_unreadable_answer_is_feedback_not_an_error(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    response = client.post("/exercises/gd-parabola", data={"part-iterates": "four, two"})
    assert response.status_code == 200
    assert 'data-status="invalid"' in response.get_data(as_text=True)


def test_notebook_exercises_are_not_answered_in_a_form(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    assert "upload it through the API" in client.get("/exercises/implement-gd").get_data(as_text=True)
    response = client.post("/exercises/implement-gd", data={})
    assert response.status_code == 400 and "notebook" in response.json["detail"]


def test_instructor_pages(client: Any, tokens: dict) -> None:
    for student in ("s001", "s002"):
        client.post(
            "/api/grade",
            json={"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}},
            headers=bearer(tokens[student]),
        )
    _login(client, tokens["s001"])
    assert client.get("/instructor").status_code == 403
    _login(client, tokens["instructor"])
    page = client.get("/instructor").get_data(as_text=True)
    assert 'id="gradebook"' in page and "s001" in page and "s002" in page
    csv_export = client.get("/instructor/gradebook.csv")
    assert csv_export.mimetype == "text/csv" and "s001" in csv_export.get_data(as_text=True)
    analytics = client.get("/instructor/exercises/gd-parabola").get_data(as_text=True)
    assert "sign-error" in analytics
    assert analytics.count("data:image/svg+xml;base64,") == 2  # histogram + misconceptions


def test_open_mode_page_grades_a_named_student(sqlite_db: Any, catalog: Any) -> None:
    client = make_app(sqlite_db, catalog, GRADER_OPEN=True).test_client()
    page = client.post("/exercises/gd-parabola", data={"student": "guest1", "part-iterates": SIGN_ERROR}).get_data(
        as_text=True
    )
    assert "You moved uphill" in page


def test_logout_forgets_the_cookie(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 303


def test_path_plot_draws_the_path() -> None:
    svg = path_plot("x**2 + 2", [4, 6, 9, 13.5, 20.25, 30.375], [4, 2, 1, 0.5, 0.25, 0.125])
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert svg.count("<path") > 10
    assert path_plot("x**2 + 2", [4, "oops", float("nan")], None).startswith("<svg")


def test_path_plot_refuses_unsafe_formulas() -> None:
    import pytest

    with pytest.raises(ValueError):
        path_plot("__import__('os').system('true')", [1, 2], None)


def test_charts_are_svg() -> None:
    assert bar_chart(["sign-error", "forgot-eta"], [3, 1], "iterates").startswith("<svg")
    assert histogram_chart([0, 6, 12], [1, 2], "scores").startswith("<svg")


def test_a_student_downloads_their_notebook_and_hands_it_in_from_the_page(client: Any, tokens: dict) -> None:
    import io
    import json
    import time

    import nbformat
    from test_web_helpers import notebook_bytes

    _login(client, tokens["s001"])
    assert 'action="/assignments/lec4-inclass/upload"' in client.get("/").get_data(as_text=True)
    download = client.get("/assignments/lec4-inclass/notebook")
    assert download.status_code == 200
    assert "lec4-inclass-s001.ipynb" in download.headers["Content-Disposition"]
    generated = nbformat.reads(download.get_data(as_text=True), as_version=4)
    assert generated.metadata["grader"] == {"assignment": "lec4-inclass", "student": "s001"}
    assert any("gd_parabola_iterates = None" in cell.source for cell in generated.cells)

    data = notebook_bytes({"gd-parabola": {"iterates": CORRECT}})
    response = client.post(
        "/assignments/lec4-inclass/upload",
        data={"notebook": (io.BytesIO(data), "mine.ipynb")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/submissions")
    history = client.get("/api/students/s001/submissions", headers=bearer(tokens["s001"])).json["submissions"]
    assert history[0]["kind"] == "notebook"
    for _ in range(100):  # graded in the background
        row = client.get(f"/api/submissions/{history[0]['id']}", headers=bearer(tokens["s001"])).json
        if row["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert row["status"] == "done" and row["result"]["exercises"][0]["parts"][0]["status"] == "correct"
    assert json.loads(data)  # the upload was the notebook as given


def test_a_wrong_file_on_the_page_says_why_and_stores_nothing(client: Any, tokens: dict) -> None:
    import io

    _login(client, tokens["s001"])
    response = client.post(
        "/assignments/lec4-inclass/upload",
        data={"notebook": (io.BytesIO(b"hello"), "essay.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert "The notebook was not handed in: upload a Jupyter notebook" in response.get_data(as_text=True)
    assert client.get("/api/students/s001/submissions", headers=bearer(tokens["s001"])).json["submissions"] == []
    assert client.post("/assignments/nope/upload").status_code == 404


def test_every_input_has_its_hint_beside_it(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    page = client.get("/exercises/gd-parabola").get_data(as_text=True)
    assert 'aria-describedby="hint-iterates"' in page
    hint = re.search(r'<p class="hint muted" id="hint-iterates">(.*?)</p>', page).group(1)
    assert hint == "Answer: write 6 numbers separated by commas, like 1.5, -2, 3, …"
    answered = client.post("/exercises/gd-parabola", data={"part-iterates": "4, 2, one"}).get_data(as_text=True)
    assert "Write 6 numbers separated by commas, like 1.5, -2, 3, …" in answered
