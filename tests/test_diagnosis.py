"""The corpus of realistic wrong answers (tests/data/wrong_answers.yaml): the mistake is named or located.

Runs ``bench/diagnosis_report.py``'s evaluation: each wrong answer graded
through the one grading function and judged against what a TA would name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

REPORT = Path(__file__).resolve().parents[1] / "bench" / "diagnosis_report.py"
DIAGNOSED = 0.90  # share named or located (README gives the measured figure)


@pytest.fixture(scope="module")
def report() -> Any:
    spec = importlib.util.spec_from_file_location("diagnosis_report", REPORT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def figures(report: Any) -> Any:
    return report.evaluate(report.load_catalog(None), report.load_corpus())


def test_the_corpus_is_large_and_well_formed(report: Any) -> None:
    entries = report.load_corpus()
    assert len(entries) >= 150
    for entry in entries:
        assert {"exercise", "part", "answer", "expect", "note"} <= set(entry), entry
        assert entry["expect"], entry


def test_no_wrong_answer_gets_full_credit(figures: Any) -> None:
    full = [j.entry for j in figures.judged if j.full_credit]
    assert full == []


def test_no_mistake_is_misnamed(figures: Any) -> None:
    misnamed = [(j.entry["answer"], j.result["misconception"]) for j in figures.judged if j.verdict == "misnamed"]
    assert misnamed == []


def test_most_mistakes_are_named_or_located(figures: Any) -> None:
    assert figures.diagnosed >= DIAGNOSED, figures.to_json()


def test_feedback_is_a_sentence_without_program_text(figures: Any) -> None:
    assert figures.unreadable_feedback == 0


def test_the_search_names_more_than_the_written_rules_alone(report: Any) -> None:
    entries = [e for e in report.load_corpus() if e["exercise"] in ("minibatch-gradient", "updates-per-epoch")]
    before, after = report.before_and_after(entries)
    assert after.counts["named"] > before.counts["named"]
    assert after.full_credit == before.full_credit == 0
