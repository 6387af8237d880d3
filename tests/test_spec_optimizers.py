"""The optimizers of a deep-learning course written as specs, and validate that says what would go wrong.

Each test is something an instructor writes from docs/specs.md alone: a step-size schedule, gradient
clipping, Adam's variants, gradients and Hessians of several variables, the gradient of a loss over a data
set, formulas built from parameters; and what ``grader validate`` must say about a misconception that
coincides with the reference or with another rule in some variants. The expected values are worked out
here by hand from the formulas (the student's procedure in plain Python), never by the optimizer core.
Each of the silent wrongs the issue lists (∂f/∂x given as "∇f", ``log(1 + exp(1x))`` in a prompt, the
gradient typed where the Hessian is asked read as "invalid", a vector rule equal to the reference in some
variants passing with a note) is a test here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from grader.grading import grade
from grader.specs import functions
from grader.specs.model import Catalog, SpecError, load_catalog, load_exercise
from grader.specs.validate import validate_paths


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(None)


def graded(catalog: Catalog, exercise: str, part: str, answer: Any, student: str = "default") -> dict[str, Any]:
    results = grade({"student": student, "answers": {exercise: {part: answer}}}, catalog).to_json()
    return next(p for p in results["exercises"][0]["parts"] if p["id"] == part)


def spec_catalog(tmp_path: Path, text: str) -> Catalog:
    """A catalog of one spec written by an instructor (the course's misconception entries included)."""
    base = load_catalog(None)
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    exercise = load_exercise(path, base.misconceptions)
    return Catalog({exercise.id: exercise}, {}, base.misconceptions, False, "test")


def validated(tmp_path: Path, text: str, seeds: int = 10) -> Any:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return validate_paths([str(path)], seeds=seeds, search=False)


def gd_run(rates: list[float], x0: float) -> list[float]:
    """GD on x² + 1 (f' = 2x) with the given rate for each update."""
    xs = [x0]
    for eta in rates:
        xs.append(xs[-1] - eta * 2 * xs[-1])
    return xs


# Step-size schedules ---------------------------------------------------------------------------------------

# gd-schedule's slides: η = 0.4 halved every 2 updates → 0.4, 0.4, 0.2, 0.2, 0.1 from x₀ = 4.
RATES = [0.4, 0.4, 0.2, 0.2, 0.1]
SCHEDULED = gd_run(RATES, 4.0)  # 4, 0.8, 0.16, 0.096, 0.0576, 0.04608


def test_a_schedule_gives_the_rates_and_the_run(catalog: Catalog) -> None:
    assert SCHEDULED == pytest.approx([4, 0.8, 0.16, 0.096, 0.0576, 0.04608])
    assert graded(catalog, "gd-schedule", "rates", "0.4, 0.4, 0.2, 0.2, 0.1")["status"] == "correct"
    assert graded(catalog, "gd-schedule", "iterates", SCHEDULED)["status"] == "correct"
    typed = "4, 0.8, 0.16, 0.096, 0.0576, 0.04608"
    assert graded(catalog, "gd-schedule", "iterates", typed)["status"] == "correct"


@pytest.mark.parametrize(
    ("answer", "misconception"),
    [
        (gd_run([0.4] * 5, 4.0), "no-schedule"),  # η kept at 0.4
        (gd_run([0.4, 0.2, 0.2, 0.1, 0.1], 4.0), "schedule-off-by-one"),  # t counted from 1
        ([4.0, *(x for x in gd_run([-r for r in RATES], 4.0)[1:])], "sign-error"),
        (gd_run([2 * r for r in RATES], 4.0), "doubled-eta"),  # no rule written: the catalogue's search
    ],
)
def test_a_schedules_mistakes_are_named(catalog: Catalog, answer: list[float], misconception: str) -> None:
    part = graded(catalog, "gd-schedule", "iterates", answer)
    assert part["misconception"] == misconception, part
    assert part["score"] < part["max_score"]


def test_one_slip_in_a_scheduled_run_is_penalised_once(catalog: Catalog) -> None:
    # x₂ written 0.2 instead of 0.16; then from 0.2 with η₂ = 0.2, η₃ = 0.2, η₄ = 0.1: 0.12, 0.072, 0.0576.
    part = graded(catalog, "gd-schedule", "iterates", [4, 0.8, 0.2, 0.12, 0.072, 0.0576])
    assert part["status"] == "partial" and part["score"] == pytest.approx(4 * 5 / 6, abs=1e-3)
    assert part["details"]["first_wrong_step"] == 2
    assert "later steps follow correctly" in part["feedback"]


def test_a_rule_option_that_is_no_schedule_is_refused_when_the_spec_loads(tmp_path: Path) -> None:
    text = SCHEDULE_SPEC.replace("schedule=inverse_time(1)", "schedule='inverse time'")
    with pytest.raises(SpecError, match="argument 'schedule' of gd must be a step-size schedule"):
        spec_catalog(tmp_path, text)


SCHEDULE_SPEC = """\
id: decayed
title: Inverse-time decay
prompt: GD on x**2 + 1 from 4 with eta_t = 0.25/(1 + t).
parameters: {f: "x**2 + 1", x0: 4, eta: 0.25}
parts:
  - {id: iterates, type: sequence, answer: "iterates(gd(eta, schedule=inverse_time(1)), f, x0, 3)",
     step: "next_from(gd(eta, schedule=inverse_time(1)), f)"}
"""


def test_inverse_time_decay_by_hand(tmp_path: Path) -> None:
    # η_t = 0.25/(1 + t): 0.25, 0.125, 1/12; x ← x(1 − 2η_t): 4 → 2 → 1.5 → 1.25.
    catalog = spec_catalog(tmp_path, SCHEDULE_SPEC)
    assert graded(catalog, "decayed", "iterates", "4, 2, 1.5, 1.25")["status"] == "correct"
    # The catalogue knows a schedule left out (η = 0.25 throughout: 4, 2, 1, 0.5) without a written rule.
    assert graded(catalog, "decayed", "iterates", "4, 2, 1, 0.5")["misconception"] == "no-schedule"


# Gradient clipping --------------------------------------------------------------------------------------------

# clipped-sgd's slides: f = x² + 2y², ∇f = [2x, 4y], x₀ = [3, 2], η = 0.25, c = 5.
# ∇f(x₀) = [6, 8], ‖·‖ = 10 > 5: clipped to [3, 4]; x₁ = [3 − 0.75, 2 − 1] = [2.25, 1].
# ∇f(x₁) = [4.5, 4], ‖·‖ = √36.25 > 5: clipped to 5/√36.25·[4.5, 4].
SCALE = 0.25 * 5 / math.sqrt(36.25)
CLIPPED = [[3.0, 2.0], [2.25, 1.0], [2.25 - SCALE * 4.5, 1.0 - SCALE * 4]]


def test_clipping_by_norm_by_hand(catalog: Catalog) -> None:
    assert graded(catalog, "clipped-sgd", "norm", "10")["status"] == "correct"
    assert graded(catalog, "clipped-sgd", "clipped", "[3, 4]")["status"] == "correct"
    assert graded(catalog, "clipped-sgd", "iterates", CLIPPED)["status"] == "correct"


@pytest.mark.parametrize(
    ("part", "answer", "misconception"),
    [
        ("norm", "100", "norm-squared"),
        ("clipped", "[6, 8]", "no-clipping"),
        ("clipped", "[5, 5]", "clip-by-value-for-norm"),
        # Not clipped: [1.5, 0], then ∇f = [3, 0]: [0.75, 0].
        ("iterates", [[3, 2], [1.5, 0], [0.75, 0]], "no-clipping"),
        # Each component clipped to [−5, 5]: [5, 5] → [1.75, 0.75]; ∇f = [3.5, 3] stays → [0.875, 0].
        ("iterates", [[3, 2], [1.75, 0.75], [0.875, 0]], "clip-by-value-for-norm"),
    ],
)
def test_clipping_mistakes_are_named(catalog: Catalog, part: str, answer: Any, misconception: str) -> None:
    assert graded(catalog, "clipped-sgd", part, answer)["misconception"] == misconception


def test_a_slip_in_a_clipped_run_of_points_is_carried_forward(catalog: Catalog) -> None:
    # x₁ written [2.5, 1] (a slip); from it ∇f = [5, 4], ‖·‖ = √41 > 5, x₂ = [2.5, 1] − 0.25·5/√41·[5, 4].
    scale = 0.25 * 5 / math.sqrt(41)
    part = graded(catalog, "clipped-sgd", "iterates", [[3, 2], [2.5, 1], [2.5 - scale * 5, 1 - scale * 4]])
    assert part["status"] == "partial" and part["details"]["first_wrong_step"] == 1
    assert part["score"] == pytest.approx(3 * 2 / 3, abs=1e-3)


# Adam with and without bias correction ----------------------------------------------------------------------


def adam_by_hand(x0: float, lr: float, correct: str, steps: int = 2) -> list[float]:
    """Adam on x² + 2 (g = 2x), β = (0.9, 0.999), ε = 1e-8; ``correct`` the moments divided by 1 − βᵗ."""
    xs, m, v = [x0], 0.0, 0.0
    for t in range(1, steps + 1):
        g = 2 * xs[-1]
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        m_hat = m / (1 - 0.9**t) if "m" in correct else m
        v_hat = v / (1 - 0.999**t) if "v" in correct else v
        xs.append(xs[-1] - lr * m_hat / (math.sqrt(v_hat) + 1e-8))
    return xs


def test_adam_with_and_without_bias_correction_by_hand(catalog: Catalog) -> None:
    assert graded(catalog, "adam-bias", "iterates", adam_by_hand(1, 0.1, "mv"))["status"] == "correct"
    # Without: the first step is 0.1·0.2/√0.004 = √10/10 ≈ 0.316, not 0.1.
    uncorrected = adam_by_hand(1, 0.1, "")
    assert uncorrected[1] == pytest.approx(1 - math.sqrt(10) / 10)
    assert graded(catalog, "adam-bias", "uncorrected", uncorrected)["status"] == "correct"
    assert graded(catalog, "adam-bias", "uncorrected", "1, 0.6838, 0.2702")["status"] == "correct"


@pytest.mark.parametrize(
    ("correct", "misconception"),
    [("", "no-bias-correction"), ("m", "bias-correction-m-only"), ("v", "bias-correction-v-only")],
)
def test_each_adam_variant_is_a_misconception(catalog: Catalog, correct: str, misconception: str) -> None:
    part = graded(catalog, "adam-bias", "iterates", adam_by_hand(1, 0.1, correct))
    assert part["misconception"] == misconception and part["score"] < part["max_score"]


def test_the_bias_corrected_run_where_the_uncorrected_one_is_asked(catalog: Catalog) -> None:
    assert graded(catalog, "adam-bias", "uncorrected", adam_by_hand(1, 0.1, "mv"))["misconception"] == "bias-corrected"


# Gradients and Hessians of several variables ------------------------------------------------------------------


def test_derivative_of_two_variables_is_refused_not_the_partial_in_x() -> None:
    """Today derivative("x**2 + 10*y**2") gave "2*x", and the prompt said ∇f = 2x."""
    with pytest.raises(ValueError, match=r"one variable.*x and y.*gradient\(f\)"):
        functions.derivative("x**2 + 10*y**2")
    assert functions.gradient("x**2 + 10*y**2") == ["2*x", "20*y"]
    assert functions.hessian("x**2 + 10*y**2") == [["2", "0"], ["0", "20"]]
    assert functions.derivative("x**3 + 2*x") == "3*x**2 + 2"


def test_a_spec_taking_the_derivative_of_two_variables_names_it(tmp_path: Path) -> None:
    text = """\
id: ravine
title: A ravine
prompt: "f = {{f|latex}}, f' = {{df|latex}}"
parameters: {f: "x**2 + 10*y**2", x0: [1, 1]}
derived: {df: derivative(f)}
parts:
  - {id: g, type: vector, answer: "gradient(f, x0)"}
"""
    report = validated(tmp_path, text, seeds=1)
    assert any("derivative(f) is for a function of one variable" in failure for failure in report.failures)


def test_the_gradient_of_two_variables_is_shown_whole_in_the_prompt(catalog: Catalog) -> None:
    exercise = catalog.exercise("momentum-ravine")
    prompt = catalog.prompt(exercise, catalog.variant(exercise))["prompt"]
    assert r"\nabla f = \begin{pmatrix} 2 x \\ 20 y \end{pmatrix}" in prompt


def test_the_gradient_where_the_hessian_is_asked_is_named_not_unreadable(catalog: Catalog) -> None:
    """Today a vector typed for a matrix part was "invalid: not a 2×2 matrix", whatever it was."""
    # g = log(1 + eˣ) + xy² at (0, 1): ∇g = [σ(0) + y², 2xy] = [1.5, 0]; ∇²g = [[σ'(0), 2y], [2y, 2x]].
    assert graded(catalog, "softplus-hessian", "hessian", "[[0.25, 2], [2, 0]]")["status"] == "correct"
    part = graded(catalog, "softplus-hessian", "hessian", "[1.5, 0]")
    assert (part["status"], part["misconception"]) == ("incorrect", "gradient-for-hessian")
    assert "second derivatives" in part["feedback"]
    assert graded(catalog, "softplus-hessian", "hessian", "[7, 7]")["status"] == "invalid"  # nothing it could be


# The gradient of a loss over a data set ------------------------------------------------------------------------

# mse-gradient's slides: ŷ = wa + b at (w, b) = (1, 0) on (1, 2), (2, 3), (3, 5): residuals −1, −1, −2.
# L = (1 + 1 + 4)/3 = 2; ∂L/∂w = (2/3)(−1 − 2 − 6) = −6; ∂L/∂b = (2/3)(−4) = −8/3.


def test_the_mse_gradient_by_hand(catalog: Catalog) -> None:
    assert graded(catalog, "mse-gradient", "loss", "2")["status"] == "correct"
    assert graded(catalog, "mse-gradient", "gradient", "[-6, -8/3]")["status"] == "correct"
    assert graded(catalog, "mse-gradient", "step", "[1.6, 0.8/3]")["status"] == "correct"  # η = 0.1


@pytest.mark.parametrize(
    ("answer", "misconception"),
    [("[-18, -8]", "sum-not-mean"), ("[-3, -4/3]", "forgot-factor-two"), ("[6, 8/3]", "sign-error")],
)
def test_the_mse_gradients_mistakes(catalog: Catalog, answer: str, misconception: str) -> None:
    assert graded(catalog, "mse-gradient", "gradient", answer)["misconception"] == misconception


def test_a_step_from_the_students_own_gradient_keeps_its_credit(catalog: Catalog) -> None:
    results = grade(
        {"student": "default", "answers": {"mse-gradient": {"gradient": "[-6, -3]", "step": "[1.6, 0.3]"}}}, catalog
    ).to_json()
    parts = {p["id"]: p for p in results["exercises"][0]["parts"]}
    assert parts["gradient"]["status"] == "partial" and parts["step"]["status"] == "correct"


def test_the_cross_entropy_gradient_by_hand() -> None:
    # p = σ(0.5a) at a = 1, 2, 3; ∂L/∂w = mean((p − y)a), ∂L/∂b = mean(p − y).
    data = [[1, 1], [2, 0], [3, 1]]
    p = [1 / (1 + math.exp(-0.5 * a)) for a, _ in data]
    by_hand = [
        sum((p[i] - y) * a for i, (a, y) in enumerate(data)) / 3,
        sum(p[i] - y for i, (_, y) in enumerate(data)) / 3,
    ]
    assert functions.loss_gradient(data, [0.5, 0], loss="cross-entropy") == pytest.approx(by_hand, rel=1e-12)
    with pytest.raises(ValueError, match=r"parameters are \[w, b\]"):
        functions.loss_gradient(data, [0.5, 0, 1])
    # A data set of any size: 200 rows of y = 2a at w = 0, b = 0: ∂L/∂w = −(2/n)Σ 2a².
    rows = [[k / 100, 2 * k / 100] for k in range(200)]
    expected = -2 * sum(2 * a * a for a, _ in rows) / 200
    assert functions.loss_gradient(rows, [0, 0])[0] == pytest.approx(expected, rel=1e-12)


# Formulas built from parameters --------------------------------------------------------------------------------


def test_a_formula_is_built_from_a_parameter_and_typeset() -> None:
    """Today '...exp(' + k + '*x))' with k = 1 showed log(1 + exp(1x)) in the prompt."""
    assert functions.formula("log(1 + exp(k*x))", k=1) == "log(1 + exp(x))"
    assert functions.formula("log(1 + exp(k*x))", k=2) == "log(1 + exp(2 * x))"
    assert functions.formula("log(1 + exp(k*x))", k=-1) == "log(1 + exp(-x))"
    assert functions.formula("a*x**2 + b*x + c", a=1, b=0, c=-2) == "x ** 2 - 2"
    with pytest.raises(ValueError, match=r"K is not in 'log\(1 \+ exp\(k\*x\)\)'"):
        functions.formula("log(1 + exp(k*x))", K=1)


def test_the_softplus_prompt_is_latex(catalog: Catalog) -> None:
    exercise = catalog.exercise("softplus-hessian")
    prompt = catalog.prompt(exercise, catalog.variant(exercise))["prompt"]
    assert r"f(x) = \log\left(1 + \exp\left(x\right)\right)$" in prompt
    assert "1x" not in prompt and "1 x" not in prompt


def test_the_softplus_derivative_and_its_mistakes(catalog: Catalog, per_student_softplus: Any) -> None:
    assert graded(catalog, "softplus-hessian", "derivative", "exp(x)/(1 + exp(x))")["status"] == "correct"
    assert graded(catalog, "softplus-hessian", "derivative", "sigmoid(x)")["status"] == "correct"
    assert graded(catalog, "softplus-hessian", "derivative", "1/(1 + e^x)")["misconception"] == "forgot-chain-rule"
    # With k = 2 the inner factor matters: σ(2x) is the mistake, 2σ(2x) the derivative.
    catalog2, student = per_student_softplus
    assert graded(catalog2, "softplus-hessian", "derivative", "2 sigmoid(2x)", student)["status"] == "correct"
    part = graded(catalog2, "softplus-hessian", "derivative", "sigmoid(2x)", student)
    assert part["misconception"] == "forgot-inner-factor"


@pytest.fixture
def per_student_softplus(monkeypatch: pytest.MonkeyPatch) -> tuple[Catalog, str]:
    monkeypatch.setenv("GRADER_VARIANTS", "per-student")
    monkeypatch.setenv("GRADER_SECRET", "test-secret")
    catalog = load_catalog(None)
    exercise = catalog.exercise("softplus-hessian")
    student = next(s for s in (f"s{i:03d}" for i in range(500)) if catalog.variant(exercise, s)["k"] == 2)
    return catalog, student


# Momentum in a ravine, and the plot of a path in two dimensions --------------------------------------------------

# f = x² + 10y², ∇f = [2x, 20y], x₀ = [2, 1], η = 0.08, β = 0.5: b₀ = [4, 20], x₁ = [1.68, −0.6];
# ∇f = [3.36, −12], b = [5.36, −2], x₂ = [1.2512, −0.44]; ∇f = [2.5024, −8.8], b = [5.1824, −9.8],
# x₃ = [0.836608, 0.344]; ∇f = [1.673216, 6.88], b = [4.264416, 1.98], x₄ = [0.49545472, 0.1856].
RAVINE = [[2, 1], [1.68, -0.6], [1.2512, -0.44], [0.836608, 0.344], [0.49545472, 0.1856]]


def test_momentum_in_a_ravine_by_hand(catalog: Catalog) -> None:
    assert graded(catalog, "momentum-ravine", "iterates", RAVINE)["status"] == "correct"
    last = RAVINE[-1]
    assert graded(catalog, "momentum-ravine", "value", last[0] ** 2 + 10 * last[1] ** 2)["status"] == "correct"


def test_the_path_of_points_is_drawn_on_the_contours(catalog: Catalog) -> None:
    """Today a sequence of points was never drawn: only one-variable paths were."""
    from grader.reports.feedback import path_figure

    plot = path_figure(catalog, catalog.exercise("momentum-ravine"), None, RAVINE[:3], show_reference=True)
    assert plot is not None and plot.svg.startswith("<svg")
    assert plot.signature == "f(x, y)" and plot.rows[1]["mine"] == "(1.68, -0.6)"
    assert "x₁ = (1.68, -0.6)" in plot.alt
    from grader.web.results import exercise_plot

    typed = exercise_plot(catalog, catalog.exercise("momentum-ravine"), None, {"iterates": "[[2, 1], [1.68, -0.6]]"})
    assert typed is not None and typed.reference is None  # the page a student can probe never draws the answer


# Validate: collisions the spec resolves, and what would otherwise go wrong silently --------------------------------

SOFTPLUS = """\
id: softplus
title: The derivative of softplus
prompt: "f(x) = {{f|latex}}"
parameters: {k: {default: 1, choices: [1, 2]}}
derived: {f: 'formula("log(1 + exp(k*x))", k=k)'}
parts:
  - id: derivative
    type: expression
    answer: derivative(f)
    misconceptions:
      - id: forgot-inner-factor
        answer: formula("sigmoid(k*x)", k=k)
        feedback: The chain rule also multiplies by k.COLLISION
"""


def test_a_formula_rule_equal_to_the_reference_in_some_variants_fails_with_the_variants(tmp_path: Path) -> None:
    report = validated(tmp_path, SOFTPLUS.replace("COLLISION", ""))
    (failure,) = report.failures
    assert "misconception forgot-inner-factor's answer equals the reference" in failure
    assert "on_collision: skip-variant" in failure and "in the default variant and" in failure


def test_on_collision_skip_variant_lets_validate_pass_and_lists_the_variants(tmp_path: Path) -> None:
    report = validated(tmp_path, SOFTPLUS.replace("COLLISION", "\n        on_collision: skip-variant"))
    assert report.failures == []
    (note,) = report.collisions
    assert "softplus/derivative/forgot-inner-factor equals the reference" in note
    assert "default" in report.collisions[note]
    assert "in the default variant" in report.text()


def test_an_unknown_on_collision_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="on_collision must be one of skip-variant, name-both, fail, not 'skip'"):
        spec_catalog(tmp_path, SOFTPLUS.replace("COLLISION", "\n        on_collision: skip"))


