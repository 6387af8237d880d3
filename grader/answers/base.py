"""What every answer type provides, and the registry of types by their YAML ``type:`` name.

An answer type is a frozen dataclass whose fields are its static spec
options (``item: f(x)``, ``variables: [x, y]``, ``choices: [...]``). Its
``options`` also list the spec expressions the specs evaluate per variant
(``step``, ``carried``, ``cases``), which land on the
:class:`~grader.checking.key.AnswerKey`. A type owns everything about its
parts; nothing outside ``grader/answers`` names a type to decide anything:

- reads a raw answer (:meth:`read`, through :mod:`grader.checking.reading`),
- shows what it read before grading (:meth:`read_as`),
- checks the value read against the key (:meth:`check`: the reference,
  carried-forward credit, misconceptions through :mod:`grader.checking.misconceptions`),
- says how to write an answer to the part (:meth:`hint`, from the reference's shape),
- says which of the catalogue's answers could be one of its answers (:meth:`fits`),
- gives the values a plot of the answer draws (:meth:`plotted`),
- writes a reference as a student would submit it (:meth:`submitted`) and as
  Python source for notebooks (:meth:`literal`),
- describes its answers in OpenAPI (:meth:`schema`) and in examples that its
  tests run and docs/answer-types.md shows (:attr:`examples`).

Adding a type: one module defining a subclass decorated with
:func:`register`, and its name in the import line of ``grader/answers/__init__.py``
(docs/answer-types.md walks through one).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from grader.checking.compare import shape
from grader.checking.key import AnswerKey
from grader.checking.read_as import shown
from grader.checking.reading import normalise_label
from grader.checking.values import judge_value, wrong_components
from grader.contract import PartResult


class OptionError(ValueError):
    """A part's options do not fit its type; the message names the option (the specs add where it is)."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


