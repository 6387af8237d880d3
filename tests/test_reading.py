"""Reading answers: every format of the submission contract, and clear refusals for the rest."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checking.reading import (
    Interval,
    ReadError,
    normalise_label,
    read_expression,
    read_interval,
    read_labels,
    read_matrix,
    read_number,
    read_sequence,
    read_text,
    read_vector,
)

# Numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("3.5", 3.5),
        ("-2", -2.0),
        ("\u22122", -2.0),
        ("1e-3", 0.001),
        ("10/3", 10 / 3),
        ("1200/32", 37.5),
        ("sqrt(2)", math.sqrt(2)),
        (" 38 ", 38.0),
        (3.5, 3.5),
        (38, 38.0),
        (-2, -2.0),
    ],
)
def test_numbers_in_every_contract_format(raw, value):
    assert read_number(raw).value == pytest.approx(value, rel=1e-15)


def test_a_typed_decimal_keeps_its_significant_figures():
    number = read_number("2.02")
    assert (number.digits, number.exact, number.typed) == (3, None, True)


def test_a_typed_fraction_is_exact():
    number = read_number("10/3")
    assert (number.digits, number.exact) == (None, Fraction(10, 3))


def test_a_json_number_is_not_typed():
    assert read_number(3.3).typed is False
    assert read_number(38).exact == 38


@pytest.mark.parametrize(
    "raw",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        "nan",
        "NaN",
        "inf",
        "-inf",
        "infinity",
        "1e999",
        "1/0",
        "sqrt(-1)",
        10**400,
    ],
)
def test_nan_and_infinity_are_not_numbers(raw):
    with pytest.raises(ReadError):
        read_number(raw)


@pytest.mark.parametrize("raw", [True, None, {}, [1, 2], "abc", "x", "3,5,1", "1 2", "1,200"])
def test_other_things_are_not_numbers(raw):
    with pytest.raises(ReadError):
        read_number(raw)


def test_the_message_names_the_answer_and_what_was_expected():
    with pytest.raises(ReadError, match=r"could not read 'abc' as a number"):
        read_number("abc")


# Vectors, sequences and matrices -----------------------------------------------------


@pytest.mark.parametrize("raw", ["[3.5, 2]", "(3.5, 2)", "3.5, 2", "[3.5,2]", " ( 3.5 , 2 ) ", [3.5, 2], ["3.5", "2"]])
def test_vectors_in_every_contract_format(raw):
    assert [n.value for n in read_vector(raw, 2)] == [3.5, 2.0]


def test_a_vector_of_exact_fractions():
    numbers = read_vector("[10/3, 2]", 2)
    assert [n.exact for n in numbers] == [Fraction(10, 3), 2]


def test_a_vector_with_unicode_minus():
    assert [n.value for n in read_vector("−1, −2", 2)] == [-1.0, -2.0]


def test_list_items_keep_their_significant_figures():
    assert [n.digits for n in read_vector("[2.50, 1.000]", 2)] == [3, 4]


def test_a_malformed_vector_gets_a_message_naming_it():
    with pytest.raises(ReadError) as caught:
        read_vector("3,5.2.1", 2)
    assert "could not read '3,5.2.1' as a vector of 2 numbers" in str(caught.value)


def test_a_vector_of_the_wrong_length_says_how_many():
    with pytest.raises(ReadError, match="has 3 numbers; expected a vector of 2 numbers"):
        read_vector("1, 2, 3", 2)


@pytest.mark.parametrize(
    "raw",
    [[1, float("nan")], "[1, nan]", [float("inf"), 1], "1e999, 1", [1, [2]], "[[1, 2], [3, 4]]", [None, 1]],
)
def test_vectors_with_non_numbers_are_refused(raw):
    with pytest.raises(ReadError):
        read_vector(raw, 2)


def test_a_sequence_of_numbers():
    assert [n.value for n in read_sequence("4, 2, 1, 0.5")] == [4, 2, 1, 0.5]


def test_a_sequence_of_vectors():
    points = read_sequence("[[4, 3], [3.5, 2]]", item_length=2)
    assert [[n.value for n in p] for p in points] == [[4, 3], [3.5, 2]]


def test_a_matrix():
    rows = read_matrix("[[6, 0], [0, 2]]", (2, 2))
    assert [[n.value for n in row] for row in rows] == [[6, 0], [0, 2]]


def test_a_matrix_of_the_wrong_shape_is_refused():
    with pytest.raises(ReadError, match="2×2 matrix"):
        read_matrix("[[6, 0, 1], [0, 2, 1]]", (2, 2))


def test_too_many_items_are_refused():
    with pytest.raises(ReadError, match="more than"):
        read_sequence(list(range(5000)))


# Intervals -----------------------------------------------------------------------------

OPEN = Interval(0.0, 1.0, False, False)


@pytest.mark.parametrize(
    ("raw", "interval"),
    [
        ("(0, 1)", OPEN),
        ("[0, 1]", Interval(0.0, 1.0, True, True)),
        ("(0, 1]", Interval(0.0, 1.0, False, True)),
        ("[0, 1)", Interval(0.0, 1.0, True, False)),
        ("]0, 1[", OPEN),
        ("0 < eta < 1", OPEN),
        ("0 < η < 1", OPEN),
        ("0 <= eta < 1", Interval(0.0, 1.0, True, False)),
        ("0 ≤ η ≤ 1", Interval(0.0, 1.0, True, True)),
        ("eta > 0 and eta < 1", OPEN),
        ("1 > eta > 0", OPEN),
        ("η ∈ (0, 1)", OPEN),
        ("eta > 0", Interval(0.0, None, False, False)),
        ("(-inf, 0]", Interval(None, 0.0, False, True)),
        ("(0, 2/2)", OPEN),
        ([0, 1], OPEN),
    ],
)
def test_intervals_as_students_write_them(raw, interval):
    assert read_interval(raw) == interval


@pytest.mark.parametrize(
    "raw",
    [
        "(0, nan)",
        "0 < eta < nan",
        [0, float("nan")],
        "(inf, 1)",  # +inf cannot be the lower end
        "(0, -inf)",
        "eta < 1 and eta < 2",  # two upper bounds
        "0 < eta < 1 < 2",
        "0 < y < 1",  # not the variable
        "between 0 and 1",
        "(a, b)",
        "x" * 300,
        12,
        None,
    ],
)
def test_malformed_intervals_are_refused(raw):
    with pytest.raises(ReadError):
        read_interval(raw)


# Labels, formulas, text --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Slow monotone, fast",
        "slow-monotone; fast",
        "slow_monotone\nfast",
        ["slow-monotone", "FAST"],
    ],
)
def test_labels_are_normalised(raw):
    assert read_labels(raw, 2) == ["slow-monotone", "fast"]


def test_the_number_of_labels_must_match():
    with pytest.raises(ReadError, match="expected 2 labels, one per case; got 3"):
        read_labels("a, b, c", 2)


@pytest.mark.parametrize("raw", [["a", 1], [["a"], "b"], 3, None, "a" * 20_000])
def test_labels_that_are_not_text_are_refused(raw):
    with pytest.raises(ReadError):
        read_labels(raw, 2)


def test_normalise_label():
    assert normalise_label("  Oscillating   Converging ") == "oscillating-converging"


def test_a_formula_in_the_allowed_variables():
    assert read_expression("x^2+2", ("x",)).evaluate({"x": 2}) == 6


def test_a_formula_in_other_variables_is_refused():
    with pytest.raises(ReadError, match="could not read 'y\\^2' as a formula"):
        read_expression("y^2", ("x",))


def test_text_is_stripped_and_bounded():
    assert read_text("  Too large overshoots. ") == "Too large overshoots."
    with pytest.raises(ReadError, match="too long"):
        read_text("a" * 20_000)
    with pytest.raises(ReadError):
        read_text(3)


# Anything at all -----------------------------------------------------------------------

JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.text(alphabet="0123456789.,;[]()<>=η eta-−e+/*", max_size=30),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=20,
)

READERS = {
    "number": read_number,
    "vector": lambda raw: read_vector(raw, 2),
    "list": lambda raw: read_vector(raw),
    "sequence": read_sequence,
    "sequence of vectors": lambda raw: read_sequence(raw, item_length=2),
    "matrix": lambda raw: read_matrix(raw, (2, 2)),
    "interval": read_interval,
    "labels": lambda raw: read_labels(raw, 2),
    "expression": lambda raw: read_expression(raw, ("x",)),
    "text": read_text,
}


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
@settings(max_examples=150, deadline=2000)
@given(raw=JSONISH)
def test_any_json_value_is_read_or_refused_with_read_error(reader, raw):
    try:
        reader(raw)
    except ReadError as exc:
        assert str(exc)


def test_a_deeply_nested_list_is_refused_quickly():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    for reader in READERS.values():
        with pytest.raises(ReadError):
            reader(deep)
