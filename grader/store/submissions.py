"""Submissions: store them, move them through their states, read them back.

States: ``queued`` → ``running`` → ``done`` | ``failed``. An answers
submission graded at once is stored ``done`` in one transaction with its
part rows (:func:`store_graded`). A background one is stored ``queued``
(:func:`create_queued`), claimed by a job (:func:`claim`, which counts the
attempt), and finished exactly once (:func:`finish`: a conditional update, so a
job delivered twice writes its result and part rows only the first time).

Storage quota: each student's ``stored_bytes`` grows by the payload's size in
the transaction that stores it (and shrinks when :func:`discard` removes it).
With a ``quota``, a submission that would take a student past it is not
stored: :class:`QuotaExceeded` is raised and nothing is written.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session, defer

from grader.contract import Result, StoredSubmission, rounded_score
from grader.store.db import Database, RawStatement
from grader.store.models import UNFINISHED, UNFINISHED_WHERE, PartResult, Student, Submission, isoformat, utcnow


@dataclass(frozen=True)
class Claimed:
    """What a job needs to grade one submission (a snapshot taken when it was claimed)."""

    id: str
    student: str
    kind: str
    payload: bytes
    filename: str | None
    assignment: str | None
    attempts: int
    submitted_by: str | None = None  # the user whose token sent it (staff may send for a student), None in open mode


class QuotaExceeded(Exception):
    """Storing a submission would take its student past the storage quota; the message says by how much."""

    def __init__(self, student: str, used: int, size: int, quota: int) -> None:
        self.student, self.used, self.size, self.quota = student, used, size, quota
        super().__init__(
            f"{student}'s stored submissions take {_megabytes(used)} of the quota of {_megabytes(quota)}; "
            f"this one ({_megabytes(size)}) does not fit"
        )


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 / 10 else f"{size / 1024:.0f} KB"


class TooManyWaiting(Exception):
    """The student already has as many submissions waiting to be graded as one may have; the message says so."""

    def __init__(self, student: str, waiting: int, limit: int) -> None:
        self.student, self.waiting, self.limit = student, waiting, limit
        super().__init__(f"{student} already has {waiting} submissions waiting to be graded (at most {limit} at once)")


def _charge(connection: Connection | Session, student: str, size: int, quota: int | None) -> None:
    """Count ``size`` more bytes against ``student`` (whose row exists); QuotaExceeded if that passes ``quota``."""
    if quota is None:
        connection.execute(_GROW, {"student": student, "size": size})
        return
    if connection.execute(_GROW_WITHIN, {"student": student, "size": size, "quota": quota}).rowcount == 0:
        used = connection.execute(_STORED, {"student": student}).scalar() or 0
        raise QuotaExceeded(student, int(used), size, quota)


# Built once: constructing a statement costs more than running it.
_STUDENTS = Student.__table__
_GROW = (
    update(_STUDENTS)
    .where(_STUDENTS.c.id == bindparam("student"))
    .values(stored_bytes=_STUDENTS.c.stored_bytes + bindparam("size"))
)
_GROW_WITHIN = _GROW.where(_STUDENTS.c.stored_bytes + bindparam("size") <= bindparam("quota"))
_STORED = select(_STUDENTS.c.stored_bytes).where(_STUDENTS.c.id == bindparam("student"))
_WAITING = (
    select(func.count()).select_from(Submission).where(Submission.student_id == bindparam("student"), UNFINISHED_WHERE)
)
_INSERT_SUBMISSION = insert(Submission.__table__)
_INSERT_PARTS = insert(PartResult.__table__)


def new_id() -> str:
    """A fresh submission id: 32 hex digits, the first 12 the time in milliseconds, the other 20 random.

    80 random bits keep it unguessable; the time prefix makes new rows land at
    the end of the primary-key index instead of on a random page (as UUIDv7 does).
    """
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def ensure_student(session: Session, student: str, name: str | None = None) -> None:
    """Insert the student row if it is not there yet (an upsert that does nothing on conflict)."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - other databases: check, then insert
        if session.get(Student, student) is None:
            session.add(Student(id=student, name=name, created_at=utcnow()))
            session.flush()
        return
    session.execute(_insert_student(dialect, student, name))


