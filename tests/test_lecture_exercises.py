"""The lecture's exercises through grade(), on the default variant (the slides' numbers).

Every misconception the lecture's exercises name (exercises/*.yaml) is given as a student would type it
and must come back with its id, a partial or zero score and its sentence.
"""

from __future__ import annotations

import pytest

from grader.checking.reading import Interval
from grader.grading import grade


def graded(catalog, exercise: str, answers: dict) -> dict:
    """The parts of one exercise, by id, graded for the default student."""
    result = grade({"student": "default", "answers": {exercise: answers}}, catalog).to_json()
    (only,) = result["exercises"]
    return {part["id"]: part for part in only["parts"]}


def graded_part(catalog, exercise: str, part: str, answer) -> dict:
    return graded(catalog, exercise, {part: answer})[part]


def assert_misconception(part: dict, misconception: str) -> None:
    assert part["misconception"] == misconception
    assert part["status"] in ("partial", "incorrect")
    assert part["score"] < part["max_score"]
    assert part["feedback"]


# gd-parabola -------------------------------------------------------------------------

ITERATES = [4, 2, 1, 0.5, 0.25, 0.125]
VALUES = [18, 6, 3, 2.25, 2.0625, 2.015625]


def test_gd_parabola_reference_scores_full(catalog):
    parts = graded(catalog, "gd-parabola", {"iterates": ITERATES, "values": "18, 6, 3, 2.25, 2.0625, 2.015625"})
    assert [(p["status"], p["score"]) for p in parts.values()] == [("correct", 6), ("correct", 6)]


def test_gd_parabola_values_typed_to_three_figures_are_correct(catalog):
    part = graded_part(catalog, "gd-parabola", "values", "18, 6, 3, 2.25, 2.06, 2.02")
    assert part["status"] == "correct"


@pytest.mark.parametrize(
    ("iterates", "misconception"),
    [
        ("4, 6, 9, 13.5, 20.25, 30.375", "sign-error"),
        ("4, −4, 4, −4, 4, −4", "forgot-eta"),
        ("2, 1, 0.5, 0.25, 0.125", "off-by-one"),  # x1..x5 only
        ("4, 2, 1, 0.5, 0.25, 0.125, 0.0625", "off-by-one"),  # one step too many
        ("4, 2, 1, 0.5, 0.25", "off-by-one"),  # one step too few
        ("18, 6, 3, 2.25, 2.0625, 2.015625", "values-for-iterates"),
    ],
)
def test_gd_parabola_iterate_misconceptions(catalog, iterates, misconception):
    assert_misconception(graded_part(catalog, "gd-parabola", "iterates", iterates), misconception)


def test_gd_parabola_off_by_one_says_which_way(catalog):
    missing_start = graded_part(catalog, "gd-parabola", "iterates", "2, 1, 0.5, 0.25, 0.125")
    assert "You left out x₀" in missing_start["feedback"]
    assert missing_start["score"] == 3  # half of 6
    too_many = graded_part(catalog, "gd-parabola", "iterates", ITERATES + [0.0625])
    assert too_many["feedback"].startswith("One step too many")


def test_gd_parabola_values_of_wrong_iterates_earn_carried_forward_credit(catalog):
    parts = graded(
        catalog,
        "gd-parabola",
        {
            "iterates": "4, 6, 9, 13.5, 20.25, 30.375",  # sign-error
            "values": "18, 38, 83, 184.25, 412.0625, 924.640625",  # f of those
        },
    )
    assert parts["iterates"]["misconception"] == "sign-error"
    assert (parts["values"]["status"], parts["values"]["score"]) == ("correct", 6)
    assert "follows correctly from your earlier answer" in parts["values"]["feedback"]


def test_gd_parabola_one_slip_is_penalised_once(catalog):
    part = graded_part(catalog, "gd-parabola", "iterates", "4, 2, 1.5, 0.75, 0.375, 0.1875")
    assert (part["status"], part["score"], part["max_score"]) == ("partial", 5, 6)
    assert part["misconception"] is None
    assert part["feedback"] == (
        "Step 2 is off: from x₁ = 2 the update gives x₂ = 1; you wrote 1.5. "
        "Your later steps follow correctly from your value, so they keep their credit."
    )
    assert part["details"]["first_wrong_step"] == 2


