"""One intake for every path: whose a notebook is follows one documented rule, and doubts are flagged.

Written from the folders TAs really get: a folder per student whose
notebooks all carry the template's metadata, nbgrader's ``submitted/``,
Canvas's and Moodle's bulk downloads, Gradescope's export, two copies of
one student's notebook, a file named twice on the command line, a name with
an accent that must be the same id on every path.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.notebooks.intake import Roster, RosterError, gather
from grader.students import student_id

pytest_plugins = ["test_web_helpers"]

GD = "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]"


def notebook(student: str | None = "s001", source: str = GD, assignment: str | None = "lec4-inclass") -> bytes:
    node = nbformat.v4.new_notebook()
    node.metadata["grader"] = {k: v for k, v in (("student", student), ("assignment", assignment)) if v}
    node.cells = [nbformat.v4.new_code_cell(source)]
    return nbformat.writes(node).encode()


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def grader_cli(*args: Any, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


# The rule, stage by stage (no sandbox) -----------------------------------------------------


def test_a_folder_per_student_wins_over_the_templates_metadata(catalog: Any, tmp_path: Path) -> None:
    for i in range(1, 41):  # every notebook still says "s001": the template the class was handed
        put(tmp_path / f"s{i}" / "homework.ipynb", notebook("s001"))
    batch = gather([tmp_path], catalog)
    assert sorted(h.owner.student for h in batch) == sorted(f"s{i}" for i in range(1, 41))
    assert all("metadata names student 's001'" in (h.owner.warning or "") for h in batch if h.owner.student != "s001")


def test_student_folders_at_any_depth(catalog: Any, tmp_path: Path) -> None:
    put(tmp_path / "section-a" / "anna" / "hw.ipynb", notebook(None))
    put(tmp_path / "section-b" / "ben" / "hw.ipynb", notebook(None))
    assert {h.owner.student for h in gather([tmp_path], catalog)} == {"anna", "ben"}


def test_flat_files_are_named_by_their_metadata_then_their_name(catalog: Any, tmp_path: Path) -> None:
    put(tmp_path / "a.ipynb", notebook("s007"))
    put(tmp_path / "s008.ipynb", notebook(None))
    assert {h.path.name: h.owner.student for h in gather([tmp_path], catalog)} == {
        "a.ipynb": "s007",
        "s008.ipynb": "s008",
    }


def test_nbgrader_submitted_layout(catalog: Any, tmp_path: Path) -> None:
    put(tmp_path / "submitted" / "s001" / "lec4-inclass" / "lec4-inclass.ipynb", notebook("default", assignment=None))
    put(tmp_path / "submitted" / "s002" / "lec4-inclass" / "lec4-inclass.ipynb", notebook("s001"))
    batch = gather([tmp_path / "submitted"], catalog)
    assert [(h.owner.student, h.owner.assignment) for h in batch] == [
        ("s001", "lec4-inclass"),
        ("s002", "lec4-inclass"),
    ]


def test_canvas_bulk_download_with_late_files_and_a_roster(catalog: Any, tmp_path: Path) -> None:
    put(tmp_path / "mullerjana_12345_678901_lec4-inclass.ipynb", notebook("s001"))
    put(tmp_path / "doejohn_LATE_23456_678902_lec4-inclass-1.ipynb", notebook("s001"))
    put(tmp_path / "roelily_34567_678903_hw.ipynb", notebook(None))
    roster = Roster.read("student,canvas_id,name\ns101,12345,Jana Müller\ns102,23456,John Doe\n")
    batch = gather([tmp_path], catalog, roster=roster)
    by_file = {h.path.name.split("_")[0]: h.owner.student for h in batch}
    assert by_file == {"mullerjana": "s101", "doejohn": "s102", "roelily": "34567"}  # unknown to the roster: its id


def test_moodle_folders(catalog: Any, tmp_path: Path) -> None:
    put(tmp_path / "Jana Müller_4711_assignsubmission_file_" / "hw.ipynb", notebook("s001"))
    put(tmp_path / "John Doe_4712_assignsubmission_file_" / "hw.ipynb", notebook("s001"))
    roster = Roster.read("student,moodle_id\ns101,4711\n")
    assert {h.owner.student for h in gather([tmp_path], catalog, roster=roster)} == {"s101", "4712"}


def test_gradescope_export(catalog: Any, tmp_path: Path) -> None:
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_111:\n  :submitters:\n  - :name: Jana Müller\n    :sid: '900111'\n    :email: jana@uni.example\n"
        "submission_222:\n  :submitters:\n  - :name: John Doe\n    :email: john@uni.example\n"
    )
    put(tmp_path / "submission_111" / "hw.ipynb", notebook("s001"))
    put(tmp_path / "submission_222" / "nested" / "hw.ipynb", notebook("s001"))
    roster = Roster.read("student,email\ns102,JOHN@uni.example\n")
    assert {h.owner.student for h in gather([tmp_path], catalog, roster=roster)} == {"900111", "s102"}


def test_two_notebooks_claiming_one_student_are_both_graded_and_both_flagged(catalog: Any, tmp_path: Path) -> None:
    put(tmp_path / "copy-1.ipynb", notebook("s001"))
    put(tmp_path / "copy-2.ipynb", notebook("s001"))
    put(tmp_path / "s002.ipynb", notebook("s002"))
    batch = gather([tmp_path], catalog)
    flagged = [h for h in batch if h.owner.warning]
    assert len(batch) == 3 and {h.path.name for h in flagged} == {"copy-1.ipynb", "copy-2.ipynb"}
    assert "2 notebooks of this batch are graded as student 's001' for lec4-inclass" in flagged[0].owner.warning


def test_a_file_named_twice_is_taken_once(catalog: Any, tmp_path: Path) -> None:
    path = put(tmp_path / "s1" / "nb.ipynb", notebook(None))
    (tmp_path / "link.ipynb").symlink_to(path)
    batch = gather([tmp_path, path, tmp_path / "s1"], catalog)
    assert len(batch) == 1 and batch[0].owner.warning is None


def test_names_become_the_same_id_everywhere() -> None:
    assert student_id("Anna Müller") == "Anna_Muller"
    assert student_id("  élodie.o'brien ") == "elodie.o_brien"
    assert student_id("--x") == "x" and student_id("") == "unknown" and student_id("🙂") == "unknown"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("canvas_id\n123\n", "a 'student' column"),
        ("student,email\n,a@b\n", "row 2 of the roster has no student id"),
        ("", "a 'student' column"),
    ],
)
def test_a_roster_that_cannot_be_used_says_why(text: str, reason: str) -> None:
    with pytest.raises(RosterError, match=reason):
        Roster.read(text)


def test_the_command_line_refuses_a_bad_roster_in_one_sentence(tmp_path: Path) -> None:
    put(tmp_path / "s1" / "nb.ipynb", notebook(None))
    (tmp_path / "roster.csv").write_text("email\na@b\n")
    run = grader_cli("grade", tmp_path / "s1", "--roster", tmp_path / "roster.csv")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "roster needs a header row with a 'student' column" in run.stderr


# Every path, end to end ----------------------------------------------------------------------


@pytest.mark.sandbox
@pytest.mark.postgres
@pytest.mark.slow
def test_the_same_folders_give_the_same_owners_on_the_cli_and_through_the_queue_into_postgres(
    tmp_path: Path, pg_url: str
) -> None:
    folder = tmp_path / "handed-in"
    for i in range(1, 41):
        put(folder / f"s{i}" / "homework.ipynb", notebook("s001"))
    put(folder / "Anna Müller" / "homework.ipynb", notebook("Anna Müller"))
    local = grader_cli("grade", folder, "--format", "json", "--workers", "2")
    assert local.returncode == 0, local.stderr
    queued = grader_cli("grade", folder, "--queue", "--format", "json", "--workers", "2", env={"DATABASE_URL": pg_url})
    assert queued.returncode == 0, queued.stderr
    expected = {f"s{i}" for i in range(1, 41)} | {"Anna_Muller"}
    for run in (local, queued):
        results = json.loads(run.stdout)
        assert {r["student"] for r in results} == expected
        assert all(r["score"] == 6 for r in results)
        assert "graded as student 's001' for lec4-inclass (" not in run.stderr  # distinct owners: nothing merged
    from sqlalchemy import text

    from grader.store.db import Database

    db = Database(pg_url)
    with db.engine.connect() as connection:
        stored = {row[0] for row in connection.execute(text("SELECT student_id FROM submissions"))}
    db.dispose()
    assert expected <= stored


@pytest.mark.sandbox
def test_several_claiming_one_student_are_flagged_in_stderr_csv_and_json(tmp_path: Path) -> None:
    put(tmp_path / "a.ipynb", notebook("s001"))
    put(tmp_path / "b.ipynb", notebook("s001"))
    out = tmp_path / "grades.csv"
    run = grader_cli("grade", tmp_path, "--format", "csv", "--out", out)
    assert run.returncode == 0, run.stderr
    assert "2 notebooks of this batch are graded as student 's001'" in run.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 2 and all("graded as student 's001'" in row["warning"] for row in rows)
    run = grader_cli("grade", tmp_path, "--format", "json")
    assert all("graded as student 's001'" in r["warning"] for r in json.loads(run.stdout))


@pytest.mark.service
@pytest.mark.sandbox
def test_an_upload_is_owned_by_the_same_rule(client: Any, tokens: dict) -> None:
    from test_web_helpers import bearer

    for filename, form, expected in (
        ("mullerjana_12345_678901_hw.ipynb", {}, "12345"),  # a TA uploading a Canvas file
        ("hw.ipynb", {}, "Anna_Muller"),  # the metadata's name, as an id
        ("hw.ipynb", {"student": "s009"}, "s009"),
    ):
        response = client.post(
            "/api/submissions",
            data={"notebook": (io.BytesIO(notebook("Anna Müller")), filename), **form},
            headers=bearer(tokens["ta"]),
            content_type="multipart/form-data",
        )
        assert response.status_code == 202, response.json
        assert client.get(response.json["url"], headers=bearer(tokens["ta"])).json["student"] == expected
    refused = client.post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(notebook()), "hw.ipynb"), "student": "Anna Müller"},
        headers=bearer(tokens["ta"]),
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400 and "must be a student id" in refused.json["detail"]


def test_a_version_4_notebook_is_read_without_nbformat_and_others_through_it(tmp_path: Path) -> None:
    v4 = put(tmp_path / "v4.ipynb", notebook(source="x = 1"))
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 3", "outputs": [], "language": "python"}]}],
    }
    put(tmp_path / "v3.ipynb", json.dumps(v3).encode())
    code = (
        "import sys\nfrom pathlib import Path\nfrom grader.notebooks.read import read_notebook\n"
        f"print(read_notebook(Path({str(v4)!r}).read_bytes()).cells, 'nbformat' in sys.modules)\n"
        f"print(read_notebook(Path({str(tmp_path / 'v3.ipynb')!r}).read_bytes()).cells, 'nbformat' in sys.modules)\n"
    )
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert lines.splitlines() == ["['x = 1'] False", "['x = 3'] True"]
