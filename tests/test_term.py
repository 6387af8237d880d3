"""A term in miniature, against the real service, on SQLite and on PostgreSQL: what README's "Running a term" says.

The course is a copy of the lecture's exercises whose ``course.yaml`` gives ``lec4-inclass`` (gd-parabola and
learning-rate) the rules of graded homework and the course a bank of one late day (:data:`RULES`). The service
is the app as ``grader serve`` builds it, reading that folder (``EXERCISES``, reloaded when a spec changes), on a
live loopback port, with CSRF on, the local job queue and the real notebook grader in the sandbox. The clock is
moved through the term by the code's own seam (:func:`grader.deadlines.now`):

1. before ``opens`` a hand-in is refused, saying when it opens;
2. before ``due``: s001 hands in twice (verdict feedback: scores and statuses only), the third is refused
   (``max_attempts: 2``); the instructor gives s003 three more days (``grader extensions set``);
3. two days after ``due``: s002 hands in (one late day from the bank, one day at 20 %), s003 hands in a notebook,
   on time with the extension; s002 asks for a second look at an automatic part from the submission's page;
4. after the late window: a hand-in is refused, saying until when late ones were taken; a TA works through the
   review queue in Chromium (free text scored, the automatic part overridden), axe-core checked on each page;
5. a spec changes (gd-parabola's sign error is worth half, not a quarter), the running service reloads it, and
   the instructor regrades (``POST /api/regrade``): the override stays on top, the replaced results are kept;
6. the gradebook's CSV (API, page and ``grader gradebook``), ``grader gradebook --format gradescope`` and
   Gradescope's autograder bundle (``grader gradescope-autograder``, run in a folder laid out as
   ``/autograder``) show the final numbers.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests
from click.testing import CliRunner
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from test_browser import Audit, _log_in, _log_out, _ready, _serve, wait
from test_gradescope_bundle import filled, gradescope_root, run_autograder
from test_web_helpers import make_app

from grader import deadlines, regrade
from grader.cli import main
from grader.notebooks.batch import grade_notebook
from grader.store import submissions
from grader.store.db import Database
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers", "test_browser"]  # the shared fixtures, and the browser of test_browser

ROOT = Path(__file__).resolve().parent.parent
RULES = """    opens: 2026-11-24T09:00:00Z
    due: 2026-12-01T23:59:00Z
    late: {until: 2026-12-04T23:59:00Z, penalty_per_day: 0.2}
    max_attempts: 2
    feedback: verdict
"""
SIGN_ERROR = "4, 6, 9, 13.5, 20.25, 30.375"
CARRIED = "18, 38, 83, 184.25, 412.0625, 924.640625"  # f of the sign error's iterates: right from the student's own
CORRECT = {"iterates": "4, 2, 1, 0.5, 0.25, 0.125", "values": "18, 6, 3, 2.25, 2.0625, 2.015625"}
LEARNING_RATE = {
    "converges": "(0, 1)",
    "classify": "slow-monotone, fast, oscillating-converging, oscillating-stuck, diverging",
    "why": "Too large a step overshoots the minimum and diverges; too small a step is slow.",
}
REQUEST = "I followed the slides' update; please check my steps."
# What the TA gives each part waiting for a TA: (score, comment), by exercise/part and student.
REVIEWS = {
    ("s001", "learning-rate/why"): ("2", "Both halves, well put."),
    ("s002", "learning-rate/why"): ("1", "Say why a small step is slow."),
    ("s002", "gd-parabola/iterates"): ("5", "Fair: one sign, not six."),
    ("s003", "learning-rate/why"): ("1.5", "Right about overshooting."),
}


def course_folder(folder: Path) -> Path:
    """The lecture's exercises with the term's rules: ``late_days: 1`` and :data:`RULES` on lec4-inclass."""
    shutil.copytree(ROOT / "exercises", folder)
    course = folder / "course.yaml"
    lines, current = [], None
    for line in course.read_text(encoding="utf-8").splitlines(keepends=True):
        lines.append(line)
        if line.startswith("  ") and not line.startswith("    ") and line.rstrip().endswith(":"):
            current = line.strip()[:-1]
        if current == "lec4-inclass" and line.startswith("    exercises:"):
            lines.append(RULES)
    course.write_text("".join(lines).replace("variants: slides\n", "variants: slides\nlate_days: 1\n"), "utf-8")
    return folder


class _Main:
    """CliRunner calls ``grader.cli.main`` (the ``grader`` command, its one-line errors and exit codes)."""

    name = "grader"

    def main(self, args: list[str], prog_name: str | None = None, **_: Any) -> None:
        sys.argv = ["grader", *args]
        main()


def grader(*args: Any) -> Any:
    return CliRunner().invoke(_Main(), [str(a) for a in args], catch_exceptions=False)


class Clock:
    """The time every rule of the service sees (``grader.deadlines.now``), moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.moment = datetime.fromisoformat("2026-11-01T00:00:00+00:00")
        monkeypatch.setattr(deadlines, "now", lambda: self.moment)

    def set(self, when: str) -> None:
        """``clock.set("2026-12-03T10:00:00")``: the time, in UTC."""
        self.moment = datetime.fromisoformat(when + "+00:00")


