"""The notebook commands: ``grader notebook`` and ``grader grade`` with every output format.

Real nbformat files in a temporary class folder, graded through the real
sandbox by the command itself.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import click
import nbformat
import nbformat.v4 as nbf
import pytest
from click.testing import CliRunner, Result

from grader import contract
from grader.cli.notebooks import grade, notebook
from grader.notebooks.generate import student_notebook, variable_name
from grader.specs.model import load_catalog

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "solutions" / "lec4-inclass.json").read_text())["answers"]
SCRIPT = "<script>alert(1)</script>"
HYPERLINK = '=HYPERLINK("x")'
HYPERLINK_ID = "HYPERLINK_x"  # the id any path makes of that name (grader.students.student_id)


@click.group()
def grader() -> None:
    """The notebook commands, as ``grader`` attaches them."""


grader.add_command(notebook)
grader.add_command(grade)


def run(*args: str) -> Result:
    return CliRunner().invoke(grader, [str(a) for a in args], catch_exceptions=False)


def filled(catalog: Any, student: str | None, **changes: Any) -> Any:
    """The generated in-class notebook answered with the reference, except ``changes`` (variable → source)."""
    node = student_notebook(catalog, "lec4-inclass", student)
    for cell in node.cells:
        meta = cell.get("metadata", {}).get("grader", {})
        if cell.cell_type == "code" and "part" in meta:
            name = variable_name(meta["exercise"], meta["part"])
            cell.source = changes.get(name, f"{name} = {REFERENCE[meta['exercise']][meta['part']]!r}")
    return node


def write(node: Any, path: Path) -> Path:
    nbformat.validate(node)
    nbformat.write(node, str(path))
    return path


@pytest.fixture(scope="module")
def klass(catalog: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class folder: right, a misconception, a crash, a hostile student, a file that is not a notebook."""
    folder = tmp_path_factory.mktemp("class")
    write(filled(catalog, "s001"), folder / "s001.ipynb")
    sign_error = {
        "gd_parabola_iterates": "gd_parabola_iterates = [4, 6, 9, 13.5, 20.25, 30.375]",
        "gd_parabola_values": "gd_parabola_values = [x**2 + 2 for x in gd_parabola_iterates]",
    }
    write(filled(catalog, "s002", **sign_error), folder / "s002.ipynb")
    crashing = filled(catalog, "s003")
    crashing.cells.insert(2, nbf.new_code_cell("import torch  # not installed\nmodel = torch.nn.Linear(2, 1)"))
    write(crashing, folder / "s003.ipynb")
    hostile = filled(
        catalog,
        "s004",
        learning_rate_converges=f"learning_rate_converges = {SCRIPT!r}",
        learning_rate_why=f"learning_rate_why = {SCRIPT!r}",
    )
    hostile.metadata["grader"]["student"] = HYPERLINK
    write(hostile, folder / "s004.ipynb")
    (folder / "s005.ipynb").write_text("this is not a notebook")
    return folder


