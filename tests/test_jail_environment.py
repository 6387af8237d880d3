"""The jail sees the grader's Python environment wherever it is installed, and a broken jail grades nothing.

Written from what went wrong for a new user: a correct notebook that
differentiates with sympy and draws a contour plot scored 7/21 ("No answer
was given") because the jail hid the virtualenv inside the checkout; under
/tmp even ``numpy.random`` and ``savefig`` failed. A grader that blames the
student for its own setup is the worst failure it can have.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.notebooks.batch import grade_notebook
from grader.sandbox import Limits, Sandbox
from grader.sandbox.selfcheck import JailBroken, self_check

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parent.parent
SYMPY_AND_PLOTS = """
import numpy as np
import sympy as sp
import matplotlib.pyplot as plt
x = sp.symbols("x")
df = sp.lambdify(x, sp.diff(x**2 + 2, x))
xs = [4.0]
for _ in range(5):
    xs.append(xs[-1] - 0.25 * df(xs[-1]))
gd_parabola_iterates = xs
noise = np.random.default_rng(0).normal(size=3)
X, Y = np.meshgrid(np.linspace(-4, 4, 30), np.linspace(-4, 4, 30))
plt.contour(X, Y, X**2 + Y**2)
plt.plot(xs, [0] * len(xs), "o-")
plt.savefig("path.png")
plt.savefig("path.svg")
"""
VALUES = "gd_parabola_values = [v**2 + 2 for v in xs]"


def correct_notebook(student: str = "s001") -> bytes:
    """A correct lec4-inclass gd-parabola answer as a student writes it: sympy, numpy.random, a contour plot."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["grader"] = {"assignment": "lec4-inclass", "student": student}
    notebook.cells = [nbformat.v4.new_code_cell(SYMPY_AND_PLOTS), nbformat.v4.new_code_cell(VALUES)]
    return nbformat.writes(notebook).encode()


def gd_parabola(result) -> tuple[float, float]:
    exercise = next(e for e in result.exercises if e.id == "gd-parabola")
    return exercise.score, exercise.max_score


def test_a_correct_notebook_using_sympy_numpy_random_and_contour_scores_full(catalog) -> None:
    with Sandbox(workers=1, limits=Limits(cpu_seconds=20, wall_seconds=40)) as box:
        self_check(box)
        result = grade_notebook(correct_notebook(), "s001.ipynb", catalog, sandbox=box)
    assert result.cell_errors == [] and result.error is None
    assert gd_parabola(result) == (12, 12)


def test_the_self_check_refuses_a_jail_that_cannot_import_numpy() -> None:
    import numpy

    with Sandbox(workers=1, preload=(), hide=[os.path.dirname(numpy.__file__)]) as box:
        with pytest.raises(JailBroken) as refused:
            self_check(box)
    sentence = str(refused.value)
    assert "numpy" in sentence and "the grader's Python has it, but the jail shows only" in sentence
    assert "\n" not in sentence


def test_an_import_the_grader_can_make_failing_in_the_jail_is_the_graders_error(catalog) -> None:
    import sympy

    notebook = nbformat.reads(correct_notebook().decode(), as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("from sympy.core import Symbol"))
    with Sandbox(workers=1, hide=[os.path.dirname(sympy.__file__)]) as box:  # as if the jail did not show sympy
        result = grade_notebook(nbformat.writes(notebook).encode(), "s001.ipynb", catalog, sandbox=box)
    assert result.graded is False  # never a student's zero: the queue tries again, the CLI reports it
    assert result.error.startswith("infrastructure: the sandbox could not import sympy")
    assert "not the student's error" in result.error


def test_an_import_of_what_the_grader_lacks_is_the_students_own(catalog) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["grader"] = {"assignment": "lec4-inclass"}
    notebook.cells = [nbformat.v4.new_code_cell("import torchvision_not_installed_here\ngd_parabola_iterates = [4]")]
    with Sandbox(workers=1) as box:
        result = grade_notebook(nbformat.writes(notebook).encode(), "s002.ipynb", catalog, sandbox=box)
    assert result.graded is True
    assert result.cell_errors[0]["ename"] == "ModuleNotFoundError"