def _insert_student(dialect: str, student: str, name: str | None = None) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` of a student row, for SQLite or PostgreSQL."""
    return _upsert_student(dialect).values(id=student, name=name, created_at=utcnow())


def _upsert_student(dialect: str) -> Any:
    """``INSERT INTO students … ON CONFLICT DO NOTHING``, its values to be given, for SQLite or PostgreSQL."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    return dialect_insert(Student.__table__).on_conflict_do_nothing()


def part_rows(submission_id: str, student: str, result: Result) -> list[dict[str, Any]]:
    """The result flattened into one ``part_results`` row per part (scores as the JSON rounds them)."""
    rows = []
    for exercise, part in result.parts():
        step = part.details.get("first_wrong_step")
        rows.append(
            {
                "submission_id": submission_id,
                "student_id": student,
                "exercise": exercise.id,
                "part": part.id,
                "score": float(rounded_score(part.score)),
                "max_score": float(rounded_score(part.max_score)),
                "status": part.status,
                "misconception": part.misconception,
                "first_wrong_step": step if isinstance(step, int) else None,
            }
        )
    return rows


def store_graded(
    db: Database,
    student: str,
    result: Result,
    payload: bytes,
    *,
    handin: Callable[[Any, str], None] | None = None,
    submitted_by: str | None = None,
    assignment: str | None = None,
    quota: int | None = None,
    document: dict[str, Any] | None = None,
) -> str:
    """Store an answers submission already graded, with its part rows, in one transaction.

    ``quota``: the most bytes of payloads the student may have stored (see :class:`QuotaExceeded`).
    ``handin(connection, submission_id)``: called in the transaction once the rows are written, to record
    what the submission hands in (:meth:`grader.store.course.Planned.record`); what it raises rolls back.
    ``document``: ``result.to_json()``, when the caller has made it already (it is what is stored).

    Without ``handin``, the rows go through the driver's own cursor (:meth:`Database.raw_write`: one round
    trip to PostgreSQL), else through SQLAlchemy's Core statements.
    """
    submission_id = new_id()
    now = utcnow()
    document = result.to_json() if document is None else document
    row = {
        "id": submission_id,
        "student_id": student,
        "submitted_by": submitted_by,
        "kind": "answers",
        "status": "done",
        "assignment": assignment,
        "filename": None,
        "payload": payload,
        "result": document,
        "score": document["score"],
        "max_score": document["max_score"],
        "error": None,
        "attempts": 1,
        "created_at": now,
        "started_at": now,
        "finished_at": now,
    }
    rows = part_rows(submission_id, student, result)
    if handin is None and db.raw_writes:
        _store_raw(db, row, rows, len(payload), quota)
    else:
        with db.transaction() as connection:
            if student not in db.known_students:
                connection.execute(_insert_student(connection.dialect.name, student))
            _charge(connection, student, len(payload), quota)
            connection.execute(_INSERT_SUBMISSION, row)
            if rows:
                connection.execute(_INSERT_PARTS, rows)
            if handin is not None:
                handin(connection, submission_id)
    db.known_students.add(student)
    return submission_id


@dataclass(frozen=True)
class _RawStatements:
    """:func:`store_graded`'s statements, compiled once per database."""

    student: RawStatement
    grow: RawStatement
    grow_within: RawStatement
    stored: RawStatement
    submission: RawStatement
    parts: RawStatement

    @classmethod
    def of(cls, db: Database) -> _RawStatements:
        found = db.compiled.get(cls)
        if found is None:
            student = _upsert_student(db.engine.dialect.name)
            found = db.compiled[cls] = cls(
                student=db.raw_statement(student, ["id", "name", "created_at", "stored_bytes"]),
                grow=db.raw_statement(_GROW),
                grow_within=db.raw_statement(_GROW_WITHIN),
                stored=db.raw_statement(_STORED),
                submission=db.raw_statement(_INSERT_SUBMISSION, [c.key for c in Submission.__table__.c]),
                parts=db.raw_statement(_INSERT_PARTS, [c.key for c in PartResult.__table__.c if c.key != "id"]),
            )
        return found


def _store_raw(db: Database, row: dict[str, Any], rows: list[dict[str, Any]], size: int, quota: int | None) -> None:
    """:func:`store_graded`'s transaction on the driver's cursor: the student's row if new, the bytes counted,
    the submission and its parts, sent together; over the quota, all of it rolled back."""
    statements = _RawStatements.of(db)
    student = row["student_id"]
    with db.raw_write() as write:
        with write.batch():
            if student not in db.known_students:
                values = {"id": student, "name": None, "created_at": row["created_at"], "stored_bytes": 0}
                write.execute(statements.student, values)
            if quota is None:
                grown = write.execute(statements.grow, {"student": student, "size": size})
            else:
                grown = write.execute(statements.grow_within, {"student": student, "size": size, "quota": quota})
            write.execute(statements.submission, row)
            write.executemany(statements.parts, rows)
        if quota is not None and grown.rowcount == 0:
            used = write.execute(statements.stored, {"student": student}).fetchone()
            raise QuotaExceeded(student, int(used[0] if used else 0), size, quota)


def create_queued(
    db: Database,
    student: str,
    kind: str,
    payload: bytes,
    *,
    handin: Callable[[Any, str], None] | None = None,
    filename: str | None = None,
    assignment: str | None = None,
    submitted_by: str | None = None,
    quota: int | None = None,
    max_waiting: int | None = None,
) -> str:
    """Store a submission to be graded in the background; returns its id.

    ``quota``: the most bytes of payloads the student may have stored (see :class:`QuotaExceeded`);
    ``max_waiting``: the most submissions of the student that may wait (queued or running) at once, so
    one student's pile cannot hold up everyone else's (see :class:`TooManyWaiting`). The count is taken
    after the student's row is updated, which locks it: two uploads at once cannot both slip under it.
    """
    submission_id = new_id()
    with db.write() as session:
        ensure_student(session, student)
        _charge(session, student, len(payload), quota)
        if max_waiting is not None:
            waiting = session.execute(_WAITING, {"student": student}).scalar() or 0
            if waiting >= max_waiting:
                raise TooManyWaiting(student, waiting, max_waiting)
        session.add(
            Submission(
                id=submission_id,
                student_id=student,
                submitted_by=submitted_by,
                kind=kind,
                status="queued",
                assignment=assignment,
                filename=filename,
                payload=payload,
                attempts=0,
                created_at=utcnow(),
            )
        )
        if handin is not None:  # as in store_graded: recorded with the row, or neither
            session.flush()
            handin(session, submission_id)
    return submission_id


def claim(db: Database, submission_id: str, max_attempts: int) -> Claimed | None:
    """Start one grading attempt: ``running``, attempts + 1. None if there is nothing to do.

    Nothing to do: the submission is unknown, already ``done`` or ``failed``, or
    this attempt would exceed ``max_attempts`` (it is then marked ``failed`` with
    the reason: earlier attempts never finished, e.g. the worker was killed).
    """
    with db.write() as session:
        row = session.get(Submission, submission_id)
        if row is None or row.status in ("done", "failed"):
            return None
        if row.attempts >= max_attempts:
            row.status = "failed"
            row.error = (
                f"grading was started {row.attempts} times and never finished "
                "(the grading worker stopped each time); giving up"
            )
            row.finished_at = utcnow()
            return None
        row.attempts += 1
        row.status = "running"
        row.started_at = utcnow()
        return Claimed(
            id=row.id,
            student=row.student_id,
            kind=row.kind,
            payload=row.payload,
            filename=row.filename,
            assignment=row.assignment,
            attempts=row.attempts,
            submitted_by=row.submitted_by,
        )


def finish(db: Database, submission_id: str, result: Result, error: str | None = None) -> bool:
    """Store the result and mark the submission ``done``, once: False if it already was."""
    with db.write() as session:
        done = session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status.in_(UNFINISHED))
            .values(
                status="done",
                result=result.to_json(),
                score=result.score,
                max_score=result.max_score,
                error=error,
                finished_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            return False
        student = session.scalar(select(Submission.student_id).where(Submission.id == submission_id))
        rows = part_rows(submission_id, student or "", result)
        if rows:
            session.execute(insert(PartResult), rows)
        return True


def fail(db: Database, submission_id: str, reason: str) -> bool:
    """Mark the submission ``failed`` with a reason, unless it is already finished."""
    with db.write() as session:
        changed = session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status.in_(UNFINISHED))
            .values(status="failed", error=reason, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return changed.rowcount == 1


def discard(db: Database, submission_id: str) -> bool:
    """Delete a submission that was stored ``queued`` but never handed to a job (the queue was down)."""
    with db.write() as session:
        deleted = session.execute(
            delete(Submission)
            .where(Submission.id == submission_id, Submission.status == "queued", Submission.attempts == 0)
            .returning(Submission.student_id, func.length(Submission.payload))
            .execution_options(synchronize_session=False)
        ).first()
        if deleted is not None:
            _charge(session, deleted[0], -int(deleted[1] or 0), None)
        return deleted is not None


def requeue(db: Database, submission_id: str, reason: str) -> None:
    """Put a running submission back in the queue after an infrastructure error (noted in ``error``)."""
    with db.write() as session:
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status == "running")
            .values(status="queued", error=reason)
            .execution_options(synchronize_session=False)
        )


def view(row: Submission, *, with_result: bool = True) -> StoredSubmission:
    """A submission as the API shows it (never the payload)."""
    return StoredSubmission(
        id=row.id,
        student=row.student_id,
        kind=row.kind,
        status=row.status,
        assignment=row.assignment,
        filename=row.filename,
        score=row.score,
        max_score=row.max_score,
        attempts=row.attempts,
        error=row.error,
        created_at=isoformat(row.created_at),
        started_at=isoformat(row.started_at),
        finished_at=isoformat(row.finished_at),
        result=row.result if with_result else None,
        with_result=with_result,
    )


def get(db: Database, submission_id: str, *, reviewed: bool = True) -> StoredSubmission | None:
    """One submission with its result, or None; TAs' reviews are applied on top of the result and score
    (:mod:`grader.store.reviews`) unless ``reviewed`` is False (what the grader said)."""
    with db.read() as session:
        row = session.get(Submission, submission_id)
        found = None if row is None else view(row)
    if found is None or not reviewed:
        return found
    from grader.store.reviews import reviewed as with_reviews

    return with_reviews(db, found)


def finished(db: Database, ids: list[str], chunk: int = 500) -> list[StoredSubmission]:
    """Those of ``ids`` that are ``done`` or ``failed``, with their results (payloads are not read)."""
    found: list[StoredSubmission] = []
    with db.read() as session:
        for start in range(0, len(ids), chunk):
            rows = session.scalars(
                select(Submission)
                .options(defer(Submission.payload))
                .where(Submission.id.in_(ids[start : start + chunk]), Submission.status.in_(("done", "failed")))
            )
            found.extend(view(row) for row in rows)
    return found


def history(db: Database, student: str, limit: int = 100) -> list[StoredSubmission]:
    """A student's submissions, newest first, without their results (scores as TAs' reviews leave them)."""
    with db.read() as session:
        rows = session.scalars(
            select(Submission)
            .where(Submission.student_id == student)
            .order_by(Submission.created_at.desc(), Submission.id)
            .limit(limit)
        )
        found = [view(row, with_result=False) for row in rows]
    from grader.store.reviews import reviewed_scores

    return reviewed_scores(db, found)


def exercises_of(db: Database, ids: list[str], chunk: int = 500) -> dict[str, list[str]]:
    """The exercises each of ``ids`` has part results for, in the order they were stored (for titles)."""
    found: dict[str, list[str]] = {}
    with db.read() as session:
        for start in range(0, len(ids), chunk):
            rows = session.execute(
                select(PartResult.submission_id, PartResult.exercise)
                .where(PartResult.submission_id.in_(ids[start : start + chunk]))
                .order_by(PartResult.id)
            )
            for submission_id, exercise in rows:
                listed = found.setdefault(submission_id, [])
                if exercise not in listed:
                    listed.append(exercise)
    return found


def payload(db: Database, submission_id: str) -> bytes | None:
    """What was handed in (answers JSON or notebook bytes), or None; for the student's own pages, never the API."""
    with db.read() as session:
        return session.scalar(select(Submission.payload).where(Submission.id == submission_id))


def count(db: Database, statuses: Iterable[str] | None = None) -> int:
    """How many submissions there are (in the given states)."""
    query = select(func.count()).select_from(Submission)
    if statuses is not None:
        query = query.where(Submission.status.in_(tuple(statuses)))
    with db.read() as session:
        return int(session.scalar(query) or 0)


def pending(db: Database) -> list[tuple[str, str]]:
    """(id, student) of the submissions still queued or running (oldest first), e.g. to re-queue after a restart."""
    query = select(Submission.id, Submission.student_id).where(UNFINISHED_WHERE).order_by(Submission.created_at)
    with db.read() as session:
        return [(row[0], row[1]) for row in session.execute(query)]
