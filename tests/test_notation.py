"""Each step of reading an answer, alone (grader.checking.notation), and properties of the whole.

A step takes text and a Reading and returns text; it records what it did (Reading.steps) and tells
the student only decisions worth telling (Reading.notes).
"""

from __future__ import annotations

import contextlib
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.checking.notation import Ambiguous, Reading
from grader.checking.notation.characters import normalise_characters
from grader.checking.notation.equations import SidesDisagree, last_side
from grader.checking.notation.hedges import ALTERNATIVES, ASK, ESTIMATE, QUESTION, UNCERTAIN, Hedged, refuse_hedges
from grader.checking.notation.items import AmbiguousComma, split_items
from grader.checking.notation.labels import known_option, label_items, label_table, labels_in_sentence, option_named
from grader.checking.notation.markup import MarkupError, strip_markup
from grader.checking.notation.rounding import work_out_rounding
from grader.checking.notation.tools import unwrap_tool_output
from grader.checking.notation.words import LIST, NUMBER, WordsError, find_value, interval_words, unit_after
from grader.checking.reading import (
    ReadError,
    read_choice,
    read_expression,
    read_interval,
    read_labels,
    read_matrix,
    read_number,
    read_sequence,
    read_vector,
)
from grader.specs.model import load_catalog


def run(step, text):
    reading = Reading()
    return reading.run(step, text), reading


# 1. characters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("3⅓", "(3+1/3)"),  # NFKC alone would give 31⁄3
        ("½", "(1/2)"),
        ("2⁻¹", "2**(-1)"),  # NFKC alone would give 2-1
        ("x²", "x**(2)"),
        ("３８", "38"),
        ("０＜η＜１", "0<η<1"),
        ("x₁=2", "x1=2"),
        ("−1, –2", "-1, -2"),
        ("10⁄3", "10/3"),
        ("0.9·8 × 2 ⋅ 1", "0.9*8 * 2 * 1"),
        ("“fast”", '"fast"'),
        ("3.5\u00a02", "3.5 2"),
        ("(3.5, 2)ᵀ", "(3.5, 2)^T"),
        ("1.2×10⁻³", "1.2e-3"),
        ("x ← (3.5, 2)", "x = (3.5, 2)"),
    ],
)
def test_characters_become_plain_maths(typed, plain):
    assert run(normalise_characters, typed)[0] == plain


def test_plain_ascii_is_left_alone_and_no_step_is_recorded():
    text, reading = run(normalise_characters, "4, 2, 1")
    assert (text, reading.steps, reading.notes) == ("4, 2, 1", [], [])


# 2. markup -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "plain"),
    [
        (r"$\frac{10}{3}$", "((10)/(3))"),
        (r"\dfrac{1}{2}", "((1)/(2))"),
        (r"\frac12", "((1)/(2))"),
        (r"\sqrt{2}", "sqrt(2)"),
        (r"2^{-1}", "2^(-1)"),
        (r"4 \cdot 2 \times 1", "4 * 2 * 1"),
        (r"\left(3.5, 2\right)", "(3.5, 2)"),
        (r"\begin{pmatrix} -1 \\ -2 \end{pmatrix}", "[[-1], [-2]]"),
        (r"\begin{bmatrix}6&0\\0&2\end{bmatrix}", "[[6, 0], [0, 2]]"),
        (r"(3.\overline{3}, 2)", "((10/3), 2)"),
        (r"0 \le \eta < 1", "0 ≤ η < 1"),
        (r"\lceil 37.5 \rceil", "⌈ 37.5 ⌉"),
        ("**24**", "24"),
        ("`38`", "38"),
        ("```\n[4, 2]\n```", "[4, 2]"),
        ("- 4\n- 2\n- 1", "4\n2\n1"),
        ("1. 4\n2. 2\n3. 1", "4\n2\n1"),
        ("| x0 | x1 |\n|---|---|\n| 4 | 2 |", "4\t2"),
    ],
)
def test_markup_becomes_plain_maths(pasted, plain):
    assert run(strip_markup, pasted)[0].strip() == plain


def test_python_powers_are_not_bold_and_a_lone_numbered_line_is_not_a_list():
    assert run(strip_markup, "2**3")[0] == "2**3"
    assert run(strip_markup, "4. 0.5")[0] == "4. 0.5"


def test_an_unknown_latex_command_is_named():
    with pytest.raises(MarkupError, match=r"\\foo"):
        strip_markup(r"\foo{3}", Reading())


# 3. tool output --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "values"),
    [
        ("array([3.33333333, 2.        ])", "[3.33333333, 2.        ]"),
        ("array([3.8, 2.2], dtype=float32)", "[3.8, 2.2]"),
        ("tensor(2.0156, requires_grad=True)", "2.0156"),
        ("tensor([3.3333, 2.0000], grad_fn=<MeanBackward1>)", "[3.3333, 2.0000]"),
        ("Parameter containing:\ntensor([3.5000, 2.0000], requires_grad=True)", "[3.5000, 2.0000]"),
        ("[np.float64(4.0), np.float64(2.0)]", "[4.0, 2.0]"),
        ("np.int64(24)", "24"),
        ("Out[3]: 38", "38"),
        ("In [4]: 1200 // 200\nOut[4]: 6", "6"),
        ("=1200/50", "1200/50"),
        ("math.ceil(1200/32)", "ceil(1200/32)"),
        ("=ROUNDUP(1200/32;0)", "ceil(1200/32)"),
        ("1200 // 32", "floor(1200/32)"),
        ("{'y': 2, 'x': 3.5}", "[3.5, 2]"),
    ],
)
def test_tool_output_is_unwrapped(printed, values):
    assert run(unwrap_tool_output, printed)[0] == values


def test_a_dict_of_other_names_is_left_for_the_parser_to_refuse():
    assert run(unwrap_tool_output, "{'a': 1}")[0] == "{'a': 1}"


