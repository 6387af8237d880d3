"""The ``grader`` command: one module per command group, each reading its arguments, calling the services below
it and printing what they return.

| module | commands |
|---|---|
| ``check`` | ``check`` |
| ``exercises`` | ``exercises list``, ``show``, ``functions`` |
| ``trace`` | ``trace`` |
| ``validate`` | ``validate``, ``solutions`` |
| ``notebooks`` | ``notebook``, ``grade`` |
| ``serve`` | ``serve`` |
| ``users`` | ``users add``, ``import``, ``list``, ``revoke`` |
| ``review`` | ``review list``, ``show``, ``set``, ``flag`` |
| ``gradebook`` | ``gradebook`` |
| ``course`` | ``extensions set``, ``remove``, ``list``, ``import``; ``regrade`` |
| ``gradescope`` | ``gradescope-autograder`` |
| ``common`` | one-line errors (:func:`~grader.cli.common.fail`), the specs, the store, shared options |

Exit codes: 0 ok; 1 graded but below ``--fail-under`` (or ``validate`` found
a problem); 2 bad input, with a one-line reason on stderr. Heavy modules are
imported inside the commands that need them, so ``grader --help`` stays quick.
Nothing else in ``grader`` imports this package, and no other module of
``grader`` imports click (``tests/test_architecture.py``).
"""

from __future__ import annotations

import sys

import click

from grader.cli import check, course, exercises, gradebook, gradescope, notebooks, review, serve, trace, users, validate
from grader.sandbox.selfcheck import JailBroken
from grader.settings import SettingsError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="optgrader", prog_name="grader")
def cli() -> None:
    """Grade exercises and notebooks of the optimization lecture (GD, SGD, momentum, Adam)."""


for command in (
    check.check,
    exercises.exercises,
    trace.trace,
    validate.validate,
    validate.solutions,
    notebooks.notebook,
    notebooks.grade,
    serve.serve,
    users.users,
    review.review,
    gradebook.gradebook,
    course.extensions,
    course.regrade,
    gradescope.gradescope_autograder,
):
    cli.add_command(command)


def main() -> None:
    """Entry point of the ``grader`` command."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        sys.exit(0)
    except click.UsageError as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except (JailBroken, SettingsError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
