"""The shipped formula exercise (logistic-derivative) end to end: grading, misconceptions, CLI, notebooks."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.grading import grade
from grader.notebooks.generate import student_notebook, variable_name
from grader.paths import PROJECT_ROOT


def part(catalog, part_id: str, answer: str) -> dict:
    result = grade({"answers": {"logistic-derivative": {part_id: answer}}}, catalog).to_json()
    return next(p for p in result["exercises"][0]["parts"] if p["id"] == part_id)


@pytest.mark.parametrize(
    "answer",
    [
        "(sigmoid(w*a) - y)*a",
        "a(σ(wa) − y)",  # σ, implicit products, unicode minus
        "a/(1 + e^(-w a)) - a y",
        "a*exp(w*a)/(1 + exp(w*a)) - a*y",
        "-y*a*(1 - sigmoid(w*a)) + (1 - y)*a*sigmoid(w*a)",  # the chain rule, not simplified
    ],
)
def test_the_loss_derivative_in_any_equivalent_form_is_right(catalog, answer):
    assert part(catalog, "loss", answer)["status"] == "correct"


@pytest.mark.parametrize(
    ("answer", "misconception", "status"),
    [
        ("sigmoid(w*a) - y", "forgot-chain-rule", "partial"),
        ("σ(aw) - y", "forgot-chain-rule", "partial"),
        ("(y - sigmoid(w*a))*a", "sign-error", "partial"),
        ("a*y - a*σ(wa)", "sign-error", "partial"),
    ],
)
def test_the_misconceptions_are_named(catalog, answer, misconception, status):
    found = part(catalog, "loss", answer)
    assert (found["misconception"], found["status"]) == (misconception, status)
    assert "σ(wa) − y" in found["feedback"]


def test_a_wrong_formula_is_incorrect_and_an_unknown_name_is_invalid(catalog):
    assert part(catalog, "loss", "sigmoid(w*a)*a")["status"] == "incorrect"
    invalid = part(catalog, "loss", "sigmoid(w*x)*x")
    assert invalid["status"] == "invalid" and "x" in invalid["feedback"]


def test_the_sigmoid_derivative(catalog):
    assert part(catalog, "sigmoid", "exp(-z)/(1 + exp(-z))^2")["status"] == "correct"
    assert part(catalog, "sigmoid", "σ(z)(1-σ(z))")["status"] == "correct"
    assert part(catalog, "sigmoid", "-sigmoid(z)^2")["misconception"] == "forgot-chain-rule"
    rounded = part(catalog, "sigmoid", "0.25")
    assert rounded["status"] == "incorrect"


def test_grader_check_and_validate_handle_the_parts_variables():
    """Variables beyond x (w, a, y, z) once crashed check and validate with a traceback."""
    runner = CliRunner()
    checked = runner.invoke(
        cli,
        [
            "check",
            "--exercise",
            "logistic-derivative",
            "--part",
            "loss",
            "--answer",
            "a(σ(wa) - y)",
            "--format",
            "json",
        ],
        catch_exceptions=False,
    )
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["score"] == 2
    validated = runner.invoke(
        cli,
        ["validate", str(PROJECT_ROOT / "exercises" / "logistic-derivative.yaml"), "--seeds", "3"],
        catch_exceptions=False,
    )
    assert validated.exit_code == 0, validated.output


def test_the_exercise_is_in_the_extra_assignment_and_its_notebook(catalog):
    assert "logistic-derivative" in catalog.assignments["lec4-extra"].exercises
    notebook = student_notebook(catalog, "lec4-extra", None)
    sources = "\n".join(cell.source for cell in notebook.cells)
    assert f"{variable_name('logistic-derivative', 'loss')} = None" in sources