@pytest.mark.parametrize(
    ("printed", "values"),
    [
        ("Array([3.8, 2.2], dtype=float32)", "[3.8, 2.2]"),
        ("Array(2.48, dtype=float32)", "2.48"),
        ("Array([[6., 0.],\n       [0., 2.]], dtype=float32)", "[[6., 0.],\n       [0., 2.]]"),
        ("-(-1200 // 32) = 38", "-(floor(-1200/32)) = 38"),  # unary minus binds tighter than //
        ("-1200//32", "floor(-1200/32)"),
        ("5 - 1200 // 32", "5 -floor(1200/32)"),  # a binary minus
        ("1200 // -32", "floor(1200/-32)"),
        ("(1200 + 31) // 32", "floor((1200 + 31)/32)"),
        ("-(1200 + 31) // 32", "floor(-(1200 + 31)/32)"),
        ("diag(6, 2)", "[[6, 0], [0, 2]]"),
        ("np.diag([6, 2])", "[[6, 0], [0, 2]]"),
        ("diag([6 2])", "[[6, 0], [0, 2]]"),
        ("x =\n\n   4.0000   2.0000   1.0000\n", "4.0000 2.0000 1.0000"),
        ("x_new =\n\n    1.5100\n    0.2200\n", "1.5100\n0.2200"),
        ("H =\n\n   6   0\n   0   2\n", "6 0\n0 2"),
        ("w =\n\n        0   0.3000   2.0100\n", "0 0.3000 2.0100"),
        ("x =\n\n Columns 1 through 2\n\n   4   2\n\n Column 3\n\n   1\n", "4 2 1"),
        ("0    4.000\n1    2.000\n2    1.000\ndtype: float64", "4.000\n2.000\n1.000"),
        ("0    0.00\n1    0.30\n2    2.01\nName: w, dtype: float64", "0.00\n0.30\n2.01"),
        ("0    0.00\n1    0.30\nLength: 2, dtype: float64", "0.00\n0.30"),
        ("g1    3.8\ng2    2.2\ndtype: float64", "3.8\n2.2"),
        ("t\n0    4.0\n1    2.0\nName: x, dtype: float64", "4.0\n2.0"),  # under the index's name
        ("x =\n\n   4   2   1   1/2\n", "4 2 1 1/2"),  # format rat
        ("y    2.0\nx    3.5\ndtype: float64", "[3.5, 2.0]"),  # named: in x, y order
        ("0.05    slow-monotone\n0.25    fast\ndtype: object", "slow-monotone\nfast"),
        ("     x    y\nx  6.0  0.0\ny  0.0  2.0", "6.0 0.0\n0.0 2.0"),
        ("   value\n0    4.0\n1    2.0", "4.0\n2.0"),
        ("t\tx_t\n0\t4\n1\t2\n2\t1", "4\n2\n1"),
        ("x\t3.5\ny\t2", "[3.5, 2]"),
    ],
)
def test_jax_pandas_matlab_and_spreadsheet_output_is_unwrapped(printed, values):
    assert run(unwrap_tool_output, printed)[0] == values


@pytest.mark.parametrize(
    "printed",
    [
        "3*400 // 32",  # Python computes 3*400 first: left for the parser to refuse
        "1200 / 10 // 4",
        "1200 // 32**2",
        "2*-1200 // 32",
        "sqrt(2) // 1",
        "np.diag([6, 2], 1)",  # an offset diagonal
        "np.diag([[6, 0], [0, 2]])",  # the diagonal of a matrix
        "np.diag(6, 2)",
        "0    4.000\n1    2.000",  # no dtype footer: index and value, or a 2-column matrix?
        "1 2\n3 4 5\n6 7 8",  # a matrix with a short first row is not a DataFrame
        "0 1\n1 0",  # a matrix, not a table under pandas' default column names
        "1200/50\n= 24",  # a worked equation: its sides are still compared
        "The iterates are\n0 4 2 1",  # a sentence is not a header over one row
        "x =\n\n   4, 2\n",
        "a\t3.5\nb\t2",  # names other than the parameters'
    ],
)
def test_tool_output_that_could_be_read_two_ways_is_left_alone(printed):
    assert run(unwrap_tool_output, printed)[0] == printed.strip()


def test_a_table_of_several_columns_keeps_their_names():
    text, reading = run(unwrap_tool_output, "       x       f(x)\n0  4.000  18.0\n1  2.000   6.0")
    assert text == "4.000 18.0\n2.000 6.0"
    assert reading.columns == ("x", "f(x)")
    text, reading = run(unwrap_tool_output, "x\ty\n0\t4\n1\t2")  # a column named x holds values, not an index
    assert (text, reading.columns) == ("0 4\n1 2", ("x", "y"))


# 4. rounding -----------------------------------------------------------------------------


def test_ceil_and_floor_of_numbers_are_worked_out_and_told():
    text, reading = run(work_out_rounding, "ceil(1200/32) = 38")
    assert text == "38 = 38"
    assert reading.notes == ["Worked out ⌈1200/32⌉ = 38."]
    assert run(work_out_rounding, "⌊1200/32⌋")[0] == "37"
    assert run(work_out_rounding, "ceil(x)")[0] == "ceil(x)"


# 5. words --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("24 updates", "24"),
        ("about 24 updates per epoch", "24"),
        ("38 (37 full + 1 partial)", "38"),
        ("37 (drop_last=True)", "37"),
        ("38 because the last batch is partial", "38"),
        ("b32: 38", "38"),
        ("With B = 200 there are 6 updates.", "6"),
        ("38 updates, the last one on a batch of 16", "38"),
        ("37 full + 1 partial = 38", "37 + 1 = 38"),
        ("2.48.", "2.48"),
        ("x1 = 2.48", "x1 = 2.48"),
        ("[3.333..., 2]", "[3.333, 2]"),
    ],
)
def test_the_value_is_found_among_words(written, value):
    context = LIST if written.startswith("[") else NUMBER
    assert find_value(written, Reading(), context) == value


def test_number_words_only_for_counts():
    assert find_value("thirty-eight", Reading(), NUMBER, number_words=True) == "38"
    with pytest.raises(WordsError, match="'one' is not a number"):
        find_value("one", Reading(), NUMBER)


def test_a_list_keeps_its_items_and_drops_the_sentence():
    assert find_value("The iterates are 4, 2, 1 and 0.5.", Reading(), LIST).replace(" ", "") == "4,2,1,0.5"
    assert "one" in find_value("4, 2, one", Reading(), LIST)  # an item, left for the number reader to refuse


def test_several_numbers_no_reader_could_choose_between_are_refused():
    with pytest.raises(WordsError, match=r"several values \(38, 37\)"):
        find_value("it is 38 or 37", Reading(), NUMBER)


@pytest.mark.parametrize(
    ("written", "interval"),
    [
        ("it converges for eta between 0 and 1 (exclusive)", "(0, 1)"),
        ("between 0 and 1, both ends included", "[0, 1]"),
        ("{η : 0 < η < 1}", "0 < η < 1"),
        ("for 0 < η < 1 it converges", "0 < η < 1"),
        ("(0,1) (open interval)", "(0,1)"),
    ],
)
def test_intervals_in_words(written, interval):
    assert interval_words(written, Reading(), ("eta", "η")) == interval


def test_between_without_saying_the_ends_is_ambiguous():
    with pytest.raises(Ambiguous, match=r"\(0, 1\) leaves them out, \[0, 1\] keeps them"):
        interval_words("between 0 and 1", Reading(), ("eta",))


# 6. worked equations ---------------------------------------------------------------------


def _number(text):
    return read_number(text)


def _last(text, arrows=False):
    reading = Reading()
    value = last_side(
        text,
        reading,
        _number,
        lambda a, b: abs(a.value - b.value) < 1e-9,
        lambda n: f"{n.value:g}",
        rounding_links=arrows,
    )
    return value.value, reading.notes


def test_the_last_side_is_the_answer_and_a_label_is_not_compared():
    assert _last("1200/50 = 24") == (24.0, ["Took the last side of 1200/50 = 24."])
    assert _last("x1 = 2") == (2.0, [])
    assert _last("1200/32 = 37.5 → 38", arrows=True)[0] == 38.0


def test_sides_that_disagree_are_refused_naming_both():
    with pytest.raises(SidesDisagree, match="1200/32 is 37.5, not 38"):
        _last("1200/32 = 38")