def test_gd_parabola_values_follow_a_slipped_run(catalog):
    parts = graded(
        catalog,
        "gd-parabola",
        {
            "iterates": "4, 2, 1.5, 0.75, 0.375, 0.1875",
            "values": "18, 6, 4.25, 2.5625, 2.140625, 2.03515625",
        },
    )
    assert parts["values"]["score"] == 6


# learning-rate -----------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["(0, 1)", "0 < eta < 1", "0 < η < 1", "eta > 0 and eta < 1"])
def test_learning_rate_open_interval_is_correct(catalog, answer):
    part = graded_part(catalog, "learning-rate", "converges", answer)
    assert (part["status"], part["score"]) == ("correct", 2)


@pytest.mark.parametrize("answer", ["[0, 1]", "(0, 1]", "[0, 1)", "0 <= eta <= 1"])
def test_learning_rate_boundary_included(catalog, answer):
    part = graded_part(catalog, "learning-rate", "converges", answer)
    assert_misconception(part, "boundary-included")
    assert part["score"] == 1


CLASSIFY = ["slow-monotone", "fast", "oscillating-converging", "oscillating-stuck", "diverging"]


def test_learning_rate_classify_reference_and_aliases(catalog):
    assert graded_part(catalog, "learning-rate", "classify", CLASSIFY)["score"] == 5
    typed = "slow, fast, oscillating, stuck, diverges"
    assert graded_part(catalog, "learning-rate", "classify", typed)["status"] == "correct"


def test_learning_rate_classify_scores_each_label_on_its_own(catalog):
    one_wrong = CLASSIFY[:3] + ["diverging", "diverging"]  # η = 1 oscillates for ever
    part = graded_part(catalog, "learning-rate", "classify", one_wrong)
    assert (part["status"], part["score"], part["max_score"]) == ("partial", 4, 5)
    assert part["feedback"] == "Not right for η = 1: you wrote diverging, it is oscillating-stuck."


def test_learning_rate_why_needs_review_with_a_keyword_hint(catalog):
    part = graded_part(catalog, "learning-rate", "why", "Too large overshoots and can diverge; too small is slow.")
    assert (part["status"], part["score"], part["max_score"]) == ("needs_review", 0, 2)
    assert part["details"]["keywords_found"] == ["overshoot", "diverge", "slow"]
    assert "overshoot" in part["details"]["hint"]


# gd-step-2d --------------------------------------------------------------------------


def test_gd_step_2d_reference(catalog):
    parts = graded(catalog, "gd-step-2d", {"direction": "[−1, −2]", "new-point": "(3.5, 2)"})
    assert [p["score"] for p in parts.values()] == [2, 2]


def test_gd_step_2d_direction_sign_error(catalog):
    assert_misconception(graded_part(catalog, "gd-step-2d", "direction", [1, 2]), "sign-error")


def test_gd_step_2d_step_not_direction_is_partial_and_says_so(catalog):
    part = graded_part(catalog, "gd-step-2d", "direction", "[-0.5, -1]")
    assert_misconception(part, "step-not-direction")
    assert (part["status"], part["score"]) == ("partial", 1)
    assert "step" in part["feedback"] and "direction" in part["feedback"]


@pytest.mark.parametrize(("answer", "misconception"), [("[3, 1]", "forgot-eta"), ("[4.5, 4]", "sign-error")])
def test_gd_step_2d_new_point_misconceptions(catalog, answer, misconception):
    assert_misconception(graded_part(catalog, "gd-step-2d", "new-point", answer), misconception)


# minibatch-gradient ------------------------------------------------------------------


def test_minibatch_full_gradient(catalog):
    assert graded_part(catalog, "minibatch-gradient", "full", "[19/5, 11/5]")["status"] == "correct"
    assert graded_part(catalog, "minibatch-gradient", "full", [3.8, 2.2])["status"] == "correct"
    part = graded_part(catalog, "minibatch-gradient", "full", "[19, 11]")
    assert_misconception(part, "sum-not-mean")


