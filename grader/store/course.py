"""The store's side of the course's rules: extensions (and who changed them), hand-ins, attempts and late days.

* **Extensions** (table ``extensions``): a student's extra whole days on an
  assignment; its due date and late window move by them, its opening does
  not. Every change (set, removed, imported) is a row of
  ``extension_changes`` with who made it, when and how (``cli``, ``import``,
  ``page``), so accommodations can be accounted for.
* **Hand-ins** (table ``handins``): each stored submission that answers an
  exercise of an assignment with rules records it, with the time it counts
  as handed in, in the same transaction as the submission
  (:meth:`Planned.record`, called by :mod:`grader.store.submissions`). Attempts
  per exercise are counted from these rows (a submission whose grading
  failed is not an attempt), and on PostgreSQL and SQLite alike two hand-ins
  at once cannot both take the last attempt (the student's row is locked by
  the same transaction first).
* **Late days**: :func:`standing` replays a student's hand-ins through a
  :class:`~grader.deadlines.Ledger`, in the order they were made; the
  gradebook's penalties come from the same replay for everyone (:func:`late_book`).
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from grader import deadlines
from grader.deadlines import Lateness, Ledger, Window
from grader.store.db import Database
from grader.store.models import Extension, ExtensionChange, HandIn, Submission, isoformat, utcnow
from grader.store.submissions import ensure_student
from grader.students import ID_RULE, is_student_id

MAX_EXTENSION_DAYS = 365
SOURCES = ("cli", "import", "page")
MAX_REASON = 500  # characters


class ExtensionError(ValueError):
    """An extension that cannot be recorded; the message is one sentence."""


class AttemptsExhausted(Exception):
    """A hand-in past an exercise's ``max_attempts``; the message says which limit."""


# Extensions ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtensionRow:
    student: str
    assignment: str
    days: int
    reason: str | None
    set_by: str
    set_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "assignment": self.assignment,
            "days": self.days,
            "reason": self.reason,
            "set_by": self.set_by,
            "set_at": self.set_at,
        }


