"""One intake for every path a notebook takes: read → identify → validate → run → check → store.

``grader grade`` (here), ``grader grade --queue`` (stored, then graded by a
job) and an upload to the service all go through these stages, so a notebook
is read once, and whose it is is decided by one rule (:func:`identify`):

1. the student the caller names (``--student``; a student's own upload);
2. else the layout the notebook was handed in with (:func:`from_layout`,
   relative to the folder the TA named), in this order:
   * Gradescope's export: ``submission_metadata.yml`` beside the
     ``submission_<n>/`` folders names the submitter (sid, email, name);
   * Canvas's bulk download: ``lastfirst[_LATE]_<userid>_<subid>_<file>.ipynb``;
   * Moodle's: a folder ``Full Name_<id>_assignsubmission_file_/``;
   * nbgrader's ``submitted/<student>/<assignment>/``: the folder above an
     assignment's folder;
   * a folder per student at any depth: the folder that holds the notebook,
     when the batch's notebooks lie in more than one folder;
   an LMS id is mapped to the course's id by the ``--roster`` CSV
   (:class:`Roster`), else it is the id;
3. else the notebook's metadata (``metadata.grader.student``), which the
   student wrote, so it never overrules the above (a disagreement is a
   ``warning``);
4. else the file's name.
Every name becomes an id by :func:`grader.students.student_id`. In a batch,
a file reached twice (two paths to it) is graded once, and several notebooks
that come out as one student for one assignment are all graded and all
flagged (``warning``), never silently merged.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from grader.notebooks.read import Notebook, NotebookError, read_notebook
from grader.specs.model import DEFAULT_STUDENT, Catalog, Exercise
from grader.students import shown, student_id

CANVAS = re.compile(r"^(?P<name>[a-z0-9]+?)(?:_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$", re.IGNORECASE)
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assign(?:submission|feedback)_[a-z]+_?$")
GRADESCOPE_METADATA = "submission_metadata.yml"


class RosterError(ValueError):
    """The roster file cannot be used; the message says why."""


@dataclass(frozen=True)
class Roster:
    """Course ids by the other ids a student has (LMS user id, email, name): a CSV with a ``student`` column.

    Every other column's value in a row (``canvas_id``, ``moodle_id``,
    ``email``, ``sid``, ``name``, …) maps to that row's ``student``, compared
    without case or surrounding spaces.
    """

    ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, text: str) -> Roster:
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or "student" not in (rows[0].keys() if rows else ()):
            raise RosterError("the roster needs a header row with a 'student' column (the course's ids)")
        ids: dict[str, str] = {}
        for number, row in enumerate(rows, start=2):
            course_id = (row.get("student") or "").strip()
            if not course_id:
                raise RosterError(f"row {number} of the roster has no student id")
            for column, value in row.items():
                if column and value and value.strip():
                    ids[value.strip().casefold()] = course_id
        return cls(ids)

    def lookup(self, *keys: str | None) -> str | None:
        """The course id of the first key the roster knows."""
        for key in keys:
            if key and key.strip().casefold() in self.ids:
                return self.ids[key.strip().casefold()]
        return None


@dataclass(frozen=True)
class Owner:
    """Whose notebook a file is, the assignment it answers, and where its metadata claimed otherwise."""

    student: str  # a valid student id
    assignment: str | None
    warning: str | None = None  # one sentence per disagreement or doubt, joined with "; "


@dataclass(frozen=True)
class Place:
    """Where a file was found: the folders between the TA's folder and it, and what that folder holds."""

    path: Path
    root: Path | None = None
    per_student_folders: bool = False  # the batch's notebooks lie in more than one folder
    gradescope: dict[str, Any] | None = None  # submission_metadata.yml of the root, if there is one

    @property
    def folders(self) -> tuple[str, ...]:
        """The folders between the TA's folder and the file (all of its path's folders when there is no root)."""
        if self.root is not None and self.path.is_relative_to(self.root):
            return self.path.relative_to(self.root).parts[:-1]
        return self.path.parts[:-1] if self.root is None else ()

    @property
    def enclosing(self) -> tuple[str, ...]:
        """Every folder name above the file (for assignment folders named by the TA's folder itself)."""
        return self.path.parts[:-1]


