"""What a notebook shows besides the variables asked for: why a variable was never set, where else an answer
may be, and which later cell set an answer again.

A TA reading a notebook sees more than the grader's variables: a cell that
prints the iterates, an answer written in Markdown, the right list under the
name ``iterates``, a cell that raised before the answer was bound, a scratch
cell that overwrote it. This module finds those, for :mod:`grader.notebooks.batch`:

* :func:`why_unset` — a part whose variable (or function) is not set because
  the cell that sets it raised, or never ran: ``not defined: cell In [5]
  raised NameError: name 'gd' is not defined``;
* :func:`shown_answers` — what the notebook shows that may answer a part
  whose variable is not set: each cell's printed output (and the value its
  last line shows), Markdown lines labelled with the part, and the
  notebook's other top-level values whose names say they are the part's
  (``iterates`` for ``gd_parabola_iterates``). The grader only reads them
  (as typed text, or as plain values from the sandbox) and hands the part to
  a TA; nothing found here is ever graded by itself;
* :func:`set_again` — a later cell that binds an answer's variable anew,
  after the cell that first set it.

Everything here is text matching on bounded data (cell sources, the bounded
outputs and values the sandbox returned); nothing is parsed as Python or run.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from grader.contract import Shown, Unanswered
from grader.notebooks.read import Notebook

MAX_SOURCE = 50_000  # characters of one cell searched
MAX_LINE = 400  # characters of a printed or Markdown line read as an answer
CELL_NAME = re.compile(r"<cell (\d+)>")
LABELLED = re.compile(r"^\s*(?P<label>[A-Za-z_][\w .()\-]{0,60}?)\s*(?::|=|\bis\b|\bare\b)\s*(?P<rest>\S.*)$")
OUTPUT_CALL = re.compile(r"^\s*(?:print|display|pprint)\s*\(")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
EXPRESSION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:\[[^\]]*\])?(?:\s*,\s*[A-Za-z_][\w.]*)*\s*$")
MARKUP = re.compile(r"\*\*|__|`|^\s*(?:[-*+>]|#+|\d+[.)])\s+")
KEYWORDS = frozenset({"print", "display", "pprint", "f", "round", "list", "np", "numpy", "str", "float", "len"})


@dataclass(frozen=True)
class Part:
    """One part as the notebook is searched for it."""

    exercise: str
    part: str
    variable: str
    unique: bool  # its part id names no other part of the assignment


# Why a variable is not set ----------------------------------------------------------------


def mentions(name: str, definition: bool = False) -> re.Pattern[str]:
    """``name`` as a whole word (not an attribute); with ``definition``, where it is defined (``def name(``)."""
    word = re.escape(name)
    if definition:
        return re.compile(rf"(?:^|\n)\s*def\s+{word}\s*\(|(?<![\w.]){word}\s*=(?!=)")
    return re.compile(rf"(?<![\w.]){word}(?!\w)")


def binds(name: str) -> re.Pattern[str]:
    """An assignment that binds ``name`` anew (``name = …``, ``name: list = …``), not ``name == …`` or ``+=``."""
    return re.compile(rf"(?<![\w.]){re.escape(name)}\s*(?::[^=\n]*)?=(?!=)")


def why_unset(name: str, notebook: Notebook, outcome: Any, definition: bool = False) -> Unanswered | None:
    """Why ``name`` is not set when a cell that mentions it raised, or never ran; None when no cell says why.

    The sentence names the cell as Jupyter numbers it and the exception's last line; when that is a
    ``NameError`` for a name an earlier cell defines and that cell raised too, it says so.
    """
    pattern = mentions(name, definition)
    cells = [i for i, source in enumerate(notebook.cells) if pattern.search(source[:MAX_SOURCE])]
    if not cells:
        return None
    errors = cell_errors_by_index(outcome)
    raised = [i for i in cells if i in errors]
    if raised:
        index = raised[-1]
        said = f"not defined: cell {notebook.label(index)} raised {error_line(errors[index], notebook)}"
        cause = _earlier_cause(errors[index], index, notebook, errors)
        return Unanswered(said + (f" ({cause})" if cause else ""), missing=True)
    cells_run = getattr(outcome, "cells_run", len(notebook.cells))
    unrun = [i for i in cells if i >= cells_run]
    if unrun:
        stopped = getattr(outcome, "error", None) or "the notebook stopped"
        return Unanswered(f"not defined: cell {notebook.label(unrun[0])} never ran ({stopped})", missing=True)
    return None


NAME_ERROR = re.compile(r"name '([A-Za-z_]\w*)' is not defined")


def _earlier_cause(error: dict, index: int, notebook: Notebook, errors: dict[int, dict]) -> str:
    """For ``NameError: name 'gd' is not defined``: the earlier cell that defines ``gd`` and raised itself."""
    found = NAME_ERROR.search(str(error.get("evalue", ""))) if error.get("ename") == "NameError" else None
    if not found:
        return ""
    pattern = mentions(found.group(1), definition=True)
    for earlier in sorted((i for i in errors if i < index), reverse=True):
        if pattern.search(notebook.cells[earlier][:MAX_SOURCE]):
            return f"cell {notebook.label(earlier)}, which defines {found.group(1)}, raised {error_line(errors[earlier], notebook)}"
    return ""


def cell_errors_by_index(outcome: Any) -> dict[int, dict]:
    """The first error of each cell that raised, by code cell index."""
    found: dict[int, dict] = {}
    for error in getattr(outcome, "cell_errors", []) or []:
        if isinstance(error.get("cell"), int):
            found.setdefault(error["cell"], error)
    return found


def error_line(error: dict, notebook: Notebook) -> str:
    """``NameError: name 'np' is not defined``: the exception's name and the last line of its message, with
    the grader's own cell names (``<cell 4>``) as Jupyter numbers the cells."""
    message = str(error.get("evalue", "")).strip()
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    last = CELL_NAME.sub(lambda m: notebook.label(int(m.group(1))), last)
    last = last if len(last) <= 200 else last[:199] + "…"
    return f"{error.get('ename', 'Error')}: {last}" if last else str(error.get("ename", "Error"))


# Answers shown but not bound ---------------------------------------------------------------


def parts_of(assignment_parts: Iterable[tuple[str, str, str]]) -> list[Part]:
    """:class:`Part` for each (exercise, part, variable) of an assignment."""
    listed = list(assignment_parts)
    counts: dict[str, int] = {}
    for _, part, _ in listed:
        counts[_norm(part)] = counts.get(_norm(part), 0) + 1
    return [Part(e, p, v, counts[_norm(p)] == 1) for e, p, v in listed]


def shown_answers(part: Part, notebook: Notebook, outcome: Any, others: Sequence[str]) -> list[Shown]:
    """What the notebook shows that may answer ``part`` (its variable not set), the likeliest first.

    Printed output comes first (where a TA looks), then Markdown, then values under other names; within
    each, names that spell the variable come before those that only name the part. ``others``: the other
    parts' variables, which are never taken for this one.
    """
    strong: list[Shown] = []
    weak: list[Shown] = []
    seen: set[tuple[str, str]] = set()

    def add(found: Shown, strength: int) -> None:
        key = (found.where, repr(found.value)[:200])
        if strength and key not in seen:
            seen.add(key)
            (strong if strength == 2 else weak).append(found)

    def related(name: str) -> int:
        return 0 if name in others else relation(name, part)

    for index, text in sorted((getattr(outcome, "outputs", {}) or {}).items()):
        if not isinstance(index, int) or not 0 <= index < len(notebook.cells) or not isinstance(text, str):
            continue
        where = f"cell {notebook.label(index)} prints"
        for line in text.splitlines():
            labelled = LABELLED.match(line[:MAX_LINE])
            if labelled:
                add(Shown(labelled["rest"].strip(), where, "printed"), related(labelled["label"].strip()))
        statements = _output_statements(notebook.cells[index][:MAX_SOURCE])
        if len(statements) == 1 and text.strip() and len(text) <= 4 * MAX_LINE:
            names = [n for n in IDENTIFIER.findall(statements[0]) if n not in KEYWORDS]
            add(Shown(text.strip(), where, "printed"), max((related(n) for n in names), default=0))
    for position, source in notebook.markdown:
        for line in source.splitlines():
            labelled = LABELLED.match(MARKUP.sub("", line[:MAX_LINE]))
            if labelled:
                where = f"a Markdown cell (cell {position + 1} of the notebook) says"
                add(Shown(labelled["rest"].strip(), where, "markdown"), related(labelled["label"].strip()))
    for name, value in (getattr(outcome, "extras", {}) or {}).items():
        add(Shown(value, f"the notebook's variable `{name}` holds", "other-name", bound=True), related(name))
    return strong + weak


def _output_statements(source: str) -> list[str]:
    """The lines of a cell that show something: ``print(…)``/``display(…)`` calls, and a last line that is an
    expression Jupyter shows (``iterates``, ``xs[-1]``)."""
    lines = source.splitlines()
    shown = [line for line in lines if OUTPUT_CALL.match(line)]
    last = next((line for line in reversed(lines) if line.strip() and not line.lstrip().startswith("#")), "")
    if last and not last[:1].isspace() and EXPRESSION_LINE.match(last.strip()) and not OUTPUT_CALL.match(last):
        shown.append(last)
    return shown


def relation(name: str, part: Part) -> int:
    """How plainly ``name`` says it is ``part``'s answer: 2 when it spells the variable (``gdParabolaIterates``,
    ``gd_parabola_iterate``), 1 when it names the part (``iterates``, ``my_iterates``; a part id that several
    parts share needs the exercise's name too), else 0."""
    name_norm, variable = _norm(name), _norm(part.variable)
    if not name_norm:
        return 0
    if name_norm == variable:
        return 2
    if len(name_norm) >= 6 and difflib.SequenceMatcher(None, name_norm, variable).ratio() >= 0.85:
        return 2
    words = _words(name)
    part_id = _norm(part.part)
    if not part_id or not (part_id in words or (len(part_id) >= 5 and part_id in name_norm)):
        return 0
    if part.unique and len(part_id) >= 4:
        return 1
    exercise_words = [w for w in part.exercise.split("-") if len(w) >= 3]
    return 1 if any(w in name_norm for w in exercise_words) else 0


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w}


# Set again by a later cell --------------------------------------------------------------------


@dataclass(frozen=True)
class SetAgain:
    """An answer's variable set in ``first`` (to ``earlier``) and bound anew by the later cell ``last``."""

    first: int
    last: int
    earlier: Any  # the value after ``first`` (or TOO_LARGE)


def set_again(name: str, notebook: Notebook, outcome: Any) -> SetAgain | None:
    """The later cell that binds ``name`` again to another value, after the cell that first set it; None when
    its value was set once, or only changed in place (``xs.append``) or by the cell that set it."""
    changes = [
        (cell, value) for cell, value in (getattr(outcome, "history", {}) or {}).get(name, []) if value is not None
    ]
    if len(changes) < 2:
        return None
    (first, earlier), (last, _) = changes[0], changes[-1]
    if last <= first or not 0 <= last < len(notebook.cells):
        return None
    if not binds(name).search(notebook.cells[last][:MAX_SOURCE]):
        return None
    return SetAgain(first, last, earlier)