def _kept(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Option:
    """A spec option: what it must be (for the error message), the check, how the type keeps it, and
    whether it is a spec expression evaluated per variant (it then lands on the answer key, not the type)."""

    expected: str
    check: Callable[[Any], bool]
    expression: bool = False
    prepare: Callable[[Any], Any] = _kept  # lists become tuples


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _labels(value: list[str]) -> tuple[str, ...]:
    """Labels as students' answers are read (``Slow monotone`` → ``slow-monotone``), to compare them."""
    return tuple(normalise_label(label) for label in value)


EXPRESSION = Option("an expression", lambda v: isinstance(v, str), expression=True)
TEXT = Option("a text", lambda v: isinstance(v, str))
TEXTS = Option("a list of texts", _texts)
LABELS = Option("a list of labels", _texts, prepare=_labels)
CHOICES = Option("a list of at least two options", lambda v: _texts(v) and len(v) >= 2, prepare=_labels)
WORD_MAP = Option(
    "a mapping of words to labels",
    lambda v: isinstance(v, dict) and all(isinstance(k, str) and isinstance(t, str) for k, t in v.items()),
)


@dataclass(frozen=True)
class Example:
    """An answer to a part whose reference is ``reference`` (and options ``options``), and how it is graded:
    ``status`` (``correct``, ``partial``, ``incorrect``, ``invalid``, ``needs_review``) and, for an answer
    the type reads, what it is read as (``read_as``, as the student is shown it before grading)."""

    answer: Any
    reference: Any
    status: str
    read_as: str | None = None
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    why: str = ""  # what the example shows, in docs/answer-types.md

    def key(self, kind: type[AnswerType]) -> AnswerKey:
        """A one-point key of type ``kind`` with this example's reference and options."""
        return AnswerKey(part="example", type=kind.configure(self.options), points=1.0, reference=self.reference)


CALL = Option("an expression or a list of arguments", lambda v: isinstance(v, str | list), expression=True)
COMMON_OPTIONS: Mapping[str, Option] = {"call": CALL}  # a code exercise's part: the arguments of the call


@dataclass(frozen=True)
class AnswerType:
    """Base of the answer types; subclasses set ``name`` and ``options`` and implement the methods."""

    name: ClassVar[str]
    options: ClassVar[Mapping[str, Option]] = {}
    required: ClassVar[tuple[str, ...]] = ()  # options a part of this type must give
    needs_answer: ClassVar[bool] = True  # a reference answer is required (not for free text)
    description: ClassVar[str] = ""  # the answers it accepts, in OpenAPI
    examples: ClassVar[tuple[Example, ...]] = ()  # good and bad answers: run by tests, shown in the docs
    fixed_shape: ClassVar[bool] = False  # one shape only: an answer of another may be a written misconception's
    asks_numbers: ClassVar[bool] = False  # numbers: an answer left as formulas is evaluated at the question's point
    searched: ClassVar[bool] = True  # the catalogue's changes of the part's computation are tried on wrong answers
    read_by_ta: ClassVar[bool] = False  # a person grades it: the review page shows the model answer and the hint
    form_field: ClassVar[str] = "line"  # its form field: a "line" read while typed, an "area" or a "select"

    @classmethod
    def configure(cls, given: Mapping[str, Any]) -> AnswerType:
        """The type with a part's options; raises :class:`OptionError` for an option it does not take."""
        for name, value in given.items():
            option = cls.options.get(name) or COMMON_OPTIONS.get(name)
            if option is None:
                owners = sorted(t.name for t in TYPES.values() if name in t.options)
                if not owners:
                    raise OptionError(f"unknown field {name!r}", name)
                raise OptionError(
                    f"{name!r} is not an option of type {cls.name} (it is one of type {', '.join(owners)})", name
                )
            if not option.check(value):
                raise OptionError(f"{name!r} must be {option.expected}", name)
        for name in cls.required:
            if name not in given:
                raise OptionError(f"type {cls.name} needs {name!r} ({cls.options[name].expected})", "type")
        static = {f.name for f in dataclasses.fields(cls)}
        return cls(**{name: cls.options[name].prepare(value) for name, value in given.items() if name in static})

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        """The value of a raw answer; raises ReadError. ``notes`` collects "read as" sentences."""
        raise NotImplementedError

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        """Judge a value read against the key; ``earlier`` holds the values read for earlier parts."""
        raise NotImplementedError

    def read_as(self, key: AnswerKey, value: Any) -> tuple[str, str | None, str | None]:
        """``(text, latex, size)`` of a value read, shown before grading (:mod:`grader.checking.read_as`):
        ``4, 2, 1, ½`` with its size ``4 numbers; this part asks for 6`` when a list's length is not the reference's."""
        text, latex, size = shown(value)
        reference = key.reference
        if (
            size is not None
            and isinstance(value, list)
            and isinstance(reference, list)
            and len(value) != len(reference)
        ):
            size = f"{size}; this part asks for {len(reference)}"
        return text, latex, size

    def from_numbers(self, key: AnswerKey, numbers: Any) -> Any:
        """The value of numbers computed from an answer left as formulas (only for a type that ``asks_numbers``)."""
        return self.read(key, numbers, [])

    @classmethod
    def fits(cls, answer: Any, reference: Any) -> bool:
        """Whether a computed answer (a catalogue change's) has the shape of this type's answers to ``reference``:
        a list of the reference's shape, else one number."""
        if isinstance(reference, list):
            return isinstance(answer, list) and shape(answer) == shape(reference)
        return isinstance(answer, int | float) and not isinstance(answer, bool)

    def plotted(self, value: Any) -> list[Any] | None:
        """The plain values a plot of the answer draws (a sequence's iterates), or None: the type draws none."""
        return None

    def hint(self, key: AnswerKey) -> str:
        """How to write an answer to this part: ``write 6 numbers separated by commas, like 12.3, -4.56, 7.89, …``.

        Built from the reference's shape; its example never shares a number with the reference.
        """
        raise NotImplementedError

    def submitted(self, value: Any) -> Any:
        """A reference value as a student would submit it (JSON data)."""
        return value

    def literal(self, value: Any) -> str:
        """A reference value as Python source, for notebooks."""
        return repr(self.submitted(value))

    def schema(self) -> dict[str, Any]:
        """The JSON schema (OpenAPI 3.1) of an answer of this type."""
        raise NotImplementedError

    def shown(self) -> dict[str, Any]:
        """What a student sees of the part besides its prompt (a choice part: its options)."""
        return {}


@dataclass(frozen=True)
class ValueAnswer(AnswerType):
    """Numbers, vectors and matrices: judged alike (:func:`grader.checking.values.judge_value`:
    the reference, carried forward, misconceptions, precision); :meth:`wrong` says what is simply wrong."""

    options: ClassVar[Mapping[str, Option]] = {"carried": EXPRESSION}
    fixed_shape = True
    asks_numbers = True

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        return judge_value(key, value, earlier) or self.wrong(key, value)

    def wrong(self, key: AnswerKey, value: Any) -> PartResult:
        """A list's wrong components (vector) or entries (matrix); a number type says it in its own words."""
        return wrong_components(key, value)


TYPES: dict[str, type[AnswerType]] = {}


def register(cls: type[AnswerType]) -> type[AnswerType]:
    """Make ``cls`` the answer type of YAML ``type: <cls.name>``."""
    if cls.name in TYPES:
        raise ValueError(f"answer type {cls.name!r} is registered twice")
    TYPES[cls.name] = cls
    return cls


# Hints: examples that never give an answer away --------------------------------------------

# Numbers no exercise is likely to have as an answer: skipping one that is (see example_numbers) would hint
# at the answer by its absence, so that should almost never be needed.
EXAMPLES = (12.3, -4.56, 7.89, 0.123, -32.1, 45.6, -0.987, 6.78, 23.4, -5.67, 0.345, 8.9)
WHOLE_EXAMPLES = (17, 43, 29, 71, 53, 97)
SHOWN = 3  # examples shown before "…"


def example_numbers(count: int, reference: Any, pool: tuple[float, ...] = EXAMPLES) -> list[str]:
    """``count`` example numbers as text, none equal to a number in ``reference`` (any nesting)."""
    avoid = list(_numbers(reference))
    usable = [x for x in pool if not any(math.isclose(x, r, rel_tol=1e-9, abs_tol=1e-12) for r in avoid)]
    usable = usable or [x + 0.125 for x in pool]
    return [_text(usable[i % len(usable)]) for i in range(count)]


def _numbers(value: Any) -> Any:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        yield float(value)


def _text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def listed(items: list[str], count: int) -> str:
    """Items joined by commas, cut to :data:`SHOWN` with ``…`` when there are more of ``count``."""
    shown = items[: min(count, SHOWN)]
    return ", ".join(shown + (["…"] if count > SHOWN else []))


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def number_or_text(description: str) -> dict[str, Any]:
    """Schema of one number, as JSON or typed."""
    return {"description": description, "anyOf": [{"type": "number"}, {"type": "string"}]}


def list_or_text(items: dict[str, Any], description: str) -> dict[str, Any]:
    """Schema of a JSON list of ``items``, or the list typed as text."""
    return {"description": description, "anyOf": [{"type": "array", "items": items}, {"type": "string"}]}


NUMBER_ITEM = {"anyOf": [{"type": "number"}, {"type": "string"}]}