def test_a_note_offering_another_value_is_a_second_answer():
    for hedged, both in [("0.8896 (or 1.84?)", ("0.8896", "1.84")), ("24 (maybe 25)", ("24", "25"))]:
        with pytest.raises(ReadError, match=f"two answers, {both[0]} and {both[1]}"):
            read_number(hedged)
    assert read_number("38 (ceil of 37.5 or rounding up)").value == 38  # a note with 'or', no other value


# 0. hedges (tests/test_hedged_answers.py grades every kind on every part) -----------------------------


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        ("24 (25?)", ALTERNATIVES),
        ("24 oder 25", ALTERNATIVES),
        ("4, 2, 1 (or …)", ALTERNATIVES),
        ("(3.5, 2)/(3.5, 2.5)", ALTERNATIVES),
        ("maybe 38", UNCERTAIN),
        ("(0, 1) (not sure about the ends)", UNCERTAIN),
        ("roughly 24", ESTIMATE),
        ("24-ish", ESTIMATE),
        ("38?", QUESTION),
        ("4, 2?, 1", QUESTION),
        ("37–38", ASK),
        ("38–37", ASK),
        ("37-38", ASK),
        ("2.48 / 5.52", ASK),
    ],
)
def test_an_answer_that_is_not_one_answer_is_refused_with_its_kind(written, kind):
    with pytest.raises(Hedged) as refused:
        refuse_hedges(written, Reading())
    assert refused.value.kind == kind


@pytest.mark.parametrize(
    "written",
    [
        "≈ 0.8896",
        "approx. (3.33, 2)",
        "x ~ 24",
        "How many updates per epoch? 24 updates",
        "38 (ceil of 37.5 or rounding up)",
        "4-2",
        "[ 1 -3]",
        "1200/32",
        "0.5/2",
        "-1.92-2",
        "4, 2, 1, 1/2, 1/4",
        "4, 2, 0, -1 (it oscillates around 0)",
        "0 < η < 1",
    ],
)
def test_precision_notes_restated_questions_and_arithmetic_are_not_hedges(written):
    reading = Reading()
    assert reading.run(refuse_hedges, written) == written and not reading.steps and not reading.notes


@pytest.mark.parametrize(
    ("after", "unit"),
    [
        (" updates per epoch", "updates"),
        (" gradient steps", "steps"),
        (" mini-batch updates", "updates"),
        (" batches of 50", "batches"),
        (" epochs", "epochs"),
        (" per epoch", ""),
        (" times", ""),
        ("", ""),
    ],
)
def test_the_word_naming_what_a_count_counts(after, unit):
    assert unit_after(after) == unit
    assert read_number("24" + after).unit == unit


@pytest.mark.parametrize(
    "summarised",
    ["array([4.   , 2.   , 1.   , ..., 0.25 , 0.125])", "[4.    2.    1.    ... 0.25  0.125]", "4, 2, 1, …, 0.125"],
)
def test_items_left_out_are_named_not_guessed(summarised):
    with pytest.raises(ReadError, match=r"items are left out \('...'\); write every item"):
        read_sequence(summarised)


def test_typed_mixed_numbers_between_commas_and_never_between_spaces():
    values = read_sequence("18, 6, 3, 2 1/4, 2 1/16", notes=(notes := []))
    assert [n.value for n in values] == [18, 6, 3, 2.25, 2.0625]
    assert "Read 2 1/4 as 2 + 1/4 (a mixed number)." in notes
    assert [n.value for n in read_vector("(3 1/3, 2)", 2)] == pytest.approx([10 / 3, 2])
    assert [n.value for n in read_sequence("4 1/2 1/4")] == [4, 0.5, 0.25]  # spaces separate the items
    with pytest.raises(ReadError):
        read_sequence("2 5/4, 3")  # not a proper fraction: not a mixed number


def test_a_value_after_a_conclusion_word_concludes_the_working():
    assert read_vector("the sum is (19, 11), divided by n = 5 that gives (3.8, 2.2)", 2)[1].value == 2.2
    assert read_number("I got 37.5 so 38").value == 38
    assert read_number("38 because 1200/32 = 37.5").value == 38
    with pytest.raises(ReadError, match="several values"):
        read_number("b50 is 24 and b32 is 38")


def test_commas_that_may_be_decimal_commas_are_refused_showing_the_readings():
    with pytest.raises(ReadError, match=r"could be 3, 5\.2 or 3\.5, 2"):
        read_vector("(3,5,2)", 2)
    with pytest.raises(ReadError, match=r"18,6 could be 18, 6 or 18\.6"):
        read_sequence("18,6,3,2,25,2,0625,2,015625")  # 0625 is no whole number: some commas are decimal


def test_working_then_the_answer_reads_the_answer_and_says_so():
    number = read_number("b1 = 0.9·8 + 4.96 = 12.16; x2 = 2.48 − 0.1·(4.96 + 0.9·12.16) = 0.8896", notes=(notes := []))
    assert number.value == pytest.approx(0.8896)
    assert any("Took the last equation" in note for note in notes)
    worked = "v = 0.01·(4, 400) = (0.04, 4), √v = (0.2, 2), x1 = 1 − 0.01·(2/0.2, 20/2) = (0.9, 0.9)"
    assert [n.value for n in read_vector(worked, 2)] == pytest.approx([0.9, 0.9])
    hessian = read_matrix("f_xx = 6x = 6, f_xy = 0, f_yy = 2 → [[6, 0], [0, 2]]", (2, 2))
    assert [[n.value for n in row] for row in hessian] == [[6, 0], [0, 2]]
    values = read_sequence("f(x_t) = x_t² + 2 → 18, 6, 3, 2.25")
    assert [n.value for n in values] == [18, 6, 3, 2.25]


def test_equations_that_are_not_working_for_the_last_are_not_cut():
    """Two answers, two iterates of one quantity, or a vector's components stay as they are."""
    assert [n.value for n in read_vector("x = 4 - 1 = 3, y = 3 - 2 = 1", 2)] == [3, 1]
    assert [n.value for n in read_sequence("x1 = 2\nx2 = 2 - 0.5*2 = 1")] == [2, 1]
    read_number("a = 2.48; b = 0.8896", notes=(notes := []))
    assert not any("Took the last equation" in note for note in notes)  # nothing in b uses a: not working
    assert [n.value for n in read_sequence("4 → 2 → 1")] == [4, 2, 1]


def test_sides_of_different_shapes_are_working_not_a_claim():
    vector = read_vector("Mean[{{7,2},{3,1},{2,3},{4,2},{3,3}}] = {19/5, 11/5}", 2)
    assert [n.value for n in vector] == pytest.approx([3.8, 2.2])
    with pytest.raises(ReadError, match="disagree"):
        read_vector("(19/5, 11/5) = (3.8, 2.3)", 2)


