"""Notebook answers read as a TA would read them, on notebooks written the way students write them.

Each test is one finding of grading 100 realistic notebooks written without
reading the grader: code exercises called as documented and not passable by
accident; values of whatever type a student's kernel produced; answers where
the TA sees them (printed, in Markdown, under another name), cells that
raised, scratch cells; results a TA can act on (summary, CSV, feedback file).
Every notebook runs in the real sandbox.
"""

from __future__ import annotations

import ast
import csv
import io
import itertools
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import nbformat
import nbformat.v4 as nbf
import numpy as np
import pytest
from click.testing import CliRunner

from grader.grading import grade
from grader.notebooks.batch import grade_notebook
from grader.reports.feedback import feedback_html
from grader.sandbox import Limits, Sandbox
from grader.sandbox.child import build_argument

CODE_EXERCISES = ("implement-gd", "implement-momentum", "implement-adam")
STUDENTS = ("s001", "s002", "s003", "s004", "s005", "s006")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(workers=2, limits=Limits(cpu_seconds=10, wall_seconds=20)) as box:
        yield box


def notebook_bytes(*cells: str | tuple[str, str], assignment: str | None = None) -> bytes:
    """A notebook of code cells; a ``("markdown", text)`` item is a Markdown cell."""
    made = [nbf.new_markdown_cell(c[1]) if isinstance(c, tuple) else nbf.new_code_cell(c) for c in cells]
    node = nbf.new_notebook(cells=made)
    if assignment:
        node.metadata["grader"] = {"assignment": assignment}
    nbformat.validate(node)
    return nbformat.writes(node).encode()


def graded(catalog: Any, sandbox: Sandbox, *cells: Any, assignment: str, student: str = "s001") -> Any:
    data = notebook_bytes(*cells, assignment=assignment)
    return grade_notebook(data, f"{student}.ipynb", catalog, sandbox=sandbox)


def parts(result: Any) -> dict[str, dict[str, Any]]:
    data = result.to_json() if hasattr(result, "to_json") else result
    return {f"{e['id']}/{p['id']}": p for e in data["exercises"] for p in e["parts"]}


# §1 Code exercises called as documented, and not passable by accident ------------------------


def _signature(exercise: Any) -> tuple[list[str], int]:
    """The parameter names of the student's function and how many are required."""
    tree = ast.parse(f"def {exercise.code['signature']}: pass")
    arguments = tree.body[0].args  # type: ignore[attr-defined]
    names = [a.arg for a in arguments.args]
    return names, len(names) - len(arguments.defaults)


@pytest.mark.parametrize("exercise_id", CODE_EXERCISES)
def test_hidden_inputs_have_the_types_and_shapes_the_docstring_documents(catalog: Any, exercise_id: str) -> None:
    exercise = catalog.exercises[exercise_id]
    documented = exercise.code["docstring"]
    assert "a number (a numpy float64)" in documented and "a 1-D numpy array of floats" in documented
    assert "[x0] for steps = 0" in documented
    names, required = _signature(exercise)
    for student in STUDENTS:
        calls = catalog.calls(exercise, catalog.variant(exercise, student))
        for part in exercise.parts:
            args = build_argument(calls[part.id])  # what the sandbox builds, by the same trusted code
            assert required <= len(args) <= len(names), (part.id, args)
            given = dict(zip(names, args, strict=False))
            df, x0, steps = given["df"], given["x0"], given["steps"]
            if "numpy array" in part.prompt:
                assert type(x0) is np.ndarray and x0.dtype == np.float64 and x0.ndim == 1 and x0.size == 2
                gradient = df(x0)
                assert type(gradient) is np.ndarray and gradient.shape == x0.shape
            else:
                assert "`x0` a number" in part.prompt
                assert isinstance(x0, float) and isinstance(x0, np.floating)
                assert x0.astype(float) == x0 * 1.0 == x0.copy()  # the array methods a student may use work
                assert type(df(x0)) is float
            assert type(steps) is int and steps >= 0
            assert ("steps = 0" in part.prompt) == (steps == 0)
            for name, value in given.items():
                if name not in ("df", "x0", "steps"):
                    assert type(value) is float, (exercise_id, part.id, name, value)


