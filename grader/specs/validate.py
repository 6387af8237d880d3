"""``grader validate``: prove that every spec grades its own answers as intended.

For the default variant and many seeded variants of each exercise (each
distinct set of parameters checked once):

* the reference answer scores full marks on every part;
* each written misconception's recomputed answer is recognised as that
  misconception and scores less;
* a ``step:`` rule reproduces every item of the reference from the
  reference's own earlier items, and a ``carried:`` rule reproduces the
  reference from the other parts' references (a rule that does not would
  tell students wrong values);
* the catalogue's changes (:mod:`grader.specs.catalogue`) that can be told
  apart from the reference in every variant are listed per part: the
  mistakes the grader names there without a written rule; a change whose
  answer is named otherwise (a written rule or an earlier change giving the
  same answer, error carried forward) is noted.

A misconception whose answer is the reference's in some variant (by the
part's own comparison: an equivalent formula counts), or another written
rule's, cannot be told apart there. Validate fails and lists those variants
unless the misconception says what to do (``on_collision:``): ``skip-variant``
(it does not apply there; the reference or the earlier rule is named, and a
note lists the variants), ``name-both`` (where another rule gives the same
answer, the feedback names both) or ``fail`` (a collision with the reference
fails too); or the exercise's ``constraints:`` keep such variants from being
drawn. A rule that collides in every variant tried always fails. A rule
whose answer has another shape than the part's (a gradient where the Hessian
is asked) is checked like any other. The same failure in many variants is
reported once, with the number of variants and seeds.

What would otherwise go wrong without a word is a failure too: a default
variant that breaks the exercise's constraints, a ``{{name|latex}}`` of
something that is no formula, and a plot that cannot be drawn (its function
not a formula of one or two variables, its part not a sequence of points of
that many numbers).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.answers.parts import check_part
from grader.checking.compare import plain_equal
from grader.checking.key import AnswerKey
from grader.checking.reading import Number
from grader.contract import PartResult
from grader.specs.model import (
    _PLACEHOLDER,
    Catalog,
    Exercise,
    SpecError,
    broken_constraints,
    load_catalog,
    load_exercise,
    render,
)


@dataclass
class Problem:
    """One failure, and every variant it shows in."""

    where: str
    message: str
    example: str
    variants: list[str] = field(default_factory=list)

    def text(self) -> str:
        example = f"; {self.example}" if self.example else ""
        return f"{self.where}: {self.message} ({_variants(self.variants)}{example})"


def _variants(labels: list[str]) -> str:
    seeds = [label.removeprefix("seed ") for label in labels if label.startswith("seed ")]
    parts = ["the default variant"] if "default" in labels else []
    if seeds:
        shown = ", ".join(seeds[:5]) + (", …" if len(seeds) > 5 else "")
        parts.append(f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({shown})")
    return "in " + " and ".join(parts)


@dataclass
class Report:
    error: str | None = None
    checked: Counter[str] = field(default_factory=Counter)
    problems: dict[tuple[str, str], Problem] = field(default_factory=dict)
    indistinguishable: Counter[str] = field(default_factory=Counter)
    searchable: dict[str, list[str]] = field(default_factory=dict)
    renamed: Counter[str] = field(default_factory=Counter)
    collisions: dict[str, list[str]] = field(default_factory=dict)  # a note: the variants, as the spec allows

    def collided(self, note: str, labels: list[str]) -> None:
        """Record a collision the spec resolves (``on_collision``), with the variants it shows in."""
        entry = self.collisions.setdefault(note, [])
        entry.extend(label for label in labels if label not in entry)

    def problem(self, where: str, message: str, labels: list[str], example: str = "") -> None:
        """Record a failure; the same ``where`` and ``message`` in another variant only adds its labels."""
        entry = self.problems.setdefault((where, message), Problem(where, message, example))
        entry.variants.extend(label for label in labels if label not in entry.variants)

    @property
    def failures(self) -> list[str]:
        return [problem.text() for problem in self.problems.values()]

    def text(self) -> str:
        lines = [
            f"{self.checked['exercises']} exercises, {self.checked['variants']} variants "
            f"({self.checked['distinct variants']} distinct), {self.checked['references']} reference answers, "
            f"{self.checked['misconceptions']} misconception answers, {self.checked['steps']} step and carried rules checked"
        ]
        for note, labels in sorted(self.collisions.items()):
            lines.append(f"note: {note} ({_variants(labels)})")
        for part, changes in sorted(self.searchable.items()):
            lines.append(f"searched: {part}: {', '.join(changes) if changes else 'no catalogue change'}")
        for what, count in sorted(self.renamed.items()):
            lines.append(f"note: catalogue change {what} in {count} variant(s)")
        lines.extend(f"FAIL {failure}" for failure in self.failures)
        lines.append("all specs valid" if not self.problems else f"{len(self.problems)} failure(s)")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": dict(self.checked),
            "failures": self.failures,
            "problems": [
                {"where": p.where, "message": p.message, "example": p.example, "variants": p.variants}
                for p in self.problems.values()
            ],
            "indistinguishable": dict(self.indistinguishable),
            "collisions": {note: labels for note, labels in self.collisions.items()},
            "searchable": self.searchable,
            "renamed": dict(self.renamed),
            "valid": not self.problems,
        }


def validate_paths(paths: list[str], seeds: int = 50, search: bool = True) -> Report:
    """Validate spec folders or single spec files (default: the project's exercises/)."""
    report = Report()
    try:
        catalog = load_catalog(None)
        if paths:
            catalog = _catalog_for(paths, catalog)
    except SpecError as exc:
        report.error = str(exc)
        return report
    return validate_catalog(catalog, seeds, report, search)


def validate_catalog(catalog: Catalog, seeds: int, report: Report | None = None, search: bool = True) -> Report:
    """Validate every exercise of a loaded catalog (``search``: also list the catalogue changes per part)."""
    report = report or Report()
    for exercise in catalog.exercises.values():
        validate_exercise(catalog, exercise, seeds, report, search)
    return report


def _catalog_for(paths: list[str], base: Catalog) -> Catalog:
    exercises: dict[str, Exercise] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            exercises.update(load_catalog(path).exercises)
        else:
            exercise = load_exercise(path, base.misconceptions)
            exercises[exercise.id] = exercise
    return Catalog(exercises, {}, base.misconceptions, base.per_student, base.secret)


def _distinct_variants(
    catalog: Catalog, exercise: Exercise, seeds: int, report: Report
) -> list[tuple[dict[str, Any], list[str]]]:
    """The default variant and the seeded ones, each distinct set of parameters once with its labels."""
    where = f"{exercise.path.name}: {exercise.id}"
    drawn: list[tuple[str, Any]] = [("default", lambda: catalog.variant(exercise, None))]
    drawn += [(f"seed {seed}", lambda seed=seed: catalog.seeded_variant(exercise, seed)) for seed in range(seeds)]
    distinct: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for label, draw in drawn:
        report.checked["variants"] += 1
        try:
            params = draw()
        except SpecError as exc:
            report.problem(where, str(exc), [label])
            continue
        entry = distinct.setdefault(repr(sorted(params.items())), (params, []))
        entry[1].append(label)
    return list(distinct.values())


def validate_exercise(catalog: Catalog, exercise: Exercise, seeds: int, report: Report, search: bool = True) -> None:
    report.checked["exercises"] += 1
    told_apart: Counter[str] = Counter()
    searched: dict[str, set[str]] = {}
    variants = _distinct_variants(catalog, exercise, seeds, report)
    for params, labels in variants:
        report.checked["distinct variants"] += 1
        try:
            _check_variant(exercise, params, labels, report)
        except SpecError as exc:
            report.problem(str(exc), "the constraint cannot be checked", labels)
        try:
            keys = catalog.keys(exercise, params)
        except SpecError as exc:
            report.problem(str(exc), "the answer cannot be computed", labels)
            continue
        references = {key.part: key.reference for key in keys}
        for key in keys:
            where = f"{exercise.path.name}: {exercise.id} part {key.part}"
            _check_reference(key, references, where, labels, report)
            _check_rules(key, references, where, labels, report)
            for rule in key.misconceptions:
                name = f"{exercise.id}/{key.part}/{rule.id}"
                graded = _graded(key, rule.answer, references)
                if plain_equal(rule.answer, key.reference) or graded.status == "correct":
                    report.indistinguishable[name] += len(labels)
                    _reference_collision(rule, name, where, labels, report)
                    continue
                told_apart[name] += 1
                _check_misconception(key, rule, graded, name, where, labels, report)
            if search:
                _search(catalog, exercise, key, params, searched, references, labels, report)
    for part, changes in searched.items():
        report.searchable[f"{exercise.id}/{part}"] = sorted(changes)
    if not variants:
        return
    try:
        default_keys = catalog.keys(exercise, variants[0][0])
    except SpecError:
        return  # already reported above
    for key in default_keys:
        for rule in key.misconceptions:
            name = f"{exercise.id}/{key.part}/{rule.id}"
            if not told_apart[name]:
                report.problem(
                    f"{exercise.path.name}: {name}", "equals the reference in every variant tried", ["default"]
                )


def _search(
    catalog: Catalog,
    exercise: Exercise,
    key: AnswerKey,
    params: dict[str, Any],
    searched: dict[str, set[str]],
    references: dict[str, Any],
    labels: list[str],
    report: Report,
) -> None:
    """Keep, per part, the catalogue changes told apart from the reference in every variant so far, and note a
    change whose answer the grader names otherwise (another change or a written rule first, or nothing)."""
    from grader.specs.catalogue import search_answers

    part = exercise.part(key.part)
    if part is None or part.answer is None or not part.type.searched or part.kind == "expression":
        return  # a formula part's changes are not checked here
    names = set()
    context = catalog.search_context(exercise, part, params)
    for change in search_answers(part.answer, part.kind, params, key.reference, render=render, context=context):
        result, _ = check_part(key, key.type.submitted(change.answer), _read_earlier(references))
        if result.status == "correct":
            continue  # within the part's tolerance of the reference: not told apart
        names.add(change.change.name)
        if change.id not in [result.misconception, *result.details.get("also", [])]:
            where = f"{exercise.id}/{key.part}/{change.change.name}"
            report.renamed[f"{where} is named {result.misconception or 'nothing'}"] += len(labels)
    searched[key.part] = names if key.part not in searched else searched[key.part] & names


def _check_reference(key: AnswerKey, references: dict[str, Any], where: str, labels: list[str], report: Report) -> None:
    if key.type.read_by_ta:  # no reference to check: a person reads it
        return
    report.checked["references"] += 1
    result, _ = check_part(key, key.type.submitted(key.reference), _read_earlier(references))
    if result.status != "correct" or result.score != result.max_score:
        report.problem(
            where,
            "the reference answer does not score full marks",
            labels,
            f"{result.score}/{result.max_score}, {result.status}: {result.feedback}",
        )


def _check_rules(key: AnswerKey, references: dict[str, Any], where: str, labels: list[str], report: Report) -> None:
    """A ``step:`` rule gives each reference item from the reference's own earlier items; ``carried:`` the reference."""
    if key.step is not None and isinstance(key.reference, list):
        report.checked["steps"] += 1
        for k in range(1, len(key.reference)):
            try:
                got = key.step(key.reference[:k])
            except (ValueError, ArithmeticError, TypeError, KeyError) as exc:
                got = f"an error ({exc})"
            if not _close(got, key.reference[k]):
                report.problem(
                    where,
                    "its step rule does not reproduce the reference from the reference's own earlier items, "
                    "so error carried forward would judge students by another rule",
                    labels,
                    f"after items 0…{k - 1} it gives {_short(got)}, the reference has {_short(key.reference[k])}",
                )
                break
    if key.carried is not None:
        report.checked["steps"] += 1
        try:
            got = key.carried(_read_earlier(references))
        except (ValueError, ArithmeticError, TypeError, KeyError) as exc:
            got = f"an error ({exc})"
        if not _close(got, key.reference):
            report.problem(
                where,
                "its carried rule does not reproduce the reference from the other parts' references",
                labels,
                f"it gives {_short(got)}, the reference is {_short(key.reference)}",
            )


def _close(a: Any, b: Any) -> bool:
    """Equal to 1e-9 relative (the same computation in another order may differ in the last digits)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(a - b) <= 1e-9 * max(1.0, abs(b))
    return plain_equal(a, b)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _graded(key: AnswerKey, answer: Any, references: dict[str, Any]) -> PartResult:
    """How the part grades ``answer`` (a rule's) as a student's, with the earlier parts answered right."""
    result, _ = check_part(key, key.type.submitted(answer), _read_earlier(references))
    return result


RESOLVE = (
    "say what to do under the misconception (on_collision: skip-variant or name-both), "
    "or keep such variants from being drawn (constraints:)"
)


def _reference_collision(rule: Any, name: str, where: str, labels: list[str], report: Report) -> None:
    """A rule whose answer is the reference's in these variants: a note where the spec allows it, else a failure."""
    if rule.on_collision in ("skip-variant", "name-both"):
        report.collided(
            f"{name} equals the reference, so it does not apply there (on_collision: {rule.on_collision})", labels
        )
    elif rule.on_collision == "fail":
        report.problem(where, f"misconception {rule.id}'s answer equals the reference (on_collision: fail)", labels)
    else:
        report.problem(
            where,
            f"misconception {rule.id}'s answer equals the reference, so a student who made that mistake "
            f"would score full marks there; {RESOLVE}",
            labels,
        )


def _check_misconception(
    key: AnswerKey, rule: Any, result: PartResult, name: str, where: str, labels: list[str], report: Report
) -> None:
    report.checked["misconceptions"] += 1
    if result.misconception == rule.id and result.score < result.max_score:
        return
    written = {other.id for other in key.misconceptions if other.id != rule.id}
    other = result.misconception
    if other in written and result.score < result.max_score:
        if rule.id in result.details.get("also", []):
            report.collided(f"{name} gives {other}'s answer; both are named (on_collision: name-both)", labels)
            return
        if rule.on_collision == "skip-variant":
            report.collided(
                f"{name} gives {other}'s answer, so {other} is named there (on_collision: skip-variant)", labels
            )
            return
        report.problem(
            where,
            f"misconception {rule.id}'s answer is {other}'s, so only {other} is named there; {RESOLVE}",
            labels,
            f"answer {_short(rule.answer)}",
        )
        return
    report.problem(
        where,
        f"misconception {rule.id}'s answer is graded {result.status} as {result.misconception or 'no misconception'}",
        labels,
        f"answer {_short(rule.answer)}, {result.score}/{result.max_score}",
    )


def _check_variant(exercise: Exercise, params: dict[str, Any], labels: list[str], report: Report) -> None:
    """What a variant would otherwise get wrong without a word: the constraints the default variant breaks,
    a ``{{name|latex}}`` of no formula, and a plot that cannot be drawn."""
    where = f"{exercise.path.name}: {exercise.id}"
    if "default" in labels and exercise.constraints:
        broken = broken_constraints(exercise, params)
        if broken:
            report.problem(
                where, f"the default variant (the slides' numbers) breaks the constraint {broken[0]!r}", labels
            )
    texts = [("prompt", exercise.prompt)] + [(f"part {part.id} prompt", part.prompt) for part in exercise.parts]
    for field_name, text in texts:
        for match in _PLACEHOLDER.finditer(text or ""):
            name, style = match.group(1), match.group(2)
            if style == "latex" and name in params:
                problem = _not_latex(params[name])
                if problem:
                    report.problem(where, f"{field_name}: {match.group(0)} is {problem}", labels)
    if exercise.plot:
        problem = _not_plotted(exercise, params)
        if problem:
            report.problem(where, f"plot: {problem}", labels)


def _not_latex(value: Any) -> str | None:
    """Why ``{{name|latex}}`` cannot typeset ``value`` (text that is no formula), or None."""
    from grader.expressions import ExpressionError
    from grader.specs.formulas import checked

    if isinstance(value, list):
        return next((problem for item in value if (problem := _not_latex(item))), None)
    if isinstance(value, str):
        try:
            checked(value)
        except ExpressionError as exc:
            return f"not a formula ({exc})"
    return None


def _not_plotted(exercise: Exercise, params: dict[str, Any]) -> str | None:
    """Why the exercise's plot cannot be drawn for this variant, or None."""
    from grader.calculus import variables_of
    from grader.expressions import ExpressionError
    from grader.specs.formulas import checked

    function, part = exercise.plot["function"], exercise.part(exercise.plot["part"])
    value = params.get(function)
    if part is None or part.kind != "sequence":
        return f"part {exercise.plot['part']} is a {part.kind if part else 'missing'} part; a path is a sequence part"
    try:
        names = variables_of(checked(value)) if isinstance(value, str) else None
    except ExpressionError as exc:
        return f"{function} is not a formula ({exc})"
    if names is None or not 1 <= len(names) <= 2:
        return f"{function} must be a formula of one or two variables to be drawn, not {_short(value)}"
    return None


def _read_earlier(references: dict[str, Any]) -> dict[str, Any]:
    """Earlier parts as if the student had answered them correctly (for carried-forward parts)."""

    def read(value: Any) -> Any:
        if isinstance(value, list):
            return [read(v) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Number(float(value), repr(value), typed=False)
        return value

    return {part: read(value) for part, value in references.items()}