# 7. items --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "items"),
    [
        ("4, 2, 1, 0.5", ["4", "2", "1", "0.5"]),
        ("4;2;1;0,5", ["4", "2", "1", "0.5"]),
        ("4, 2, 1, 0,5, 0,25", ["4", "2", "1", "0.5", "0.25"]),
        ("4\n2\n0,5", ["4", "2", "0.5"]),
        ("4\t2", ["4", "2"]),
        ("4 → 2 -> 1", ["4", "2", "1"]),
        ("4 | 2", ["4", "2"]),
        ("[4.    2.    0.5  ]", ["4.", "2.", "0.5"]),
        ("[4.  2.\n 0.5 0.25]", ["4.", "2.", "0.5", "0.25"]),
        ("[[6., 0.],\n [0., 2.]]", [["6.", "0."], ["0.", "2."]]),
        ("[6 0; 0 2]", [["6", "0"], ["0", "2"]]),
        ("6 0\n0 2", [["6", "0"], ["0", "2"]]),
        ("-[1, 2.5]", ["-1", "-2.5"]),
        ("[-1, -2]^T", ["-1", "-2"]),
        ("-1 -2", ["-1", "-2"]),
        ("3,5 2", ["3.5", "2"]),
        ("(3,5; 2)", ["3.5", "2"]),
        ("[3,5]", ["3", "5"]),
        ("[[3.5], [2]]", [["3.5"], ["2"]]),
        ("⟨-1, -2⟩", ["-1", "-2"]),
        ("((3.5, 2))", ["3.5", "2"]),
        ("(1/2)", "(1/2)"),
        ("[4]", ["4"]),
    ],
)
def test_items_are_split_by_the_separator_of_the_whole_answer(typed, items):
    assert split_items(typed, Reading()) == items


def test_decimal_commas_are_told_once():
    reading = Reading()
    split_items("4;2;0,5;0,25", reading)
    assert reading.notes == ["Read commas between digits as decimal commas (0,5 as 0.5)."]


@pytest.mark.parametrize(("typed", "readings"), [("3,5", ("3.5", "3, 5")), ("10,6", ("10.6", "10, 6"))])
def test_a_lone_comma_between_digits_is_ambiguous(typed, readings):
    with pytest.raises(AmbiguousComma) as refused:
        split_items(typed, Reading())
    assert all(reading in str(refused.value) for reading in readings)


# Labels and options ----------------------------------------------------------------------


def test_labels_after_their_cases():
    reading = Reading()
    assert label_items("η=0.05: slow-monotone, η=0.25: fast", reading) == ["slow-monotone", "fast"]
    assert label_items("(1, 0): minimum\n(-1, 0): saddle", reading) == ["minimum", "saddle"]
    assert label_items("['fast', 'diverging']", reading) == ["fast", "diverging"]


def test_an_option_named_in_a_sentence_but_not_a_negated_one():
    options = ("monotone", "overshoots", "does-not-converge", "overshoot")
    assert option_named("it overshoots the minimum", options) == "overshoots"
    assert option_named("it does not overshoot", options) is None


# The readers, end to end -----------------------------------------------------------------


def test_notes_tell_the_student_what_was_read():
    notes: list[str] = []
    assert read_number("37,5", "a number", notes=notes).value == 37.5
    assert notes == ["Read 37,5 as 37.5 (decimal comma)."]


def test_a_thousands_separator_or_decimal_comma_is_ambiguous():
    with pytest.raises(ReadError, match=r"could be 1.200 \(a decimal comma\) or 1200"):
        read_number("1,200")


@pytest.mark.parametrize(
    ("reader", "answer", "value"),
    [
        (lambda a: read_vector(a, 2), "the new point is (3.5, 2)", [3.5, 2.0]),
        (lambda a: read_vector(a, 2), "(4, 3) - 0.5·(1, 2) = (3.5, 2)", [3.5, 2.0]),
        (lambda a: read_vector(a, 2), {"y": 2, "x": 3.5}, [3.5, 2.0]),
        (lambda a: read_vector(a, 2), "tensor([[3.5000, 2.0000]])", [3.5, 2.0]),
        (read_sequence, "x₀=4, x₁=2, x₂=1", [4.0, 2.0, 1.0]),
        (read_sequence, "4²+2 = 18; 2²+2 = 6", [18.0, 6.0]),
        (lambda a: read_matrix(a, (2, 2)), "[[6. 0.]\n [0. 2.]]", [[6.0, 0.0], [0.0, 2.0]]),
        (lambda a: read_number(a, "a whole number"), "⌈1200/32⌉ = 38", 38.0),
        (read_number, "tensor([2.4800], requires_grad=True)", 2.48),
        (read_number, "Array(2.48, dtype=float32)", 2.48),
        (lambda a: read_number(a, "a whole number"), "-(-1200 // 32) = 38", 38.0),
        (lambda a: read_number(a, "a whole number"), "ans = 38", 38.0),
        (lambda a: read_number(a, "a whole number"), "(1200 + 32 - 1) // 32 = 38", 38.0),
        (lambda a: read_vector(a, 2), "Array([3.8, 2.2], dtype=float32)", [3.8, 2.2]),
        (lambda a: read_vector(a, 2), "g1    3.8\ng2    2.2\ndtype: float64", [3.8, 2.2]),
        (lambda a: read_vector(a, 2), "x_new =\n\n    1.5100\n    0.2200\n", [1.51, 0.22]),
        (lambda a: read_vector(a, 2), "x\t3.5\ny\t2", [3.5, 2.0]),
        (read_sequence, "x =\n\n   4.0000   2.0000   1.0000   0.5000\n", [4.0, 2.0, 1.0, 0.5]),
        (read_sequence, "0    0.00\n1    0.30\n2    2.01\nName: w, dtype: float64", [0.0, 0.3, 2.01]),
        (read_sequence, "t\tx_t\n0\t4\n1\t2\n2\t1\n3\t0.5", [4.0, 2.0, 1.0, 0.5]),
        (read_sequence, "```python\n>>> xs\n[4, 2.0, 1.0, 0.5]\n```", [4.0, 2.0, 1.0, 0.5]),
        (
            lambda a: read_matrix(a, (2, 2)),
            "Array([[6., 0.],\n       [0., 2.]], dtype=float32)",
            [[6.0, 0.0], [0.0, 2.0]],
        ),
        (lambda a: read_matrix(a, (2, 2)), "H =\n\n   6   0\n   0   2\n", [[6.0, 0.0], [0.0, 2.0]]),
        (lambda a: read_matrix(a, (2, 2)), "     x    y\nx  6.0  0.0\ny  0.0  2.0", [[6.0, 0.0], [0.0, 2.0]]),
        (lambda a: read_matrix(a, (2, 2)), "diag(6, 2)", [[6.0, 0.0], [0.0, 2.0]]),
        (lambda a: read_matrix(a, (2, 2)), "np.diag([6, 2])", [[6.0, 0.0], [0.0, 2.0]]),
        (
            lambda a: read_matrix(a, (2, 2)),
            r"\left[\begin{array}{cc} 6 & 0 \\ 0 & 2 \end{array}\right]",
            [[6.0, 0.0], [0.0, 2.0]],
        ),
    ],
)
def test_readers_end_to_end(reader, answer, value):
    assert _plain(reader(answer)) == value


def _plain(read):
    return [_plain(item) for item in read] if isinstance(read, list) else read.value


