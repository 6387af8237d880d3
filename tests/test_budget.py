"""CPU budgets for checking: per part and per submission, on every way in (typed answers, notebooks).

The CPU clock is replaced by a counter that advances a fixed step each time
it is read, so "this answer costs more than its budget" does not depend on
how fast the machine is: every formula the grader reads costs one step.
How long the real worst answers take is measured by bench/bench_hostile.py.
"""

from __future__ import annotations

import itertools
from typing import Any

import nbformat
import nbformat.v4 as nbf
import pytest

from grader import budget
from grader.expressions import parse
from grader.grading import grade
from grader.notebooks.batch import grade_notebook

STEP = budget.PART_SECONDS / 50  # CPU seconds charged each time the clock is read (0.2 ms)
NESTED_SQRT = "sqrt(" * 29 + "2" + ")" * 29
HOSTILE_LIST = [NESTED_SQRT] * 1000  # 1000 formulas: far more than a part's budget
RIGHT_VALUES = "18, 6, 3, 2.25, 2.0625, 2.015625"


@pytest.fixture
def counted_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count()
    monkeypatch.setattr(budget, "_cpu", lambda: next(ticks) * STEP)


def statuses(result: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f"{e['id']}/{p['id']}": (p["status"], p["feedback"]) for e in result["exercises"] for p in e["parts"]}


def test_checkpoint_passes_within_the_budget_and_raises_once_it_is_spent(counted_clock):
    with budget.limited(10 * STEP, "this answer"):
        for _ in range(5):
            budget.checkpoint()
        with pytest.raises(budget.BudgetExceeded, match="this answer took more than its 4 ms"):
            for _ in range(20):
                budget.checkpoint()


def test_without_a_budget_nothing_is_counted(counted_clock):
    for _ in range(10_000):
        budget.checkpoint()


def test_the_outer_budget_counts_inside_an_inner_one(counted_clock):
    with budget.limited(8 * STEP, "this submission"), budget.limited(1000 * STEP, "this answer"):
        with pytest.raises(budget.BudgetExceeded, match="this submission"):
            for _ in range(20):
                budget.checkpoint()


def test_uncounted_work_is_not_charged(counted_clock):
    with budget.limited(10 * STEP, "this answer"):
        with budget.uncounted():
            for _ in range(100):
                budget.checkpoint()  # not checked inside, and not charged afterwards
        budget.checkpoint()


def test_every_formula_read_is_charged(counted_clock):
    with budget.limited(20 * STEP, "this answer"), pytest.raises(budget.BudgetExceeded):
        for k in range(100):
            parse(f"{k} + x")


def test_a_costly_answer_is_invalid_and_the_other_parts_are_still_graded(catalog, counted_clock):
    result = grade({"answers": {"gd-parabola": {"iterates": HOSTILE_LIST, "values": RIGHT_VALUES}}}, catalog).to_json()
    parts = {p["id"]: p for p in result["exercises"][0]["parts"]}
    assert (parts["iterates"]["status"], parts["iterates"]["score"]) == ("invalid", 0)
    assert "this answer took more than its 20 ms" in parts["iterates"]["feedback"]
    assert parts["iterates"]["details"] == {"reason": "time"}
    assert parts["values"]["status"] == "correct"


def test_parts_after_the_submission_budget_is_spent_are_not_checked(catalog, counted_clock):
    hostile = {"direction": HOSTILE_LIST, "new-point": HOSTILE_LIST}
    answers = {
        "gd-step-2d": hostile,
        "minibatch-gradient": {"full": HOSTILE_LIST, "batch": HOSTILE_LIST},
        "momentum-step": hostile,
        "adam-step": {"x1": HOSTILE_LIST, "x2": HOSTILE_LIST},
        "rmsprop-step": {"x1": HOSTILE_LIST},
        "sgd-epoch": {"weights": HOSTILE_LIST},
        "nesterov-step": {"x1": HOSTILE_LIST, "x2": HOSTILE_LIST},
        "gd-parabola": {"iterates": HOSTILE_LIST, "values": RIGHT_VALUES},
        "updates-per-epoch": {"b50": 24},
    }
    found = statuses(grade({"answers": answers}, catalog).to_json())
    assert all(status == "invalid" for key, (status, _) in found.items() if not key.startswith("updates"))
    assert "this submission took more than its 100 ms" in found["gd-parabola/values"][1]
    assert found["updates-per-epoch/b50"][0] == "invalid"


def test_an_honest_submission_is_not_affected(catalog, counted_clock):
    answers = {
        "gd-parabola": {"iterates": "4, 2, 1, 0.5, 0.25, 0.125", "values": RIGHT_VALUES},
        "gd-step-2d": {"direction": "[-1, -2]", "new-point": [3.5, 2]},
        "minibatch-gradient": {"full": "[19/5, 11/5]", "batch": "[10/3, 2]"},
        "updates-per-epoch": {"b50": 24, "b200": "6", "b32": "38"},
    }
    found = statuses(grade({"answers": answers}, catalog).to_json())
    assert {status for status, _ in found.values()} == {"correct"}


# Notebooks: the values a notebook binds reach the same grading function and the same budgets.


HOSTILE_NOTEBOOK = f"""\
nested = 0
for _ in range(500):
    nested = [nested]
gd_parabola_iterates = [{NESTED_SQRT!r}] * 1000
gd_parabola_values = [18, 6, 3, 2.25, 2.0625, 2.015625]
learning_rate_converges = nested
learning_rate_classify = 10 ** 5000
"""


def test_hostile_values_returned_by_a_notebook_run_under_the_same_budget(catalog, sandbox, counted_clock):
    notebook = nbf.new_notebook(cells=[nbf.new_code_cell(HOSTILE_NOTEBOOK)])
    notebook.metadata["grader"] = {"assignment": "lec4-inclass"}
    result = grade_notebook(nbformat.writes(notebook).encode(), "s001.ipynb", catalog, sandbox=sandbox).to_json()
    assert result["graded"] is True
    found = statuses(result)
    assert found["gd-parabola/iterates"][0] == "invalid"
    assert "this answer took more than its 20 ms" in found["gd-parabola/iterates"][1]
    assert found["gd-parabola/values"][0] == "correct"
    assert found["learning-rate/converges"][0] == "invalid"  # nested 500 deep: refused, not recursed into
    assert found["learning-rate/classify"][0] in ("invalid", "missing")  # a 5000-digit integer is no label list
