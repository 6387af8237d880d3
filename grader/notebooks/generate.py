"""Student notebooks generated from the specs (nbformat v4).

One notebook answers one assignment. Each exercise gets its prompt (Markdown
with LaTeX, the student's own numbers); each part an answer cell binding
``E_P`` (dashes become underscores: ``gd_parabola_iterates``); a code
exercise a function stub with its docstring. Cells and the notebook carry
``metadata.grader`` (assignment, exercise, part, student, and the grader's
address when given), but grading never depends on it: answers are found by
variable name.

A student's notebook also talks to the service: one setup cell (its source
hidden in JupyterLab, a form in Colab) defines ``check`` and ``submit``
(:mod:`grader.notebooks.kernel_tools`); each typed-answer exercise ends with
``check("<exercise>")``, which grades that exercise's variables as they are
and shows the feedback inline; the last cell, ``submit()``, hands the notebook
in and shows its result. The grader's sandbox runs these cells as no-ops.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from grader.checking.key import AnswerKey
from grader.contract import points_text
from grader.specs.model import Catalog, Exercise, Part

INSTRUCTIONS = """\
**How to answer.** Each answer cell binds one variable, e.g. `gd_parabola_iterates = [...]`.
Replace `None` with your answer: a number, a list, a numpy array, or a string as you would
type it (`"10/3"`, `"0 < eta < 1"`, `"x^2 + 2"`). Keep the variable names; you may add cells,
move cells and compute answers with code. Run the whole notebook before you hand it in."""

CODE_INSTRUCTIONS = """\
**How to answer.** Complete each function below; keep its name and arguments. It is graded by
calling it on hidden inputs (numbers and numpy vectors, edge cases included) and comparing what it
returns with the reference optimizer. You may add cells and helper functions; run the whole
notebook before you hand it in."""


def variable_name(exercise_id: str, part_id: str) -> str:
    """The variable that answers part ``part_id`` of ``exercise_id``: ``gd-parabola``, ``iterates`` → ``gd_parabola_iterates``."""
    return f"{exercise_id}_{part_id}".replace("-", "_")


CHECK_INSTRUCTIONS = """\
**Check as you go.** The cell after each exercise, e.g. `check("gd-parabola")`, grades that exercise's
answers as they are now and shows the feedback below it (how each answer was read, what is wrong and where);
nothing is handed in. `submit()` at the end hands in this notebook as last saved and shows its result. Both
need the grader's address (`GRADER_URL`, else the one this notebook was made with) and your token
(`GRADER_TOKEN`, else you are asked once; it is never saved in the notebook)."""

SETUP_TITLE = "# @title Grader: check() and submit(). Run this cell first; nothing to change here."


def student_notebook(catalog: Catalog, assignment: str, student: str | None = None, server: str | None = None) -> Any:
    """The notebook of ``assignment`` for ``student`` (their variant), as an nbformat node; ``server`` is the
    grader's address that ``check()`` and ``submit()`` use when ``GRADER_URL`` is not set."""
    return _notebook(catalog, assignment, student, answers=None, server=server)


def solution_notebook(catalog: Catalog, assignment: str, implementations: Mapping[str, str]) -> Any:
    """The worked solution of ``assignment``'s default variant: reference answers and reference code."""
    return _notebook(catalog, assignment, None, answers=implementations)


def _notebook(
    catalog: Catalog,
    assignment: str,
    student: str | None,
    answers: Mapping[str, str] | None,
    server: str | None = None,
) -> Any:
    import nbformat.v4 as nbf

    if assignment not in catalog.assignments:
        raise KeyError(f"unknown assignment {assignment!r}")
    spec = catalog.assignments[assignment]
    only_code = all(catalog.exercises[e].kind == "code" for e in spec.exercises)
    for_student = answers is None
    instructions = CODE_INSTRUCTIONS if only_code else INSTRUCTIONS
    cells = [
        nbf.new_markdown_cell(
            f"# {spec.title}\n\n{instructions}" + (f"\n\n{CHECK_INSTRUCTIONS}" if for_student else "")
        )
    ]
    if for_student:
        cells.append(_setup_cell(nbf, catalog, assignment, server))
    cells.append(nbf.new_code_cell("import numpy as np"))
    for exercise_id in spec.exercises:
        exercise = catalog.exercises[exercise_id]
        params = catalog.variant(exercise, student)
        shown = catalog.prompt(exercise, params)
        cells.append(
            nbf.new_markdown_cell(
                f"## {shown['title']}\n\n{shown['prompt'].strip()}", metadata={"grader": {"exercise": exercise.id}}
            )
        )
        if exercise.kind == "code":
            cells.extend(_code_cells(nbf, exercise, shown, answers))
            continue
        keys = catalog.keys(exercise, params)
        for part, key, shown_part in zip(exercise.parts, keys, shown["parts"], strict=True):
            cells.extend(_part_cells(nbf, exercise, part, key, shown_part, solution=answers is not None))
        if for_student:
            cells.append(nbf.new_code_cell(f'check("{exercise.id}")', metadata={"tags": ["grader-check"]}))
    if for_student:
        cells.append(
            nbf.new_markdown_cell(
                "## Hand in\n\nSave the notebook (Ctrl+S / ⌘S), then run the cell below: it hands in this file "
                "as saved and shows the result here once it is graded. You may hand in again; the grader keeps each one."
            )
        )
        cells.append(nbf.new_code_cell("submit()", metadata={"tags": ["grader-submit"]}))
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"  # stable ids: the same specs give the same file
    notebook = nbf.new_notebook(cells=cells)
    notebook.metadata["grader"] = {"assignment": assignment, "student": student or "default"}
    if server:
        notebook.metadata["grader"]["server"] = server
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def _setup_cell(nbf: Any, catalog: Catalog, assignment: str, server: str | None) -> Any:
    """The cell that defines ``check`` and ``submit`` (source hidden in JupyterLab and Notebook, a form in Colab)."""
    metadata = {
        "jupyter": {"source_hidden": True},
        "cellView": "form",
        "tags": ["grader-setup"],
    }
    return nbf.new_code_cell(setup_source(catalog, assignment, server), metadata=metadata)


