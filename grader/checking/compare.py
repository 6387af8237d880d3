"""Comparators: is a value read from a student the same as a reference value?

Numbers are judged at the precision the student wrote: a typed decimal with
*k* significant figures matches when it is the reference rounded to *k*
figures (``2.02`` for 2.015625), provided *k* ≥ ``min_digits`` (else it is
:attr:`Verdict.COARSE`: right, but too coarse to tell). Any number also
matches when ``|s − r| ≤ max(atol, rtol·|r|)`` (a JSON float computed by a
script, or an exact ``10/3``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grader.checking.reading import Interval, Number


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
    if student.digits is not None and _rounds_to(student, reference):
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


def compare_numbers(
    student: Sequence[Number], reference: Sequence[float], tolerance: Tolerance
) -> list[Verdict]:
    """Component-wise verdicts; the caller checks the lengths first."""
    return [compare_number(s, r, tolerance) for s, r in zip(student, reference, strict=True)]


def all_match(verdicts: Sequence[Verdict]) -> bool:
    return all(v is Verdict.MATCH for v in verdicts)


def all_right(verdicts: Sequence[Verdict]) -> bool:
    """Every component right, some possibly too coarse."""
    return all(v is not Verdict.MISMATCH for v in verdicts)


def same_value(student: Any, reference: Any, tolerance: Tolerance) -> bool:
    """Structural match of a read answer against a value of the same shape (numbers, lists, intervals, labels)."""
    if isinstance(student, Number):
        return (
            _is_number(reference)
            and compare_number(student, reference, tolerance) is not Verdict.MISMATCH
        )
    if isinstance(student, Interval):
        return isinstance(reference, Interval) and same_interval(student, reference, tolerance)
    if isinstance(student, list):
        return (
            isinstance(reference, list | tuple)
            and len(student) == len(reference)
            and all(same_value(s, r, tolerance) for s, r in zip(student, reference, strict=True))
        )
    if isinstance(student, str):
        return isinstance(reference, str) and student == reference
    return False


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
