"""Assignments with rules: deadlines, late days, extensions, attempts and feedback, as students and instructors meet them.

The course under test is the lecture's exercises with rules added to course.yaml (:func:`ruled_course`):

- ``lec4-homework`` opens 2026-11-24 09:00 UTC, is due 2026-12-01 23:59 UTC, takes late hand-ins until
  2026-12-06 23:59 UTC at 10 % a day past the late days, 3 attempts per exercise, full feedback;
- ``lec4-inclass`` is due 2026-12-01 23:59 UTC with ``feedback: verdict``, unlimited attempts;
- ``lec4-extra`` is due 2026-12-01 23:59 UTC with ``feedback: none``;
- the course's bank is 2 late days.

The clock is moved by replacing :func:`grader.deadlines.now`; everything that touches the store runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from test_web_helpers import bearer, make_app

from grader import deadlines
from grader.cli import main
from grader.specs.model import SpecError, load_catalog
from grader.store import course
from grader.store.db import Database
from grader.store.models import ExtensionChange
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = {"answers": {"updates-per-epoch": {"b50": "24", "b200": "6", "b32": "38"}}}  # full marks: 3/3
SIGN_ERROR = {"answers": {"gd-parabola": {"iterates": "4, 6, 9, 13.5, 20.25, 30.375"}}}
RULES = {
    "lec4-homework": """    opens: 2026-11-24T09:00:00Z
    due: 2026-12-01T23:59:00Z
    late: {until: 2026-12-06T23:59:00Z, penalty_per_day: 0.1}
    max_attempts: 3
    feedback: full
""",
    "lec4-inclass": """    due: 2026-12-01T23:59:00Z
    feedback: verdict
    max_attempts: unlimited
""",
    "lec4-extra": """    due: 2026-12-01T23:59:00Z
    feedback: none
    max_attempts: unlimited
