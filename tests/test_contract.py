"""The typed results keep the JSON contract: the same fields, in the same order, with the same JSON types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.contract import ExerciseResult, NotebookResult, PartResult, Result, Returned, Submission
from grader.grading import grade, grade_checked

# Shapes of the results of 74 submissions (solutions, every misconception, unreadable and missing answers),
# recorded from the grader before results were typed.
SHAPES = json.loads((Path(__file__).parent / "data" / "result_shapes.json").read_text(encoding="utf-8"))


def shape(value: Any) -> Any:
    """A JSON value's structure: keys in order, and the JSON type of every leaf (int and float apart)."""
    if isinstance(value, dict):
        return [[k, shape(v)] for k, v in value.items()]
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def contract(recorded: Any) -> Any:
    """A recorded shape with each part's ``details`` as an object: what it holds (the first wrong step, other
    misconceptions that also fit, …) may grow; the fields around it are the contract."""
    if isinstance(recorded, list) and len(recorded) == 2 and recorded[0] == "details":
        return ["details", "object"]
    if isinstance(recorded, list):
        return [contract(item) for item in recorded]
    return recorded


# Exercises added to an assignment after the shapes were recorded: a whole-assignment result lists them too.
ADDED_SINCE_RECORDING = {"logistic-derivative"}


@pytest.mark.parametrize("case", SHAPES, ids=[str(i) for i in range(len(SHAPES))])
def test_a_result_has_the_json_shape_it_always_had(catalog: Any, case: dict[str, Any]) -> None:
    result = grade(case["submission"], catalog).to_json()
    result["exercises"] = [e for e in result["exercises"] if e["id"] not in ADDED_SINCE_RECORDING]
    assert contract(shape(json.loads(json.dumps(result)))) == contract(case["shape"])


def test_scores_are_summed_then_rounded_as_before() -> None:
    third = PartResult("a", 1 / 3, 1, "partial", "A third.")
    exercise = ExerciseResult("e", [third, third, third])
    assert (exercise.score, exercise.max_score) == (1, 3)
    assert Result("s", [exercise, ExerciseResult("f", [third])]).to_json()["score"] == 1.3333
    assert third.to_json()["score"] == 0.3333


def test_a_result_read_back_from_json_is_the_same_result(catalog: Any) -> None:
    result = grade(
        {"student": "s001", "answers": {"gd-parabola": {"iterates": "4, 6, 9, 13.5, 20.25, 30.375"}}}, catalog
    )
    assert Result.from_json(json.loads(json.dumps(result.to_json()))).to_json() == result.to_json()


def test_a_notebook_result_lists_only_what_it_has() -> None:
    failed = NotebookResult.failed("nb.ipynb", "s001", "not a Jupyter notebook", graded=True)
    assert failed.to_json() == {
        "student": "s001",
        "score": 0,
        "max_score": 0,
        "exercises": [],
        "file": "nb.ipynb",
        "error": "not a Jupyter notebook",
        "graded": True,
    }
    ran = NotebookResult("s001", [], file="nb.ipynb", assignment="lec4-lab", cell_errors=[], answers={})
    assert list(ran.to_json()) == [
        "student", "score", "max_score", "exercises", "file", "assignment", "error", "cell_errors", "answers", "graded",
    ]  # fmt: skip
    assert NotebookResult.from_json(ran.to_json()) == ran


def test_a_functions_result_is_graded_for_a_code_exercise(catalog: Any) -> None:
    """What the notebook grader got from the student's function is graded, not refused as typed."""
    lab = Submission("s001", {"implement-gd": {"zero-steps": Returned([4.0])}})
    part = grade_checked(lab, catalog).exercises[0].parts[2]
    assert part.id == "zero-steps"
    assert part.status in ("correct", "incorrect")  # graded, not refused
    assert "notebook" not in part.feedback
