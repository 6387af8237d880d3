"""``course.yaml``, checked strictly: every field known, every value of its kind, every time in order.

The course file holds ``variants``, the ``misconceptions`` catalogue, the
``kernel: packages`` the notebooks import, the bank of free ``late_days`` and
the ``assignments`` with their rules (``opens``, ``due``, ``late``,
``max_attempts``, ``feedback``; see docs/specs.md and :mod:`grader.deadlines`).
Nothing is ignored: an unknown or misspelt field, a value of the wrong kind,
an unknown exercise or a due date before its opening is a mistake, and every
mistake of the file is named at once, each with its line and, for a name,
the nearest known one (difflib)::

    course.yaml: line 48: assignment lec4-homework: unknown field 'max_attempt' (did you mean 'max_attempts'?)

This module knows nothing of exercises beyond their ids, so that
:mod:`grader.specs.model` can use it before and after loading them.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from grader.deadlines import FEEDBACK_MODES, GRADED_FEEDBACK, GRADED_MAX_ATTEMPTS, Rules, shown_time

COURSE_FIELDS = ("variants", "misconceptions", "kernel", "late_days", "assignments")
ASSIGNMENT_FIELDS = ("title", "exercises", "opens", "due", "late", "max_attempts", "feedback")
LATE_FIELDS = ("until", "penalty_per_day")
MISCONCEPTION_FIELDS = ("credit", "feedback")
KERNEL_FIELDS = ("packages",)
VARIANTS = ("slides", "per-student")
ASSIGNMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
TIME_EXAMPLE = "2026-12-01T23:59:00+00:00"


@dataclass(frozen=True)
class Assignment:
    """A named list of exercises, with its rules (all optional: see :class:`grader.deadlines.Rules`)."""

    id: str
    title: str
    exercises: tuple[str, ...]
    rules: Rules = field(default_factory=Rules)


@dataclass(frozen=True)
class CourseSettings:
    """What course.yaml says, checked."""

    variants: str = "slides"
    misconceptions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    assignments: Mapping[str, Assignment] = field(default_factory=dict)
    late_days: int = 0


class Lines:
    """The line of each key of a YAML text (for messages), composed once and only when a mistake needs one."""

    def __init__(self, text: str | None) -> None:
        self._text = text
        self._root: Any = None
        self._composed = False

    def of(self, *path: str | int) -> int | None:
        """The line of the key (or list item) at ``path``, else of its nearest parent that exists."""
        if not self._composed:
            self._composed = True
            try:
                self._root = yaml.compose(self._text or "", Loader=yaml.SafeLoader)
            except yaml.YAMLError:
                self._root = None
        node, line = self._root, None
        for step in path:
            if isinstance(node, yaml.MappingNode):
                found = next(((k, v) for k, v in node.value if k.value == str(step)), None)
                if found is None:
                    break
                line, node = found[0].start_mark.line + 1, found[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line + 1
            else:
                break
        return line


def nearest(word: Any, known: Collection[str]) -> str:
    """`` (did you mean 'max_attempts'?)``, or the list of known names when none is close."""
    close = difflib.get_close_matches(str(word), list(known), n=2, cutoff=0.6) if isinstance(word, str) else []
    if close:
        return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
    return f" (the fields are {', '.join(known)})"


class _Problems:
    """Mistakes of one file, each with its line, said in one sentence at the end."""

    def __init__(self, name: str, lines: Lines) -> None:
        self.name, self.lines = name, lines
        self.found: list[tuple[int, str]] = []

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        line = self.lines.of(*path)
        entry = (line or 0, f"line {line}: {message}" if line is not None else message)
        if entry not in self.found:
            self.found.append(entry)

    def unknown(self, data: Mapping[Any, Any], known: tuple[str, ...], path: tuple[str | int, ...], where: str) -> None:
        for key in data:
            if key not in known:
                self.add((*path, key), f"{where}unknown field {key!r}{nearest(key, known)}")

    def sentence(self) -> str | None:
        if not self.found:
            return None
        found = [text for _, text in sorted(self.found, key=lambda entry: entry[0])]  # in the file's order
        if len(found) == 1:
            return f"{self.name}: {found[0]}"
        return f"{self.name}: {len(found)} mistakes: " + "; ".join(found)


def read_course(
    data: Mapping[str, Any], file: Path, exercises: Collection[str] | None = None, text: str | None = None
) -> tuple[CourseSettings, str | None]:
    """The checked settings of course.yaml's ``data``, and one sentence naming every mistake (None: none).

    ``exercises``: the ids the assignments may name (None: not checked yet, before the exercises are loaded).
    ``text``: the file's text, for line numbers (read from ``file`` when needed).
    """
    if text is None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    problems = _Problems(file.name, Lines(text))
    problems.unknown(data, COURSE_FIELDS, (), "")
    variants = data.get("variants", "slides")
    if variants not in VARIANTS:
        problems.add(("variants",), f"variants must be 'slides' or 'per-student', not {variants!r}")
    misconceptions = _misconceptions(data.get("misconceptions"), problems)
    late_days = data.get("late_days", 0)
    if late_days is None:
        late_days = 0
    if not _whole(late_days) or late_days < 0:
        problems.add(("late_days",), f"late_days must be a whole number of days, 0 or more, not {late_days!r}")
        late_days = 0
    kernel = data.get("kernel")
    if isinstance(kernel, dict):
        problems.unknown(kernel, KERNEL_FIELDS, ("kernel",), "kernel: ")
    assignments = _assignments(data.get("assignments"), exercises, problems)
    settings = CourseSettings(
        variants=variants if variants in VARIANTS else "slides",
        misconceptions=misconceptions,
        assignments=assignments,
        late_days=int(late_days),
    )
    return settings, problems.sentence()


def _misconceptions(data: Any, problems: _Problems) -> dict[str, Mapping[str, Any]]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.add(("misconceptions",), "misconceptions must map ids to their credit and feedback")
        return {}
    result = {}
    for name, entry in data.items():
        where = f"misconception {name}: "
        if not isinstance(entry, dict):
            problems.add(
                ("misconceptions", name), f"{where}give its credit and feedback, like {{credit: 0.5, feedback: …}}"
            )
            continue
        problems.unknown(entry, MISCONCEPTION_FIELDS, ("misconceptions", name), where)
        credit = entry.get("credit", 0)
        if not _number(credit) or not 0 <= credit < 1:
            problems.add(("misconceptions", name, "credit"), f"{where}credit must be a number at least 0 and below 1")
        if "feedback" in entry and not isinstance(entry["feedback"], str):
            problems.add(("misconceptions", name, "feedback"), f"{where}feedback must be a sentence")
        result[str(name)] = entry
    return result


def _assignments(data: Any, exercises: Collection[str] | None, problems: _Problems) -> dict[str, Assignment]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.add(("assignments",), "assignments must map names to their exercises (and rules)")
        return {}
    result: dict[str, Assignment] = {}
    ruled_by: dict[str, str] = {}
    for name, value in data.items():
        path: tuple[str | int, ...] = ("assignments", name)
        where = f"assignment {name}: "
        if not isinstance(name, str) or not ASSIGNMENT_ID.match(name):
            problems.add(path, f"assignment name {name!r} must be letters, digits, - and _ (at most 64)")
            continue
        entry = value if isinstance(value, dict) else {"exercises": value}
        problems.unknown(entry, ASSIGNMENT_FIELDS, path, where)
        listed = entry.get("exercises")
        if not isinstance(listed, list) or not listed or not all(isinstance(e, str) for e in listed):
            problems.add((*path, "exercises"), f"{where}exercises must be a list of exercise ids")
            listed = []
        elif exercises is not None:
            for exercise in listed:
                if exercise not in exercises:
                    close = difflib.get_close_matches(exercise, list(exercises), n=2)
                    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
                    problems.add((*path, "exercises"), f"{where}unknown exercise {exercise!r}{hint}")
        title = entry.get("title", name)
        if not isinstance(title, str):
            problems.add((*path, "title"), f"{where}title must be text")
            title = name
        rules = _rules(entry, path, where, problems)
        if rules.active:
            for exercise in listed:
                if exercise in ruled_by:
                    problems.add(
                        (*path, "exercises"),
                        f"{where}{exercise} is already in {ruled_by[exercise]}, which has rules too: "
                        "an exercise may be in one assignment with rules",
                    )
                ruled_by.setdefault(exercise, name)
        result[name] = Assignment(name, title, tuple(listed), rules)
    return result


def _rules(entry: Mapping[str, Any], path: tuple[str | int, ...], where: str, problems: _Problems) -> Rules:
    opens = _time(entry, "opens", path, where, problems)
    due = _time(entry, "due", path, where, problems)
    if opens is not None and due is not None and due < opens:
        problems.add((*path, "due"), f"{where}due ({shown_time(due)}) is before opens ({shown_time(opens)})")
    until, penalty = None, 0.0
    late = entry.get("late")
    if late is not None and late != "none":
        if not isinstance(late, dict):
            problems.add(
                (*path, "late"),
                f"{where}late must be 'none' or like {{until: {TIME_EXAMPLE}, penalty_per_day: 0.1}}, not {late!r}",
            )
        else:
            problems.unknown(late, LATE_FIELDS, (*path, "late"), f"{where}late: ")
            if "until" not in late:
                problems.add((*path, "late"), f"{where}late needs 'until', the last time a late hand-in is taken")
            until = _time(late, "until", (*path, "late"), f"{where}late: ", problems)
            penalty = late.get("penalty_per_day", 0.0)
            if not _number(penalty) or not 0 <= penalty <= 1:
                problems.add(
                    (*path, "late", "penalty_per_day"),
                    f"{where}late: penalty_per_day must be a fraction of the score from 0 to 1, like 0.1, not {penalty!r}",
                )
                penalty = 0.0
            if due is None:
                problems.add((*path, "late"), f"{where}late needs a due date to be late after")
            elif until is not None and until < due:
                problems.add(
                    (*path, "late", "until"),
                    f"{where}late: until ({shown_time(until)}) is before due ({shown_time(due)})",
                )
    graded = due is not None  # graded homework: its defaults protect the answers (docs/specs.md)
    max_attempts: Any = entry.get("max_attempts", GRADED_MAX_ATTEMPTS if graded else None)
    if max_attempts == "unlimited" or max_attempts is None:
        max_attempts = None
    elif not _whole(max_attempts) or max_attempts < 1:
        problems.add(
            (*path, "max_attempts"),
            f"{where}max_attempts must be a whole number, 1 or more, or 'unlimited', not {max_attempts!r}",
        )
        max_attempts = None
    feedback = entry.get("feedback", GRADED_FEEDBACK if graded else "full")
    if feedback not in FEEDBACK_MODES:
        close = difflib.get_close_matches(str(feedback), FEEDBACK_MODES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.add(
            (*path, "feedback"),
            f"{where}feedback must be one of {', '.join(FEEDBACK_MODES)}, not {feedback!r}{hint}",
        )
        feedback = "full"
    elif feedback == "none" and due is None:
        problems.add((*path, "feedback"), f"{where}feedback: none needs a due date (feedback is shown after it)")
    return Rules(
        opens=opens,
        due=due,
        late_until=until,
        penalty_per_day=float(penalty),
        max_attempts=None if max_attempts is None else int(max_attempts),
        feedback=str(feedback),
    )


def _time(
    entry: Mapping[str, Any], name: str, path: tuple[str | int, ...], where: str, problems: _Problems
) -> datetime | None:
    """A time with a zone: YAML's own timestamp, or ISO 8601 text; anything else is a mistake."""
    if name not in entry or entry[name] is None:
        return None
    value = entry[name]
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    elif isinstance(value, date):
        problems.add(
            (*path, name),
            f"{where}{name} must be a time with a zone, like {TIME_EXAMPLE}, not only the date {value.isoformat()}",
        )
        return None
    if moment is None:
        problems.add((*path, name), f"{where}{name} must be a time with a zone, like {TIME_EXAMPLE}, not {value!r}")
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        problems.add(
            (*path, name),
            f"{where}{name} needs a zone: write {moment.isoformat()}+00:00 for UTC (or the course's offset)",
        )
        return None
    return moment


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