def _called_with(part: Any) -> tuple[str, str]:
    """The parameter names of a part's function and starting point: ``quadratic_gradient(f1)``, ``numpy_float(x1)``."""
    function = re.search(r"quadratic_gradient\((\w+)\)", str(part.call))
    start = re.search(r"numpy_(?:float|array)\((\w+)\)", str(part.call))
    assert function and start, part.call
    return function.group(1), start.group(1)


@pytest.mark.parametrize("exercise_id", CODE_EXERCISES)
def test_no_hidden_input_is_passed_by_hard_coding_the_lectures_gradient(catalog: Any, exercise_id: str) -> None:
    """For every function and start a student can be given, ∇f = 2x (the lecture's x² + 2) gives other iterates."""
    exercise = catalog.exercises[exercise_id]
    choices = {p.name: p.choices or (p.default,) for p in exercise.parameters}
    defaults = dict(catalog.variant(exercise, "s001"))
    for part in exercise.parts:
        if part.id == "zero-steps":
            continue  # no step is taken: what it tests is the shape of the result
        function, start = _called_with(part)
        lecture = "x**2 + y**2" if "numpy array" in part.prompt else "x**2"
        for f, x0 in itertools.product(choices[function], choices[start]):
            assert f.replace(" ", "") not in ("x**2+2", lecture.replace(" ", "")), f
            params = {**defaults, function: f, start: x0}
            right = next(k for k in catalog.keys(exercise, params) if k.part == part.id).reference
            hard = next(k for k in catalog.keys(exercise, {**params, function: lecture}) if k.part == part.id).reference
            assert not np.allclose(np.asarray(right, dtype=float), np.asarray(hard, dtype=float), rtol=1e-6), (f, x0)


CORRECT_GD = {
    "astype": """\
import numpy as np

def gradient_descent(df, x0, eta, steps):
    x = x0.astype(float)
    xs = [x]
    for _ in range(steps):
        x = x - eta * df(x)
        xs.append(x)
    return xs
""",
    "times-one": """\
def gradient_descent(df, x0, eta, steps):
    x = x0 * 1.0          # a copy, whatever x0 is
    path = [x]
    for t in range(steps):
        x = x - eta * df(x)
        path.append(x)
    return path
""",
    "isinstance": """\
import numpy as np

def gradient_descent(df, x0, eta, steps):
    if isinstance(x0, np.ndarray):
        x = x0.copy()
    else:
        x = float(x0)
    out = [x]
    for _ in range(steps):
        step = eta * df(x)
        x = x - step
        out.append(x.copy() if isinstance(x, np.ndarray) else x)
    return out
""",
}


@pytest.mark.parametrize("style", list(CORRECT_GD))
@pytest.mark.parametrize("student", ["s001", "s002", "s003"])
def test_a_correct_gradient_descent_written_for_numpy_inputs_scores_full(
    catalog: Any, sandbox: Sandbox, style: str, student: str
) -> None:
    result = graded(catalog, sandbox, CORRECT_GD[style], assignment="lec4-lab", student=student)
    found = parts(result)
    for part in ("scalar", "vector", "zero-steps"):
        assert found[f"implement-gd/{part}"]["status"] == "correct", (style, part, found[f"implement-gd/{part}"])


HARD_CODED = """\
def gradient_descent(df, x0, eta, steps):
    # the lecture's f(x) = x^2 + 2, so the gradient is 2x
    xs = [x0]
    x = x0
    for _ in range(steps):
        x = x - eta * 2 * x
        xs.append(x)
    return xs
"""