@pytest.fixture(scope="module")
def graded(klass: Path) -> list[dict[str, Any]]:
    result = run("grade", klass, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def by_student(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["student"]: r for r in results}


def part(result: dict[str, Any], exercise: str, part_id: str) -> dict[str, Any]:
    exercise_result = next(e for e in result["exercises"] if e["id"] == exercise)
    return next(p for p in exercise_result["parts"] if p["id"] == part_id)


# grader notebook -------------------------------------------------------------------------


def test_notebook_command_writes_a_valid_notebook(tmp_path: Path) -> None:
    out = tmp_path / "x.ipynb"
    result = run("notebook", "lec4-inclass", "--student", "s001", "-o", out)
    assert result.exit_code == 0, result.stderr
    node = nbformat.read(str(out), as_version=4)
    nbformat.validate(node)
    assert node.nbformat == 4
    assert node.metadata["grader"] == {"assignment": "lec4-inclass", "student": "s001"}
    bound = {
        cell.source.split(" = ")[0]: cell.metadata["grader"]
        for cell in node.cells
        if cell.cell_type == "code" and "part" in cell.metadata.get("grader", {})
    }
    assert set(bound) == {
        "gd_parabola_iterates",
        "gd_parabola_values",
        "learning_rate_converges",
        "learning_rate_classify",
        "learning_rate_why",
    }
    assert bound["gd_parabola_iterates"] == {"exercise": "gd-parabola", "part": "iterates", "points": 6}


def prompt_text(path: Path) -> str:
    node = nbformat.read(str(path), as_version=4)
    return "\n".join(c.source for c in node.cells if c.cell_type == "markdown")


def numbers(text: str) -> list[str]:
    return re.findall(r"x_0 = (\S+)\$|\\eta = (\S+)\$|\\eta\$ = (\[[^\]]*\])", text)


def test_per_student_variants_give_students_different_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_VARIANTS", "per-student")
    monkeypatch.setenv("GRADER_SECRET", "course-secret-for-tests")
    for name in ("s001", "s002", "s002-again"):
        student = name.removesuffix("-again")
        assert run("notebook", "lec4-inclass", "--student", student, "-o", tmp_path / f"{name}.ipynb").exit_code == 0
    one, two = prompt_text(tmp_path / "s001.ipynb"), prompt_text(tmp_path / "s002.ipynb")
    assert len(numbers(one)) == 3 and len(numbers(two)) == 3
    assert numbers(one) != numbers(two)
    assert (tmp_path / "s002.ipynb").read_bytes() == (tmp_path / "s002-again.ipynb").read_bytes()


def test_per_student_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """s002's notebook answered with s002's reference scores full; the same answers as s001's do not."""
    monkeypatch.setenv("GRADER_VARIANTS", "per-student")
    monkeypatch.setenv("GRADER_SECRET", "course-secret-for-tests")
    catalog = load_catalog()
    answers = {
        e: {
            k.part: k.reference
            for k in catalog.keys(catalog.exercises[e], catalog.variant(catalog.exercises[e], "s002"))
        }
        for e in ("gd-parabola", "learning-rate")
    }
    for student in ("s001", "s002"):
        node = student_notebook(catalog, "lec4-inclass", "s002")
        node.metadata["grader"]["student"] = student
        for cell in node.cells:
            meta = cell.get("metadata", {}).get("grader", {})
            if "part" in meta and answers[meta["exercise"]][meta["part"]] is not None:
                value = answers[meta["exercise"]][meta["part"]]
                value = str(value) if meta["part"] == "converges" else value
                cell.source = f"{variable_name(meta['exercise'], meta['part'])} = {value!r}"
        write(node, tmp_path / f"{student}.ipynb")
    result = run("grade", tmp_path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    results = by_student(json.loads(result.stdout))
    own = results["s002"]
    assert {p["status"] for e in own["exercises"] for p in e["parts"]} == {"correct", "missing"}  # why left empty
    assert own["score"] == 19
    assert results["s001"]["score"] < 19


def test_notebook_command_unknown_assignment_exits_2_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "x.ipynb"
    result = run("notebook", "no-such-assignment", "-o", out)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: unknown assignment 'no-such-assignment'")
    assert result.stdout == ""
    assert not out.exists()


def test_notebook_command_refuses_a_student_id_grading_cannot_use(tmp_path: Path) -> None:
    result = run("notebook", "lec4-inclass", "--student", "Jane Doe", "-o", tmp_path / "x.ipynb")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --student")
    assert not (tmp_path / "x.ipynb").exists()


# grader grade: the results ---------------------------------------------------------------


def test_json_is_one_result_per_notebook(graded: list[dict[str, Any]], klass: Path) -> None:
    assert [Path(r["file"]).name for r in graded] == [f"s00{i}.ipynb" for i in range(1, 6)]
    for result in graded:
        assert {"student", "file", "error", "exercises", "score", "max_score"} <= set(result)
    students = by_student(graded)
    assert set(students) == {"s001", "s002", "s003", HYPERLINK_ID, "s005"}
    assert students["s001"]["score"] == 19 and students["s001"]["error"] is None
    sign = part(students["s002"], "gd-parabola", "iterates")
    assert sign["misconception"] == "sign-error"
    assert part(students["s002"], "gd-parabola", "values")["status"] == "correct"  # carried forward
    crashed = students["s003"]
    assert crashed["error"] is None and crashed["score"] == 19
    assert [e["ename"] for e in crashed["cell_errors"]] == ["ModuleNotFoundError"]
    assert "not a Jupyter notebook" in students["s005"]["error"]
    assert students["s005"]["score"] == 0 and students["s005"]["graded"] is True


def test_csv_has_one_row_per_notebook_and_is_formula_safe(klass: Path, tmp_path: Path) -> None:
    out = tmp_path / "grades.csv"
    result = run("grade", klass, "--format", "csv", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == [
        "student", "file", "gd-parabola", "learning-rate", "total", "max", "error", "warning", "waiting_for_ta",
    ]  # fmt: skip
    assert len(rows) == 6
    table = {row[0]: row for row in rows[1:]}
    assert set(table) == {"s001", "s002", "s003", HYPERLINK_ID, "s005"}
    assert table["s001"][2:6] == ["12", "7", "19", "21"]
    assert table["s001"][6] == ""
    assert table["s001"][8] == "learning-rate/why"  # free text: waiting for a TA, not failed
    assert "not a Jupyter notebook" in table["s005"][6]
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_gradescope_results_json_has_one_test_per_part(klass: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = run("grade", klass / "s002.ipynb", "--format", "gradescope", "--out", out)
    assert result.exit_code == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["score"] == pytest.approx(sum(t["score"] for t in report["tests"]))
    assert [t["name"] for t in report["tests"]] == [
        "gd-parabola / iterates",
        "gd-parabola / values",
        "learning-rate / converges",
        "learning-rate / classify",
        "learning-rate / why",
    ]
    for test in report["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
    assert "sign-error" in report["tests"][0]["output"]
    assert report["tests"][0]["score"] < report["tests"][0]["max_score"] == 6


def test_feedback_files_one_per_student(klass: Path, tmp_path: Path) -> None:
    folder = tmp_path / "feedback"
    result = run("grade", klass, "--feedback", folder, "--format", "json")
    assert result.exit_code == 0, result.stderr
    pages = {p.stem: p.read_text() for p in folder.glob("*.html")}
    assert len(pages) == 5
    assert {"s001", "s002", "s003", "s005"} <= set(pages)
    sign = pages["s002"]
    assert "You moved uphill" in sign and "sign-error" in sign
    assert '<img src="data:image/svg+xml;base64,' in sign  # the path plot, in the file
    assert '<th scope="col">expected x</th>' in sign  # and its numbers as text, the expected path included
    assert '<img src="data:image/svg+xml;base64,' in pages["s001"]
    hostile = next(text for name, text in pages.items() if "HYPERLINK" in name)
    assert "<script" not in hostile.lower()
    assert "&lt;script&gt;" in hostile  # the student's text is shown, escaped
    assert "ModuleNotFoundError" in pages["s003"]
    assert "not a Jupyter notebook" in pages["s005"]


def test_a_student_with_several_notebooks_gets_a_feedback_file_for_each(catalog: Any, tmp_path: Path) -> None:
    folder = tmp_path / "submitted" / "alice"
    (folder / "lec4-inclass").mkdir(parents=True)
    (folder / "lec4-homework").mkdir()
    write(filled(catalog, None), folder / "lec4-inclass" / "mine.ipynb")
    write(filled(catalog, None), folder / "lec4-inclass" / "again.ipynb")  # handed in twice
    homework = nbformat.read(str(ROOT / "solutions" / "lec4-homework.ipynb"), as_version=4)
    homework.metadata["grader"].pop("student", None)
    write(homework, folder / "lec4-homework" / "homework.ipynb")
    out = tmp_path / "feedback"
    result = run("grade", tmp_path / "submitted", "--feedback", out, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    pages = sorted(p.name for p in out.glob("*.html"))
    assert pages == ["alice-lec4-homework.html", "alice-lec4-inclass-2.html", "alice-lec4-inclass.html"]
    assert "lec4-homework" in (out / "alice-lec4-homework.html").read_text()


def test_student_names_whose_notebooks_a_folder_holds(catalog: Any, tmp_path: Path, store: Any) -> None:
    folder = tmp_path / "submitted" / "alice" / "lec4-inclass"
    folder.mkdir(parents=True)
    write(filled(catalog, None), folder / "answers.ipynb")
    guessed = run("grade", folder, "--format", "json")
    assert [r["student"] for r in json.loads(guessed.stdout)] == ["answers"]  # files in an assignment folder
    for extra in ([], ["--queue"]):
        named = run("grade", folder, "--student", "alice", "--format", "json", *extra)
        assert named.exit_code == 0, named.stderr
        [result] = json.loads(named.stdout)
        assert (result["student"], result["assignment"], result["score"]) == ("alice", "lec4-inclass", 19)
    refused = run("grade", folder, "--student", "../alice")
    assert refused.exit_code == 2 and refused.stderr.startswith("error: --student must be an id")


def test_feedback_names_are_unique_and_safe() -> None:
    from grader.reports.exports import feedback_names

    results = [
        contract.NotebookResult(student, [], file=f"{student}.ipynb", assignment=assignment)
        for student, assignment in [("s001", "a"), ("../s002", "a"), ("S003", None), ("s003", None)]
    ]
    assert feedback_names(results) == ["s001.html", "_s002.html", "S003.html", "s003-2.html"]


def test_fail_under(klass: Path, tmp_path: Path) -> None:
    assert run("grade", klass, "--fail-under", "50").exit_code == 1  # s005 scores 0
    homework = ROOT / "solutions" / "lec4-homework.ipynb"
    assert run("grade", homework, "--fail-under", "100").exit_code == 0
    wrong = nbformat.read(str(homework), as_version=4)
    for cell in wrong.cells:
        if cell.cell_type == "code" and cell.source.startswith("updates_per_epoch_b32"):
            cell.source = "updates_per_epoch_b32 = 37"
    write(wrong, tmp_path / "s009.ipynb")
    assert run("grade", homework, tmp_path / "s009.ipynb", "--fail-under", "100").exit_code == 1
    assert run("grade", homework, tmp_path / "s009.ipynb", "--fail-under", "90").exit_code == 0


def test_text_lists_every_notebook_and_the_summary_names_what_needs_a_look(klass: Path) -> None:
    result = run("grade", klass)
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 5
    for line, name in zip(lines, [f"s00{i}.ipynb" for i in range(1, 6)], strict=True):
        assert name in line
    assert re.search(r"^s001\s+19/21\s", lines[0])
    summary = result.stderr
    assert "graded 5 notebook(s)" in summary
    assert "review s001: learning-rate/why" in summary
    assert "review s002: learning-rate/why" in summary
    assert re.search(r"error\s+\S*s005\.ipynb: not a Jupyter notebook", summary)
    assert "1 notebook(s) had an error" in summary


# grader grade: limits and bad input ------------------------------------------------------


def test_a_notebook_that_loops_forever_times_out_and_keeps_earlier_answers(tmp_path: Path) -> None:
    node = nbf.new_notebook(
        cells=[
            nbf.new_code_cell("gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]"),
            nbf.new_code_cell("while True:\n    pass"),
            nbf.new_code_cell("gd_parabola_values = [18, 6, 3, 2.25, 2.0625, 2.015625]"),
        ]
    )
    write(node, tmp_path / "s010.ipynb")
    result = run("grade", tmp_path / "s010.ipynb", "--timeout", "2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    [graded] = json.loads(result.stdout)
    assert "timeout" in graded["error"]
    assert part(graded, "gd-parabola", "iterates")["status"] == "correct"
    assert part(graded, "gd-parabola", "values")["status"] == "missing"
    assert graded["score"] == 6
    assert "s010.ipynb: timeout" in result.stderr


def test_grade_with_an_unknown_assignment_exits_2(klass: Path) -> None:
    result = run("grade", klass, "--assignment", "no-such")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown assignment 'no-such'")
    assert result.stderr.count("\n") == 1


def test_grade_a_folder_without_notebooks_exits_2(tmp_path: Path) -> None:
    result = run("grade", tmp_path)
    assert result.exit_code == 2
    assert "no .ipynb files" in result.stderr


def test_grade_an_assignment_folder_names_students_by_file(catalog: Any, tmp_path: Path) -> None:
    folder = tmp_path / "grading" / "lec4-inclass"
    folder.mkdir(parents=True)
    for student in ("s020", "s021"):
        node = filled(catalog, None)  # the shared notebook: student "default" in its metadata
        node.metadata.pop("grader")
        write(node, folder / f"{student}.ipynb")
    result = run("grade", folder, "--format", "json")
    assert [(r["student"], r["assignment"]) for r in json.loads(result.stdout)] == [
        ("s020", "lec4-inclass"),
        ("s021", "lec4-inclass"),
    ]


def test_out_to_a_device_writes_to_it_instead_of_replacing_it(klass: Path, tmp_path: Path) -> None:
    # A link to /dev/null: were the device renamed over, only the link would be lost, never /dev/null.
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    result = run("grade", klass, "--format", "json", "--out", link)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# grader grade --queue (the service's job path; with Celery workers in test_jobs_celery.py) -----------------


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A store of its own for the queued jobs, and no broker: the jobs run in a pool of this process."""
    from grader.store.db import Database

    url = f"sqlite:///{tmp_path / 'queue.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("GRADER_BROKER", raising=False)
    db = Database(url)
    yield db
    db.dispose()


def test_grading_through_the_queue_gives_the_same_grades_and_stores_them(klass: Path, store: Any) -> None:
    from grader.store import submissions

    here = run("grade", klass, "--format", "json")
    queued = run("grade", klass, "--queue", "--format", "json")
    assert queued.exit_code == 0, queued.stderr
    assert "queued 5 notebook(s)" in queued.stderr and "graded 5 notebook(s)" in queued.stderr
    local, through_queue = json.loads(here.stdout), json.loads(queued.stdout)
    assert [r["file"] for r in through_queue] == [r["file"] for r in local]  # the order of the files
    for mine, theirs in zip(local, through_queue, strict=True):
        assert (theirs["score"], theirs["max_score"], bool(theirs.get("error"))) == (
            mine["score"],
            mine["max_score"],
            bool(mine.get("error")),
        ), mine["file"]
        assert theirs["exercises"] == mine["exercises"]
    assert by_student(through_queue)["s002"]["exercises"][0]["parts"][0]["misconception"] == "sign-error"
    ids = [r["submission"] for r in through_queue]
    assert submissions.count(store) == 5 and submissions.pending(store) == []
    stored = {s.id: s for s in submissions.finished(store, ids)}
    assert set(stored) == set(ids) and all(s.status == "done" for s in stored.values())
    assert stored[by_student(through_queue)["s001"]["submission"]].student == "s001"


def test_queue_options_that_cannot_work_exit_2_and_queue_nothing(
    klass: Path, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.store import submissions

    alone = run("grade", klass, "--no-wait")
    assert alone.exit_code == 2 and "--no-wait goes with --queue" in alone.stderr
    no_broker = run("grade", klass, "--queue", "--no-wait")
    assert no_broker.exit_code == 2 and "--no-wait needs GRADER_BROKER" in no_broker.stderr
    monkeypatch.setenv("GRADER_BROKER", "redis://127.0.0.1:9/0")  # nothing listens there
    down = run("grade", klass, "--queue")
    assert down.exit_code == 2
    assert (
        down.stderr.startswith("error: the grading queue does not answer")
        and "0 notebook(s) were queued" in down.stderr
    )
    assert submissions.count(store) == 0


def test_waiting_on_the_queue_says_once_when_nothing_finishes(store: Any, catalog: Any, tmp_path: Path) -> None:
    import threading

    from grader.notebooks.queued import Queued, wait_for
    from grader.store import submissions

    store.migrate()
    submission_id = submissions.create_queued(store, "s001", "notebook", b"{}")
    parts = [contract.PartResult("iterates", 1, 2, "partial", "Half right.")]
    result = contract.Result("s001", [contract.ExerciseResult("gd-parabola", parts)])
    timer = threading.Timer(0.6, submissions.finish, args=(store, submission_id, result))
    timer.start()
    idle: list[float] = []
    results = list(wait_for(store, [Queued(tmp_path / "a.ipynb", "s001", id=submission_id)], 0.05, 0.2, idle.append))
    timer.join()
    assert len(idle) == 1 and idle[0] >= 0.2  # said once, not at every poll
    stored = {**result.to_json(), "file": str(tmp_path / "a.ipynb"), "error": None, "graded": True}
    assert [r.to_json() for r in results] == [{**stored, "submission": submission_id}]


# Whose work it is -----------------------------------------------------------------------------


@pytest.mark.parametrize("through", ["here", "queue"])
def test_a_notebook_naming_another_student_is_graded_as_its_folders_student(
    catalog: Any, tmp_path: Path, store: Any, through: str
) -> None:
    """s001 hands in a notebook whose metadata says it is s002's, to bury s002's work under a blank one."""
    from grader.store import submissions

    submitted = tmp_path / "submitted"
    for student in ("s001", "s002"):
        (submitted / student / "lec4-inclass").mkdir(parents=True)
    forged = filled(catalog, "s002", gd_parabola_iterates="gd_parabola_iterates = [0]")
    write(forged, submitted / "s001" / "lec4-inclass" / "mine.ipynb")
    write(filled(catalog, "s002"), submitted / "s002" / "lec4-inclass" / "work.ipynb")
    feedback, grades = tmp_path / "feedback", tmp_path / "grades.csv"
    extra = ["--queue"] if through == "queue" else []
    result = run("grade", submitted, "--format", "json", "--feedback", feedback, *extra)
    assert result.exit_code == 0, result.stderr
    by_file = {Path(r["file"]).name: r for r in json.loads(result.stdout)}
    assert by_file["mine.ipynb"]["student"] == "s001"
    assert by_file["work.ipynb"]["student"] == "s002"
    assert "'s002'" in by_file["mine.ipynb"]["warning"] and "'s001'" in by_file["mine.ipynb"]["warning"]
    assert "warning" not in by_file["work.ipynb"]
    assert "1 notebook(s) disagree with their metadata" in result.stderr
    assert re.search(r"warning .*mine\.ipynb: its metadata names student 's002'", result.stderr)
    assert sorted(p.name for p in feedback.glob("*.html")) == ["s001.html", "s002.html"]
    assert "gd_parabola_iterates = [0]" not in (feedback / "s002.html").read_text()
    assert by_file["work.ipynb"]["score"] > by_file["mine.ipynb"]["score"]
    if through == "queue":
        stored = {s.id: s.student for s in submissions.finished(store, [r["submission"] for r in by_file.values()])}
        assert stored[by_file["mine.ipynb"]["submission"]] == "s001"
        assert stored[by_file["work.ipynb"]["submission"]] == "s002"
    csv_run = run("grade", submitted, "--format", "csv", "--out", grades, *extra)
    assert csv_run.exit_code == 0, csv_run.stderr
    rows = {row["file"]: row for row in csv.DictReader(io.StringIO(grades.read_text()))}
    mine = next(row for file, row in rows.items() if file.endswith("mine.ipynb"))
    assert mine["student"] == "s001" and "metadata names student 's002'" in mine["warning"]


def test_the_folder_names_the_assignment_and_given_ids_beat_the_metadata(catalog: Any, tmp_path: Path) -> None:
    from grader.notebooks.intake import Place, identify
    from grader.notebooks.read import read_notebook

    def owner(notebook, path, catalog, **given):
        return identify(notebook, Place(path), catalog, **given)

    node = filled(catalog, "s002")
    node.metadata["grader"]["assignment"] = "lec4-homework"
    notebook = read_notebook(nbformat.writes(node).encode())
    path = tmp_path / "submitted" / "s001" / "lec4-inclass" / "x.ipynb"
    placed = owner(notebook, path, catalog)
    assert (placed.student, placed.assignment) == ("s001", "lec4-inclass")
    assert "student 's002'" in placed.warning and "assignment 'lec4-homework'" in placed.warning
    given = owner(notebook, tmp_path / "x.ipynb", catalog, student="s003", assignment="lec4-inclass")
    assert (given.student, given.assignment) == ("s003", "lec4-inclass")
    assert "handed in for" in given.warning
    by_stem = owner(notebook, tmp_path / "s009.ipynb", catalog)  # no folder: the metadata names the student
    assert (by_stem.student, by_stem.assignment, by_stem.warning) == ("s002", "lec4-homework", None)
