"""Each answer type on its own: its options, its hint, its answer literal and its OpenAPI schema."""

from __future__ import annotations

import ast
import re

import jsonschema
import pytest

from grader.answers import TYPES, OptionError, answer_type
from grader.answers.parts import check_part
from grader.checking.compare import same_value
from grader.checking.key import AnswerKey
from grader.checking.reading import Interval
from grader.specs.model import SpecError, load_catalog


def key(kind, reference, **options):
    return AnswerKey(part="p", type=answer_type(kind).configure(options), points=1, reference=reference)


# One key per type, with a reference a student could get right.
KEYS = {
    "number": key("number", 2.015625),
    "integer": key("integer", 38),
    "vector": key("vector", [3.5, 2.0]),
    "matrix": key("matrix", [[6.0, 0.0], [0.0, 2.0]]),
    "sequence": key("sequence", [4.0, 2.0, 1.0, 0.5, 0.25, 0.125]),
    "interval": key("interval", Interval(0.0, 1.0, False, False)),
    "expression": key("expression", "2*x + 20*y", variables=["x", "y"]),
    "labels": key("labels", ["fast", "diverging"], labels=["Fast", "diverging"]),
    "choice": key("choice", "overshoots", choices=["monotone", "overshoots"]),
    "text": key("text", None, keywords=["overshoot"]),
}


def test_every_yaml_type_is_registered_once():
    assert sorted(TYPES) == sorted(KEYS)
    assert all(cls.name == name for name, cls in TYPES.items())


def test_an_unknown_type_names_the_known_ones():
    with pytest.raises(KeyError, match="'tuple' is not one of "):
        answer_type("tuple")


# Options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        (
            "vector",
            {"step": "next_from(gd(eta), f)"},
            "'step' is not an option of type vector (it is one of type sequence)",
        ),
        ("number", {"variables": ["x"]}, "'variables' is not an option of type number (it is one of type expression)"),
        ("labels", {"choices": ["a", "b"]}, "'choices' is not an option of type labels (it is one of type choice)"),
        ("text", {"labels": ["a"]}, "'labels' is not an option of type text (it is one of type labels)"),
        ("sequence", {"itme": "w"}, "unknown field 'itme'"),
        ("choice", {}, "type choice needs 'choices'"),
        ("choice", {"choices": ["only"]}, "'choices' must be a list of at least two options"),
        ("expression", {"variables": "x"}, "'variables' must be a list of texts"),
        ("labels", {"aliases": {"slow": 1}}, "'aliases' must be a mapping of words to labels"),
        ("labels", {"labels": "fast"}, "'labels' must be a list of labels"),
        ("sequence", {"item": 3}, "'item' must be a text"),
    ],
)
def test_an_option_of_another_type_or_of_the_wrong_form_is_refused(kind, options, message):
    with pytest.raises(OptionError, match=re.escape(message)):
        answer_type(kind).configure(options)


def test_options_are_kept_by_the_type_and_labels_normalised():
    labels = answer_type("labels").configure({"labels": ["Slow Monotone", "fast"], "case_name": "η = {}"})
    assert labels.labels == ("slow-monotone", "fast")
    assert labels.case_name == "η = {}"
    assert answer_type("sequence").configure({"item": "w"}).item == "w"
    assert answer_type("expression").configure({"variables": ["x", "y"]}).variables == ("x", "y")


def test_every_code_exercise_part_may_name_its_call():
    for cls in TYPES.values():
        cls.configure({"call": "[1, 2]"} if cls.name != "choice" else {"call": "[1]", "choices": ["a", "b"]})


def test_a_spec_with_an_option_of_another_type_names_the_file_and_part(tmp_path):
    (tmp_path / "tiny.yaml").write_text(
        "id: tiny\ntitle: T\nprompt: P\nparts:\n  - id: step\n    type: vector\n    answer: '[1, 2]'\n    item: w\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as raised:
        load_catalog(tmp_path)
    assert str(raised.value) == (
        "tiny.yaml: tiny part step (line 8): 'item' is not an option of type vector (it is one of type sequence)"
    )


# Hints -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("number", "write one number, like 12.3"),
        ("integer", "write a whole number, like 17"),
        ("vector", "write 2 numbers separated by commas, like 12.3, -4.56"),
        ("matrix", "write 2 rows of 2 numbers each, like [[12.3, -4.56], [7.89, 0.123]]"),
        ("sequence", "write 6 numbers separated by commas, like 12.3, -4.56, 7.89, …"),
        ("interval", "write an interval such as (a, b), [a, b) or a < eta < b, with numbers for a and b"),
        ("expression", "write a formula in x and y, like 3*x^3 - 4*y"),
        ("labels", "write 2 labels separated by commas, one per case in order, each one of: fast, diverging"),
        ("choice", "write one of: monotone, overshoots"),
        ("text", "write a sentence or two in your own words"),
    ],
)
def test_each_type_says_how_to_write_an_answer(kind, hint):
    assert KEYS[kind].hint() == hint


