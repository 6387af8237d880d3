"""Grading notebooks: read, run in the sandbox, collect answers by name, call :func:`grader.grading.grade`.

Answers are found by variable name (``E_P``) and code exercises by calling the
student's function on the part's hidden inputs, so notebooks whose metadata
was deleted, or whose cells were moved or merged, grade the same. Everything
the student's code produced arrives as plain JSON data from the sandbox and
is checked here, in the grader's process, by the one grading function.

A notebook that cannot be read, or that crashes or times out, still gets a
result: what it bound before the failure is graded, and ``error`` says what
happened. A failure of the grader itself (``infrastructure: …``) is never
turned into a student's zero: the result has ``graded: false``.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.contract import NotebookResult, Returned, Submission, Unanswered
from grader.grading import grade_checked
from grader.notebooks.generate import variable_name
from grader.specs.model import DEFAULT_STUDENT, Catalog, Exercise

log = logging.getLogger(__name__)

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
STUDENT_FROM_STEM = re.compile(r"[^A-Za-z0-9._@+-]+")


class NotebookError(ValueError):
    """The file is not a notebook we can read; the message says why."""


@dataclass(frozen=True)
class Notebook:
    cells: list[str]  # the code cells' sources, in order
    positions: list[int]  # where each code cell stands among all the notebook's cells (for feedback)
    assignment: str | None
    student: str | None


def read_notebook(data: bytes) -> Notebook:
    """The code cells and the grader metadata of a notebook file (any nbformat version 4)."""
    import nbformat

    if not data.strip():
        raise NotebookError("the file is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError("the file is not UTF-8 text") from exc
    try:
        # Outputs are never run, shown or graded: they are dropped before nbformat reads (and validates)
        # the rest, so that a notebook carrying megabytes of outputs costs no more than its code.
        text = json.dumps(_without_outputs(json.loads(text)))
        node = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises many kinds (JSON, schema, version) for bad files
        first_line = next(iter(str(exc).splitlines()), "")[:120]
        raise NotebookError(f"not a Jupyter notebook ({type(exc).__name__}: {first_line})") from exc
    cells = node.get("cells") if isinstance(node.get("cells"), list) else []
    code = [(i, _source(c)) for i, c in enumerate(cells) if isinstance(c, dict) and c.get("cell_type") == "code"]
    metadata = node.get("metadata")
    meta = metadata.get("grader", {}) if isinstance(metadata, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    return Notebook(
        cells=[source for _, source in code],
        positions=[i for i, _ in code],
        assignment=meta.get("assignment") if isinstance(meta.get("assignment"), str) else None,
        student=meta.get("student") if isinstance(meta.get("student"), str) else None,
    )


def _without_outputs(notebook: Any) -> Any:
    """The parsed notebook with every code cell's outputs emptied (nbformat 4, and 3's worksheets)."""
    if not isinstance(notebook, dict):
        return notebook
    cells = notebook.get("cells")
    groups = [cells] if isinstance(cells, list) else []
    worksheets = notebook.get("worksheets")
    if isinstance(worksheets, list):
        groups += [w["cells"] for w in worksheets if isinstance(w, dict) and isinstance(w.get("cells"), list)]
    for group in groups:
        for cell in group:
            if isinstance(cell, dict) and "outputs" in cell:
                cell["outputs"] = []
    return notebook


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def guess_assignment(catalog: Catalog, cells: list[str]) -> str | None:
    """The assignment whose variable and function names appear most in the code (metadata may be gone)."""
    code = "\n".join(cells)
    best, best_hits = None, 0
    for name, assignment in catalog.assignments.items():
        hits = sum(
            1 for exercise_id in assignment.exercises for word in _names(catalog.exercises[exercise_id]) if word in code
        )
        if hits > best_hits:
            best, best_hits = name, hits
    return best


def _names(exercise: Exercise) -> list[str]:
    if exercise.kind == "code":
        return [f"def {exercise.code['function']}"]
    return [variable_name(exercise.id, part.id) for part in exercise.parts]


def student_from_path(path: Path, catalog: Catalog, root: Path | None = None) -> tuple[str, str | None]:
    """Student (and assignment) from ``submitted/<student>/<assignment>/x.ipynb``, else the file's stem."""
    folder_student, folder_assignment = placed(path, catalog, root)
    return folder_student or _stem(path), folder_assignment


