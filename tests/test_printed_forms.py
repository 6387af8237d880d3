"""What tools and people print, read as right: every reference answer in every source's own forms.

tests/printed_forms.py renders each reference answer of the course (every part of every exercise whose
reference is a number, count, vector, sequence, matrix, interval or labels) the way each source prints it:
Python, numpy, PyTorch, JAX, pandas and sympy; R; Julia; MATLAB and Octave; calculators; spreadsheets;
LaTeX; Markdown; phone keyboards; PDF copies; plain text drawn by hand; sentences in English, German,
French and Spanish. Graded through ``grader.grading.grade``:

- each form of a right answer gets full credit (a tool that prints fewer than 3 significant figures of a
  value, such as PyTorch's ``0.0026`` for 0.00256, gets what any answer that coarse gets, and says so);
- the same form of a perturbed value (one number moved, an interval's end moved, a label changed) does not;
- over random values, each source's printing reads back to the values it printed (hypothesis);
- a tool's printing that still cannot be read is refused naming the tool ("this looks like Julia output").
"""

from __future__ import annotations

import re
from typing import Any

import printed_forms as pf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.checking.compare import Tolerance, Verdict, compare_number
from grader.checking.reading import (
    ReadError,
    read_interval,
    read_labels,
    read_matrix,
    read_number,
    read_sequence,
    read_vector,
)
from grader.grading import grade
from grader.specs.model import load_catalog

STUDENTS = ("default", "s001")
AIM = 0.98  # of the forms tools and people print, read as right


@pytest.fixture(scope="module")
def catalog():
    catalog = load_catalog()
    catalog.per_student, catalog.secret = True, "printed-forms"  # several variants, the same on every machine
    return catalog


def _parts() -> list[tuple[str, str]]:
    catalog = load_catalog()
    return sorted({(exercise, part) for _, exercise, part, _ in pf.references(catalog)})


def _graded(catalog: Any, student: str, exercise: str, part: str, answer: Any) -> dict[str, Any]:
    result = grade({"student": student, "answers": {exercise: {part: answer}}}, catalog).to_json()
    return next(p for p in result["exercises"][0]["parts"] if p["id"] == part)


def _full(graded: dict[str, Any]) -> bool:
    return graded["status"] == "correct" and graded["score"] == graded["max_score"]


_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\d.]*e)")


def _too_coarse(text: str, graded: dict[str, Any]) -> bool:
    """A tool printed a value to fewer than 3 significant figures (0.0026), and the feedback says so."""
    coarse = any(len(d.replace(".", "").lstrip("0")) < 3 for d in _DECIMAL.findall(text) if float(d))
    return coarse and graded["status"] == "partial" and "too coarsely" in graded["feedback"]


def _references(catalog: Any, exercise: str, part: str) -> list[tuple[str, pf.Reference]]:
    chosen = catalog.exercises[exercise]
    out = []
    for student in STUDENTS:
        key = next(k for k in catalog.keys(chosen, catalog.variant(chosen, student)) if k.part == part)
        out.append((student, pf.reference_of(key, chosen.part(part))))
    return out


def test_every_source_prints_the_kinds_it_has():
    """One generator per source, each printing every kind it has a way to print."""
    samples = {
        "number": pf.Reference("number", 2.48, "x_1"),
        "integer": pf.Reference("integer", 24.0, "n", unit="updates"),
        "vector": pf.Reference("vector", [3.5, 2.0]),
        "sequence": pf.Reference("sequence", [4.0, 2.0, 1.0, 0.5]),
        "points": pf.Reference("points", [[3.0, 2.0], [2.25, 1.0]]),
        "matrix": pf.Reference("matrix", [[6.0, 0.0], [0.0, 2.0]]),
        "interval": pf.Reference("interval", pf.Interval(0.0, 1.0, False, False)),
        "labels": pf.Reference("labels", ["minimum", "saddle"], options=("minimum", "maximum", "saddle")),
    }
    assert len(pf.SOURCES) >= 12
    numbers = {"number", "integer", "vector", "sequence", "points", "matrix"}
    for source, generate in pf.SOURCES.items():
        printed = {kind for kind, sample in samples.items() if generate(sample)}
        assert printed >= numbers, f"{source} prints no {numbers - printed}"
    printing_intervals = {s for s, g in pf.SOURCES.items() if g(samples["interval"])}
    printing_labels = {s for s, g in pf.SOURCES.items() if g(samples["labels"])}
    assert printing_intervals >= {"Python", "R", "Julia", "MATLAB/Octave", "LaTeX", "Markdown", "phone", "prose"}
    assert printing_labels >= {"Python", "R", "Julia", "MATLAB/Octave", "spreadsheet", "LaTeX", "Markdown", "prose"}


