"""Checking one part (check_part) with hand-made answer keys, and grade() on malformed submissions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.answers import answer_type
from grader.answers.parts import check_part
from grader.checking.compare import Tolerance
from grader.checking.key import AnswerKey, Misconception
from grader.checking.reading import Interval
from grader.contract import STATUSES
from grader.grading import SubmissionError, grade


def make_key(kind, **fields):
    """An answer key of the given type; the type's own options (labels, keywords, …) go to the type."""
    kind_class = answer_type(kind)
    static = {name for name, option in kind_class.options.items() if not option.expression}
    options = {name: fields.pop(name) for name in list(fields) if name in static}
    return AnswerKey(type=kind_class.configure(options), **fields)


def halve(prefix):
    """The update rule x_{t+1} = x_t / 2 (gradient descent on x² + 2 with η = 1/4)."""
    return prefix[-1] / 2


SEQUENCE = make_key(
    "sequence",
    part="iterates",
    points=6,
    reference=[4.0, 2.0, 1.0, 0.5, 0.25, 0.125],
    step=halve,
    misconceptions=(Misconception("sign-error", [4.0, 6.0, 9.0, 13.5, 20.25, 30.375], 0.25, "Uphill."),),
)


def check(key, raw, earlier=None):
    return check_part(key, raw, earlier)[0]


# Outcomes common to every type ------------------------------------------------------


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_no_answer_is_missing(raw):
    result = check(SEQUENCE, raw)
    assert (result.status, result.score) == ("missing", 0)


def test_an_unreadable_answer_is_invalid_and_says_why():
    result = check(SEQUENCE, "4, 2, one")
    assert (result.status, result.score) == ("invalid", 0)
    assert "Could not read '4, 2, one' as a sequence of numbers: 'one' is not a number" in result.feedback
    assert result.feedback.endswith("This part was not graded.")


def test_the_reference_is_correct():
    result = check(SEQUENCE, [4, 2, 1, 0.5, 0.25, 0.125])
    assert (result.status, result.score, result.misconception) == ("correct", 6, None)


def test_a_misconception_is_named_with_its_credit_and_sentence():
    result = check(SEQUENCE, "4, 6, 9, 13.5, 20.25, 30.375")
    assert (result.status, result.score) == ("partial", 1.5)
    assert (result.misconception, result.feedback) == ("sign-error", "Uphill.")


def test_the_value_read_is_returned_for_later_parts():
    _, value = check_part(SEQUENCE, "4, 2, 1, 0.5, 0.25, 0.125")
    assert [n.value for n in value] == [4, 2, 1, 0.5, 0.25, 0.125]


# Sequences: error carried forward --------------------------------------------------


def test_one_slip_is_penalised_once():
    result = check(SEQUENCE, "4, 2, 1.5, 0.75, 0.375, 0.1875")
    assert (result.status, result.score) == ("partial", 5)
    assert result.details["first_wrong_step"] == 2
    assert result.details["wrong_steps"] == [2]


def test_a_wrong_given_start_is_not_a_slip():
    # x₀ = 4 is in the prompt: a run from another start earns no carried credit.
    result = check(SEQUENCE, "5, 2.5, 1.25, 0.625, 0.3125, 0.15625")
    assert result.score == 0
    assert result.details["first_wrong_step"] == 0
    assert "x₀ is off: it is given as 4; you wrote 5. Nothing follows from a wrong start" in result.feedback


def test_two_slips_are_two_penalties_and_both_are_named():
    result = check(SEQUENCE, "4, 2, 1.5, 0.75, 0.5, 0.25")
    assert result.score == 4
    assert result.details["wrong_steps"] == [2, 4]
    assert "Also off, even from your own values: x₄." in result.feedback


def test_a_sequence_of_the_wrong_length_says_how_many():
    result = check(SEQUENCE, "4, 3, 1")
    assert (result.status, result.score) == ("incorrect", 0)
    assert result.feedback == "Expected 6 values, x₀ to x₅; you gave 3."


def test_a_right_run_of_the_wrong_length_is_a_counting_slip():
    # Stopped after 2 of the 5 steps: half of off-by-one's credit, for half of the list.
    result = check(SEQUENCE, "4, 2, 1")
    assert (result.status, result.score, result.misconception) == ("partial", 1.5, "off-by-one")
    assert result.feedback.startswith("Your first 3 values are right, but the list has 6 values, x₀ to x₅; you gave 3")
    # Two steps too many: the first 6 are right.
    assert check(SEQUENCE, "4, 2, 1, 0.5, 0.25, 0.125, 0.0625, 0.03125").score == 3


