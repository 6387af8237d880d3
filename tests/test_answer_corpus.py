"""The answers corpus (tests/data/answers.yaml and answers_heldout.yaml) graded through the one grading path: the targets.

Each answer is written the way students type and paste them; ``bench/corpus_report.py`` prints the
same figures by notation. Targets: at least 98 % of right answers read as right, no wrong answer
with full credit, every ambiguous answer ``invalid`` naming its readings, every ``invalid`` with a
reason and an example of an accepted form.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

REPORT = Path(__file__).resolve().parent.parent / "bench" / "corpus_report.py"


def _report() -> Any:
    spec = importlib.util.spec_from_file_location("corpus_report", REPORT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_report"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


corpus_report = _report()


@pytest.fixture(scope="module")
def graded() -> list[Any]:
    return corpus_report.grade_corpus(corpus_report.load_corpus())


def _listed(answers: list[Any]) -> str:
    return "\n".join(f"{g.exercise}/{g.part} [{g.notation}] {g.answer!r}: {g.status} {g.feedback}" for g in answers)


def test_the_corpus_is_large_and_covers_every_exercise_and_notation(graded):
    assert len(graded) >= 300
    assert {g.exercise for g in graded} >= {
        "gd-parabola",
        "learning-rate",
        "gd-step-2d",
        "minibatch-gradient",
        "updates-per-epoch",
        "momentum-step",
        "nesterov-step",
        "adam-step",
        "stationary-points",
        "sgd-epoch",
    }
    notations = {g.notation for g in graded if g.truth == "wrong"}
    assert {"numpy", "torch", "latex", "labels", "worked", "decimal-comma", "sentence", "words"} <= notations


def test_right_answers_are_read_as_right(graded):
    right = [g for g in graded if g.truth == "right"]
    missed = [g for g in right if not g.ok]
    assert len(missed) <= 0.02 * len(right), _listed(missed)


def test_no_wrong_answer_gets_full_credit(graded):
    credited = [g for g in graded if g.truth == "wrong" and not g.ok]
    assert not credited, _listed(credited)


def test_wrong_answers_in_any_notation_hear_their_misconception(graded):
    unnamed = [g for g in graded if g.expected_misconception and not g.diagnosed]
    assert not unnamed, _listed(unnamed)


def test_ambiguous_answers_are_invalid_and_name_both_readings(graded):
    ambiguous = [g for g in graded if g.truth == "ambiguous"]
    assert ambiguous
    graded_anyway = [g for g in ambiguous if not g.ok]
    assert not graded_anyway, _listed(graded_anyway)


def test_every_invalid_gives_a_reason_and_an_accepted_form(graded):
    unexplained = [g for g in graded if g.status == "invalid" and not g.invalid_explained]
    assert not unexplained, _listed(unexplained)
