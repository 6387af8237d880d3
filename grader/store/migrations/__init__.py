"""Alembic migrations of the store (``env.py`` and ``versions/``), applied by ``Database.migrate``."""
