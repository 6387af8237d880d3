"""Fixtures shared by the service tests (store, web, jobs, browser), imported by those modules.

- ``sqlite_db``: a fresh, migrated SQLite file per test (copied from one migrated template);
- ``pg_db``: the PostgreSQL server at 127.0.0.1:5432 (database ``test``), in a schema
  made for this test run and dropped after it, emptied before each test;
- ``any_db``: each test once on SQLite and once on PostgreSQL;
- ``app`` / ``client``: the service on ``sqlite_db``, rate limits (failed logins too) off, a local job pool, and Flask-WTF's
  CSRF token check off so that form tests post plain data (the Origin check stays on; tests/test_web_csrf.py
  and tests/test_browser.py run with the token check on, as in production);
- ``tokens``: a student (s001), a second student (s002), a TA and an instructor.

The database tests really run on PostgreSQL: if it does not answer they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from grader.contract import NotebookResult
from grader.grading import grade
from grader.store.db import Database
from grader.store.users import add_user

POSTGRES = os.environ.get("GRADER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TABLES = ("part_results", "submissions", "tokens", "students")
SIGN_ERROR = "4, 6, 9, 13.5, 20.25, 30.375"
CORRECT = "4, 2, 1, 0.5, 0.25, 0.125"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database to copy (migrating once keeps the tests quick)."""
    path = tmp_path_factory.mktemp("template") / "grader.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    path = tmp_path / "grader.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A schema of its own on the PostgreSQL test server, migrated; dropped at the end."""
    schema = f"grader_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    db = Database(url)
    db.migrate()
    db.dispose()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    db = Database(pg_url)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest) -> Database:
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


def fake_grade_notebook(
    data: bytes,
    filename: str,
    catalog: Any,
    assignment: str | None = None,
    student: str | None = None,
    sandbox: Any = None,
) -> NotebookResult:
    """Stands in for ``grade_notebook``: the 'notebook' carries its answers in ``metadata.answers``."""
    notebook = json.loads(data)
    answers = notebook["metadata"].get("answers", {})
    result = grade({"student": student or "default", "answers": answers}, catalog)
    return NotebookResult(result.student, result.exercises, file=filename, error=notebook["metadata"].get("error"))


def notebook_bytes(answers: dict[str, Any], **metadata: Any) -> bytes:
    """A minimal notebook whose metadata holds answers for :func:`fake_grade_notebook`."""
    return json.dumps(
        {
            "cells": [],
            "metadata": {"answers": answers, **metadata},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    ).encode()


def make_app(db: Database, catalog: Any, **config: Any) -> Any:
    from grader.web import create_app

    settings: dict[str, Any] = {
        "TESTING": True,
        "DATABASE": db,
        "CATALOG": catalog,
        "RATE_LIMIT_PER_MINUTE": 0,
        "CPU_SHARE_MS_PER_MINUTE": 0,
        "LOGIN_FAILURES_PER_ADDRESS": 0,
        "LOGIN_FAILURES_PER_TOKEN": 0,
        "NOTEBOOK_GRADER": fake_grade_notebook,
        "AUTH_CACHE_SECONDS": 0,
        "SECRET_KEY": "test",
        "WTF_CSRF_ENABLED": False,
    }
    settings.update(config)
    return create_app(settings)


@pytest.fixture
def app(sqlite_db: Database, catalog: Any) -> Iterator[Any]:
    application = make_app(sqlite_db, catalog)
    yield application
    application.extensions["grader"].jobs.shutdown(wait=True)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def tokens(app: Any) -> dict[str, str]:
    db = app.extensions["grader"].db
    return {
        "s001": add_user("s001", db=db),
        "s002": add_user("s002", db=db),
        "ta": add_user("ta1", "ta", db=db),
        "instructor": add_user("prof", "instructor", db=db),
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
