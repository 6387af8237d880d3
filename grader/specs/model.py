"""Exercise specs: loading and checking the YAML, variants per student, answer keys.

A spec is data (see ``docs/specs.md``): parameters (fixed or drawn per
student), a prompt, and parts whose reference answers and misconception
answers are expressions over :mod:`grader.specs.functions`. Loading checks
every field and raises :class:`SpecError` naming the file and the field.
:meth:`Catalog.keys` turns one exercise and one variant into the
:class:`~grader.checking.key.AnswerKey` list the checker needs, computed
once per variant and cached. What each ``type:`` accepts, reads and checks
is its class in :mod:`grader.answers`.
"""

from __future__ import annotations

import copy
import fcntl
import functools
import hashlib
import math
import os
import random
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from grader.answers import TYPES, AnswerType, OptionError
from grader.answers.base import COMMON_OPTIONS
from grader.checking.compare import Tolerance
from grader.checking.key import AnswerKey, Misconception
from grader.checking.reading import Interval, Number
from grader.expressions import ExpressionError
from grader.paths import data_dir, exercises_dir, private_dir, private_file
from grader.settings import current
from grader.specs import formulas, language
from grader.specs.course import Assignment, read_course
from grader.specs.functions import FUNCTIONS, example, plain

ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DEFAULT_STUDENT = "default"


class SpecError(ValueError):
    """A spec file is wrong; the message names the file, the exercise or part, and the field."""


@dataclass(frozen=True)
class Parameter:
    """A parameter: a fixed value, or drawn per student from ``choices`` (the default first in the slides)."""

    name: str
    default: Any
    choices: tuple[Any, ...] = ()

    def draw(self, rng: random.Random) -> Any:
        return rng.choice(self.choices) if self.choices else self.default


COLLISIONS = ("skip-variant", "name-both", "fail")
"""What a misconception's ``on_collision:`` may say to do where its answer is the reference's or another rule's."""


@dataclass(frozen=True)
class MisconceptionRule:
    id: str
    answer: str
    credit: float
    feedback: str
    on_collision: str = ""  # "" (validate fails, listing the variants) or one of COLLISIONS


@dataclass(frozen=True)
class Part:
    """One part of a spec: its answer type (with the type's options) and the spec expressions that are
    evaluated per variant: the reference ``answer``, the misconceptions' answers, and the options
    ``step``, ``carried``, ``cases`` (of the types that take them) and ``call`` (code exercises)."""

    id: str
    type: AnswerType
    points: float
    prompt: str
    answer: str | None
    misconceptions: tuple[MisconceptionRule, ...]
    tolerance: Tolerance
    step: str | None = None
    carried: str | None = None
    cases: str | list[Any] | None = None
    call: str | list[Any] | None = None

    @property
    def kind(self) -> str:
        """The YAML ``type:`` of the part."""
        return self.type.name


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    prompt: str
    parameters: tuple[Parameter, ...]
    derived: Mapping[str, str]
    parts: tuple[Part, ...]
    path: Path
    kind: str = "answers"  # or "code": graded by calling a student's function (see notebooks)
    code: Mapping[str, Any] = field(default_factory=dict)
    plot: Mapping[str, str] = field(default_factory=dict)  # {function: parameter, part: part id}
    constraints: tuple[str, ...] = ()  # comparisons every drawn variant satisfies (``n % b != 0``)

    def part(self, part_id: str) -> Part | None:
        return next((p for p in self.parts if p.id == part_id), None)

    @property
    def max_score(self) -> float:
        return sum(p.points for p in self.parts)


