"""Reading what students type into plain values, without evaluating anything unsafe.

An answer arrives as JSON data (number, list, string). Each ``read_*``
function turns it into a value of one answer type or raises
:class:`ReadError` with one sentence a student understands, such as
"could not read '3,5.2.1' as a vector of 2 numbers". Formulas go through
:mod:`grader.expressions` (a whitelist), never through ``eval``. Every
``read_*`` takes ``notes``, a list to which it appends a "read as" sentence
for each liberty it took (a decimal comma, say), for the feedback.
"""

from __future__ import annotations

import math
import re
import reprlib
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from grader.expressions import ExpressionError, Formula, parse, parse_structure, significant_figures

MAX_ITEMS = 1000
MAX_TEXT = 10_000
MAX_CHOICE = 200  # characters of a multiple-choice answer


class ReadError(ValueError):
    """An answer could not be read; the message says what and why, in one sentence."""


@dataclass(frozen=True)
class Number:
    """A number as the student gave it.

    ``exact`` is set when the student wrote an exact value (``38``, ``10/3``,
    ``1200/32``); ``digits`` is the number of significant figures of a typed
    decimal (``2.02`` → 3), None otherwise; ``typed`` says it came as text
    (precision-aware judging) rather than as a JSON float (tolerance).
    """

    value: float
    text: str
    exact: Fraction | None = None
    digits: int | None = None
    typed: bool = True

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


def read_number(raw: Any, what: str = "a number", notes: list[str] | None = None) -> Number:
    """A JSON number or typed text (``3.5``, ``−2``, ``1e-3``, ``10/3``, ``sqrt(2)``) as a :class:`Number`."""
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
    if isinstance(raw, str):
        return _number_from_formula(_formula(raw, what), raw.strip(), what)
    raise ReadError(f"could not read {_shown(raw)} as {what}")


def _formula(text: str, what: str) -> Formula:
    try:
        return parse(text, variables=())
    except ExpressionError as exc:
        raise ReadError(f"could not read {_shown(text)} as {what}: {exc}") from exc


def _number_from_formula(formula: Formula, text: str, what: str) -> Number:
    try:
        value = formula.evaluate()
    except ExpressionError as exc:
        raise ReadError(f"could not read {_shown(text)} as {what}: {exc}") from exc
    digits = significant_figures(text)
    exact = None if digits is not None else formula.exact()
    # sqrt(2) or pi/4 have neither: exact symbolic values, judged at full precision.
    return Number(value, text, exact=exact, digits=digits)


def read_vector(raw: Any, length: int | None = None, notes: list[str] | None = None) -> list[Number]:
    """A list of numbers: JSON list, or text ``[3.5, 2]``, ``(3.5, 2)``, ``3.5, 2``."""
    what = f"a vector of {length} numbers" if length else "a list of numbers"
    items = _items(raw, what)
    if any(isinstance(item, list) for item in items):
        raise ReadError(f"could not read {_shown(raw)} as {what}: it is nested")
    numbers = [_item_number(item, raw, what) for item in items]
    if length is not None and len(numbers) != length:
        raise ReadError(f"{_shown(raw)} has {len(numbers)} numbers; expected {what}")
    return numbers


def read_matrix(raw: Any, shape: tuple[int, int] | None = None, notes: list[str] | None = None) -> list[list[Number]]:
    """A list of rows of numbers (``[[1, 0], [0, 1]]``)."""
    what = f"a {shape[0]}×{shape[1]} matrix" if shape else "a matrix"
    rows = _items(raw, what)
    matrix = [[_item_number(v, raw, what) for v in _items(row, what)] for row in rows]
    if shape is not None and (len(matrix) != shape[0] or any(len(r) != shape[1] for r in matrix)):
        raise ReadError(f"{_shown(raw)} is not {what}")
    return matrix


def read_sequence(raw: Any, item_length: int | None = None, notes: list[str] | None = None) -> list[Any]:
    """A sequence of numbers (``4, 2, 1``) or of vectors (``[[4, 3], [3.5, 2]]``)."""
    what = "a sequence of vectors" if item_length else "a sequence of numbers"
    items = _items(raw, what)
    if item_length is None:
        return [_item_number(item, raw, what) for item in items]
    return [read_vector(_as_raw(item), item_length) for item in items]


