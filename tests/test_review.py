"""Human review, as TAs work: free text waits for a TA (never failed), a TA scores it with a comment, the student
sees both, and the gradebook, its CSV and Gradescope's results say the same; overrides of automatic parts outlive a
regrade; ``grader review`` does it from a terminal. On SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from test_web_helpers import SIGN_ERROR, bearer, make_app

from grader.cli import cli
from grader.contract import NotebookResult, PartResult
from grader.grading import grade
from grader.reports import exports
from grader.store import gradebook as book
from grader.store import reviews, submissions
from grader.store.db import Database
from grader.store.models import PartResult as PartRow
from grader.store.models import Submission
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

WHY = "A large step overshoots the minimum and can diverge; a tiny one is slow."
LEARNING_RATE = {"converges": "0 < eta < 1", "why": WHY}


@pytest.fixture
def service(any_db: Database, catalog: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    """The service on SQLite or PostgreSQL, with a student, a second student and a TA."""
    app = make_app(any_db, catalog)
    tokens = {
        "s001": add_user("s001", db=any_db),
        "s002": add_user("s002", db=any_db),
        "ta": add_user("ta1", "ta", db=any_db),
    }
    yield app, tokens
    app.extensions["grader"].jobs.shutdown(wait=True)


def _hand_in(client: Any, token: str, answers: dict[str, Any]) -> str:
    response = client.post("/api/grade", json={"answers": answers}, headers=bearer(token))
    assert response.status_code == 200, response.json
    return response.json["submission"]


def _part(document: dict[str, Any], exercise: str, part: str) -> dict[str, Any]:
    found = reviews.part_of(document, exercise, part)
    assert found is not None, (exercise, part)
    return dict(found)


def _gradescope_test(db: Database, student: str, name: str) -> dict[str, Any]:
    report = exports.gradescope(book.counted_results(db, ["learning-rate"])[student])
    return next(t for t in report["tests"] if t["name"] == name)


def _login(client: Any, token: str) -> None:
    assert client.post("/login", data={"token": token}).status_code == 303


def test_a_ta_scores_free_text_and_the_student_gradebook_csv_and_gradescope_show_it(
    service: tuple[Any, dict[str, str]],
) -> None:
    app, tokens = service
    db = app.extensions["grader"].db
    student, ta = app.test_client(), app.test_client()
    submission = _hand_in(student, tokens["s001"], {"learning-rate": LEARNING_RATE})

    # Before review: waiting for a TA everywhere, never failed.
    seen = student.get(f"/api/submissions/{submission}", headers=bearer(tokens["s001"])).json
    assert _part(seen["result"], "learning-rate", "why")["status"] == "needs_review"
    queue = ta.get("/api/reviews", headers=bearer(tokens["ta"])).json["waiting"]
    assert [(w["student"], w["exercise"], w["part"], w["reason"]) for w in queue] == [
        ("s001", "learning-rate", "why", "free text")
    ]
    rows = list(
        csv.DictReader(io.StringIO(ta.get("/api/gradebook.csv", headers=bearer(tokens["ta"])).get_data(as_text=True)))
    )
    mine = next(r for r in rows if r["student"] == "s001")
    assert mine["waiting_for_ta"] == "learning-rate/why (2 points)" and mine["learning-rate"] == "2"
    waiting = _gradescope_test(db, "s001", "learning-rate / why")
    assert "status" not in waiting and waiting["output"].startswith("waiting for a TA")
    _login(ta, tokens["ta"])
    gradebook_page = ta.get("/instructor").get_data(as_text=True)
    assert "waiting for a TA" in gradebook_page and "failed" not in gradebook_page

    # The queue page, then the part: the answer, the keyword hint and the model answer.
    page = ta.get("/review").get_data(as_text=True)
    assert 'id="review-queue"' in page and WHY in page
    url = f"/review/{submission}/learning-rate/why"
    assert url in page
    part_page = ta.get(url).get_data(as_text=True)
    assert WHY in part_page
    assert "mentions overshoot, diverge, slow" in part_page  # the keyword hint
    assert "A very large learning rate overshoots the minimum" in part_page  # the model answer
    assert 'id="score"' in part_page and 'id="comment"' in part_page

    # The TA saves a score and a comment: the next waiting part, here the queue, now empty.
    saved = ta.post(url, data={"score": "1,5", "comment": "Right about overshooting; say why a small step is slow."})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/review")
    assert "Saved s001&#39;s learning-rate/why: 1.5 / 2." in ta.get("/review").get_data(as_text=True)
    assert ta.get("/api/reviews", headers=bearer(tokens["ta"])).json["waiting"] == []

    # Who, when, the score and the comment are stored, apart from the result.
    (record,) = reviews.of_submission(db, submission)
    assert (record.by, record.score, record.action) == ("ta1", 1.5, "score") and record.at
    assert submissions.get(db, submission, reviewed=False).result["score"] == 2  # what the grader said, kept

    # The student sees the score and the comment.
    seen = student.get(f"/api/submissions/{submission}", headers=bearer(tokens["s001"])).json
    why = _part(seen["result"], "learning-rate", "why")
    assert why["score"] == 1.5 and why["status"] == "partial"
    assert "say why a small step is slow" in why["feedback"] and why["details"]["review"]["by"] == "ta1"
    assert seen["score"] == 3.5 and seen["result"]["score"] == 3.5
    history = student.get("/api/students/s001/submissions", headers=bearer(tokens["s001"])).json["submissions"]
    assert history[0]["score"] == 3.5
    assert [
        r["comment"]
        for r in student.get(f"/api/submissions/{submission}/reviews", headers=bearer(tokens["s001"])).json["reviews"]
    ] == ["Right about overshooting; say why a small step is slow."]

    # The gradebook, its CSV and Gradescope's results count it.
    data = ta.get("/api/gradebook", headers=bearer(tokens["ta"])).json
    assert next(r for r in data["students"] if r["student"] == "s001")["scores"]["learning-rate"] == 3.5
    rows = list(
        csv.DictReader(io.StringIO(ta.get("/api/gradebook.csv", headers=bearer(tokens["ta"])).get_data(as_text=True)))
    )
    mine = next(r for r in rows if r["student"] == "s001")
    assert mine["learning-rate"] == "3.5" and mine["waiting_for_ta"] == ""
    scored = _gradescope_test(db, "s001", "learning-rate / why")
    assert scored["score"] == 1.5 and "say why a small step is slow" in scored["output"]


def test_an_override_of_an_automatic_part_survives_a_regrade(service: tuple[Any, dict[str, str]], catalog: Any) -> None:
    app, tokens = service
    db = app.extensions["grader"].db
    client = app.test_client()
    values = "18, 38, 83, 184.25, 412.0625, 924.640625"  # f of the student's own iterates: carried forward
    submission = _hand_in(client, tokens["s001"], {"gd-parabola": {"iterates": SIGN_ERROR, "values": values}})
    asked = client.post(
        f"/api/submissions/{submission}/reviews",
        json={"exercise": "gd-parabola", "part": "iterates", "comment": "I used gradient ascent on purpose"},
        headers=bearer(tokens["s001"]),
    )
    assert asked.status_code == 201
    (item,) = client.get("/api/reviews", headers=bearer(tokens["ta"])).json["waiting"]
    assert (item["part"], item["reason"], item["request"]) == (
        "iterates",
        "regrade requested",
        "I used gradient ascent on purpose",
    )
    given = client.post(
        f"/api/submissions/{submission}/reviews",
        json={"exercise": "gd-parabola", "part": "iterates", "score": 5, "comment": "Fair: one sign, not six."},
        headers=bearer(tokens["ta"]),
    )
    assert given.status_code == 201 and given.json["part"]["score"] == 5
    assert client.get("/api/reviews", headers=bearer(tokens["ta"])).json["waiting"] == []

    # A regrade: the stored submission graded again and its result and part rows replaced, as a regrade job does.
    payload = json.loads(_payload(db, submission))
    regraded = grade(payload, catalog)
    with db.write() as session:
        session.query(PartRow).filter(PartRow.submission_id == submission).delete()
        session.get(Submission, submission).status = "queued"
    assert submissions.claim(db, submission, max_attempts=5) is not None
    assert submissions.finish(db, submission, regraded)

    now = submissions.get(db, submission)
    iterates = _part(now.result, "gd-parabola", "iterates")
    assert iterates["score"] == 5 and "Fair: one sign, not six." in iterates["feedback"]
    assert iterates["details"]["review"]["automatic"]["score"] == 1.5  # the grader's own score, kept beside it
    carried = _part(now.result, "gd-parabola", "values")["score"]
    assert carried > 0 and book.gradebook(db).scores["s001"]["gd-parabola"] == (5 + carried, 12.0)

    # The one function the regrade applies: on any new result, for instance one that scored the part otherwise.
    changed = grade(payload, catalog)
    changed.exercises[0].parts[0] = PartResult("iterates", 0.0, 6.0, "incorrect", "Another verdict.")
    applied = reviews.apply_overrides(changed, reviews.of_submission(db, submission))
    part = applied.exercises[0].parts[0]
    assert (part.score, part.status) == (5.0, "partial") and "Another verdict." in part.feedback
    assert changed.exercises[0].parts[0].score == 0.0  # the result given is left as it was


def _payload(db: Database, submission: str) -> bytes:
    with db.read() as session:
        return session.get(Submission, submission).payload


def test_reviews_refuse_what_they_cannot_record(service: tuple[Any, dict[str, str]]) -> None:
    app, tokens = service
    client = app.test_client()
    submission = _hand_in(client, tokens["s001"], {"learning-rate": LEARNING_RATE})
    url = f"/api/submissions/{submission}/reviews"

    def post(token: str, body: Any) -> Any:
        return client.post(url, json=body, headers=bearer(token))

    score = {"exercise": "learning-rate", "part": "why", "score": 2, "comment": "ok"}
    assert post(tokens["s001"], score).status_code == 403  # a student asks, never scores
    assert post(tokens["s002"], {**score, "score": None}).status_code == 404  # another's submission
    for body, status in (
        ({**score, "score": 3}, 400),
        ({**score, "score": -1}, 400),
        ({**score, "score": "2"}, 400),
        ({**score, "part": "nope"}, 404),
        ({**score, "comment": "x" * 2001}, 400),
        ({"exercise": "learning-rate", "part": "why"}, 400),  # a request needs a reason
        ([1, 2], 400),
    ):
        response = post(tokens["ta"], body)
        assert response.status_code == status, (body, response.json)
        assert set(response.json) == {"error", "detail"} and "Traceback" not in response.json["detail"]
    assert client.post("/api/submissions/nope/reviews", json=score, headers=bearer(tokens["ta"])).status_code == 404
    assert reviews.of_submission(app.extensions["grader"].db, submission) == []

    # The form says what is wrong in one sentence, with a 400, and keeps what was typed.
    _login(client, tokens["ta"])
    page = client.post(f"/review/{submission}/learning-rate/why", data={"score": "two", "comment": "kept"})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "the score must be a number from 0 to 2" in text and "kept" in text
    assert 'aria-invalid="true"' in text and "Traceback" not in text
    assert client.get(f"/review/{submission}/learning-rate/nope").status_code == 404
    student = app.test_client()
    _login(student, tokens["s001"])
    assert student.get("/review").status_code == 403


def test_the_queue_holds_the_attempts_that_count(any_db: Database, catalog: Any) -> None:
    """An older attempt that is neither the best nor the latest needs nobody; the best and the latest do."""
    from grader.review import queue

    def hand_in(answers: dict[str, Any]) -> str:
        result = grade({"student": "s001", "answers": {"learning-rate": answers}}, catalog)
        return submissions.store_graded(any_db, "s001", result, orjson.dumps({"answers": {"learning-rate": answers}}))

    best = hand_in(LEARNING_RATE)
    older = hand_in({"converges": "[0, 1]", "why": "It oscillates."})
    latest = hand_in({"converges": "[0, 1]", "why": "It diverges."})
    _backdate(any_db, {best: 30, older: 20, latest: 10})
    waiting = {w.submission for w in queue(any_db, catalog)}
    assert waiting == {best, latest} and older not in waiting


def _backdate(db: Database, seconds: dict[str, int]) -> None:
    from datetime import timedelta

    with db.write() as session:
        for submission, ago in seconds.items():
            row = session.get(Submission, submission)
            row.created_at = row.created_at - timedelta(seconds=ago)


def test_grader_review_lists_shows_and_sets_from_a_terminal(any_db: Database, catalog: Any, tmp_path: Path) -> None:
    answers = {"learning-rate": LEARNING_RATE}
    result = grade({"student": "s001", "answers": answers}, catalog)
    submission = submissions.store_graded(any_db, "s001", result, orjson.dumps({"student": "s001", "answers": answers}))
    url = any_db.url.render_as_string(hide_password=False)

    def grader(*args: str) -> Any:
        return CliRunner().invoke(cli, [*args, "--database", url], catch_exceptions=False)

    listed = grader("review", "list")
    assert listed.exit_code == 0, listed.output
    ref = f"{submission}/learning-rate/why"
    assert ref in listed.stdout and "free text" in listed.stdout and WHY[:40] in listed.stdout
    as_json = json.loads(grader("review", "list", "--format", "json").stdout)
    assert [item["ref"] for item in as_json] == [ref] and as_json[0]["answer"] == WHY

    shown = grader("review", "show", ref)
    assert shown.exit_code == 0
    for line in (
        "answer:   " + WHY,
        "hint:     mentions overshoot, diverge, slow",
        "model:    A very large",
        "waiting for a TA",
    ):
        assert line in shown.stdout, line

    missing_score = grader("review", "set", ref, "--comment", "nice", "--by", "ta1")
    assert missing_score.exit_code == 2 and "give --score" in missing_score.stderr
    for bad, reason in (("3", "from 0 to 2"), ("lots", "must be a number")):
        refused = grader("review", "set", ref, "--score", bad, "--by", "ta1")
        assert refused.exit_code == 2 and reason in refused.stderr and refused.stderr.count("\n") == 1
    unknown = grader("review", "show", f"{submission}/learning-rate/nope")
    assert unknown.exit_code == 2 and "has no part learning-rate/nope" in unknown.stderr
    assert grader("review", "show", "not-a-ref").exit_code == 2

    done = grader("review", "set", ref, "--score", "2", "--comment", "Both halves, well put.", "--by", "ta1")
    assert done.exit_code == 0 and "2 / 2 by ta1" in done.stdout
    assert "nothing waits for a TA" in grader("review", "list").stdout
    shown = grader("review", "show", ref, "--format", "json")
    view = json.loads(shown.stdout)
    assert view["result"]["score"] == 2 and view["reviews"][0]["comment"] == "Both halves, well put."
    assert submissions.get(any_db, submission).score == 4  # 2 for the interval, 2 from the TA

    # A comment alone keeps the score; a request puts the part back in the queue.
    assert grader("review", "set", ref, "--comment", "Also: diverge.", "--by", "ta2").exit_code == 0
    assert submissions.get(any_db, submission).score == 4
    assert grader("review", "flag", ref, "--comment", "please look again", "--by", "s001").exit_code == 0
    assert "regrade requested: please look again" in grader("review", "list").stdout

    # The gradebook from a terminal: CSV and one Gradescope results.json per student.
    table = list(csv.DictReader(io.StringIO(grader("gradebook").stdout)))
    assert table[0]["learning-rate"] == "4" and table[0]["attempt"] == "best"
    out = tmp_path / "gradescope"
    made = grader("gradebook", "--format", "gradescope", "--assignment", "lec4-inclass", "--out", str(out))
    assert made.exit_code == 0, made.stderr
    report = json.loads((out / "s001" / "results.json").read_text())
    why = next(t for t in report["tests"] if t["name"] == "learning-rate / why")
    assert why["score"] == 2 and "Also: diverge." in why["output"] and "waiting for a TA" in why["output"]
    assert "status" not in why  # asked about again: waiting, not failed
    missing = next(t for t in report["tests"] if t["name"] == "gd-parabola / iterates")
    assert missing["status"] == "failed" and missing["output"].startswith("missing")
    assert grader("gradebook", "--format", "gradescope", "--out", str(out)).exit_code == 2  # no --assignment


def test_a_free_text_part_is_never_failed_before_review(client: Any, tokens: dict, catalog: Any) -> None:
    """The exercise page, the notebook CSV and Gradescope's results all say it waits for a TA."""
    _login(client, tokens["s001"])
    page = client.post("/exercises/learning-rate", data={"part-why": WHY}).get_data(as_text=True)
    feedback = re.search(r'<div class="feedback status-needs_review"[^>]*>\s*<strong>([^<]+)</strong>', page)
    assert feedback is not None and feedback.group(1) == "waiting for a TA"
    result = grade({"student": "s001", "answers": {"learning-rate": LEARNING_RATE}}, catalog)
    graded = NotebookResult(result.student, result.exercises, file="s001.ipynb")
    row = list(csv.DictReader(io.StringIO(exports.results_csv([graded]))))[0]
    assert row["waiting_for_ta"] == "learning-rate/why"
    report = exports.gradescope(graded)
    why = next(t for t in report["tests"] if t["name"] == "learning-rate / why")
    assert "status" not in why and why["tags"] == ["waiting for a TA"]
    assert "1 part waiting for a TA: learning-rate/why" in report["output"]
    assert [t.get("status") for t in report["tests"]].count("failed") == 1  # classify, missing: failed as it is


