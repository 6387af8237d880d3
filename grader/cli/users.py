"""``grader users …``: register people, hand out tokens, list and revoke them (:mod:`grader.store.users`).

    grader users add s001 [--role student|ta|instructor] [--name "Ada L."] [--expires-days 120]
    grader users import roster.csv [--output tokens.csv]
    grader users list [--format text|json]
    grader users revoke s001 [--token TOKEN]

Tokens are printed once and stored only as hashes. The database is
``--database URL``, else ``DATABASE_URL``, else the SQLite file in the data
folder. Exit codes: 0 done, 2 bad input (with a one-line reason on stderr).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import click

from grader.cli.common import DATABASE, FORMAT, database_or_exit, fail
from grader.students import ROLES


@click.group("users")
def users() -> None:
    """Register students and staff and manage their bearer tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="student", show_default=True)
@click.option("--name", "display_name", default=None, help="Display name shown in the gradebook.")
@click.option("--expires-days", type=float, default=None, help="Token lifetime in days (default: none).")
@FORMAT
@DATABASE
def add_command(
    name: str,
    role: str,
    display_name: str | None,
    expires_days: float | None,
    output_format: str,
    database_url: str | None,
) -> None:
    """Register NAME (a student id) and print a new token with ROLE."""
    from grader.store.users import UserError, add_user

    db = database_or_exit(database_url)
    try:
        token = add_user(name, role, display_name=display_name, expires_in_days=expires_days, db=db)
    except UserError as exc:
        fail(str(exc))
    if output_format == "json":
        click.echo(json.dumps({"student": name, "role": role, "token": token}))
    else:
        click.echo(token)


@users.command("import")
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write student,token rows here (mode 600, also when the file exists) instead of stdout.",
)
@click.option("--expires-days", type=float, default=None, help="Token lifetime in days.")
@DATABASE
def import_command(roster: Path, output: Path | None, expires_days: float | None, database_url: str | None) -> None:
    """Register everyone in ROSTER (CSV with a 'student' column, optional 'role' and 'name')."""
    from grader.paths import private_file
    from grader.store.users import UserError, import_roster

    handle = None
    if output is not None:  # opened before any token is issued: tokens that could not be written would be lost
        try:
            handle = os.fdopen(private_file(output, os.O_WRONLY), "w", newline="")
        except OSError as exc:
            fail(f"could not write {output}: {exc.strerror or exc}; no token was issued")
    try:
        issued = import_roster(roster, expires_in_days=expires_days, db=database_or_exit(database_url))
    except UserError as exc:
        if handle is not None:
            handle.close()  # what the file held stays as it was
        fail(str(exc))
    if handle is None:
        _write_tokens(sys.stdout, issued)
        return
    with handle:
        handle.truncate(0)
        _write_tokens(handle, issued)
    click.echo(f"{len(issued)} tokens written to {output}", err=True)


def _write_tokens(stream, issued: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["student", "token"])
    writer.writerows(issued)


@users.command("list")
@FORMAT
@DATABASE
def list_command(output_format: str, database_url: str | None) -> None:
    """List everyone registered, with the roles of their active tokens."""
    from grader.store.users import list_users

    people = list_users(db=database_or_exit(database_url))
    if output_format == "json":
        click.echo(json.dumps(people, indent=2))
        return
    for person in people:
        roles = ",".join(person["roles"]) or "-"
        name = f"  {person['name']}" if person["name"] else ""
        click.echo(f"{person['student']}\t{roles}\t{person['active_tokens']} active token(s){name}")


@users.command("revoke")
@click.argument("name")
@click.option("--token", default=None, help="Revoke only this token (default: all of NAME's).")
@DATABASE
def revoke_command(name: str, token: str | None, database_url: str | None) -> None:
    """Revoke NAME's tokens (at once for new requests; servers trust a checked token for a few seconds)."""
    from grader.store.users import revoke

    count = revoke(name, token=token, db=database_or_exit(database_url))
    if count == 0:
        fail(f"no active token of {name!r} to revoke")
    click.echo(f"revoked {count} token(s) of {name}")