def check_extension(catalog: Any, student: Any, assignment: Any, days: Any, reason: Any = None) -> None:
    """Raise :class:`ExtensionError` (one sentence) unless this extension can be given."""
    if not is_student_id(student):
        raise ExtensionError(f"{str(student)[:60]!r} is not a student id: use {ID_RULE}")
    if assignment not in catalog.assignments:
        close = difflib.get_close_matches(str(assignment), list(catalog.assignments), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (the assignments are {', '.join(catalog.assignments)})"
        raise ExtensionError(f"there is no assignment {str(assignment)[:60]!r}{hint}")
    if catalog.assignments[assignment].rules.due is None:
        raise ExtensionError(f"{assignment} has no due date in course.yaml, so there is nothing to extend")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ExtensionError(f"days must be a whole number from 1 to {MAX_EXTENSION_DAYS}, not {days!r}")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise ExtensionError(f"the reason must be text of at most {MAX_REASON} characters")


def _reason(reason: str | None) -> str | None:
    text = " ".join((reason or "").split())
    return text or None


def set_extension(
    db: Database,
    catalog: Any,
    student: str,
    assignment: str,
    days: int,
    *,
    by: str,
    reason: str | None = None,
    source: str = "cli",
) -> ExtensionRow:
    """Give ``student`` ``days`` extra days on ``assignment`` (replacing any extension they had), and note the change."""
    check_extension(catalog, student, assignment, days, reason)
    _write(db, [(student, assignment, days, _reason(reason))], by, source)
    return next(e for e in list_extensions(db, student, assignment))


def import_extensions(db: Database, catalog: Any, rows: list[tuple[str, str, int, str | None]], *, by: str) -> int:
    """Set every extension of ``rows`` (from :func:`read_extensions_csv`) in one transaction: all or none."""
    for student, assignment, days, reason in rows:
        check_extension(catalog, student, assignment, days, reason)
    _write(db, [(s, a, d, _reason(r)) for s, a, d, r in rows], by, "import")
    return len(rows)


def _write(db: Database, rows: list[tuple[str, str, int, str | None]], by: str, source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    now = utcnow()
    with db.write() as session:
        for student, assignment, days, reason in rows:
            ensure_student(session, student)
            session.execute(
                delete(Extension).where(Extension.student_id == student, Extension.assignment == assignment)
            )
            session.add(
                Extension(student_id=student, assignment=assignment, days=days, reason=reason, set_by=by, set_at=now)
            )
            session.add(
                ExtensionChange(
                    student_id=student,
                    assignment=assignment,
                    days=days,
                    reason=reason,
                    changed_by=by,
                    changed_at=now,
                    source=source,
                )
            )
            session.flush()


def remove_extension(
    db: Database, student: str, assignment: str, *, by: str, source: str = "cli", reason: str | None = None
) -> bool:
    """Take ``student``'s extension on ``assignment`` away (noted); False if they had none."""
    with db.write() as session:
        gone = session.execute(
            delete(Extension).where(Extension.student_id == student, Extension.assignment == assignment)
        ).rowcount
        if gone:
            session.add(
                ExtensionChange(
                    student_id=student,
                    assignment=assignment,
                    days=None,
                    reason=_reason(reason),
                    changed_by=by,
                    changed_at=utcnow(),
                    source=source,
                )
            )
        return bool(gone)


def list_extensions(db: Database, student: str | None = None, assignment: str | None = None) -> list[ExtensionRow]:
    """The extensions in force (of one student, of one assignment), by assignment then student."""
    query = select(Extension).order_by(Extension.assignment, Extension.student_id)
    if student is not None:
        query = query.where(Extension.student_id == student)
    if assignment is not None:
        query = query.where(Extension.assignment == assignment)
    with db.read() as session:
        return [
            ExtensionRow(row.student_id, row.assignment, row.days, row.reason, row.set_by, isoformat(row.set_at))
            for row in session.scalars(query)
        ]


def extension_changes(
    db: Database, student: str | None = None, assignment: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Every change to the extensions (of one student, of one assignment), newest first."""
    query = select(ExtensionChange).order_by(ExtensionChange.changed_at.desc(), ExtensionChange.id.desc()).limit(limit)
    if student is not None:
        query = query.where(ExtensionChange.student_id == student)
    if assignment is not None:
        query = query.where(ExtensionChange.assignment == assignment)
    with db.read() as session:
        return [
            {
                "student": row.student_id,
                "assignment": row.assignment,
                "days": row.days,
                "change": "removed" if row.days is None else "set",
                "reason": row.reason,
                "by": row.changed_by,
                "at": isoformat(row.changed_at),
                "source": row.source,
            }
            for row in session.scalars(query)
        ]


def extensions_of(db: Database, student: str) -> dict[str, int]:
    """``student``'s extra days per assignment."""
    with db.read() as session:
        rows = session.execute(
            select(Extension.assignment, Extension.days).where(Extension.student_id == student)
        ).all()
    return {assignment: int(days) for assignment, days in rows}


def read_extensions_csv(text: str, catalog: Any) -> list[tuple[str, str, int, str | None]]:
    """Rows ``student,assignment,days[,reason]`` (a header line first), each checked; ExtensionError names the line."""
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip().lower() for h in reader.fieldnames or []]
    except csv.Error as exc:
        raise ExtensionError(f"the file is not CSV ({exc})") from None
    missing = [name for name in ("student", "assignment", "days") if name not in header]
    if missing:
        raise ExtensionError(
            f"the first line must name the columns student,assignment,days (and optionally reason); "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"
        )
    rows: list[tuple[str, str, int, str | None]] = []
    try:
        for number, raw in enumerate(reader, start=2):
            entry = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
            if not any(entry.values()):
                continue
            try:
                days = int(entry["days"])
            except ValueError:
                raise ExtensionError(
                    f"line {number}: days must be a whole number, not {entry['days'][:20]!r}"
                ) from None
            row = (entry["student"], entry["assignment"], days, entry.get("reason") or None)
            try:
                check_extension(catalog, *row)
            except ExtensionError as exc:
                raise ExtensionError(f"line {number}: {exc}") from None
            rows.append(row)
    except csv.Error as exc:
        raise ExtensionError(f"the file is not CSV ({exc})") from None
    if not rows:
        raise ExtensionError("the file has no extensions (only its header line)")
    return rows


# Hand-ins and attempts -------------------------------------------------------------------------------------------

_COUNTED = Submission.status != "failed"  # a submission whose grading failed is not an attempt


@dataclass(frozen=True)
class Planned:
    """What a new submission hands in: (assignment, exercise) pairs at ``at``; ``limits`` exercise → max attempts.

    :meth:`record` is given to :func:`grader.store.submissions.store_graded` and ``create_queued``, which call
    it inside their transaction once the submission's row is written.
    """

    student: str
    at: datetime
    pairs: tuple[tuple[str, str], ...]
    limits: Mapping[str, tuple[str, int]] = field(default_factory=dict)  # exercise → (assignment, max_attempts)

    def record(self, connection: Any, submission_id: str) -> None:
        """Refuse (:class:`AttemptsExhausted`, rolling the submission back) past a limit, else note the hand-ins."""
        if self.limits:
            used = _used(connection, self.student, list(self.limits), exclude=submission_id)
            for exercise, (assignment, limit) in self.limits.items():
                if used.get(exercise, 0) >= limit:
                    raise AttemptsExhausted(
                        f"you have used all {limit} attempts at {exercise} that {assignment} allows "
                        f"(max_attempts: {limit})"
                    )
        at = deadlines.naive_utc(self.at)
        connection.execute(
            insert(HandIn),
            [
                {
                    "submission_id": submission_id,
                    "student_id": self.student,
                    "assignment": assignment,
                    "exercise": exercise,
                    "handed_in_at": at,
                }
                for assignment, exercise in self.pairs
            ],
        )


def _used(connection: Any, student: str, exercises: list[str], exclude: str | None = None) -> dict[str, int]:
    query = (
        select(HandIn.exercise, func.count(func.distinct(HandIn.submission_id)))
        .join(Submission, Submission.id == HandIn.submission_id)
        .where(HandIn.student_id == student, HandIn.exercise.in_(exercises), _COUNTED)
        .group_by(HandIn.exercise)
    )
    if exclude is not None:
        query = query.where(HandIn.submission_id != exclude)
    return {exercise: int(count) for exercise, count in connection.execute(query).all()}


def attempts_used(db: Database, student: str, exercises: Iterable[str]) -> dict[str, int]:
    """How many counted hand-ins ``student`` has made of each exercise."""
    wanted = list(exercises)
    if not wanted:
        return {}
    with db.read() as session:
        return _used(session, student, wanted)


def submissions_handing_in(db: Database, ids: list[str], assignments: Iterable[str]) -> set[str]:
    """Those of ``ids`` that hand in an exercise of one of ``assignments``."""
    names = list(assignments)
    if not ids or not names:
        return set()
    with db.read() as session:
        return set(
            session.scalars(
                select(HandIn.submission_id).where(HandIn.submission_id.in_(ids), HandIn.assignment.in_(names))
            )
        )


def _handins(db: Database, student: str | None = None) -> list[tuple[str, str, str, datetime]]:
    """(student, submission, assignment, time) of every counted hand-in, in the order they were made."""
    query = (
        select(HandIn.student_id, HandIn.submission_id, HandIn.assignment, func.min(HandIn.handed_in_at))
        .join(Submission, Submission.id == HandIn.submission_id)
        .where(_COUNTED)
        .group_by(HandIn.student_id, HandIn.submission_id, HandIn.assignment)
    )
    if student is not None:
        query = query.where(HandIn.student_id == student)
    with db.read() as session:
        rows = session.execute(query).all()
    return sorted(((s, sid, a, deadlines.aware(t)) for s, sid, a, t in rows), key=lambda r: (r[3], r[1]))


@dataclass
class Standing:
    """One student's position on the course's rules: extensions, late days left, attempts used."""

    student: str
    catalog: Any
    extensions: dict[str, int]
    ledger: Ledger
    used: dict[str, int]

    def window(self, assignment: Any) -> Window:
        return deadlines.window(assignment, self.extensions.get(assignment.id, 0))

    def attempts(self, exercise: str) -> deadlines.Attempts | None:
        """Used and left of ``exercise`` (None when its assignment has no rules)."""
        assignment = self.catalog.rules_for(exercise)
        if assignment is None:
            return None
        return deadlines.attempts(assignment.rules, self.used.get(exercise, 0))


def standing(db: Database, catalog: Any, student: str) -> Standing:
    """Replay ``student``'s hand-ins through the bank of late days; count their attempts."""
    extensions = extensions_of(db, student)
    ledger = Ledger(catalog.late_days)
    for _, _, assignment, at in _handins(db, student):
        known = catalog.assignments.get(assignment)
        if known is not None and known.rules.due is not None:
            ledger.hand_in(deadlines.window(known, extensions.get(assignment, 0)), at)
    used = attempts_used(db, student, list(catalog.ruled))
    return Standing(student, catalog, extensions, ledger, used)


@dataclass
class LateBook:
    """Late hand-ins over the class: the penalty of each (submission, exercise), late days each student spent."""

    penalties: dict[tuple[str, str], float] = field(default_factory=dict)
    lateness: dict[tuple[str, str], Lateness] = field(default_factory=dict)  # (submission, assignment)
    late_days: dict[str, dict[str, int]] = field(default_factory=dict)  # student → assignment → days spent

    lost: dict[tuple[str, str], float] = field(default_factory=dict)  # (submission, exercise) → points lost

    def penalty(self, submission: str, exercise: str) -> float:
        return self.penalties.get((submission, exercise), 0.0)

    def penalised(self, attempts: list[Any]) -> list[Any]:
        """The attempts of one student and exercise (:class:`grader.store.gradebook.Attempt`) with each late
        hand-in's penalty taken from its parts' scores, before the gradebook picks the one that counts."""
        shown = []
        for attempt in attempts:
            penalty = self.penalty(attempt.submission, attempt.exercise)
            if penalty:
                parts = [replace(part, score=part.score * (1 - penalty)) for part in attempt.parts]
                lost = sum(part.score for part in attempt.parts) - sum(part.score for part in parts)
                self.lost[(attempt.submission, attempt.exercise)] = lost
                attempt = replace(attempt, parts=parts)
            shown.append(attempt)
        return shown

    def points_lost(self, submission: str | None, exercise: str) -> float:
        return self.lost.get((submission or "", exercise), 0.0)


def late_book(db: Database, catalog: Any) -> LateBook:
    """Every student's hand-ins replayed through their bank of late days, as :func:`standing` does for one."""
    book = LateBook()
    if not any(a.rules.due is not None for a in catalog.assignments.values()):
        return book
    with db.read() as session:
        extension_rows = session.execute(select(Extension.student_id, Extension.assignment, Extension.days)).all()
        exercises = session.execute(select(HandIn.submission_id, HandIn.assignment, HandIn.exercise)).all()
    extensions = {(s, a): int(d) for s, a, d in extension_rows}
    handed: dict[tuple[str, str], list[str]] = {}
    for submission, assignment, exercise in exercises:
        handed.setdefault((submission, assignment), []).append(exercise)
    ledgers: dict[str, Ledger] = {}
    for student, submission, assignment, at in _handins(db):
        known = catalog.assignments.get(assignment)
        if known is None or known.rules.due is None:
            continue
        ledger = ledgers.setdefault(student, Ledger(catalog.late_days))
        lateness = ledger.hand_in(deadlines.window(known, extensions.get((student, assignment), 0)), at)
        book.lateness[(submission, assignment)] = lateness
        for exercise in handed.get((submission, assignment), []):
            if lateness.penalty:
                book.penalties[(submission, exercise)] = lateness.penalty
    book.late_days = {student: dict(ledger.spent) for student, ledger in ledgers.items() if ledger.spent}
    return book