@dataclass(frozen=True)
class HandedIn:
    """A notebook file of a batch: its bytes (read once), its parsed cells, and whose it is."""

    place: Place
    owner: Owner
    data: bytes | None = None
    notebook: Notebook | None = None
    error: str | None = None  # could not be read or is not a notebook: why

    @property
    def path(self) -> Path:
        return self.place.path


# Stage 1: read ---------------------------------------------------------------------------


def notebook_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every .ipynb under the given files and folders, sorted, checkpoints skipped, each file once (by its real path)."""
    found: list[Path] = []
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        candidates = (
            [p for p in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
            if path.is_dir()
            else [path]
        )
        for candidate in candidates:
            real = os.path.realpath(candidate)
            if real not in seen:
                seen.add(real)
                found.append(candidate)
    return found


def root_finder(roots: Iterable[Path]):
    """For a file, the deepest of ``roots`` (the folders named on the command line) that holds it, or None."""
    folders = sorted((Path(r) for r in roots), key=lambda r: len(r.parts), reverse=True)
    return lambda path: next((r for r in folders if path.is_relative_to(r)), None)


# Stage 2: identify -----------------------------------------------------------------------


def identify(
    notebook: Notebook | None,
    place: Place,
    catalog: Catalog,
    student: str | None = None,
    assignment: str | None = None,
    roster: Roster | None = None,
) -> Owner:
    """Whose notebook this is and which assignment it answers (the rule in the module docstring)."""
    laid_student, laid_assignment, layout = from_layout(place, catalog, roster)
    named = notebook.student if notebook is not None and notebook.student != DEFAULT_STUDENT else None
    named_assignment = notebook.assignment if notebook is not None else None
    whose = student_id(student or laid_student or named or place.path.stem)
    which = assignment or laid_assignment or named_assignment
    if which is None and notebook is not None:
        which = guess_assignment(catalog, notebook.cells)
    why = "the student it was handed in for" if student else layout
    doubts = []
    if named is not None and student_id(named) != whose and (student or laid_student):
        doubts.append(f"its metadata names student {shown(named)!r}; graded as {whose!r}, {why}")
    if named_assignment is not None and which is not None and named_assignment != which:
        given = "the assignment it was handed in for" if assignment else "the assignment of its folder"
        doubts.append(f"its metadata names assignment {shown(named_assignment)!r}; graded as {which!r}, {given}")
    return Owner(whose, which, "; ".join(doubts) or None)


def from_layout(place: Place, catalog: Catalog, roster: Roster | None = None) -> tuple[str | None, str | None, str]:
    """(student, assignment, which rule said so) from where the file lies; None where the layout says nothing."""
    roster = roster or Roster()
    folders = place.folders
    assignment = next((f for f in reversed(place.enclosing) if f in catalog.assignments), None)
    if place.gradescope is not None and folders and folders[0] in place.gradescope:
        return _gradescope_student(place.gradescope[folders[0]], roster), assignment, "whom Gradescope names"
    canvas = CANVAS.match(place.path.name)
    if canvas:
        found = roster.lookup(canvas["user"], canvas["name"]) or canvas["user"]
        return found, assignment, "whom its Canvas file name names"
    for folder in reversed(folders):
        moodle = MOODLE.match(folder)
        if moodle:
            return (
                roster.lookup(moodle["id"], moodle["name"]) or moodle["id"],
                assignment,
                "whom its Moodle folder names",
            )
    if folders and folders[-1] in catalog.assignments:
        if len(folders) >= 2:
            return roster.lookup(folders[-2]) or folders[-2], folders[-1], "whose folder it is in"
        return None, folders[-1], "the file's name"
    if folders and place.per_student_folders:
        return roster.lookup(folders[-1]) or folders[-1], assignment, "whose folder it is in"
    stem = roster.lookup(place.path.stem)
    return stem, assignment, "whom the roster names" if stem else "the file's name"


def _gradescope_student(entry: Any, roster: Roster) -> str | None:
    submitters = entry.get(":submitters") if isinstance(entry, dict) else None
    first = submitters[0] if isinstance(submitters, list) and submitters and isinstance(submitters[0], dict) else {}
    sid, email, name = (str(first.get(k) or "") or None for k in (":sid", ":email", ":name"))
    return roster.lookup(sid, email, name) or sid or (email.split("@")[0] if email else None) or name


def gradescope_metadata(root: Path | None) -> dict[str, Any] | None:
    """Gradescope's ``submission_metadata.yml`` in ``root``, or None (absent or not a mapping)."""
    if root is None or not (root / GRADESCOPE_METADATA).is_file():
        return None
    try:
        loaded = yaml.safe_load((root / GRADESCOPE_METADATA).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, dict) else None