def _items(raw: Any, what: str) -> list[Any]:
    """The items of a JSON list, or of a typed list (each a Formula or a nested list of them)."""
    if isinstance(raw, list | tuple):
        items = list(raw)
    elif isinstance(raw, str):
        if len(raw) > MAX_TEXT:
            raise ReadError(f"the answer is too long to be {what}")
        try:
            parsed = parse_structure(raw, variables=())
        except ExpressionError as exc:
            reason = "" if str(exc).startswith("could not read") else f": {exc}"
            raise ReadError(f"could not read {_shown(raw)} as {what}{reason}") from exc
        items = parsed if isinstance(parsed, list) else [parsed]
    else:
        items = [raw]
    if len(items) > MAX_ITEMS:
        raise ReadError(f"the answer has {len(items)} items, more than {MAX_ITEMS}")
    return items


def _as_raw(item: Any) -> Any:
    """A typed item back as text, one level deep (a deeper list is refused by the reader as nested)."""
    if isinstance(item, Formula):
        return item.text
    if isinstance(item, list):
        return [i.text if isinstance(i, Formula) else i for i in item]
    return item


def _item_number(item: Any, raw: Any, what: str) -> Number:
    if isinstance(item, Formula):
        return _number_from_formula(item, item.text, what)
    if isinstance(item, list | tuple | dict):
        raise ReadError(f"could not read {_shown(raw)} as {what}")
    try:
        return read_number(item)
    except ReadError as exc:
        raise ReadError(f"could not read {_shown(raw)} as {what}: {exc}") from exc


_INTERVAL_BRACKETS = re.compile(r"^\s*([\[(\]])\s*(.+?)\s*[,;]\s*(.+?)\s*([\])\[])\s*$")
_COMPARISON = re.compile(r"(<=|>=|<|>|≤|≥)")
_INFINITE = {"inf", "infinity", "oo", "∞", "+inf", "+infinity", "+oo", "+∞"}
_MINUS_INFINITE = {"-inf", "-infinity", "-oo", "-∞"}


def read_interval(
    raw: Any, variable_names: tuple[str, ...] = ("eta", "η", "x", "lr"), notes: list[str] | None = None
) -> Interval:
    """An interval: ``(0, 1)``, ``[0, 1]``, ``(0, 1]``, ``]0, 1[``, ``η ∈ (0, 1)``, ``0 < eta < 1``,
    ``0 < η ≤ 1``, ``eta > 0 and eta < 1``."""
    if isinstance(raw, list) and len(raw) == 2:
        return Interval(_bound(raw[0], raw, upper=False), _bound(raw[1], raw, upper=True), False, False)
    if not isinstance(raw, str) or len(raw) > 200:
        raise ReadError(f"could not read {_shown(raw)} as an interval")
    text = unicodedata.normalize("NFKC", raw).replace("\u2212", "-").strip()
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
    clauses = [c for c in re.split(r"\band\b|&&|∧|,", text) if c.strip()]
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


def read_labels(raw: Any, count: int, notes: list[str] | None = None) -> list[str]:
    """A list of labels (JSON list, or text separated by commas, semicolons or new lines)."""
    if isinstance(raw, str):
        if len(raw) > MAX_TEXT:
            raise ReadError("the answer is too long to be a list of labels")
        items: list[Any] = [p for p in re.split(r"[,;\n]", raw) if p.strip()]
    elif isinstance(raw, list):
        items = raw
    else:
        raise ReadError(f"could not read {_shown(raw)} as a list of {count} labels")
    if not all(isinstance(item, str) for item in items):
        raise ReadError(f"could not read {_shown(raw)} as a list of {count} labels")
    if len(items) != count:
        raise ReadError(f"expected {count} labels, one per case; got {len(items)}")
    return [normalise_label(item) for item in items]


def read_choice(raw: Any, notes: list[str] | None = None) -> str:
    """One option of a multiple-choice part (``Overshoots`` → ``overshoots``; a one-item list is that item)."""
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if not isinstance(raw, str) or not raw.strip():
        raise ReadError(f"could not read {_shown(raw)} as one of the options")
    if len(raw) > MAX_CHOICE:
        raise ReadError("the answer is too long to be one of the options")
    return normalise_label(raw)


def read_expression(raw: Any, variables: tuple[str, ...], notes: list[str] | None = None) -> Formula:
    """A formula in the given variables (``x^2+2``, ``2x``)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ReadError(f"could not read {_shown(raw)} as a formula")
    text = raw if isinstance(raw, str) else repr(raw)
    try:
        return parse(text, variables=variables)
    except ExpressionError as exc:
        raise ReadError(f"could not read {_shown(text)} as a formula: {exc}") from exc


def read_text(raw: Any, notes: list[str] | None = None) -> str:
    """Free text, bounded in length."""
    if not isinstance(raw, str):
        raise ReadError("expected a sentence of text")
    if len(raw) > MAX_TEXT:
        raise ReadError(f"the text is too long ({len(raw)} characters, at most {MAX_TEXT})")
    return raw.strip()
