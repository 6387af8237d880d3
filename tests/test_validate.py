"""``grader validate`` proves the rules it relies on: step and carried rules, grouped failures, YAML places."""

from pathlib import Path

import pytest

from grader.specs.model import SpecError, load_exercise
from grader.specs.validate import validate_paths

ADAM_RUN = """\
id: adam-run
title: Three steps of Adam
prompt: Run Adam.
parameters:
  f: "x**2 + 2"
  x0: {default: 4, choices: [4, 2, -3]}
  lr: {default: 0.5, choices: [0.5, 0.25]}
parts:
  - id: iterates
    type: sequence
    answer: iterates(adam(lr), f, x0, 3)
    step: STEP
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_step_rule_of_another_optimizer_fails_validation(tmp_path: Path) -> None:
    spec = write(tmp_path, "adam-run.yaml", ADAM_RUN.replace("STEP", "next_from(gd(lr), f)"))
    report = validate_paths([spec], seeds=4, search=False)
    assert len(report.failures) == 1, report.failures
    (failure,) = report.failures
    assert failure.startswith("adam-run.yaml: adam-run part iterates: its step rule does not reproduce the reference")
    assert "in the default variant and 4 seeds" in failure


def test_the_right_step_rule_passes(tmp_path: Path) -> None:
    spec = write(tmp_path, "adam-run.yaml", ADAM_RUN.replace("STEP", "next_from(adam(lr), f)"))
    report = validate_paths([spec], seeds=4, search=False)
    assert report.failures == []
    assert report.checked["steps"] >= 1


def test_a_carried_rule_that_does_not_give_the_reference_fails(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        "two-parts.yaml",
        """\
id: two-parts
title: A step and its point
prompt: p
parameters: {g: {default: [1, 2], choices: [[1, 2], [3, 1]]}, x: [4, 3], eta: 0.5}
parts:
  - {id: direction, type: vector, answer: neg(g)}
  - {id: new-point, type: vector, answer: x - eta * g, carried: 'x - eta * student("direction")'}
""",
    )
    report = validate_paths([spec], seeds=6, search=False)
    (failure,) = report.failures
    assert "part new-point: its carried rule does not reproduce the reference" in failure


def test_the_same_failure_in_many_seeds_is_reported_once_with_the_count(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "exercises" / "updates-per-epoch.yaml").read_text()
    spec = write(
        tmp_path, "u.yaml", text.replace("answer: n / b_odd", "answer: updates_per_epoch(n, b_odd, drop_last=True)")
    )
    report = validate_paths([spec], seeds=30, search=False)
    assert len(report.failures) == 1
    assert (
        "misconception not-an-integer's answer is drop-last-batch's, so only drop-last-batch is named there"
        in (report.failures[0])
    )
    assert "in the default variant and 30 seeds (0, 1, 2, 3, 4, …)" in report.failures[0]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("id: broken\ntitle: [unclosed\n", "at line 3, column 1"),
        ("id: b\ntitle: x\n  prompt: y\n", "at line 3, column 9: mapping values are not allowed"),
        ("id: b\nparts:\n  - id: a\n   type: number\n", "at line 4"),
    ],
)
def test_a_yaml_syntax_error_names_line_and_column(tmp_path: Path, text: str, place: str) -> None:
    with pytest.raises(SpecError, match="not valid YAML") as info:
        load_exercise(Path(write(tmp_path, "broken.yaml", text)))
    assert place in str(info.value)
    assert str(info.value).startswith("broken.yaml: ")


def test_validate_lists_the_catalogue_changes_told_apart_in_every_variant(tmp_path: Path) -> None:
    spec = write(tmp_path, "adam-run.yaml", ADAM_RUN.replace("STEP", "next_from(adam(lr), f)"))
    report = validate_paths([spec], seeds=3)
    listed = set(report.searchable["adam-run/iterates"])
    assert {"sign-error", "no-bias-correction", "adam-t-from-zero", "missing-start", "one-step-too-many"} <= listed
    assert "ema-momentum" not in listed  # Adam has no momentum buffer to turn into an EMA
    assert "searched: adam-run/iterates: " in report.text()
