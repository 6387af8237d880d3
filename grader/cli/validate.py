"""``grader validate`` (every spec proved on many variants, :mod:`grader.specs.validate`) and ``grader solutions``
(the reference answers of the default variants, :mod:`grader.notebooks.solutions`)."""

from __future__ import annotations

import json
import sys

import click

from grader.cli.common import FORMAT, catalog_or_exit, fail


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--seeds", type=int, default=50, show_default=True, help="Variant seeds to try per exercise.")
@click.option(
    "--search/--no-search",
    default=True,
    show_default=True,
    help="List, per part, the catalogue's changes told apart from the reference in every variant.",
)
@FORMAT
def validate(paths: tuple[str, ...], seeds: int, search: bool, output_format: str) -> None:
    """Prove every spec: the reference scores full, each misconception is recognised, step and carried
    rules reproduce the reference, for many variants.

    PATHS are spec folders or files (default: the project's exercises/). Exit 1 on any failure.
    """
    from grader.specs.validate import validate_paths

    report = validate_paths(list(paths), seeds, search)
    if report.error:
        fail(report.error)
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.text())
    if report.failures:
        sys.exit(1)


@click.command()
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only check that solutions/ is up to date (exit 1 if stale).",
)
def solutions(check_only: bool) -> None:
    """Write the reference answers of the default variants to solutions/."""
    from grader.notebooks.solutions import stale_solutions, write_solutions

    if check_only:
        stale = stale_solutions(catalog_or_exit())
        if stale:
            click.echo("stale: " + ", ".join(stale) + " (run 'grader solutions')", err=True)
            sys.exit(1)
        click.echo("solutions/ is up to date")
        return
    for path in write_solutions(catalog_or_exit()):
        click.echo(f"wrote {path}")
