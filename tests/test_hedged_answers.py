"""Answers that are not one answer never earn full credit: a generator of hedged variants, graded end to end.

For every part of every exercise in exercises/ whose reference is a number, integer, vector, matrix,
sequence or interval, the reference is typed as a student would type it (full credit, checked first),
then wrapped in each hedge form: question marks, another value offered in a note or after "or" (in
English, German, French, Spanish), words of doubt, estimates, and two candidates joined by "/" or a
dash. Each goes through ``grader.grading.grade`` for several variants; none may earn full credit, and
the feedback must open with one sentence naming the reason (``details["hedge"]`` says which kind).

Precision notes are not hedges (``≈``, ``~``, ``approx.``, ``approximately``: docs/answers.md), and the
words around a count are read: ``24 epochs`` where updates are asked is not full credit and says why,
``24 steps`` stays right.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from grader.checking.notation.hedges import ALTERNATIVES, ASK, ESTIMATE, QUESTION, UNCERTAIN
from grader.checking.reading import Interval
from grader.grading import grade
from grader.specs.model import load_catalog

STUDENTS = ("default", "s001", "s002", "s003")
KINDS = ("number", "integer", "vector", "matrix", "sequence", "interval")

# {r}: the reference as the student types it; {a}: another answer of the same shape.
HEDGES: list[tuple[str, str]] = [
    ("{r}?", QUESTION),
    ("{r} ?", QUESTION),
    ("{r}??", QUESTION),
    ("{r} (?)", QUESTION),
    ("¿{r}?", QUESTION),
    ("{r} ({a}?)", ALTERNATIVES),
    ("{r} (or {a})", ALTERNATIVES),
    ("{r} (or {a}?)", ALTERNATIVES),
    ("{r} (maybe {a})", ALTERNATIVES),
    ("{r} (or …)", ALTERNATIVES),
    ("{r} (or ...)", ALTERNATIVES),
    ("{r} or {a}", ALTERNATIVES),
    ("either {r} or {a}", ALTERNATIVES),
    ("{r}, or maybe {a}", ALTERNATIVES),
    ("{r} oder {a}", ALTERNATIVES),
    ("{r} ou {a}", ALTERNATIVES),
    ("{r} o {a}", ALTERNATIVES),
    ("maybe {r}", UNCERTAIN),
    ("{r}, maybe", UNCERTAIN),
    ("perhaps {r}", UNCERTAIN),
    ("probably {r}", UNCERTAIN),
    ("I think {r}", UNCERTAIN),
    ("I think it is {r}", UNCERTAIN),
    ("my guess: {r}", UNCERTAIN),
    ("{r} (not sure)", UNCERTAIN),
    ("{r} (not sure about the ends)", UNCERTAIN),
    ("{r} (I guess)", UNCERTAIN),
    ("vielleicht {r}", UNCERTAIN),
    ("peut-être {r}", UNCERTAIN),
    ("quizás {r}", UNCERTAIN),
    ("roughly {r}", ESTIMATE),
    ("about {r}", ESTIMATE),
    ("around {r}", ESTIMATE),
    ("{r} or so", ESTIMATE),
    ("{r} (or so)", ESTIMATE),
    ("ca. {r}", ESTIMATE),
    ("circa {r}", ESTIMATE),
    ("{r}, more or less", ESTIMATE),
    ("{r} give or take", ESTIMATE),
    ("{r} or more", ESTIMATE),
    ("ungefähr {r}", ESTIMATE),
    ("etwa {r}", ESTIMATE),
    ("environ {r}", ESTIMATE),
    ("más o menos {r}", ESTIMATE),
    ("{r} ± 0.001", ESTIMATE),
    ("{r} +/- 0.001", ESTIMATE),
    ("${r} \\pm 0.01$", ESTIMATE),
]
# What the first sentence of the feedback says, by kind.
REASONS = {
    QUESTION: "question mark",
    ALTERNATIVES: r"gives two answers|leaves another answer open",
    UNCERTAIN: "hedges the answer",
    ESTIMATE: "makes it an estimate|a value with its uncertainty",
    ASK: "did you mean",
}
# Not hedges: the value stays right.
PRECISION_NOTES = ["≈ {r}", "≈{r}", "~{r}", "approx. {r}", "approx {r}", "approximately {r}", "{r} (approx.)"]


def _number(value: float) -> str:
    """A number as a student types it: whole numbers bare, others to 6 significant figures."""
    if abs(value) < 1e-9:
        return "0"
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    return f"{value:.6g}"


def _typed(kind: str, value: Any) -> str:
    if kind == "interval":
        return str(value)
    if kind == "matrix":
        return "[" + ", ".join("[" + ", ".join(map(_number, row)) + "]" for row in value) + "]"
    if kind == "vector":
        return "(" + ", ".join(map(_number, value)) + ")"
    if kind == "sequence" and value and isinstance(value[0], list):  # points: (3, 2), (2.25, 1), …
        return ", ".join("(" + ", ".join(map(_number, point)) + ")" for point in value)
    if kind == "sequence":
        return ", ".join(map(_number, value))
    return _number(value)


def _other(kind: str, value: Any) -> Any:
    """Another answer of the same shape: the last number moved (0.1 for a decimal, else 1), an end flipped."""
    if kind == "interval":
        return Interval(value.low, value.high, value.low_closed, not value.high_closed)
    if kind == "matrix" or (kind == "sequence" and value and isinstance(value[0], list)):
        return [*value[:-1], [*value[-1][:-1], value[-1][-1] + 1]]
    if isinstance(value, list):
        return [*value[:-1], value[-1] + 1]
    return value + (0.1 if "." in _number(value) else 1)


def _candidates(kind: str, value: Any) -> list[tuple[str, str]]:
    """Two candidates joined by '/' or a dash, where that cannot be a plain fraction of the answer."""
    r, a = _typed(kind, value), _typed(kind, _other(kind, value))
    if kind in ("vector", "matrix", "interval"):
        return [(f"{r} / {a}", ALTERNATIVES), (f"{r}/{a}", ALTERNATIVES)]
    if kind == "sequence":
        return [(f"{r} / {a}", ALTERNATIVES), (f"[{r}] / [{a}]", ALTERNATIVES)]
    forms = []
    if kind == "integer" or ("." in r and "." in a):  # 2/3 is a fraction, 37/38 for a count is asked about
        forms += [(f"{r}/{a}", ASK), (f"{r} / {a}", ASK)]
    if value >= 0:
        low, high = sorted([r, a], key=float)
        forms += [(f"{low}–{high}", ASK), (f"{low} – {high}", ASK), (f"{low}-{high}", ASK), (f"{high}—{low}", ASK)]
    if kind in ("number", "integer"):
        forms.append((f"{r}-ish", ESTIMATE))
    return forms


@pytest.fixture(scope="module")
def catalog():
    catalog = load_catalog()
    catalog.per_student, catalog.secret = True, "hedged-answers"  # several variants, the same on every machine
    return catalog


def _parts() -> list[tuple[str, str]]:
    catalog = load_catalog()
    return [
        (exercise.id, part.id)
        for exercise in catalog.exercises.values()
        if exercise.kind != "code"
        for part in exercise.parts
        if part.type.name in KINDS
    ]


def _graded(catalog, student: str, exercise: str, part: str, answer: Any) -> dict[str, Any]:
    result = grade({"student": student, "answers": {exercise: {part: answer}}}, catalog).to_json()
    return next(p for p in result["exercises"][0]["parts"] if p["id"] == part)


def _full(graded: dict[str, Any]) -> bool:
    return graded["status"] == "correct" and graded["score"] == graded["max_score"]


def _one_sentence(text: str) -> bool:
    return not re.search(r"[.?!]\s+[A-Z¿]", text.strip())


def hedged_variants(catalog, exercise_id: str, part_id: str, student: str) -> tuple[str, list[tuple[str, str]]]:
    """The reference as typed, and every hedged variant of it with the kind of hedge it is."""
    exercise = catalog.exercises[exercise_id]
    key = next(k for k in catalog.keys(exercise, catalog.variant(exercise, student)) if k.part == part_id)
    r = _typed(key.kind, key.reference)
    a = _typed(key.kind, _other(key.kind, key.reference))
    forms = [(form.format(r=r, a=a), kind) for form, kind in HEDGES]
    return r, forms + _candidates(key.kind, key.reference)


def test_every_kind_of_value_part_is_covered():
    catalog = load_catalog()
    kinds = {catalog.exercises[e].part(p).type.name for e, p in _parts()}
    assert kinds == set(KINDS)
    assert len(_parts()) >= 15


@pytest.mark.parametrize(("exercise", "part"), _parts())
def test_no_hedged_answer_earns_full_credit_and_the_feedback_says_why(catalog, exercise, part):
    failures = []
    for student in STUDENTS:
        typed, variants = hedged_variants(catalog, exercise, part, student)
        plain = _graded(catalog, student, exercise, part, typed)
        assert _full(plain), f"{student}: the reference typed as {typed!r} is not full credit: {plain['feedback']}"
        for answer, kind in variants:
            graded = _graded(catalog, student, exercise, part, answer)
            reason = graded["details"].get("reason", "")
            if _full(graded):
                failures.append(f"{student} {answer!r}: FULL CREDIT {graded['feedback']}")
            elif graded["status"] != "invalid" or graded["details"].get("hedge") != kind:
                failures.append(f"{student} {answer!r}: {graded['status']} {graded['details']} {graded['feedback']}")
            elif not re.search(REASONS[kind], reason) or not _one_sentence(reason):
                failures.append(f"{student} {answer!r}: reason not in one sentence: {reason}")
            elif not graded["feedback"].startswith(reason[:1].upper() + reason[1:]):
                failures.append(f"{student} {answer!r}: the feedback does not open with the reason")
            elif graded["score"] != 0:
                failures.append(f"{student} {answer!r}: {graded['score']} points for an answer that is not one")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("exercise", "part"), [(e, p) for e, p in _parts() if e != "learning-rate"])
def test_precision_notes_are_not_hedges(catalog, exercise, part):
    for student in STUDENTS[:2]:
        typed, _ = hedged_variants(catalog, exercise, part, student)
        for form in PRECISION_NOTES:
            answer = form.format(r=typed)
            graded = _graded(catalog, student, exercise, part, answer)
            assert _full(graded), f"{answer!r}: {graded['feedback']}"


@pytest.mark.parametrize(
    ("exercise", "part", "answer"),
    [
        (
            "updates-per-epoch",
            "b50",
            "How many updates per epoch? 24 updates",
        ),  # the question restated, then the answer
        ("updates-per-epoch", "b32", "38 (ceil of 37.5 or rounding up)"),  # 'or' between two words for one value
        ("updates-per-epoch", "b32", "1200/32 = 37.5 → 38"),
        ("gd-step-2d", "direction", "[-1 -2]"),  # numpy's spaced list: -1 and -2, not 1 minus 2
        ("gd-parabola", "iterates", "4, 2, 1, 1/2, 1/4, 1/8"),  # fractions between commas
        ("nesterov-step", "x1", "x1 = 4 − 0.1·(8 + 0.9·8) = 2.48"),
        ("learning-rate", "converges", "0 < eta < 1 because |1 - 2 eta| < 1"),
        ("momentum-iterations", "iterates", "4, 2, 0, -1 (it oscillates around 0)"),  # a place, not an estimate
        ("nesterov-step", "x1", "2.48 (rounded)"),
    ],
)
def test_words_and_signs_that_are_not_hedges(catalog, exercise, part, answer):
    graded = _graded(catalog, "default", exercise, part, answer)
    assert _full(graded), graded["feedback"]


def test_a_fraction_or_two_answers_is_asked_about_not_guessed(catalog):
    asked = _graded(catalog, "default", "updates-per-epoch", "b32", "37/38")
    assert asked["status"] == "invalid" and asked["score"] == 0 and asked["details"]["hedge"] == ASK
    assert asked["feedback"].startswith(
        "By '37/38', did you mean the fraction 37/38 ≈ 0.974, or two answers, 37 and 38?"
    )
    dash = _graded(catalog, "default", "updates-per-epoch", "b32", "37–38")
    assert "did you mean the difference 37 − 38 = −1, or two answers, 37 and 38?" in dash["feedback"]
    quotient = _graded(catalog, "default", "nesterov-step", "x1", "2.48 / 5.52")
    assert "did you mean the quotient 2.48/5.52 ≈ 0.449, or two answers, 2.48 and 5.52?" in quotient["feedback"]
    working = _graded(catalog, "default", "updates-per-epoch", "b32", "1200/32")  # far from 1: arithmetic
    assert working["misconception"] == "not-an-integer"


def test_two_answers_are_named(catalog):
    graded = _graded(catalog, "default", "updates-per-epoch", "b50", "24 (25?)")
    assert graded["feedback"].startswith("'24 (25?)' gives two answers, 24 and 25: write only the one you mean.")
    graded = _graded(catalog, "default", "learning-rate", "converges", "(0, 1) or (0, 1]")
    assert "two answers, (0, 1) and (0, 1]" in graded["feedback"]
    graded = _graded(catalog, "default", "learning-rate", "converges", "0 < η < 1 (maybe ≤ 1?)")
    assert "two answers, 0 < η < 1 and ≤ 1" in graded["feedback"]


# Units: the words after a count are read --------------------------------------------------------------

UPDATES = [
    "{r} updates",
    "{r} steps",
    "{r} iterations",
    "{r} gradient steps",
    "{r} updates per epoch",
    "{r} SGD updates",
    "{r} mini-batch updates",
    "There are {r} updates per epoch.",
    "{r} per epoch",
]
OTHER_QUANTITIES = [
    ("{r} epochs", "epochs"),
    ("{r} batches", "batches"),
    ("{r} mini-batches", "mini-batches"),
    ("{r} batches per epoch", "batches"),
    ("{r} samples", "samples"),
    ("one epoch has {r} batches", "batches"),
]


def _count_parts() -> list[tuple[str, str]]:
    catalog = load_catalog()
    return [
        (exercise.id, part.id)
        for exercise in catalog.exercises.values()
        for part in exercise.parts
        if part.type.name == "integer" and getattr(part.type, "unit", None) == "updates"
    ]


def test_the_count_parts_say_what_they_count():
    assert set(_count_parts()) >= {("updates-per-epoch", p) for p in ("b50", "b200", "b32")}


@pytest.mark.parametrize(("exercise", "part"), _count_parts())
def test_a_count_in_another_unit_is_not_full_credit_and_names_the_unit(catalog, exercise, part):
    for student in STUDENTS:
        typed, _ = hedged_variants(catalog, exercise, part, student)
        for form in UPDATES:
            graded = _graded(catalog, student, exercise, part, form.format(r=typed))
            assert _full(graded), f"{form.format(r=typed)!r}: {graded['feedback']}"
        for form, unit in OTHER_QUANTITIES:
            answer = form.format(r=typed)
            graded = _graded(catalog, student, exercise, part, answer)
            assert not _full(graded) and graded["status"] == "partial", f"{answer!r}: {graded['feedback']}"
            assert graded["score"] == graded["max_score"] / 2
            assert (
                f"{typed} {unit} counts" in graded["feedback"] and "asks for a number of updates" in graded["feedback"]
            )
            assert graded["details"]["unit"] == unit
            wrong = _graded(catalog, student, exercise, part, form.format(r=int(typed) + 5))
            assert wrong["score"] < graded["score"] and f"{unit} counts" in wrong["feedback"]
