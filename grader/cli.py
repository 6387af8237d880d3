"""The ``grader`` command.

Exit codes: 0 ok; 1 graded but below ``--fail-under`` (or ``validate`` found
a problem); 2 bad input, with a one-line reason on stderr. Heavy modules are
imported inside the commands that need them, so ``grader --help`` stays quick.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from grader.contract import Result
from grader.sandbox.selfcheck import JailBroken
from grader.settings import SettingsError

FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="optgrader", prog_name="grader")
def cli() -> None:
    """Grade exercises and notebooks of the optimization lecture (GD, SGD, momentum, Adam)."""


# trace ---------------------------------------------------------------------------------


@cli.command()
@click.argument("optimizer")
@click.option(
    "--f",
    "formula",
    required=True,
    help='The function, e.g. "x**2 + 2" or "x**2 - y**2" (variables x, y, z or x1, x2, …).',
)
@click.option("--x0", required=True, help="Starting point, comma-separated for several variables: 4 or 4,3.")
@click.option("--lr", type=float, default=None, help="Learning rate η (default: PyTorch's for the optimizer).")
@click.option("--momentum", type=float, default=None, help="β for momentum and nesterov.")
@click.option("--nesterov", is_flag=True, help="Use Nesterov momentum (with the momentum optimizer).")
@click.option("--alpha", type=float, default=None, help="α for rmsprop.")
@click.option("--betas", default=None, help="β₁,β₂ for adam, e.g. 0.9,0.999.")
@click.option("--eps", type=float, default=None, help="ε for adagrad, rmsprop and adam.")
@click.option("--steps", type=int, default=10, show_default=True, help="Number of steps N (iterates x0 … xN).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also draw the path to this PNG file.",
)
def trace(
    optimizer: str,
    formula: str,
    x0: str,
    lr: float | None,
    momentum: float | None,
    nesterov: bool,
    alpha: float | None,
    betas: str | None,
    eps: float | None,
    steps: int,
    output_format: str,
    plot: str | None,
) -> None:
    """Run OPTIMIZER (gd, momentum, nesterov, adagrad, rmsprop, adam) on a function and print its path.

    Example: grader trace adam --f "x**2 + 2" --x0 4 --lr 0.1 --steps 50 --format json
    """
    from grader.commands.trace import run_trace

    try:
        result = run_trace(optimizer, formula, x0, lr, momentum, nesterov, alpha, betas, eps, steps)
    except ValueError as exc:
        fail(str(exc))
    from grader.reports import trace_output

    click.echo(trace_output.render(result, output_format), nl=False)
    if result.trace.diverged_at is not None:
        click.echo(
            f"note: diverged at step {result.trace.diverged_at}; printed the steps before it.",
            err=True,
        )
    if plot:
        from grader.reports.trace_plot import plot_trace

        try:
            plot_trace(result.formula, result.trace, plot, title=f"{optimizer} on f = {{f}}")
        except OSError as exc:
            fail(f"could not write the plot to {plot}: {exc.strerror}")


# check ---------------------------------------------------------------------------------


@cli.command()
@click.argument("submission", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--exercise", help="Check a single answer: the exercise id.")
@click.option("--part", help="Check a single answer: the part id.")
@click.option("--answer", help="Check a single answer: the answer as typed.")
@click.option("--student", default=None, help="Student id (selects the student's variant).")
@click.option("--fail-under", type=float, default=None, help="Exit 1 if the score is below this percentage.")
@FORMAT
def check(
    submission: str | None,
    exercise: str | None,
    part: str | None,
    answer: str | None,
    student: str | None,
    fail_under: float | None,
    output_format: str,
) -> None:
    """Grade SUBMISSION.json (or '-' for stdin), or one answer with --exercise/--part/--answer."""
    from grader.grading import SubmissionError, grade
    from grader.reports.text import result_text

    if submission is None:
        if not (exercise and part and answer is not None):
            fail("give SUBMISSION.json, or all of --exercise, --part and --answer")
        data: Any = {"answers": {exercise: {part: answer}}}
        if student:
            data["student"] = student
    else:
        if exercise or part or answer is not None:
            fail("give either SUBMISSION.json or --exercise/--part/--answer, not both")
        data = _read_json(submission)
        if student and isinstance(data, dict):
            data["student"] = student
    from grader.specs.model import SpecError

    catalog = catalog_or_exit()
    try:
        result = grade(data, catalog)
    except (SubmissionError, SpecError) as exc:  # a spec whose answers cannot be computed: as 'grader validate' says
        fail(str(exc))
    if submission is None:
        _keep_only_part(result, part)
    text = (
        json.dumps(result.to_json(), indent=2, ensure_ascii=False) if output_format == "json" else result_text(result)
    )
    click.echo(text)
    _exit_for_score(result, fail_under)


def _keep_only_part(result: Result, part: str | None) -> None:
    """For a single answer, report just that part (the scores are its points)."""
    exercise = result.exercises[0]
    exercise.parts = [p for p in exercise.parts if p.id == part]


def _read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path} does not exist")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"could not read {path}: {exc}")
    try:
        return json.loads(text)
    except ValueError as exc:
        fail(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})")  # type: ignore[attr-defined]


def _exit_for_score(result: Result, fail_under: float | None) -> None:
    if fail_under is None:
        return
    percent = 100.0 * result.score / result.max_score if result.max_score else 100.0
    if percent < fail_under:
        click.echo(f"score {percent:.1f}% is below --fail-under {fail_under:g}%", err=True)
        sys.exit(1)


# exercises -----------------------------------------------------------------------------


@cli.group()
def exercises() -> None:
    """List the exercises and show their prompts."""


@exercises.command("list")
@FORMAT
def exercises_list(output_format: str) -> None:
    """List exercises and assignments."""
    catalog = catalog_or_exit()
    rows = [
        {"id": e.id, "title": e.title, "parts": [p.id for p in e.parts], "max_score": e.max_score}
        for e in catalog.exercises.values()
    ]
    assignments = [
        {"id": a.id, "title": a.title, "exercises": list(a.exercises), "rules": a.rules.to_json()}
        for a in catalog.assignments.values()
    ]
    if output_format == "json":
        click.echo(json.dumps({"exercises": rows, "assignments": assignments}, indent=2, ensure_ascii=False))
        return
    width = max(len(r["id"]) for r in rows)
    for row in rows:
        click.echo(f"{row['id']:<{width}}  {row['title']}  ({', '.join(row['parts'])})")
    click.echo("\nassignments:")
    for a in assignments:
        click.echo(f"  {a['id']}: {', '.join(a['exercises'])}")
        rules = catalog.assignments[a["id"]].rules
        if rules.active:  # the course's deadlines, attempts and feedback (docs/specs.md)
            from grader.deadlines import shown_time

            times = [f"{name} {shown_time(t)}" for name, t in (("opens", rules.opens), ("due", rules.due)) if t]
            late = (
                f"late until {shown_time(rules.late_until)} at -{rules.penalty_per_day:.0%} a day"
                if rules.late_until
                else ""
            )
            tries = f"{rules.max_attempts} attempts" if rules.max_attempts else "unlimited attempts"
            click.echo("    " + "; ".join([*times, *([late] if late else []), tries, f"feedback {rules.feedback}"]))


@exercises.command("show")
@click.argument("exercise_id")
@click.option("--student", default=None, help="Show this student's variant.")
@FORMAT
def exercises_show(exercise_id: str, student: str | None, output_format: str) -> None:
    """Show an exercise's prompt with a student's numbers (never the answers)."""
    from grader.specs.model import SpecError

    catalog = catalog_or_exit()
    if exercise_id not in catalog.exercises:
        fail(f"unknown exercise {exercise_id!r}; see 'grader exercises list'")
    exercise = catalog.exercises[exercise_id]
    try:
        shown = catalog.prompt(exercise, catalog.variant(exercise, student))
    except SpecError as exc:  # the variant's answers cannot be computed: the same sentence as 'grader validate'
        fail(str(exc))
    if output_format == "json":
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    click.echo(f"{shown['title']} [{shown['id']}]\n\n{shown['prompt'].strip()}\n")
    for part in shown["parts"]:
        from grader.contract import points_text

        click.echo(f"- {part['id']} ({part['type']}, {points_text(part['points'])}): {part['prompt'].strip()}")
        if part.get("hint"):
            click.echo(f"  answer: {part['hint']}")


@exercises.command("functions")
@click.option("--write", "write", is_flag=True, help="Write the reference into docs/specs.md (between its markers).")
@click.option("--check", "check_only", is_flag=True, help="Exit 1 if docs/specs.md lacks a function or a row is stale.")
def exercises_functions(write: bool, check_only: bool) -> None:
    """Every function and filter a spec can use: call, result, what it is, an example (Markdown).

    The same table is in docs/specs.md, generated from the functions' signatures, docstrings and examples.
    """
    from grader.specs import reference

    if not (write or check_only):
        click.echo(reference.block())
        return
    path = reference.docs_file()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"could not read {path}: {exc.strerror}")
    if check_only:
        stale = reference.stale(text)
        if stale:
            click.echo(f"{path.name} is stale: {', '.join(stale)} (run 'grader exercises functions --write')", err=True)
            sys.exit(1)
        click.echo(f"{path.name} lists every function and filter")
        return
    try:
        path.write_text(reference.replaced(text), encoding="utf-8")
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"could not write {path}: {exc.strerror}")
    click.echo(f"wrote {path}")


# validate and solutions -----------------------------------------------------------------


@cli.command()
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


@cli.command()
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only check that solutions/ is up to date (exit 1 if stale).",
)
def solutions(check_only: bool) -> None:
    """Write the reference answers of the default variants to solutions/."""
    from grader.specs.solutions import stale_solutions, write_solutions

    if check_only:
        stale = stale_solutions(catalog_or_exit())
        if stale:
            click.echo("stale: " + ", ".join(stale) + " (run 'grader solutions')", err=True)
            sys.exit(1)
        click.echo("solutions/ is up to date")
        return
    for path in write_solutions(catalog_or_exit()):
        click.echo(f"wrote {path}")


def main() -> None:
    """Entry point of the ``grader`` command."""
    try:
        _attach_optional_commands()
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


def _attach_optional_commands() -> None:
    """Commands defined with the parts of the product they drive (notebooks, web)."""
    from grader.commands import register

    register(cli)


if __name__ == "__main__":
    main()