def test_intervals_labels_options_and_formulas_end_to_end():
    assert str(read_interval("$0 < \\eta < 1$")) == "(0, 1)"
    assert str(read_interval("eta must be in (0, 1)")) == "(0, 1)"
    assert read_labels("- minimum\n- saddle point", 2) == ["minimum", "saddle-point"]
    assert read_choice("“Overshoots”") == "overshoots"
    assert read_expression("$2x + 20y$", ("x", "y")).evaluate({"x": 1, "y": 1}) == 22
    series = "0.05    slow-monotone\n0.25             fast\n0.75        diverging\ndtype: object"
    assert read_labels(series, 3) == ["slow-monotone", "fast", "diverging"]


@pytest.mark.parametrize(
    ("reader", "answer", "reason"),
    [
        (read_sequence, "       x       f(x)\n0  4.000  18.0\n1  2.000   6.0", "several columns (x, f(x)); give only"),
        (read_sequence, "t\tx\tf(x)\n0\t4\t18\n1\t2\t6", "several columns (x, f(x)); give only"),
        (read_sequence, "x =\n\n   1.0e+03 *\n\n    1.2000    0.0320\n", "common factor (1.0e+03 *)"),
        (
            read_sequence,
            "0     4.0\n1     2.0\n     ...\n9     0.0\nLength: 10, dtype: float64",
            "cut the printout short",
        ),
        (read_sequence, "0    4.000\n1    2.000", "nested"),  # no footer: an index, or two columns?
        (lambda a: read_number(a, "a whole number"), "3*400 // 32", "//"),
        (lambda a: read_matrix(a, (2, 2)), "np.diag([6, 2], 1)", "write it row by row"),
    ],
)
def test_tool_output_a_reader_could_take_two_ways_is_refused(reader, answer, reason):
    with pytest.raises(ReadError, match=re.escape(reason)):
        reader(answer)


# Properties ------------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(finite, min_size=1, max_size=12))
def test_numpy_printing_reads_back_to_what_numpy_printed(values):
    array = np.array(values)
    for printed in (repr(array), str(array)):  # array([…]) with commas; […] with spaces, wrapped over lines
        shown = np.array2string(array, separator=",").replace("\n", "").strip("[]").split(",")
        read = [n.value for n in read_vector(printed, len(values))]
        assert read == [float(s) for s in shown]


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(finite, min_size=1, max_size=12), st.sampled_from(["", "Name: w, "]))
def test_series_and_matlab_printouts_read_back(values, name):
    series = "".join(f"{i:<6}{v!r:>14}\n" for i, v in enumerate(values)) + f"{name}dtype: float64"
    assert [n.value for n in read_sequence(series)] == values
    matlab = "x =\n\n" + "".join(f"   {v:.4f}" for v in values) + "\n"
    assert [n.value for n in read_sequence(matlab)] == [float(f"{v:.4f}") for v in values]
    column = "x =\n\n" + "".join(f"   {v:.4f}\n" for v in values)
    assert [n.value for n in read_sequence(column)] == [float(f"{v:.4f}") for v in values]


@settings(max_examples=40)
@given(st.lists(st.lists(finite, min_size=2, max_size=2), min_size=2, max_size=3))
def test_numpy_matrices_read_back(rows):
    array = np.array(rows)
    read = read_matrix(repr(array), array.shape)
    expected = np.array(
        [
            [float(x) for x in line.split(",")]
            for line in np.array2string(array, separator=",").replace("\n", "").replace(" ", "")[2:-2].split("],[")
        ]
    )
    assert [[n.value for n in row] for row in read] == expected.tolist()


@settings(max_examples=60)
@given(st.lists(finite, min_size=1, max_size=8), st.booleans())
def test_torch_printing_reads_back_to_four_decimals(values, requires_grad):
    printed = (
        "tensor(["
        + ", ".join(f"{v:.4f}" for v in values)
        + "]"
        + (", requires_grad=True" if requires_grad else "")
        + ")"
    )
    read = [n.value for n in read_vector(printed, len(values))]
    assert read == [float(f"{v:.4f}") for v in values]


@settings(max_examples=60)
@given(
    st.lists(st.decimals(min_value=-999, max_value=999, places=3, allow_nan=False), min_size=2, max_size=8),
    st.sampled_from(["; ", ";", "\n", "\t", " ; "]),
)
def test_decimal_commas_between_other_separators_read_as_points(values, separator):
    with_points = [str(v) for v in values]
    typed = separator.join(s.replace(".", ",") for s in with_points)
    assert [n.value for n in read_sequence(typed)] == [float(s) for s in with_points]


@settings(max_examples=60)
@given(st.lists(finite, min_size=2, max_size=8), st.sampled_from([", ", "; ", "\n", "\t", " → ", " -> ", " "]))
def test_any_separator_gives_the_same_numbers(values, separator):
    typed = separator.join(repr(v) for v in values)
    assert [n.value for n in read_sequence(typed)] == values


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.text(max_size=80), st.text(alphabet="0123456789.,;:()[]{}=-+*/ \n\t$\\^_eE→≈⌈⌉½³ᵀxyabc", max_size=60))
)
def test_any_text_is_read_or_refused_with_a_read_error(text):
    for reader in (
        read_number,
        lambda t: read_vector(t, 2),
        read_sequence,
        lambda t: read_matrix(t, (2, 2)),
        read_interval,
        lambda t: read_labels(t, 2),
        read_choice,
        lambda t: read_expression(t, ("x",)),
    ):
        try:
            reader(text)
        except ReadError as refused:
            assert str(refused).strip()


@pytest.mark.parametrize("text", ["34≈→=", "e\ne=6;\n^³→≈"])
def test_sides_of_signs_only_are_refused(text):
    for reader in (read_number, read_sequence, lambda t: read_vector(t, 2)):
        with pytest.raises(ReadError, match="no value"):
            reader(text)


# Limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("(" * 40 + "1" + ")" * 40, "nested too deeply"),
        ("1=" * 20 + "1", "sides"),
        (",".join(["1"] * 1500), "more than 1000"),
        ("3⅓" * 1500, "too long"),
        ("1" * 5000, "too long"),
    ],
)
def test_answers_beyond_the_limits_are_refused_with_the_reason(answer, reason):
    with pytest.raises(ReadError, match=reason):
        read_sequence(answer)


# Plain numbers, read at once ---------------------------------------------------------------

_plain_decimal = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.builds(lambda n, places: f"{n:.{places}f}", st.floats(-1e4, 1e4, allow_nan=False), st.integers(1, 8)),
)
_plain_item = st.one_of(
    _plain_decimal,
    st.builds(lambda a, b: f"{a}/{b}", _plain_decimal, st.sampled_from(["3", "7", "32", "1.1", "2.5"])),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_plain_item, min_size=1, max_size=6), brackets=st.sampled_from(["{}", "[{}]", "({})", " {} "]))
