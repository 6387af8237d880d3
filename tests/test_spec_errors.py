"""An instructor writes a spec from docs/specs.md alone: every mistake is named at once, in one sentence.

Each test writes a spec folder as an instructor would (``GRADER_EXERCISES``
pointing at it), runs ``grader validate`` or ``grader exercises show`` through
the command's own entry point, and reads what the instructor reads: the
sentence on stderr, the exit code 2, never a traceback. The last tests keep
docs/specs.md's table of functions and filters, and its settings and pages,
in step with the code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.paths import PROJECT_ROOT
from grader.specs import reference
from grader.specs.functions import FUNCTIONS, example
from grader.specs.model import FILTERS

GOOD = """\
id: lr-decay
title: Gradient descent, step by step
prompt: "Run {{steps}} steps of gradient descent on $f(x) = {{f|latex}}$ from $x_0 = {{x0}}$ with $\\\\eta = {{eta}}$."
parameters:
  f: "x**2 + 2"
  x0: {default: 4, choices: [2, 4]}
  eta: {default: 0.25, choices: [0.1, 0.25]}
  steps: 3
parts:
  - id: iterates
    type: sequence
    answer: ANSWER
    step: next_from(gd(eta), f)
    misconceptions:
      - id: sign-error
        answer: iterates(ascent(gd(eta)), f, x0, steps)
        feedback: You moved uphill.
"""


class _Main:
    """CliRunner calls ``grader.cli.main`` (its one-line errors and exit codes) with its own argv."""

    name = "grader"

    def main(self, args: list[str], prog_name: str | None = None, **_: Any) -> None:
        sys.argv = ["grader", *args]
        main()


def grader(*args: str) -> Any:
    result = CliRunner().invoke(_Main(), list(args), catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The instructor's own exercises folder, the one every command reads."""
    folder = tmp_path / "exercises"
    folder.mkdir()
    monkeypatch.setenv("GRADER_EXERCISES", str(folder))
    return folder


def write(folder: Path, text: str, answer: str = "iterates(gd(eta), f, x0, steps)") -> Path:
    path = folder / "lr-decay.yaml"
    path.write_text(text.replace("ANSWER", answer), encoding="utf-8")
    return path


def refused() -> str:
    """What ``grader validate`` says of the folder: exit 2 and one line, the sentence after ``error: ``."""
    result = grader("validate", "--seeds", "2")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")


def test_the_spec_as_written_is_valid(specs: Path) -> None:
    write(specs, GOOD)
    result = grader("validate", "--seeds", "2", "--no-search")
    assert result.exit_code == 0, result.output + result.stderr
    assert "all specs valid" in result.output


# Unknown names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("iterates(gdd(eta), f, x0, steps)", "unknown function 'gdd' (did you mean 'gd'?)"),
        ("iterate(gd(eta), f, x0, steps)", "unknown function 'iterate' (did you mean 'iterates' or 'interval'?)"),
        (
            "iterates(momentun(eta, 0.9), f, x0, steps)",
            "unknown function 'momentun' (did you mean 'momentum' or 'ema_momentum'?)",
        ),
        ("line_search(eta, 3)", "unknown function 'line_search' (docs/specs.md lists the functions a spec can call)"),
        (
            "iterates(gd(eta, schedule=inverse_tim(0.5)), f, x0, steps)",
            "unknown function 'inverse_tim' (did you mean 'inverse_time'?)",
        ),
        ("iterates(gd(etaa), f, x0, steps)", "unknown name 'etaa' (did you mean 'eta'?)"),
        ("iterates(gd(lr), f, x0, steps)", "unknown name 'lr' (the names it may use are eta, f, steps, x0)"),
        ("iterates(adam(eta, bias_correction=false), f, x0, steps)", "unknown name 'false' (did you mean 'False'?)"),
    ],
)
def test_a_misspelt_name_is_named_with_the_nearest_known_ones(specs: Path, answer: str, said: str) -> None:
    write(specs, GOOD, answer)
    assert refused() == f"lr-decay.yaml: lr-decay part iterates answer: {said}"


def test_every_mistake_of_a_spec_is_named_at_once(specs: Path) -> None:
    broken = GOOD.replace("Run {{steps}} steps", "Run {{stpes}} steps").replace("{{f|latex}}", "{{f|tex}}")
    broken = broken.replace("step: next_from(gd(eta), f)", "step: next_from(gdd(eta), f)")
    broken = broken.replace("iterates(ascent(gd(eta)), f, x0, steps)", "iterates(ascent(gdd(etaa)), f, x0, steps)")
    broken = broken.replace("parts:\n", "plot: {function: g, part: iterates}\nparts:\n")
    write(specs, broken, "line_search(eta, 3)")
    assert refused() == (
        "lr-decay.yaml: lr-decay: 6 mistakes: "
        "prompt: unknown name 'stpes' in {{stpes}} (did you mean 'steps'?); "
        "prompt: unknown filter 'tex' in {{f|tex}} (did you mean 'latex'?); "
        "part iterates answer: unknown function 'line_search' (docs/specs.md lists the functions a spec can call); "
        "part iterates step, part iterates misconception sign-error answer: unknown function 'gdd' (did you mean 'gd'?); "
        "part iterates misconception sign-error answer: unknown name 'etaa' (did you mean 'eta'?); "
        "plot.function: unknown parameter 'g' (the parameters are eta, f, steps, x0)"
    )