@pytest.mark.parametrize("student", ["s001", "s002", "s003"])
def test_a_gradient_descent_that_hard_codes_the_lectures_gradient_fails(
    catalog: Any, sandbox: Sandbox, student: str
) -> None:
    found = parts(graded(catalog, sandbox, HARD_CODED, assignment="lec4-lab", student=student))
    for part in ("scalar", "vector"):
        mine = found[f"implement-gd/{part}"]
        assert mine["status"] != "correct" and mine["score"] < mine["max_score"], (part, mine)


LAST_POINT_ONLY = """\
def gradient_descent(df, x0, eta, steps):
    x = x0
    for _ in range(steps):
        x = x - eta * df(x)
    return x
"""


def test_a_function_that_returns_only_the_last_point_is_wrong_even_for_zero_steps(
    catalog: Any, sandbox: Sandbox
) -> None:
    found = parts(graded(catalog, sandbox, LAST_POINT_ONLY, assignment="lec4-lab"))
    for part in ("scalar", "vector", "zero-steps"):
        mine = found[f"implement-gd/{part}"]
        assert (mine["status"], mine["score"]) == ("incorrect", 0), (part, mine)
        assert "must return the list of points" in mine["feedback"]
    assert "a number (only the last point?)" in found["implement-gd/zero-steps"]["feedback"]
    assert "a list of numbers (one point?)" in found["implement-gd/vector"]["feedback"]


# §2 Values of any type a student's kernel produces --------------------------------------------


def test_sympy_fraction_and_numpy_values_read_as_their_values(catalog: Any, sandbox: Sandbox) -> None:
    stationary = catalog.exercises["stationary-points"]
    key = next(k for k in catalog.keys(stationary, catalog.variant(stationary, "s001")) if k.part == "hessian")
    first_x = key.reference[0][0] / 6  # the Hessian of x³ − 3x + y² at (a, 0) is [[6a, 0], [0, 2]]
    extra = graded(
        catalog,
        sandbox,
        "import numpy as np\nimport sympy as sp\nfrom fractions import Fraction",
        # the course teaches sympy for the Hessian
        f"x, y = sp.symbols('x y')\nf = x**3 - 3*x + y**2\nH = sp.hessian(f, (x, y))\n"
        f"stationary_points_hessian = H.subs({{x: {first_x:g}, y: 0}})",
        "z, w, a, yy = sp.symbols('z w a y')\nsigma = 1 / (1 + sp.exp(-w * a))\n"
        "logistic_derivative_loss = sp.simplify(sp.diff(-yy * sp.log(sigma) - (1 - yy) * sp.log(1 - sigma), w))",
        'logistic_derivative_sigmoid = "np.exp(-z) / (1 + np.exp(-z))**2"',
        "adam_step_x2 = np.array([0.8004, 0.8004], dtype=np.float32)",
        assignment="lec4-extra",
    )
    found = parts(extra)
    for part in (
        "stationary-points/hessian",
        "logistic-derivative/loss",
        "logistic-derivative/sigmoid",
        "adam-step/x2",
    ):
        assert found[part]["status"] == "correct", (part, found[part])
    homework = graded(
        catalog,
        sandbox,
        "import numpy as np\nimport sympy as sp\nfrom fractions import Fraction",
        "minibatch_gradient_batch = [sp.Rational(10, 3), sp.Integer(2)]",
        "minibatch_gradient_full = sp.Matrix([sp.Float(3.8), sp.Float(2.2)])",
        "gd_step_2d_direction = [Fraction(-1), Fraction(-2)]",
        "gd_step_2d_new_point = (np.float32(3.5), np.float32(2))",
        "updates_per_epoch_b50 = np.int64(np.ceil(1200 / 50))",
        "updates_per_epoch_b200 = np.int32(6)",
        "updates_per_epoch_b32 = sp.ceiling(sp.Rational(1200, 32))",
        assignment="lec4-homework",
    )
    found = parts(homework)
    assert homework.error is None and homework.cell_errors == []
    assert {p["status"] for p in found.values()} == {"correct"}, {k: p["feedback"] for k, p in found.items()}


