"""``grader serve``: the web service (:mod:`grader.web.server`) on embedded defaults (SQLite in the data folder, local
job pool)."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes (default: 2 x cores + 1 with gunicorn, which keeps one student's dear answers from slowing "
    "everyone's); 1 is a threaded server in one process, for trying the grader.",
)
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the student pages, the instructor pages and the JSON API (see docs/service.md)."""
    from grader.web.server import serve as run

    _first_instructor(f"http://{host}:{port}/")
    _prove_sandbox()
    click.echo(f"serving on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    run(host, port, workers)


def _first_instructor(url: str) -> None:
    """On an empty store, register an instructor and print the token once, so the pages can be used at once."""
    from grader.store.db import Database
    from grader.store.users import add_user, count_users

    database = Database()
    try:
        database.migrate()
        if count_users(database):
            return
        token = add_user("instructor", role="instructor", db=database)
    finally:
        database.dispose()  # no connection of this process may be inherited by gunicorn's forked workers
    click.echo(
        f"No users yet: registered 'instructor'. Log in at {url}login with this token (shown once):\n\n    {token}\n\n"
        "Add students with 'grader users add ID' or 'grader users import roster.csv'.",
        err=True,
    )


def _prove_sandbox() -> None:
    """Where this server grades notebooks itself (no broker), refuse to start with a jail that cannot run them."""

    from grader.settings import current

    if current().broker:
        return  # the Celery workers grade, and check their own sandboxes when they start
    from grader.cli.common import catalog_or_exit
    from grader.sandbox.warm import checked_sandbox

    checked_sandbox(declared=catalog_or_exit().kernel_packages).close()
