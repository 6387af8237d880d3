"""Reading what students type into plain values, without evaluating anything unsafe.

An answer arrives as JSON data (number, list, string). Each ``read_*``
function turns it into a value of one answer type or raises
:class:`ReadError` with one sentence a student understands, such as
"could not read '3,5.2.1' as a vector of 2 numbers". Text goes through the
pipeline of :mod:`grader.checking.notation` (characters, markup, tool output,
rounding, words, worked equations, items); each item is then parsed by the
whitelist of :mod:`grader.expressions`, never through ``eval``.

Every ``read_*`` takes ``notes``, a list to which it appends one sentence for
each reading decision the student should hear ("Read 37,5 as 37.5 (decimal
comma).", "Took the last side of 1200/50 = 24."). An answer two readings fit
(``3,5`` for two numbers, sides of an equation that disagree) is a
:class:`ReadError` showing both, never graded as if one were certain.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import reprlib
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from grader.checking.notation import Ambiguous, Reading, StepError
from grader.checking.notation.brackets import depths, group, top_level
from grader.checking.notation.characters import normalise_characters
from grader.checking.notation.consoles import console_output, printed_by
from grader.checking.notation.equations import (
    answer_after_working,
    formula_after_name,
    last_side,
    list_after_working,
)
from grader.checking.notation.hedges import INTERVAL, refuse_hedges
from grader.checking.notation.items import MAX_ITEMS, decimal_comma_readings, split_items
from grader.checking.notation.labels import (
    known_option,
    label_alone,
    label_items,
    label_table,
    labels_from_sentence,
    option_alone,
    option_named,
    translated_option,
)
from grader.checking.notation.markup import strip_markup
from grader.checking.notation.rounding import work_out_rounding
from grader.checking.notation.scales import read_scales
from grader.checking.notation.tables import printed_table
from grader.checking.notation.tools import PARAMETER_NAMES, named_values, unwrap_tool_output
from grader.checking.notation.words import LIST, NUMBER, find_value, interval_words
from grader.expressions import CONSTANTS, FUNCTIONS, ExpressionError, Formula, parse, significant_figures

MAX_TEXT = 10_000  # free text
MAX_TYPED = 4_000  # typed maths: 400 numbers with their commas; reading is linear in it
MAX_NESTING = 30  # brackets in typed text, as the formula parser allows
MAX_DEPTH = 3  # lists in lists: a matrix is 2, a sequence of column vectors 3
MAX_CHOICE = 200  # characters of a multiple-choice answer


class ReadError(ValueError):
    """An answer could not be read; the message says what and why, in one sentence. ``kind`` is set when
    the answer is not one answer (hedged, guessed, doubled, or two readings asked about): see
    :mod:`grader.checking.notation.hedges`."""

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Number:
    """A number as the student gave it.

    ``exact`` is set when the student wrote an exact value (``38``, ``10/3``,
    ``1200/32``); ``digits`` is the number of significant figures of a typed
    decimal (``2.02`` → 3), None otherwise; ``typed`` says it came as text
    (precision-aware judging) rather than as a JSON float (tolerance);
    ``unit`` is the word after it naming what it counts (``updates`` in
    ``24 updates per epoch``), '' when there is none.
    """

    value: float
    text: str
    exact: Fraction | None = None
    digits: int | None = None
    typed: bool = True
    unit: str = ""

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Interval:
    """An interval of the real line; ``None`` bounds are infinite."""

    low: float | None
    high: float | None
    low_closed: bool
    high_closed: bool

    def __str__(self) -> str:
        low = "-inf" if self.low is None else _plain(self.low)
        high = "inf" if self.high is None else _plain(self.high)
        return f"{'[' if self.low_closed else '('}{low}, {high}{']' if self.high_closed else ')'}"


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxlong = _SHORT.maxother = 40
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 3, 8, 8, 4


def _shown(raw: Any) -> str:
    """The answer as quoted in a message (``'3,5.2.1'``, ``[1, 2]``), shortened, however deep or long."""
    try:
        return _SHORT.repr(raw)
    except ValueError:  # an integer with more digits than Python converts to text
        return "the number"


def _names_the_tool(things: str) -> Any:
    """A reader whose refusal of text a tool printed says which tool it looks like: "could not read … as a
    vector of 2 numbers: …; this looks like R output: write the numbers only" (``things``: what to write)."""

    def decorate(read: Any) -> Any:
        @functools.wraps(read)
        def reader(raw: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return read(raw, *args, **kwargs)
            except ReadError as exc:
                message = str(exc)
                if exc.kind is not None or not isinstance(raw, str) or not message.startswith("could not read"):
                    raise
                tool = printed_by(raw) if "this looks like" not in message else None
                named = tool and next(word for word in tool.split() if word not in ("a", "an"))
                if tool is None or re.search(rf"\b{re.escape(named or '')}\b", message.replace(_shown(raw), "")):
                    raise  # the reason names it already: "MATLAB printed its values scaled by …"
                raise ReadError(f"{message}; this looks like {tool}: write {things} only") from exc

        return reader

    return decorate


@_names_the_tool("the number")
def read_number(raw: Any, what: str = "a number", notes: list[str] | None = None) -> Number:
    """A JSON number or typed text (``3.5``, ``−2``, ``1e-3``, ``10/3``, ``sqrt(2)``, ``37,5``,
    ``1200/50 = 24``, ``24 updates``, ``tensor(2.0156)``, ``thirty-eight``) as a :class:`Number`."""
    if isinstance(raw, bool) or raw is None:
        raise ReadError(f"could not read {_shown(raw)} as {what}")
    if isinstance(raw, int):
        if abs(raw) > 10**300:
            raise ReadError(f"{_shown(raw)} is too large to be {what}")
        return Number(float(raw), str(raw), exact=Fraction(raw), typed=False)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ReadError(f"{raw} is not a finite number")
        text = repr(raw)
        return Number(raw, text, digits=significant_figures(text), typed=False)
    if isinstance(raw, list) and len(raw) == 1 and not isinstance(raw[0], list | dict):
        return read_number(raw[0], what, notes)  # a one-element array
    if isinstance(raw, str):
        if _PLAIN_NUMBER.match(raw):
            return _plain_number(raw.strip())
        reading = _reading(notes)
        with _step_errors(raw, what):
            text = reading.run(read_scales, _plain_maths(raw, what, reading))
            value = find_value(text, reading, NUMBER, number_words=True)
            unit = reading.unit
            value = reading.run(answer_after_working, value)
            number = _last_side(value, reading, lambda side: _one_number(side, what, reading), arrows=True)
            return replace(number, unit=unit) if unit else number
    raise ReadError(f"could not read {_shown(raw)} as {what}")


# Most answers are plain numbers, or a list of them with ", " between (``3.8, 2.2``, ``[10/3, 2]``): they are
# read at once, to the same Number the steps would give. A comma without a space after it may be a decimal
# comma, so those answers take the steps, which decide from the whole answer.
_PLAIN = r"-?\d{1,15}(?:\.\d{1,15})?(?:/[1-9]\d{0,14})?"
_PLAIN_NUMBER = re.compile(rf"\s*{_PLAIN}\s*\Z")
_PLAIN_ITEMS = re.compile(rf"{_PLAIN}(?:,\s+{_PLAIN})*\Z")
_LIST_COMMA = re.compile(r",\s+")
_PAIRS = {"[": "]", "(": ")"}


def _plain_items(text: str) -> list[str] | None:
    """The items of ``a, b, …``, ``[a, b, …]`` or ``(a, b, …)`` of plain numbers, else None (also beyond the
    limits of typed maths, which the steps then refuse with their reason)."""
    if len(text) > MAX_TYPED:
        return None
    text = text.strip()
    if text[:1] in _PAIRS and text[-1:] == _PAIRS[text[0]]:
        text = text[1:-1].strip()
        if "," not in text:
            return None  # (7.25) is a bracketed number to the steps, [7.25] a one-item list: leave both to them
    items = _LIST_COMMA.split(text) if _PLAIN_ITEMS.match(text) else None
    return items if items is not None and len(items) <= MAX_ITEMS else None


def _plain_number(text: str) -> Number:
    """A plain decimal or fraction of decimals, as :func:`_number_from_formula` reads it."""
    numerator, _, denominator = text.partition("/")
    digits = significant_figures(text)
    if not denominator:
        return Number(float(numerator), text, exact=None if digits is not None else Fraction(numerator), digits=digits)
    value = float(numerator) / float(denominator)
    return Number(value, text, exact=Fraction(numerator) / Fraction(denominator), digits=None)


def _reading(notes: list[str] | None) -> Reading:
    return Reading(notes=notes if notes is not None else [])


def _plain_maths(text: str, what: str, reading: Reading) -> str:
    """Steps 0 to 4 of the pipeline (see :mod:`grader.checking.notation`): one answer (no hedge),
    characters, markup, tool output, rounding functions."""
    if len(text) > MAX_TYPED:
        raise ReadError(f"the answer is too long to be {what}")
    reading.run(refuse_hedges, text)
    for step in (normalise_characters, strip_markup, unwrap_tool_output, work_out_rounding):
        text = reading.run(step, text)
        if len(text) > MAX_TYPED:  # ½ becomes (1/2): the steps may lengthen it
            raise ReadError(f"the answer is too long to be {what}")
    if not text.strip():
        raise ReadError(f"found nothing in {_shown(text)} to read as {what}")
    if max(depths(text), default=0) > MAX_NESTING:
        raise ReadError(f"could not read {_shown(text)} as {what}: its brackets are nested too deeply")
    return text


@contextlib.contextmanager
def _step_errors(raw: Any, what: str) -> Iterator[None]:
    """A step's refusal (ambiguous comma, disagreeing sides, unknown LaTeX, no value) as a ReadError."""
    try:
        yield
    except Ambiguous as exc:  # it quotes the answer and shows both readings (or why it is not one answer)
        raise ReadError(str(exc), kind=getattr(exc, "kind", None)) from exc
    except StepError as exc:
        raise ReadError(f"could not read {_shown(raw)} as {what}: {exc}") from exc
    except RecursionError as exc:
        raise ReadError(f"could not read {_shown(raw)} as {what}: it is nested too deeply") from exc


def _last_side(text: str, reading: Reading, read: Any, arrows: bool = False) -> Any:
    return last_side(text, reading, read, _same, _shown_value, rounding_links=arrows, comparable=_same_shape)


_ITEM = ""  # an item of a list: its refusal is the bare reason, the list's reader names the answer


def _one_number(text: str, what: str, reading: Reading) -> Number:
    """One item's text as a number: a one-item list is its item, a lone decimal comma is a decimal point."""
    text = text.strip()
    tree = split_items(text, reading, decimal_comma=True) if group(text) else text
    if isinstance(tree, list):
        if len(tree) != 1 or isinstance(tree[0], list):
            raise ReadError(f"could not read {_shown(text)} as {what}: it is a list")
        text = tree[0]
    if _LONE_COMMA.match(text):
        text = _decimal_comma(text, reading)
    return _number_from_formula(_formula(text, what), text, what)


_LONE_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_THOUSANDS = re.compile(r"^\s*[+-]?[1-9]\d{0,2},\d{3}\s*$")


def _decimal_comma(text: str, reading: Reading) -> str:
    """``37,5`` → ``37.5`` (told); ``1,200`` could be either and is refused showing both."""
    text = text.strip()
    point = text.replace(",", ".")
    if _THOUSANDS.match(text):
        raise ReadError(
            f"{text!r} could be {point} (a decimal comma) or {text.replace(',', '')} (a thousands separator); "
            f"write {point} or {text.replace(',', '')}"
        )
    reading.note(f"Read {text} as {point} (decimal comma).")
    return point


def _same(a: Any, b: Any) -> bool:
    """Do two sides of a worked equation agree, to the precision the student wrote?"""
    if isinstance(a, Number) and isinstance(b, Number):
        allowed = max((_half_unit(n) for n in (a, b)), default=0.0)
        return abs(a.value - b.value) <= allowed + 1e-9 * max(abs(a.value), abs(b.value), 1.0)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return False


def _same_shape(a: Any, b: Any) -> bool:
    """Two numbers, or lists of the same shape: sides that can be compared."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_shape(x, y) for x, y in zip(a, b, strict=True))
    return isinstance(a, Number) and isinstance(b, Number)


def _half_unit(number: Number) -> float:
    """Half a unit of the last significant figure written (0 for an exact value such as 38 or 10/3)."""
    if number.digits is None or number.value == 0:
        return 0.0
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(number.value))) - number.digits + 1)


def _shown_value(value: Any) -> str:
    if isinstance(value, Number):
        return f"{value.value:.6g}"
    if isinstance(value, list):
        return "(" + ", ".join(_shown_value(v) for v in value) + ")"
    return str(value)


def _formula(text: str, what: str) -> Formula:
    try:
        return parse(text, variables=())
    except ExpressionError as exc:
        raise ReadError(_refusal(text, what, exc)) from exc


def _refusal(text: str, what: str, exc: Exception) -> str:
    return f"could not read {_shown(text)} as {what}: {exc}" if what else str(exc)


def _number_from_formula(formula: Formula, text: str, what: str) -> Number:
    try:
        value = formula.evaluate()
    except ExpressionError as exc:
        raise ReadError(_refusal(text, what, exc)) from exc
    digits = significant_figures(text)
    exact = None if digits is not None else formula.exact()
    # sqrt(2) or pi/4 have neither: exact symbolic values, judged at full precision.
    return Number(value, text, exact=exact, digits=digits)


@_names_the_tool("the numbers")
def read_vector(raw: Any, length: int | None = None, notes: list[str] | None = None) -> list[Number]:
    """A list of numbers: JSON list, or text ``[3.5, 2]``, ``(3.5, 2)``, ``3.5, 2``, ``[3.5 2. ]``,
    ``array([3.5, 2.])``, ``[3.5; 2]``, ``[[3.5], [2]]``, ``(3.5, 2)ᵀ``, ``−[1, 2]``, ``x = (3.5, 2)``."""
    what = f"a vector of {length} numbers" if length else "a list of numbers"
    reading = _reading(notes)
    numbers = _flat(_tree(raw, what, reading), raw, what, reading)
    if length is not None and len(numbers) != length:
        readings = decimal_comma_readings(raw, length) if isinstance(raw, str) else []
        if readings:
            raise ReadError(
                f"{_shown(raw)} has {len(numbers)} numbers, not {length}; with decimal commas it could be "
                f"{' or '.join(readings)}: write decimal points, or separate the numbers with ;"
            )
        raise ReadError(f"{_shown(raw)} has {len(numbers)} numbers; expected {what}")
    return numbers


@_names_the_tool("the rows of numbers")
def read_matrix(raw: Any, shape: tuple[int, int] | None = None, notes: list[str] | None = None) -> list[list[Number]]:
    """A list of rows of numbers (``[[1, 0], [0, 1]]``, ``[1 0; 0 1]``, numpy's printing, a pmatrix,
    rows on separate lines)."""
    what = f"a {shape[0]}×{shape[1]} matrix" if shape else "a matrix"
    tree = _tree(raw, what, _reading(notes))
    if not isinstance(tree, list) or not all(isinstance(row, list) for row in tree):
        if shape is not None and shape[0] == 1 and isinstance(tree, list):
            tree = [tree]  # a 1×n matrix written as a row
        else:
            raise ReadError(f"could not read {_shown(raw)} as {what}: write it row by row, like [[1, 0], [0, 1]]")
    if any(isinstance(n, list) for row in tree for n in row):
        raise ReadError(f"could not read {_shown(raw)} as {what}: it is nested more than two deep")
    if shape is not None and (len(tree) != shape[0] or any(len(r) != shape[1] for r in tree)):
        raise ReadError(f"{_shown(raw)} is not {what}")
    return tree


@_names_the_tool("the numbers")
def read_sequence(raw: Any, item_length: int | None = None, notes: list[str] | None = None) -> list[Any]:
    """A sequence of numbers (``4, 2, 1``, ``4 → 2 → 1``, ``x0 = 4, x1 = 2``, one per line) or of
    vectors (``[[4, 3], [3.5, 2]]``)."""
    what = "a sequence of vectors" if item_length else "a sequence of numbers"
    reading = _reading(notes)
    tree = _tree(raw, what, reading)
    if item_length is None:
        return _flat(tree, raw, what, reading)
    if not isinstance(tree, list) or not all(isinstance(item, list) for item in tree):
        raise ReadError(f"could not read {_shown(raw)} as {what}: give each point in brackets, like [[4, 3], [3.5, 2]]")
    points = [_flat(item, raw, what, reading) for item in tree]
    for point in points:
        if len(point) != item_length:
            raise ReadError(f"{_shown(raw)} has a point of {len(point)} numbers; expected {item_length}")
    return points


def _flat(tree: Any, raw: Any, what: str, reading: Reading) -> list[Number]:
    """A flat list of numbers: a column ``[[3.5], [2]]`` or a single row ``[[3.5, 2]]`` flattens."""
    if isinstance(tree, Number):
        return [tree]
    if tree and all(isinstance(item, list) for item in tree):
        if all(len(item) == 1 for item in tree):
            tree = [item[0] for item in tree]
        elif len(tree) == 1:
            tree = tree[0]
    if any(isinstance(item, list) for item in tree):
        if reading.columns:
            raise ReadError(
                f"could not read {_shown(raw)} as {what}: it holds a table of several columns "
                f"({', '.join(reading.columns)}); give only the column asked for"
            )
        raise ReadError(f"could not read {_shown(raw)} as {what}: it is nested")
    return tree


def _tree(raw: Any, what: str, reading: Reading, depth: int = 0) -> Any:
    """A JSON value or typed text as numbers nested in lists, through the whole pipeline."""
    if isinstance(raw, list | tuple):
        if len(raw) > MAX_ITEMS:
            raise ReadError(f"the answer has {len(raw)} items, more than {MAX_ITEMS}")
        if depth >= MAX_DEPTH:
            raise ReadError(f"could not read {_shown(raw)} as {what}: it is nested too deeply")
        return [_item_tree(item, what, reading, depth + 1) for item in raw]
    if isinstance(raw, dict) and raw and set(raw) <= PARAMETER_NAMES:
        return _tree(named_values(raw, reading), what, reading)
    if isinstance(raw, str):
        if (items := _plain_items(raw)) is not None:
            return [_plain_number(item) for item in items]
        with _step_errors(raw, what):
            value = reading.run(list_after_working, find_value(_plain_maths(raw, what, reading), reading, LIST))
            if _LEFT_OUT.search(value):
                raise StepError(
                    "items are left out ('...'); write every item (numpy leaves some out when it prints a long array)"
                )
            try:
                if _is_one_equation(value):
                    return _last_side(value, reading, lambda side: _numbers(split_items(side, reading), reading))
                return _numbers(split_items(value, reading), reading)
            except (ReadError, StepError) as exc:
                raise ReadError(f"could not read {_shown(raw)} as {what}: {exc}") from exc
    return read_number(raw, what)


def _item_tree(item: Any, what: str, reading: Reading, depth: int) -> Any:
    if isinstance(item, list | tuple | dict):
        return _tree(item, what, reading, depth)
    if isinstance(item, str):
        with _step_errors(item, what):
            return _leaf_number(_plain_maths(item, what, reading), reading)
    try:
        return read_number(item, what)
    except ReadError as exc:
        raise ReadError(f"could not read {_shown(item)} in the list as a number: {exc}") from exc


def _numbers(tree: Any, reading: Reading) -> Any:
    if isinstance(tree, list):
        if len(tree) > MAX_ITEMS:
            raise ReadError(f"the answer has {len(tree)} items, more than {MAX_ITEMS}")
        return [_numbers(item, reading) for item in tree]
    return _leaf_number(tree, reading)


def _leaf_number(text: str, reading: Reading) -> Number:
    """One item: its value among words, the last side of its worked equation, read as a number; a
    refusal says what about the item (``'one' is not a number``), the caller names the answer."""
    value = find_value(text, reading, NUMBER)
    return _last_side(value, reading, lambda side: _one_number(side, _ITEM, reading))


_SEPARATORS = re.compile(r"[,;\n\t]|→|->")
_LEFT_OUT = re.compile(r"(?:^|(?<=[\s,;\[(]))(?:\.\.\.|…)(?=$|[\s,;\])])")
_EQUALS = re.compile(r"(?<![<>!=])=(?!=)|≈")


def _is_one_equation(text: str) -> bool:
    """A worked equation over the whole answer (``(4, 3) - 0.5·(1, 2) = (3.5, 2)``), not a list of them."""
    return bool(top_level(text, _EQUALS)) and not top_level(text, _SEPARATORS)


_INTERVAL_BRACKETS = re.compile(r"^\s*([\[(\]])\s*(.+?)\s*[,;]\s*(.+?)\s*([\])\[])\s*$")
_COMPARISON = re.compile(r"(<=|>=|<|>|≤|≥)")
_INFINITE = {"inf", "infinity", "oo", "∞", "+inf", "+infinity", "+oo", "+∞"}
_MINUS_INFINITE = {"-inf", "-infinity", "-oo", "-∞"}


@_names_the_tool("the interval")
def read_interval(
    raw: Any, variable_names: tuple[str, ...] = ("eta", "η", "x", "lr"), notes: list[str] | None = None
) -> Interval:
    """An interval: ``(0, 1)``, ``[0, 1]``, ``(0, 1]``, ``]0, 1[``, ``]0;1[``, ``η ∈ (0, 1)``,
    ``0 < eta < 1``, ``0 < η ≤ 1``, ``eta > 0 and eta < 1``, ``{η : 0 < η < 1}``, ``$0 < \\eta < 1$``,
    ``between 0 and 1 (exclusive)``."""
    if isinstance(raw, list) and len(raw) == 2:
        return Interval(_bound(raw[0], raw, upper=False), _bound(raw[1], raw, upper=True), False, False)
    if not isinstance(raw, str) or len(raw) > 200:
        raise ReadError(f"could not read {_shown(raw)} as an interval")
    reading = _reading(notes)
    with _step_errors(raw, "an interval"):
        refuse_hedges(raw, reading, INTERVAL)
        text = reading.run(strip_markup, reading.run(normalise_characters, raw))
        text = interval_words(text, reading, variable_names).strip()
    if not text:
        raise ReadError(f"could not read {_shown(raw)} as an interval: there are no bounds in it")
    member = re.match(r"^(\S+)\s*(?:∈|\bin\b)\s*(.+)$", text)  # η ∈ (0, 1)
    if member and member.group(1) in variable_names:
        text = member.group(2)
    match = _INTERVAL_BRACKETS.match(text)
    if match:
        opening, low, high, closing = match.groups()
        return Interval(
            _bound(low, raw, upper=False),
            _bound(high, raw, upper=True),
            opening == "[",
            closing == "]",
        )
    return _interval_from_inequalities(text, raw, variable_names)


def _interval_from_inequalities(text: str, raw: str, variable_names: tuple[str, ...]) -> Interval:
    clauses = [c for c in re.split(r"\b(?:and|und|et|y)\b|&&?|∧|,", text) if c.strip()]
    low: float | None = None
    high: float | None = None
    low_closed = high_closed = False
    seen: set[bool] = set()  # which bounds were given (True: upper)
    for clause in clauses:
        pieces = [p.strip() for p in _COMPARISON.split(clause)]
        if len(pieces) < 3 or len(pieces) % 2 == 0:
            raise ReadError(f"could not read {_shown(raw)} as an interval")
        for left, op, right in zip(pieces[0::2], pieces[1::2], pieces[2::2], strict=False):
            left_is_var, right_is_var = left in variable_names, right in variable_names
            if left_is_var == right_is_var:
                raise ReadError(f"could not read {_shown(raw)} as an interval: compare the variable with a number")
            bound_text = right if left_is_var else left
            closed = op in ("<=", ">=", "≤", "≥")
            upper = (op in ("<", "<=", "≤")) == left_is_var  # eta < 1 or 1 > eta
            if upper in seen:
                raise ReadError(
                    f"could not read {_shown(raw)} as an interval: it gives two {'upper' if upper else 'lower'} bounds"
                )
            seen.add(upper)
            bound = _bound(bound_text, raw, upper=upper)
            if upper:
                high, high_closed = bound, closed
            else:
                low, low_closed = bound, closed
    return Interval(low, high, low_closed, high_closed)


def _bound(text: Any, raw: Any, upper: bool) -> float | None:
    """One end of an interval; None for the infinite end on its own side (``-inf`` below, ``inf`` above)."""
    if isinstance(text, str):
        stripped = text.strip().lower()
        infinite = "+" if stripped in _INFINITE else "-" if stripped in _MINUS_INFINITE else None
        if infinite:
            if (infinite == "+") != upper:
                raise ReadError(
                    f"could not read {_shown(raw)} as an interval: {text.strip()} cannot be its {'upper' if upper else 'lower'} end"
                )
            return None
    try:
        return read_number(text).value
    except ReadError as exc:
        raise ReadError(f"could not read {_shown(raw)} as an interval: {exc}") from exc


def normalise_label(text: str) -> str:
    """``Slow monotone`` → ``slow-monotone``."""
    return re.sub(r"[\s_]+", "-", unicodedata.normalize("NFKC", text).strip().lower())


def read_labels(
    raw: Any,
    count: int,
    notes: list[str] | None = None,
    options: Collection[str] = (),
    cases: tuple[str, ...] = (),
) -> list[str]:
    """A list of labels: JSON list, or text separated by new lines, semicolons, tabs, commas or `` / ``;
    bullets, markers (``a)``), numbers, a table, a Python list, quotes and ``case: label`` are read
    through. With ``options`` (the part's labels and aliases), a label spelled with other case,
    hyphens or spaces is that option, and a sentence naming ``count`` of them in order is read."""
    reading = _reading(notes)
    what = f"a list of {count} labels"
    text = None
    if isinstance(raw, str):
        if len(raw) > MAX_TYPED:
            raise ReadError("the answer is too long to be a list of labels")
        with _step_errors(raw, what):
            text = raw
            for step in (normalise_characters, label_table, console_output, strip_markup, printed_table):
                text = reading.run(step, text)
            items: list[Any] = label_items(text, reading)
    elif isinstance(raw, list) and len(raw) <= MAX_ITEMS and all(isinstance(item, str) for item in raw):
        items = [label_alone(normalise_characters(item, reading)) for item in raw]
    else:
        raise ReadError(f"could not read {_shown(raw)} as {what}")
    if len(items) == 1 and len(items[0].split()) == count > 1:
        items = items[0].split()  # slow-monotone fast …: spaces between hyphenated labels
    labels = [normalise_label(item) for item in items]
    if options:
        labels = [known_option(label, options) or _translated(label, options, reading) for label in labels]
        if text is not None and (len(labels) != count or not set(labels) <= set(options)):
            with _step_errors(raw, what):
                labels = labels_from_sentence(text, options, count, reading, cases) or labels
    if len(labels) != count:
        raise ReadError(f"expected {count} labels, one per case; got {len(labels)}")
    return labels


def _translated(label: str, options: Collection[str], reading: Reading) -> str:
    """A label in German, French or Spanish as the option it names (told), else the label as it is."""
    option = translated_option(label, options)
    if option is None:
        return label
    reading.note(f"Read {label!r} as {option}.")
    return option


def read_choice(raw: Any, notes: list[str] | None = None, options: Collection[str] = ()) -> str:
    """One option of a multiple-choice part (``Overshoots`` → ``overshoots``, ``It overshoots.``,
    ``“overshoots”``, ```overshoots```; a one-item list is that item). With ``options`` (the part's
    options and aliases), an option spelled with other hyphens or spaces (``Over-shoots``) is that
    option, and a sentence naming exactly one of them, without a negation, is that option."""
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if not isinstance(raw, str) or not raw.strip():
        raise ReadError(f"could not read {_shown(raw)} as one of the options")
    if len(raw) > MAX_CHOICE:
        raise ReadError("the answer is too long to be one of the options")
    reading = _reading(notes)
    with _step_errors(raw, "one of the options"):
        text = reading.run(strip_markup, reading.run(normalise_characters, raw))
    label = normalise_label(option_alone(text) or text)
    if options and label not in options and known_option(label, options):
        label = known_option(label, options) or label
        reading.note(f"Read {raw.strip()!r} as {label}.")
    elif options and label not in options and translated_option(label, options):
        label = translated_option(label, options) or label
        reading.note(f"Read {raw.strip()!r} as {label}.")
    named = option_named(text, options) if options and label not in options else None
    if named:
        reading.note(f"Read {raw.strip()!r} as {named}.")
        return named
    return label


def read_expression(raw: Any, variables: tuple[str, ...], notes: list[str] | None = None) -> Formula:
    """A formula in the given variables (``x^2+2``, ``2x``, ``$2x + 20y$``, ``\\frac{1}{2}x^2``)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ReadError(f"could not read {_shown(raw)} as a formula")
    text = raw if isinstance(raw, str) else repr(raw)
    if len(text) > MAX_TYPED:
        raise ReadError("the answer is too long to be a formula")
    reading = _reading(notes)
    with _step_errors(raw, "a formula"):
        text = reading.run(strip_markup, reading.run(normalise_characters, text)).strip()
        text = reading.run(formula_after_name, text)
    text = _without_modules(text, reading)
    try:
        return parse(text, variables=variables)
    except ExpressionError as exc:
        raise ReadError(f"could not read {_shown(text)} as a formula: {exc}") from exc


_MODULE_CALL = re.compile(r"(?<![\w.])(?P<module>np|numpy|math|torch|jnp|sp|sympy)\.(?P<name>[A-Za-z_]\w*)\b(?!\s*\.)")


def _without_modules(text: str, reading: Reading) -> str:
    """``np.exp(-z)``, ``math.sqrt(x)``, ``sp.pi`` → ``exp(-z)``, ``sqrt(x)``, ``pi``: a formula written as in
    Python, for functions and constants a formula may use (others are left for the parser to refuse)."""
    known = set(FUNCTIONS) | set(CONSTANTS)

    def plain(match: re.Match[str]) -> str:
        if match["name"] not in known:
            return match[0]
        reading.note(f"Read {match['module']}.{match['name']} as {match['name']}.")
        return match["name"]

    return _MODULE_CALL.sub(plain, text) if "." in text else text


def read_text(raw: Any, notes: list[str] | None = None) -> str:
    """Free text, bounded in length."""
    if not isinstance(raw, str):
        raise ReadError("expected a sentence of text")
    if len(raw) > MAX_TEXT:
        raise ReadError(f"the text is too long ({len(raw)} characters, at most {MAX_TEXT})")
    return raw.strip()
