"""Commands that belong to larger parts of the product, attached to the main ``grader`` group."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Attach the optional command groups (each module imports its heavy parts lazily)."""
    for module_name, attribute in (
        ("grader.commands.notebooks", "commands"),
        ("grader.web.commands", "commands"),
    ):
        try:
            module = __import__(module_name, fromlist=[attribute])
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that part of the product is not installed
            raise
        for command in getattr(module, attribute):
            cli.add_command(command)
