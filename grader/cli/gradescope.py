"""``grader gradescope-autograder ASSIGNMENT -o autograder.zip``: the bundle Gradescope runs for each submission
(:mod:`grader.autograder`, which says what it holds and what runs inside it)."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import catalog_or_exit, fail


@click.command("gradescope-autograder")
@click.argument("assignment")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True), help="The .zip file to write."
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.5, 3600),
    default=60.0,
    show_default=True,
    help="Wall-clock seconds for the notebook.",
)
@click.option("--memory", type=click.IntRange(64, 65536), default=1024, show_default=True, help="Memory limit, MB.")
def gradescope_autograder(assignment: str, output: str, timeout: float, memory: int) -> None:
    """Build the autograder bundle Gradescope runs for ASSIGNMENT: setup.sh, run_autograder, the grader and the
    specs; one test per part, visible as the assignment's feedback setting says (default: visible)."""
    from grader import autograder
    from grader.paths import write_atomically

    catalog = catalog_or_exit()
    if assignment not in catalog.assignments:
        fail(f"unknown assignment {assignment!r}; known: {', '.join(catalog.assignments)}")
    config = autograder.bundle_config(catalog, assignment, timeout, memory)
    data = autograder.bundle(catalog, config)
    path = Path(output)
    if path.exists() and not path.is_file():
        fail(f"{output} is not a file")
    try:
        write_atomically(path, data, mode=0o600 if catalog.per_student else 0o644)  # the course secret is inside
    except OSError as exc:
        fail(f"could not write {output}: {exc.strerror or exc}")
    click.echo(
        f"wrote {output}: {assignment}, {autograder.tests_of(catalog, assignment)} tests (one per part), "
        f"visibility {config['visibility']}"
        + ("; it holds the course secret (per-student variants): keep it private" if catalog.per_student else ""),
        err=True,
    )