SETUP_CALL = "\n\n\ncheck, submit = _grader_tools("
SETUP_END = ", globals())\ndel _grader_tools\n"


@lru_cache(maxsize=1)
def _tools_function() -> str:
    from grader.notebooks import kernel_tools

    text = Path(kernel_tools.__file__).read_text(encoding="utf-8")
    return text[text.index("def _grader_tools(") :].rstrip()


def setup_source(catalog: Catalog, assignment: str, server: str | None) -> str:
    """The source of the setup cell that defines ``check`` and ``submit`` in ``assignment``'s notebooks."""
    exercises = {
        e: [p.id for p in catalog.exercises[e].parts]
        for e in catalog.assignments[assignment].exercises
        if catalog.exercises[e].kind == "answers"
    }
    titles = {e: catalog.exercises[e].title for e in catalog.assignments[assignment].exercises}
    config = {"url": server or "", "assignment": assignment, "exercises": exercises, "titles": titles}
    return f"{SETUP_TITLE}\n{_tools_function()}{SETUP_CALL}{config!r}{SETUP_END}"


SERVER = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


def is_setup_cell(source: str, catalog: Catalog) -> bool:
    """Whether ``source`` is exactly the setup cell this grader generates for one of the catalog's assignments
    (with no server, or a plain http(s) address): the grader's own code, not a student's."""
    if not source.startswith(SETUP_TITLE) or not source.endswith(SETUP_END) or SETUP_CALL not in source:
        return False
    literal = source[source.rindex(SETUP_CALL) + len(SETUP_CALL) : -len(SETUP_END)]
    if len(literal) > 20_000:
        return False
    try:
        config = ast.literal_eval(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    if not isinstance(config, dict):
        return False
    assignment, server = config.get("assignment"), config.get("url")
    if not isinstance(assignment, str) or assignment not in catalog.assignments or not isinstance(server, str):
        return False
    if server and (len(server) > 200 or not SERVER.match(server)):
        return False
    return source == setup_source(catalog, assignment, server or None)


def _part_cells(
    nbf: Any, exercise: Exercise, part: Part, key: AnswerKey, shown: Mapping[str, Any], solution: bool
) -> list[Any]:
    """The part's prompt, and its answer cell: the reference (a solution) or None with the part's hint."""
    name = variable_name(exercise.id, part.id)
    points = points_text(part.points)
    prompt = nbf.new_markdown_cell(f"**{part.id}** ({points}). {shown['prompt'].strip()}")
    if solution:
        source = f"{name} = {key.type.literal(key.reference)}"
    else:
        source = f"{name} = None  # your answer: {key.hint()}"
    answer = nbf.new_code_cell(
        source, metadata={"grader": {"exercise": exercise.id, "part": part.id, "points": part.points}}
    )
    return [prompt, answer]


def _code_cells(
    nbf: Any, exercise: Exercise, shown: Mapping[str, Any], implementations: Mapping[str, str] | None
) -> list[Any]:
    code = exercise.code
    metadata = {"grader": {"exercise": exercise.id, "function": code["function"]}}
    if implementations is not None:
        return [nbf.new_code_cell(implementations[exercise.id].strip(), metadata=metadata)]
    docstring = str(code.get("docstring", "")).strip().replace('"""', "'''")
    indented = "\n".join(("    " + line) if line else "" for line in docstring.splitlines())
    stub = f'def {code["signature"]}:\n    """{indented.strip()}\n    """\n{code.get("body", "    raise NotImplementedError")}'
    tests = "\n".join(f"- **{p['id']}** ({points_text(p['points'])}): {p['prompt'].strip()}" for p in shown["parts"])
    return [
        nbf.new_code_cell(stub, metadata=metadata),
        nbf.new_markdown_cell(f"Your function is called on hidden inputs:\n\n{tests}"),
    ]