def test_pandas_series_read_as_its_values(catalog: Any, sandbox: Sandbox) -> None:
    found = parts(
        graded(
            catalog,
            sandbox,
            "import pandas as pd\nhistory = pd.Series([4.0, 2.0, 1.0, 0.5, 0.25, 0.125])",
            "gd_parabola_iterates = history\ngd_parabola_values = history**2 + 2",
            assignment="lec4-inclass",
        )
    )
    assert found["gd-parabola/iterates"]["status"] == found["gd-parabola/values"]["status"] == "correct"


@pytest.mark.parametrize(
    ("typed", "bound", "exercise", "part", "assignment"),
    [
        ("18, 6, 3, 2.25, 2.06, 2.02", "[18, 6, 3, 2.25, 2.06, 2.02]", "gd-parabola", "values", "lec4-inclass"),
        ("0.8004, 0.8004", "[0.8004, 0.8004]", "adam-step", "x2", "lec4-extra"),
        ("18, 6, 3, 2.2, 2.1, 2.0", "[18, 6, 3, 2.2, 2.1, 2.0]", "gd-parabola", "values", "lec4-inclass"),
    ],
    ids=["2.02-for-2.015625", "0.8004-for-0.800412", "too-coarse"],
)
def test_rounded_floats_follow_the_precision_rule_of_typed_answers(
    catalog: Any, sandbox: Sandbox, typed: str, bound: str, exercise: str, part: str, assignment: str
) -> None:
    as_typed = next(
        p for p in grade({"answers": {exercise: {part: typed}}}, catalog).exercises[0].parts if p.id == part
    )
    variable = f"{exercise}_{part}".replace("-", "_")
    in_notebook = parts(graded(catalog, sandbox, f"{variable} = {bound}", assignment=assignment))[f"{exercise}/{part}"]
    assert (in_notebook["status"], in_notebook["score"]) == (as_typed.status, as_typed.score)
    assert as_typed.status in ("correct", "partial")


# §3 Answers where the TA sees them ------------------------------------------------------------

RUN_BY_HAND = """\
x = 4.0
iterates = [x]
for _ in range(5):
    x = x - 0.25 * 2 * x
    iterates.append(x)"""


def test_an_answer_printed_but_not_bound_goes_to_a_ta_saying_what_and_where(catalog: Any, sandbox: Sandbox) -> None:
    result = graded(
        catalog,
        sandbox,
        "import numpy as np",
        RUN_BY_HAND,
        "print(iterates)",
        "print('values:', [v**2 + 2 for v in iterates])",
        assignment="lec4-inclass",
    )
    found = parts(result)
    iterates = found["gd-parabola/iterates"]
    assert (iterates["status"], iterates["score"]) == ("needs_review", 0)
    assert "cell In [3] prints 4.0, 2.0, 1.0, …; `gd_parabola_iterates` is not set" in iterates["feedback"]
    review = iterates["details"]["review"]
    assert review["kind"] == "printed" and review["if_accepted"]["status"] == "correct"
    values = found["gd-parabola/values"]
    assert values["status"] == "needs_review"
    assert "cell In [4] prints 18.0, 6.0, 3.0, …; `gd_parabola_values` is not set" in values["feedback"]
    assert found["learning-rate/converges"]["status"] == "missing"  # nothing shown for it: no answer
    page = feedback_html(result, catalog)
    assert "Waiting for a TA" in page and "cell In [3] prints 4.0, 2.0, 1.0, …" in page