def test_the_example_in_the_docs_is_what_an_instructor_reads(specs: Path) -> None:
    broken = GOOD.replace("Run {{steps}} steps", "Run {{stpes}} steps")
    broken = broken.replace("step: next_from(gd(eta), f)", "step: next_from(gdd(eta), f)")
    broken += (
        '  - id: adam\n    type: sequence\n    answer: iterates(adam(eta, bias_correction="both"), f, x0, steps)\n'
    )
    write(specs, broken, 'iterates(gd(eta, schedule="step"), f, x0, steps)')
    said = refused()
    docs = (PROJECT_ROOT / "docs" / "specs.md").read_text(encoding="utf-8")
    shown = docs[docs.index("error: lr-decay.yaml") :].split("```")[0]
    assert " ".join(shown.split()) == f"error: {said}"


# Wrong keywords and values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            "iterates(gd(eta, momentum=0.9), f, x0, steps)",
            "gd has no argument 'momentum', only lr, clip_norm, clip_value and schedule",
        ),
        (
            "iterates(adam(eta, bias_corection=False), f, x0, steps)",
            "adam has no argument 'bias_corection' (did you mean 'bias_correction'?), "
            "only lr, beta1, beta2, eps, bias_correction, amsgrad, clip_norm, clip_value, eps_inside, schedule "
            "and weight_decay",
        ),
        (
            "iterates(gd(eta, 0.9), f, x0, steps)",
            "gd takes 1 argument (lr, schedule=None, clip_norm=None, clip_value=None), not 2",
        ),
        ("iterates(gd(eta), f, x0)", "iterates is missing the argument 'steps' (its arguments are rule, f, x0, steps)"),
        ("iterates(gd(lr=eta, lr=0.1), f, x0, steps)", "gd got the argument 'lr' twice"),
    ],
)
def test_a_wrong_keyword_is_one_sentence_naming_the_allowed_ones(specs: Path, answer: str, said: str) -> None:
    write(specs, GOOD, answer)
    message = refused()
    assert message == f"lr-decay.yaml: lr-decay part iterates answer: {said}"
    assert "unexpected keyword" not in message and "positional" not in message  # never Python's own text


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            "iterates(adam(eta, bias_correction='both'), f, x0, steps)",
            "argument 'bias_correction' of adam must be one of True, False, 'm' or 'v', not 'both'",
        ),
        (
            "iterates(adam(eta, bias_correction=0), f, x0, steps)",
            "argument 'bias_correction' of adam must be one of True, False, 'm' or 'v', not 0",
        ),
        (
            "iterates(gd(eta, schedule='step'), f, x0, steps)",
            "argument 'schedule' of gd must be a step-size schedule such as step_decay(0.5, 2) or "
            "inverse_time(0.5), not 'step'",
        ),
        (
            "iterates(adam(eta, amsgrad='yes'), f, x0, steps)",
            "argument 'amsgrad' of adam must be True or False, not 'yes'",
        ),
        ("iterates(gd('fast'), f, x0, steps)", "argument 'lr' of gd must be a number, not 'fast'"),
        ("iterates(gd(eta), f, x0, 2.5)", "argument 'steps' of iterates must be a whole number, not 2.5"),
        (
            "updates_per_epoch(100, 32, drop_last='yes')",
            "argument 'drop_last' of updates_per_epoch must be True or False, not 'yes'",
        ),
    ],
)
def test_a_wrong_value_is_refused_not_taken_as_something_else(specs: Path, answer: str, said: str) -> None:
    write(specs, GOOD, answer)
    assert refused() == f"lr-decay.yaml: lr-decay part iterates answer: {said}"


def test_an_option_must_be_among_the_allowed(specs: Path) -> None:
    (specs / "batch.yaml").write_text(
        "id: batch\ntitle: A mini-batch\nprompt: The gradient of batch {{batch}}.\n"
        "parameters: {grads: [[1, 2], [3, 4], [5, 0]], batch: [1, 3]}\n"
        "parts:\n  - {id: g, type: vector, answer: 'batch_gradient(grads, batch, reduction=\"median\")'}\n",
        encoding="utf-8",
    )
    assert refused() == (
        "batch.yaml: batch part g answer: argument 'reduction' of batch_gradient must be "
        "one of 'mean', 'sum' or 'mean-over-n', not 'median' (did you mean 'mean'?)"
    )


