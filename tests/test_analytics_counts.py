"""Analytics that agree with the gradebook: both count each student's best or latest attempt, the same one, and
say which; per exercise the misconceptions, the first wrong steps and the unread answers with their forms; and the
small things people noticed (plurals, ε as a power of ten, formulas as the prompt writes them). SQLite and
PostgreSQL where the store is read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from test_web_helpers import CORRECT, SIGN_ERROR, bearer, make_app

from grader.store import gradebook as book
from grader.store.db import Database
from grader.store.models import Submission
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

STEP_THREE = "4, 2, 1, 0.7, 0.35, 0.175"  # a slip at step 3, honest after it
UNREAD = ("four, two", "4; 2; 1; 0.5; 0.25; abc", "4, 2, 1, 0.5, 0.25, zz")


@pytest.fixture
def klass(any_db: Database, catalog: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    """A class on SQLite or PostgreSQL: s001 got worse, s002 better, s003 slipped once, s004–s006 unreadable."""
    app = make_app(any_db, catalog)
    tokens = {name: add_user(name, db=any_db) for name in ("s001", "s002", "s003", "s004", "s005", "s006")}
    tokens["ta"] = add_user("ta1", "ta", db=any_db)
    client = app.test_client()
    handed: list[tuple[str, str]] = []
    for student, answer in (
        ("s001", CORRECT),
        ("s002", SIGN_ERROR),
        ("s001", SIGN_ERROR),
        ("s002", CORRECT),
        ("s003", STEP_THREE),
        ("s004", UNREAD[0]),
        ("s005", UNREAD[1]),
        ("s006", UNREAD[2]),
    ):
        response = client.post(
            "/api/grade", json={"answers": {"gd-parabola": {"iterates": answer}}}, headers=bearer(tokens[student])
        )
        assert response.status_code == 200
        handed.append((response.json["submission"], student))
    with any_db.write() as session:  # one second apart, in the order handed in
        for age, (submission, _) in enumerate(reversed(handed)):
            row = session.get(Submission, submission)
            row.created_at = row.created_at - timedelta(seconds=age)
    yield app, tokens
    app.extensions["grader"].jobs.shutdown(wait=True)


@pytest.mark.parametrize("attempt", ["best", "latest"])
def test_gradebook_and_analytics_count_the_same_attempt(klass: tuple[Any, dict[str, str]], attempt: str) -> None:
    app, tokens = klass
    client = app.test_client()
    ta = bearer(tokens["ta"])
    gradebook = client.get(f"/api/gradebook?attempt={attempt}", headers=ta).json
    stats = client.get(f"/api/analytics/gd-parabola?attempt={attempt}", headers=ta).json
    assert gradebook["attempt"] == stats["attempt"] == attempt
    scores = {row["student"]: row["scores"]["gd-parabola"] for row in gradebook["students"]}
    expected_s001 = 6 if attempt == "best" else 1.5  # s001 got worse: 6 first, then 1.5
    assert scores["s001"] == expected_s001 and scores["s002"] == 6 and scores["s003"] == 5
    counted = [scores[s] for s in sorted(scores)]
    assert stats["students"] == len(counted) and stats["submissions"] == 8
    assert stats["mean_score"] == pytest.approx(sum(counted) / len(counted), abs=1e-4)
    assert book.histogram(counted, 12.0) == stats["score_histogram"]
    iterates = next(p for p in stats["parts"] if p["id"] == "iterates")
    assert iterates["misconceptions"] == ({} if attempt == "best" else {"sign-error": 1})
    assert iterates["first_wrong_step"] == {"3": 1}
    assert sum(iterates["statuses"].values()) == len(counted)
    assert iterates["unread"]["count"] == 3 and iterates["unread"]["share"] == pytest.approx(3 / 6, abs=1e-4)
    forms = {form["form"]: (form["count"], form["example"]) for form in iterates["unread"]["forms"]}
    assert forms["four, two"] == (1, "four, two") and forms["#; #; #; #.#; #.#; abc"][0] == 1
    # The submissions each student's row counts are the ones the analytics counted.
    counted_ids = {
        row["student"]: row["counted_submissions"]["gd-parabola"]
        for row in gradebook["students"]
        if row["scores"]["gd-parabola"] is not None
    }
    assert len(set(counted_ids.values())) == 6


def test_both_count_the_best_attempt_unless_told(any_db: Database, klass: tuple[Any, dict[str, str]]) -> None:
    assert book.gradebook(any_db).attempt == book.analytics(any_db, "gd-parabola")["attempt"] == "best"
    assert book.gradebook(any_db).scores["s001"]["gd-parabola"] == (6.0, 12.0)
    app, tokens = klass
    client = app.test_client()
    default = client.get("/api/gradebook.csv?attempt=", headers=bearer(tokens["ta"]))
    assert default.status_code == 200 and ",best," in default.get_data(as_text=True)
    for path in ("/api/gradebook?attempt=first", "/api/analytics/gd-parabola?attempt=all"):
        response = client.get(path, headers=bearer(tokens["ta"]))
        assert response.status_code == 400 and "'attempt' must be 'best' or 'latest'" in response.json["detail"]


def test_the_pages_say_what_they_count_and_keep_the_choice(klass: tuple[Any, dict[str, str]]) -> None:
    app, tokens = klass
    client = app.test_client()
    assert client.post("/login", data={"token": tokens["ta"]}).status_code == 303
    page = client.get("/instructor?attempt=latest").get_data(as_text=True)
    assert "Scores of each student&#39;s latest attempt, by exercise" in page
    assert 'href="/instructor/gradebook.csv?attempt=latest"' in page
    assert 'href="/instructor/exercises/gd-parabola?attempt=latest"' in page
    assert re.search(r'<option value="latest" selected>', page)
    csv_text = client.get("/instructor/gradebook.csv?attempt=latest").get_data(as_text=True)
    assert (
        ",latest," in csv_text
        and "gradebook-latest.csv"
        in client.get("/instructor/gradebook.csv?attempt=latest").headers["Content-Disposition"]
    )

    analytics = client.get("/instructor/exercises/gd-parabola?attempt=latest").get_data(as_text=True)
    assert "mean score of each student&#39;s latest attempt" in analytics
    assert 'href="/instructor?attempt=latest"' in analytics
    assert analytics.count("data:image/svg+xml;base64,") == 2  # the histogram and the misconceptions
    steps = re.search(r'<table class="grid bars-table" id="steps-iterates">.*?</table>', analytics, re.S).group(0)
    assert '<th scope="row">step 3</th><td class="num">1</td>' in steps and 'aria-hidden="true"' in steps
    assert "3 of 6 answers (50 %) could not be read" in analytics
    assert "<code>four, two</code>" in analytics
    best = client.get("/instructor/exercises/gd-parabola").get_data(as_text=True)
    assert "Bar chart of misconceptions" not in best  # best attempts: nobody keeps the sign error
    assert client.get("/instructor?attempt=worst").status_code == 400


def test_plurals_powers_of_ten_and_formulas_as_the_prompt_writes_them(client: Any, tokens: dict, catalog: Any) -> None:
    from grader.reports.maths_text import maths_as_text, python_as_text
    from grader.store import submissions
    from grader.web.reviewing import plural

    assert [plural(1, "student"), plural(2, "student"), plural(1.5, "point"), plural(1, "point")] == [
        "1 student",
        "2 students",
        "1.5 points",
        "1 point",
    ]
    assert client.post("/login", data={"token": tokens["s001"]}).status_code == 303
    page = client.get("/exercises/updates-per-epoch").get_data(as_text=True)
    assert "(1 point)" in page and "(1 points)" not in page
    adam = catalog.prompt(catalog.exercises["adam-step"], catalog.variant(catalog.exercises["adam-step"], None))
    assert r"\epsilon = 10^{-8}$" in adam["prompt"] and "1e-8" not in adam["prompt"]
    assert "ϵ= 10⁻⁸" in maths_as_text(adam["prompt"]) or "ε = 10⁻⁸" in maths_as_text(adam["prompt"])
    assert python_as_text("x**2 + 2") == "x² + 2" and python_as_text("2*x**3 - 4*x") == "2x³ − 4x"

    app_db = client.application.extensions["grader"].db
    client.post("/api/grade", json={"answers": {"gd-parabola": {"iterates": CORRECT}}}, headers=bearer(tokens["s001"]))
    assert submissions.count(app_db) == 1
    ta = client.application.test_client()
    assert ta.post("/login", data={"token": tokens["ta"]}).status_code == 303
    one = ta.get("/instructor/exercises/gd-parabola").get_data(as_text=True)
    assert "1 student, 1 submission;" in one and "over 1 student." in one and "1 students" not in one