def test_plain_numbers_read_at_once_are_what_the_steps_read(items, brackets):
    """The shortcut for ``3.8, 2.2`` and ``[10/3, 2]`` gives the very Number, and notes, of the whole pipeline
    (and a quotient of two decimals, ``12.5/1.1``, which the shortcut leaves to the steps, is asked about
    alike: arithmetic or two answers?)."""
    from grader.checking import reading

    def outcome(read, text):
        notes = []
        try:
            return read(text, notes=notes), notes
        except ReadError as refused:
            return "refused", str(refused)

    text = brackets.format(", ".join(items))
    fast = outcome(read_vector, text)
    number = outcome(read_number, items[0])
    saved = reading._plain_items, reading._PLAIN_NUMBER
    reading._plain_items, reading._PLAIN_NUMBER = (lambda text: None), re.compile(r"(?!)")
    try:
        assert fast == outcome(read_vector, text)
        assert number == outcome(read_number, items[0])
    finally:
        reading._plain_items, reading._PLAIN_NUMBER = saved


# Labels, options and intervals as students write them ------------------------------------


def test_latex_text_keeps_its_first_letter_and_set_braces_stay_a_set():
    assert strip_markup(r"(1,0): \text{minimum},\quad (-1,0): \text{saddle}", Reading()).split() == [
        "(1,0):",
        "minimum",
        ",",
        "(-1,0):",
        "saddle",
    ]
    assert strip_markup(r"$\{\eta \mid 0<\eta<1\}$", Reading()).strip() == "{η | 0<η<1}"
    assert strip_markup(r"\left\{\eta \colon \eta > 0\right\}", Reading()).strip() == "{η : η > 0}"
    assert strip_markup(r"|1-2\eta| < 1 \iff 0 < \eta < 1", Reading()) == "|1-2η| < 1 ⇔ 0 < η < 1"
    assert strip_markup(r"\frac{1}{2}", Reading()) == "((1)/(2))"


_BEHAVIOURS = ("slow-monotone", "fast", "oscillating-converging", "oscillating-stuck", "diverging")
_KINDS = ("minimum", "maximum", "saddle", "min", "saddle-point", "local-min")


@pytest.mark.parametrize(
    "written",
    [
        "Slow monotone / fast / oscillating converging / oscillating stuck / diverging",
        "a) slow-monotone b) fast c) oscillating-converging d) oscillating-stuck e) diverging",
        "(a) slow-monotone (b) fast (c) oscillating-converging (d) oscillating-stuck (e) diverging",
        "a. slow-monotone, b. fast, c. oscillating-converging, d. oscillating-stuck, e. diverging",
        "1) slow-monotone 2) fast 3) oscillating-converging 4) oscillating-stuck 5) diverging",
        "| η | behaviour |\n|---|---|\n| 0.05 | slow-monotone |\n| 0.25 | fast |\n| 0.75 | oscillating-converging |"
        "\n| 1 | oscillating-stuck |\n| 1.5 | diverging |",
        "0.05             slow-monotone\n0.25                      fast\n0.75    oscillating-converging\n"
        "1.00         oscillating-stuck\n1.50                 diverging\ndtype: object",
        "SLOW_MONOTONE, Fast, Oscillating Converging, oscillating-STUCK, diverging",
        "For 0.05 it is slow monotone, for 0.25 fast, for 0.75 oscillating converging, "
        "for 1 oscillating stuck and for 1.5 diverging",
    ],
)
def test_labels_as_students_list_them(written):
    assert read_labels(written, 5, options=_BEHAVIOURS, cases=("0.05", "0.25", "0.75", "1", "1.5")) == list(_BEHAVIOURS)


def test_a_table_needs_its_header_rule_and_one_row_per_case():
    table = "| 0.05 | 0.25 |\n| slow | fast |"  # no rule: the markup step reads its last row
    assert label_table(table, Reading()) == table
    assert read_labels(table, 2) == ["slow", "fast"]


def test_an_option_spelled_with_other_hyphens_spaces_or_case():
    assert known_option("over-shoots", ("monotone", "overshoots")) == "overshoots"
    assert known_option("slow_monotone", _BEHAVIOURS) == "slow-monotone"
    assert known_option("over-shoots", ("overshoots", "over-shoots-x", "overs-hoots")) is None  # two spell it
    notes: list[str] = []
    assert read_choice("Over-shoots", notes=notes, options=("monotone", "overshoots")) == "overshoots"
    assert notes == ["Read 'Over-shoots' as overshoots."]
    assert read_choice("overshoots / monotone?", options=("monotone", "overshoots")) not in ("monotone", "overshoots")


def test_the_labels_a_sentence_names_in_order():
    notes: list[str] = []
    written = "(1, 0) is a minimum and (-1, 0) is a saddle point"
    assert read_labels(written, 2, notes=notes, options=_KINDS, cases=("[1, 0]", "[-1, 0]")) == [
        "minimum",
        "saddle-point",
    ]
    assert notes == ["Read minimum, saddle-point from your sentence, one label per case in order."]
    assert read_labels("local min; saddle", 2, options=_KINDS) == ["local-min", "saddle"]
    assert labels_in_sentence("it does not-converge", ("does-not-converge",)) == (["does-not-converge"], None)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("(1, 0) is not a minimum and (-1, 0) is a saddle point", "also says 'not'"),
        ("(1, 0) isn't a maximum, it is a minimum, and (-1, 0) a saddle", "names 3 labels"),
        ("(1, 0) is a minimum, (-1, 0) a saddle, never a maximum", "names 3 labels"),
        ("(1, 0) is a minimum or a saddle", "also says 'or'"),
        ("(1, 0) is a minimum and (-1, 0) is a saddle?", "also says '?'"),
        ("(-1, 0) is a saddle and (1, 0) is a minimum", "another order"),
        ("b) minimum a) saddle", "do not count up"),
        ("a) minimum c) saddle", "do not count up"),
    ],
)
def test_sentences_a_ta_could_read_two_ways_are_refused(written, reason):
    with pytest.raises(ReadError, match=re.escape(reason)):
        read_labels(written, 2, options=_KINDS, cases=("[1, 0]", "[-1, 0]"))


@pytest.mark.parametrize(
    "written",
    [
        r"$\{\eta \mid 0<\eta<1\}$",
        r"\{\eta : 0 < \eta < 1\}",
        "eta > 0 and eta < 1, because we need |1 - 2*eta| < 1",
        "|1 − 2η| < 1 ⇔ 0 < η < 1",
        "|1-2η| < 1 ⟺ 0 < η < 1",
        "|1-2η| < 1 <=> 0 < η < 1",
        "|1-2η| < 1 iff 0 < η < 1",
        r"$|1-2\eta|<1 \iff 0<\eta<1$",
        "η from 0 to 1, ends excluded",
    ],
)
def test_intervals_in_set_builder_with_reasons_and_equivalences(written):
    assert str(read_interval(written)) == "(0, 1)"


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("η from 0 to 1", r"(0, 1) leaves them out, [0, 1] keeps them"),
        ("0 < η < 2 ⇔ 0 < η < 1", "disagree"),
        ("since |1-2η| < 1, 0 < η < 1", "compare the variable with a number"),
    ],
)
def test_intervals_a_ta_could_read_two_ways_are_refused(written, reason):
    with pytest.raises(ReadError, match=re.escape(reason)):
        read_interval(written)


