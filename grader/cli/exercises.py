"""``grader exercises list|show|functions``: the course's exercises and assignments, a prompt with a student's
numbers, and the functions a spec can use."""

from __future__ import annotations

import json
import sys

import click

from grader.cli.common import FORMAT, catalog_or_exit, fail


@click.group()
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
