"""Notebook grading end to end: generated notebooks, real nbformat files, the real sandbox.

Every notebook here is a real nbformat v4 file (written with ``nbformat``)
and runs in the real sandbox; one :class:`Sandbox` is shared by the module.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import nbformat
import nbformat.v4 as nbf
import pytest

from grader.notebooks.batch import grade_files, grade_notebook, read_notebook
from grader.notebooks.generate import is_setup_cell, setup_source, solution_notebook, student_notebook, variable_name
from grader.notebooks.intake import Place, from_layout, guess_assignment
from grader.sandbox import Limits, Sandbox
from grader.specs.model import load_catalog

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CODE = SOLUTIONS / "code"


# Helpers ---------------------------------------------------------------------------------


def reference_answers(assignment: str) -> dict[str, dict[str, Any]]:
    return json.loads((SOLUTIONS / f"{assignment}.json").read_text())["answers"]


def filled(catalog: Any, assignment: str, student: str | None = None, answers: Any = None) -> Any:
    """The generated notebook of ``assignment`` with every answer cell set to the reference answer."""
    answers = reference_answers(assignment) if answers is None else answers
    notebook = student_notebook(catalog, assignment, student)
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("grader", {})
        if cell.cell_type == "code" and "part" in meta:
            value = answers[meta["exercise"]][meta["part"]]
            cell.source = f"{variable_name(meta['exercise'], meta['part'])} = {value!r}"
    return notebook


def code_notebook(*sources: str, assignment: str | None = None, student: str | None = None) -> bytes:
    """A notebook of code cells (with the grader metadata only when asked for), as file bytes."""
    notebook = nbf.new_notebook(cells=[nbf.new_code_cell(source) for source in sources])
    meta = {k: v for k, v in (("assignment", assignment), ("student", student)) if v is not None}
    if meta:
        notebook.metadata["grader"] = meta
    return to_bytes(notebook)


def to_bytes(notebook: Any) -> bytes:
    nbformat.validate(notebook)
    return nbformat.writes(notebook).encode()


def parts(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``"exercise/part"`` → the part's result."""
    return {f"{e['id']}/{p['id']}": p for e in result["exercises"] for p in e["parts"]}


def assert_full(result: dict[str, Any], catalog: Any) -> None:
    """Every part correct, except free text, which waits for a TA; the score is every other point."""
    assert result["graded"] is True
    assert result["error"] is None, result["error"]
    assert result["cell_errors"] == []
    assert result["exercises"], "nothing was graded"
    earned = 0.0
    for key, part in parts(result).items():
        exercise_id, part_id = key.split("/")
        kind = catalog.exercises[exercise_id].part(part_id).kind
        expected = "needs_review" if kind == "text" else "correct"
        assert part["status"] == expected, (key, part["status"], part["feedback"])
        earned += part["max_score"] if expected == "correct" else 0
    assert result["score"] == pytest.approx(earned)
    assert result["max_score"] == pytest.approx(sum(p["max_score"] for p in parts(result).values()))


def lab_code(exercise: str, *replacements: tuple[str, str]) -> str:
    """The reference implementation of a lab exercise with some text replaced (each replacement must apply)."""
    source = (CODE / f"{exercise}.py").read_text()
    for old, new in replacements:
        assert old in source, f"{old!r} is not in the reference {exercise}"
        source = source.replace(old, new)
    return source


GD, MOMENTUM, ADAM = (lab_code(e) for e in ("implement-gd", "implement-momentum", "implement-adam"))


def grade_lab(catalog: Any, sandbox: Sandbox, *cells: str) -> dict[str, Any]:
    return grade_notebook(
        code_notebook(*cells, assignment="lec4-lab"), "s001.ipynb", catalog, sandbox=sandbox
    ).to_json()


# Generating ------------------------------------------------------------------------------


def test_student_notebook_is_valid_and_binds_every_part(catalog: Any) -> None:
    notebook = student_notebook(catalog, "lec4-inclass", "s001")
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata["grader"] == {"assignment": "lec4-inclass", "student": "s001"}
    answer_cells = {
        (c.metadata["grader"]["exercise"], c.metadata["grader"]["part"]): c.source
        for c in notebook.cells
        if c.cell_type == "code" and "part" in c.metadata.get("grader", {})
    }
    expected = {(e, p.id) for e in ("gd-parabola", "learning-rate") for p in catalog.exercises[e].parts}
    assert set(answer_cells) == expected
    assert answer_cells[("gd-parabola", "iterates")].startswith("gd_parabola_iterates = None")
    # The prompt carries the slide's numbers.
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "x_0 = 4" in text and r"\eta = 0.25" in text


