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

A misconception whose answer equals the reference in some variant cannot be
told apart there; it is counted as ``indistinguishable``, not as a failure,
unless that happens in every variant tried. The same failure in many
variants is reported once, with the number of variants and seeds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.checking.compare import plain_equal
from grader.checking.key import AnswerKey
from grader.checking.parts import check_part
from grader.checking.reading import Number
from grader.specs.model import Catalog, Exercise, SpecError, load_catalog, load_exercise, render


@dataclass
class Problem:
    """One failure, and every variant it shows in."""

    where: str
    message: str
    example: str
    variants: list[str] = field(default_factory=list)

    def text(self) -> str:
        return f"{self.where}: {self.message} ({_variants(self.variants)}; {self.example})"


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
        for name, count in sorted(self.indistinguishable.items()):
            lines.append(f"note: {name} equals the reference in {count} variant(s), so it cannot be told apart there")
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
                if plain_equal(rule.answer, key.reference):
                    report.indistinguishable[name] += len(labels)
                    continue
                told_apart[name] += 1
                _check_misconception(key, rule, references, where, labels, report)
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
    if part is None or part.answer is None or key.kind in ("text", "expression", "choice"):
        return
    names = set()
    for change in search_answers(part.answer, part.kind, params, key.reference, render=render):
        result, _ = check_part(key, key.type.submitted(change.answer), _read_earlier(references))
        if result.status == "correct":
            continue  # within the part's tolerance of the reference: not told apart
        names.add(change.change.name)
        if change.id not in [result.misconception, *result.details.get("also", [])]:
            where = f"{exercise.id}/{key.part}/{change.change.name}"
            report.renamed[f"{where} is named {result.misconception or 'nothing'}"] += len(labels)
    searched[key.part] = names if key.part not in searched else searched[key.part] & names


def _check_reference(key: AnswerKey, references: dict[str, Any], where: str, labels: list[str], report: Report) -> None:
    if key.kind == "text":
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


def _check_misconception(
    key: AnswerKey, rule: Any, references: dict[str, Any], where: str, labels: list[str], report: Report
) -> None:
    report.checked["misconceptions"] += 1
    result, _ = check_part(key, key.type.submitted(rule.answer), _read_earlier(references))
    if result.misconception != rule.id or result.score >= result.max_score:
        report.problem(
            where,
            f"misconception {rule.id}'s answer is graded {result.status} as {result.misconception or 'no misconception'}",
            labels,
            f"answer {_short(rule.answer)}, {result.score}/{result.max_score}",
        )


def _read_earlier(references: dict[str, Any]) -> dict[str, Any]:
    """Earlier parts as if the student had answered them correctly (for carried-forward parts)."""

    def read(value: Any) -> Any:
        if isinstance(value, list):
            return [read(v) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Number(float(value), repr(value), typed=False)
        return value

    return {part: read(value) for part, value in references.items()}