def test_an_answer_under_another_name_or_in_markdown_goes_to_a_ta(catalog: Any, sandbox: Sandbox) -> None:
    found = parts(
        graded(
            catalog,
            sandbox,
            RUN_BY_HAND,
            ("markdown", "## My answers\n\n**gd_parabola_values:** 18, 6, 3, 2.25, 2.0625, 2.015625"),
            assignment="lec4-inclass",
        )
    )
    iterates, values = found["gd-parabola/iterates"], found["gd-parabola/values"]
    assert iterates["status"] == values["status"] == "needs_review"
    assert "the notebook's variable `iterates` holds 4.0, 2.0, 1.0, …" in iterates["feedback"]
    assert "a Markdown cell (cell 2 of the notebook) says 18, 6, 3, …" in values["feedback"]
    assert values["details"]["review"]["if_accepted"]["status"] == "correct"


def test_an_untouched_notebook_has_nothing_to_review(catalog: Any, sandbox: Sandbox) -> None:
    from grader.notebooks.generate import student_notebook

    node = student_notebook(catalog, "lec4-inclass", "s001")
    result = grade_notebook(nbformat.writes(node).encode(), "s001.ipynb", catalog, sandbox=sandbox)
    assert {p["status"] for p in parts(result).values()} == {"missing"}


def test_a_scratch_cell_that_binds_an_answer_again_is_noted(catalog: Any, sandbox: Sandbox) -> None:
    found = parts(
        graded(
            catalog,
            sandbox,
            "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]",
            "gd_parabola_values = [x**2 + 2 for x in gd_parabola_iterates]",
            "# trying something\ngd_parabola_iterates = [4, 3, 2]",
            assignment="lec4-inclass",
        )
    )
    iterates = found["gd-parabola/iterates"]
    assert iterates["status"] != "correct"  # the last value is what the notebook holds
    assert "set in cell In [1] and set again, to another value, by the later cell In [3]" in iterates["feedback"]
    assert "would be correct (6/6)" in iterates["feedback"]
    assert iterates["details"]["set_again"]["earlier"]["status"] == "correct"
    assert "set again" not in found["gd-parabola/values"]["feedback"]


def test_a_list_built_over_several_cells_is_not_taken_for_a_scratch_cell(catalog: Any, sandbox: Sandbox) -> None:
    found = parts(
        graded(
            catalog,
            sandbox,
            "gd_parabola_iterates = [4]",
            "for _ in range(5):\n    gd_parabola_iterates.append(gd_parabola_iterates[-1] / 2)",
            assignment="lec4-inclass",
        )
    )
    assert found["gd-parabola/iterates"]["status"] == "correct"
    assert "set again" not in found["gd-parabola/iterates"]["feedback"]


def test_a_part_unset_because_a_cell_raised_says_which_cell(catalog: Any, sandbox: Sandbox) -> None:
    result = graded(
        catalog,
        sandbox,
        "import numpy as np",
        "def run_gd(x0, eta, steps)\n    pass",  # a SyntaxError: the function is never defined
        "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]",
        "gd_parabola_values = [f(v) for v in gd_parabola_iterates]",
        "learning_rate_converges = run_gd(4, 0.25, 5)",
        assignment="lec4-inclass",
    )
    found = parts(result)
    values = found["gd-parabola/values"]
    assert values["status"] == "missing"
    assert values["feedback"].startswith("Not defined: cell In [4] raised NameError: name 'f' is not defined")
    converges = found["learning-rate/converges"]["feedback"]
    assert converges.startswith("Not defined: cell In [5] raised NameError: name 'run_gd' is not defined")
    assert "cell In [2], which defines run_gd, raised SyntaxError" in converges
    assert [e["label"] for e in result.cell_errors] == ["In [2]", "In [4]", "In [5]"]


def test_a_missing_function_whose_cell_raised_says_so(catalog: Any, sandbox: Sandbox) -> None:
    broken = CORRECT_GD["astype"].replace("return xs", "return xs)")
    found = parts(graded(catalog, sandbox, broken, assignment="lec4-lab"))
    for part in ("scalar", "vector", "zero-steps"):
        assert found[f"implement-gd/{part}"]["feedback"].startswith("Not defined: cell In [1] raised SyntaxError")