# The same sentence from grader exercises show ------------------------------------------------------------


def test_exercises_show_on_a_broken_spec_says_what_validate_says(specs: Path) -> None:
    write(specs, GOOD, "iterates(gd(eta, momentum=0.9), f, x0, steps)")
    said = refused()
    shown = grader("exercises", "show", "lr-decay")
    assert shown.exit_code == 2
    assert shown.stderr.strip() == f"error: {said}"
    assert said == (
        "lr-decay.yaml: lr-decay part iterates answer: gd has no argument 'momentum', "
        "only lr, clip_norm, clip_value and schedule"
    )


def test_a_value_known_only_per_variant_is_refused_when_the_answer_is_computed(specs: Path) -> None:
    """``bias_correction=bc`` with the parameter ``bc: 1``: today's Adam took it as true."""
    broken = GOOD.replace("  steps: 3\n", "  steps: 3\n  bc: 1\n")
    write(specs, broken, "iterates(adam(eta, bias_correction=bc), f, x0, steps)")
    sentence = (
        "lr-decay.yaml: lr-decay part iterates.answer: argument 'bias_correction' of adam must be "
        "one of True, False, 'm' or 'v', not 1"
    )
    validated = grader("validate", "--seeds", "2", "--no-search")
    assert validated.exit_code == 1
    assert f"FAIL {sentence}" in validated.output
    shown = grader("exercises", "show", "lr-decay")
    assert (shown.exit_code, shown.stderr.strip()) == (2, f"error: {sentence}")
    checked = grader("check", "--exercise", "lr-decay", "--part", "iterates", "--answer", "4, 2, 1, 0.5")
    assert (checked.exit_code, checked.stderr.strip()) == (2, f"error: {sentence}")


def test_an_update_rule_where_a_number_belongs_is_named(specs: Path) -> None:
    write(specs, GOOD, "iterates(eta, f, x0, steps)")
    shown = grader("exercises", "show", "lr-decay")
    assert (shown.exit_code, shown.stderr.strip()) == (
        2,
        "error: lr-decay.yaml: lr-decay part iterates.answer: argument 'rule' of iterates must be an update rule "
        "such as gd(0.1) or adam(0.01), not 0.25",
    )


# docs/specs.md is generated from the code ------------------------------------------------------------------


def test_docs_list_every_function_and_filter_as_the_code_says() -> None:
    text = (PROJECT_ROOT / "docs" / "specs.md").read_text(encoding="utf-8")
    assert reference.stale(text) == [], "run 'grader exercises functions --write' and commit docs/specs.md"
    for name in FUNCTIONS:
        assert f"| `{name}(" in text
    for name in FILTERS:
        assert f"| `{{{{f\\|{name}}}}}` |" in text


def test_every_function_has_a_docstring_and_an_example_that_runs() -> None:
    for name, function in FUNCTIONS.items():
        assert (function.__doc__ or "").strip(), f"{name} has no docstring"
        assert getattr(function, "example", ""), f"{name} has no @example"
        reference.block()  # runs every example: one that fails raises here


def test_a_new_or_changed_function_makes_the_docs_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (PROJECT_ROOT / "docs" / "specs.md").read_text(encoding="utf-8")

    @example("halve(4)")
    def halve(x: float) -> float:
        """Half of x."""
        return x / 2

    monkeypatch.setitem(FUNCTIONS, "halve", halve)
    monkeypatch.setattr(FUNCTIONS["gd"], "example", "gd(0.5)")
    assert reference.stale(text) == ["the row of gd is out of date", "no row for halve"]
    written = reference.replaced(text)
    assert reference.stale(written) == []
    assert "| `halve(x)` | a number | Half of x. | `halve(4)` → `2` |" in written.splitlines()


def test_functions_check_passes_on_the_repository() -> None:
    result = grader("exercises", "functions", "--check")
    assert result.exit_code == 0, result.stderr


def test_docs_name_where_specs_and_data_live_and_every_page() -> None:
    from flask import Flask

    from grader.web import auth, pages

    text = (PROJECT_ROOT / "docs" / "specs.md").read_text(encoding="utf-8")
    settings = text[text.index("## Settings and pages") :]
    for variable in ("GRADER_EXERCISES", "GRADER_DATA", "GRADER_VARIANTS", "GRADER_SECRET", "GRADER_SPEC_RELOAD"):
        assert f"| `{variable}` |" in settings
    app = Flask("routes")
    app.register_blueprint(pages.bp)
    app.register_blueprint(auth.bp)
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in ("pages", "auth")}
    missing = sorted(route for route in routes if f"| `{route}` |" not in settings)
    assert missing == [], f"docs/specs.md's pages table lacks {missing}"