VECTOR_RULES = """\
id: step2d
title: A step in 2-D
prompt: "x = {{x}}, g = {{g}}"
parameters:
  x: [1, 2]
  g: {default: [4, -2], choices: [[4, -2], [0, 2]]}
  eta: {default: 0.25, choices: [0.25, 0.5]}
parts:
  - id: point
    type: vector
    answer: x - eta * g
    misconceptions:
      - id: dropped-first
        answer: vector(x[0], x[1] - eta * g[1])
        feedback: You left out the first component of the step.FIRST
      - id: doubled-eta
        answer: x - 2 * eta * g
        feedback: The step is η·g, not 2η·g.
      - id: half-eta
        answer: vector(x[0] - 2 * eta * g[0], x[1] - 2 * eta * g[1])
        feedback: You doubled η.SECOND
"""


def test_a_vector_rule_equal_to_the_reference_in_some_variants_is_a_failure_not_a_note(tmp_path: Path) -> None:
    """Today a rule that gives the reference where g[0] = 0 passed with a note, silently unmarked."""
    text = VECTOR_RULES.replace("FIRST", "").replace("SECOND", "\n        on_collision: name-both")
    report = validated(tmp_path, text, seeds=20)
    (failure,) = report.failures
    assert "misconception dropped-first's answer equals the reference" in failure and "seed" in failure