def placed(path: Path, catalog: Catalog, root: Path | None = None) -> tuple[str | None, str | None]:
    """The student and the assignment that the folders holding ``path`` name (each None when they do not).

    ``submitted/<student>/<assignment>/x.ipynb`` names both. ``root`` is the
    folder the TA named: when that folder is itself the assignment's
    (``lec4-inclass/s001.ipynb``), the files in it are named by student and the
    folder above says nothing about who wrote them.
    """
    parts = path.parts
    below = len(path.relative_to(root).parts) if root is not None and path.is_relative_to(root) else len(parts)
    if len(parts) >= 2 and parts[-2] in catalog.assignments:
        if below >= 2 and len(parts) >= 3:
            return parts[-3], parts[-2]
        return None, parts[-2]
    return None, None


def _stem(path: Path) -> str:
    return STUDENT_FROM_STEM.sub("_", path.stem)[:128] or "unknown"


def grade_notebook(
    data: bytes,
    filename: str,
    catalog: Catalog,
    assignment: str | None = None,
    student: str | None = None,
    sandbox: Any = None,
    root: Path | None = None,
) -> NotebookResult:
    """Grade one notebook file; never raises for a bad notebook (the result's ``error`` says why).

    ``root``: the folder ``filename`` was found in (see :func:`placed`).
    """
    path = Path(filename)
    try:
        notebook = read_notebook(data)
    except NotebookError as exc:
        return NotebookResult.failed(filename, owner(None, path, catalog, root, student).student, f"{exc}", graded=True)
    whose = owner(notebook, path, catalog, root, student, assignment)
    student, assignment = whose.student, whose.assignment
    graded_as = safe_student(student)  # the id the variant is drawn from: the same for the calls and the checking
    if assignment not in catalog.assignments:
        reason = f"unknown assignment {assignment!r}" if assignment else "no answers of any assignment were found"
        return NotebookResult.failed(filename, student, reason, graded=True, warning=whose.warning)
    exercises = [catalog.exercises[e] for e in catalog.assignments[assignment].exercises]
    names, probes, calls = _requests(catalog, exercises, graded_as)
    outcome = _run(sandbox, catalog, notebook.cells, names, probes)
    if outcome.error and outcome.error.startswith("infrastructure:"):
        return NotebookResult.failed(filename, student, outcome.error, graded=False, warning=whose.warning)
    jail_misses = _grader_import_errors(outcome.cell_errors)
    if jail_misses:
        reason = (
            f"infrastructure: the sandbox could not import {', '.join(jail_misses)}, which the grader's Python has; "
            "a TA should look at this notebook once the sandbox is fixed (it is not the student's error)"
        )
        log.error("%s: %s", filename, reason)
        return NotebookResult.failed(filename, student, reason, graded=False, warning=whose.warning)
    answers = _answers(exercises, outcome, calls)
    graded = grade_checked(Submission(graded_as, answers, assignment), catalog)
    return NotebookResult(
        student=student,  # as the notebook or the file names the student; exports escape it
        exercises=graded.exercises,
        file=filename,
        warning=whose.warning,
        assignment=assignment,
        error=outcome.error,
        cell_errors=[{**e, "cell": _position(notebook, e.get("cell"))} for e in outcome.cell_errors],
        answers={
            e: {p: v.value if isinstance(v, Returned) else v for p, v in parts.items() if not isinstance(v, Unanswered)}
            for e, parts in answers.items()
        },
    )


