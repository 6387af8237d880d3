"""The `grader` command: trace, check, exercises, validate, solutions, serve's first run; exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.cli import cli, main
from grader.notebooks.solutions import stale_solutions
from grader.paths import PROJECT_ROOT
from grader.specs.model import load_catalog


def run(*args: str, stdin: str | None = None) -> Any:
    """Run through ``main`` (our exit-code handling), capturing output."""
    runner = CliRunner()
    return runner.invoke(_Main(), list(args), input=stdin, catch_exceptions=False)


class _Main:
    """Adapter so CliRunner calls ``grader.cli.main`` (one-line errors, exit 2) with its own argv."""

    name = "grader"

    def main(self, args: list[str], prog_name: str | None = None, **_: Any) -> None:
        sys.argv = ["grader", *args]
        main()


# trace ------------------------------------------------------------------------------------------


def test_trace_json_is_the_lectures_run_at_full_precision() -> None:
    result = run("trace", "gd", "--f", "x**2 + 2", "--x0", "4", "--lr", "0.25", "--steps", "5", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["iterates"] == [[4.0], [2.0], [1.0], [0.5], [0.25], [0.125]]
    assert data["values"] == [18.0, 6.0, 3.0, 2.25, 2.0625, 2.015625]
    assert data["gradients"][0] == [8.0]


def test_trace_adam_first_step_is_lr_times_sign() -> None:
    result = run("trace", "adam", "--f", "x**2 + 2", "--x0", "4", "--lr", "0.1", "--steps", "50", "--format", "json")
    data = json.loads(result.output)
    assert len(data["iterates"]) == 51
    # m̂ = g, v̂ = g², so the first step is lr·g/(|g| + ε) = 0.1·8/(8 + 1e-8).
    assert data["iterates"][1][0] == pytest.approx(4 - 0.1 * 8 / (8 + 1e-8), rel=1e-15)


def test_trace_two_variables_csv_and_text() -> None:
    csv_out = run("trace", "gd", "--f", "x**2 - y**2", "--x0", "4,3", "--lr", "0.1", "--steps", "1", "--format", "csv")
    lines = csv_out.output.strip().splitlines()
    assert lines[0] == "t,x,y,f,df/dx,df/dy"
    assert lines[2].split(",")[:3] == ["1", "3.2", "3.6"]  # (4, 3) − 0.1·(8, −6)
    text = run("trace", "momentum", "--f", "x**2", "--x0", "1", "--lr", "0.1", "--momentum", "0.9", "--steps", "2")
    assert text.exit_code == 0 and "t" in text.output.splitlines()[0]


def test_trace_plot_writes_a_png(tmp_path: Path) -> None:
    target = tmp_path / "path.png"
    result = run(
        "trace", "gd", "--f", "x**2 - y**2", "--x0", "4,3", "--lr", "0.1", "--steps", "3", "--plot", str(target)
    )
    assert result.exit_code == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trace_divergence_prints_what_it_has_and_says_where() -> None:
    result = run("trace", "gd", "--f", "x**2", "--x0", "4", "--lr", "1.5", "--steps", "3000", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["diverged_at"] == len(data["iterates"])
    assert f"diverged at step {data['diverged_at']}" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trace", "nope", "--f", "x", "--x0", "1"], "Unknown optimizer 'nope'"),
        (["trace", "gd", "--f", "__import__('os')", "--x0", "1"], "--f:"),
        (["trace", "gd", "--f", "x**2", "--x0", "1,2"], "--x0 has 2 values but f has 1 variable"),
        (["trace", "gd", "--f", "x", "--x0", "1", "--steps", "-1"], "--steps must be between"),
        (["trace", "gd", "--f", "x", "--x0", "1", "--lr", "0"], "lr must be positive"),
        (["trace", "gd", "--f", "x", "--x0", "abc"], "--x0"),
        (["trace", "gd", "--x0", "1"], "Missing option '--f'"),
        (["nosuchcommand"], "No such command"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


# check ------------------------------------------------------------------------------------------


def test_check_a_solution_file_scores_full() -> None:
    result = run(
        "check", str(PROJECT_ROOT / "solutions" / "lec4-homework.json"), "--format", "json", "--fail-under", "100"
    )
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["score"] == data["max_score"] == 13


def test_check_single_answer_reports_that_part_only() -> None:
    result = run("check", "--exercise", "gd-parabola", "--part", "iterates", "--answer", "4, 6, 9, 13.5, 20.25, 30.375")
    assert result.exit_code == 0
    assert "sign-error" in result.output and "uphill" in result.output
    assert "total 1.5/6" in result.output


def test_check_fail_under_exits_1() -> None:
    result = run("check", "--exercise", "updates-per-epoch", "--part", "b32", "--answer", "37", "--fail-under", "100")
    assert result.exit_code == 1
    assert "drop-last-batch" in result.output


def test_check_reads_stdin_and_names_bad_fields() -> None:
    assert run("check", "-", stdin="not json").exit_code == 2
    bad = run("check", "-", stdin='{"answers": {"gd-parabolas": {}}}')
    assert bad.exit_code == 2 and "unknown exercise 'gd-parabolas'" in bad.stderr
    missing = run("check", "/nonexistent/submission.json")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    both = run("check", "x.json", "--exercise", "gd-parabola")
    assert both.exit_code == 2


def test_an_unreadable_answer_is_invalid_and_the_rest_is_graded() -> None:
    submission = {"answers": {"minibatch-gradient": {"full": "3.8, 2.2", "batch": "3,5.2.1"}}}
    result = run("check", "-", "--format", "json", stdin=json.dumps(submission))
    assert result.exit_code == 0
    parts = {p["id"]: p for p in json.loads(result.output)["exercises"][0]["parts"]}
    assert parts["full"]["status"] == "correct"
    assert parts["batch"]["status"] == "invalid"
    assert "Could not read '3,5.2.1' as a vector of 2 numbers" in parts["batch"]["feedback"]


# exercises ----------------------------------------------------------------------------------------


def test_exercises_list_and_show_never_reveal_answers() -> None:
    listed = json.loads(run("exercises", "list", "--format", "json").output)
    assert {"gd-parabola", "learning-rate", "gd-step-2d", "minibatch-gradient", "updates-per-epoch"} <= {
        e["id"] for e in listed["exercises"]
    }
    assert {"lec4-inclass", "lec4-homework", "lec4-lab"} <= {a["id"] for a in listed["assignments"]}
    shown = run("exercises", "show", "gd-parabola", "--format", "json")
    data = json.loads(shown.output)
    assert data["parameters"]["x0"] == 4 and data["parameters"]["eta"] == 0.25
    assert "0.125" not in shown.output and "2.015625" not in shown.output
    assert run("exercises", "show", "nope").exit_code == 2


def test_exercises_show_gives_a_student_their_own_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_VARIANTS", "per-student")
    monkeypatch.setenv("GRADER_SECRET", "course-secret")
    shown = [
        json.loads(run("exercises", "show", "gd-parabola", "--student", f"s{i:03d}", "--format", "json").output)
        for i in range(8)
    ]
    assert len({(s["parameters"]["x0"], s["parameters"]["eta"]) for s in shown}) > 1


# validate and solutions ---------------------------------------------------------------------------


def test_validate_proves_the_shipped_specs() -> None:
    result = run("validate", "--seeds", "5", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["valid"] and report["checked"]["misconceptions"] > 100


def test_validate_names_spec_part_and_seed_of_a_failure(tmp_path: Path) -> None:
    broken = (PROJECT_ROOT / "exercises" / "updates-per-epoch.yaml").read_text()
    # Two rules with the same answer: the second is graded as the first, so it is never recognised.
    broken = broken.replace("answer: n / b_odd", "answer: updates_per_epoch(n, b_odd, drop_last=True)")
    assert (
        "drop_last=True)\n      - id: not-an-integer\n        answer: updates_per_epoch(n, b_odd, drop_last=True)"
        in broken
    )
    spec = tmp_path / "updates-per-epoch.yaml"
    spec.write_text(broken)
    result = run("validate", str(spec), "--seeds", "3")
    assert result.exit_code == 1
    assert "FAIL updates-per-epoch.yaml: updates-per-epoch part b32: misconception not-an-integer" in result.output
    assert "in the default variant and 3 seeds (0, 1, 2)" in result.output


def test_validate_reports_a_spec_that_cannot_compute_its_answer(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(
        "id: broken\ntitle: x\nprompt: y\nparameters: {n: {default: 2, choices: [2, 20000]}}\n"
        "parts: [{id: a, type: number, answer: 'iterates(gd(0.1), \"x**2\", 1, n)[-1]'}]\n"
    )
    result = run("validate", str(spec), "--seeds", "4")
    assert result.exit_code == 1
    assert "FAIL broken.yaml: broken part a.answer: " in result.output
    assert "20000 steps are too many for an exercise (at most 10000)" in result.output


def test_validate_refuses_an_unknown_function_when_the_spec_loads(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("id: broken\ntitle: x\nprompt: y\nparts: [{id: a, type: number, answer: 'nosuchfunction(1)'}]\n")
    result = run("validate", str(spec), "--seeds", "2")
    assert result.exit_code == 2
    assert "broken.yaml: broken part a answer: unknown function 'nosuchfunction'" in result.stderr


def test_validate_reports_an_unreadable_spec_as_bad_input(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("id: broken\ntitle: [unclosed\n")
    result = run("validate", str(spec))
    assert result.exit_code == 2
    assert "broken.yaml" in result.stderr


def test_solutions_are_up_to_date_with_the_specs() -> None:
    assert stale_solutions(load_catalog()) == [], "run 'grader solutions' and commit solutions/"


def test_solutions_check_notices_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "solutions"
    shutil.copytree(PROJECT_ROOT / "solutions", copy)
    (copy / "lec4-homework.json").write_text("{}")
    monkeypatch.setattr("grader.notebooks.solutions.solutions_dir", lambda: copy)
    result = run("solutions", "--check")
    assert result.exit_code == 1
    assert "lec4-homework.json" in result.stderr


# start-up and serve's first run --------------------------------------------------------------------


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, runpy; sys.argv = ['grader', '--help']\n"
        "try:\n    runpy.run_module('grader.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sympy', 'matplotlib', 'nbformat', 'flask', 'sqlalchemy', 'IPython') if m in sys.modules]\n"
        "print(heavy)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip().splitlines()[-1] == "[]"


def test_serve_registers_a_first_instructor_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from grader.cli.serve import _first_instructor
    from grader.store.db import Database
    from grader.store.users import list_users

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/grader.db")
    _first_instructor("http://127.0.0.1:5000/")
    _first_instructor("http://127.0.0.1:5000/")
    printed = capsys.readouterr().err
    assert printed.count("    gr_") == 1 and "http://127.0.0.1:5000/login" in printed
    users = list_users(Database(f"sqlite:///{tmp_path}/grader.db"))
    assert [(u["student"], u["roles"]) for u in users] == [("instructor", ["instructor"])]


def test_click_group_lists_every_command() -> None:
    assert {"trace", "check", "exercises", "validate", "solutions", "notebook", "grade", "serve", "users"} <= set(
        cli.commands
    )