def test_two_rules_with_one_answer_fail_unless_the_spec_names_both(tmp_path: Path) -> None:
    text = VECTOR_RULES.replace("FIRST", "\n        on_collision: skip-variant")
    report = validated(tmp_path, text.replace("SECOND", ""), seeds=20)
    (failure,) = report.failures
    assert "misconception half-eta's answer is doubled-eta's, so only doubled-eta is named there" in failure
    assert "on_collision: skip-variant or name-both" in failure and "constraints:" in failure
    report = validated(tmp_path, text.replace("SECOND", "\n        on_collision: name-both"), seeds=20)
    assert report.failures == []
    catalog = spec_catalog(tmp_path, text.replace("SECOND", "\n        on_collision: name-both"))
    part = graded(catalog, "step2d", "point", [-1, 3])  # x − 2η·g = [1 − 2, 2 + 1]
    assert part["misconception"] == "doubled-eta" and part["details"]["also"] == ["half-eta"]
    assert "You doubled η." in part["feedback"] and "The step is η·g" in part["feedback"]


def test_constraints_keep_colliding_variants_from_being_drawn(tmp_path: Path) -> None:
    text = VECTOR_RULES.replace("FIRST", "").replace("SECOND", "\n        on_collision: name-both")
    text = text.replace("parts:\n", 'constraints: ["g[0] != 0"]\nparts:\n')
    report = validated(tmp_path, text, seeds=20)
    assert report.failures == []
    catalog = spec_catalog(tmp_path, text)
    exercise = catalog.exercise("step2d")
    assert all(catalog.seeded_variant(exercise, seed)["g"] == [4, -2] for seed in range(20))


