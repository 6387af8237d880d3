"""Regrade after a spec change: every stored submission graded again, before and after printed, history kept.

The story: the spec of gd-parabola went out with a wrong learning rate (η = 0.2 where the slides say 0.25), so
students who ran the slides' numbers correctly were marked wrong. The instructor fixes the spec and regrades.
Everything here runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from test_web_helpers import bearer, make_app, notebook_bytes

from grader import regrade
from grader.cli import main
from grader.grading import grade
from grader.specs.model import load_catalog
from grader.store import gradebook as book
from grader.store import submissions
from grader.store.db import Database
from grader.store.models import PartResult, PreviousResult
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]

ROOT = Path(__file__).resolve().parent.parent
CORRECT = "4, 2, 1, 0.5, 0.25, 0.125"  # the slides' run with η = 0.25
VALUES = "18, 6, 3, 2.25, 2.0625, 2.015625"


@pytest.fixture(scope="module")
def broken_course(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The lecture's exercises with gd-parabola's η = 0.2: its reference answer is wrong for the slides' run."""
    folder = tmp_path_factory.mktemp("broken") / "exercises"
    shutil.copytree(ROOT / "exercises", folder)
    spec = folder / "gd-parabola.yaml"
    spec.write_text(spec.read_text().replace("eta: {default: 0.25,", "eta: {default: 0.2,"), encoding="utf-8")
    return load_catalog(folder)


def store(db: Database, catalog: Any, student: str, iterates: str, values: str | None = None) -> str:
    answers = {"iterates": iterates, **({"values": values} if values else {})}
    submission = {"student": student, "answers": {"gd-parabola": answers}}
    result = grade(submission, catalog)
    import orjson

    return submissions.store_graded(db, student, result, orjson.dumps(submission))


class _Main:
    name = "grader"

    def main(self, args: list[str], prog_name: str | None = None, **_: Any) -> None:
        sys.argv = ["grader", *args]
        main()


def run(*args: str) -> Any:
    return CliRunner().invoke(_Main(), list(args), catch_exceptions=False)


def _url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def test_regrade_after_fixing_a_reference_prints_before_and_after_and_keeps_the_history(
    any_db: Database, broken_course: Any, catalog: Any
) -> None:
    first = store(any_db, broken_course, "s001", CORRECT, VALUES)
    second = store(any_db, broken_course, "s001", "4, 2, 1, 0.5, 0.25, 1")
    other = store(any_db, broken_course, "s002", "4, 2.4, 1.44, 0.864, 0.5184, 0.31104")  # right for η = 0.2
    untouched = submissions.store_graded(
        any_db, "s003", grade({"answers": {"updates-per-epoch": {"b32": "38"}}}, catalog), b"{}"
    )
    old = submissions.get(any_db, first)
    assert old.score < 12  # marked wrong by the broken spec

    dry = regrade.regrade(any_db, catalog, "gd-parabola", dry_run=True)
    assert {s.submission for s in dry.submissions} == {first, second, other}
    assert submissions.get(any_db, first).result == old.result  # a dry run stores nothing
    with any_db.read() as session:
        assert session.scalar(select(func.count()).select_from(PreviousResult)) == 0

    report = regrade.regrade(any_db, catalog, "gd-parabola", regrade_id="r1")
    rows = {r["student"]: r for r in report.students()}
    assert rows["s001"]["before"] == old.score and rows["s001"]["after"] == 12 and rows["s001"]["submissions"] == 2
    assert rows["s002"]["after"] < rows["s002"]["before"]  # right only for the wrong η
    assert "s003" not in rows
    text = report.text()
    assert f"{'s001':<7}  {old.score:>7g}  {12:>7g}  {12:>5g}  2 (2 changed)  *" in text.splitlines()

    now = submissions.get(any_db, first)
    assert now.score == 12 and now.result["exercises"][0]["parts"][0]["status"] == "correct"
    assert regrade.previous_results(any_db, first) == [
        {
            "result": old.result,
            "score": old.score,
            "max_score": old.max_score,
            "graded_at": old.finished_at,
            "replaced_at": regrade.previous_results(any_db, first)[0]["replaced_at"],
            "regrade": "r1",
        }
    ]
    with any_db.read() as session:
        parts = session.execute(
            select(PartResult.part, PartResult.score).where(PartResult.submission_id == first).order_by(PartResult.part)
        ).all()
    assert [(p, s) for p, s in parts] == [("iterates", 6.0), ("values", 6.0)]  # the part rows are today's, once
    assert book.gradebook(any_db).scores["s001"]["gd-parabola"][0] == 12
    assert submissions.get(any_db, untouched).result is not None

    again = regrade.regrade(any_db, catalog, "gd-parabola")  # nothing changed since: nothing stored
    assert not any(s.changed for s in again.submissions)
    assert len(regrade.previous_results(any_db, first)) == 1


