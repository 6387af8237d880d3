"""The tables, as SQLAlchemy 2.0 declarative models.

- ``students``: every person known to the service (students and staff), by id,
  with the bytes their submissions' payloads take (``stored_bytes``, kept by
  :mod:`grader.store.submissions` for the storage quota).
- ``tokens``: bearer tokens, stored only as SHA-256 hashes, each with a role
  (``student``, ``ta`` or ``instructor``), an optional expiry and a revocation time.
- ``submissions``: one graded (or to-be-graded) submission: answers (JSON) or a
  notebook (bytes), its status (``queued`` → ``running`` → ``done`` | ``failed``),
  the result JSON, an error reason, timestamps and the number of grading attempts.
  Ids are time-ordered (see :func:`grader.store.submissions.new_id`); only the
  unfinished rows are indexed by status.
- ``part_results``: one row per graded part, for the gradebook and analytics.
- ``handins``: one row per exercise of an assignment with rules that a submission hands in, with the
  time it counts as handed in: attempts and late days are counted from these (:mod:`grader.store.course`).
- ``extensions`` and ``extension_changes``: a student's extra days on an assignment's due date, and
  every change to them with who made it and when.
- ``previous_results``: the results a submission had before a regrade replaced them (the history).
- ``regrades``: regrade jobs (an exercise or assignment graded again with today's specs) and their reports.
- ``reviews``: what people said about one part of one submission, oldest first: a TA's score with a
  comment (an override, applied on top of the result by :func:`grader.store.reviews.apply_overrides`,
  so it outlives a regrade), or a request that a TA look at the part (a flag). The result JSON and
  ``part_results`` always hold what the grader said.

Times are naive UTC datetimes (the same on SQLite and PostgreSQL).
Changing a model needs a new Alembic revision in ``migrations/versions``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from grader.students import ROLES

KINDS = ("answers", "notebook")
STATUSES = ("queued", "running", "done", "failed")
UNFINISHED = ("queued", "running")  # the states a job still has to move on
REVIEW_ACTIONS = ("score", "flag")  # a TA's score (with a comment), or a request for one
# The predicate of the partial index ix_submissions_unfinished; a query must spell it with literal values (not
# bound parameters) for SQLite to use that index.
UNFINISHED_WHERE = text(f"status IN {UNFINISHED}")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (what every timestamp column holds)."""
    return datetime.now(UTC).replace(tzinfo=None)


def isoformat(moment: datetime | None) -> str | None:
    """A stored timestamp as ISO 8601 with a ``Z``, or None."""
    return None if moment is None else moment.isoformat(timespec="milliseconds") + "Z"


def _choice(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON}


class Student(Base):
    __tablename__ = "students"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class Token(Base):
    __tablename__ = "tokens"
    __table_args__ = (CheckConstraint(_choice("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime())

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def active(self, now: datetime | None = None) -> bool:
        """Neither revoked nor expired."""
        moment = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint(_choice("kind", KINDS), name="kind"),
        CheckConstraint(_choice("status", STATUSES), name="status"),
        Index("ix_submissions_student_created", "student_id", "created_at"),
        Index(
            "ix_submissions_unfinished",
            "status",
            sqlite_where=UNFINISHED_WHERE,
            postgresql_where=UNFINISHED_WHERE,
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    submitted_by: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    assignment: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime())


class PartResult(Base):
    __tablename__ = "part_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[str] = mapped_column(String(128))  # denormalised for the gradebook
    exercise: Mapped[str] = mapped_column(String(64), index=True)
    part: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    misconception: Mapped[str | None] = mapped_column(String(64))
    first_wrong_step: Mapped[int | None] = mapped_column(Integer)


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint(_choice("action", REVIEW_ACTIONS), name="action"),
        Index("ix_reviews_submission_part", "submission_id", "exercise", "part"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    student_id: Mapped[str] = mapped_column(String(128))  # denormalised, as in part_results
    exercise: Mapped[str] = mapped_column(String(64))
    part: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)  # the points given (``score``); None for a flag
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(128))  # who: a TA's id, or the student asking
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)


REGRADE_STATUSES = ("queued", "running", "done", "failed")


class HandIn(Base):
    """A submission handing in one exercise of an assignment with rules, at the time it counts as handed in."""

    __tablename__ = "handins"
    __table_args__ = (Index("ix_handins_student_exercise", "student_id", "exercise"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[str] = mapped_column(String(128))
    assignment: Mapped[str] = mapped_column(String(64))
    exercise: Mapped[str] = mapped_column(String(64))
    handed_in_at: Mapped[datetime] = mapped_column(DateTime())


class Extension(Base):
    """A student's extra days on an assignment (its due date and late window move by them)."""

    __tablename__ = "extensions"

    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    assignment: Mapped[str] = mapped_column(String(64), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)


class ExtensionChange(Base):
    """One change to an extension: set (``days``) or removed (``days`` None), by whom, when and how."""

    __tablename__ = "extension_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    assignment: Mapped[str] = mapped_column(String(64))
    days: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(16))  # cli, import, page


class PreviousResult(Base):
    """A result a submission had before a regrade replaced it."""

    __tablename__ = "previous_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    graded_at: Mapped[datetime | None] = mapped_column(DateTime())
    replaced_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    regrade_id: Mapped[str | None] = mapped_column(String(32))


class Regrade(Base):
    """A regrade job: every stored submission of an exercise or assignment graded again with today's specs."""

    __tablename__ = "regrades"
    __table_args__ = (CheckConstraint(_choice("status", REGRADE_STATUSES), name="status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    target: Mapped[str] = mapped_column(String(64))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime())
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
