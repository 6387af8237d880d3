"""The reference answers of the default variants, written to ``solutions/``.

``solutions/<assignment>.json`` is a complete submission (student
``solutions``) that scores full marks, so it doubles as an example for
``grader check``; ``solutions/<assignment>.ipynb`` is the worked notebook,
with the reference implementations of code exercises from
``solutions/code/<exercise>.py``. A text part has no reference; it gets a
model sentence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.notebooks.generate import solution_notebook
from grader.paths import solutions_dir
from grader.specs.model import Catalog


def reference_submission(catalog: Catalog, assignment: str) -> dict[str, Any]:
    """The submission answering every part of ``assignment`` with the default variant's reference."""
    answers: dict[str, Any] = {}
    for exercise_id in catalog.assignments[assignment].exercises:
        exercise = catalog.exercises[exercise_id]
        if exercise.kind != "answers":
            continue
        keys = catalog.keys(exercise, catalog.variant(exercise, None))
        answers[exercise_id] = {key.part: key.type.submitted(key.reference) for key in keys}
    return {"student": "solutions", "assignment": assignment, "answers": answers}


def _rendered(catalog: Catalog) -> dict[Path, str]:
    folder = solutions_dir()
    return {
        folder / f"{name}.json": json.dumps(reference_submission(catalog, name), indent=2, ensure_ascii=False) + "\n"
        for name, assignment in catalog.assignments.items()
        if any(catalog.exercises[e].kind == "answers" for e in assignment.exercises)
    }


def _notebooks(catalog: Catalog) -> dict[Path, str]:
    """The worked solution notebook of every assignment: reference answers and reference code."""
    import nbformat

    folder = solutions_dir()
    code = {path.stem: path.read_text(encoding="utf-8") for path in sorted((folder / "code").glob("*.py"))}
    rendered = {}
    for name, assignment in catalog.assignments.items():
        missing = [e for e in assignment.exercises if catalog.exercises[e].kind == "code" and e not in code]
        if missing:
            continue  # a code exercise without a reference implementation in solutions/code/
        rendered[folder / f"{name}.ipynb"] = nbformat.writes(solution_notebook(catalog, name, code)) + "\n"
    return rendered


def _all(catalog: Catalog) -> dict[Path, str]:
    return {**_rendered(catalog), **_notebooks(catalog)}


def write_solutions(catalog: Catalog) -> list[Path]:
    written = []
    for path, text in _all(catalog).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_solutions(catalog: Catalog) -> list[str]:
    """Names of the solution files that are missing or differ from what the specs give now."""
    return [
        path.name
        for path, text in _all(catalog).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