def test_a_coarse_item_earns_half_its_share():
    result = check(SEQUENCE, "4, 2, 1, 0.5, 0.25, 0.1")  # 0.125 to one significant figure
    assert result.status == "partial"
    assert result.score == pytest.approx(6 * (5.5 / 6))
    assert "too coarsely" in result.feedback


def test_carried_forward_values_come_from_the_students_earlier_part():
    key = make_key(
        "sequence",
        part="values",
        points=3,
        reference=[18.0, 6.0, 3.0],
        carried=lambda earlier: [v.value**2 + 2 for v in earlier["iterates"]],
    )
    _, iterates = check_part(SEQUENCE, "4, 6, 9")
    result = check(key, "18, 38, 83", {"iterates": iterates})
    assert (result.status, result.score) == ("correct", 3)
    assert "follows correctly from your earlier answer" in result.feedback


# Numbers, integers, vectors, matrices ----------------------------------------------

NUMBER = make_key("number", part="x2", points=2, reference=0.8896)
COUNT = make_key(
    "integer",
    part="b32",
    points=2,
    reference=38,
    misconceptions=(
        Misconception("drop-last-batch", 37, 0.5, "Rounded down."),
        Misconception("not-an-integer", 37.5, 0.0, "{student} is not a count."),
    ),
)
VECTOR = make_key(
    "vector",
    part="direction",
    points=2,
    reference=[-1.0, -2.0],
    misconceptions=(Misconception("sign-error", [1.0, 2.0], 0.25, "Uphill."),),
)


@pytest.mark.parametrize("raw", ["0.8896", 0.8896, "0.890", "5560/6250"])
def test_a_number_is_correct_at_the_precision_written(raw):
    assert check(NUMBER, raw).status == "correct"


def test_a_coarse_number_earns_half_and_says_so():
    result = check(NUMBER, "0.89")
    assert (result.status, result.score) == ("partial", 1)
    assert "at least 3 significant figures" in result.feedback


def test_a_wrong_number_is_incorrect():
    result = check(NUMBER, "0.7")
    assert (result.status, result.score, result.feedback) == ("incorrect", 0, "0.7 is not right.")


@pytest.mark.parametrize("raw", ["38", 38, 38.0, "38.0", "1216/32"])
def test_a_count_is_correct_when_exact(raw):
    assert check(COUNT, raw).status == "correct"


@pytest.mark.parametrize("raw", ["4e1", "4.e1", "40"])
def test_a_count_is_not_judged_by_significant_figures(raw):
    """4e1 is forty, not 38 rounded to one figure."""
    result = check(COUNT, raw)
    assert (result.status, result.score) == ("incorrect", 0)


def test_a_count_misconception_fills_in_the_students_answer():
    result = check(COUNT, "37.5")
    assert (result.misconception, result.score) == ("not-an-integer", 0)
    assert result.feedback == "37.5 is not a count."


def test_a_fractional_count_that_is_no_misconception_says_it_is_not_whole():
    assert "not a whole number" in check(COUNT, "38.5").feedback


def test_a_vector_with_one_wrong_component_names_it_and_keeps_the_other():
    result = check(VECTOR, "[-1, 2]")
    assert (result.status, result.score) == ("partial", 1)
    assert result.feedback == "Not right: component 2 (2, expected -2). The other components are right."


def test_a_vector_of_the_wrong_length_is_invalid():
    assert check(VECTOR, "[-1, -2, 0]").status == "invalid"


def test_a_vector_misconception():
    result = check(VECTOR, "1, 2")
    assert (result.misconception, result.score) == ("sign-error", 0.5)


def test_a_vector_carried_forward_from_an_earlier_part():
    key = make_key(
        "vector",
        part="new-point",
        points=2,
        reference=[3.5, 2.0],
        carried=lambda earlier: [4 + 0.5 * earlier["direction"][0].value, 3 + 0.5 * earlier["direction"][1].value],
    )
    _, direction = check_part(VECTOR, "[1, 2]")
    assert check(key, "[4.5, 4]", {"direction": direction}).status == "correct"