def test_plain_lists_beyond_the_limits_take_the_steps_and_are_refused():
    """The shortcut keeps the limits of typed maths: 4000 characters, 1000 items."""
    with pytest.raises(ReadError, match="too long"):
        read_sequence(", ".join(["1"] * 60_000))
    with pytest.raises(ReadError, match="1001 items"):
        read_sequence(", ".join(["1"] * 1001))
    assert len(read_sequence(", ".join(["1"] * 1000))) == 1000


# What tools and people print (tests/test_printed_forms.py reads them end to end) -----------------------------


def _values(tree):
    return [_values(item) for item in tree] if isinstance(tree, list) else tree.value


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("{⁻1 ⁻2}", "{-1 -2}"),  # a TI calculator's negative sign
        ("{⁻.5 2}", "{-.5 2}"),
        ("1.2ᴇ⁻3", "1.2e-3"),
        ("2⁻¹", "2**(-1)"),  # still a power
        ("3.3\u0305", "(10/3)"),  # a combining overline on the repeating digit
        ("0.1\u03076\u0307", "(16/99)"),  # Casio's dots over the first and last repeating digits
        ("0.1\u030742857\u0307", "(1/7)"),
        ("3.(3)", "(10/3)"),
        ("0.1(6)", "(1/6)"),
        ("f(3.5)", "f(3.5)"),
        ("√2", "sqrt(2)"),
        ("2√3", "2*sqrt(3)"),
        ("√(x+1)", "sqrt(x+1)"),
        ("(1+√5)/2", "(1+sqrt(5))/2"),
        ("⎡6  0⎤\n⎢    ⎥\n⎣0  2⎦", "[6  0]\n[0  2]"),  # sympy's pretty printing
        ("⎛3.5⎞\n⎝ 2 ⎠", "[3.5]\n[2]"),
        ("oscil\u00adlating-stuck", "oscillating-stuck"),  # a soft hyphen from a PDF
        ("2.\u200b48", "2.48"),
        ("𝑥₁ = 2.48", "x1 = 2.48"),  # mathematical italic from a PDF
        ("the ﬁnal value", "the final value"),
        ("（4，2，−0.8）", "(4, 2, -0.8)"),  # full-width commas separate items
        ("0≦η＜1", "0≤η<1"),
        ("0  1/10  0\n1  2  3", "0  1/10  0\n1  2  3"),  # a row of items, not the mixed number 0 1/10
        ("0 ⅛", "0 (1/8)"),
    ],
)
def test_characters_of_calculators_pdfs_and_keyboards(typed, plain):
    assert run(normalise_characters, typed)[0] == plain


def test_repeating_decimals_are_exact_and_told_and_an_ellipsis_is_a_rounding():
    notes = []
    assert read_number("3.(3)", notes=notes).exact == Fraction(10, 3)
    assert notes == ["Read 3.(3) as 10/3 (a repeating decimal)."]
    assert read_number("3.3\u0305").exact == Fraction(10, 3)
    rounded = read_number("3.33…")
    assert (rounded.value, rounded.digits, rounded.exact) == (3.33, 3, None)


@pytest.mark.parametrize(
    ("pasted", "plain"),
    [
        (r"\num{2.48}", "2.48"),
        ("\\begin{itemize}\n  \\item slow\n  \\item fast\n\\end{itemize}", "slow\n  \n fast"),
        (r"$x_{0} = 4,\; x_{1} = 2$", "x_0 = 4,  x_1 = 2"),
        ("*2.48*", "2.48"),
        ("2*3*4", "2*3*4"),
        ("| t | x_t |\n|---|---|\n| 0 | 4 |\n| 1 | 2 |\n| 2 | 1 |", "4\n2\n1"),  # the step column dropped
        ("| $t$ | $x_t$ |\n|:-:|--:|\n| 0 | 4 |\n| 1 | 2 |", "4\n2"),
        ("| component | value |\n|---|---|\n| x | 3.5 |\n| y | 2 |", "[3.5, 2]"),
        ("|   | x | y |\n|---|---|---|\n| x | 6 | 0 |\n| y | 0 | 2 |", "6 0\n0 2"),
        ("| 6 0 |\n| 0 2 |", "6 0\n0 2"),  # a matrix drawn with bars
        ("| 6 | 0 |\n| 0 | 2 |", "6\t0\n0\t2"),
        ("| 0.05 | 0.25 |\n| slow | fast |", "slow\tfast"),  # no rule, not numbers: its last row
        ("> x1\n[1] 2.48", "> x1\n[1] 2.48"),  # R's prompt over its output is not a quote
    ],
)
def test_markup_of_notes_tables_and_bars(pasted, plain):
    assert run(strip_markup, pasted)[0].strip() == plain


@pytest.mark.parametrize(
    ("printed", "values"),
    [
        ("[1] 2.48", "2.48"),
        ("> x1\n[1] 2.48", "2.48"),
        ("[1] 4.000 2.000 1.000\n[4] 0.500 0.250 0.125", "4.000 2.000 1.000 0.500 0.250 0.125"),
        ("     [,1] [,2]\n[1,]    6    0\n[2,]    0    2", "6    0\n0    2"),
        ("     [,1]\n[1,]  3.5\n[2,]  2.0", "3.5\n2.0"),
        ("c(3.5, 2)", "[3.5, 2]"),
        ("julia> x1\n2.48", "2.48"),
        ("2-element Vector{Float64}:\n 3.5\n 2.0", "3.5\n 2.0"),
        ("2×2 Matrix{Float64}:\n 6.0  0.0\n 0.0  2.0", "6.0  0.0\n 0.0  2.0"),
        ("2-element Vector{Rational{Int64}}:\n 10//3\n  2//1", "10/3\n  2/1"),
        ("2.48f0", "2.48e0"),
        ("x1 = 1×2\n\n    3.5000    2.0000\n", "3.5000 2.0000"),  # MATLAB's Live Editor
        ("  t     x\n1 0 4.000\n2 1 2.000\n3 2 1.000", "4.000\n2.000\n1.000"),  # R's data.frame
        ("2.48\nAns►Frac\n62/25", "2.48 = 62/25"),  # a TI calculator's ►Frac, both sides kept
        ("[[6.,0.][0.,2.]]", "[[6.,0.], [0.,2.]]"),  # TI-Nspire and Mathematica rows side by side
        ("[Fraction(10, 3), Fraction(2, 1)]", "[(10/3), (2/1)]"),
    ],
)
def test_r_julia_matlab_and_calculator_printing_is_unwrapped(printed, values):
    text = run(normalise_characters, printed)[0]
    assert run(unwrap_tool_output, text)[0] == values


def test_floor_division_stays_python_s_outside_julia():
    assert read_number("-(-1200 // 32)").value == 38
    assert read_number("julia> 1200 // 32\n75//2").value == 37.5
    with pytest.raises(ReadError, match="disagree"):
        read_number("2.48\nAns►Frac\n31/25")  # the calculator's two lines must agree


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("0.8896 after 2 steps", 0.8896),
        ("x_2 = 0.8896 after 2 steps", 0.8896),
        ("x₂ ist 0,8896 nach 2 Schritten", 0.8896),
        ("x₂ vaut 0,8896 après 2 itérations", 0.8896),
        ("x₂ es 0,8896 después de 2 pasos", 0.8896),
        ("Il y a 24 mises à jour par époque.", 24),
        ("It converges after 24 steps", 24),  # the only number: the answer
    ],
)
def test_a_number_in_a_sentence_with_its_context(written, value):
    assert read_number(written).value == pytest.approx(value)


