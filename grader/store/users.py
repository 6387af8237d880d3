"""People, roles and bearer tokens.

A token is shown once, when it is made (``gr_`` + 43 random URL-safe
characters); the store keeps only its SHA-256 hash, its role (``student``,
``ta`` or ``instructor``), an optional expiry and a revocation time.
:func:`authenticate` turns a presented token into a :class:`Principal`.

Every function takes an optional ``db``; without one it opens the database of
``DATABASE_URL`` (or the default SQLite file) and brings its schema up to date.
"""

from __future__ import annotations

import csv
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from grader.store.db import Database
from grader.store.models import Student, Token, isoformat, utcnow
from grader.store.submissions import ensure_student
from grader.students import ID_RULE, ROLES, STAFF_ROLES, is_student_id

TOKEN_PREFIX = "gr_"
ID_COLUMNS = ("student", "id", "username", "login", "user")


class UserError(ValueError):
    """A bad user name, role or roster; the message is one sentence."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: a student id and the role of the token they presented."""

    student: str
    role: str
    token_hash: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256, hex): tokens are random, so no salt is needed."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _database(db: Database | None) -> Database:
    if db is not None:
        return db
    database = Database()
    database.migrate()
    return database


def _check(student: str, role: str) -> None:
    if not is_student_id(student):
        raise UserError(f"{student!r} is not a valid id: use {ID_RULE}")
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")


def add_user(
    name: str,
    role: str = "student",
    *,
    display_name: str | None = None,
    expires_in_days: float | None = None,
    db: Database | None = None,
) -> str:
    """Register ``name`` (if new) and return a fresh token with ``role``; raises UserError."""
    _check(name, role)
    database = _database(db)
    token = new_token()
    with database.write() as session:
        _add(session, name, role, token, display_name, expires_in_days)
    return token


def _add(
    session: Any,
    name: str,
    role: str,
    token: str,
    display_name: str | None,
    expires_in_days: float | None,
) -> None:
    ensure_student(session, name, display_name)
    if display_name:
        row = session.get(Student, name)
        if row is not None:
            row.name = display_name
    now = utcnow()
    session.add(
        Token(
            student_id=name,
            token_hash=hash_token(token),
            role=role,
            created_at=now,
            expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
        )
    )


def read_roster(path: Path | str) -> list[tuple[str, str, str | None]]:
    """Read a roster CSV: (student, role, display name) per row; raises UserError naming the line.

    The header names the id column (``student``, ``id``, ``username`` or
    ``login``) and optionally ``role`` (default ``student``) and ``name``.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the roster {file}: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    id_column = next((header[c] for c in ID_COLUMNS if c in header), None)
    if id_column is None:
        raise UserError(f"{file.name}: the header needs a 'student' (or 'id') column")
    rows: list[tuple[str, str, str | None]] = []
    seen: set[str] = set()
    for line, record in enumerate(reader, start=2):
        student = (record.get(id_column) or "").strip()
        if not student:
            continue
        role = (record.get(header.get("role", ""), "") or "student").strip().lower()
        name = (record.get(header.get("name", ""), "") or "").strip() or None
        try:
            _check(student, role)
        except UserError as exc:
            raise UserError(f"{file.name} line {line}: {exc}") from None
        if student in seen:
            raise UserError(f"{file.name} line {line}: {student!r} is listed twice")
        seen.add(student)
        rows.append((student, role, name))
    return rows


def import_roster(
    path: Path | str, *, expires_in_days: float | None = None, db: Database | None = None
) -> list[tuple[str, str]]:
    """Register everyone in a roster CSV with a new token each: [(student, token)], all or nothing."""
    rows = read_roster(path)
    database = _database(db)
    issued: list[tuple[str, str]] = []
    with database.write() as session:
        for student, role, name in rows:
            token = new_token()
            _add(session, student, role, token, name, expires_in_days)
            issued.append((student, token))
    return issued


def list_users(db: Database | None = None) -> list[dict[str, Any]]:
    """Everyone registered: id, name, roles of their active tokens, token counts, creation time."""
    database = _database(db)
    now = utcnow()
    with database.read() as session:
        students = session.scalars(select(Student).order_by(Student.id)).all()
        tokens = session.scalars(select(Token)).all()
    by_student: dict[str, list[Token]] = {}
    for token in tokens:
        by_student.setdefault(token.student_id, []).append(token)
    users = []
    for student in students:
        own = by_student.get(student.id, [])
        active = [t for t in own if t.active(now)]
        users.append(
            {
                "student": student.id,
                "name": student.name,
                "roles": sorted({t.role for t in active}),
                "active_tokens": len(active),
                "tokens": len(own),
                "created_at": isoformat(student.created_at),
            }
        )
    return users


def revoke(student: str, *, token: str | None = None, db: Database | None = None) -> int:
    """Revoke ``student``'s active tokens (or just ``token``); returns how many were revoked."""
    database = _database(db)
    query = update(Token).where(Token.student_id == student, Token.revoked_at.is_(None))
    if token is not None:
        query = query.where(Token.token_hash == hash_token(token))
    with database.write() as session:
        result = session.execute(query.values(revoked_at=utcnow()).execution_options(synchronize_session=False))
        return int(result.rowcount or 0)


def authenticate(db: Database, token: str) -> Principal | None:
    """The principal of an active token, or None (unknown, revoked or expired)."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    with db.read() as session:
        row = session.scalar(select(Token).where(Token.token_hash == digest))
        if row is None or not row.active():
            return None
        return Principal(student=row.student_id, role=row.role, token_hash=digest)


def count_users(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Student)) or 0)