def guess_assignment(catalog: Catalog, cells: list[str]) -> str | None:
    """The assignment whose variable and function names appear most in the code (metadata may be gone)."""
    from grader.notebooks.generate import variable_name

    def names(exercise: Exercise) -> list[str]:
        if exercise.kind == "code":
            return [f"def {exercise.code['function']}"]
        return [variable_name(exercise.id, part.id) for part in exercise.parts]

    code = "\n".join(cells)
    best, best_hits = None, 0
    for name, assignment in catalog.assignments.items():
        hits = sum(
            1 for exercise_id in assignment.exercises for word in names(catalog.exercises[exercise_id]) if word in code
        )
        if hits > best_hits:
            best, best_hits = name, hits
    return best


# A batch: stages 1–3 for many files -------------------------------------------------------


def gather(
    paths: Iterable[str | Path],
    catalog: Catalog,
    assignment: str | None = None,
    student: str | None = None,
    roster: Roster | None = None,
) -> list[HandedIn]:
    """Read, validate and identify every notebook under ``paths``; several claiming one student are flagged."""
    paths = list(paths)
    files = notebook_files(paths)
    root_of = root_finder([Path(p) for p in paths if Path(p).is_dir()])
    holders: dict[Path | None, set[tuple[str, ...]]] = defaultdict(set)
    for path in files:
        root = root_of(path)
        holders[root].add(Place(path, root).folders)
    metadata = {root: gradescope_metadata(root) for root in holders}
    batch = []
    for path in files:
        root = root_of(path)
        place = Place(path, root, per_student_folders=len(holders[root]) > 1, gradescope=metadata[root])
        batch.append(take(place, catalog, assignment, student, roster))
    return flag_shared_owners(batch)


def take(
    place: Place,
    catalog: Catalog,
    assignment: str | None = None,
    student: str | None = None,
    roster: Roster | None = None,
    data: bytes | None = None,
) -> HandedIn:
    """Stages 1–3 for one file: its bytes (``data``, else read from ``place.path``), its cells, its owner."""
    if data is None:
        try:
            data = place.path.read_bytes()
        except OSError as exc:
            owner = identify(None, place, catalog, student, assignment, roster)
            return HandedIn(place, owner, error=f"could not read the file: {exc.strerror}")
    try:
        notebook = read_notebook(data)
    except NotebookError as exc:
        return HandedIn(place, identify(None, place, catalog, student, assignment, roster), data, error=str(exc))
    return HandedIn(place, identify(notebook, place, catalog, student, assignment, roster), data, notebook)


def flag_shared_owners(batch: list[HandedIn]) -> list[HandedIn]:
    """Each notebook that comes out as the same student and assignment as another gets a warning naming them all."""
    groups: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for index, handed in enumerate(batch):
        groups[(handed.owner.student, handed.owner.assignment)].append(index)
    flagged = list(batch)
    for (whose, which), indices in groups.items():
        if len(indices) < 2:
            continue
        files = ", ".join(str(batch[i].path) for i in indices[:5]) + (" …" if len(indices) > 5 else "")
        sentence = (
            f"{len(indices)} notebooks of this batch are graded as student {whose!r}"
            + (f" for {which}" if which else "")
            + f" ({files}): check whose they are (folders, --student, --roster)"
        )
        for i in indices:
            owner = batch[i].owner
            warning = f"{owner.warning}; {sentence}" if owner.warning else sentence
            flagged[i] = replace(batch[i], owner=replace(owner, warning=warning))
    return flagged
