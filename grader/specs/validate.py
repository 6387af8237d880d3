"""``grader validate``: prove that every spec grades its own answers as intended.

For the default variant and many seeded variants of each exercise: the
reference answer scores full marks on every part, and each misconception's
recomputed answer is recognised as that misconception and scores less.
A misconception whose answer equals the reference in some variant cannot be
told apart there; it is counted as ``indistinguishable``, not as a failure,
unless that happens in every variant tried.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.checking.compare import plain_equal
from grader.checking.key import AnswerKey
from grader.checking.parts import check_part
from grader.specs.model import Catalog, Exercise, SpecError, load_catalog, load_exercise


@dataclass
class Report:
    error: str | None = None
    checked: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    indistinguishable: Counter[str] = field(default_factory=Counter)

    def text(self) -> str:
        lines = [
            f"{self.checked['exercises']} exercises, {self.checked['variants']} variants, "
            f"{self.checked['references']} reference answers, {self.checked['misconceptions']} misconception answers checked"
        ]
        for name, count in sorted(self.indistinguishable.items()):
            lines.append(f"note: {name} equals the reference in {count} variant(s), so it cannot be told apart there")
        lines.extend(f"FAIL {failure}" for failure in self.failures)
        lines.append("all specs valid" if not self.failures else f"{len(self.failures)} failure(s)")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": dict(self.checked),
            "failures": self.failures,
            "indistinguishable": dict(self.indistinguishable),
            "valid": not self.failures,
        }


def validate_paths(paths: list[str], seeds: int = 50) -> Report:
    """Validate spec folders or single spec files (default: the project's exercises/)."""
    report = Report()
    try:
        catalog = load_catalog(None)
        if paths:
            catalog = _catalog_for(paths, catalog)
    except SpecError as exc:
        report.error = str(exc)
        return report
    for exercise in catalog.exercises.values():
        validate_exercise(catalog, exercise, seeds, report)
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


def validate_exercise(catalog: Catalog, exercise: Exercise, seeds: int, report: Report) -> None:
    report.checked["exercises"] += 1
    told_apart: Counter[str] = Counter()
    variants = [("default", catalog.variant(exercise, None))]
    for seed in range(seeds):
        try:
            variants.append((f"seed {seed}", catalog.seeded_variant(exercise, seed)))
        except SpecError as exc:
            report.failures.append(f"{exercise.path.name}: {exercise.id} seed {seed}: {exc}")
    for label, params in variants:
        report.checked["variants"] += 1
        try:
            keys = catalog.keys(exercise, params)
        except SpecError as exc:
            report.failures.append(f"{exc} ({label})")
            continue
        references = {key.part: key.reference for key in keys}
        for key in keys:
            where = f"{exercise.path.name}: {exercise.id} part {key.part} ({label})"
            _check_reference(key, references, where, report)
            for rule in key.misconceptions:
                name = f"{exercise.id}/{key.part}/{rule.id}"
                if plain_equal(rule.answer, key.reference):
                    report.indistinguishable[name] += 1
                    continue
                told_apart[name] += 1
                _check_misconception(key, rule, references, where, report)
    try:
        default_keys = catalog.keys(exercise, variants[0][1])
    except SpecError:
        return  # already reported above
    for key in default_keys:
        for rule in key.misconceptions:
            name = f"{exercise.id}/{key.part}/{rule.id}"
            if not told_apart[name]:
                report.failures.append(f"{exercise.path.name}: {name}: equals the reference in every variant tried")


def _check_reference(key: AnswerKey, references: dict[str, Any], where: str, report: Report) -> None:
    if key.kind == "text":
        return
    report.checked["references"] += 1
    result, _ = check_part(key, key.type.submitted(key.reference), _read_earlier(references))
    if result.status != "correct" or result.score != result.max_score:
        report.failures.append(
            f"{where}: the reference answer scores {result.score}/{result.max_score} ({result.status}: {result.feedback})"
        )


def _check_misconception(key: AnswerKey, rule: Any, references: dict[str, Any], where: str, report: Report) -> None:
    report.checked["misconceptions"] += 1
    result, _ = check_part(key, key.type.submitted(rule.answer), _read_earlier(references))
    if result.misconception != rule.id or result.score >= result.max_score:
        report.failures.append(
            f"{where}: misconception {rule.id}'s answer {rule.answer!r} is graded {result.status} "
            f"as {result.misconception or 'no misconception'} ({result.score}/{result.max_score})"
        )


def _read_earlier(references: dict[str, Any]) -> dict[str, Any]:
    """Earlier parts as if the student had answered them correctly (for carried-forward parts)."""
    from grader.checking.reading import Number

    def read(value: Any) -> Any:
        if isinstance(value, list):
            return [read(v) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Number(float(value), repr(value), typed=False)
        return value

    return {part: read(value) for part, value in references.items()}