def test_an_override_survives_a_regrade(any_db: Database, broken_course: Any, catalog: Any) -> None:
    from grader.store import reviews

    first = store(any_db, broken_course, "s001", "4, 2, 1, 0.5, 0.25, 1")  # one slip
    reviews.record(any_db, first, "gd-parabola", "iterates", by="ta1", score=6, comment="a typo, clearly")
    report = regrade.regrade(any_db, catalog, "gd-parabola")
    (item,) = report.submissions
    assert item.after == 6 and item.changed  # the grader's result changed; the TA's 6 points stay on top
    assert reviews.of_submission(any_db, first)[0].score == 6


def test_the_command_line_regrades_an_assignment_and_says_what_cannot_be_regraded(
    any_db: Database, broken_course: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store(any_db, broken_course, "s001", CORRECT, VALUES)
    bad = submissions.store_graded(any_db, "s002", grade({"answers": {"gd-parabola": {}}}, broken_course), b"not json")
    monkeypatch.setenv("GRADER_EXERCISES", str(ROOT / "exercises"))
    dry = run("regrade", "lec4-inclass", "--dry-run", "--database", _url(any_db))
    assert dry.exit_code == 0, dry.stderr
    assert "regrade lec4-inclass: 2 submission(s) of 2 student(s), 1 changed (dry run: nothing stored)" in dry.output
    assert (
        f"not regraded {bad} (s002): the stored submission is not valid JSON; its result stays as it was" in dry.output
    )
    done = run("regrade", "lec4-inclass", "--format", "json", "--database", _url(any_db))
    import json

    data = json.loads(done.output)
    assert data["changed"] == 1 and data["errors"] == 1
    assert {r["student"]: r["after"] for r in data["students"]} == {"s001": 12, "s002": 0}
    unknown = run("regrade", "gd-parabol", "--database", _url(any_db))
    assert unknown.exit_code == 2
    assert "'gd-parabol' is neither an exercise nor an assignment (did you mean 'gd-parabola'?)" in unknown.stderr


def test_the_service_regrades_in_the_background_for_an_instructor_only(
    any_db: Database, broken_course: Any, catalog: Any
) -> None:
    first = store(any_db, broken_course, "s001", CORRECT, VALUES)
    queued = submissions.create_queued(
        any_db,
        "s002",
        "notebook",
        notebook_bytes({"gd-parabola": {"iterates": CORRECT}}),
        filename="s002.ipynb",
        assignment="lec4-inclass",
    )
    app = make_app(any_db, catalog)
    try:
        app.extensions["grader"].jobs.submit(queued, "s002")
        app.extensions["grader"].jobs.wait(30)
        client = app.test_client()
        prof, ta = add_user("prof", "instructor", db=any_db), add_user("ta1", "ta", db=any_db)
        assert client.post("/api/regrade", json={"target": "gd-parabola"}, headers=bearer(ta)).status_code == 403
        assert client.post("/api/regrade", json={"target": "gd-parabola"}).status_code == 401
        wrong = client.post("/api/regrade", json={"target": "lec4-homewrk"}, headers=bearer(prof))
        assert wrong.status_code == 400 and "(did you mean 'lec4-homework'" in wrong.json["detail"]
        assert (
            client.post("/api/regrade", json={"target": "gd-parabola", "dry": 1}, headers=bearer(prof)).status_code
            == 400
        )
        started = client.post("/api/regrade", json={"target": "gd-parabola"}, headers=bearer(prof))
        assert started.status_code == 202 and started.json["status"] == "queued"
        job = started.json
        for _ in range(600):
            job = client.get(started.json["url"], headers=bearer(prof)).json
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.05)
        assert job["status"] == "done", job
        students = {r["student"]: r for r in job["report"]["students"]}
        assert students["s001"]["after"] == 12 and students["s001"]["before"] < 12
        assert students["s002"]["before"] == students["s002"]["after"]  # the notebook was graded by today's spec
        assert submissions.get(any_db, first).score == 12
        assert client.get(started.json["url"], headers=bearer(ta)).status_code == 403
        assert client.get("/api/regrade/nope", headers=bearer(prof)).status_code == 404
    finally:
        regrade.wait_all(30)
        app.extensions["grader"].jobs.shutdown(wait=True)
