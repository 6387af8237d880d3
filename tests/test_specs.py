"""Exercise specs: a broken spec is refused naming the file and the field; variants per student."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from grader.specs.model import DEFAULT_STUDENT, SpecError, load_catalog

COURSE = {
    "variants": "slides",
    "misconceptions": {"sign-error": {"credit": 0.25, "feedback": "You moved uphill."}},
}


def spec() -> dict:
    """A small valid exercise; each test breaks one field of a copy."""
    return {
        "id": "tiny",
        "title": "A tiny exercise",
        "prompt": "Run GD on {{f}} from {{x0}} with η = {{eta}}.",
        "parameters": {"f": "x**2 + 2", "x0": {"default": 4, "choices": [2, 4]}, "eta": 0.25},
        "parts": [
            {
                "id": "iterates",
                "type": "sequence",
                "points": 2,
                "answer": "iterates(gd(eta), f, x0, 2)",
                "step": "next_from(gd(eta), f)",
                "misconceptions": [{"id": "sign-error", "answer": "iterates(ascent(gd(eta)), f, x0, 2)"}],
            }
        ],
    }


def write(folder: Path, exercise: dict, name: str = "tiny.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.yaml").write_text(yaml.safe_dump(COURSE), encoding="utf-8")
    (folder / name).write_text(yaml.safe_dump(exercise, allow_unicode=True), encoding="utf-8")
    return folder


def refused(tmp_path: Path, exercise: dict) -> str:
    with pytest.raises(SpecError) as caught:
        load_catalog(write(tmp_path / "specs", exercise))
    return str(caught.value)


def test_the_valid_spec_loads_and_grades(tmp_path):
    catalog = load_catalog(write(tmp_path / "specs", spec()))
    exercise = catalog.exercise("tiny")
    (key,) = catalog.keys(exercise, catalog.variant(exercise))
    assert key.reference == [4.0, 2.0, 1.0]
    assert key.misconceptions[0].feedback == "You moved uphill."  # from course.yaml


def test_a_missing_exercise_field_is_named(tmp_path):
    broken = spec()
    del broken["title"]
    message = refused(tmp_path, broken)
    assert message.startswith("tiny.yaml")
    assert "'title' is missing" in message


def test_a_missing_answer_is_named_with_its_part(tmp_path):
    broken = spec()
    del broken["parts"][0]["answer"]
    message = refused(tmp_path, broken)
    assert "tiny.yaml" in message and "part iterates" in message and "'answer' is missing" in message


def test_an_unknown_part_type_is_named(tmp_path):
    broken = spec()
    broken["parts"][0]["type"] = "vectr"
    message = refused(tmp_path, broken)
    assert "tiny.yaml" in message and "part iterates" in message and "'vectr'" in message


@pytest.mark.parametrize(
    ("where", "field"),
    [("exercise", "titel"), ("part", "pionts"), ("misconception", "feedbak"), ("parameter", "choice")],
)
def test_an_unknown_field_is_named(tmp_path, where, field):
    broken = spec()
    target = {
        "exercise": broken,
        "part": broken["parts"][0],
        "misconception": broken["parts"][0]["misconceptions"][0],
        "parameter": broken["parameters"]["x0"],
    }[where]
    target[field] = 1
    message = refused(tmp_path, broken)
    assert "tiny.yaml" in message and f"unknown field {field!r}" in message


@pytest.mark.parametrize(
    ("field", "expression"),
    [
        ("answer", "iterates(gd(eta), f, x0,"),  # syntax
        ("answer", "f.__class__"),  # attribute access
        ("answer", "__import__('os')"),  # private name
        ("step", "lambda p: p"),
        ("misconception", "[x for x in f]"),
    ],
)
def test_a_bad_expression_is_refused_at_load_naming_the_field(tmp_path, field, expression):
    broken = spec()
    if field == "misconception":
        broken["parts"][0]["misconceptions"][0]["answer"] = expression
    else:
        broken["parts"][0][field] = expression
    message = refused(tmp_path, broken)
    assert "tiny.yaml" in message and "part iterates" in message
    assert ("misconception sign-error answer" if field == "misconception" else field) in message


def test_an_unknown_name_is_refused_when_the_spec_loads(tmp_path):
    broken = spec()
    broken["parts"][0]["answer"] = "iterates(gd(eta), f, x0, steps)"  # no parameter 'steps'
    message = refused(tmp_path, broken)
    assert message == "tiny.yaml: tiny part iterates answer: unknown name 'steps' (the names it may use are eta, f, x0)"


def test_an_expression_that_fails_names_the_field(tmp_path):
    broken = spec()
    broken["parameters"]["steps"] = {"default": 2, "choices": [2, 2.5]}  # a whole number only in some variants
    broken["parts"][0]["answer"] = "iterates(gd(eta), f, x0, steps)"
    catalog = load_catalog(write(tmp_path / "specs", broken))
    exercise = catalog.exercise("tiny")
    catalog.keys(exercise, catalog.variant(exercise))
    with pytest.raises(
        SpecError, match=r"tiny\.yaml: tiny part iterates\.answer: .*'steps' of iterates must be a whole"
    ):
        catalog.keys(exercise, {**catalog.variant(exercise), "steps": 2.5})


def test_a_misconception_without_feedback_is_refused(tmp_path):
    broken = spec()
    broken["parts"][0]["misconceptions"].append({"id": "brand-new", "answer": "[4, 0, 0]"})
    message = refused(tmp_path, broken)
    assert "tiny.yaml" in message and "'brand-new'" in message and "feedback" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("points", 0), ("points", "two"), ("tolerance", 1e-6), ("tolerance", {"rtol": "tight"})],
)
def test_bad_part_settings_are_named(tmp_path, field, value):
    broken = spec()
    broken["parts"][0][field] = value
    message = refused(tmp_path, broken)
    assert "tiny.yaml" in message and f"'{field}'" in message


def choice_spec() -> dict:
    exercise = spec()
    exercise["parts"].append(
        {
            "id": "shape",
            "type": "choice",
            "answer": "path_shape(gd(eta), f, x0)",
            "choices": ["Monotone", "overshoots", "does-not-converge"],
            "misconceptions": [{"id": "sign-error", "answer": "path_shape(ascent(gd(eta)), f, x0)"}],
        }
    )
    return exercise


def test_a_choice_part_offers_its_options_and_grades_one(tmp_path):
    catalog = load_catalog(write(tmp_path / "specs", choice_spec()))
    exercise = catalog.exercise("tiny")
    key = catalog.keys(exercise, catalog.variant(exercise))[1]
    assert (key.kind, key.reference, key.type.choices) == (
        "choice",
        "monotone",
        ("monotone", "overshoots", "does-not-converge"),
    )
    assert key.misconceptions[0].answer == "does-not-converge"  # uphill: never closer


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda part: part.pop("choices"), "type choice needs 'choices' (a list of at least two options)"),
        (
            lambda part: part.update(choices=["only-one"]),
            "'choices' must be a list of at least two options",
        ),
        (
            lambda part: part.update(type="labels"),
            "'choices' is not an option of type labels (it is one of type choice)",
        ),
    ],
)
def test_a_choice_part_without_its_options_is_refused(tmp_path, change, message):
    broken = choice_spec()
    change(broken["parts"][1])
    assert message in refused(tmp_path, broken)


def test_bad_yaml_is_named(tmp_path):
    folder = write(tmp_path / "specs", spec())
    (folder / "tiny.yaml").write_text("id: [unclosed", encoding="utf-8")
    message = str(pytest.raises(SpecError, load_catalog, folder).value)
    assert message.startswith("tiny.yaml: not valid YAML")


def test_two_exercises_with_one_id_are_refused(tmp_path):
    folder = write(tmp_path / "specs", spec())
    (folder / "again.yaml").write_text(yaml.safe_dump(spec()), encoding="utf-8")
    with pytest.raises(SpecError, match="already used"):
        load_catalog(folder)


def test_scientific_notation_in_yaml_is_a_number(tmp_path):
    exercise = spec()
    exercise["parameters"]["eta"] = "1e-1"  # written unquoted as eta: 1e-1
    folder = write(tmp_path / "specs", exercise)
    text = (folder / "tiny.yaml").read_text(encoding="utf-8").replace("eta: '1e-1'", "eta: 1e-1")
    (folder / "tiny.yaml").write_text(text, encoding="utf-8")
    catalog = load_catalog(folder)
    assert catalog.variant(catalog.exercise("tiny"))["eta"] == pytest.approx(0.1)


# Variants per student ---------------------------------------------------------------


@pytest.fixture
def per_student(monkeypatch):
    monkeypatch.setenv("GRADER_VARIANTS", "per-student")
    monkeypatch.setenv("GRADER_SECRET", "x")
    return load_catalog()


STUDENTS = [f"s{i:03d}" for i in range(40)]


def test_slides_variants_give_everyone_the_slides_numbers(catalog):
    exercise = catalog.exercise("gd-parabola")
    assert catalog.variant(exercise, "s001") == catalog.variant(exercise, DEFAULT_STUDENT)


def test_hidden_inputs_of_code_exercises_are_drawn_per_student_even_with_slides(catalog):
    for exercise_id in ("implement-gd", "implement-momentum", "implement-adam"):
        exercise = catalog.exercise(exercise_id)
        default = catalog.variant(exercise, DEFAULT_STUDENT)
        assert default == {p.name: p.default for p in exercise.parameters}
        drawn = {json.dumps(catalog.calls(exercise, catalog.variant(exercise, s)), sort_keys=True) for s in STUDENTS}
        assert len(drawn) > 10, exercise_id
        assert catalog.variant(exercise, "s001") == catalog.variant(exercise, "s001")


def test_a_students_variant_is_deterministic(per_student):
    again = load_catalog()  # a new process would load the catalog afresh
    for exercise in per_student.exercises.values():
        assert per_student.variant(exercise, "s001") == again.variant(exercise, "s001")


def test_variants_differ_across_students(per_student):
    for exercise_id in ("gd-parabola", "gd-step-2d", "minibatch-gradient", "updates-per-epoch", "adam-step"):
        exercise = per_student.exercise(exercise_id)
        drawn = {json.dumps(per_student.variant(exercise, s), sort_keys=True) for s in STUDENTS}
        assert len(drawn) > 1, exercise_id


def test_the_secret_changes_the_variants(per_student, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "another secret")
    other = load_catalog()
    exercise = per_student.exercise("gd-parabola")
    assert any(per_student.variant(exercise, s) != other.variant(exercise, s) for s in STUDENTS)


def test_the_default_student_gets_the_slides_numbers(per_student):
    slides = {
        "gd-parabola": {"x0": 4, "eta": 0.25, "steps": 5},
        "gd-step-2d": {"g": [1, 2], "eta": 0.5, "x": [4, 3]},
        "minibatch-gradient": {"batch": [2, 4, 5]},
        "updates-per-epoch": {"n": 1200, "b_small": 50, "b_large": 200, "b_odd": 32},
        "learning-rate": {"etas": [0.05, 0.25, 0.75, 1, 1.5]},
    }
    for exercise_id, numbers in slides.items():
        variant = per_student.variant(per_student.exercise(exercise_id), DEFAULT_STUDENT)
        assert {name: variant[name] for name in numbers} == numbers


def test_a_students_variant_grades_against_its_own_numbers(per_student):
    from grader.grading import grade

    exercise = per_student.exercise("gd-parabola")
    student = next(s for s in STUDENTS if per_student.variant(exercise, s)["x0"] != 4)
    (key, _) = per_student.keys(exercise, per_student.variant(exercise, student))
    result = grade({"student": student, "answers": {"gd-parabola": {"iterates": key.reference}}}, per_student).to_json()
    assert result["exercises"][0]["parts"][0]["status"] == "correct"
    slides = grade(
        {"student": student, "answers": {"gd-parabola": {"iterates": [4, 2, 1, 0.5, 0.25, 0.125]}}}, per_student
    ).to_json()
    assert slides["exercises"][0]["parts"][0]["status"] != "correct"


def _shown(value) -> list[str]:
    """Ways an answer could be written out in a prompt."""
    from grader.checking.outcome import fmt
    from grader.specs.model import _format

    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return []  # small whole numbers appear in any text
    return [_format(value), fmt(value), str(value), json.dumps(value, default=str)]


def test_prompts_never_contain_the_answers(per_student):
    for exercise in per_student.exercises.values():
        for student in [DEFAULT_STUDENT, *STUDENTS[:8]]:
            params = per_student.variant(exercise, student)
            prompt = per_student.prompt(exercise, params)
            assert set(prompt) == {"id", "title", "prompt", "parameters", "parts"}
            for part in prompt["parts"]:
                assert set(part) == {"id", "type", "field", "points", "prompt"} | (
                    {"choices"} if part["type"] == "choice" else set()
                ) | (set() if exercise.kind == "code" else {"hint"})
            if exercise.kind == "code":  # the hidden inputs of the calls are not shown either
                assert prompt["parameters"] == {}
                shown = json.dumps(prompt, ensure_ascii=False)
                for arguments in per_student.calls(exercise, params).values():
                    assert not any(isinstance(a, list) and json.dumps(a) in shown for a in arguments)
                continue
            text = json.dumps(prompt, ensure_ascii=False)
            for key in per_student.keys(exercise, params):
                if key.kind == "choice":
                    continue  # the options are part of the question
                for written in _shown(key.reference) if key.reference is not None else []:
                    assert written not in text, (exercise.id, student, key.part, written)
