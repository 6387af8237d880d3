"""Comparators: is a value read from a student the same as a reference value?

Numbers are judged at the precision the student wrote: a typed decimal with
*k* significant figures matches when it is the reference rounded to *k*
figures (``2.02`` for 2.015625), provided *k* ≥ ``min_digits`` (else it is
:attr:`Verdict.COARSE`: right, but too coarse to tell). Any number also
matches when ``|s − r| ≤ max(atol, rtol·|r|)``; JSON numbers (computed by a
script) are judged by this tolerance alone.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grader.checking.reading import Interval, Number


def shape(value: Any) -> tuple[int, ...]:
    """``(rows, columns, …)`` of nested lists, ``()`` for a single value."""
    if isinstance(value, list):
        return (len(value), *(shape(value[0]) if value else ()))
    return ()


class Verdict(enum.Enum):
    MATCH = "match"
    COARSE = "coarse"  # the right value rounded to too few significant figures
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class Tolerance:
    """How close counts as equal: ``|s − r| ≤ max(atol, rtol·|r|)``, and typed decimals by their digits."""

    rtol: float = 1e-6
    atol: float = 1e-9
    min_digits: int = 3


def compare_number(student: Number, reference: float, tolerance: Tolerance) -> Verdict:
    """Judge one number; see the module docstring for the rule."""
    reference = float(reference)
    if not math.isfinite(reference):
        return Verdict.MISMATCH
    if abs(student.value - reference) <= max(tolerance.atol, tolerance.rtol * abs(reference)):
        return Verdict.MATCH
    if student.typed and student.digits is not None and _rounds_to(student, reference):
        return Verdict.MATCH if student.digits >= tolerance.min_digits else Verdict.COARSE
    return Verdict.MISMATCH


def _rounds_to(student: Number, reference: float) -> bool:
    """True when ``reference`` rounded to the student's significant figures gives the student's value."""
    if student.value == 0 or student.digits is None:
        return False
    last_place = math.floor(math.log10(abs(student.value))) - student.digits + 1
    half_unit = 0.5 * 10.0**last_place
    return abs(student.value - reference) <= half_unit * (1 + 1e-9)


def close(a: float, b: float, tolerance: Tolerance) -> bool:
    """Float closeness for values the grader computed itself (no digits rule)."""
    return abs(a - b) <= max(tolerance.atol, tolerance.rtol * abs(b))


def compare_numbers(student: Sequence[Number], reference: Sequence[float], tolerance: Tolerance) -> list[Verdict]:
    """Component-wise verdicts; the caller checks the lengths first."""
    return [compare_number(s, r, tolerance) for s, r in zip(student, reference, strict=True)]


def same_value(student: Any, reference: Any, tolerance: Tolerance, coarse_ok: bool = False) -> bool:
    """Structural match of a read answer against a value of the same shape (numbers, lists, intervals, labels).

    A number rounded too coarsely counts as the same only with ``coarse_ok``.
    """
    share = credit(student, reference, tolerance)
    return share == 1.0 or (coarse_ok and share > 0.0 and _no_mismatch(student, reference, tolerance))


def _no_mismatch(student: Any, reference: Any, tolerance: Tolerance) -> bool:
    if isinstance(student, Number):
        return compare_number(student, reference, tolerance) is not Verdict.MISMATCH
    if isinstance(student, list):
        return all(_no_mismatch(s, r, tolerance) for s, r in zip(student, reference, strict=True))
    return credit(student, reference, tolerance) == 1.0


def credit(student: Any, reference: Any, tolerance: Tolerance) -> float:
    """How much of a value is right: per number MATCH 1, COARSE ½, MISMATCH 0, averaged over a list.

    Intervals and labels are all or nothing; a list of the wrong length or shape is 0.
    """
    if isinstance(student, Number):
        if not _is_number(reference):
            return 0.0
        return _CREDIT[compare_number(student, reference, tolerance)]
    if isinstance(student, Interval):
        return float(isinstance(reference, Interval) and same_interval(student, reference, tolerance))
    if isinstance(student, list):
        if not isinstance(reference, list | tuple) or len(student) != len(reference) or not student:
            return 0.0
        parts = [credit(s, r, tolerance) for s, r in zip(student, reference, strict=True)]
        return sum(parts) / len(parts)
    if isinstance(student, str):
        return float(isinstance(reference, str) and student == reference)
    return 0.0


_CREDIT = {Verdict.MATCH: 1.0, Verdict.COARSE: 0.5, Verdict.MISMATCH: 0.0}


def plain_equal(a: Any, b: Any) -> bool:
    """Equality of two values the grader computed (floats to 1e-12 relative): can a rule be told apart?"""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(plain_equal(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) and _is_number(b):
        return abs(a - b) <= 1e-12 * max(1.0, abs(b))
    return a == b


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def same_interval(student: Interval, reference: Interval, tolerance: Tolerance) -> bool:
    """Same bounds (within tolerance, infinite as None) and the same open/closed ends."""
    return (
        _same_bound(student.low, reference.low, tolerance)
        and _same_bound(student.high, reference.high, tolerance)
        and (student.low is None or student.low_closed == reference.low_closed)
        and (student.high is None or student.high_closed == reference.high_closed)
    )


def _same_bound(a: float | None, b: float | None, tolerance: Tolerance) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return close(a, b, tolerance)