def test_lab_notebook_has_a_stub_per_function(catalog: Any) -> None:
    notebook = student_notebook(catalog, "lec4-lab")
    nbformat.validate(notebook)
    stubs = [c.source for c in notebook.cells if c.cell_type == "code" and "function" in c.metadata.get("grader", {})]
    assert [s.split("(")[0] for s in stubs] == ["def gradient_descent", "def momentum_descent", "def adam"]
    assert all("raise NotImplementedError" in s for s in stubs)


def test_only_the_graders_own_setup_cell_is_recognised_as_such(catalog: Any) -> None:
    for server in (None, "https://grader.example.edu", "http://localhost:8000/course"):
        setup = student_notebook(catalog, "lec4-inclass", "s001", server=server).cells[1].source
        assert setup == setup_source(catalog, "lec4-inclass", server) and is_setup_cell(setup, catalog)
    setup = setup_source(catalog, "lec4-inclass", None)
    changed = [
        setup.replace("def check(exercise):", "def check(exercise, answer=42):"),
        setup + "x = 1\n",
        setup.replace("'lec4-inclass'", "'no-such'"),
        setup_source(catalog, "lec4-inclass", "https://grader.example.edu/?student=s002 answers 1, 2"),
        "# @title Grader: check() and submit()\nx = 1",
        "",
    ]
    assert not any(is_setup_cell(source, catalog) for source in changed)


def test_unknown_assignment_is_refused(catalog: Any) -> None:
    with pytest.raises(KeyError, match="no-such"):
        student_notebook(catalog, "no-such", "s001")


def test_variable_name() -> None:
    assert variable_name("gd-parabola", "iterates") == "gd_parabola_iterates"
    assert variable_name("updates-per-epoch", "b32") == "updates_per_epoch_b32"