def test_every_kind_of_value_part_is_covered():
    kinds = {ref.kind for _, _, _, ref in pf.references(load_catalog())}
    assert kinds >= {"number", "integer", "vector", "sequence", "matrix", "interval", "labels"}


@pytest.mark.parametrize(("exercise", "part"), _parts())
def test_every_printed_form_of_a_right_answer_is_read_as_right(catalog, exercise, part):
    failures = []
    for student, reference in _references(catalog, exercise, part):
        for form in pf.forms(reference):
            graded = _graded(catalog, student, exercise, part, form.text)
            if not _full(graded) and not _too_coarse(form.text, graded):
                failures.append(
                    f"{student} {form.source} {form.form} {form.text!r}: {graded['status']} {graded['feedback']}"
                )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("exercise", "part"), _parts())
def test_a_perturbed_value_in_the_same_form_is_not_full_credit(catalog, exercise, part):
    credited = []
    for student, reference in _references(catalog, exercise, part)[:1]:
        right = {(f.source, f.form): f.text for f in pf.forms(reference)}
        for form in pf.forms(pf.perturbed(reference)):
            if right.get((form.source, form.form)) == form.text:
                continue  # a form that cannot show the change (none today)
            graded = _graded(catalog, student, exercise, part, form.text)
            if _full(graded):
                credited.append(f"{student} {form.source} {form.form} {form.text!r}: {graded['feedback']}")
    assert not credited, "\n".join(credited)


def test_the_rates_meet_the_aim(catalog):
    """At least 98 % of the printed forms of right answers read as right, over every part (default variant)."""
    read = total = 0
    for student, exercise, part, reference in pf.references(catalog):
        for form in pf.forms(reference):
            read += _full(_graded(catalog, student, exercise, part, form.text))
            total += 1
    assert total >= 1500
    assert read >= AIM * total, f"{read}/{total}"


# Random values, each source's printing read back ------------------------------------------------------------


def _value(draw: Any) -> float:
    decimals = draw(st.integers(0, 3))
    bound = 1000 * 10**decimals - 1
    units = draw(st.integers(-bound, bound).filter(lambda n: n == 0 or abs(n) >= 10 ** max(decimals - 3, 0)))
    return units / 10**decimals


@st.composite
def values(draw: Any, size: int) -> list[float]:
    return [_value(draw) for _ in range(size)]


def _same(read: Any, value: Any) -> bool:
    """Read as printed: each number equal to the value at the precision it was printed with."""
    if isinstance(value, list):
        return isinstance(read, list) and len(read) == len(value) and all(map(_same, read, value))
    return compare_number(read, value, Tolerance(min_digits=1)) is Verdict.MATCH


_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3},\d{3}(?![\d,])")


def _read_back(kind: str, value: Any, read: Any) -> list[str]:
    failures = []
    for form in pf.forms(pf.Reference(kind, value)):
        try:
            got = read(form.text)
        except ReadError as exc:
            if _THOUSANDS.search(form.text) and "thousands" in str(exc):
                continue  # 1,234 with a decimal comma could be 1234: refused showing both, rightly
            failures.append(f"{form.source} {form.form} {form.text!r}: {exc}")
            continue
        if not _same(got, value):
            failures.append(f"{form.source} {form.form} {form.text!r}: read as {got}")
    return failures


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_printed_numbers_read_back(data):
    value = _value(data.draw)
    assert not _read_back("number", value, read_number)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 5).flatmap(values))