@pytest.mark.parametrize("answer", ["[10/3, 2]", "3.333, 2", "3.33, 2.00", [3.3333333333333335, 2]])
def test_minibatch_batch_gradient_is_correct(catalog, answer):
    part = graded_part(catalog, "minibatch-gradient", "batch", answer)
    assert (part["status"], part["score"]) == ("correct", 3)


@pytest.mark.parametrize(
    ("answer", "misconception"),
    [("[10, 6]", "sum-not-mean"), ("[2, 1.2]", "mean-over-n"), ("[2.5, 3]", "zero-based-index")],
)
def test_minibatch_batch_misconceptions(catalog, answer, misconception):
    assert_misconception(graded_part(catalog, "minibatch-gradient", "batch", answer), misconception)


# updates-per-epoch -------------------------------------------------------------------


def test_updates_per_epoch_reference(catalog):
    parts = graded(catalog, "updates-per-epoch", {"b50": "24", "b200": 6, "b32": "38"})
    assert [(p["status"], p["score"]) for p in parts.values()] == [
        ("correct", 1),
        ("correct", 1),
        ("correct", 2),
    ]


def test_updates_per_epoch_drop_last_batch_is_partial(catalog):
    part = graded_part(catalog, "updates-per-epoch", "b32", "37")
    assert_misconception(part, "drop-last-batch")
    assert (part["status"], part["score"]) == ("partial", 1)
    assert "drop_last" in part["feedback"]


@pytest.mark.parametrize("answer", ["37.5", 37.5, "1200/32"])
def test_updates_per_epoch_a_fraction_is_not_a_count(catalog, answer):
    part = graded_part(catalog, "updates-per-epoch", "b32", answer)
    assert_misconception(part, "not-an-integer")
    assert part["score"] == 0
    assert "is not a count" in part["feedback"]


# The other exercises, with values worked out by hand ---------------------------------
#
# momentum-step: f = x² + 3y², ∇f = (2x, 6y) = (4, 6) at x_t = (2, 1); g_{t−1} = (1, 2), β = 0.9, η = 0.1.
#   g_t = β g_{t−1} + ∇f = (0.9 + 4, 1.8 + 6) = (4.9, 7.8); x_{t+1} = (2, 1) − 0.1·(4.9, 7.8) = (1.51, 0.22).
#   ema-momentum: 0.9·(1, 2) + 0.1·(4, 6) = (1.3, 2.4); no-momentum: ∇f = (4, 6).
#   new point: sign-error (2.49, 1.78); no-momentum (2, 1) − 0.1·(4, 6) = (1.6, 0.4); forgot-eta (2, 1) − (4.9, 7.8).
# momentum-iterations: f = x² + 2, x₀ = 4, η = 0.25, β = 0.5, g₀ = f'(4) = 8.
#   x₁ = 4 − 2 = 2; g₁ = 4 + 4 = 8, x₂ = 2 − 2 = 0; g₂ = 4 + 0 = 4, x₃ = 0 − 1 = −1.
#   ema-momentum (b₀ = 0): b = 4 → x₁ = 3; b = 2 + 3 = 5 → x₂ = 1.75; b = 2.5 + 1.75 = 4.25 → x₃ = 0.6875.
#   no-momentum: 4, 2, 1, 0.5.  sign-error: 4, 6 (g 16) 10 (g 28) 17.
#   shape: x₃ = −1 has passed the minimum 0 (f' changes sign), so it overshoots; plain GD (r = 1 − 2η = ½)
#   halves x each step, never passing 0: monotone.
# nesterov-step: x₀ = 4, η = 0.1, β = 0.9. g = 8, b = 8, step g + βb = 15.2 → x₁ = 2.48;
#   g = 4.96, b = 7.2 + 4.96 = 12.16, step 4.96 + 10.944 = 15.904 → x₂ = 0.8896.
#   heavy ball: x₁ = 4 − 0.8 = 3.2; g = 6.4, b = 7.2 + 6.4 = 13.6 → x₂ = 1.84. Plain GD: x₂ = 2.56.
# adam-step: f = x² + 10y², x₀ = (1, 1), g = (2, 20), η = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
#   m = 0.1 g, v = 0.001 g², m̂ = g, v̂ = g², so x₁ = x₀ − 0.1·g/(|g| + ε) ≈ (0.9, 0.9).
#   no-bias-correction: 0.1·0.2/√0.004 = 0.1·2/√0.4 = 0.316228 → x₁ ≈ (0.683772, 0.683772).
#   x₂: g = (1.8, 18), m = (0.36, 3.6), v = (0.007236, 0.7236), m̂ = m/0.19, v̂ = v/0.001999,
#   step 0.1·1.894737/1.902580 = 0.0995878 → x₂ ≈ (0.800412, 0.800412).
#   no-bias-correction x₂: g = 1.367544 at 0.683772, m = 0.18 + 0.136754 = 0.316754,
#   v = 0.003996 + 0.001870 = 0.005866, step 0.1·0.316754/0.076591 = 0.413566 → x₂ ≈ 0.270206.
# rmsprop-step: g = (2, 20), α = 0.99, η = 0.01: v = 0.01 g², √v = 0.1|g| → x₁ = x₀ − 0.01·10 = (0.9, 0.9).
#   no-square-root: 0.01·2/0.04 = 0.5, 0.01·20/4 = 0.05 → (0.5, 0.95); forgot-eta: 1 − 10 = −9.
# stationary-points: f = x³ − 3x + y², ∇²f = [[6x, 0], [0, 2]]: at (1, 0) [[6, 0], [0, 2]], a minimum;
#   at (−1, 0) [[−6, 0], [0, 2]], a saddle.
# sgd-epoch: ∇L_i = 2a(wa − y); batch {1, 3} at w = 0: (−4 − 2)/2 = −3 → w₁ = 0.3;
#   batch {2, 4} at 0.3: (4·(−2.4) + 6·(−4.1))/2 = −17.1 → w₂ = 2.01. Summing: w₁ = 0.6, w₂ = 3.24.

