"""The store on SQLite and on PostgreSQL: schema, submissions, tokens, gradebook and analytics."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import IntegrityError
from test_web_helpers import CORRECT, SIGN_ERROR

from grader.contract import Result
from grader.grading import grade
from grader.store import gradebook as book
from grader.store import submissions
from grader.store.db import MIGRATIONS, Database
from grader.store.models import UNFINISHED_WHERE, Base, PartResult, Student, Submission, Token, utcnow
from grader.store.users import (
    UserError,
    add_user,
    authenticate,
    import_roster,
    list_users,
    read_roster,
    revoke,
)

pytest_plugins = ["test_web_helpers"]  # the shared fixtures


def _result(catalog: Any, student: str, iterates: str) -> Result:
    return grade({"student": student, "answers": {"gd-parabola": {"iterates": iterates}}}, catalog)


def test_migrations_create_exactly_the_models(any_db: Database) -> None:
    with any_db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == "0005"


def test_migrate_twice_is_harmless(any_db: Database) -> None:
    any_db.migrate()
    any_db.migrate()
    with any_db.read() as session:
        assert session.scalar(select(Token).limit(1)) is None


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_foreign_keys_are_enforced(any_db: Database) -> None:
    with pytest.raises(IntegrityError):
        with any_db.write() as session:
            session.add(Token(student_id="nobody", token_hash="x" * 64, role="student"))


def test_graded_submission_is_stored_with_its_parts(any_db: Database, catalog: Any) -> None:
    result = _result(catalog, "s001", SIGN_ERROR)
    submission_id = submissions.store_graded(any_db, "s001", result, b"{}", submitted_by="s001")
    stored = submissions.get(any_db, submission_id)
    assert stored.status == "done"
    assert stored.result == result.to_json()
    assert stored.score == 1.5
    with any_db.read() as session:
        parts = session.scalars(select(PartResult).where(PartResult.submission_id == submission_id)).all()
    by_part = {p.part: p for p in parts}
    assert set(by_part) == {"iterates", "values"}
    assert by_part["iterates"].misconception == "sign-error"
    assert by_part["values"].status == "missing"


def test_first_wrong_step_is_kept(any_db: Database, catalog: Any) -> None:
    result = _result(catalog, "s001", "4, 2, 1, 0.7, 0.35, 0.175")
    submission_id = submissions.store_graded(any_db, "s001", result, b"{}")
    with any_db.read() as session:
        row = session.scalar(
            select(PartResult).where(PartResult.submission_id == submission_id, PartResult.part == "iterates")
        )
    assert row.first_wrong_step == 3


def _stored_rows(db: Database, submission_id: str) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """The submission's row, its part rows (without their ids) and its student's stored bytes, as read back."""
    with db.read() as session:
        row = session.get(Submission, submission_id)
        stored = {c.key: getattr(row, c.key) for c in Submission.__table__.c}
        parts = session.scalars(
            select(PartResult).where(PartResult.submission_id == submission_id).order_by(PartResult.id)
        ).all()
        rows = [{c.key: getattr(p, c.key) for c in PartResult.__table__.c if c.key != "id"} for p in parts]
        return stored, rows, session.get(Student, row.student_id).stored_bytes


def test_the_drivers_own_cursor_stores_what_core_statements_store(any_db: Database, catalog: Any) -> None:
    """store_graded's fast path (the driver's cursor) writes the very rows its Core statements write: the same
    types, timestamps, JSON and part rows; a statement listener on the engine takes the Core path."""
    result = _result(catalog, "s001", "4, 2, 1, 0.7, 0.35, 0.175")
    assert any_db.raw_writes
    fast = submissions.store_graded(any_db, "s001", result, b'{"a": 1}', submitted_by="ta1", assignment="lec4-inclass")
    listened: list[str] = []
    event.listen(any_db.engine, "before_cursor_execute", lambda *args: listened.append(args[2]))
    assert not any_db.raw_writes
    core = submissions.store_graded(any_db, "s001", result, b'{"a": 1}', submitted_by="ta1", assignment="lec4-inclass")
    assert any("INSERT INTO part_results" in statement for statement in listened)
    (fast_row, fast_parts, _), (core_row, core_parts, stored_bytes) = (_stored_rows(any_db, i) for i in (fast, core))
    assert stored_bytes == 2 * len(b'{"a": 1}')
    differ = {"id", "created_at", "started_at", "finished_at"}
    assert {k: v for k, v in fast_row.items() if k not in differ} == {
        k: v for k, v in core_row.items() if k not in differ
    }
    assert fast_row["result"] == result.to_json() and fast_row["score"] == result.score
    assert all(type(fast_row[k]) is type(core_row[k]) for k in fast_row)
    assert fast_row["created_at"] == fast_row["started_at"] == fast_row["finished_at"]
    assert [{**p, "submission_id": None} for p in fast_parts] == [{**p, "submission_id": None} for p in core_parts]
    shown = [{k: v for k, v in submissions.get(any_db, i).to_json().items() if k not in differ} for i in (fast, core)]
    assert shown[0] == shown[1]


def test_a_submission_past_the_quota_or_failing_on_the_fast_path_writes_nothing(
    any_db: Database, catalog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _result(catalog, "s001", CORRECT)
    first = submissions.store_graded(any_db, "s001", result, b"x" * 600, quota=1000)
    with pytest.raises(submissions.QuotaExceeded, match="s001's stored submissions take"):
        submissions.store_graded(any_db, "s001", result, b"y" * 600, quota=1000)
    with monkeypatch.context() as patched, pytest.raises(IntegrityError):  # the driver's error, as SQLAlchemy's
        patched.setattr(submissions, "new_id", lambda: first)  # a second row with the same id: the insert fails
        submissions.store_graded(any_db, "s002", result, b"z" * 10)
    assert submissions.count(any_db) == 1
    with any_db.read() as session:
        assert session.scalar(select(func.count()).select_from(PartResult)) == 2
        assert session.get(Student, "s001").stored_bytes == 600
        assert session.get(Student, "s002") is None  # its row, inserted in the same transaction, rolled back
    second = submissions.store_graded(any_db, "s002", result, b"z" * 10)  # the connection is fine afterwards
    assert submissions.get(any_db, second).status == "done"


def test_queued_submission_is_finished_exactly_once(any_db: Database, catalog: Any) -> None:
    submission_id = submissions.create_queued(any_db, "s001", "answers", b"{}")
    claimed = submissions.claim(any_db, submission_id, max_attempts=3)
    assert claimed is not None and claimed.attempts == 1
    assert submissions.get(any_db, submission_id).status == "running"
    result = _result(catalog, "s001", CORRECT)
    assert submissions.finish(any_db, submission_id, result) is True
    assert submissions.finish(any_db, submission_id, result) is False
    assert submissions.claim(any_db, submission_id, max_attempts=3) is None
    with any_db.read() as session:
        count = len(session.scalars(select(PartResult).where(PartResult.submission_id == submission_id)).all())
    assert count == 2
    assert submissions.get(any_db, submission_id).status == "done"


def test_pending_lists_only_unfinished_submissions_through_their_index(any_db: Database, catalog: Any) -> None:
    queued = submissions.create_queued(any_db, "s001", "answers", b"{}")
    running = submissions.create_queued(any_db, "s001", "answers", b"{}")
    submissions.claim(any_db, running, max_attempts=3)
    submissions.store_graded(any_db, "s001", _result(catalog, "s001", CORRECT), b"{}")
    assert [i for i, _ in submissions.pending(any_db)] == [queued, running]
    if any_db.is_sqlite:
        with any_db.engine.connect() as connection:
            query = select(Submission.id).where(UNFINISHED_WHERE).compile(connection)
            plan = " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}"))
        assert "USING INDEX ix_submissions_unfinished" in plan


def test_submission_ids_are_unguessable_and_in_creation_order() -> None:
    ids = [submissions.new_id() for _ in range(1000)]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len(set(ids)) == 1000
    assert [i[:12] for i in ids] == sorted(i[:12] for i in ids)  # the millisecond prefix never goes back
    assert len({i[12:] for i in ids}) == 1000  # 80 random bits after it


def test_a_database_of_the_first_revision_upgrades_with_its_submissions(tmp_path: Path, catalog: Any) -> None:
    from alembic import command
    from alembic.config import Config

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        # rows as the first revision's code wrote them
        connection.exec_driver_sql("INSERT INTO students (id, created_at) VALUES ('s001', '2026-11-01 10:00:00')")
        for number, (status, payload) in enumerate([("queued", b"{}"), ("done", b"x" * 1000)]):
            connection.exec_driver_sql(
                "INSERT INTO submissions (id, student_id, kind, status, payload, attempts, created_at) "
                "VALUES (?, 's001', 'answers', ?, ?, 0, '2026-11-01 10:00:00')",
                (f"old{number}", status, payload),
            )
    db.migrate()
    assert [i for i, _ in submissions.pending(db)] == ["old0"]
    assert submissions.count(db) == 2
    with db.read() as session:
        assert session.get(Student, "s001").stored_bytes == 1002  # counted once, for the storage quota
    with db.engine.connect() as connection:
        indexes = {row[0] for row in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_submissions_unfinished" in indexes and "ix_submissions_status" not in indexes
    db.dispose()


def test_claims_beyond_the_limit_fail_with_a_reason(any_db: Database) -> None:
    submission_id = submissions.create_queued(any_db, "s001", "notebook", b"{}")
    for _ in range(2):
        assert submissions.claim(any_db, submission_id, max_attempts=2) is not None
    assert submissions.claim(any_db, submission_id, max_attempts=2) is None
    stored = submissions.get(any_db, submission_id)
    assert stored.status == "failed"
    assert "started 2 times" in stored.error


def test_history_is_newest_first_and_private(any_db: Database, catalog: Any) -> None:
    first = submissions.store_graded(any_db, "s001", _result(catalog, "s001", SIGN_ERROR), b"{}")
    second = submissions.store_graded(any_db, "s001", _result(catalog, "s001", CORRECT), b"{}")
    with any_db.write() as session:  # make the order unambiguous
        row = session.get(Submission, first)
        row.created_at = row.created_at - timedelta(seconds=5)
    submissions.store_graded(any_db, "s002", _result(catalog, "s002", CORRECT), b"{}")
    history = submissions.history(any_db, "s001")
    assert [h.id for h in history] == [second, first]
    assert all("result" not in h.to_json() and "payload" not in h.to_json() for h in history)


def test_tokens_are_hashed_and_checked(any_db: Database) -> None:
    token = add_user("s001", db=any_db)
    with any_db.read() as session:
        stored = session.scalars(select(Token.token_hash)).all()
    assert token not in stored and len(stored) == 1
    principal = authenticate(any_db, token)
    assert principal is not None and principal.student == "s001" and principal.role == "student"
    assert authenticate(any_db, token + "x") is None
    assert authenticate(any_db, "") is None


def test_revoked_and_expired_tokens_do_not_authenticate(any_db: Database) -> None:
    kept = add_user("s001", db=any_db)
    expired = add_user("s002", db=any_db)
    with any_db.write() as session:
        session.execute(update(Token).where(Token.student_id == "s002").values(expires_at=utcnow() - timedelta(days=1)))
    assert authenticate(any_db, expired) is None
    assert revoke("s001", db=any_db) == 1
    assert authenticate(any_db, kept) is None
    assert revoke("s001", db=any_db) == 0


def test_add_user_rejects_bad_names_and_roles(any_db: Database) -> None:
    with pytest.raises(UserError, match="not a valid id"):
        add_user("=cmd|' /C calc'!A0", db=any_db)
    with pytest.raises(UserError, match="role"):
        add_user("s001", "admin", db=any_db)


def test_roster_import_gives_everyone_a_token(any_db: Database, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,Name,Role\ns001,Ada Lovelace,\ns002,,student\nta1,Tom,ta\n")
    issued = import_roster(roster, db=any_db)
    assert [s for s, _ in issued] == ["s001", "s002", "ta1"]
    assert authenticate(any_db, dict(issued)["ta1"]).role == "ta"
    people = {p["student"]: p for p in list_users(db=any_db)}
    assert people["s001"]["name"] == "Ada Lovelace"
    assert people["ta1"]["roles"] == ["ta"]


def test_a_bad_roster_writes_nothing(any_db: Database, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("student,role\ns001,student\ns 002,student\n")
    with pytest.raises(UserError, match="line 3"):
        import_roster(roster, db=any_db)
    assert list_users(db=any_db) == []
    roster.write_text("email\na@b\n")
    with pytest.raises(UserError, match="'student'"):
        read_roster(roster)


def test_gradebook_keeps_each_students_best(any_db: Database, catalog: Any) -> None:
    add_user("s003", db=any_db)  # enrolled, never submitted
    submissions.store_graded(any_db, "s001", _result(catalog, "s001", SIGN_ERROR), b"{}")
    submissions.store_graded(any_db, "s001", _result(catalog, "s001", CORRECT), b"{}")
    submissions.store_graded(any_db, "s002", _result(catalog, "s002", SIGN_ERROR), b"{}")
    result = book.gradebook(any_db)
    assert result.students == ["s001", "s002", "s003"]
    assert result.scores["s001"]["gd-parabola"] == (6.0, 12.0)
    assert result.scores["s002"]["gd-parabola"] == (1.5, 12.0)
    assert result.attempts == {"s001": 2, "s002": 1}


def test_analytics_count_each_students_latest_attempt(any_db: Database, catalog: Any) -> None:
    first = submissions.store_graded(any_db, "s001", _result(catalog, "s001", SIGN_ERROR), b"{}")
    with any_db.write() as session:
        row = session.get(Submission, first)
        row.created_at = row.created_at - timedelta(seconds=5)
    submissions.store_graded(any_db, "s001", _result(catalog, "s001", CORRECT), b"{}")
    submissions.store_graded(any_db, "s002", _result(catalog, "s002", SIGN_ERROR), b"{}")
    submissions.store_graded(any_db, "s003", _result(catalog, "s003", "4, 2, 1, 0.7, 0.35, 0.175"), b"{}")
    stats = book.analytics(any_db, "gd-parabola")
    assert stats["students"] == 3 and stats["submissions"] == 4
    iterates = next(p for p in stats["parts"] if p["id"] == "iterates")
    assert iterates["misconceptions"] == {"sign-error": 1}
    assert iterates["first_wrong_step"] == {"3": 1}
    assert sum(stats["score_histogram"]["counts"]) == 3
    assert stats["score_histogram"]["counts"][-1] == 0  # nobody has 12/12: values were not given


def test_histogram_bins() -> None:
    assert book.histogram([0, 5, 10, 10], 10, bins=2) == {"edges": [0, 5, 10], "counts": [1, 3]}
    assert book.histogram([], 0) == {"edges": [0.0, 0.0], "counts": [0]}


def test_concurrent_writers_all_land(any_db: Database, catalog: Any) -> None:
    result = _result(catalog, "s001", CORRECT)
    errors: list[BaseException] = []

    def write(student: str) -> None:
        try:
            for _ in range(10):
                submissions.store_graded(any_db, student, result, b"{}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"s{k:03d}",)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert submissions.count(any_db) == 60
    with any_db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM part_results")) == 120
