"""Each answer type's own examples (``examples`` in its module): graded and read as they say, shown in the docs.

An example is an answer a student types, the reference of the part, the
status grading gives and what the answer is read as before grading. They are
the first thing a contributor reads about a type (docs/answer-types.md shows
them all) and the first test a new type passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.answers import TYPES, examples_table
from grader.answers.parts import check_part, read_answer

DOCS = Path(__file__).resolve().parent.parent / "docs" / "answer-types.md"
EXAMPLES = [
    pytest.param(kind, example, id=f"{name}:{example.answer.strip() or 'blank'}")
    for name, kind in TYPES.items()
    for example in kind.examples
]


@pytest.mark.parametrize(("kind", "example"), EXAMPLES)
def test_an_example_is_graded_and_read_as_it_says(kind, example):
    key = example.key(kind)
    result, _ = check_part(key, example.answer)
    assert result.status == example.status, result.feedback
    shown = read_answer(key, example.answer)
    if example.read_as is not None:
        assert shown.read_as == example.read_as
    if example.status == "invalid":  # refused with its reason, never scored
        assert result.score == 0 and result.feedback.endswith("This part was not graded.")


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_type_shows_a_right_answer_and_a_wrong_or_refused_one(name):
    statuses = {example.status for example in TYPES[name].examples}
    assert statuses & {"correct", "needs_review"}
    assert statuses - {"correct"}


def test_the_docs_show_every_example():
    assert examples_table() in DOCS.read_text(encoding="utf-8")


def test_the_walk_through_shows_the_interval_type_as_it_is():
    text = DOCS.read_text(encoding="utf-8")
    shown = text.split("<!-- grader/answers/interval.py -->\n```python\n", 1)[1].split("\n```", 1)[0]
    assert shown + "\n" == (Path(__file__).resolve().parent.parent / "grader" / "answers" / "interval.py").read_text()