class Api:
    """The JSON API over HTTP, as a student's script, a notebook or a TA's terminal calls it."""

    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return requests.request(method, self.base + path, headers=headers, timeout=120, **kwargs)

    def until(self, path: str, token: str, finished: tuple[str, ...] = ("done", "failed")) -> dict[str, Any]:
        """GET ``path`` until its ``status`` is one of ``finished`` (a queued notebook, a regrade job)."""
        body: dict[str, Any] = {}
        for _ in range(1200):
            body = self("GET", path, token).json()
            if body.get("status") in finished:
                return body
            time.sleep(0.1)
        raise AssertionError(f"{path} never finished: {body}")


@pytest.fixture
def term(any_db: Database, tmp_path: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The service on the term's course folder, live on a loopback port, with the people of the term."""
    folder = course_folder(tmp_path / "course")
    monkeypatch.setenv("GRADER_EXERCISES", str(folder))  # the commands an instructor runs read the same folder
    clock = Clock(monkeypatch)
    app = make_app(
        any_db,
        None,  # no catalog given: the service loads EXERCISES, and reloads it when a spec changes
        EXERCISES=str(folder),
        SPEC_RELOAD_SECONDS=3600,  # checked when the test says (reloader.check), as SIGHUP would
        WTF_CSRF_ENABLED=True,
        NOTEBOOK_GRADER=functools.partial(grade_notebook, sandbox=sandbox),
    )
    people = {name: add_user(name, db=any_db) for name in ("s001", "s002", "s003", "s004")}
    people["ta"] = add_user("ta1", "ta", db=any_db)
    people["prof"] = add_user("prof", "instructor", db=any_db)
    serving = _serve(app)
    base = next(serving)
    try:
        yield {"app": app, "db": any_db, "api": Api(base), "base": base, "people": people, "clock": clock}
    finally:
        serving.close()  # the server stops
        app.extensions["grader.reloader"].stop()
        regrade.wait_all(120)
        app.extensions["grader"].jobs.shutdown(wait=True)


def _rows(text: str) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO(text))}


def _part(document: dict[str, Any], exercise: str, part: str) -> dict[str, Any]:
    entry = next(e for e in document["exercises"] if e["id"] == exercise)
    return next(p for p in entry["parts"] if p["id"] == part)


