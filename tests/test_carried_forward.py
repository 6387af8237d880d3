"""Error carried forward that cannot be gamed, on the lecture's exercises (default variants)."""

from __future__ import annotations

from typing import Any

import pytest

from grader.grading import grade
from grader.specs import functions as core
from grader.specs.model import Catalog, load_catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(None)


def parts(catalog: Catalog, exercise: str, answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = grade({"student": "default", "answers": {exercise: answers}}, catalog).to_json()
    return {p["id"]: p for p in result["exercises"][0]["parts"]}


@pytest.mark.parametrize(
    ("iterates", "values"),
    [
        ("0, 0, 0, 0, 0, 0", "2, 2, 2, 2, 2, 2"),
        ("2, 2, 2, 2, 2, 2", "6, 6, 6, 6, 6, 6"),
        ("5, 2.5, 1.25, 0.625, 0.3125, 0.15625", None),
    ],
)
def test_a_wrong_given_start_earns_no_carried_credit(catalog: Catalog, iterates: str, values: str | None) -> None:
    got = parts(catalog, "gd-parabola", {"iterates": iterates, "values": values})
    # Only items equal to the reference's own count (2 is x₁ of the reference): nothing is carried.
    assert got["iterates"]["score"] <= 1
    assert got["iterates"]["details"]["first_wrong_step"] == 0
    if values is not None:
        assert got["values"]["score"] <= 1
    total = got["iterates"]["score"] + got["values"]["score"]
    assert total <= 2, got


def test_a_momentum_run_that_never_moves_earns_nothing_carried(catalog: Catalog) -> None:
    got = parts(catalog, "momentum-iterations", {"iterates": "0, 0, 0, 0"})["iterates"]
    assert got["score"] <= 1  # x₂ = 0 is the reference's own
    assert "never move" in got["feedback"]


def test_a_sequence_standing_still_is_fine_when_the_reference_does(tmp_path: Any, catalog: Catalog) -> None:
    from grader.specs.model import load_exercise

    spec = tmp_path / "at-minimum.yaml"
    spec.write_text(
        "id: at-minimum\ntitle: t\nprompt: p\nparameters: {f: 'x**2 + 2', x0: 0, eta: 0.25}\nparts:\n"
        "  - {id: iterates, type: sequence, answer: 'iterates(gd(eta), f, x0, 3)', step: 'next_from(gd(eta), f)'}\n"
        "  - {id: values, type: sequence, answer: 'values(f, iterates(gd(eta), f, x0, 3))',"
        " carried: 'values(f, student(\"iterates\"))'}\n"
    )
    exercise = load_exercise(spec, catalog.misconceptions)
    own = Catalog({exercise.id: exercise}, {}, catalog.misconceptions, False, "test")
    got = parts(own, "at-minimum", {"iterates": "0, 0, 0, 0", "values": "2, 2, 2, 2"})
    assert got["iterates"]["status"] == got["values"]["status"] == "correct"


def test_a_list_started_at_x1_gets_the_same_credit_with_5_or_6_items(catalog: Catalog) -> None:
    five = parts(catalog, "gd-parabola", {"iterates": "2, 1, 0.5, 0.25, 0.125"})["iterates"]
    six = parts(catalog, "gd-parabola", {"iterates": "2, 1, 0.5, 0.25, 0.125, 0.0625"})["iterates"]
    assert five["misconception"] == six["misconception"] == "off-by-one"
    assert five["score"] == six["score"]


def test_a_missing_last_entry_is_treated_alike_for_iterates_and_values(catalog: Catalog) -> None:
    got = parts(catalog, "gd-parabola", {"iterates": "4, 2, 1, 0.5, 0.25", "values": "18, 6, 3, 2.25, 2.0625"})
    iterates, values = got["iterates"], got["values"]
    assert iterates["misconception"] == values["misconception"] == "off-by-one"
    assert iterates["score"] / iterates["max_score"] == values["score"] / values["max_score"]


def test_nesterov_x2_computed_from_a_wrong_x1_keeps_its_credit(catalog: Catalog) -> None:
    x1 = 2.4  # β forgotten in the look-ahead
    x2 = core.next_after(core.nesterov(0.1, 0.9), "x**2 + 2", [4, x1])
    got = parts(catalog, "nesterov-step", {"x1": x1, "x2": x2})
    assert got["x1"]["score"] < got["x1"]["max_score"] and got["x1"]["misconception"] == "forgot-beta"
    assert got["x2"]["score"] == got["x2"]["max_score"]
    assert "follows correctly from your earlier answer" in got["x2"]["feedback"]


def test_an_sgd_epoch_slip_in_w1_keeps_w2s_credit_and_says_both(catalog: Catalog) -> None:
    # w₁ with the batch's sum instead of its mean (0.6 instead of 0.3), w₂ right from 0.6:
    # 0.6 − 0.1·mean(2·2(1.2 − 3), 2·3(1.8 − 5)) = 0.6 + 1.32 = 1.92.
    got = parts(catalog, "sgd-epoch", {"weights": "0, 0.6, 1.92"})["weights"]
    assert got["details"]["first_wrong_step"] == 1 and got["details"]["wrong_steps"] == [1]
    assert got["score"] == pytest.approx(got["max_score"] * 2 / 3, abs=1e-3)
    assert "Step 1 is off" in got["feedback"] and "later steps follow correctly" in got["feedback"]