def test_a_matrix_names_the_wrong_entry():
    key = make_key("matrix", part="hessian", points=2, reference=[[6.0, 0.0], [0.0, 2.0]])
    assert check(key, "[[6, 0], [0, 2]]").status == "correct"
    result = check(key, "[[6, 0], [0, -2]]")
    assert result.details["wrong"] == ["row 2 column 2"]
    assert result.score == 1.5


# Intervals, labels, text, expressions ------------------------------------------------

INTERVAL = make_key(
    "interval",
    part="converges",
    points=2,
    reference=Interval(0.0, 1.0, False, False),
    misconceptions=(Misconception("boundary-included", Interval(0.0, 1.0, True, True), 0.5, "Ends."),),
)


def test_an_interval_misconception():
    assert check(INTERVAL, "(0, 1)").status == "correct"
    assert check(INTERVAL, "[0, 1]").misconception == "boundary-included"
    assert check(INTERVAL, "(0, 2)").status == "incorrect"


LABELS = make_key(
    "labels",
    part="classify",
    points=3,
    reference=["slow-monotone", "fast", "diverging"],
    cases=("0.05", "0.25", "1.5"),
    case_name="η = {}",
    labels=["slow-monotone", "fast", "diverging"],
    aliases={"slow": "slow-monotone", "diverges": "diverging"},
)


def test_labels_accept_aliases():
    assert check(LABELS, "Slow, fast, diverges").status == "correct"


def test_each_label_is_scored_on_its_own():
    result = check(LABELS, "slow, fast, fast")
    assert (result.status, result.score) == ("partial", 2)
    assert result.feedback == "Not right for η = 1.5: you wrote fast, it is diverging."


def test_an_unknown_label_is_invalid_and_lists_the_allowed_ones():
    result = check(LABELS, "slow, quick, diverges")
    assert result.status == "invalid"
    assert "'quick'" in result.feedback and "slow-monotone, fast, diverging" in result.feedback


CHOICE = make_key(
    "choice",
    part="shape",
    points=1,
    reference="overshoots",
    choices=["monotone", "overshoots", "does-not-converge"],
    aliases={"oscillates": "overshoots"},
    misconceptions=(Misconception("no-momentum", "monotone", 0.0, "That is plain gradient descent."),),
)


@pytest.mark.parametrize("typed", ["overshoots", "  Overshoots ", "oscillates", ["overshoots"]])
def test_a_choice_is_read_as_one_option_in_any_case_or_by_an_alias(typed):
    assert check(CHOICE, typed).status == "correct"


def test_a_choice_names_the_misconception_behind_a_wrong_option():
    result = check(CHOICE, "monotone")
    assert (result.status, result.score, result.misconception) == ("incorrect", 0, "no-momentum")
    assert result.feedback == "That is plain gradient descent."
    other = check(CHOICE, "does not converge")
    assert (other.status, other.misconception) == ("incorrect", None)


@pytest.mark.parametrize("typed", ["bounces", 3, ["monotone", "overshoots"], "x" * 1000, ""])
def test_anything_but_one_offered_option_is_not_graded(typed):
    result = check(CHOICE, typed)
    assert result.status in ("invalid", "missing") and result.score == 0
    if typed == "bounces":
        assert result.feedback.startswith("'bounces' is not one of the options; choose one of: monotone, overshoots")


def test_free_text_needs_review_with_a_keyword_hint():
    key = make_key("text", part="why", points=2, reference=None, keywords=["overshoot", "slow"])
    result = check(key, "A large rate overshoots the minimum.")
    assert (result.status, result.score) == ("needs_review", 0)
    assert result.details["keywords_found"] == ["overshoot"]
    assert result.details["hint"] == "mentions overshoot; not: slow"


def test_an_expression_is_compared_symbolically():
    key = make_key(
        "expression",
        part="df",
        points=1,
        reference="2*x",
        misconceptions=(Misconception("power-rule", "x", 0.0, "Keep the factor 2."),),
    )
    assert check(key, "x+x").status == "correct"
    assert check(key, "x").misconception == "power-rule"
    assert check(key, "3x").status == "incorrect"
    assert check(key, "2y").status == "invalid"  # y is not a variable here


