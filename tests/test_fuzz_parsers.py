"""Every parser of untrusted input, fed arbitrary data: a value or its own error, never anything else, within 2 s.

Numbers, vectors, intervals, labels and expressions have their own properties in
``test_reading.py`` and ``test_expressions.py``. Here: whole submissions through
:func:`grader.grading.grade`, spec files through
:func:`grader.specs.model.load_exercise` (and the answer keys of what loads),
and notebook files through :func:`grader.notebooks.batch.read_notebook`.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.grading import SubmissionError, grade
from grader.notebooks.batch import Notebook, NotebookError, read_notebook
from grader.paths import exercises_dir
from grader.specs.model import Catalog, Exercise, SpecError, load_exercise

SCALE = float(os.environ.get("FUZZ_PARSER_SCALE", "1"))  # more examples: FUZZ_PARSER_SCALE=20 pytest …
STATUSES = {"correct", "partial", "incorrect", "missing", "invalid", "needs_review"}


def _n(examples: int) -> int:
    return max(1, int(examples * SCALE))


FAST = settings(max_examples=_n(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])


TRIED: Counter[str] = Counter()  # inputs fed to each parser in this run


@pytest.fixture(scope="module", autouse=True)
def report_inputs(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module, one line with how many inputs each parser was fed."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and TRIED:
        counts = ", ".join(f"{name}: {n}" for name, n in sorted(TRIED.items()))
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nparser fuzzing: {sum(TRIED.values())} inputs ({counts})")


# Values a student (or a script) can put into a submission -----------------------------

TYPED = st.text(alphabet="0123456789.,;:[]()<>=η eta-−e+/*^xy sqrtlogpi≤", max_size=40)
LEAF = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()  # NaN and ±inf too: Python's json module reads them
    | st.text(max_size=40)
    | TYPED
)
JSON = st.recursive(
    LEAF,
    lambda children: st.lists(children, max_size=8) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


def _deep(depth: int) -> Any:
    value: Any = 1.0
    for _ in range(depth):
        value = [value]
    return value


def _check_result(result: dict[str, Any]) -> None:
    assert 0 <= result["score"] <= result["max_score"] + 1e-9
    for exercise in result["exercises"]:
        for part in exercise["parts"]:
            assert part["status"] in STATUSES
            assert isinstance(part["feedback"], str)
            assert 0 <= part["score"] <= part["max_score"] + 1e-9
    json.dumps(result, allow_nan=False)  # the result is plain, finite JSON: storable and sendable


def _grade_or_refuse(submission: Any, catalog: Catalog) -> dict[str, Any] | None:
    TRIED["submissions"] += 1
    try:
        result = grade(submission, catalog).to_json()
    except SubmissionError as exc:
        assert str(exc)
        result = None
    if result is not None:
        _check_result(result)
    return result


@pytest.fixture(scope="module")
def warm(catalog: Catalog) -> Catalog:
    """Answer keys and symbolic checking computed once, so that the 2 s bound measures the input, not imports."""
    for exercise in catalog.exercises.values():
        grade({"student": "s001", "answers": {exercise.id: {p.id: "x" for p in exercise.parts}}}, catalog).to_json()
    return catalog


@FAST
@given(submission=JSON)
def test_any_json_value_is_graded_or_refused(warm: Catalog, submission: Any) -> None:
    _grade_or_refuse(submission, warm)


def _submissions(catalog: Catalog) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed envelopes (real exercise and part ids, sometimes wrong ones) around arbitrary answers."""
    exercise_ids = sorted(catalog.exercises)

    def answers_for(exercise_id: str) -> st.SearchStrategy[dict[str, Any]]:
        part_ids = [p.id for p in catalog.exercises[exercise_id].parts]
        names = st.sampled_from(part_ids) | st.text(max_size=6)
        values = JSON | st.sampled_from([_deep(40), _deep(2000), [1.0] * 5000, "1, " * 3000, "(" * 500 + "x"])
        return st.dictionaries(names, values, max_size=len(part_ids) + 1)

    answers = st.lists(st.sampled_from(exercise_ids), max_size=4, unique=True).flatmap(
        lambda ids: st.fixed_dictionaries({e: answers_for(e) for e in ids})
    )
    return st.fixed_dictionaries(
        {"answers": answers},
        optional={
            "student": st.sampled_from(["s001", "default", "a" * 128, "a" * 129, "-x", "s 1", "s001\n", ""])
            | st.text(max_size=12),
            "assignment": st.sampled_from([*catalog.assignments, "nope"]) | st.none() | st.integers(),
        },
    )


