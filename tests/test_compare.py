"""Comparators: typed numbers are judged at the precision written, JSON numbers by tolerance."""

from __future__ import annotations

import pytest

from grader.checking.compare import (
    Tolerance,
    Verdict,
    compare_number,
    credit,
    same_interval,
    same_value,
)
from grader.checking.reading import Interval, read_interval, read_number, read_vector

DEFAULT = Tolerance()
MATCH, COARSE, MISMATCH = Verdict.MATCH, Verdict.COARSE, Verdict.MISMATCH


@pytest.mark.parametrize(
    ("typed", "reference", "verdict"),
    [
        ("2.02", 2.015625, MATCH),  # 2.015625 rounded to 3 significant figures
        ("2.016", 2.015625, MATCH),
        ("2.0156", 2.015625, MATCH),
        ("2.01", 2.015625, MISMATCH),  # rounds the wrong way
        ("2.03", 2.015625, MISMATCH),
        ("3.33", 10 / 3, MATCH),
        ("3.333", 10 / 3, MATCH),
        ("3.34", 10 / 3, MISMATCH),
        ("3.3", 10 / 3, COARSE),  # right, but only 2 significant figures
        ("3", 10 / 3, MISMATCH),  # an integer is exact, so it is simply wrong
        ("10/3", 10 / 3, MATCH),  # exact
        ("1200/32", 37.5, MATCH),
        ("0.0625", 0.0625, MATCH),
        ("0.06", 0.0625, COARSE),
        ("-0.333", -1 / 3, MATCH),
        ("−0.333", -1 / 3, MATCH),
        ("sqrt(2)", 2**0.5, MATCH),
    ],
)
def test_typed_numbers_are_judged_at_the_precision_written(typed, reference, verdict):
    assert compare_number(read_number(typed), reference, DEFAULT) is verdict


def test_more_digits_can_be_required():
    four = Tolerance(min_digits=4)
    assert compare_number(read_number("0.684"), 0.6837722839831544, four) is COARSE
    assert compare_number(read_number("0.6838"), 0.6837722839831544, four) is MATCH


@pytest.mark.parametrize(
    ("json", "reference", "verdict"),
    [
        (3.3333333333333335, 10 / 3, MATCH),
        (3.33333333, 10 / 3, MATCH),  # within rtol 1e-6
        (3.33, 10 / 3, MISMATCH),  # a JSON number is judged by tolerance alone
        (2.015625, 2.015625, MATCH),
        (38, 38, MATCH),
        (37, 38, MISMATCH),
    ],
)
def test_json_numbers_are_judged_by_tolerance(json, reference, verdict):
    assert compare_number(read_number(json), reference, DEFAULT) is verdict


@pytest.mark.parametrize(
    ("answer", "reference", "tolerance", "verdict"),
    [
        ("0", 0.0, DEFAULT, MATCH),
        ("0.0", 0.0, DEFAULT, MATCH),
        (0.0, 0.0, DEFAULT, MATCH),
        (1e-12, 0.0, DEFAULT, MATCH),  # within atol: near zero, rtol·|r| is no help
        (0.0, 1e-12, DEFAULT, MATCH),
        (1e-6, 0.0, DEFAULT, MISMATCH),
        (1e-6, 0.0, Tolerance(atol=1e-5), MATCH),
        ("0.001", 0.0, Tolerance(atol=1e-2), MATCH),
        ("0.00098", 0.00098, DEFAULT, MATCH),
    ],
)
def test_answers_near_zero_use_the_absolute_tolerance(answer, reference, tolerance, verdict):
    assert compare_number(read_number(answer), reference, tolerance) is verdict


def test_a_non_finite_reference_matches_nothing():
    assert compare_number(read_number("1"), float("nan"), DEFAULT) is MISMATCH
    assert compare_number(read_number("1"), float("inf"), DEFAULT) is MISMATCH


def test_same_value_compares_lists_component_by_component():
    assert same_value(read_vector("[10/3, 2]"), [10 / 3, 2.0], DEFAULT)
    assert same_value(read_vector("3.333, 2"), [10 / 3, 2.0], DEFAULT)
    assert not same_value(read_vector("[10, 6]"), [10 / 3, 2.0], DEFAULT)
    assert not same_value(read_vector("[10/3]"), [10 / 3, 2.0], DEFAULT)  # length first


def test_a_coarse_number_is_the_same_value_only_when_asked():
    coarse = read_vector("3.3, 2")
    assert not same_value(coarse, [10 / 3, 2.0], DEFAULT)
    assert same_value(coarse, [10 / 3, 2.0], DEFAULT, coarse_ok=True)


def test_credit_is_averaged_over_components_with_half_for_coarse():
    assert credit(read_vector("3.3, 2"), [10 / 3, 2.0], DEFAULT) == 0.75
    assert credit(read_vector("3.5, 2"), [10 / 3, 2.0], DEFAULT) == 0.5
    assert credit(read_vector("1, 2, 3"), [10 / 3, 2.0], DEFAULT) == 0.0


def test_labels_and_intervals_are_all_or_nothing():
    assert same_value("fast", "fast", DEFAULT)
    assert not same_value("fast", "slow-monotone", DEFAULT)
    assert credit(read_interval("(0, 1]"), Interval(0, 1, False, False), DEFAULT) == 0.0


@pytest.mark.parametrize(
    ("student", "equal"),
    [
        ("(0, 1)", True),
        ("0 < eta < 1", True),
        ("(0, 1.0000000001)", True),  # bounds within tolerance
        ("[0, 1]", False),
        ("(0, 1]", False),
        ("[0, 1)", False),
        ("(0, 2)", False),
        ("eta > 0", False),
    ],
)
def test_intervals_need_the_same_bounds_and_ends(student, equal):
    assert same_interval(read_interval(student), Interval(0.0, 1.0, False, False), DEFAULT) is equal


def test_infinite_ends_match_whatever_bracket_was_written():
    half_line = Interval(0.0, None, False, False)
    assert same_interval(read_interval("0 < eta <= inf"), half_line, DEFAULT)
    assert same_interval(read_interval("(0, inf)"), half_line, DEFAULT)