def test_a_student_asks_for_a_second_look_from_the_submissions_page(client: Any, tokens: dict, app: Any) -> None:
    """Each part a grader scored has a form under it on /submissions/<id>; a sent request waits for a TA there,
    in the queue and in the API; free text already waits and has none."""
    values = "18, 38, 83, 184.25, 412.0625, 924.640625"
    answers = {"gd-parabola": {"iterates": SIGN_ERROR, "values": values}, "learning-rate": LEARNING_RATE}
    submission = _hand_in(client, tokens["s001"], answers)
    _login(client, tokens["s001"])
    page = client.get(f"/submissions/{submission}").get_data(as_text=True)
    assert page.count('<details class="second-look"') == 4  # iterates, values, converges, classify: not why
    assert 'id="second-look-learning-rate-why"' not in page
    why = re.search(r'id="feedback-learning-rate-why"[^>]*>\s*<h3[^>]*>[^<]*</h3>\s*<strong>([^<]+)</strong>', page)
    assert why is not None and why.group(1) == "waiting for a TA"  # never "needs review"
    assert 'action="/submissions/' + submission + '/reviews"' in page and 'for="comment-gd-parabola-iterates"' in page

    url = f"/submissions/{submission}/reviews"
    refused = client.post(url, data={"exercise": "gd-parabola", "part": "iterates", "comment": "  "})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "say what a TA should look at again" in text
    assert 'aria-invalid="true" aria-describedby="ask-error-gd-parabola-iterates"' in text
    assert '<details class="second-look" id="second-look-gd-parabola-iterates" open>' in text
    assert client.post(url, data={"exercise": "gd-parabola", "part": "nope", "comment": "x"}).status_code == 404

    asked = client.post(
        url, data={"exercise": "gd-parabola", "part": "iterates", "comment": "I used ascent on purpose"}
    )
    assert asked.status_code == 303 and asked.headers["Location"].endswith(
        f"/submissions/{submission}#feedback-gd-parabola-iterates"
    )
    page = client.get(f"/submissions/{submission}").get_data(as_text=True)
    assert "You asked a TA to look at gd-parabola/iterates again" in page  # the flashed message, once
    assert 'id="asked-gd-parabola-iterates"' in page and 'id="second-look-gd-parabola-iterates"' not in page
    assert page.count('<details class="second-look"') == 3
    waiting = client.get("/api/reviews", headers=bearer(tokens["ta"])).json["waiting"]
    assert [(w["part"], w["reason"], w.get("request")) for w in waiting] == [
        ("iterates", "regrade requested", "I used ascent on purpose"),
        ("why", "free text", ""),
    ]
    (record,) = reviews.of_submission(app.extensions["grader"].db, submission)
    assert (record.action, record.by, record.score) == ("flag", "s001", None)

    other = app.test_client()
    _login(other, tokens["s002"])
    assert other.post(url, data={"exercise": "gd-parabola", "part": "values", "comment": "mine?"}).status_code == 404
    assert len(reviews.of_submission(app.extensions["grader"].db, submission)) == 1


def test_the_feedback_file_says_waiting_for_a_ta_for_free_text(catalog: Any) -> None:
    from grader.reports.feedback import feedback_html

    result = grade({"student": "s001", "answers": {"learning-rate": LEARNING_RATE}}, catalog)
    page = feedback_html(result, catalog)
    assert '<td class="needs_review">waiting for a TA' in page and ">needs_review<" not in page