def test_a_term_from_the_first_hand_in_to_the_exports(
    term: dict[str, Any], browser: webdriver.Chrome, tmp_path: Path
) -> None:
    app, db, api, base, people, clock = (term[k] for k in ("app", "db", "api", "base", "people", "clock"))
    audit = Audit(browser)
    catalog = app.extensions["grader"].catalog

    def grade(token: str, answers: dict[str, Any]) -> requests.Response:
        return api("POST", "/api/grade", token, json={"answers": answers})

    # 1. Before the assignment opens.
    clock.set("2026-11-20T10:00:00")
    early = grade(people["s004"], {"gd-parabola": CORRECT})
    assert early.status_code == 403
    assert early.json()["detail"] == "lec4-inclass opens on 2026-11-24 09:00 UTC; hand-ins are taken from then on"

    # 2. Before the due date: two attempts, verdict feedback, then the limit.
    clock.set("2026-11-30T10:00:00")
    first = grade(people["s001"], {"gd-parabola": {"iterates": SIGN_ERROR, "values": CARRIED}})
    assert first.status_code == 200, first.text
    iterates = _part(first.json(), "gd-parabola", "iterates")
    assert (iterates["status"], iterates["score"], iterates["feedback"]) == ("partial", 1.5, "Partly right.")
    assert iterates["misconception"] is None and "uphill" not in first.text  # no answer oracle before the close
    assert first.json()["exercises"][0]["attempts"] == {"used": 1, "left": 1}
    assert first.json()["handins"][0]["days_late"] == 0
    second = grade(people["s001"], {"gd-parabola": CORRECT, "learning-rate": LEARNING_RATE})
    assert second.status_code == 200 and second.json()["exercises"][0]["attempts"] == {"used": 2, "left": 0}
    third = grade(people["s001"], {"gd-parabola": CORRECT})
    assert third.status_code == 403 and third.json()["error"] == "attempts_exhausted"
    assert third.json()["detail"] == (
        "you have used all 2 attempts at gd-parabola that lec4-inclass allows (max_attempts: 2)"
    )

    # The instructor gives s003 three more days, from a terminal.
    url = db.url.render_as_string(hide_password=False)
    extension = ("extensions", "set", "s003", "lec4-inclass", "--days", "3", "--reason", "illness", "--by", "prof")
    extended = grader(*extension, "--database", url)
    assert extended.exit_code == 0, extended.output
    assert "lec4-inclass due 2026-12-04 23:59 UTC (with your 3-day extension)" in extended.output

    # 3. Two days after the due date: s002 is late (one day from the bank, one at 20 %), s003 is not.
    clock.set("2026-12-03T10:00:00")
    late = grade(
        people["s002"], {"gd-parabola": {"iterates": SIGN_ERROR, "values": CARRIED}, "learning-rate": LEARNING_RATE}
    )
    assert late.status_code == 200, late.text
    (handin,) = late.json()["handins"]
    assert (handin["days_late"], handin["late_days_spent"], handin["late_days_left"]) == (2, 1, 0)
    assert (handin["penalised_days"], handin["penalty"]) == (1, 0.2)
    late_id = late.json()["submission"]
    before = api("GET", "/api/exercises/gd-parabola?student=s003", people["s003"]).json()["handin"]
    assert before["due_shown"] == "due 2026-12-04 23:59 UTC (with your 3-day extension)"
    assert before["if_handed_in_now"]["days_late"] == 0 and before["open"] is True
    notebook = nbformat.writes(filled(catalog, "s003", gd_parabola_iterates=f"[{SIGN_ERROR}]")).encode()
    upload = {"files": {"notebook": ("lec4-inclass.ipynb", notebook)}, "data": {"assignment": "lec4-inclass"}}
    queued = api("POST", "/api/submissions", people["s003"], **upload)
    assert queued.status_code == 202, queued.text
    extension_id = queued.json()["id"]
    done = api.until(f"/api/submissions/{extension_id}", people["prof"])
    assert done["status"] == "done", done
    assert _part(done["result"], "gd-parabola", "iterates")["score"] == 1.5  # graded in the sandbox

    # s002 asks for a second look at the automatic part, from the submission's page.
    _log_in(browser, base, people["s002"])
    audit.visit(f"{base}/submissions/{late_id}", "a late hand-in's page (verdict feedback)")
    assert "Partly right." in browser.find_element(By.ID, "feedback-gd-parabola-iterates").text
    why = browser.find_element(By.ID, "feedback-learning-rate-why")
    assert why.find_element(By.TAG_NAME, "strong").text == "waiting for a TA"  # never "needs review"
    assert not why.find_elements(By.CSS_SELECTOR, "details.second-look")  # free text already waits for a TA
    ask = browser.find_element(By.ID, "second-look-gd-parabola-iterates")
    ask.find_element(By.TAG_NAME, "summary").click()
    browser.find_element(By.ID, "comment-gd-parabola-iterates").send_keys(REQUEST)
    audit.check("the form asking for a second look")
    ask.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, 20).until(lambda d: d.find_elements(By.ID, "asked-gd-parabola-iterates"))
    assert "waiting for a TA" in browser.find_element(By.ID, "asked-gd-parabola-iterates").text
    assert "gd-parabola/iterates" in browser.find_element(By.CSS_SELECTOR, "p.saved").text
    audit.check("a submission's page after asking for a second look")
    _log_out(browser)

    # 4. After the late window: refused, saying until when; a TA works through the queue in the browser.
    clock.set("2026-12-05T10:00:00")
    closed = grade(people["s004"], {"gd-parabola": CORRECT})
    assert closed.status_code == 403 and closed.json()["error"] == "closed"
    assert closed.json()["detail"] == (
        "lec4-inclass closed on 2026-12-01 23:59 UTC; late hand-ins were accepted until 2026-12-04 23:59 UTC"
    )
    _log_in(browser, base, people["ta"])
    audit.visit(f"{base}/review", "the review queue at the end of the term")
    queue = browser.find_elements(By.CSS_SELECTOR, "#review-queue tbody tr")
    waiting = {
        (row.find_element(By.TAG_NAME, "th").text, row.get_attribute("data-ref").split("/", 1)[1]) for row in queue
    }
    assert waiting == set(REVIEWS)
    assert REQUEST in browser.find_element(By.ID, "review-queue").text
    browser.find_element(By.ID, "start-review").click()
    for _ in REVIEWS:
        _ready(browser)
        submission_id, exercise, part = browser.current_url.split("/review/", 1)[1].split("/")
        student = submissions.get(db, submission_id).student
        score, comment = REVIEWS[(student, f"{exercise}/{part}")]
        audit.check(f"reviewing {student}'s {exercise}/{part}")
        assert browser.switch_to.active_element.get_attribute("id") == "score"
        browser.switch_to.active_element.send_keys(score + Keys.TAB)
        browser.switch_to.active_element.send_keys(comment + Keys.ENTER)  # Enter saves and opens the next part
        saved = f"Saved {student}'s {exercise}/{part}: {score} / "
        wait(browser, 20).until(
            lambda d, s=saved: any(s in p.text for p in d.find_elements(By.CSS_SELECTOR, "p.saved"))
        )
    assert "Nothing waits for a TA" in browser.find_element(By.ID, "queue-summary").text
    audit.check("the review queue, emptied")
    browser.get(f"{base}/review/{late_id}")
    audit.check("a late submission's parts, one overridden")
    row = browser.find_element(By.CSS_SELECTOR, "#submission-parts tr[data-ref$='/gd-parabola/iterates']")
    assert "5 / 6" in row.text and "1.5 (partial)" in row.text and "Fair: one sign, not six." in row.text
    _log_out(browser)

    # 5. The spec changes: a sign error is worth half of the part. The running service takes it, then regrades.
    spec = Path(catalog.exercises["gd-parabola"].path)
    text = spec.read_text(encoding="utf-8")
    rule = "      - id: sign-error\n        answer: iterates(ascent(gd(eta)), f, x0, steps)\n"
    assert rule in text
    spec.write_text(text.replace(rule, rule + "        credit: 0.5\n"), encoding="utf-8")
    assert app.extensions["grader.reloader"].check() is True  # what the watcher (or SIGHUP) does
    dry = api("POST", "/api/regrade", people["prof"], json={"target": "lec4-inclass", "dry_run": True})
    assert dry.status_code == 202, dry.text
    report = api.until(dry.json()["url"], people["prof"])["report"]
    students = {row["student"]: row for row in report["students"]}
    assert (students["s003"]["before"], students["s003"]["after"]) == (16, 17.5)
    assert students["s002"]["before"] == students["s002"]["after"] == 19  # the TA's 5 points stay on top
    assert submissions.get(db, extension_id).score == 16  # a dry run stores nothing
    started = api("POST", "/api/regrade", people["prof"], json={"target": "lec4-inclass"})
    job = api.until(started.json()["url"], people["prof"])
    assert job["status"] == "done" and job["report"]["changed"] == 3, job  # s001's first attempt, s002, s003

    stored = api("GET", f"/api/submissions/{late_id}", people["s002"]).json()  # closed for s002: full feedback
    iterates = _part(stored["result"], "gd-parabola", "iterates")
    assert iterates["score"] == 5 and iterates["feedback"].startswith("Reviewed by ta1: Fair: one sign, not six.")
    assert iterates["details"]["review"]["automatic"]["score"] == 3  # today's spec, under the TA's word
    (previous,) = regrade.previous_results(db, late_id)
    assert previous["regrade"] == started.json()["id"]
    assert _part(previous["result"], "gd-parabola", "iterates")["score"] == 1.5  # what it was, kept
    regraded = api("GET", f"/api/submissions/{extension_id}", people["prof"]).json()["result"]
    assert _part(regraded, "gd-parabola", "iterates")["score"] == 3  # no TA touched it: today's spec
    _log_in(browser, base, people["s002"])
    audit.visit(f"{base}/submissions/{late_id}", "a student's page after the review and the regrade")
    assert (
        "Reviewed by ta1: Fair: one sign, not six." in browser.find_element(By.ID, "feedback-gd-parabola-iterates").text
    )
    _log_out(browser)

    # 6. The final numbers. s001: 12 + 9. s002: (5 + 6) and (7 + 1), less 20 % for the day past the bank.
    # s003: (3 + 6) and (7 + 1.5), on time with the extension.
    exported = api("GET", "/api/gradebook.csv", people["ta"]).text
    rows = _rows(exported)
    columns = ("gd-parabola", "learning-rate", "late_days", "late_points_lost")
    final = {s: tuple(rows[s][c] for c in columns) for s in ("s001", "s002", "s003")}
    assert final == {
        "s001": ("12", "9", "0", "0"),
        "s002": ("8.8", "6.4", "1", "3.8"),
        "s003": ("9", "8.5", "0", "0"),
    }
    assert all(rows[s]["waiting_for_ta"] == "" for s in final)
    _log_in(browser, base, people["prof"])
    audit.visit(f"{base}/instructor", "the gradebook at the end of the term")
    assert "late days 1; late penalty −3.8" in browser.find_element(By.ID, "gradebook").text
    page_csv = requests.get(
        f"{base}/instructor/gradebook.csv", cookies={c["name"]: c["value"] for c in browser.get_cookies()}, timeout=60
    )
    assert page_csv.text == exported
    from_terminal = grader("gradebook", "--database", url)
    assert from_terminal.exit_code == 0 and from_terminal.stdout == exported

    out = tmp_path / "gradescope"
    made = grader(
        "gradebook", "--format", "gradescope", "--assignment", "lec4-inclass", "--out", out, "--database", url
    )
    assert made.exit_code == 0, made.stderr
    reviewed = {s: json.loads((out / s / "results.json").read_text()) for s in ("s002", "s003")}
    tests = {s: {t["name"]: t for t in r["tests"]} for s, r in reviewed.items()}
    assert (
        tests["s002"]["gd-parabola / iterates"]["score"] == 5 and tests["s003"]["learning-rate / why"]["score"] == 1.5
    )
    assert reviewed["s003"]["score"] == 17.5

    # Gradescope's autograder, built from the course as it is now, grades s003's notebook as the service did.
    bundle = tmp_path / "autograder.zip"
    built = grader("gradescope-autograder", "lec4-inclass", "-o", bundle, "--timeout", "30")
    assert built.exit_code == 0, built.stderr
    root = gradescope_root(bundle, tmp_path / "gs")
    (root / "submission" / "lec4-inclass.ipynb").write_bytes(notebook)
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"sid": "s003"}]}))
    finished = run_autograder(root)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    automatic = {t["name"]: t["score"] for t in results["tests"]}
    graded = submissions.get(db, extension_id, reviewed=False).result  # what the grader gave, without the TA
    assert automatic == {f"{e['id']} / {p['id']}": p["score"] for e in graded["exercises"] for p in e["parts"]}
    assert automatic["gd-parabola / iterates"] == 3 and automatic["learning-rate / why"] == 0  # waits for a TA there
    assert results["score"] == 16 and "1 part waiting for a TA: learning-rate/why" in results["output"]
    assert len(audit.pages) == 12  # every page and state above, axe-core checked and reflowed at 320 px
    assert audit.problems == [], "\n".join(audit.problems)