def test_well_formed_submissions_with_arbitrary_answers(warm: Catalog) -> None:
    @settings(max_examples=_n(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(submission=_submissions(warm))
    def run(submission: dict[str, Any]) -> None:
        result = _grade_or_refuse(submission, warm)
        if result is not None:
            graded = {e["id"] for e in result["exercises"]}
            assert set(submission["answers"]) <= graded

    run()


def test_every_part_reads_every_hostile_answer(warm: Catalog) -> None:
    """Each part of each exercise against a fixed list of nasty answers: graded, not raised."""
    nasty = [
        None,
        True,
        float("nan"),
        float("inf"),
        -float("inf"),
        10**400,
        -(10**400),
        1e308,
        5e-324,
        "",
        " ",
        "\x00",
        "<script>alert(1)</script>",
        '=HYPERLINK("http://x")',
        "__import__('os').system('true')",
        "9**9**9**9",
        "10**10**10",
        "x" * 100_000,
        "(" * 10_000,
        "1e999999",
        "1/0",
        "0/0",
        "[" * 300 + "]" * 300,
        "a" * 5000 + "(",
        _deep(100_000),
        [[1, 2], [3]],
        {"a": 1},
        [None] * 10,
        list(range(100_000)),
        ["x"] * 1000,
    ]
    for exercise in warm.exercises.values():
        for part in exercise.parts:
            for answer in nasty:
                result = _grade_or_refuse({"student": "s001", "answers": {exercise.id: {part.id: answer}}}, warm)
                assert result is not None
                (graded,) = [p for e in result["exercises"] for p in e["parts"] if p["id"] == part.id]
                assert graded["status"] in STATUSES


# Spec files ------------------------------------------------------------------------------

SPEC_FIELDS = ["id", "title", "prompt", "parameters", "derived", "parts", "kind", "code", "source", "plot"]
PART_FIELDS = ["id", "type", "points", "prompt", "answer", "misconceptions", "tolerance", "step", "carried", "call"]
EXPRESSIONS = st.sampled_from(
    [
        "iterates(gd(eta), f, x0, 5)",
        "x - eta * g",
        "neg(g)",
        "9**9**9**9",
        "'a' * 10**12",
        "[1] * 10**10",
        "g[10**30]",
        "g[1:10**20]",
        "__import__('os')",
        "f.__class__",
        "(lambda: 1)()",
        "open('/etc/passwd')",
        "x0 ** 0.5 ** -1",
        "ceil_div(1, 0)",
        "",
    ]
) | st.text(alphabet="abcdefgxyz_0123456789()[]+-*/., '\"", max_size=40)
KEYS = st.text(max_size=8) | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
YAMLISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | EXPRESSIONS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=25,
)
PARTS = st.lists(
    st.dictionaries(
        st.sampled_from(PART_FIELDS),
        st.sampled_from(["number", "vector", "sequence", "interval", "text", "expression"]) | YAMLISH,
        max_size=7,
    ),
    max_size=3,
)
SPECS = st.dictionaries(st.sampled_from(SPEC_FIELDS) | KEYS, YAMLISH, max_size=9) | st.fixed_dictionaries(
    {"id": st.just("fuzz"), "title": st.text(max_size=10), "prompt": st.text(max_size=30), "parts": PARTS},
    optional={"parameters": st.dictionaries(st.sampled_from(["f", "x0", "eta", "g", "_x", "1a"]), YAMLISH)},
)


@pytest.fixture(scope="module")
def real_specs() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(exercises_dir().glob("*.yaml")) if p.name != "course.yaml"]