def test_the_context_of_a_number_is_told_and_single_letters_are_labels_only_before_a_value():
    notes = []
    read_number("0.8896 after 2 steps", notes=notes)
    assert "Read 'after 2 steps' as when, not as your answer." in notes
    assert _values(read_vector("x = 3.5, y = 2", 2)) == [3.5, 2]
    assert _values(read_sequence("4, 2, 1 y 0,5")) == [4, 2, 1, 0.5]


@pytest.mark.parametrize(
    ("written", "interval"),
    [
        ("eta > 0 & eta < 1", "(0, 1)"),
        ("eta > 0 && eta < 1", "(0, 1)"),
        ("η > 0 und η < 1", "(0, 1)"),
        ("0.0 .. 1.0 (open)", "(0, 1)"),  # Julia's IntervalSets
        ("0 .. 1 (closed–open)", "[0, 1)"),
        ("Interval.open(0, 1)", "(0, 1)"),  # sympy
        ("Interval.Lopen(0, 1)", "(0, 1]"),
        ("Interval(0, 1)", "[0, 1]"),
        ("Interval(0, 1, True, False)", "(0, 1]"),
        ("zwischen 0 und 1 (ausschließlich)", "(0, 1)"),
        ("entre 0 et 1 exclus", "(0, 1)"),
        ("entre 0 et 1 inclus", "[0, 1]"),
        ("entre 0 y 1 (sin incluir los extremos)", "(0, 1)"),
        ("0≦η＜1", "[0, 1)"),
    ],
)
def test_intervals_as_tools_print_them_and_in_other_languages(written, interval):
    assert str(read_interval(written)) == interval


def test_a_bare_julia_range_is_ambiguous():
    with pytest.raises(ReadError, match=re.escape("(0, 1) leaves them out, [0, 1] keeps them")):
        read_interval("0 .. 1")


LEARNING_RATE = ("slow-monotone", "fast", "oscillating-converging", "oscillating-stuck", "diverging")


@pytest.mark.parametrize(
    "written",
    [
        "langsam, schnell, oszilliert und konvergiert, oszilliert ohne zu konvergieren, divergiert",
        "lent, rapide, oscille et converge, oscille sans converger, diverge",
        "lento, rápido, oscila y converge, oscila sin converger, diverge",
        "langsam monoton; konvergiert schnell; oszillierend konvergent; oszilliert dauerhaft; divergent",
        "Lento y monótono, converge rápido, oscilante convergente, oscila indefinidamente, divergente",
    ],
)
def test_labels_in_german_french_and_spanish(written):
    part = load_catalog().exercises["learning-rate"].part("classify")
    read = read_labels(written, 5, options=(*part.type.labels, *part.type.aliases))
    assert [part.type.aliases.get(label, label) for label in read] == list(LEARNING_RATE)


ALIASES = ("slow", "monotone", "converges-fast", "oscillating", "oscillates", "stuck", "oscillating-forever")


def test_a_translated_label_is_told_and_one_that_names_no_single_option_is_not_guessed():
    notes = []
    read_labels("langsam, fast", 2, notes=notes, options=(*LEARNING_RATE, *ALIASES))
    assert "Read 'langsam' as slow." in notes
    assert read_labels("konvergiert, fast", 2, options=(*LEARNING_RATE, *ALIASES)) == ["konvergiert", "fast"]
    options = ("minimum", "maximum", "saddle", "local-minimum", "saddle-point")
    assert read_labels("minimum local, point selle", 2, options=options) == ["local-minimum", "saddle"]
    assert read_labels("lokales Minimum; Sattelpunkt", 2, options=options) == ["local-minimum", "saddle"]
    assert read_choice("überschießt", options=("monotone", "overshoots")) == "überschießt"


@pytest.mark.parametrize(
    ("typed", "formula"),
    [
        ("σ'(z) = σ(z)(1 − σ(z))", "σ(z)(1 - σ(z))"),
        ("dσ/dz = σ(z)·(1−σ(z))", "σ(z)*(1-σ(z))"),
        ("d/dz σ(z) = σ(z)(1-σ(z))", "σ(z)(1-σ(z))"),
        (r"$\sigma'(z) = \sigma(z)\,(1-\sigma(z))$", "σ(z) (1-σ(z))"),
        ("√(z+1)", "sqrt(z+1)"),
    ],
)
def test_a_formula_after_a_left_side_naming_what_is_asked(typed, formula):
    assert read_expression(typed, ("z",)).text == formula


def test_a_left_side_naming_the_quantity_is_told_and_working_is_not_taken_for_it():
    notes = []
    read_expression("f'(x) = 2x", ("x",), notes=notes)
    assert notes == ["Read the formula after f'(x) =."]
    with pytest.raises(ReadError):
        read_expression("2x + 1 = 2x", ("x",))  # not a name on the left


@pytest.mark.parametrize(
    ("typed", "items"),
    [
        ("x1 = (3.5, 2), x2 = (3.1, 1.6)", [[3.5, 2], [3.1, 1.6]]),
        ("x_0 = (3, 2)\nx_1 = (2.25, 1)", [[3, 2], [2.25, 1]]),
        ("4, 2,\n1, 0.5", [4, 2, 1, 0.5]),  # a list a PDF broke across lines
        ("(4,2,-0.8,-2.92)", [4, 2, -0.8, -2.92]),  # decimal points: no comma is a decimal comma
        ("(¼ 2; 2 0)", [[0.25, 2], [2, 0]]),
    ],
)
def test_labelled_points_broken_lines_and_spaced_fractions(typed, items):
    read = read_sequence(typed, 2) if "=" in typed else read_matrix(typed) if ";" in typed else read_sequence(typed)
    assert _values(read) == items


@pytest.mark.parametrize(
    "hostile",
    [
        "√" * 3999,
        "2√" * 1999,
        "3.(3)" * 799,
        "3.3\u0305" * 999,
        "⁻1 " * 1333,
        "⎡1⎤\n" * 999,
        "[1] 1\n" * 666,
        "     [,1]\n" + "[1,] 1\n" * 570,
        "julia> x\n" * 444,
        "1f0 " * 999,
        "c(" * 1999,
        "| t | x |\n|---|---|\n" + "| 1 | 2 |\n" * 400,
        "*a* " * 999,
        "after 2 steps " * 285,
        "y a " * 999,
        "x1 = (1, 2), " * 300,
        "1,\n" * 1333,
        "Ans►Frac\n" * 400,
        "[" + "[1][2]" * 600 + "]",
        "σ'(z) = " * 500,
    ],
)
def test_the_new_steps_read_or_refuse_hostile_answers_quickly(hostile):
    import time

    for reader in (
        read_number,
        read_sequence,
        lambda t: read_matrix(t, (2, 2)),
        read_interval,
        lambda t: read_labels(t, 5),
    ):
        started = time.process_time()
        with contextlib.suppress(ReadError):
            reader(hostile[:4000])
        assert time.process_time() - started < 1.0