HAND_WORKED = [
    ("momentum-step", "direction", "[4.9, 7.8]", None),
    ("momentum-step", "direction", "[1.3, 2.4]", "ema-momentum"),
    ("momentum-step", "direction", "[4, 6]", "no-momentum"),
    ("momentum-step", "new-point", "[1.51, 0.22]", None),
    ("momentum-step", "new-point", "[2.49, 1.78]", "sign-error"),
    ("momentum-step", "new-point", "[1.6, 0.4]", "no-momentum"),
    ("momentum-step", "new-point", "[-2.9, -6.8]", "forgot-eta"),
    ("momentum-iterations", "iterates", "4, 2, 0, -1", None),
    ("momentum-iterations", "iterates", "4, 3, 1.75, 0.6875", "ema-momentum"),
    ("momentum-iterations", "iterates", "4, 2, 1, 0.5", "no-momentum"),
    ("momentum-iterations", "iterates", "4, 6, 10, 17", "sign-error"),
    ("momentum-iterations", "iterates", "2, 0, -1", "off-by-one"),
    ("momentum-iterations", "shape", "overshoots", None),
    ("momentum-iterations", "shape", "Oscillates", None),
    ("momentum-iterations", "shape", "monotone", "no-momentum"),
    ("nesterov-step", "x1", "2.48", None),
    ("nesterov-step", "x1", "3.2", "not-nesterov"),
    ("nesterov-step", "x1", "5.52", "sign-error"),
    ("nesterov-step", "x2", "0.8896", None),
    ("nesterov-step", "x2", "1.84", "not-nesterov"),
    ("nesterov-step", "x2", "2.56", "no-momentum"),
    ("adam-step", "x1", "[0.9, 0.9]", None),
    ("adam-step", "x1", "[0.6838, 0.6838]", "no-bias-correction"),
    ("adam-step", "x1", "[1.1, 1.1]", "sign-error"),
    ("adam-step", "x2", "[0.8004, 0.8004]", None),
    ("adam-step", "x2", "[0.2702, 0.2702]", "no-bias-correction"),
    ("rmsprop-step", "x1", "[0.9, 0.9]", None),
    ("rmsprop-step", "x1", "[1.1, 1.1]", "sign-error"),
    ("rmsprop-step", "x1", "[0.5, 0.95]", "no-square-root"),
    ("rmsprop-step", "x1", "[-9, -9]", "forgot-eta"),
    ("stationary-points", "hessian", "[[6, 0], [0, 2]]", None),
    ("stationary-points", "kinds", "minimum, saddle", None),
    ("stationary-points", "kinds", "min, saddle point", None),
    ("stationary-points", "kinds", "maximum, saddle", "hessian-sign-swapped"),
    ("sgd-epoch", "weights", "0, 0.3, 2.01", None),
    ("sgd-epoch", "weights", "0, 0.6, 3.24", "sum-not-mean"),
    ("sgd-epoch", "weights", "0.3, 2.01", "off-by-one"),
]


