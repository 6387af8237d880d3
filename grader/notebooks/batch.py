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

from grader import budget
from grader.answers.parts import check_part
from grader.contract import Bound, Found, NotebookResult, Returned, Submission, Unanswered, shown_number
from grader.grading import grade_checked
from grader.notebooks import evidence
from grader.notebooks.generate import is_setup_cell, variable_name
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
    answers = _answers(exercises, outcome, calls, notebook)
    graded = grade_checked(Submission(student, answers, assignment), catalog)
    return NotebookResult(
        student=student,
        exercises=_with_later_cells_noted(graded.exercises, exercises, catalog, student, notebook, outcome),
        file=filename,
        warning=owner.warning,
        assignment=assignment,
        error=outcome.error,
        cell_errors=[_cell_error(notebook, e) for e in outcome.cell_errors],
        answers={
            e: {p: v.value for p, v in parts.items() if isinstance(v, Returned | Bound)} for e, parts in answers.items()
        },
    )


def _cell_error(notebook: Notebook, error: dict) -> dict:
    """A cell that raised, for the result: its place among all cells (``cell``), its number as Jupyter shows it
    when run from the top (``label``: ``In [5]``), the exception's name and message."""
    index = error.get("cell")
    return {
        **error,
        "cell": _position(notebook, index),
        "label": notebook.label(index),
        "line": evidence.error_line(error, notebook),
    }


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
    if cells and is_setup_cell(cells[0], catalog):
        sandbox.learn(cells[:1])  # the grader's own code: compiled once per forkserver instead of per notebook
    return sandbox.run(cells, names, probes, extras=True)


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


def _answers(
    exercises: list[Exercise], outcome: Any, calls: list[tuple[str, str, Any]], notebook: Notebook
) -> dict[str, dict[str, Any]]:
    """Each part's answer: the value bound to its variable (:class:`Bound`), what a function returned
    (:class:`Returned`), why there is none (:class:`Unanswered`), or what the notebook shows instead
    (:class:`Found`, for a TA)."""
    answers: dict[str, dict[str, Any]] = {}
    listed = [(e.id, p.id, variable_name(e.id, p.id)) for e in exercises if e.kind == "answers" for p in e.parts]
    variables = [variable for _, _, variable in listed]
    for part in evidence.parts_of(listed):
        value = _bound(outcome, part.variable)
        if value is None:
            value = _unset(part, notebook, outcome, variables)
        if value is not None:
            answers.setdefault(part.exercise, {})[part.part] = value
    functions = {e.id: e.code["function"] for e in exercises if e.kind == "code"}
    for (exercise_id, part_id, _args), probe in zip(calls, outcome.probes, strict=False):
        answers.setdefault(exercise_id, {})[part_id] = _probe_answer(functions[exercise_id], probe, notebook, outcome)
    return answers


def _bound(outcome: Any, name: str) -> Any:
    """The value the notebook bound to ``name`` (None when it is unset or None); a value that could not cross
    back says why."""
    reason = getattr(outcome, "value_errors", {}).get(name)
    if reason:
        return Unanswered(f"the value bound to {name} could not be read ({reason}); bind a number, a list or a string")
    value = outcome.values.get(name)
    return None if value is None else Bound(value)


def _unset(part: evidence.Part, notebook: Notebook, outcome: Any, variables: list[str]) -> Any:
    """A part whose variable is not set: what the notebook shows instead, for a TA (:class:`Found`), why it is
    not set (a cell raised or never ran), or None (no answer). A failure here is the grader's: logged, and the
    part is then simply unanswered."""
    try:
        reason = evidence.why_unset(part.variable, notebook, outcome)
        others = [v for v in variables if v != part.variable]
        shown = evidence.shown_answers(part, notebook, outcome, others)
    except Exception:  # noqa: BLE001 - looking around is a help to the TA; it never costs a notebook its grade
        log.exception("looking for an unbound answer to %s failed", part.variable)
        return None
    if shown:
        return Found(part.variable, tuple(shown), reason)
    return reason


def _probe_answer(function: str, probe: Any, notebook: Notebook, outcome: Any) -> Any:
    if isinstance(probe, dict) and "result" in probe:
        return Returned(probe["result"])
    error = probe.get("error", "no result") if isinstance(probe, dict) else "no result"
    if error.startswith(f"NameError: function {function!r} is not defined"):  # not a NameError inside it
        why = evidence.why_unset(function, notebook, outcome, definition=True)
        return why or Unanswered("the notebook does not define the function this exercise asks for", missing=True)
    return Unanswered(f"calling your function on the hidden input raised {error}")


def _with_later_cells_noted(
    results: list[Any], exercises: list[Exercise], catalog: Catalog, student: str, notebook: Notebook, outcome: Any
) -> list[Any]:
    """Each graded answer whose variable a later cell bound anew (a scratch cell after the answer cell) says
    so, and what the value set first would have earned when that differs."""
    by_id = {e.id: e for e in exercises}
    for result in results:
        exercise = by_id.get(result.id)
        if exercise is None or exercise.kind != "answers":
            continue
        for index, part in enumerate(result.parts):
            variable = variable_name(exercise.id, part.id)
            try:
                again = evidence.set_again(variable, notebook, outcome)
                if again is not None:
                    result.parts[index] = _noted(part, again, variable, catalog, exercise, student, notebook)
            except Exception:  # noqa: BLE001 - a note for the TA; never a reason to lose the grade
                log.exception("noting a later binding of %s failed", variable)
    return results


def _noted(
    part: Any,
    again: evidence.SetAgain,
    variable: str,
    catalog: Catalog,
    exercise: Exercise,
    student: str,
    notebook: Notebook,
) -> Any:
    first, last = notebook.label(again.first), notebook.label(again.last)
    note = (
        f"`{variable}` was set in cell {first} and set again, to another value, by the later cell {last}: "
        f"the value from {last} was graded."
    )
    rebound: dict[str, Any] = {"first": first, "last": last}
    earlier = _would_earn(again.earlier, part.id, catalog, exercise, student)
    if earlier is not None:
        rebound["earlier"] = {"score": earlier.score, "status": earlier.status}
        if earlier.score > part.score:
            note += (
                f" The value it had after {first} would be {earlier.status} "
                f"({shown_number(earlier.score)}/{shown_number(part.max_score)}): if {last} was scratch work, "
                "ask a TA to look."
            )
    return replace(part, feedback=f"{part.feedback} {note}", details={**part.details, "set_again": rebound})


def _would_earn(value: Any, part_id: str, catalog: Catalog, exercise: Exercise, student: str) -> Any:
    """The result ``value`` would get as the part's answer, or None (not kept, or too costly to check)."""
    from grader.sandbox.channel import TOO_LARGE

    if value is TOO_LARGE or value == TOO_LARGE:
        return None
    key = next(k for k in catalog.keys(exercise, catalog.variant(exercise, student)) if k.part == part_id)
    try:
        with budget.limited(budget.PART_SECONDS, "this answer", budget.SYMBOLIC_PART_SECONDS):
            result, _ = check_part(key, value, bound=True)
    except budget.BudgetExceeded:
        return None
    return result


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