@dataclass(frozen=True)
class Owner:
    """Whose notebook a file is, the assignment it answers, and where its metadata claimed otherwise."""

    student: str
    assignment: str | None
    warning: str | None = None  # one sentence per disagreement with the notebook's metadata


def owner(
    notebook: Notebook | None,
    path: Path,
    catalog: Catalog,
    root: Path | None = None,
    student: str | None = None,
    assignment: str | None = None,
) -> Owner:
    """Whose notebook this is and which assignment it answers: as given, else as its folders say, else as it says.

    Student: ``student``, else the folder of ``submitted/<student>/<assignment>/``
    (:func:`placed`), else the notebook's metadata (unless it is the ``default``
    of a notebook generated for a whole class), else the file's stem.
    Assignment: ``assignment``, else the folder, else the metadata, else
    guessed from the names in the code (None when nothing matches).

    The metadata is written by the student, so it never overrules what the
    caller or the folders say (a notebook naming another student would be
    graded, stored and given feedback as that student); where it disagrees,
    ``warning`` says so. ``notebook`` is None when the file could not be read.
    """
    folder_student, folder_assignment = placed(path, catalog, root)
    named_student = notebook.student if notebook is not None and notebook.student != DEFAULT_STUDENT else None
    named_assignment = notebook.assignment if notebook is not None else None
    whose = _shown(student or folder_student or named_student or _stem(path))
    which = assignment or folder_assignment or named_assignment
    if which is None and notebook is not None:
        which = guess_assignment(catalog, notebook.cells)
    why = "the student it was handed in for" if student else "whose folder it is in"
    disagreements = []
    if named_student is not None and _shown(named_student) != whose:
        disagreements.append(f"its metadata names student {_shown(named_student)!r}; graded as {whose!r}, {why}")
    if named_assignment is not None and which is not None and named_assignment != which:
        given = "the assignment it was handed in for" if assignment else "the assignment of its folder"
        disagreements.append(
            f"its metadata names assignment {_shown(named_assignment)!r}; graded as {which!r}, {given}"
        )
    return Owner(whose, which, "; ".join(disagreements) or None)


def _position(notebook: Notebook, code_index: Any) -> Any:
    """A code cell's number as Jupyter shows it: its place among all cells, counted from 1."""
    if isinstance(code_index, int) and 0 <= code_index < len(notebook.positions):
        return notebook.positions[code_index] + 1
    return code_index


def _shown(student: str) -> str:
    """The student id as given, bounded, without control or format characters (terminal escapes, bidi overrides)."""
    return "".join("_" if unicodedata.category(c)[0] == "C" else c for c in student[:128]) or "unknown"


def safe_student(student: str) -> str:
    """``student`` as a valid student id (see :data:`grader.grading.STUDENT_ID`): other characters become ``_``."""
    cleaned = STUDENT_FROM_STEM.sub("_", student)[:128]
    return cleaned if cleaned and cleaned[0].isalnum() else f"s{cleaned}"[:128]


def _requests(
    catalog: Catalog, exercises: list[Exercise], student: str
) -> tuple[list[str], list[Any], list[tuple[str, str, Any]]]:
    """The variable names to read back and the function calls to make, for this student's variant."""
    from grader.sandbox import Probe

    names: list[str] = []
    probes: list[Any] = []
    calls: list[tuple[str, str, Any]] = []
    for exercise in exercises:
        if exercise.kind == "code":
            params = catalog.variant(exercise, student)
            for part_id, args in catalog.calls(exercise, params).items():
                probes.append(Probe(function=exercise.code["function"], args=args))
                calls.append((exercise.id, part_id, args))
        else:
            names.extend(variable_name(exercise.id, part.id) for part in exercise.parts)
    return names, probes, calls


def _run(sandbox: Any, catalog: Catalog, cells: list[str], names: list[str], probes: list[Any]) -> Any:
    if sandbox is None:
        from grader.sandbox.warm import warm_sandbox

        sandbox = warm_sandbox(catalog.kernel_packages)
    return sandbox.run(cells, names, probes)


