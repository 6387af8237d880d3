"""What the commands share: one-line errors with exit code 2, the course's specs, the store, and their options.

Light on purpose: every command module imports it, and ``grader --help`` imports every command module.
"""

from __future__ import annotations

from typing import Any, NoReturn

import click

FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
DATABASE = click.option(
    "--database",
    "database_url",
    envvar="DATABASE_URL",
    default=None,
    help="SQLAlchemy URL of the store (default: DATABASE_URL, else data/grader.db).",
)


class BadInput(click.ClickException):
    """Bad input from the user: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    raise BadInput(message)


def catalog_or_exit(path: str | None = None) -> Any:
    """The specs (default: the project's exercises/), or exit 2 naming the spec that is wrong."""
    from grader.specs.model import SpecError, load_catalog

    try:
        return load_catalog(path)
    except SpecError as exc:
        fail(str(exc))


def database_or_exit(url: str | None) -> Any:
    """The store at ``url`` (``--database``; default: DATABASE_URL, else the data folder's SQLite file), migrated;
    exit 2 when it does not answer."""
    from grader.store.db import Database, is_unavailable

    db = Database(url)
    try:
        db.migrate()
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        fail(f"the database does not answer ({db!r})")
    return db
