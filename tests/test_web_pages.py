"""The server-rendered pages (through Flask's test client) and the SVG plots they show."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
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
    assert generated.metadata["grader"] == {
        "assignment": "lec4-inclass",
        "student": "s001",
        "server": "http://localhost",
    }
    assert any("gd_parabola_iterates = None" in cell.source for cell in generated.cells)
    sources = [cell.source for cell in generated.cells]  # check() and submit() talk to this service
    assert 'check("gd-parabola")' in sources and "submit()" in sources
    assert any("'url': 'http://localhost'" in source for source in sources)

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


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_errors_are_pages_for_browsers_and_json_for_api_clients(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    for url, status, title in (("/nowhere", 404, "Page not found"), ("/instructor", 403, "Not allowed")):
        page = client.get(url, headers=BROWSER)
        assert page.status_code == status and page.mimetype == "text/html"
        body = page.get_data(as_text=True)
        assert '<html lang="en">' in body and f"<title>{title} · Optimization grader</title>" in body
        assert "Accept" in page.headers["Vary"]
        for accept in (None, "*/*", "application/json", "application/json, text/html;q=0.5"):
            answer = client.get(url, headers={"Accept": accept} if accept else {})
            assert answer.status_code == status and answer.mimetype == "application/json", accept
            assert set(answer.json) == {"error", "detail"}
    # The API's own errors follow the same rule: JSON for its clients.
    missing = client.get("/api/exercises/nope", headers=bearer(tokens["s001"]))
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    assert "There is no exercise" in client.get("/exercises/nope", headers=BROWSER).get_data(as_text=True)


def test_answer_fields_name_their_maths_and_point_to_their_feedback(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    before = client.get("/exercises/gd-parabola").get_data(as_text=True)
    assert "aria-invalid" not in before and 'aria-describedby="hint-iterates read-iterates"' in before
    assert '<span class="visually-hidden">The values f(x₀), …, f(x₅).</span>' in before
    page = client.post(
        "/exercises/gd-parabola", data={"part-iterates": SIGN_ERROR, "part-values": "four, two"}
    ).get_data(as_text=True)
    for part in ("iterates", "values"):
        field = re.search(rf'<input id="input-{part}"[^>]*>', page).group(0)
        assert f'aria-describedby="hint-{part} read-{part} feedback-{part}"' in field and 'aria-invalid="true"' in field
        assert f'id="feedback-{part}"' in page
    right = client.post("/exercises/gd-parabola", data={"part-iterates": CORRECT}).get_data(as_text=True)
    field = re.search(r'<input id="input-iterates"[^>]*>', right).group(0)
    assert 'aria-describedby="hint-iterates read-iterates feedback-iterates"' in field and "aria-invalid" not in field
    assert 'id="result" tabindex="-1"' in right  # the score summary, focused after a check


def test_the_plot_on_the_page_has_its_numbers_as_text(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    page = client.post("/exercises/gd-parabola", data={"part-iterates": SIGN_ERROR}).get_data(as_text=True)
    alt = re.search(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="([^"]+)" class="plot">', page).group(1)
    assert alt == ("Plot of f(x) = x² + 2 with your path: x₀ = 4, x₁ = 6, x₂ = 9, x₃ = 13.5, x₄ = 20.25, x₅ = 30.375.")
    assert "expected" not in alt  # the page never shows the reference path


def test_history_updates_itself_without_a_page_refresh(app: Any, client: Any, tokens: dict) -> None:
    from grader.store import submissions

    _login(client, tokens["s001"])
    assert "No submissions yet" in client.get("/submissions").get_data(as_text=True)
    submissions.create_queued(app.extensions["grader"].db, "s001", "notebook", b"{}", filename="mine.ipynb")
    page = client.get("/submissions").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    status = re.search(r'<p id="grading-status"[^>]*>([^<]*)</p>', page)
    assert 'role="status"' in status.group(0) and 'aria-live="polite"' in status.group(0)
    assert 'data-pending="1"' in status.group(0)
    assert status.group(1) == "1 notebook is being graded; this list updates itself."
    assert 'data-label="mine.ipynb"' in page and 'data-status="queued"' in page


def test_the_histogram_counts_are_a_table(client: Any, tokens: dict) -> None:
    for student, answer in (("s001", SIGN_ERROR), ("s002", CORRECT)):
        client.post(
            "/api/grade", json={"answers": {"gd-parabola": {"iterates": answer}}}, headers=bearer(tokens[student])
        )
    _login(client, tokens["ta"])
    page = client.get("/instructor/exercises/gd-parabola").get_data(as_text=True)
    table = re.search(r'<table class="grid" id="histogram">(.*?)</table>', page, re.DOTALL).group(1)
    counts = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', table)]
    assert len(counts) == 10 and sum(counts) == 2
    assert "<caption" in table and '<th scope="row">0 – 1.2</th>' in table
    assert 'alt="Histogram of exercise scores; the table below gives its counts."' in page


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        ("The values $f(x_0), \\dots, f(x_{5})$.", "The values f(x₀), …, f(x₅)."),
        ("The new point $x_{t+1}$.", "The new point xₜ₊₁."),
        ("For which $\\eta$ does it converge? Give `(a, b)`.", "For which η does it converge? Give (a, b)."),
        ("The Hessian $\\nabla^2 f$ here", "The Hessian ∇² f here"),
        ("$\\nabla_\\theta L = \\frac{1}{n}\\sum_i g_i$", "∇ sub θ L = 1/n∑ᵢ gᵢ"),
        ("$w_{batch}$", "w sub batch"),
        ("no maths, 3 $ and 4", "no maths, 3 $ and 4"),
    ],
)
def test_maths_as_text(tex: str, text: str) -> None:
    from grader.reports.maths_text import maths_as_text

    assert maths_as_text(tex) == text


def test_every_input_has_its_hint_beside_it(client: Any, tokens: dict) -> None:
    _login(client, tokens["s001"])
    page = client.get("/exercises/gd-parabola").get_data(as_text=True)
    assert 'aria-describedby="hint-iterates read-iterates"' in page
    hint = re.search(r'<p class="hint muted" id="hint-iterates">(.*?)</p>', page).group(1)
    assert hint == "Answer: write 6 numbers separated by commas, like 12.3, -4.56, 7.89, …"
    answered = client.post("/exercises/gd-parabola", data={"part-iterates": "4, 2, one"}).get_data(as_text=True)
    assert "Write 6 numbers separated by commas, like 12.3, -4.56, 7.89, …" in answered


def test_an_unexpected_error_is_a_page_without_a_traceback_for_a_browser(sqlite_db: Any, catalog: Any) -> None:
    app = make_app(sqlite_db, catalog)

    def broken() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", view_func=broken)
    client = app.test_client()
    page = client.get("/broken", headers=BROWSER)
    assert page.status_code == 500 and page.mimetype == "text/html"
    body = page.get_data(as_text=True)
    assert "<title>Something went wrong on our side · Optimization grader</title>" in body
    assert "secret internals" not in body and "Traceback" not in body
    assert client.get("/broken").json == {
        "error": "internal_error",
        "detail": "the server hit an unexpected error; it has been logged",
    }
    app.extensions["grader"].jobs.shutdown(wait=True)