def test_one_huge_numpy_allocation_is_the_cells_error_not_the_notebooks_memory(catalog: Any, sandbox: Sandbox) -> None:
    result = graded(
        catalog,
        sandbox,
        "import numpy as np\ngrid = np.zeros((100000, 100000))  # meant (100, 100)",
        "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]",
        assignment="lec4-inclass",
    )
    assert result.error is None
    assert [(e["label"], e["ename"]) for e in result.cell_errors] == [("In [1]", "MemoryError")]
    assert "Unable to allocate" in result.cell_errors[0]["line"]
    assert parts(result)["gd-parabola/iterates"]["status"] == "correct"


def test_a_grader_error_while_checking_is_the_graders_not_the_students(
    catalog: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import grader.grading

    real = grader.grading.check_part

    def failing(key: Any, raw: Any, *args: Any, **kwargs: Any) -> Any:
        if key.part == "values":
            np.asarray([1.0, 2.0]) - np.asarray([1.0, 2.0, 3.0])  # the kind of bug: shapes that do not match
        return real(key, raw, *args, **kwargs)

    monkeypatch.setattr(grader.grading, "check_part", failing)
    with caplog.at_level(logging.ERROR, logger="grader.grading"):
        result = grade(
            {"answers": {"gd-parabola": {"iterates": "4, 2, 1, 0.5, 0.25, 0.125", "values": "1, 2"}}}, catalog
        )
    iterates, values = result.exercises[0].parts
    assert iterates.status == "correct"
    assert (values.status, values.score) == ("needs_review", 0)
    assert "grader itself failed" in values.feedback and "not yours" in values.feedback
    assert "operands could not be broadcast" in values.details["grader_error"]
    assert "operands could not be broadcast" not in values.feedback
    assert any("values" in r.getMessage() for r in caplog.records)


# Results TAs can act on -------------------------------------------------------------------------


def test_the_summary_csv_gradescope_and_feedback_count_a_cell_that_raised(catalog: Any, tmp_path: Path) -> None:
    from grader.cli.notebooks import grade as grade_command

    folder = tmp_path / "class"
    folder.mkdir()
    raising = notebook_bytes(
        "import numpy as np",
        "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]",
        "gd_parabola_values = [f(x) for x in gd_parabola_iterates]",
        assignment="lec4-inclass",
    )
    (folder / "s001.ipynb").write_bytes(raising)
    (folder / "s002.ipynb").write_bytes(
        notebook_bytes("gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]", assignment="lec4-inclass")
    )

    @click.group()
    def cli() -> None:
        """grader, with the grade command."""

    cli.add_command(grade_command)
    out, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    ran = CliRunner().invoke(
        cli,
        ["grade", str(folder), "--format", "csv", "--out", str(out), "--feedback", str(feedback)],
        catch_exceptions=False,
    )
    assert ran.exit_code == 0, ran.stderr
    assert "1 notebook(s) had cells that raised" in ran.stderr
    assert re.search(r"cells\s+\S*s001\.ipynb: cell In \[3\] raised NameError: name 'f' is not defined", ran.stderr)
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["s001"]["error"] == "cell In [3] raised NameError: name 'f' is not defined"
    assert rows["s002"]["error"] == ""
    page = (feedback / "s001.html").read_text()
    head = page[: page.index("<table>")]  # above the first exercise's parts
    assert "Cells that raised an error" in head
    assert "cell In [3] raised NameError: name &#39;f&#39; is not defined" in head
    assert "Not defined: cell In [3] raised NameError" in page

    gradescope = tmp_path / "results.json"
    ran = CliRunner().invoke(
        cli, ["grade", str(folder / "s001.ipynb"), "--format", "gradescope", "--out", str(gradescope)]
    )
    assert ran.exit_code == 0, ran.stderr
    assert "cell In [3] raised NameError" in gradescope.read_text()