def test_a_default_variant_that_breaks_a_constraint_and_a_constraint_that_is_no_comparison(tmp_path: Path) -> None:
    text = VECTOR_RULES.replace("FIRST", "").replace("SECOND", "\n        on_collision: name-both")
    report = validated(tmp_path, text.replace("parts:\n", 'constraints: ["eta > 0.3"]\nparts:\n'), seeds=5)
    assert any(
        "the default variant (the slides' numbers) breaks the constraint 'eta > 0.3'" in f for f in report.failures
    )
    report = validated(tmp_path, text.replace("parts:\n", 'constraints: ["eta + 1"]\nparts:\n'), seeds=2)
    assert any("'eta + 1' must be a comparison (True or False)" in f for f in report.failures)
    with pytest.raises(SpecError, match="unknown name 'etaa'"):
        spec_catalog(tmp_path, text.replace("parts:\n", 'constraints: ["etaa > 0"]\nparts:\n'))


def test_latex_of_no_formula_and_a_plot_that_cannot_be_drawn_are_failures(tmp_path: Path) -> None:
    """Today both passed: the prompt showed the text as written, and no plot was drawn."""
    text = """\
id: broken
title: Broken
prompt: "f = {{f|latex}}, label {{label|latex}}"
parameters: {f: "x**2 + y**2 + z**2", x0: [1, 1, 1], label: "x^^2"}
plot: {function: f, part: iterates}
parts:
  - {id: iterates, type: sequence, answer: "iterates(gd(0.1), f, x0, 2)"}
"""
    report = validated(tmp_path, text, seeds=1)
    assert any("prompt: {{label|latex}} is not a formula" in f for f in report.failures)
    assert any("plot: f must be a formula of one or two variables" in f for f in report.failures)
    text = text.replace("type: sequence", "type: vector").replace("x**2 + y**2 + z**2", "x**2 + y**2")
    report = validated(tmp_path, text.replace("[1, 1, 1]", "[1, 1]"), seeds=1)
    assert any("plot: part iterates is a vector part; a path is a sequence part" in f for f in report.failures)


def test_the_shipped_lec4_more_exercises_are_valid() -> None:
    folder = Path(__file__).parents[1] / "exercises"
    names = ["gd-schedule", "clipped-sgd", "adam-bias", "mse-gradient", "momentum-ravine", "softplus-hessian"]
    report = validate_paths([str(folder / f"{name}.yaml") for name in names], seeds=8, search=False)
    assert report.failures == [], report.failures
    assert list(load_catalog(None).assignments["lec4-more"].exercises) == names
