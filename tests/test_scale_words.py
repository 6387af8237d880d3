"""Numbers written with scale words, multiplier suffixes or digit grouping are read as the number they spell.

A generator types several numbers in each form a student uses (``24 thousand``, ``3k``, ``1.2M``,
``three thousand``, ``a dozen``, ``1,200,000``, ``1 200 000`` with spaces or thin spaces, ``1'200'000``,
``1_200_000``, ``1.200.000``) and grades each, through ``check_part``, on a ``number`` and an ``integer``
part: right when the reference is the number spelled, wrong when it is only the digits before the scale
word (``24 thousand`` is not 24), and always saying what was read. Readings two numbers fit (``3,000``,
``1,200 thousand``) and scale words apart from any number are asked about, never guessed; list parts
read ``1,200,000`` and ``1 200 000`` as they did, as lists.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.answers import answer_type
from grader.answers.parts import check_part
from grader.checking.key import AnswerKey
from grader.checking.notation.hedges import ASK
from grader.checking.reading import ReadError, read_number, read_sequence, read_vector

ONE_NUMBER = ("number", "integer")


def key(kind: str, reference: Any) -> AnswerKey:
    return AnswerKey(part="p", type=answer_type(kind).configure({}), points=1, reference=reference)


def grade(kind: str, reference: Any, text: str) -> tuple[str, str, dict[str, Any]]:
    checked, _ = check_part(key(kind, reference), text)
    return checked.status, checked.feedback, checked.details


# (mantissa, scale as written, factor): each spelled in digits before the scale.
SCALES = [
    ("{m} dozen", 12),
    ("{m} hundred", 100),
    ("{m} thousand", 10**3),
    ("{m} Thousand", 10**3),
    ("{m} million", 10**6),
    ("{m} millions", 10**6),
    ("{m} billion", 10**9),
    ("{m}k", 10**3),
    ("{m}K", 10**3),
    ("{m}M", 10**6),
    ("{m} Tausend", 10**3),
    ("{m} Millionen", 10**6),
]
MANTISSAS = ["2", "3", "24", "125", "1.5", "2.25"]


def scaled_variants() -> list[tuple[str, str, Fraction]]:
    return [
        (kind, form.format(m=mantissa), Fraction(mantissa) * factor)
        for kind in ONE_NUMBER
        for form, factor in SCALES
        for mantissa in MANTISSAS
        if kind == "number" or (Fraction(mantissa) * factor).denominator == 1
    ]


def _plain(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))


def _reference(kind: str, value: Fraction) -> Any:
    return int(value) if kind == "integer" else float(value)


@pytest.mark.parametrize(("kind", "text", "value"), scaled_variants())
def test_a_scaled_number_is_the_number_it_spells(kind: str, text: str, value: Fraction) -> None:
    status, feedback, details = grade(kind, _reference(kind, value), text)
    assert status == "correct", (text, feedback)
    assert f"Read {text} as {_plain(value)}." in details["read_as"], feedback
    mantissa = text.split()[0].rstrip("kKM")
    if Fraction(mantissa) != value:  # the digits alone are not the answer: 24 thousand is not 24
        status, feedback, _ = grade(kind, _reference(kind, Fraction(mantissa)), text)
        assert status == "incorrect", (text, feedback)


WORDS = [
    ("a dozen", 12),
    ("two dozen", 24),
    ("a hundred", 100),
    ("three thousand", 3000),
    ("twenty-four thousand", 24000),
    ("a million", 10**6),
    ("one million two hundred thousand", 1_200_000),
    ("two hundred and fifty thousand", 250_000),
    ("Three Thousand", 3000),
    ("a thousand million", 10**9),
]


@pytest.mark.parametrize("kind", ONE_NUMBER)
@pytest.mark.parametrize(("text", "value"), WORDS)
def test_a_number_in_words_with_a_scale_word(kind: str, text: str, value: int) -> None:
    status, feedback, details = grade(kind, value, text)
    assert status == "correct", (text, feedback)
    assert details["read_as"][0] == f"Read '{text}' as {value}.", feedback


def grouped_variants() -> list[tuple[str, str, str]]:
    """(kind, text, plain): each number with each grouping a student types."""
    numbers = ["3000", "24000", "125000", "1200000", "987654321", "2500.5", "1234567.25"]
    separators = [",", " ", "\u2009", "\u202f", "\u00a0", "'", "\u2019", "_", "."]
    variants = []
    for kind in ONE_NUMBER:
        for plain in numbers:
            whole, _, fraction = plain.partition(".")
            if kind == "integer" and fraction:
                continue
            groups = [whole[max(0, end - 3) : end] for end in range(len(whole), 0, -3)][::-1]
            for separator in separators:
                decimal = "," if separator == "." else "."
                if separator in ",." and len(groups) == 2 and not fraction:
                    continue  # 3,000 and 3.000: one group is a decimal comma or point too (asked, below)
                text = separator.join(groups) + (decimal + fraction if fraction else "")
                variants.append((kind, text, plain))
    return variants


@pytest.mark.parametrize(("kind", "text", "plain"), grouped_variants())
def test_grouped_digits_are_one_number(kind: str, text: str, plain: str) -> None:
    reference = int(plain) if kind == "integer" else float(plain)
    status, feedback, details = grade(kind, reference, text)
    assert status == "correct", (text, feedback)
    assert any(
        note.endswith(f" as {plain} (thousands separators).") or note.endswith(f" as {plain} (digit grouping).")
        for note in details["read_as"]
    ), feedback


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("3k updates", 3000),
        ("24 thousand updates per epoch", 24000),
        ("1 200 000 updates", 1_200_000),
        ("n = 1,200,000", 1_200_000),
        ("-1,200,000", -1_200_000),
        ("1,5 Millionen", 1_500_000),
        ("3 mil millones", 3_000_000_000),
    ],
)
def test_scale_words_among_other_words(text: str, number: int) -> None:
    status, feedback, _ = grade("integer", number, text)
    assert status == "correct", (text, feedback)


@pytest.mark.parametrize(
    "text",
    [
        "3,000",  # a decimal comma or a thousands separator
        "1,200 thousand",
        "1,234 million",
        "3,000k",
        "24 (in thousands)",  # a scale word apart from the number
        "24, thousands",
        "thousands",
    ],
)
@pytest.mark.parametrize("kind", ONE_NUMBER)
def test_two_readings_are_asked_about(kind: str, text: str) -> None:
    status, feedback, details = grade(kind, 3000, text)
    assert status == "invalid", (text, feedback)
    assert "could be" in feedback or "apart from any number" in feedback, feedback
    if text != "3,000":
        assert details.get("hedge") == ASK, feedback


def test_ask_shows_both_readings() -> None:
    with pytest.raises(ReadError) as refused:
        read_number("1,200 thousand")
    assert str(refused.value) == (
        "'1,200 thousand' could be 1.200 thousand (a decimal comma) or 1200 thousand (a thousands separator); "
        "write 1200 or 1200000"
    )
    assert refused.value.kind == ASK


@pytest.mark.parametrize(
    "text",
    [
        "1.200",  # a decimal point with three decimals, as before
        "3m",  # metres or milli, not a million
        "1,000,5",  # groups, then a comma that is no decimal point
        "12,00,000",
        "[1,200,000]",  # a list, as Python writes it
        "[1 200 000]",
    ],
)
def test_what_is_not_grouping_is_read_as_before(text: str) -> None:
    notes: list[str] = []
    try:
        number = read_number(text, notes=notes)
    except ReadError:
        return
    assert not any("thousands separators" in note or "digit grouping" in note for note in notes)
    assert number.value < 1000


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("1, 200, 000", [1, 200, 0]),
        ("1 200 000", [1, 200, 0]),
        ("[1,200,000]", None),  # tight commas: which are decimal commas? (asked, as before)
        ("3k, 4k", None),
    ],
)
def test_list_parts_read_lists_as_before(text: str, values: list[int] | None) -> None:
    for read in (lambda raw: read_vector(raw, 3), read_sequence):
        if values is None:
            with pytest.raises(ReadError):
                read(text)
            continue
        assert [n.value for n in read(text)] == values


@pytest.mark.parametrize("kind", ("vector", "sequence"))
def test_a_list_part_asks_about_tight_groups(kind: str) -> None:
    status, feedback, _ = grade(kind, [1, 200, 0], "1,200,000")
    assert status == "invalid", feedback
    assert "1,200 could be 1, 200 or 1.200" in feedback


def test_a_decimal_before_a_power_of_ten_keeps_its_digits() -> None:
    number = read_number("1.2 million")
    assert number.value == 1_200_000 and number.digits == 2
    whole = read_number("3 thousand")
    assert whole.value == 3000 and whole.digits is None and whole.exact == 3000


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1000, max_value=10**12),
    st.sampled_from([",", " ", "'", "_", "\u2009", "\u202f"]),
)
def test_any_grouped_whole_number(value: int, separator: str) -> None:
    digits = str(value)
    groups = [digits[max(0, end - 3) : end] for end in range(len(digits), 0, -3)][::-1]
    if separator == "," and len(groups) == 2:
        return  # asked about: test_two_readings_are_asked_about
    notes: list[str] = []
    assert read_number(separator.join(groups), notes=notes).value == value
    assert len(notes) == 1, notes
    assert notes[0].endswith((f" as {value} (thousands separators).", f" as {value} (digit grouping).")), notes


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value="0.01", max_value="999.99", places=2),
    st.sampled_from(
        sorted({"dozen": 12, "hundred": 100, "thousand": 10**3, "million": 10**6, "k": 10**3, "M": 10**6}.items())
    ),
)
def test_any_scaled_decimal(mantissa: Any, scale: tuple[str, int]) -> None:
    word, factor = scale
    text = f"{mantissa}{'' if len(word) == 1 else ' '}{word}"
    notes: list[str] = []
    number = read_number(text, notes=notes)
    assert Fraction(str(mantissa)) * factor == Fraction(number.value).limit_denominator(1000)
    assert notes[0].startswith(f"Read {text} as ")


@pytest.mark.parametrize(
    ("text", "value", "digits"),
    [("1e3k", 10**6, 1), ("2.5e-1 thousand", 250, 2), ("1.5 dozen", 18, None)],
)
def test_a_scale_after_a_power_of_ten(text: str, value: int, digits: int | None) -> None:
    number = read_number(text)
    assert (number.value, number.digits) == (value, digits)


@pytest.mark.parametrize("text", ["1e99999999k", "1.5" + " billion" * 40, "one" + " billion" * 499])
def test_a_number_too_large_is_refused(text: str) -> None:
    with pytest.raises(ReadError, match="too large"):
        read_number(text)


@pytest.mark.parametrize(
    ("text", "value", "note"),
    [
        ("$1{,}200{,}000$", 1_200_000, "Read 1,200,000 as 1200000 (thousands separators)."),
        ("$1\\,200\\,000$", 1_200_000, "Read 1 200 000 as 1200000 (digit grouping)."),
        ("$1.2\\text{ million}$", 1_200_000, "Read 1.2 million as 1200000."),
        ("$3{,}5$", 3.5, "Read 3,5 as 3.5 (decimal comma)."),
    ],
)
def test_latex_grouping_and_scale_words(text: str, value: float, note: str) -> None:
    notes: list[str] = []
    assert read_number(text, notes=notes).value == value
    assert note in notes


@pytest.mark.parametrize("text", ["2k+1", "3k-1", "2k^2", "1 + 2k", "k + 2k", "2M*3"])
@pytest.mark.parametrize("kind", ONE_NUMBER)
def test_a_suffix_in_a_formula_is_asked_about(kind: str, text: str) -> None:
    status, feedback, details = grade(kind, 2001, text)
    assert status == "invalid", (text, feedback)
    assert details.get("hedge") == ASK and "or as a variable in a formula" in feedback, feedback


@pytest.mark.parametrize(("text", "value"), [("x = 3k", 3000), ("(3k)", 3000), ("-3k", -3000), ("3k.", 3000)])
def test_a_suffix_beside_a_label_or_brackets_is_read(text: str, value: int) -> None:
    assert read_number(text).value == value


@pytest.mark.parametrize("kind", ["number", "integer"])
@pytest.mark.parametrize(
    ("text", "fraction", "percent"),
    [("50%", "0.5", "50"), ("50 %", "0.5", "50"), ("5 percent", "0.05", "5"), ("12,5 %", "0.125", "12.5"),
     ("-50%", "-0.5", "-50"), ("2.5 per cent", "0.025", "2.5"), ("30 Prozent", "0.3", "30")],
)  # fmt: skip
def test_a_percentage_is_asked_about_naming_both_numbers(kind: str, text: str, fraction: str, percent: str) -> None:
    for reference in (float(fraction), float(percent)):  # whichever the question asks, it is not guessed
        status, feedback, details = grade(kind, reference, text)
        assert status == "invalid" and details.get("hedge") == ASK
        assert f"{fraction}, or {percent} where the question asks for a percentage" in feedback


def test_the_remainder_operator_is_not_a_percentage() -> None:
    status, feedback, details = grade("number", 1.0, "7 % 3")
    assert status == "invalid" and "percentage" not in feedback