def test_the_command_line_refuses_to_grade_when_a_course_package_cannot_be_imported(tmp_path: Path) -> None:
    exercises = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", exercises)
    course = exercises / "course.yaml"
    course.write_text(course.read_text() + "\nkernel:\n  packages: [numpy, no_such_package_here]\n")
    (tmp_path / "s001").mkdir()
    (tmp_path / "s001" / "nb.ipynb").write_bytes(correct_notebook())
    env = {**os.environ, "GRADER_EXERCISES": str(exercises)}
    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", str(tmp_path / "s001")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert "no_such_package_here" in run.stderr and "the grader's own Python does not have it" in run.stderr
    assert run.stdout == ""  # nothing graded


def test_a_course_kernel_list_that_is_not_module_names_is_a_spec_error(tmp_path: Path) -> None:
    from grader.specs.model import SpecError, load_catalog

    shutil.copytree(ROOT / "exercises", tmp_path / "ex")
    course = tmp_path / "ex" / "course.yaml"
    course.write_text(course.read_text() + "\nkernel:\n  packages: 'scipy; rm -rf /'\n")
    with pytest.raises(SpecError, match="kernel: packages must be a list of module names"):
        load_catalog(tmp_path / "ex")


# The whole product installed under a temporary directory -------------------------------------------------------

DRIVER = r"""
import io, json, subprocess, sys, time
from pathlib import Path

folder = Path(sys.argv[1])
grader = str(Path(sys.executable).parent / "grader")
scores = {}
run = subprocess.run([grader, "grade", str(folder / "s001"), "--format", "json"], capture_output=True, text=True)
assert run.returncode == 0, run.stderr
row = json.loads(run.stdout)[0]
scores["cli"] = (row["student"], row["score"], row["max_score"], row["cell_errors"])
run = subprocess.run([grader, "grade", str(folder / "s001"), "--queue", "--format", "json"], capture_output=True, text=True)
assert run.returncode == 0, run.stderr
row = json.loads(run.stdout)[0]
scores["queue"] = (row["student"], row["score"], row["max_score"], row["cell_errors"])

from grader.store.users import add_user
from grader.web import create_app

app = create_app({"TESTING": True, "RATE_LIMIT_PER_MINUTE": 0, "CPU_SHARE_MS_PER_MINUTE": 0})
token = add_user("s001", role="student", db=app.extensions["grader"].db)
client = app.test_client()
headers = {"Authorization": f"Bearer {token}"}
data = (folder / "s001" / "nb.ipynb").read_bytes()
posted = client.post(
    "/api/submissions",
    data={"notebook": (io.BytesIO(data), "nb.ipynb")},
    headers=headers,
    content_type="multipart/form-data",
)
assert posted.status_code == 202, posted.json
for _ in range(600):
    done = client.get(posted.json["url"], headers=headers).json
    if done["status"] in ("done", "failed"):
        break
    time.sleep(0.1)
assert done["status"] == "done", done
scores["web"] = (done["student"], done["result"]["score"], done["result"]["max_score"], done["result"]["cell_errors"])
print(json.dumps(scores))
"""


@pytest.mark.slow
def test_installed_in_a_venv_under_a_temporary_directory_every_path_gives_full_marks(tmp_path: Path) -> None:
    """README's layout (the venv inside the checkout), with the checkout under /tmp: the hardest case for a jail."""
    checkout = tmp_path / "checkout"
    listed = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]  # the working tree as it is
    files = subprocess.run(listed, cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    subprocess.run([sys.executable, "-m", "venv", str(checkout / ".venv")], check=True)
    python = checkout / ".venv" / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt", "pytest", "hypothesis"]
    subprocess.run(install, cwd=checkout, check=True, timeout=900, capture_output=True)
    folder = tmp_path / "handed-in"
    (folder / "s001").mkdir(parents=True)
    notebook = nbformat.reads(correct_notebook(student="s001").decode(), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell('learning_rate_converges = "(0, 1)"'))
    nbformat.write(notebook, folder / "s001" / "nb.ipynb")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({"GRADER_DATA": str(tmp_path / "data"), "GRADER_CACHE": str(tmp_path / "cache")})
    (tmp_path / "driver.py").write_text(DRIVER)
    run = subprocess.run(
        [str(python), str(tmp_path / "driver.py"), str(folder)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    scores = json.loads(run.stdout.strip().splitlines()[-1])
    for path in ("cli", "queue", "web"):
        student, score, max_score, cell_errors = scores[path]
        assert (student, cell_errors) == ("s001", []), (path, scores[path])
        assert (score, max_score) == (14, 21), (path, scores[path])  # 12 + 2 machine-graded; the rest unanswered
    # and the sandbox's own tests pass from there too
    tests = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_sandbox_kernel.py"]
    run = subprocess.run(tests, cwd=checkout, capture_output=True, text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:]