# Round trip ------------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ["lec4-inclass", "lec4-homework", "lec4-extra"])
def test_generated_notebook_filled_with_the_reference_scores_full(
    catalog: Any, sandbox: Sandbox, assignment: str
) -> None:
    data = to_bytes(filled(catalog, assignment, "s001"))
    result = grade_notebook(data, "whatever.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["assignment"] == assignment
    assert result["student"] == "s001"
    assert_full(result, catalog)


def test_the_unfilled_notebook_scores_zero_with_every_part_missing(catalog: Any, sandbox: Sandbox) -> None:
    data = to_bytes(student_notebook(catalog, "lec4-inclass", "s001"))
    result = grade_notebook(data, "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["score"] == 0
    assert {p["status"] for p in parts(result).values()} == {"missing"}
    assert result["error"] is None


def test_every_solution_notebook_scores_full(catalog: Any) -> None:
    files = sorted(SOLUTIONS.glob("*.ipynb"))
    assert {f.stem for f in files} >= {"lec4-inclass", "lec4-homework", "lec4-extra", "lec4-lab"}
    results = [r.to_json() for r in grade_files(files, catalog, workers=2)]
    assert [r["file"] for r in results] == [str(f) for f in files]
    for file, result in zip(files, results, strict=True):
        assert result["assignment"] == file.stem
        assert_full(result, catalog)


def test_solution_notebook_of_the_lab_scores_full(catalog: Any, sandbox: Sandbox) -> None:
    implementations = {e: (CODE / f"{e}.py").read_text() for e in catalog.assignments["lec4-lab"].exercises}
    data = to_bytes(solution_notebook(catalog, "lec4-lab", implementations))
    result = grade_notebook(data, "lab.ipynb", catalog, sandbox=sandbox).to_json()
    assert_full(result, catalog)
    assert result["score"] == result["max_score"] == 15


# Finding the answers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def inclass(catalog: Any) -> Any:
    return filled(catalog, "lec4-inclass", "s001")


def strip_metadata(notebook: Any) -> Any:
    notebook = copy.deepcopy(notebook)
    notebook.metadata = nbformat.NotebookNode({})
    for cell in notebook.cells:
        cell.metadata = nbformat.NotebookNode({})
    return notebook


def test_metadata_deleted_everywhere(catalog: Any, sandbox: Sandbox, inclass: Any) -> None:
    data = to_bytes(strip_metadata(inclass))
    assert read_notebook(data).assignment is None
    result = grade_notebook(data, "work/s042.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["student"] == "s042"  # from the file's stem
    assert result["assignment"] == "lec4-inclass"  # from the variable names
    assert_full(result, catalog)


def test_cells_moved(catalog: Any, sandbox: Sandbox, inclass: Any) -> None:
    notebook = strip_metadata(inclass)
    random.Random(7).shuffle(notebook.cells)
    notebook.cells.reverse()
    result = grade_notebook(to_bytes(notebook), "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert_full(result, catalog)


def test_cells_merged_into_one(catalog: Any, sandbox: Sandbox, inclass: Any) -> None:
    code = "\n".join(c.source for c in inclass.cells if c.cell_type == "code")
    notebook = nbf.new_notebook(cells=[nbf.new_markdown_cell("my work"), nbf.new_code_cell(code)])
    result = grade_notebook(to_bytes(notebook), "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert_full(result, catalog)


NUMPY_INCLASS = """\
import numpy as np

f = lambda x: x**2 + 2
df = lambda x: 2 * x
x, eta = np.float64(4), 0.25
xs = [x]
for t in range(5):
    x = x - eta * df(x)
    xs.append(x)
gd_parabola_iterates = np.array(xs)
gd_parabola_values = f(np.array(xs))

labels = []
for e in np.array([0.05, 0.25, 0.75, 1, 1.5]):
    factor = abs(1 - 2 * e)
    if factor > 1:
        labels.append("diverging")
    elif factor == 1:
        labels.append("oscillating-stuck")
    elif 1 - 2 * e < 0:
        labels.append("oscillating-converging")
    elif factor < 0.6:
        labels.append("fast")
    else:
        labels.append("slow-monotone")
learning_rate_classify = labels
learning_rate_converges = f"0 < eta < {np.float64(1.0) / 1:g}"
learning_rate_why = "Too large overshoots and diverges; too small is slow."
"""


def test_answers_computed_with_numpy_in_a_loop(catalog: Any, sandbox: Sandbox) -> None:
    result = grade_notebook(code_notebook(NUMPY_INCLASS), "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert_full(result, catalog)
    assert result["answers"]["gd-parabola"]["iterates"] == [4, 2, 1, 0.5, 0.25, 0.125]


def test_numpy_scalars_answer_numeric_parts(catalog: Any, sandbox: Sandbox) -> None:
    source = """\
import numpy as np
gd_step_2d_direction = -np.array([1.0, 2.0])
gd_step_2d_new_point = np.array([4, 3]) - 0.5 * np.array([1, 2])
grads = np.array([[7, 2], [3, 1], [2, 3], [4, 2], [3, 3]], dtype=float)
minibatch_gradient_full = grads.mean(axis=0)
minibatch_gradient_batch = grads[[1, 3, 4]].mean(axis=0)
updates_per_epoch_b50 = np.int64(1200 // 50)
updates_per_epoch_b200 = np.int32(6)
updates_per_epoch_b32 = int(np.ceil(np.float64(1200) / 32))
"""
    result = grade_notebook(code_notebook(source), "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["assignment"] == "lec4-homework"
    statuses = {k: p["status"] for k, p in parts(result).items()}
    assert statuses == dict.fromkeys(statuses, "correct"), statuses


def test_assignment_from_the_folder_layout(catalog: Any, tmp_path: Path) -> None:
    # One in-class answer and two homework answers: the code alone would say homework.
    data = code_notebook(
        "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]",
        "gd_step_2d_direction = [-1, -2]\ngd_step_2d_new_point = [3.5, 2]",
    )
    assert guess_assignment(catalog, read_notebook(data).cells) == "lec4-homework"
    path = tmp_path / "submitted" / "s077" / "lec4-inclass" / "x.ipynb"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    [result] = [r.to_json() for r in grade_files([path], catalog, workers=1)]
    assert (result["student"], result["assignment"]) == ("s077", "lec4-inclass")
    assert parts(result)["gd-parabola/iterates"]["status"] == "correct"
    assert parts(result)["gd-parabola/values"]["status"] == "missing"
    assert "gd-step-2d" not in {e["id"] for e in result["exercises"]}


def test_assignment_folder_given_as_the_root_names_students_by_file(catalog: Any, tmp_path: Path) -> None:
    folder = tmp_path / "grading" / "lec4-inclass"
    folder.mkdir(parents=True)
    (folder / "s005.ipynb").write_bytes(code_notebook("gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]"))
    assert from_layout(Place(folder / "s005.ipynb", folder), catalog)[:2] == (None, "lec4-inclass")
    nbgrader = Place(Path("submitted/s005/lec4-inclass/x.ipynb"), Path("submitted"))
    assert from_layout(nbgrader, catalog)[:2] == ("s005", "lec4-inclass")
    assert from_layout(Place(Path("s005.ipynb"), Path(".")), catalog)[:2] == (None, None)
    [result] = [r.to_json() for r in grade_files([folder], catalog, workers=1)]
    assert (result["student"], result["assignment"]) == ("s005", "lec4-inclass")


def test_assignment_guessed_from_the_code(catalog: Any) -> None:
    assert guess_assignment(catalog, ["def gradient_descent(df, x0, eta, steps):\n    pass"]) == "lec4-lab"
    assert guess_assignment(catalog, ["updates_per_epoch_b32 = 38"]) == "lec4-homework"
    assert guess_assignment(catalog, ["print('hello')"]) is None


def test_no_answers_of_any_assignment(catalog: Any, sandbox: Sandbox) -> None:
    result = grade_notebook(code_notebook("x = 1"), "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["graded"] is True and result["score"] == 0
    assert "no answers of any assignment" in result["error"]


def test_student_from_metadata_else_from_the_file_stem(catalog: Any, sandbox: Sandbox) -> None:
    answer = "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]"
    named = grade_notebook(code_notebook(answer, student="s123"), "dir/s999.ipynb", catalog, sandbox=sandbox).to_json()
    unnamed = grade_notebook(code_notebook(answer), "dir/s999.ipynb", catalog, sandbox=sandbox).to_json()
    assert (named["student"], unnamed["student"]) == ("s123", "s999")


def test_default_student_of_a_shared_notebook_is_not_an_id(catalog: Any, sandbox: Sandbox) -> None:
    # A notebook generated without --student, handed to the whole class, carries student "default".
    shared = filled(catalog, "lec4-inclass", None)
    assert shared.metadata["grader"]["student"] == "default"
    results = [grade_notebook(to_bytes(shared), f"{s}.ipynb", catalog, sandbox=sandbox).to_json() for s in ("s1", "s2")]
    assert [r["student"] for r in results] == ["s1", "s2"]


def test_per_student_variant_is_the_same_for_calls_and_checking(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADER_VARIANTS", "per-student")
    monkeypatch.setenv("GRADER_SECRET", "test-secret")
    per_student = load_catalog()
    # A name that is not an id as it stands (a space) becomes the same id on every path, reported and drawn from.
    data = code_notebook(GD, MOMENTUM, ADAM, assignment="lec4-lab", student="Jane Doe")
    result = grade_notebook(data, "x.ipynb", per_student, sandbox=sandbox).to_json()
    assert result["student"] == "Jane_Doe"
    assert_full(result, per_student)


def test_hostile_student_id_is_bounded_and_printable(catalog: Any, sandbox: Sandbox) -> None:
    data = code_notebook("gd_parabola_iterates = [4]", student="\x1b[2J\u202eevil" + "x" * 500)
    result = grade_notebook(data, "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["student"].startswith("2J_evil")  # an id: no escape, no bidi override, bounded
    assert len(result["student"]) == 128


# IPython semantics -----------------------------------------------------------------------


def test_magics_and_shell_lines_do_not_break_grading(catalog: Any, sandbox: Sandbox) -> None:
    data = code_notebook(
        "%matplotlib inline\n!pip install torch\nimport numpy as np",
        "%time gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]",
        "!ls -la\ngd_parabola_values = [18, 6, 3, 2.25, 2.0625, 2.015625]",
    )
    result = grade_notebook(data, "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["error"] is None and result["cell_errors"] == []
    assert parts(result)["gd-parabola/iterates"]["status"] == "correct"
    assert parts(result)["gd-parabola/values"]["status"] == "correct"


def test_an_exception_in_one_cell_is_recorded_and_later_cells_still_count(catalog: Any, sandbox: Sandbox) -> None:
    data = code_notebook(
        "gd_parabola_iterates = [4, 2, 1, 0.5, 0.25, 0.125]",
        "gd_parabola_values = [v ** 2 + 2 for v in undefined_iterates]",
        "learning_rate_converges = '(0, 1)'",
        "gd_parabola_values = [18, 6, 3, 2.25, 2.0625, 2.015625]",
    )
    result = grade_notebook(data, "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["error"] is None
    assert [(e["cell"], e["ename"]) for e in result["cell_errors"]] == [
        (2, "NameError")
    ]  # the notebook's second cell, counted from 1
    assert "undefined_iterates" in result["cell_errors"][0]["evalue"]
    found = parts(result)
    assert [found[k]["status"] for k in ("gd-parabola/iterates", "gd-parabola/values", "learning-rate/converges")] == [
        "correct"
    ] * 3
    assert result["score"] == 14


def test_warnings_and_stderr_cost_nothing(catalog: Any, sandbox: Sandbox, inclass: Any) -> None:
    notebook = copy.deepcopy(inclass)
    notebook.cells.insert(
        1,
        nbf.new_code_cell(
            "import sys, warnings\n"
            "warnings.warn('this API is deprecated', DeprecationWarning)\n"
            "warnings.warn('careful')\n"
            "print('a message on stderr', file=sys.stderr)\n"
            "sys.stderr.write('more\\n' * 1000)\n"
            "print('plain output' * 100)"
        ),
    )
    result = grade_notebook(to_bytes(notebook), "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert_full(result, catalog)


# Code exercises (lec4-lab) ---------------------------------------------------------------


def test_reference_implementations_score_full(catalog: Any, sandbox: Sandbox) -> None:
    result = grade_lab(catalog, sandbox, "import numpy as np", GD, MOMENTUM, ADAM)
    assert_full(result, catalog)
    assert result["score"] == 15


@pytest.mark.parametrize(
    ("replacement", "misconception"),
    [
        (("x = x - eta *", "x = x + eta *"), "sign-error"),
        (("x = x - eta * np.asarray(df(x), dtype=float)", "x = x - np.asarray(df(x), dtype=float)"), "forgot-eta"),
        (("return path", "return path[1:]"), "off-by-one"),
        (("range(steps)", "range(steps + 1)"), "off-by-one"),
    ],
    ids=["sign-flipped", "forgot-eta", "x1-to-x-steps", "one-step-too-many"],
)
def test_wrong_gradient_descent_is_named(
    catalog: Any, sandbox: Sandbox, replacement: tuple[str, str], misconception: str
) -> None:
    result = grade_lab(catalog, sandbox, lab_code("implement-gd", replacement), MOMENTUM, ADAM)
    found = parts(result)
    for part in ("implement-gd/scalar", "implement-gd/vector"):
        assert found[part]["misconception"] == misconception, found[part]
        assert 0 < found[part]["score"] < found[part]["max_score"]
    # The other exercises are untouched.
    assert all(
        found[f"{e}/{p}"]["status"] == "correct"
        for e in ("implement-momentum", "implement-adam")
        for p in ("scalar", "vector", "zero-steps")
    )


def test_one_step_too_many_is_also_wrong_for_zero_steps(catalog: Any, sandbox: Sandbox) -> None:
    result = grade_lab(catalog, sandbox, lab_code("implement-gd", ("range(steps)", "range(steps + 1)")))
    zero = parts(result)["implement-gd/zero-steps"]
    assert zero["misconception"] == "off-by-one"
    assert zero["score"] < zero["max_score"]


def test_ema_momentum_is_named(catalog: Any, sandbox: Sandbox) -> None:
    ema = """\
import numpy as np

def momentum_descent(df, x0, eta, beta, steps):
    x = np.asarray(x0, dtype=float)
    g = np.zeros_like(x)
    path = [x.copy()]
    for _ in range(steps):
        g = beta * g + (1 - beta) * df(x)
        x = x - eta * g
        path.append(x.copy())
    return path
"""
    found = parts(grade_lab(catalog, sandbox, ema))
    assert found["implement-momentum/scalar"]["misconception"] == "ema-momentum"
    assert found["implement-momentum/vector"]["misconception"] == "ema-momentum"
    assert found["implement-momentum/zero-steps"]["status"] == "correct"


def test_adam_without_bias_correction_is_named(catalog: Any, sandbox: Sandbox) -> None:
    source = lab_code("implement-adam", ("m / (1 - beta1**t)", "m"), ("v / (1 - beta2**t)", "v"))
    found = parts(grade_lab(catalog, sandbox, source))
    for part in ("implement-adam/scalar", "implement-adam/vector"):
        assert found[part]["misconception"] == "no-bias-correction", found[part]
        assert found[part]["score"] < found[part]["max_score"]


def test_a_function_that_raises_is_invalid_and_named_other_parts_graded(catalog: Any, sandbox: Sandbox) -> None:
    broken = "def momentum_descent(df, x0, eta, beta, steps):\n    raise ValueError('not finished yet')"
    found = parts(grade_lab(catalog, sandbox, GD, broken, ADAM))
    for part in ("scalar", "vector", "zero-steps"):
        mine = found[f"implement-momentum/{part}"]
        assert (mine["status"], mine["score"]) == ("invalid", 0)
        assert "ValueError" in mine["feedback"] and "not finished yet" in mine["feedback"]
        assert found[f"implement-gd/{part}"]["status"] == "correct"
        assert found[f"implement-adam/{part}"]["status"] == "correct"


def test_a_missing_function_is_missing(catalog: Any, sandbox: Sandbox) -> None:
    result = grade_lab(catalog, sandbox, GD)
    found = parts(result)
    assert {found[f"implement-adam/{p}"]["status"] for p in ("scalar", "vector", "zero-steps")} == {"missing"}
    assert "does not define" in found["implement-adam/scalar"]["feedback"]
    assert result["score"] == 5


def test_zero_steps(catalog: Any, sandbox: Sandbox) -> None:
    # Builds the path from x1 on: right length for no step at all is [x0], this returns [].
    source = lab_code("implement-gd", ("path = [x.copy()]", "path = []"))
    found = parts(grade_lab(catalog, sandbox, source, MOMENTUM, ADAM))
    assert found["implement-gd/zero-steps"]["status"] in {"incorrect", "partial"}
    assert found["implement-gd/zero-steps"]["score"] == 0
    assert found["implement-gd/scalar"]["misconception"] == "off-by-one"
    assert found["implement-momentum/zero-steps"]["status"] == "correct"
    assert found["implement-adam/zero-steps"]["status"] == "correct"


def test_a_function_that_loops_forever_is_stopped_and_the_rest_graded(catalog: Any) -> None:
    forever = "def adam(df, x0, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8):\n    while True:\n        pass"
    with Sandbox(workers=1, limits=Limits(probe_seconds=0.5)) as quick:
        result = grade_lab(catalog, quick, GD, MOMENTUM, forever)
    found = parts(result)
    for part in ("scalar", "vector", "zero-steps"):
        assert found[f"implement-adam/{part}"]["status"] == "invalid"
        assert "TimeoutError" in found[f"implement-adam/{part}"]["feedback"]
    assert found["implement-gd/scalar"]["status"] == "correct"
    assert found["implement-momentum/vector"]["status"] == "correct"


# Malformed files -------------------------------------------------------------------------


def test_malformed_files_get_a_reason_and_the_batch_goes_on(catalog: Any, inclass: Any, tmp_path: Path) -> None:
    big = nbf.new_notebook(cells=[nbf.new_markdown_cell("x" * (25 * 2**20))])
    bad = {
        "empty": (b"", "empty"),
        "not-json": (b"this is not json {", "not a Jupyter notebook"),
        "not-a-notebook": (b'{"name": "a JSON object", "cells": 3}', "not a Jupyter notebook"),
        "a-list": (b"[1, 2, 3]", "not a Jupyter notebook"),
        "binary": (bytes(range(256)) * 64, "not UTF-8"),
        "huge": (nbformat.writes(big).encode(), "larger than 20 MB"),
    }
    files = []
    for name, (data, _reason) in bad.items():
        files.append(tmp_path / f"{name}.ipynb")
        files[-1].write_bytes(data)
    good = tmp_path / "zz-good.ipynb"
    good.write_bytes(to_bytes(inclass))
    results = [r.to_json() for r in grade_files([*files, good], catalog, workers=2)]
    assert len(results) == len(bad) + 1
    for result, (name, (_data, reason)) in zip(results, bad.items(), strict=False):
        assert result["student"] == name
        assert reason in result["error"], (name, result["error"])
        assert result["graded"] is True
        assert result["score"] == 0
    assert_full(results[-1], catalog)