def test_tolerance_is_per_part():
    key = make_key("number", part="g", points=1, reference=0.0, tolerance=Tolerance(atol=1e-3))
    assert check(key, 0.0004).status == "correct"


# grade(): malformed submissions -----------------------------------------------------


@pytest.mark.parametrize(
    ("submission", "field"),
    [
        ([1, 2], "submission"),
        ("text", "submission"),
        ({"student": "s1", "answers": [1]}, "'answers'"),
        ({"student": "s1"}, "'answers'"),
        ({"student": "s1", "answers": {"no-such-exercise": {}}}, "no-such-exercise"),
        ({"student": "s1", "answers": {"gd-parabola": [4, 2]}}, "answers.gd-parabola"),
        ({"student": "s1", "answers": {"gd-parabola": {"nope": 1}}}, "nope"),
        ({"student": "../etc/passwd", "answers": {}}, "'student'"),
        ({"student": 7, "answers": {}}, "'student'"),
        ({"student": "s1", "answers": {}, "extra": 1}, "extra"),
        ({"student": "s1", "answers": {}, "assignment": "nope"}, "'assignment'"),
        ({"student": "s1", "answers": {}, "assignment": ["lec4-inclass"]}, "'assignment'"),
    ],
)
def test_a_malformed_submission_is_one_sentence_naming_the_field(catalog, submission, field):
    with pytest.raises(SubmissionError) as caught:
        grade(submission, catalog).to_json()
    message = str(caught.value)
    assert field in message
    assert "\n" not in message


def test_an_unreadable_answer_spoils_only_its_own_part(catalog):
    result = grade(
        {"student": "s1", "answers": {"gd-step-2d": {"direction": "[-1, oops]", "new-point": "3.5, 2"}}},
        catalog,
    ).to_json()
    direction, new_point = result["exercises"][0]["parts"]
    assert (direction["status"], direction["score"]) == ("invalid", 0)
    assert (new_point["status"], new_point["score"]) == ("correct", 2)
    assert result["score"] == 2


HOSTILE = {
    "import": "__import__('os').system('echo hi')",
    "power tower": "9**9**9",
    "10,000 parentheses": "(" * 10_000,
    "1 MB": "1" * 1_000_000,
    "NaN": float("nan"),
    "infinity": float("inf"),
    "nested list": [[[[1]]]],
    "object": {"a": 1},
    "bool": True,
}


@pytest.mark.parametrize("answer", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_answers_are_invalid_quickly(catalog, answer):
    parts = ("iterates", "values")
    result = grade({"answers": {"gd-parabola": dict.fromkeys(parts, answer)}}, catalog).to_json()
    statuses = {p["id"]: (p["status"], p["score"]) for p in result["exercises"][0]["parts"]}
    assert statuses == dict.fromkeys(parts, ("invalid", 0))


@pytest.mark.parametrize("answer", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_answers_to_other_types_are_invalid_quickly(catalog, answer):
    answers = {
        "learning-rate": {"converges": answer, "classify": answer},
        "updates-per-epoch": {"b32": answer},
        "gd-step-2d": {"direction": answer},
        "stationary-points": {"hessian": answer},
    }
    result = grade({"answers": answers}, catalog).to_json()
    answered = [
        p
        for e in result["exercises"]
        for p in e["parts"]
        if p["id"] in {"converges", "classify", "b32", "direction", "hessian"}
    ]
    assert {p["status"] for p in answered} == {"invalid"}


ANY_ANSWER = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.text(alphabet="0123456789.,;[]()<>=η eta-−e+/*^x ", max_size=40),
    lambda children: st.lists(children, max_size=8),
    max_leaves=24,
)


@settings(max_examples=200, deadline=2000)
@given(data=st.data())
def test_grade_never_fails_on_any_answer(catalog, data):
    """Whatever a part receives, the result is one of the statuses with a score within its points."""
    exercise = data.draw(st.sampled_from(sorted(e.id for e in catalog.exercises.values() if e.kind == "answers")))
    parts = [p.id for p in catalog.exercises[exercise].parts]
    answers = {part: data.draw(ANY_ANSWER) for part in parts}
    result = grade({"answers": {exercise: answers}}, catalog).to_json()
    for part in result["exercises"][0]["parts"]:
        assert part["status"] in STATUSES
        assert 0 <= part["score"] <= part["max_score"]
        assert part["feedback"]