""",
}


def with_rules(folder: Path, rules: dict[str, str] = RULES, late_days: int | None = 2) -> Path:
    """A copy of the lecture's exercises whose course.yaml gives ``rules`` (YAML lines) to the assignments named."""
    shutil.copytree(ROOT / "exercises", folder)
    course_file = folder / "course.yaml"
    lines = course_file.read_text(encoding="utf-8").splitlines(keepends=True)
    out = []
    current = None
    for line in lines:
        out.append(line)
        if line.startswith("  ") and not line.startswith("    ") and line.strip().endswith(":"):
            current = line.strip()[:-1]
        if current in rules and line.startswith("    exercises:"):
            out.append(rules[current])
    text = "".join(out)
    if late_days is not None:
        text = text.replace("variants: slides\n", f"variants: slides\nlate_days: {late_days}\n")
    course_file.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def ruled_course(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_catalog(with_rules(tmp_path_factory.mktemp("ruled") / "exercises"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``clock("2026-12-02 10:00")`` sets the time (UTC) every rule sees."""

    def set_time(when: str) -> datetime:
        moment = datetime.fromisoformat(when + "+00:00")
        monkeypatch.setattr(deadlines, "now", lambda: moment)
        return moment

    return set_time


@pytest.fixture
def service(any_db: Database, ruled_course: Any) -> Any:
    app = make_app(any_db, ruled_course)
    people = {
        "s001": add_user("s001", db=any_db),
        "s002": add_user("s002", db=any_db),
        "ta": add_user("ta1", "ta", db=any_db),
        "prof": add_user("prof", "instructor", db=any_db),
    }
    yield app, app.test_client(), people
    app.extensions["grader"].jobs.shutdown(wait=True)


class _Main:
    """CliRunner calls ``grader.cli.main`` (its one-line errors and exit codes) with its own argv."""

    name = "grader"

    def main(self, args: list[str], prog_name: str | None = None, **_: Any) -> None:
        import sys

        sys.argv = ["grader", *args]
        main()


def run(*args: str) -> Any:
    return CliRunner().invoke(_Main(), list(args), catch_exceptions=False)


def login(client: Any, token: str) -> Any:
    """Log the test client's pages in with ``token`` (the API calls send their own bearer token)."""
    assert client.post("/login", data={"token": token}).status_code == 303
    return client


def hand_in(client: Any, token: str, submission: dict = HOMEWORK) -> Any:
    return client.post("/api/grade", json=submission, headers=bearer(token))


# Deadlines and late days -----------------------------------------------------------------------------------------


def test_a_hand_in_before_the_assignment_opens_is_refused_saying_when_it_opens(service, clock) -> None:
    _, client, people = service
    clock("2026-11-20 10:00")
    answer = hand_in(client, people["s001"])
    assert answer.status_code == 403
    assert answer.json["detail"] == "lec4-homework opens on 2026-11-24 09:00 UTC; hand-ins are taken from then on"


def test_a_hand_in_before_the_due_date_is_on_time_and_counts_an_attempt(service, clock) -> None:
    _, client, people = service
    clock("2026-11-30 10:00")
    answer = hand_in(client, people["s001"])
    assert answer.status_code == 200, answer.json
    (handin,) = answer.json["handins"]
    assert handin["assignment"] == "lec4-homework" and handin["days_late"] == 0 and handin["penalty"] == 0
    assert handin["late_days_left"] == 2
    assert answer.json["exercises"][0]["attempts"] == {"used": 1, "left": 2}
    assert answer.json["score"] == answer.json["max_score"] > 0  # full feedback: the result as always


def test_a_hand_in_late_within_the_bank_spends_late_days_without_a_penalty(service, clock) -> None:
    _, client, people = service
    clock("2026-12-01 22:00")
    clock_before = client.get("/api/exercises/updates-per-epoch?student=s001", headers=bearer(people["s001"])).json
    assert clock_before["handin"]["if_handed_in_now"]["days_late"] == 0
    clock("2026-12-03 09:00")  # 1 day 9 hours late: 2 whole days
    before = client.get("/api/exercises/updates-per-epoch?student=s001", headers=bearer(people["s001"])).json
    assert before["handin"]["if_handed_in_now"]["days_late"] == 2
    assert "2 days of it are covered by your late days" in before["handin"]["if_handed_in_now"]["message"]
    answer = hand_in(client, people["s001"])
    assert answer.status_code == 200
    (handin,) = answer.json["handins"]
    assert (handin["days_late"], handin["late_days_spent"], handin["late_days_left"]) == (2, 2, 0)
    assert handin["penalty"] == 0
    after = client.get("/api/exercises/updates-per-epoch?student=s001", headers=bearer(people["s001"])).json
    assert after["handin"]["late_days"] == {"bank": 2, "left": 0, "spent": {"lec4-homework": 2}}
    book = client.get("/api/gradebook", headers=bearer(people["ta"])).json
    row = next(r for r in book["students"] if r["student"] == "s001")
    assert row["scores"]["updates-per-epoch"] == 4  # covered by the bank: no penalty
    assert row["late_days"] == {"lec4-homework": 2}


def test_a_hand_in_late_past_the_bank_loses_the_penalty_per_day_in_the_gradebook(service, clock) -> None:
    _, client, people = service
    clock("2026-12-04 10:00")  # 3 days late, the bank covers 2
    answer = hand_in(client, people["s001"])
    assert answer.status_code == 200
    (handin,) = answer.json["handins"]
    assert (handin["days_late"], handin["late_days_spent"], handin["penalised_days"]) == (3, 2, 1)
    assert handin["penalty"] == pytest.approx(0.1)
    assert "1 day past them costs 10% of the score" in handin["message"]
    book = client.get("/api/gradebook", headers=bearer(people["ta"])).json
    row = next(r for r in book["students"] if r["student"] == "s001")
    assert row["scores"]["updates-per-epoch"] == pytest.approx(3.6)
    assert row["late_penalties"]["updates-per-epoch"] == pytest.approx(0.4)
    csv_text = client.get("/api/gradebook.csv", headers=bearer(people["ta"])).get_data(as_text=True)
    header, *rows = csv_text.splitlines()
    assert "late_days" in header.split(",") and "late_points_lost" in header.split(",")
    assert any(line.startswith("s001,") and "3.6" in line for line in rows)
    page = login(client, people["prof"]).get("/instructor").get_data(as_text=True)
    assert "late days 2; late penalty −0.4" in page


def test_the_bank_is_shared_by_the_assignments_in_the_order_the_late_hand_ins_were_made(service, clock) -> None:
    _, client, people = service
    clock("2026-12-02 08:00")  # lec4-homework 1 day late: 1 late day spent
    assert hand_in(client, people["s001"]).json["handins"][0]["late_days_left"] == 1
    clock("2026-12-03 08:00")  # 2 days late now: takes the last day
    assert hand_in(client, people["s001"]).json["handins"][0]["late_days_spent"] == 2
    clock("2026-12-05 08:00")  # 4 days late, nothing left: 2 days cost 20 %
    handin = hand_in(client, people["s001"]).json["handins"][0]
    assert (handin["late_days_spent"], handin["late_days_left"], handin["penalty"]) == (2, 0, pytest.approx(0.2))


def test_a_hand_in_after_the_late_window_is_refused_with_the_sentence(service, clock) -> None:
    _, client, people = service
    clock("2026-12-07 00:01")
    answer = hand_in(client, people["s001"])
    assert answer.status_code == 403
    assert answer.json["detail"] == (
        "lec4-homework closed on 2026-12-01 23:59 UTC; late hand-ins were accepted until 2026-12-06 23:59 UTC"
    )
    page = login(client, people["s001"]).get("/exercises/updates-per-epoch")
    assert "late hand-ins were accepted until 2026-12-06 23:59 UTC" in page.get_data(as_text=True)


def test_past_max_attempts_a_hand_in_is_refused_naming_the_limit(service, clock) -> None:
    app, client, people = service
    clock("2026-11-30 10:00")
    for used in (1, 2, 3):
        answer = hand_in(client, people["s001"])
        assert answer.json["exercises"][0]["attempts"] == {"used": used, "left": 3 - used}
    refused = hand_in(client, people["s001"])
    assert refused.status_code == 403
    assert refused.json["detail"] == (
        "you have used all 3 attempts at updates-per-epoch that lec4-homework allows (max_attempts: 3)"
    )
    assert hand_in(client, people["s002"]).status_code == 200  # the limit is per student
    shown = client.get("/api/exercises/updates-per-epoch?student=s001", headers=bearer(people["s001"])).json
    assert shown["attempts"] == {"used": 3, "left": 0}
    page = login(client, people["s001"]).get("/exercises/updates-per-epoch")
    assert "Attempts: 3 used, 0 left." in page.get_data(as_text=True)
    # A TA handing in for the student is never refused (a paper hand-in typed in, say).
    assert hand_in(client, people["ta"], {**HOMEWORK, "student": "s001"}).status_code == 200


def test_the_last_attempt_cannot_be_taken_twice_by_hand_ins_at_once(any_db: Database, ruled_course: Any, clock) -> None:
    """Both requests passed the check before either stored: the storing transaction refuses the second."""
    from grader.grading import grade
    from grader.store.submissions import count, store_graded

    moment = clock("2026-11-30 10:00")
    plan = course.Planned(
        "s001", moment, (("lec4-homework", "updates-per-epoch"),), {"updates-per-epoch": ("lec4-homework", 1)}
    )
    result = grade({"student": "s001", **HOMEWORK}, ruled_course)
    store_graded(any_db, "s001", result, b"{}", handin=plan.record)
    with pytest.raises(course.AttemptsExhausted, match=r"max_attempts: 1"):
        store_graded(any_db, "s001", result, b"{}", handin=plan.record)
    assert count(any_db) == 1  # the second submission was rolled back with its hand-in


def test_an_extension_moves_the_due_date_for_that_student_only(service, clock) -> None:
    app, client, people = service
    db = app.extensions["grader"].db
    course.set_extension(db, app.extensions["grader"].catalog, "s001", "lec4-homework", 3, by="prof", reason="illness")
    clock("2026-12-04 10:00")
    mine = hand_in(client, people["s001"]).json["handins"][0]
    assert (mine["days_late"], mine["extension_days"]) == (0, 3)
    assert mine["due"].startswith("2026-12-04T23:59")
    theirs = hand_in(client, people["s002"]).json["handins"][0]
    assert theirs["days_late"] == 3 and theirs["penalty"] == pytest.approx(0.1)
    clock("2026-12-08 10:00")  # past everyone's late window but s001's (moved to 2026-12-09 23:59)
    assert hand_in(client, people["s002"]).status_code == 403
    late = hand_in(client, people["s001"])
    assert late.status_code == 200 and late.json["handins"][0]["days_late"] == 4
    page = login(client, people["s001"]).get("/exercises/updates-per-epoch")
    assert "due 2026-12-04 23:59 UTC (with your 3-day extension)" in page.get_data(as_text=True)


# Feedback ----------------------------------------------------------------------------------------------------


def test_verdict_feedback_shows_scores_and_statuses_but_no_sentence_or_misconception(service, clock) -> None:
    _, client, people = service
    clock("2026-11-30 10:00")
    answer = hand_in(client, people["s001"], SIGN_ERROR)
    assert answer.status_code == 200
    assert answer.json["feedback_mode"] == "verdict"
    part = answer.json["exercises"][0]["parts"][0]
    assert (part["status"], part["score"], part["max_score"]) == ("partial", 1.5, 6)
    assert part["feedback"] == "Partly right." and part["misconception"] is None and part["details"] == {}
    text = str(answer.json)
    assert "uphill" not in text and "sign-error" not in text and "0.125" not in text
    stored = client.get(f"/api/submissions/{answer.json['submission']}", headers=bearer(people["s001"])).json
    assert "uphill" not in str(stored) and stored["score"] == 1.5
    staff = client.get(f"/api/submissions/{answer.json['submission']}", headers=bearer(people["ta"])).json
    assert staff["result"]["exercises"][0]["parts"][0]["misconception"] == "sign-error"  # staff see everything
    page = (
        login(client, people["s001"])
        .post("/exercises/gd-parabola", data={"part-iterates": "4, 6, 9, 13.5, 20.25, 30.375"})
        .get_data(as_text=True)
    )
    assert "Partly right." in page and "uphill" not in page and "sign-error" not in page
    result_page = client.get(f"/submissions/{answer.json['submission']}").get_data(as_text=True)
    assert "Partly right." in result_page and "uphill" not in result_page
    clock("2026-12-02 00:00")  # hand-ins closed (no late window): everything is shown
    after = client.get(f"/api/submissions/{answer.json['submission']}", headers=bearer(people["s001"])).json
    assert after["result"]["exercises"][0]["parts"][0]["misconception"] == "sign-error"


def test_no_feedback_hides_everything_until_the_due_date_passes(service, clock) -> None:
    _, client, people = service
    clock("2026-11-30 10:00")
    answer = hand_in(client, people["s001"], {"answers": {"momentum-step": {"direction": "0"}}})
    assert answer.status_code == 200, answer.json
    assert answer.json["feedback_mode"] == "none" and answer.json["withheld"] == ["momentum-step"]
    (exercise,) = answer.json["exercises"]
    assert exercise["withheld"] == (
        "Your answers to lec4-extra are stored; scores and feedback are shown after 2026-12-01 23:59 UTC."
    )
    assert "score" not in exercise and all(set(p) == {"id"} for p in exercise["parts"])
    assert answer.json["score"] == 0 and answer.json["max_score"] == 0
    stored = client.get(f"/api/submissions/{answer.json['submission']}", headers=bearer(people["s001"])).json
    assert stored["result"] is None and stored["score"] is None
    history = client.get("/api/students/s001/submissions", headers=bearer(people["s001"])).json
    assert history["submissions"][0]["score"] is None
    page = login(client, people["s001"]).get(f"/submissions/{answer.json['submission']}")
    assert page.status_code == 200 and "Score: not shown yet" in page.get_data(as_text=True)
    status = client.get(f"/submissions/{answer.json['submission']}/status").json
    assert status["status"] == "done" and status["score"] is None
    clock("2026-12-02 00:00")
    after = client.get(f"/api/submissions/{answer.json['submission']}", headers=bearer(people["s001"])).json
    assert after["result"]["exercises"][0]["id"] == "momentum-step" and after["score"] is not None
    assert (
        client.get("/api/students/s001/submissions", headers=bearer(people["s001"])).json["submissions"][0]["score"]
        is not None
    )


# The instructor: extensions --------------------------------------------------------------------------------------


def _url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def test_extensions_from_the_command_line_are_recorded_with_who_and_when(
    any_db: Database, ruled_course: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GRADER_EXERCISES", str(ruled_course.exercises["gd-parabola"].path.parent))
    database = ["--database", _url(any_db)]
    done = run("extensions", "set", "s001", "lec4-homework", "--days", "3", "--by", "prof", *database)
    assert done.exit_code == 0, done.output
    assert "lec4-homework due 2026-12-04 23:59 UTC (with your 3-day extension)" in done.output
    listed = run("extensions", "list", *database)
    assert "s001\tlec4-homework\t+3 day(s)\tset by prof" in listed.output
    csv_file = tmp_path / "extensions.csv"
    csv_file.write_text("student,assignment,days,reason\ns002,lec4-homework,2,illness\ns003,lec4-inclass,1,\n")
    imported = run("extensions", "import", str(csv_file), "--by", "prof", *database)
    assert imported.exit_code == 0 and "2 extension(s) imported" in imported.output
    removed = run("extensions", "remove", "s001", "lec4-homework", "--by", "ta1", *database)
    assert removed.exit_code == 0
    assert {(e.student, e.assignment, e.days) for e in course.list_extensions(any_db)} == {
        ("s002", "lec4-homework", 2),
        ("s003", "lec4-inclass", 1),
    }
    with any_db.read() as session:
        changes = session.scalars(select(ExtensionChange).order_by(ExtensionChange.id)).all()
    assert [(c.student_id, c.days, c.changed_by, c.source) for c in changes] == [
        ("s001", 3, "prof", "cli"),
        ("s002", 2, "prof", "import"),
        ("s003", 1, "prof", "import"),
        ("s001", None, "ta1", "cli"),
    ]
    assert all(c.changed_at is not None for c in changes)
    history = run("extensions", "list", "--history", "--format", "json", *database)
    assert '"change": "removed"' in history.output


@pytest.mark.parametrize(
    ("args", "csv_text", "message"),
    [
        (
            ["set", "s001", "lec4-homewrok", "--days", "3"],
            None,
            "there is no assignment 'lec4-homewrok' (did you mean 'lec4-homework'?)",
        ),
        (["set", "s001", "lec4-lab", "--days", "3"], None, "lec4-lab has no due date in course.yaml"),
        (["set", "s001", "lec4-homework", "--days", "0"], None, "days must be a whole number from 1 to 365, not 0"),
        (["remove", "s009", "lec4-homework"], None, "s009 has no extension on lec4-homework"),
        (
            ["import"],
            "student,assignment,days\ns001,lec4-homework,2\ns002,lec4-homework,two\n",
            "line 3: days must be a whole number, not 'two'",
        ),
        (["import"], "student,days\ns001,2\n", "assignment is missing"),
    ],
)
def test_bad_extensions_exit_2_with_one_sentence_and_change_nothing(
    sqlite_db: Database,
    ruled_course: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args,
    csv_text,
    message,
) -> None:
    monkeypatch.setenv("GRADER_EXERCISES", str(ruled_course.exercises["gd-parabola"].path.parent))
    if csv_text is not None:
        (tmp_path / "x.csv").write_text(csv_text)
        args = [*args, str(tmp_path / "x.csv")]
    result = run("extensions", *args, "--database", _url(sqlite_db))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert course.list_extensions(sqlite_db) == []


def test_the_instructor_page_sets_imports_and_removes_extensions_and_a_ta_only_reads_them(service) -> None:
    app, client, people = service
    login(client, people["prof"])
    page = client.post(
        "/instructor/extensions",
        data={"action": "set", "student": "s002", "assignment": "lec4-homework", "days": "4", "reason": "illness"},
    )
    assert page.status_code == 200
    assert "s002 has 4 more days on lec4-homework: due 2026-12-05 23:59 UTC" in page.get_data(as_text=True)
    import io

    upload = client.post(
        "/instructor/extensions",
        data={"action": "import", "file": (io.BytesIO(b"student,assignment,days\ns001,lec4-extra,1\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert "1 extension imported." in upload.get_data(as_text=True)
    wrong = client.post(
        "/instructor/extensions", data={"action": "set", "student": "s002", "assignment": "nope", "days": "1"}
    )
    assert wrong.status_code == 400 and "there is no assignment" in wrong.get_data(as_text=True)
    removed = client.post(
        "/instructor/extensions", data={"action": "remove", "student": "s002", "assignment": "lec4-homework"}
    )
    assert "s002&#39;s extension on lec4-homework is removed." in removed.get_data(as_text=True)
    listing = login(client, people["ta"]).get("/instructor/extensions").get_data(as_text=True)
    assert "lec4-extra" in listing and "illness" in listing and 'name="action"' not in listing
    refused = client.post(
        "/instructor/extensions", data={"action": "set", "student": "s002", "assignment": "lec4-homework", "days": "1"}
    )
    assert refused.status_code == 403 and "only an instructor may change extensions" in refused.get_data(as_text=True)
    assert [(e.student, e.days, e.set_by) for e in course.list_extensions(app.extensions["grader"].db)] == [
        ("s001", 1, "prof")
    ]
    assert login(client, people["s001"]).get("/instructor/extensions").status_code == 403


# course.yaml is checked strictly ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("    max_attempt: 3\n", "unknown field 'max_attempt' (did you mean 'max_attempts'?)"),
        ("    due: tomorrow\n", "due must be a time with a zone, like 2026-12-01T23:59:00+00:00, not 'tomorrow'"),
        (
            "    opens: 2026-12-02T09:00:00Z\n    due: 2026-12-01T23:59:00Z\n",
            "due (2026-12-01 23:59 UTC) is before opens (2026-12-02 09:00 UTC)",
        ),
        ("    due: 2026-12-01T23:59:00Z\n    feedback: verdit\n", "not 'verdit' (did you mean 'verdict'?)"),
        ("    due: 2026-12-01T23:59:00\n", "due needs a zone"),
        (
            "    due: 2026-12-01T23:59:00Z\n    late: {until: 2026-12-03T00:00:00Z, penalty: 0.1}\n",
            "did you mean 'penalty_per_day'?",
        ),
    ],
)
def test_a_mistake_in_course_yaml_names_the_file_the_line_and_the_nearest_field(
    tmp_path: Path, lines: str, expected: str
) -> None:
    folder = with_rules(tmp_path / "exercises", {"lec4-homework": lines}, late_days=None)
    number = next(
        i + 1
        for i, line in enumerate((folder / "course.yaml").read_text().splitlines())
        if line == lines.splitlines()[-1]
    )
    with pytest.raises(SpecError) as caught:
        load_catalog(folder)
    message = str(caught.value)
    assert message.startswith("course.yaml: line ")
    assert f"line {number}: assignment lec4-homework: " in message
    assert expected in message


def test_a_misspelt_top_level_field_and_validate_at_the_command_line(tmp_path: Path) -> None:
    folder = with_rules(tmp_path / "exercises", {"lec4-homework": "    max_attempt: 3\n"}, late_days=None)
    text = (folder / "course.yaml").read_text().replace("variants: slides\n", "variants: slides\nlate_day: 3\n")
    (folder / "course.yaml").write_text(text)
    import os
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "validate", "--seeds", "1"],
        capture_output=True,
        text=True,
        env={**os.environ, "GRADER_EXERCISES": str(folder)},
        timeout=120,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "course.yaml: 2 mistakes: line 8: unknown field 'late_day' (did you mean 'late_days'?); line " in run.stderr
    assert "unknown field 'max_attempt' (did you mean 'max_attempts'?)" in run.stderr


def test_graded_homework_defaults_to_verdict_feedback_and_three_attempts(tmp_path: Path) -> None:
    catalog = load_catalog(with_rules(tmp_path / "exercises", {"lec4-homework": "    due: 2026-12-01T23:59:00Z\n"}))
    rules = catalog.assignments["lec4-homework"].rules
    assert (rules.feedback, rules.max_attempts, rules.late_until) == ("verdict", 3, None)
    assert catalog.assignments["lec4-lab"].rules.active is False  # no due date: as before, always open, full feedback


def test_a_misspelt_field_in_an_exercise_file_names_its_line_and_the_nearest_field(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    spec = tmp_path / "exercises" / "gd-parabola.yaml"
    spec.write_text(spec.read_text().replace("title:", "titel:", 1))
    with pytest.raises(SpecError) as caught:
        load_catalog(tmp_path / "exercises")
    assert "gd-parabola.yaml (line 2): unknown field 'titel' (did you mean 'title'?)" in str(caught.value)


def test_the_lecture_course_file_still_loads_with_its_kernel_packages(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    course_file = tmp_path / "exercises" / "course.yaml"
    course_file.write_text(course_file.read_text() + "\nkernel:\n  packages: [numpy]\n")
    assert load_catalog(tmp_path / "exercises").kernel_packages == ("numpy",)
    course_file.write_text(course_file.read_text().replace("  packages: [numpy]", "  pakages: [numpy]"))
    with pytest.raises(SpecError, match=r"kernel: unknown field 'pakages' \(did you mean 'packages'\?\)"):
        load_catalog(tmp_path / "exercises")


# grader grade --late-from -----------------------------------------------------------------------------------------


def _grade(folder: Path, exercises: Path, *args: str) -> Any:
    import os
    import subprocess
    import sys

    env = {**os.environ, "GRADER_EXERCISES": str(exercises), "GRADER_DATA": str(folder / "data")}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "grader.cli", "grade", str(folder / "submitted"), "--assignment", "lec4-homework"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=300)


def test_grade_applies_deadlines_from_a_csv_of_hand_in_times_only_when_asked(tmp_path: Path, ruled_course: Any) -> None:
    import csv
    import io

    exercises = ruled_course.exercises["gd-parabola"].path.parent
    for student in ("s001", "s002"):
        (tmp_path / "submitted" / student).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / "lec4-homework.ipynb", tmp_path / "submitted" / student / "hw.ipynb")
    times = tmp_path / "times.csv"
    times.write_text("student,submitted_at\ns001,2026-11-30T10:00:00Z\ns002,2026-12-04T10:00:00+00:00\n")
    plain = _grade(tmp_path, exercises, "--format", "csv")
    assert plain.returncode == 0, plain.stderr
    assert "days_late" not in plain.stdout  # without --late-from nothing changes
    run = _grade(tmp_path, exercises, "--format", "csv", "--late-from", "csv", "--submitted-at", str(times))
    assert run.returncode == 0, run.stderr
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(run.stdout))}
    assert (rows["s001"]["days_late"], rows["s001"]["late_penalty"]) == ("0", "0.0")
    assert (rows["s002"]["days_late"], rows["s002"]["late_days_spent"], rows["s002"]["late_penalty"]) == (
        "3",
        "2",
        "0.1",
    )
    assert float(rows["s002"]["total_after_penalty"]) == pytest.approx(0.9 * float(rows["s002"]["total"]))
    missing = _grade(tmp_path, exercises, "--late-from", "csv")
    assert missing.returncode == 2 and "--late-from csv needs --submitted-at FILE.csv" in missing.stderr
    times.write_text("student,submitted_at\ns001,2026-11-30 10:00\n")
    naive = _grade(tmp_path, exercises, "--late-from", "csv", "--submitted-at", str(times))
    assert naive.returncode == 2 and "line 2: submitted_at '2026-11-30 10:00' has no zone" in naive.stderr


class _Jobs:
    """A job queue that only notes what it was given (queue_files' side of ``grader grade --queue``)."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, submission_id: str, student: str | None = None) -> None:
        self.submitted.append(submission_id)


def test_queued_notebooks_record_their_hand_in_times_only_when_given(
    any_db: Database, ruled_course: Any, tmp_path: Path
) -> None:
    from grader.notebooks.intake import gather
    from grader.notebooks.queued import queue_files
    from grader.store.models import HandIn

    for student in ("s001", "s002"):
        (tmp_path / "submitted" / student).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / "lec4-homework.ipynb", tmp_path / "submitted" / student / "hw.ipynb")
    batch = gather([tmp_path / "submitted"], ruled_course, "lec4-homework")
    late = datetime.fromisoformat("2026-12-04T10:00:00+00:00")
    times = {str(h.path): late for h in batch if h.owner.student == "s002"}  # s001's time is not known
    jobs = _Jobs()
    queued = queue_files(batch, ruled_course, any_db, jobs, handed_in_at=times)
    assert len(jobs.submitted) == 2 and all(q.id for q in queued)
    with any_db.read() as session:
        rows = session.execute(select(HandIn.student_id, HandIn.assignment, HandIn.exercise, HandIn.handed_in_at)).all()
    exercises = ruled_course.assignments["lec4-homework"].exercises
    assert sorted(rows) == sorted(("s002", "lec4-homework", e, datetime(2026, 12, 4, 10, 0)) for e in exercises)
    assert course.standing(any_db, ruled_course, "s002").ledger.spent == {"lec4-homework": 2}  # 3 days late, bank 2
    queue_files(batch, ruled_course, any_db, jobs)  # no times (no --late-from): nothing recorded
    with any_db.read() as session:
        assert len(session.execute(select(HandIn.id)).all()) == len(exercises)


def test_grade_queue_with_late_from_puts_the_hand_in_times_in_the_services_gradebook(
    any_db: Database, ruled_course: Any, tmp_path: Path
) -> None:
    import csv
    import io
    import os
    import subprocess
    import sys

    from grader.store import gradebook

    exercises = ruled_course.exercises["gd-parabola"].path.parent
    for student in ("s001", "s002"):
        (tmp_path / "submitted" / student).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / "lec4-homework.ipynb", tmp_path / "submitted" / student / "hw.ipynb")
    times = tmp_path / "times.csv"
    times.write_text("student,submitted_at\ns001,2026-11-30T10:00:00Z\ns002,2026-12-04T10:00:00+00:00\n")
    env = {**os.environ, "GRADER_EXERCISES": str(exercises), "DATABASE_URL": _url(any_db)}
    env.pop("GRADER_BROKER", None)
    command = [sys.executable, "-c", "from grader.cli import main; main()", "grade", str(tmp_path / "submitted")]
    options = ["--assignment", "lec4-homework", "--queue", "--format", "csv", "--late-from", "csv"]
    run = subprocess.run(
        [*command, *options, "--submitted-at", str(times)], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode == 0, run.stderr
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(run.stdout))}
    late = ("days_late", "late_days_spent", "late_penalty")
    assert tuple(rows["s002"][column] for column in late) == ("3", "2", "0.1")
    assert (rows["s001"]["days_late"], rows["s001"]["late_penalty"]) == ("0", "0.0")

    # The store has each hand-in at its time: the service's gradebook spends the same late days, takes the same 10 %.
    assert course.standing(any_db, ruled_course, "s002").ledger.spent == {"lec4-homework": 2}
    book = gradebook.gradebook(any_db, "best", course.late_book(any_db, ruled_course))
    full = {e: book.scores["s001"][e][0] for e in ruled_course.assignments["lec4-homework"].exercises}
    assert all(score > 0 for score in full.values())
    assert {e: book.scores["s002"][e][0] for e in full} == {e: pytest.approx(0.9 * s) for e, s in full.items()}
    assert book.late.late_days == {"s002": {"lec4-homework": 2}}
    total = float(rows["s002"]["total_after_penalty"])
    assert sum(book.scores["s002"][e][0] for e in full) == pytest.approx(total)
