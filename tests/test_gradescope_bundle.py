"""Gradescope: ``grader grade --format gradescope`` writes one results.json per submission, and the autograder
bundle (``grader gradescope-autograder``) runs end to end in a folder laid out as Gradescope's ``/autograder``.

The bundle's ``run_autograder`` is run for real (``GRADER_AUTOGRADER_ROOT`` points it at a temporary root,
``GRADER_AUTOGRADER_PYTHON`` at this environment's Python, standing in for what ``setup.sh`` installs), and it
grades in the real sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import nbformat
import pytest
from click.testing import CliRunner, Result

from grader.cli.gradescope import gradescope_autograder
from grader.cli.notebooks import grade
from grader.notebooks.generate import student_notebook, variable_name
from grader.reports.exports import gradescope_visibility

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "solutions" / "lec4-inclass.json").read_text())["answers"]
SIGN_ERROR = "[4, 6, 9, 13.5, 20.25, 30.375]"
NAMES = [
    "gd-parabola / iterates",
    "gd-parabola / values",
    "learning-rate / converges",
    "learning-rate / classify",
    "learning-rate / why",
]


@click.group()
def grader() -> None:
    """The commands under test, as ``grader`` attaches them."""


grader.add_command(grade)
grader.add_command(gradescope_autograder)


def run(*args: Any) -> Result:
    return CliRunner().invoke(grader, [str(a) for a in args], catch_exceptions=False)


def filled(catalog: Any, student: str | None, **changes: str) -> Any:
    """The in-class notebook answered with the reference, except ``changes`` (variable → value source)."""
    node = student_notebook(catalog, "lec4-inclass", student)
    for cell in node.cells:
        meta = cell.get("metadata", {}).get("grader", {})
        if cell.cell_type == "code" and "part" in meta:
            name = variable_name(meta["exercise"], meta["part"])
            cell.source = f"{name} = {changes.get(name, repr(REFERENCE[meta['exercise']][meta['part']]))}"
    return node


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    made = run("gradescope-autograder", "lec4-inclass", "-o", path, "--timeout", "30")
    assert made.exit_code == 0, made.stderr
    assert "5 tests (one per part), visibility visible" in made.stderr
    return path


def gradescope_root(bundle: Path, tmp_path: Path) -> Path:
    """A folder laid out as Gradescope's /autograder: source/ (the unzipped bundle), run_autograder, submission/,
    results/."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # zipfile drops the modes: set them as Gradescope's unzip keeps them
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    return root


def run_autograder(root: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_AUTOGRADER_PYTHON": sys.executable}
    return subprocess.run(
        [str(root / "run_autograder")], cwd=root, env=environment, capture_output=True, text=True, timeout=300
    )


def test_the_bundle_holds_what_gradescope_runs(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        config = json.loads(archive.read("autograder.json"))
        script = archive.read("run_autograder").decode()
    assert {"setup.sh", "run_autograder", "autograder.json", "optgrader/pyproject.toml"} <= names
    assert "optgrader/grader/autograder.py" in names and "optgrader/grader/cli/__main__.py" in names
    assert "exercises/course.yaml" in names
    assert not any("__pycache__" in name for name in names)
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert "data/secret" not in names  # the slides' numbers for everyone: no secret needed
    assert config == {
        "assignment": "lec4-inclass",
        "title": config["title"],
        "timeout": 30.0,
        "memory": 1024,
        "visibility": "visible",
        "sentences": True,
    }
    assert 'ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"' in script


def test_run_autograder_grades_a_submission_in_a_gradescope_layout(bundle: Path, catalog: Any, tmp_path: Path) -> None:
    root = gradescope_root(bundle, tmp_path)
    node = filled(catalog, None, gd_parabola_iterates=SIGN_ERROR)
    nbformat.write(node, str(root / "submission" / "lec4-inclass.ipynb"))
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"sid": "s042", "email": "ada@uni.edu"}]}))

    finished = run_autograder(root)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads((root / "results" / "results.json").read_text())
    assert [t["name"] for t in report["tests"]] == NAMES  # one test per part
    assert report["score"] == pytest.approx(sum(t["score"] for t in report["tests"]))
    assert {t["visibility"] for t in report["tests"]} == {"visible"} and report["visibility"] == "visible"
    iterates, values, converges, _, why = report["tests"]
    assert iterates["status"] == "failed" and "sign-error" in iterates["output"] and iterates["score"] < 6
    assert values["status"] == converges["status"] == "passed"
    assert "status" not in why and why["output"].startswith("waiting for a TA")  # never failed before review
    assert "1 part waiting for a TA: learning-rate/why" in report["output"]
    assert "s042:" in finished.stdout  # graded as the submitter Gradescope names (the notebook names nobody)


def test_run_autograder_explains_a_submission_without_a_notebook(bundle: Path, tmp_path: Path) -> None:
    root = gradescope_root(bundle, tmp_path)
    (root / "submission" / "answers.pdf").write_bytes(b"%PDF-1.4")
    finished = run_autograder(root)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads((root / "results" / "results.json").read_text())
    assert report["score"] == 0 and report["tests"] == []
    assert "No Jupyter notebook (.ipynb) was found in your submission" in report["output"]


def test_visibility_follows_the_assignments_feedback_setting() -> None:
    def assignment(feedback: str | None) -> Any:
        return SimpleNamespace(rules=SimpleNamespace(feedback=feedback) if feedback else None)

    assert gradescope_visibility(None) == ("visible", True)
    assert gradescope_visibility(assignment(None)) == ("visible", True)
    assert gradescope_visibility(assignment("full")) == ("visible", True)
    assert gradescope_visibility(assignment("verdict")) == ("visible", False)
    assert gradescope_visibility(assignment("none")) == ("after_due_date", True)


def test_an_unknown_assignment_is_refused_in_one_line(tmp_path: Path) -> None:
    refused = run("gradescope-autograder", "lec9", "-o", tmp_path / "a.zip")
    assert refused.exit_code == 2 and "unknown assignment 'lec9'" in refused.stderr
    assert not (tmp_path / "a.zip").exists()


def test_several_notebooks_give_one_results_json_each(catalog: Any, tmp_path: Path) -> None:
    folder = tmp_path / "submitted"
    folder.mkdir()
    for student, changes in (("s001", {}), ("s002", {"gd_parabola_iterates": SIGN_ERROR})):
        nbformat.write(filled(catalog, student, **changes), str(folder / f"{student}.ipynb"))
    refused = run("grade", folder, "--format", "gradescope")
    assert refused.exit_code == 2 and "give --out a folder" in refused.stderr
    out = tmp_path / "gradescope"
    made = run("grade", folder, "--format", "gradescope", "--out", out)
    assert made.exit_code == 0, made.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("results.json"))
    assert written == ["s001/results.json", "s002/results.json"]
    first, second = (json.loads((out / name).read_text()) for name in written)
    assert first["score"] == 19 and second["score"] < first["score"]
    assert [t["name"] for t in second["tests"]] == NAMES
    one = tmp_path / "one.json"
    assert run("grade", folder / "s001.ipynb", "--format", "gradescope", "--out", one).exit_code == 0
    assert json.loads(one.read_text())["score"] == 19  # one notebook: one file, as before
