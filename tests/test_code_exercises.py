"""Code exercises are graded from the student's function only, and never reveal a reference value."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from test_web_helpers import bearer

from grader.contract import Returned
from grader.grading import CODE_ONLY, grade
from grader.reports.feedback import feedback_html

pytest_plugins = ["test_web_helpers"]

LAB = ("implement-gd", "implement-momentum", "implement-adam")


def _references(catalog: Any, exercise_id: str, student: str) -> dict[str, Any]:
    exercise = catalog.exercise(exercise_id)
    return {key.part: key.reference for key in catalog.keys(exercise, catalog.variant(exercise, student))}


def _typed_guesses(catalog: Any, student: str) -> dict[str, dict[str, Any]]:
    """What an attacker would type: the right answers themselves (they are graded all the same)."""
    return {e: {p: ref for p, ref in _references(catalog, e, student).items()} for e in LAB}


def test_a_typed_answer_to_a_code_exercise_is_invalid_even_when_right(catalog: Any) -> None:
    result = grade({"student": "s001", "answers": _typed_guesses(catalog, "s001")}, catalog).to_json()
    assert result["score"] == 0
    for exercise in result["exercises"]:
        for part in exercise["parts"]:
            assert part["status"] == "invalid"
            assert part["feedback"] == "This exercise is graded from your function in a notebook."
            assert "expected" not in part["details"]


def test_a_typed_answer_to_a_code_exercise_is_invalid_through_the_api(client: Any, tokens: dict) -> None:
    typed = {"implement-gd": {"scalar": "4, 2, 1, 0.5, 0.25, 0.125", "vector": [[2, 1]], "zero-steps": [4]}}
    response = client.post("/api/grade", json={"answers": typed}, headers=bearer(tokens["s001"]))
    assert response.status_code == 200
    assert response.json["score"] == 0
    assert {p["status"] for p in response.json["exercises"][0]["parts"]} == {"invalid"}
    assert CODE_ONLY in response.json["exercises"][0]["parts"][0]["feedback"].lower()


def test_a_typed_answer_to_a_code_exercise_is_refused_on_the_page(client: Any, tokens: dict) -> None:
    assert client.post("/login", data={"token": tokens["s001"]}).status_code == 303
    response = client.post("/exercises/implement-gd", data={"part-scalar": "4, 2, 1"})
    assert response.status_code == 400


def test_a_typed_answer_to_a_code_exercise_is_invalid_from_the_cli(tmp_path: Any) -> None:
    from test_cli import run

    result = run("check", "--exercise", "implement-gd", "--part", "scalar", "--answer", "4, 2, 1, 0.5, 0.25, 0.125")
    assert "graded from your function in a notebook" in result.output
    assert "0/2" in result.output


def _slipped(reference: list[Any], at: int) -> list[Any]:
    """The reference with one item changed: a function with a slip at one step, then right from there."""
    changed = [list(x) if isinstance(x, list) else x for x in reference]
    changed[at] = [v + 1 for v in changed[at]] if isinstance(changed[at], list) else changed[at] + 1
    return changed


def _numbers_shown(text: str) -> set[float]:
    return {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)}


@pytest.mark.parametrize("exercise_id", LAB)
def test_no_result_of_a_code_exercise_shows_a_reference_value(catalog: Any, exercise_id: str) -> None:
    """A function that returns one wrong item learns which step is off, never what it should be."""
    references = _references(catalog, exercise_id, "s001")
    returned = {part: Returned(_slipped(ref, min(2, len(ref) - 1))) for part, ref in references.items()}
    graded = grade({"student": "s001", "answers": {exercise_id: returned}}, catalog)
    parts = graded.to_json()["exercises"][0]["parts"]
    assert all(p["status"] in ("partial", "incorrect") for p in parts), parts
    for part in parts:
        assert "expected" not in part["details"]
        reference = references[part["id"]]
        flat = [v for item in reference for v in (item if isinstance(item, list) else [item])]
        given = returned[part["id"]].value
        own = {round(v, 4) for item in given for v in (item if isinstance(item, list) else [item])}
        secret = {round(v, 4) for v in flat} - own
        shown = {round(v, 4) for v in _numbers_shown(part["feedback"] + json.dumps(part["details"]))}
        assert not secret & shown, (part, secret & shown)
    html = feedback_html(graded, catalog, lambda e, p: returned[p].value if p in returned else None)
    assert "with the expected ones" not in html
    assert "stroke-dasharray" not in html  # the reference path is drawn dashed where it may be shown


def test_the_function_grader_still_names_the_first_wrong_step(catalog: Any) -> None:
    reference = _references(catalog, "implement-gd", "s001")["scalar"]
    returned = {"scalar": Returned(_slipped(reference, 2))}
    part = grade({"student": "s001", "answers": {"implement-gd": returned}}, catalog).to_json()["exercises"][0][
        "parts"
    ][0]
    assert part["details"]["first_wrong_step"] == 2
    assert part["feedback"].startswith("Step 2 is off: x₂ = ")
    assert "does not follow from x₁" in part["feedback"]