class Catalog:
    """All specs of a folder: exercises, assignments, the misconception catalogue and course settings."""

    def __init__(
        self,
        exercises: Mapping[str, Exercise],
        assignments: Mapping[str, Assignment],
        misconceptions: Mapping[str, Mapping[str, Any]],
        per_student: bool,
        secret: str,
        kernel_packages: tuple[str, ...] = (),
        late_days: int = 0,
    ) -> None:
        self.exercises = dict(exercises)
        self.kernel_packages = tuple(kernel_packages)  # what students may import: the sandbox's self-check proves it
        self.assignments = dict(assignments)
        self.late_days = late_days  # the course's bank of free late days (course.yaml ``late_days``)
        # Each exercise's assignment with rules (deadlines, attempts, feedback): at most one, checked at load.
        self.ruled = {e: a for a in self.assignments.values() if a.rules.active for e in a.exercises}
        self.misconceptions = dict(misconceptions)
        self.per_student = per_student
        self.secret = secret
        self.search = True  # name mistakes by the catalogue's changes when no written rule matches
        self._keys: dict[tuple[str, tuple[tuple[str, str], ...]], list[AnswerKey]] = {}
        self._derived: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def rules_for(self, exercise_id: str) -> Assignment | None:
        """The assignment whose rules govern hand-ins of ``exercise_id`` (None: always open, full feedback)."""
        return self.ruled.get(exercise_id)

    def exercise(self, exercise_id: str) -> Exercise:
        try:
            return self.exercises[exercise_id]
        except KeyError:
            raise KeyError(f"unknown exercise {exercise_id!r}") from None

    def variant(self, exercise: Exercise, student: str | None = None) -> dict[str, Any]:
        """The parameters of ``student``'s variant: the slides' numbers unless variants are per student.

        A code exercise's parameters are the hidden inputs its function is
        called with, on no slide, so they are drawn per student either way.
        """
        per_student = self.per_student or exercise.kind == "code"
        if not per_student or not student or student == DEFAULT_STUDENT:
            drawn = {p.name: p.default for p in exercise.parameters}
            return self._with_derived(exercise, drawn)
        seed = hashlib.sha256(f"{self.secret}\0{exercise.id}\0{student}".encode()).digest()
        return self._drawn(exercise, random.Random(seed))

    def seeded_variant(self, exercise: Exercise, seed: int) -> dict[str, Any]:
        """A variant drawn from an integer seed (for ``validate``)."""
        return self._drawn(exercise, random.Random(seed))

    def _drawn(self, exercise: Exercise, rng: random.Random) -> dict[str, Any]:
        """Parameters drawn from ``rng`` until they satisfy the exercise's ``constraints:`` (the first draw without any)."""
        for _ in range(MAX_DRAWS):
            params = self._with_derived(exercise, {p.name: p.draw(rng) for p in exercise.parameters})
            if not exercise.constraints or not broken_constraints(exercise, params):
                return params
        raise SpecError(
            f"{exercise.path.name}: {exercise.id} constraints: no variant satisfies "
            f"{' and '.join(exercise.constraints)} in {MAX_DRAWS} draws; widen the choices or the constraints"
        )

    def _with_derived(self, exercise: Exercise, names: dict[str, Any]) -> dict[str, Any]:
        """The parameters with the derived values added, computed once per variant (stationary points
        are a sympy solve: tens of milliseconds that every submission would otherwise pay again)."""
        cache_key = (exercise.id, tuple(sorted((k, repr(v)) for k, v in names.items())))
        derived = self._derived.get(cache_key)
        if derived is None:
            derived = {}
            for name, expression in exercise.derived.items():
                derived[name] = plain(_evaluate(exercise, f"derived.{name}", expression, {**names, **derived}))
            with self._lock:
                if len(self._derived) > 20_000:
                    self._derived.clear()
                self._derived[cache_key] = derived
        return {**names, **copy.deepcopy(derived)}

    def rederived(self, exercise: Exercise, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` with the derived values computed again from its drawn ones (after one was changed: a
        student who misreads f also finds other stationary points). Raises SpecError where they cannot be."""
        drawn = {p.name: params[p.name] for p in exercise.parameters if p.name in params}
        return {**params, **self._with_derived(exercise, drawn)}

    def keys(self, exercise: Exercise, params: Mapping[str, Any]) -> list[AnswerKey]:
        """The answer keys of every part for one variant (computed once per variant)."""
        cache_key = (exercise.id, tuple(sorted((k, repr(v)) for k, v in params.items())))
        keys = self._keys.get(cache_key)
        if keys is None:
            keys = [self._key(exercise, part, params) for part in exercise.parts]
            with self._lock:
                if len(self._keys) > 20_000:
                    self._keys.clear()
                self._keys[cache_key] = keys
        return keys

    def _key(self, exercise: Exercise, part: Part, params: Mapping[str, Any]) -> AnswerKey:
        where = f"part {part.id}"
        reference = None if part.answer is None else _value(_evaluate(exercise, f"{where}.answer", part.answer, params))
        rules = tuple(
            Misconception(
                id=rule.id,
                answer=_value(_evaluate(exercise, f"{where}.misconceptions.{rule.id}", rule.answer, params)),
                credit=rule.credit,
                feedback=render(rule.feedback, params),
                on_collision=rule.on_collision,
            )
            for rule in part.misconceptions
        )
        return AnswerKey(
            part=part.id,
            type=part.type,
            points=part.points,
            reference=reference,
            misconceptions=rules,
            searched=self._searched(exercise, part, params, reference),
            tolerance=part.tolerance,
            step=None if part.step is None else _evaluate(exercise, f"{where}.step", part.step, params),
            carried=None if part.carried is None else _carried(part.carried, params),
            cases=tuple(_format(c) for c in _cases(exercise, where, part.cases, params)) if part.cases else (),
            secret=exercise.kind == "code",
            at=_point_of(part.answer, params),
        )

    def _searched(self, exercise: Exercise, part: Part, params: Mapping[str, Any], reference: Any) -> Any:
        """The catalogue's answers for the part, computed when first needed (None: search off or not applicable)."""
        if not self.search or part.answer is None or not part.type.searched:
            return None
        from grader.specs.catalogue import searcher

        secret = exercise.kind == "code"  # hidden inputs never appear in a sentence
        return searcher(
            part.answer,
            part.kind,
            dict(params),
            reference,
            self.misconceptions,
            None if secret else render,
            self.search_context(exercise, part, params),
        )

    def search_context(self, exercise: Exercise, part: Part, params: Mapping[str, Any]) -> Any:
        """What the catalogue's changes may use for one part of one variant besides its parameters: the values the
        spec's parameters take in its variants (with per-student variants: another student's, or the slides'),
        the values parameters of the same kind take in other exercises, the other parts' references, and a
        formula part's variables (see :class:`grader.specs.catalogue.Context`)."""
        from grader.specs.catalogue import Context

        def siblings() -> dict[str, Any]:
            with_keys = self.keys(exercise, params)
            return {key.part: key.reference for key in with_keys if key.part != part.id}

        seen = self.per_student and exercise.kind != "code"  # other variants exist only for students to compare
        return Context(
            choices={p.name: (p.default, *p.choices) for p in exercise.parameters if p.choices} if seen else {},
            elsewhere=self._elsewhere(exercise.id),
            siblings=siblings,
            variables=tuple(getattr(part.type, "variables", ()) or ()),
            derive=functools.partial(self._rederived_if_needed, exercise, params) if exercise.derived else None,
            secret=exercise.kind == "code",
        )

    def _rederived_if_needed(
        self, exercise: Exercise, params: Mapping[str, Any], changed: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``changed`` with the derived values computed again, where one they are derived from has changed."""
        inputs = _derived_inputs(tuple(exercise.derived.values()))
        if not any(name in inputs and changed.get(name) != params.get(name) for name in changed):
            return dict(changed)
        return self.rederived(exercise, changed)

    def _elsewhere(self, exercise_id: str) -> dict[str, tuple[Any, ...]]:
        """Per family of parameters (learning rates, momentum factors, …), the numbers they take in the other
        exercises (defaults and choices, and the items of a list such as ``etas``)."""
        from grader.specs.catalogue import family

        found: dict[str, set[float]] = {}
        for other in self.exercises.values():
            if other.id == exercise_id or other.kind == "code":
                continue
            for parameter in other.parameters:
                kind = family(parameter.name)
                if kind is None:
                    continue
                for value in (parameter.default, *parameter.choices):
                    items = value if isinstance(value, list) else [value]
                    found.setdefault(kind, set()).update(
                        float(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)
                    )
        return {kind: tuple(sorted(values)) for kind, values in found.items()}

    def calls(self, exercise: Exercise, params: Mapping[str, Any]) -> dict[str, list[Any]]:
        """For a code exercise: the arguments the student's function is called with, per part."""
        return {
            part.id: plain(_evaluate(exercise, f"part {part.id}.call", part.call, params)) for part in exercise.parts
        }

    def prompt(self, exercise: Exercise, params: Mapping[str, Any]) -> dict[str, Any]:
        """The exercise as a student sees it: title, prompt and parts with their numbers, never answers.

        A code exercise's parameters are the hidden inputs its function is
        called with, so they are left out (its texts may still show some).
        Each part of an answers exercise carries its ``hint``: how to write
        the answer (its example never gives the answer away).
        """
        if exercise.kind == "code":
            return {
                "id": exercise.id,
                "title": exercise.title,
                "prompt": render(exercise.prompt, params),
                "parameters": {},
                "parts": [_shown_part(p, params) for p in exercise.parts],
            }
        return {
            "id": exercise.id,
            "title": exercise.title,
            "prompt": render(exercise.prompt, params),
            "parameters": {p.name: params[p.name] for p in exercise.parameters},
            "parts": [
                {**_shown_part(part, params), "hint": key.hint()}
                for part, key in zip(exercise.parts, self.keys(exercise, params), strict=True)
            ],
        }


def _shown_part(part: Part, params: Mapping[str, Any]) -> dict[str, Any]:
    """A part as the student sees it; a choice part also lists its options (they are the question)."""
    return {
        "id": part.id,
        "type": part.kind,
        "field": part.type.form_field,
        "points": part.points,
        "prompt": render(part.prompt, params),
        **part.type.shown(),
    }


def _cases(exercise: Exercise, where: str, cases: Any, params: Mapping[str, Any]) -> list[Any]:
    """The cases a labels part names one by one (``case_name`` gets each in place of ``{}``; never ``str.format``)."""
    values = plain(_evaluate(exercise, f"{where}.cases", cases, params))
    if not isinstance(values, list):
        raise SpecError(f"{exercise.path.name}: {exercise.id} {where}.cases: must give a list, not {values!r}")
    return values


MAX_DRAWS = 1000  # draws tried for a variant that satisfies an exercise's constraints


def broken_constraints(exercise: Exercise, params: Mapping[str, Any]) -> list[str]:
    """The constraints of ``exercise`` that the variant ``params`` breaks (each must be True or False)."""
    broken = []
    for text in exercise.constraints:
        value = _evaluate(exercise, "constraints", text, params)
        if not isinstance(value, bool | np.bool_):
            raise SpecError(
                f"{exercise.path.name}: {exercise.id} constraints: {text!r} must be a comparison "
                f"(True or False), not {value!r}"
            )
        if not value:
            broken.append(text)
    return broken


def _carried(expression: str, params: Mapping[str, Any]) -> Any:
    def carried(earlier: Mapping[str, Any]) -> Any:
        def student(part_id: str) -> Any:
            return _plain_answer(earlier[part_id])

        names = {**params, "student": student}
        return _value(language.evaluate(expression, names, FUNCTIONS))

    return carried


def _plain_answer(value: Any) -> Any:
    if isinstance(value, Number):
        return value.value
    if isinstance(value, list):
        return [_plain_answer(v) for v in value]
    if value is None:
        raise KeyError("no readable answer")
    return value


def _evaluate(exercise: Exercise, where: str, expression: Any, params: Mapping[str, Any]) -> Any:
    """Evaluate a spec expression; a YAML list is evaluated item by item, other data is taken as it is."""
    if isinstance(expression, list):
        return [_evaluate(exercise, where, item, params) for item in expression]
    if not isinstance(expression, str):
        return expression
    try:
        return language.evaluate(expression, params, FUNCTIONS)
    except (language.SpecExpressionError, ValueError, TypeError, ArithmeticError) as exc:
        raise SpecError(f"{exercise.path.name}: {exercise.id} {where}: {exc}") from exc


def _value(value: Any) -> Any:
    """Reference answers as plain data (an Interval or a callable stays as it is)."""
    return value if isinstance(value, Interval) or callable(value) else plain(value)


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s*\|\s*([A-Za-z_][A-Za-z0-9_]*))?\s*\}\}")


def render(template: str, params: Mapping[str, Any]) -> str:
    """Fill ``{{ name }}`` (or ``{{ name | latex }}``, a filter of :data:`FILTERS`) with a variant's parameters.

    Inside TeX maths (between ``$`` signs) a number with an exponent is written as a power of ten
    (``$\\epsilon = {{eps}}$`` → ``$\\epsilon = 10^{-8}$``), which KaTeX typesets; ``1e-8`` there would read
    "1e − 8". Elsewhere it stays ``1e-8``.
    """
    text = template or ""

    def fill(match: re.Match[str]) -> str:
        name, style = match.group(1), match.group(2)
        if name not in params or (style is not None and style not in FILTERS):
            return match.group(0)
        value = params[name]
        if style is not None:
            return FILTERS[style](value)
        return _format(value, maths=_in_maths(text, match.start()))

    return _PLACEHOLDER.sub(fill, text)


def _in_maths(text: str, position: int) -> bool:
    """Whether ``position`` lies between ``$`` signs (an odd number of unescaped ``$`` before it)."""
    return len(re.findall(r"(?<!\\)\$", text[:position])) % 2 == 1


def _format(value: Any, maths: bool = False) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        shown = re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).strip("+") + m.group(2), f"{value:.10g}")  # 1e-8
        if maths and "e" in shown:
            mantissa, exponent = shown.split("e")
            power = f"10^{{{exponent}}}"
            if mantissa in ("1", "-1"):
                return mantissa[:-1] + power
            return f"{mantissa} \\cdot {power}"
        return shown
    if isinstance(value, list):
        return "[" + ", ".join(_format(v, maths) for v in value) + "]"
    return str(value)


@example("log(1 + exp(2*x)) + x**2")
def latex(formula: Any) -> str:
    """A formula in LaTeX for prompts; a list of formulas (a gradient) as a column vector, a list of rows as a matrix."""
    try:
        return formulas.latex(formula, lambda value: _format(value, maths=True))
    except ExpressionError:  # not a formula: shown as written (grader validate names it)
        return _format(formula, maths=True)


FILTERS: dict[str, Callable[[Any], str]] = {"latex": latex}
"""The filters of ``{{ name | filter }}`` in prompts and feedback (each applies to a formula parameter)."""


# Loading -------------------------------------------------------------------------------

MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def load_catalog(path: Path | str | None = None) -> Catalog:
    """Load every spec in a folder (default: the project's ``exercises/``); raises SpecError."""
    folder = Path(path) if path else exercises_dir()
    if not folder.is_dir():
        raise SpecError(f"{folder} is not a folder of exercise specs")
    course_file = folder / "course.yaml"
    course = _read_yaml(course_file) if course_file.exists() else {}
    settings, mistakes = read_course(course, course_file)  # before the exercises: they use its misconceptions
    if mistakes:
        raise SpecError(mistakes)
    misconceptions = settings.misconceptions
    exercises: dict[str, Exercise] = {}
    for file in sorted(folder.glob("*.yaml")):
        if file.name == "course.yaml":
            continue
        exercise = load_exercise(file, misconceptions)
        if exercise.id in exercises:
            raise SpecError(
                f"{file.name}: exercise id {exercise.id!r} is already used by {exercises[exercise.id].path.name}"
            )
        exercises[exercise.id] = exercise
    settings, mistakes = read_course(course, course_file, exercises)
    if mistakes:
        raise SpecError(mistakes)
    variants = current().variants or settings.variants
    if variants not in ("slides", "per-student"):
        raise SpecError(f"GRADER_VARIANTS must be 'slides' or 'per-student', not {variants!r}")
    packages = _kernel_packages(course.get("kernel"))
    return Catalog(
        exercises,
        settings.assignments,
        misconceptions,
        variants == "per-student",
        course_secret(),
        packages,
        late_days=settings.late_days,
    )


def _kernel_packages(kernel: Any) -> tuple[str, ...]:
    """``kernel: {packages: [scipy, pandas]}``: the modules the course's notebooks import (dotted names)."""
    if kernel is None:
        return ()
    packages = kernel.get("packages", []) if isinstance(kernel, dict) else None
    if not isinstance(packages, list) or not all(isinstance(p, str) and MODULE_NAME.match(p) for p in packages):
        raise SpecError("course.yaml: kernel: packages must be a list of module names, like [scipy, pandas]")
    unknown = sorted(set(kernel) - {"packages"})
    if unknown:
        raise SpecError(f"course.yaml: kernel has no setting {unknown[0]!r}; the one it has is 'packages'")
    return tuple(packages)


def course_secret() -> str:
    """The course secret that seeds variants: ``GRADER_SECRET``, else a random one kept in the data folder.

    The file (``data/secret``) and its folder are readable by their owner only
    (0600 and 0700), also when they were made before with wider modes.
    """
    given = current().secret
    if given:
        return given
    file = data_dir() / "secret"
    value = secrets.token_hex(16)
    try:
        private_dir(file.parent)
        with os.fdopen(private_file(file, os.O_RDWR), "r+") as stream:
            fcntl.flock(stream, fcntl.LOCK_EX)  # processes starting at once agree on one secret
            kept = stream.read().strip()
            if kept:
                return kept
            stream.write(value)  # a new file, or an empty one: this value becomes the course's secret
    except OSError:  # a data folder we may not write to: a secret kept there is still the course's
        try:
            return file.read_text().strip() or value
        except OSError:
            pass
    return value


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml parses, Python resolves
    """PyYAML's safe loader (libyaml when present), reading ``1e-8`` as a number (YAML 1.2), not text."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise SpecError(f"{file.name}: not valid YAML {_yaml_place(exc)}") from exc
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpecError(f"{file.name}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise SpecError(f"{file.name}: a spec must be a mapping of fields")
    return data


def _yaml_place(exc: yaml.MarkedYAMLError) -> str:
    """Where and what: ``at line 3, column 1: did not find expected ',' or ']' (… started at line 2, column 8)``."""

    def at(mark: Any) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}"

    mark = exc.problem_mark or exc.context_mark
    text = f"at {at(mark)}: {exc.problem or exc.context}" if mark else f"({exc})"
    if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        text += f" ({exc.context}, started at {at(exc.context_mark)})"
    return text


def _require(data: Mapping[str, Any], name: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if name not in data:
        raise SpecError(f"{where}: the field {name!r} is missing")
    value = data[name]
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SpecError(f"{where}: the field {name!r} must be a {expected}")
    return value


_PART_FIELDS = {"id", "type", "points", "prompt", "answer", "misconceptions", "tolerance"}  # the rest: the type's
_EXERCISE_FIELDS = {
    "id",
    "title",
    "prompt",
    "parameters",
    "derived",
    "parts",
    "kind",
    "code",
    "source",
    "plot",
    "constraints",
}


def load_exercise(file: Path, misconceptions: Mapping[str, Mapping[str, Any]] | None = None) -> Exercise:
    """Load and check one spec file."""
    data = _read_yaml(file)
    where = file.name
    unknown = set(data) - _EXERCISE_FIELDS
    if unknown:
        name = min(unknown, key=str)
        raise SpecError(f"{where}{_at(file, (name,))}: unknown field {name!r}{_nearest_field(name, _EXERCISE_FIELDS)}")
    for name, kind in (("id", str), ("title", str), ("prompt", str), ("parts", list)):
        if name in data and not isinstance(data[name], kind):
            shown = "text" if kind is str else "a list"
            raise SpecError(f"{where}{_at(file, (name,))}: the field {name!r} must be {shown}, not {data[name]!r}")
    exercise_id = _require(data, "id", where, str)
    if not ID.match(exercise_id):
        raise SpecError(f"{where}: id {exercise_id!r} must be lower-case letters, digits and dashes")
    where = f"{file.name}: {exercise_id}"
    parameters_data = data.get("parameters") or {}
    if not isinstance(parameters_data, dict):
        raise SpecError(f"{where}: 'parameters' must map names to values")
    parameters = tuple(
        _parameter(name, value, where, lambda key, n=name: _at(file, ("parameters", n, key)))
        for name, value in parameters_data.items()
    )
    derived = data.get("derived") or {}
    if not isinstance(derived, dict) or not all(isinstance(v, str) for v in derived.values()):
        raise SpecError(f"{where}: 'derived' must map names to expressions")
    parts_data = _require(data, "parts", where, list)
    parts = tuple(
        _part(
            p,
            f"{where} part {i + 1}",
            misconceptions or {},
            lambda name, i=i: _line(file, ("parts", i, *(int(k) if k.isdigit() else k for k in name.split(".")))),
        )
        for i, p in enumerate(parts_data)
    )
    ids = [p.id for p in parts]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{where}: two parts share an id")
    constraints = data.get("constraints") or []
    if not isinstance(constraints, list) or not all(isinstance(c, str) for c in constraints):
        raise SpecError(f"{where}{_at(file, ('constraints',))}: 'constraints' must be a list of comparisons in quotes")
    problems = _problems(data, parameters, derived, parts, tuple(constraints))
    if problems:
        raise SpecError(_problems_sentence(where, problems))
    kind = data.get("kind", "answers")
    code = data.get("code") or {}
    if kind not in ("answers", "code"):
        raise SpecError(f"{where}: kind must be 'answers' or 'code'")
    if kind == "code":
        if (
            not isinstance(code, dict)
            or not isinstance(code.get("function"), str)
            or not code["function"].isidentifier()
        ):
            raise SpecError(f"{where}: a code exercise needs code.function, the name of the student's function")
        for part in parts:
            if part.call is None:
                raise SpecError(f"{where} part {part.id}: a code exercise's part needs 'call', the arguments")
    exercise = Exercise(
        id=exercise_id,
        title=_require(data, "title", where, str),
        prompt=_require(data, "prompt", where, str),
        parameters=parameters,
        derived=derived,
        parts=parts,
        path=file,
        kind=kind,
        code=code,
        plot=_plot_option(data.get("plot"), where, parts),
        constraints=tuple(constraints),
    )
    return exercise


def _expressions(parts: tuple[Part, ...]) -> list[tuple[str, str]]:
    """Every spec expression of the parts, with the field it is written in (checked at load)."""
    found = []
    for part in parts:
        if part.answer:
            found.append((f"part {part.id} answer", part.answer))
        for name, value in (("step", part.step), ("carried", part.carried), ("cases", part.cases), ("call", part.call)):
            items = value if isinstance(value, list) else [value]
            found += [(f"part {part.id} {name}", text) for text in items if isinstance(text, str)]
        found += [(f"part {part.id} misconception {rule.id} answer", rule.answer) for rule in part.misconceptions]
    return found


def _problems(
    data: Mapping[str, Any],
    parameters: tuple[Parameter, ...],
    derived: Mapping[str, str],
    parts: tuple[Part, ...],
    constraints: tuple[str, ...] = (),
) -> dict[str, list[str]]:
    """Every mistake that shows without evaluating the spec, each with the fields it is in (in the order written).

    Unknown functions and names in the expressions (with the nearest known
    ones), unknown keywords, wrong numbers of arguments and constant arguments
    of the wrong kind (:func:`grader.specs.language.problems`), and unknown
    names or filters in the ``{{ name | filter }}`` of prompts and feedback.
    """
    found: dict[str, list[str]] = {}

    def check(field_name: str, text: str, names: list[str]) -> None:
        try:
            mistakes = language.problems(text, names, FUNCTIONS)
        except language.SpecExpressionError as exc:
            mistakes = [str(exc)]
        for mistake in mistakes:
            found.setdefault(mistake, []).append(field_name)

    names = [p.name for p in parameters]
    _placeholders("prompt", data.get("prompt"), [*names, *map(str, derived)], found)
    for name, text in derived.items():
        check(f"derived.{name}", text, names)
        names = [*names, str(name)]  # a derived value may use the ones before it
    for field_name, text in _expressions(parts):
        check(field_name, text, [*names, "student"] if field_name.endswith(" carried") else names)
    for text in constraints:
        check("constraints", text, names)
    for part in parts:
        _placeholders(f"part {part.id} prompt", part.prompt, names, found)
        for rule in part.misconceptions:
            _placeholders(f"part {part.id} misconception {rule.id} feedback", rule.feedback, names, found)
    plotted = (data.get("plot") or {}).get("function") if isinstance(data.get("plot"), dict) else None
    if isinstance(plotted, str) and plotted not in names:
        close = language.nearest(plotted, names) or f" (the parameters are {', '.join(sorted(names))})"
        found.setdefault(f"unknown parameter {plotted!r}{close}", []).append("plot.function")
    return found


def _placeholders(field_name: str, text: Any, names: list[str], found: dict[str, list[str]]) -> None:
    """Note each ``{{ name | filter }}`` of ``text`` whose name is not a parameter or whose filter is unknown."""
    for match in _PLACEHOLDER.finditer(text if isinstance(text, str) else ""):
        name, style = match.group(1), match.group(2)
        if name not in names:
            close = language.nearest(name, names)
            known = f" (the names it may use are {', '.join(sorted(names))})" if names else ""
            found.setdefault(f"unknown name {name!r} in {match.group(0)}{close or known}", []).append(field_name)
        if style is not None and style not in FILTERS:
            close = language.nearest(style, FILTERS) or f" (the filters are {', '.join(FILTERS)})"
            found.setdefault(f"unknown filter {style!r} in {match.group(0)}{close}", []).append(field_name)


def _problems_sentence(where: str, problems: Mapping[str, list[str]]) -> str:
    """One line for all of a spec's mistakes: ``a.yaml: a part x answer: unknown function 'gdd' (did you mean 'gd'?)``."""

    def fields(names: list[str]) -> str:
        names = list(dict.fromkeys(names))
        return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

    if len(problems) == 1:
        ((mistake, names),) = problems.items()
        return f"{where} {fields(names)}: {mistake}"
    listed = "; ".join(f"{fields(names)}: {mistake}" for mistake, names in problems.items())
    return f"{where}: {len(problems)} mistakes: {listed}"


def _plot_option(value: Any, where: str, parts: tuple[Part, ...]) -> dict[str, str]:
    """``plot: {function: f, part: iterates}``: draw the part's iterates on the parameter f."""
    if value is None:
        return {}
    if (
        not isinstance(value, dict)
        or set(value) != {"function", "part"}
        or not all(isinstance(v, str) for v in value.values())
    ):
        raise SpecError(f"{where}: 'plot' must give 'function' (a parameter) and 'part'")
    if value["part"] not in {p.id for p in parts}:
        raise SpecError(f"{where}: 'plot' names unknown part {value['part']!r}")
    return {"function": str(value["function"]), "part": str(value["part"])}


def _parameter(name: Any, value: Any, where: str, at: Callable[[str], str] = lambda key: "") -> Parameter:
    if not isinstance(name, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise SpecError(f"{where}: parameter name {name!r} is not a valid name")
    if not isinstance(value, dict):
        return Parameter(name, value)
    if "default" not in value:
        raise SpecError(f"{where}: parameter {name!r} needs a 'default' (the slides' value)")
    known = ("default", "choices", "range", "step")
    unknown = set(value) - set(known)
    if unknown:
        key = min(unknown, key=str)
        raise SpecError(f"{where}{at(key)}: parameter {name!r}: unknown field {key!r}{_nearest_field(key, known)}")
    choices: tuple[Any, ...] = ()
    if "choices" in value:
        if not isinstance(value["choices"], list) or not value["choices"]:
            raise SpecError(f"{where}: parameter {name!r}: 'choices' must be a non-empty list")
        choices = tuple(value["choices"])
    elif "range" in value:
        step = value.get("step", 1)
        if (
            not isinstance(value["range"], list)
            or len(value["range"]) != 2
            or not all(isinstance(v, int | float) for v in [*value["range"], step])
            or step <= 0
        ):
            raise SpecError(f"{where}: parameter {name!r}: 'range' must be [low, high] with a positive 'step'")
        low, high = value["range"]
        count = int(math.floor((high - low) / step + 1e-9)) + 1
        choices = tuple(_tidy(low + k * step) for k in range(count))
    return Parameter(name, value["default"], choices)


def _tidy(number: float) -> float | int:
    rounded = round(number, 10)
    return int(rounded) if float(rounded).is_integer() and isinstance(number, int) else rounded


def _nearest_field(name: Any, known: Any) -> str:
    """`` (did you mean 'title'?)``, else `` (the fields are …)``: for an unknown field of a spec."""
    close = language.nearest(name, list(known))
    return close or f" (the fields are {', '.join(sorted(known))})"


def _at(file: Path, path: tuple[str | int, ...]) -> str:
    """`` (line 12)`` for the key at ``path`` of ``file``, or nothing."""
    number = _line(file, path)
    return "" if number is None else f" (line {number})"


def _line(file: Path, path: tuple[str | int, ...]) -> int | None:
    """The line of the YAML key at ``path`` (``("parts", 0, "item")``) in ``file``, for error messages."""
    try:
        node = yaml.compose(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    mark = None
    for step in path:
        if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            mark = node.start_mark
        elif isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == step), None)
            if found is None:
                return None
            mark, node = found[0].start_mark, found[1]
        else:
            return None
    return None if mark is None else mark.line + 1


def _part(data: Any, where: str, catalogue: Mapping[str, Mapping[str, Any]], line: Callable[[str], int | None]) -> Part:
    """One part; ``line(field)`` finds a field's line in the file (only computed for an error)."""
    if not isinstance(data, dict):
        raise SpecError(f"{where}: a part must be a mapping of fields")
    part_id = _require(data, "id", where, str)
    where = where.rsplit(" part ", 1)[0] + f" part {part_id}"
    kind = _require(data, "type", where, str)
    if kind not in TYPES:
        raise SpecError(f"{where}: type {kind!r} is not one of {', '.join(TYPES)}")
    type_class = TYPES[kind]
    options = {k: v for k, v in data.items() if k not in _PART_FIELDS}
    try:
        answer_type = type_class.configure(options)
    except OptionError as exc:
        number = line(exc.option)
        known = sorted({*_PART_FIELDS, *type_class.options, *COMMON_OPTIONS})
        close = _nearest_field(exc.option, known) if str(exc).startswith("unknown field") else ""
        raise SpecError(f"{where}{'' if number is None else f' (line {number})'}: {exc}{close}") from None
    if type_class.needs_answer and "answer" not in data:
        raise SpecError(f"{where}: the field 'answer' is missing")
    points = data.get("points", 1)
    if not _finite(points) or points <= 0:
        raise SpecError(f"{where}: 'points' must be a positive number")
    rules_data = data.get("misconceptions") or []
    if not isinstance(rules_data, list):
        raise SpecError(f"{where}: 'misconceptions' must be a list")
    rules = tuple(
        _rule(r, where, catalogue, lambda key, j=j: line(f"misconceptions.{j}.{key}")) for j, r in enumerate(rules_data)
    )
    tolerance_data = data.get("tolerance") or {}
    if isinstance(tolerance_data, dict) and not set(tolerance_data) <= {"rtol", "atol", "digits"}:
        key = min(set(tolerance_data) - {"rtol", "atol", "digits"}, key=str)
        number = line(f"tolerance.{key}")
        raise SpecError(
            f"{where}{'' if number is None else f' (line {number})'}: tolerance: unknown field {key!r}"
            f"{_nearest_field(key, ('rtol', 'atol', 'digits'))}"
        )
    if (
        not isinstance(tolerance_data, dict)
        or not set(tolerance_data) <= {"rtol", "atol", "digits"}
        or not all(_finite(v) and v >= 0 for v in tolerance_data.values())
    ):
        raise SpecError(f"{where}: 'tolerance' must map rtol, atol and digits to numbers ≥ 0")
    tolerance = Tolerance(
        rtol=float(tolerance_data.get("rtol", 1e-6)),
        atol=float(tolerance_data.get("atol", 1e-9)),
        min_digits=int(tolerance_data.get("digits", 3)),
    )
    expressions = {
        name: value
        for name, value in options.items()
        if (type_class.options.get(name) or COMMON_OPTIONS[name]).expression
    }
    return Part(
        id=part_id,
        type=answer_type,
        points=float(points),
        prompt=str(data.get("prompt", "")),
        answer=str(data["answer"]) if type_class.needs_answer else None,
        misconceptions=rules,
        tolerance=tolerance,
        **expressions,
    )


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _rule(
    data: Any,
    where: str,
    catalogue: Mapping[str, Mapping[str, Any]],
    line: Callable[[str], int | None] = lambda key: None,
) -> MisconceptionRule:
    if not isinstance(data, dict):
        raise SpecError(f"{where}: each misconception must be a mapping with id and answer")
    rule_id = _require(data, "id", where, str)
    known = ("id", "answer", "credit", "feedback", "on_collision")
    unknown = set(data) - set(known)
    if unknown:
        key = min(unknown, key=str)
        number = line(key)
        at = "" if number is None else f" (line {number})"
        raise SpecError(f"{where} misconception {rule_id}{at}: unknown field {key!r}{_nearest_field(key, known)}")
    known = catalogue.get(rule_id, {})
    feedback = data.get("feedback", known.get("feedback"))
    credit = data.get("credit", known.get("credit", 0))
    if not feedback:
        raise SpecError(f"{where}: misconception {rule_id!r} needs a feedback sentence (or an entry in course.yaml)")
    if not isinstance(credit, int | float) or not 0 <= credit < 1:
        raise SpecError(f"{where}: misconception {rule_id!r}: credit must be at least 0 and below 1")
    answer = _require(data, "answer", f"{where} misconception {rule_id}", str)
    collision = data.get("on_collision", "")
    if collision not in ("", *COLLISIONS):
        number = line("on_collision")
        at = "" if number is None else f" (line {number})"
        raise SpecError(
            f"{where} misconception {rule_id}{at}: on_collision must be one of {', '.join(COLLISIONS)}, "
            f"not {collision!r}{language.nearest(collision, COLLISIONS)}"
        )
    return MisconceptionRule(rule_id, answer, float(credit), str(feedback).strip(), collision)


def _point_of(answer: str | None, params: Mapping[str, Any]) -> Callable[[], Mapping[str, float] | None] | None:
    """The point a part's answer evaluates f at (``hessian(f, points[0])``), found when first needed."""
    if answer is None:
        return None

    @functools.cache
    def point() -> Mapping[str, float] | None:
        from grader.specs.catalogue import point_of

        return point_of(answer, params)

    return point


@functools.cache
def _derived_inputs(expressions: tuple[str, ...]) -> frozenset[str]:
    """The names derived values are computed from (``f`` for ``points: stationary_points(f)``)."""
    import ast

    names: set[str] = set()
    for expression in expressions:
        tree = language.compile_expression(expression)
        names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return frozenset(names)