@pytest.mark.parametrize("kind", ["number", "integer", "vector", "matrix", "sequence"])
def test_a_hints_example_never_gives_the_answer_away(kind):
    """Whatever the reference, no number of the example is one of its numbers."""
    pool_reference = {
        "number": 12.3,
        "integer": 17,
        "vector": [12.3, -4.56, 7.89],
        "matrix": [[12.3, -4.56], [7.89, 0.123]],
        "sequence": [12.3, -4.56, 7.89, 0.123, -32.1, 45.6],
    }[kind]
    hint = key(kind, pool_reference).hint()
    shown = {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", hint.split("like", 1)[1])}
    flat = pool_reference if isinstance(pool_reference, list) else [pool_reference]
    flat = [x for row in flat for x in (row if isinstance(row, list) else [row])]
    assert shown and not shown & set(flat)


def test_a_sequence_of_vectors_shows_points():
    assert key("sequence", [[4.0, 3.0], [3.5, 2.0], [3.0, 1.0]]).hint() == (
        "write 3 points of 2 numbers each, like [12.3, -4.56], [7.89, 0.123], [-32.1, 45.6]"
    )
    assert key("sequence", [[12.3, 0.0], [1.0, 2.0]]).hint() == (  # 12.3 is skipped: it is in the reference
        "write 2 points of 2 numbers each, like [-4.56, 7.89], [0.123, -32.1]"
    )


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_an_unreadable_answer_says_why_and_how_to_write_it(kind):
    if kind == "text":
        return  # any text is readable
    result, value = check_part(KEYS[kind], {"no": "answer"})
    assert value is None and result.status == "invalid"
    hint = KEYS[kind].hint()
    assert f"{hint[0].upper()}{hint[1:]}" in result.feedback
    assert result.feedback.endswith("This part was not graded.")
    assert result.details["reason"] and result.details["reason"] not in hint


# Literals and submitted answers ----------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_the_reference_written_as_a_literal_or_submitted_scores_full(kind):
    if kind == "text":
        return
    answer_key = KEYS[kind]
    literal = ast.literal_eval(answer_key.type.literal(answer_key.reference))
    for raw in (literal, answer_key.type.submitted(answer_key.reference)):
        result, _ = check_part(answer_key, raw)
        assert (result.status, result.score) == ("correct", 1), (kind, raw, result.feedback)


def test_an_interval_is_submitted_as_text_and_a_text_part_as_a_model_sentence():
    assert KEYS["interval"].type.literal(KEYS["interval"].reference) == "'(0, 1)'"
    sentence = KEYS["text"].type.submitted(None)
    assert isinstance(sentence, str) and "overshoot" in sentence


# Schemas -------------------------------------------------------------------------------

ACCEPTED = {
    "number": [2.02, "2.02", "129/64"],
    "integer": [38, "38"],
    "vector": [[3.5, 2], "[3.5, 2]", ["7/2", 2]],
    "matrix": [[[6, 0], [0, 2]], "[[6, 0], [0, 2]]"],
    "sequence": [[4, 2, 1], "4, 2, 1", [[4, 3], [3.5, 2]]],
    "interval": ["(0, 1)"],
    "expression": ["2x + 20y", 3],
    "labels": [["fast", "diverging"], "fast, diverging"],
    "choice": ["overshoots"],
    "text": ["It overshoots."],
}


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_the_schema_accepts_what_the_type_reads_and_refuses_an_object(kind):
    schema = KEYS[kind].type.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["description"]
    for raw in ACCEPTED[kind]:
        jsonschema.validate(raw, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"x": 1}, schema)


def test_the_values_read_compare_with_the_reference():
    _, value = check_part(KEYS["vector"], "(3.5, 2)")
    assert same_value(value, [3.5, 2.0], KEYS["vector"].tolerance)


def test_openapi_describes_an_answer_of_each_type():
    from grader.web.openapi import openapi_document

    schemas = openapi_document()["components"]["schemas"]
    refs = [ref["$ref"].rsplit("/", 1)[1] for ref in schemas["Answer"]["anyOf"]]
    assert refs == [name.capitalize() + "Answer" for name in TYPES]
    assert schemas["VectorAnswer"] == KEYS["vector"].type.schema()


def test_the_same_hint_is_in_notebooks_the_prompt_and_exercises_show(catalog):
    from click.testing import CliRunner

    from grader.cli import cli
    from grader.notebooks.generate import student_notebook

    exercise = catalog.exercise("gd-step-2d")
    hints = {p["id"]: p["hint"] for p in catalog.prompt(exercise, catalog.variant(exercise, "s001"))["parts"]}
    assert hints["direction"] == "write 2 numbers separated by commas, like 12.3, -4.56"
    cells = [c.source for c in student_notebook(catalog, "lec4-homework", "s001").cells if c.cell_type == "code"]
    assert f"gd_step_2d_direction = None  # your answer: {hints['direction']}" in cells
    shown = CliRunner().invoke(cli, ["exercises", "show", "gd-step-2d", "--student", "s001"]).output
    assert f"answer: {hints['new-point']}" in shown
