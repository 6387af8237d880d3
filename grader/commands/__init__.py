"""Commands that belong to larger parts of the product, attached to the main ``grader`` group."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Attach the optional command groups (each module imports its heavy parts lazily)."""
    from grader.commands.course import extensions, regrade
    from grader.commands.gradescope import gradescope_autograder
    from grader.commands.notebooks import grade, notebook
    from grader.commands.review import gradebook, review
    from grader.commands.serve import serve

    for command in (notebook, grade, serve, _users(), review, gradebook, gradescope_autograder):
        cli.add_command(command)
    cli.add_command(extensions)  # the course's rules: extensions, and regrades after a spec change
    cli.add_command(regrade)


def _users() -> click.Command:
    """``grader users …``, loaded only when it runs (it needs the database layer)."""

    class LazyUsers(click.Group):
        def _group(self) -> click.Group:
            from grader.web.commands import users

            return users

        def list_commands(self, ctx: click.Context) -> list[str]:
            return self._group().list_commands(ctx)

        def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
            return self._group().get_command(ctx, name)

    return LazyUsers("users", help="Register students and staff and manage their bearer tokens.")
