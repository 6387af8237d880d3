"""Persistence: SQLAlchemy models, database sessions, migrations and queries.

SQLite (WAL, foreign keys on) by default, PostgreSQL when ``DATABASE_URL``
says so. :class:`grader.store.db.Database` owns the engine and the sessions;
the other modules are small query functions that take a ``Database``:

- :mod:`grader.store.models`: the tables (students, tokens, submissions, part_results);
- :mod:`grader.store.submissions`: writing and reading submissions and their results;
- :mod:`grader.store.gradebook`: the gradebook and per-exercise analytics;
- :mod:`grader.store.users`: people, roles and bearer tokens (hashed);
- ``migrations/``: Alembic, applied by :meth:`Database.migrate` (``upgrade head``).
"""

from grader.store.db import Database, default_url

__all__ = ["Database", "default_url"]