MISSING_MODULE = re.compile(r"No module named '([A-Za-z_][A-Za-z0-9_.]*)'")


def _grader_import_errors(cell_errors: list[dict]) -> list[str]:
    """Modules a cell failed to import although the grader's own Python has them: the jail's fault, not the student's."""
    from grader.sandbox.selfcheck import grader_has

    missing = []
    for error in cell_errors:
        if error.get("ename") in ("ModuleNotFoundError", "ImportError"):
            found = MISSING_MODULE.search(str(error.get("evalue", "")))
            if found and grader_has(found.group(1)) and found.group(1) not in missing:
                missing.append(found.group(1))
    return missing


def _answers(exercises: list[Exercise], outcome: Any, calls: list[tuple[str, str, Any]]) -> dict[str, dict[str, Any]]:
    answers: dict[str, dict[str, Any]] = {}
    for exercise in exercises:
        if exercise.kind == "answers":
            bound = {p.id: _bound(outcome, variable_name(exercise.id, p.id)) for p in exercise.parts}
            answers[exercise.id] = {part: value for part, value in bound.items() if value is not None}
    for (exercise_id, part_id, args), probe in zip(calls, outcome.probes, strict=False):
        answers.setdefault(exercise_id, {})[part_id] = _probe_answer(exercise_id, args, probe)
    return answers


def _bound(outcome: Any, name: str) -> Any:
    """The value the notebook bound to ``name``; a value that could not cross back says why."""
    reason = getattr(outcome, "value_errors", {}).get(name)
    if reason:
        return Unanswered(f"the value bound to {name} could not be read ({reason}); bind a number, a list or a string")
    return outcome.values.get(name)


def _probe_answer(exercise_id: str, args: Any, probe: Any) -> Any:
    if isinstance(probe, dict) and "result" in probe:
        return Returned(probe["result"])
    error = probe.get("error", "no result") if isinstance(probe, dict) else "no result"
    if error.startswith("NameError"):
        return Unanswered("the notebook does not define the function this exercise asks for", missing=True)
    return Unanswered(f"calling your function on the hidden input raised {error}")


# Many notebooks ---------------------------------------------------------------------------


def notebook_files(paths: Iterable[str]) -> list[Path]:
    """Every .ipynb under the given files and folders (sorted, checkpoints skipped)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return found


def root_finder(roots: Iterable[Path]) -> Callable[[Path], Path | None]:
    """For a file, the deepest of ``roots`` (the folders named on the command line) that holds it, or None."""
    folders = sorted((Path(r) for r in roots), key=lambda r: len(r.parts), reverse=True)
    return lambda path: next((r for r in folders if path.is_relative_to(r)), None)


def grade_files(
    files: list[Path],
    catalog: Catalog,
    assignment: str | None = None,
    workers: int = 2,
    limits: Any = None,
    progress: Callable[[NotebookResult], None] | None = None,
    roots: Iterable[Path] = (),
    student: str | None = None,
) -> Iterator[NotebookResult]:
    """Grade notebooks in parallel, one limited sandbox process per notebook; results in input order.

    ``roots``: the folders the files were found in (see :func:`placed`);
    ``student``: whose notebooks they all are, when the caller knows (else see :func:`owner`).
    """
    from grader.sandbox.warm import checked_sandbox

    root_of = root_finder(roots)
    with checked_sandbox(workers, limits, catalog.kernel_packages) as sandbox:

        def one(path: Path) -> NotebookResult:
            root = root_of(path)
            try:
                data = path.read_bytes()
            except OSError as exc:
                return NotebookResult.failed(
                    str(path),
                    owner(None, path, catalog, root, student).student,
                    f"could not read the file: {exc.strerror}",
                    True,
                )
            return grade_notebook(
                data, str(path), catalog, assignment=assignment, student=student, sandbox=sandbox, root=root
            )

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for result in pool.map(one, files):
                if progress:
                    progress(result)
                yield result