@pytest.mark.parametrize(
    ("exercise", "part", "answer", "misconception"),
    HAND_WORKED,
    ids=[f"{e}.{p}={a}" for e, p, a, _ in HAND_WORKED],
)
def test_more_exercises_against_values_worked_by_hand(catalog, exercise, part, answer, misconception):
    result = graded_part(catalog, exercise, part, answer)
    if misconception is None:
        assert (result["status"], result["score"]) == ("correct", result["max_score"])
    else:
        assert_misconception(result, misconception)


# Every answer exercise: its reference scores full, each rule is recognised -----------


def _as_submitted(value):
    """A reference value as a submission carries it (an interval as text)."""
    return str(value) if isinstance(value, Interval) else value


def _answer_exercises(catalog):
    return [e for e in catalog.exercises.values() if e.kind == "answers"]


def test_every_lecture_exercise_ships(catalog):
    assert {
        "gd-parabola",
        "learning-rate",
        "gd-step-2d",
        "minibatch-gradient",
        "updates-per-epoch",
        "momentum-step",
        "momentum-iterations",
        "nesterov-step",
        "adam-step",
        "rmsprop-step",
        "stationary-points",
        "sgd-epoch",
    } <= set(catalog.exercises)


def test_every_reference_answer_scores_full(catalog):
    for exercise in _answer_exercises(catalog):
        keys = catalog.keys(exercise, catalog.variant(exercise))
        answers = {k.part: _as_submitted(k.reference) for k in keys if k.kind != "text"}
        parts = graded(catalog, exercise.id, answers)
        for key in keys:
            if key.kind != "text":
                assert parts[key.part]["status"] == "correct", (exercise.id, key.part)
                assert parts[key.part]["score"] == key.points


def test_every_misconception_rule_is_recognised(catalog):
    checked = 0
    for exercise in _answer_exercises(catalog):
        for key in catalog.keys(exercise, catalog.variant(exercise)):
            for index, rule in enumerate(key.misconceptions):
                if rule.answer == key.reference or any(
                    earlier.answer == rule.answer for earlier in key.misconceptions[:index]
                ):
                    continue  # the same answer as the reference or an earlier rule
                part = graded_part(catalog, exercise.id, key.part, _as_submitted(rule.answer))
                if part["status"] == "correct" and rule.on_collision:
                    continue  # an equivalent formula: the spec says the rule does not apply in this variant
                assert part["misconception"] == rule.id, (exercise.id, key.part, rule.id)
                assert part["score"] == pytest.approx(rule.credit * key.points)
                checked += 1
    assert checked >= 30


@pytest.mark.parametrize(
    ("eta", "shape"),
    # GD on x² + 2 from 4: x ← (1 − 2η)x. η = 0.25 halves x; η = 0.5 lands on 0 and stays; η = 0.75 flips
    # the sign and halves (passes 0); η = 1 flips between 4 and −4 for ever; η = 1.5 doubles |x|.
    [
        (0.25, "monotone"),
        (0.5, "monotone"),
        (0.75, "overshoots"),
        (1.0, "does-not-converge"),
        (1.5, "does-not-converge"),
    ],
)
def test_path_shape_of_gradient_descent_worked_by_hand(eta, shape):
    from grader.specs.functions import gd, path_shape

    assert path_shape(gd(eta), "x**2 + 2", 4) == shape