def _load_spec(path: Path, catalog: Catalog) -> Exercise | None:
    """Load a spec and, when it loads, compute its answer keys for the slides' variant: values or SpecError."""
    TRIED["specs"] += 1
    try:
        exercise = load_exercise(path, catalog.misconceptions)
    except SpecError as exc:
        assert str(exc)
        exercise = None
    if exercise is not None:
        fresh = Catalog({exercise.id: exercise}, {}, catalog.misconceptions, per_student=False, secret="s")
        try:
            fresh.keys(exercise, fresh.variant(exercise))
            if exercise.kind == "code":
                fresh.calls(exercise, fresh.variant(exercise))
        except SpecError as exc:
            assert str(exc)
    return exercise


def _write(folder: Path, text: str | bytes) -> Path:
    path = folder / "fuzz.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def test_any_yaml_mapping_loads_or_is_a_spec_error(tmp_path: Path, catalog: Catalog) -> None:
    @FAST
    @given(spec=SPECS)
    def run(spec: dict[str, Any]) -> None:
        loaded = _load_spec(_write(tmp_path, yaml.safe_dump(spec, allow_unicode=True)), catalog)
        if loaded is not None:
            assert loaded.id == spec["id"]

    run()


def test_real_specs_with_one_field_replaced(tmp_path: Path, catalog: Catalog, real_specs: list[dict]) -> None:
    """The lecture's own specs, each with one field somewhere replaced by an arbitrary value."""

    def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
        found = [prefix] if prefix else []
        if isinstance(node, dict):
            for key, value in node.items():
                found += paths(value, (*prefix, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found += paths(value, (*prefix, index))
        return found

    @settings(max_examples=_n(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(index=st.integers(0, len(real_specs) - 1), choice=st.integers(0, 10**6), value=YAMLISH)
    def run(index: int, choice: int, value: Any) -> None:
        spec = copy.deepcopy(real_specs[index])
        where = paths(spec)
        path = where[choice % len(where)]
        node = spec
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        _load_spec(_write(tmp_path, yaml.safe_dump(spec, allow_unicode=True)), catalog)

    run()


def test_any_text_or_bytes_as_a_spec_file(tmp_path: Path, catalog: Catalog) -> None:
    @FAST
    @given(
        raw=st.binary(max_size=300) | st.text(max_size=300) | st.text(alphabet="{}[]:-&*!|>'\"#%@ \nab1", max_size=120)
    )
    def run(raw: str | bytes) -> None:
        assert _load_spec(_write(tmp_path, raw), catalog) is None or True  # loads or SpecError; nothing else

    run()


def test_yaml_bombs_and_python_tags_are_refused(tmp_path: Path, catalog: Catalog) -> None:
    """Python object tags are not constructed; a billion-laughs alias tree is refused or bounded."""
    attacks = [
        "!!python/object/apply:os.system ['touch /tmp/pwned-by-spec']\n",
        "id: x\ntitle: !!python/name:os.system\nprompt: p\nparts: []\n",
        "a: &a ['x','x','x','x','x','x','x','x','x']\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
            for i in range(8)
        ),
        "- " * 5000 + "x\n",
        "[" * 5000 + "]" * 5000 + "\n",
    ]
    for text in attacks:
        assert _load_spec(_write(tmp_path, text), catalog) is None
    assert not Path("/tmp/pwned-by-spec").exists()


@pytest.mark.parametrize(
    "expression",
    [
        "9**9**9**9",
        "2**10**8",
        "'a' * 10**12",
        "x0 * 'a'",
        "iterates(gd(eta), f, x0, 10**9)",
        "-" * 100_000 + "1",
        "+".join(["1"] * 50_000),
        "(" * 1000 + "1" + ")" * 1000,
        "f\x00",
        "__import__('os').system('true')",
        "f.__class__",
        "[c for c in f]",
        "(lambda: 1)()",
    ],
)
def test_hostile_spec_expressions_are_refused_quickly(tmp_path: Path, catalog: Catalog, expression: str) -> None:
    spec = {
        "id": "hostile",
        "title": "t",
        "prompt": "p",
        "parameters": {"f": "x**2 + 2", "x0": 4, "eta": 0.25},
        "parts": [{"id": "a", "type": "number", "answer": expression}],
    }
    path = _write(tmp_path, yaml.safe_dump(spec))
    with pytest.raises(SpecError):
        exercise = load_exercise(path, catalog.misconceptions)
        fresh = Catalog({exercise.id: exercise}, {}, {}, per_student=False, secret="s")
        fresh.keys(exercise, fresh.variant(exercise))


# Notebook files --------------------------------------------------------------------------

CELL = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw", "other"]) | JSON},
    optional={
        "source": st.text(max_size=60) | st.lists(st.text(max_size=20), max_size=4) | JSON,
        "metadata": st.dictionaries(st.text(max_size=5), JSON, max_size=2) | JSON,
        "outputs": st.lists(JSON, max_size=3) | JSON,
        "execution_count": st.none() | st.integers() | JSON,
        "id": st.text(max_size=10) | JSON,
    },
)
NOTEBOOKS = st.fixed_dictionaries(
    {"cells": st.lists(CELL, max_size=4) | JSON},
    optional={
        "metadata": st.fixed_dictionaries(
            {},
            optional={"grader": st.dictionaries(st.sampled_from(["student", "assignment", "x"]), JSON) | JSON},
        )
        | JSON,
        "nbformat": st.sampled_from([4, 3, 5, 1, "4"]) | JSON,
        "nbformat_minor": st.integers(-2, 10) | JSON,
        "worksheets": JSON,
    },
)


def _read_or_refuse(data: bytes) -> Notebook | None:
    TRIED["notebooks"] += 1
    try:
        notebook = read_notebook(data)
    except NotebookError as exc:
        assert str(exc)
        notebook = None
    if notebook is not None:
        assert all(isinstance(cell, str) for cell in notebook.cells)
        assert len(notebook.positions) == len(notebook.cells)
        assert notebook.student is None or isinstance(notebook.student, str)
        assert notebook.assignment is None or isinstance(notebook.assignment, str)
    return notebook


@FAST
@given(data=st.binary(max_size=2000))
def test_any_bytes_are_a_notebook_or_a_notebook_error(data: bytes) -> None:
    _read_or_refuse(data)


@FAST
@given(value=JSON)
def test_any_json_document_is_a_notebook_or_a_notebook_error(value: Any) -> None:
    _read_or_refuse(json.dumps(value).encode())


@pytest.mark.filterwarnings("ignore:Non-unique cell id")  # nbformat repairs duplicate ids, and says so
@settings(max_examples=_n(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notebook=NOTEBOOKS)
def test_notebook_shaped_json_is_read_or_refused(notebook: dict[str, Any]) -> None:
    read = _read_or_refuse(json.dumps(notebook).encode())
    cells = notebook.get("cells")
    if read is not None and isinstance(cells, list):
        assert len(read.cells) <= len(cells)


def test_hostile_notebook_files() -> None:
    big_string = json.dumps({"cells": [], "metadata": {"x": "a" * (19 * 2**20)}, "nbformat": 4, "nbformat_minor": 5})
    for data in [
        b"",
        b"\xff\xfe\x00",
        b"\x1f\x8b\x08\x00" + b"\x00" * 100,  # a gzip header: not inflated, not JSON
        b"PK\x03\x04" + b"\x00" * 100,  # a zip file
        b"[" * 100_000 + b"]" * 100_000,
        b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"9" * 100_000,
        json.dumps({"cells": [{"cell_type": "code", "source": "x=1"}] * 3, "nbformat": 4}).encode(),
        json.dumps({"cells": "nope", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode(),
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {"grader": "x"}, "cells": [1, None]}).encode(),
        big_string.encode(),
        b"a" * (21 * 2**20),
    ]:
        _read_or_refuse(data)


def test_finite_results_only(warm: Catalog) -> None:
    """Non-finite numbers a script might send are graded without leaking NaN into the result."""
    result = grade({"student": "s001", "answers": {"gd-parabola": {"iterates": [math.nan] * 6}}}, warm).to_json()
    _check_result(result)