def test_printed_vectors_and_sequences_read_back(numbers):
    assert not _read_back("vector", numbers, lambda text: read_vector(text, len(numbers)))
    if len(numbers) >= 2:
        assert not _read_back("sequence", numbers, read_sequence)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(2, 3), st.integers(2, 3))
def test_printed_matrices_read_back(data, rows, columns):
    matrix = [data.draw(values(columns)) for _ in range(rows)]
    assert not _read_back("matrix", matrix, lambda text: read_matrix(text, (rows, columns)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(2, 4))
def test_printed_points_read_back(data, count):
    points = [data.draw(values(2)) for _ in range(count)]
    assert not _read_back("points", points, lambda text: read_sequence(text, 2))


LEARNING_RATE = ("slow-monotone", "fast", "oscillating-converging", "oscillating-stuck", "diverging")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(LEARNING_RATE), min_size=5, max_size=5))
def test_printed_labels_read_back_in_any_language(labels):
    part = load_catalog().exercises["learning-rate"].part("classify")
    options = (*part.type.labels, *part.type.aliases)
    reference = pf.Reference("labels", labels, cases=("0.05", "0.25", "0.75", "1", "1.5"), options=LEARNING_RATE)
    failures = []
    for form in pf.forms(reference):
        try:
            read = read_labels(form.text, 5, options=options, cases=reference.cases)
        except ReadError as exc:
            failures.append(f"{form.source} {form.form} {form.text!r}: {exc}")
            continue
        if [part.type.aliases.get(label, label) for label in read] != labels:
            failures.append(f"{form.source} {form.form} {form.text!r}: read as {read}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("low", "high", "low_closed", "high_closed"),
    [(0, 1, False, False), (0, 2, True, True), (0, 1, True, False), (-1, 0.5, False, True)],
)
def test_printed_intervals_read_back(low, high, low_closed, high_closed):
    interval = pf.Interval(low, high, low_closed, high_closed)
    for form in pf.forms(pf.Reference("interval", interval)):
        read = read_interval(form.text)
        assert (read.low, read.high, read.low_closed, read.high_closed) == (low, high, low_closed, high_closed), form


# What still cannot be read names what it looks like ------------------------------------------------------------


@pytest.mark.parametrize(
    ("reader", "answer", "tool"),
    [
        (
            lambda t: read_matrix(t, (2, 2)),
            "2×2 Diagonal{Float64, Vector{Float64}}:\n 6.0   ⋅ \n  ⋅   2.0",
            "Julia output",
        ),
        (lambda t: read_vector(t, 2), "[[1]]\n[1] 3.5\n\n[[2]]\n[1] 2", "R output"),
        (lambda t: read_vector(t, 2), "     [,1] [,2]\n[1,]  3.5 <NA>", "R output"),
        (lambda t: read_vector(t, 2), "x =\n\n    3.5000    NaN + 2i\n", "MATLAB or Octave output"),
        (read_sequence, "tensor([4.0000, 2.0000,  ..., 0.2500, 0.1250])", "PyTorch output"),
        (read_number, "Matrix([[2.48, x]])", "sympy output"),
        (lambda t: read_sequence(t), "{4 2 1 ⁻.5 ⁻}", "a TI calculator's screen"),
    ],
)
def test_a_printed_form_that_cannot_be_read_names_what_it_looks_like(reader, answer, tool):
    with pytest.raises(ReadError) as refused:
        reader(answer)
    message = str(refused.value)
    assert f"this looks like {tool}" in message and "only" in message, message


def test_the_refusal_reaches_the_student_with_an_accepted_form(catalog):
    graded = _graded(catalog, "default", "stationary-points", "hessian", "2×2 Diagonal{Float64}:\n 6.0  ⋅\n ⋅  2.0")
    assert graded["status"] == "invalid"
    assert "this looks like Julia output: write the rows of numbers only" in graded["feedback"]
    assert "like [[" in graded["feedback"]
