"""Stages "run" and "check" of the intake: run a notebook in the sandbox, collect its answers, grade them.

Answers are found by variable name (``E_P``) and code exercises by calling the
student's function on the part's hidden inputs, so notebooks whose metadata
was deleted, or whose cells were moved or merged, grade the same. Everything
the student's code produced arrives as plain JSON data from the sandbox and
is checked here, in the grader's process, by the one grading function.
Reading and deciding whose a notebook is are the intake's
(:mod:`grader.notebooks.intake`), the same on every path.

A notebook that cannot be read, or that crashes or times out, still gets a
result: what it bound before the failure is graded, and ``error`` says what
happened. A failure of the grader itself (``infrastructure: …``) is never
turned into a student's zero: the result has ``graded: false``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.contract import NotebookResult, Returned, Submission, Unanswered
from grader.grading import grade_checked
from grader.notebooks.generate import variable_name
from grader.notebooks.intake import HandedIn, Place, Roster, gather, take
from grader.notebooks.read import MAX_NOTEBOOK_BYTES, Notebook, NotebookError, read_notebook
from grader.specs.model import Catalog, Exercise

__all__ = ["MAX_NOTEBOOK_BYTES", "Notebook", "NotebookError", "grade_files", "grade_notebook", "read_notebook"]

log = logging.getLogger(__name__)


def grade_notebook(
    data: bytes,
    filename: str,
    catalog: Catalog,
    assignment: str | None = None,
    student: str | None = None,
    sandbox: Any = None,
    root: Path | None = None,
) -> NotebookResult:
    """Grade one notebook file's bytes; never raises for a bad notebook (the result's ``error`` says why).

    ``root``: the folder ``filename`` was found in; whose it is follows
    :func:`grader.notebooks.intake.identify`.
    """
    handed = take(Place(Path(filename), root), catalog, assignment, student, data=data)
    return replace(grade_handed_in(handed, catalog, sandbox), file=filename)  # the name as given, not normalised


def grade_handed_in(handed: HandedIn, catalog: Catalog, sandbox: Any = None) -> NotebookResult:
    """Run a read and identified notebook in the sandbox and grade what it bound (stages "run" and "check")."""
    filename, owner = str(handed.path), handed.owner
    student, assignment = owner.student, owner.assignment
    if handed.notebook is None:
        return NotebookResult.failed(
            filename, student, handed.error or "not a notebook", graded=True, warning=owner.warning
        )
    notebook = handed.notebook
    if assignment not in catalog.assignments:
        reason = f"unknown assignment {assignment!r}" if assignment else "no answers of any assignment were found"
        return NotebookResult.failed(filename, student, reason, graded=True, warning=owner.warning)
    exercises = [catalog.exercises[e] for e in catalog.assignments[assignment].exercises]
    names, probes, calls = _requests(catalog, exercises, student)
    outcome = _run(sandbox, catalog, notebook.cells, names, probes)
    if outcome.error and outcome.error.startswith("infrastructure:"):
        return NotebookResult.failed(filename, student, outcome.error, graded=False, warning=owner.warning)
    jail_misses = _grader_import_errors(outcome.cell_errors)
    if jail_misses:
        reason = (
            f"infrastructure: the sandbox could not import {', '.join(jail_misses)}, which the grader's Python has; "
            "a TA should look at this notebook once the sandbox is fixed (it is not the student's error)"
        )
        log.error("%s: %s", filename, reason)
        return NotebookResult.failed(filename, student, reason, graded=False, warning=owner.warning)
    answers = _answers(exercises, outcome, calls)
    graded = grade_checked(Submission(student, answers, assignment), catalog)
    return NotebookResult(
        student=student,
        exercises=graded.exercises,
        file=filename,
        warning=owner.warning,
        assignment=assignment,
        error=outcome.error,
        cell_errors=[{**e, "cell": _position(notebook, e.get("cell"))} for e in outcome.cell_errors],
        answers={
            e: {p: v.value if isinstance(v, Returned) else v for p, v in parts.items() if not isinstance(v, Unanswered)}
            for e, parts in answers.items()
        },
    )


def _position(notebook: Notebook, code_index: Any) -> Any:
    """A code cell's number as Jupyter shows it: its place among all cells, counted from 1."""
    if isinstance(code_index, int) and 0 <= code_index < len(notebook.positions):
        return notebook.positions[code_index] + 1
    return code_index


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


def grade_files(
    paths: Iterable[str | Path],
    catalog: Catalog,
    assignment: str | None = None,
    workers: int = 2,
    limits: Any = None,
    progress: Callable[[NotebookResult], None] | None = None,
    student: str | None = None,
    roster: Roster | None = None,
) -> Iterator[NotebookResult]:
    """Grade the notebooks under ``paths`` in parallel, one limited sandbox process each; results in file order.

    Whose each notebook is: :func:`grader.notebooks.intake.gather` (``student``
    when the caller knows, else the layout, ``roster`` for LMS ids).
    """
    yield from grade_batch(gather(paths, catalog, assignment, student, roster), catalog, workers, limits, progress)


def grade_batch(
    batch: list[HandedIn],
    catalog: Catalog,
    workers: int = 2,
    limits: Any = None,
    progress: Callable[[NotebookResult], None] | None = None,
    started: Any = None,
) -> Iterator[NotebookResult]:
    """Grade a gathered batch in a self-checked sandbox of ``workers`` forkservers; results in the batch's order.

    ``started``: a sandbox started (``wait=False``) while the batch was read; it is checked, used and closed here.
    """
    from grader.sandbox.warm import checked_sandbox

    with checked_sandbox(workers, limits, catalog.kernel_packages, started) as sandbox:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for result in pool.map(lambda handed: grade_handed_in(handed, catalog, sandbox), batch):
                if progress:
                    progress(result)
                yield result
