"""Every change of the catalogue names its mistake on exercises it was not written for.

The exercises below are new (not among the lecture's specs) and write no
misconception rules; each wrong answer is worked out here by hand from the
student's wrong procedure, independently of the catalogue's code.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from grader.grading import grade
from grader.specs.catalogue import CATALOGUE
from grader.specs.model import Catalog, load_catalog, load_exercise

EXERCISES = {
    "quartic": """\
id: quartic
title: Gradient descent on a quartic
prompt: "GD on f(x) = x**4 + 3 from x0 = 1 with eta = 0.1, three steps."
parameters: {f: "x**4 + 3", x0: 1, eta: 0.1, steps: 3}
parts:
  - {id: iterates, type: sequence, points: 4, answer: "iterates(gd(eta), f, x0, steps)", step: "next_from(gd(eta), f)"}
  - {id: values, type: sequence, points: 4, answer: "values(f, iterates(gd(eta), f, x0, steps))"}
  - {id: x2, type: number, answer: "iterates(gd(eta), f, x0, steps)[2]"}
  - {id: last3, type: sequence, points: 3, answer: "iterates(gd(eta), f, x0, steps)[-3:]"}
""",
    "batches3d": """\
id: batches3d
title: Means of three-dimensional gradients
prompt: "Four per-example gradients, points numbered from 1."
parameters: {grads: [[2, 0, 4], [6, 2, 0], [1, 5, 3], [3, 1, 1]], batch: [1, 4]}
parts:
  - {id: full, type: vector, answer: "mean(grads)"}
  - {id: batch, type: vector, answer: "batch_gradient(grads, batch)"}
""",
    "epoch3": """\
id: epoch3
title: An epoch of SGD on three points
prompt: "SGD on (w*a - y)**2 from w0 = 1 with eta = 0.05 over the batches [[3], [1, 2]]."
parameters: {loss: "(w*a - y)**2", data: [[1, 3], [2, 1], [3, 2]], batches: [[3], [1, 2]], lr: 0.05, w0: 1}
parts:
  - {id: weights, type: sequence, item: w, answer: "sgd_epoch(loss, data, batches, lr, w0)"}
""",
    "counts": """\
id: counts
title: Batches of a data set
prompt: "500 points in batches of 64."
parameters: {n: 500, b: 64}
parts:
  - {id: ceiling, type: integer, answer: "ceil(n / b)"}
  - {id: updates, type: integer, answer: "updates_per_epoch(n, b)"}
""",
    "heavy-ball": """\
id: heavy-ball
title: Momentum and Nesterov on 2x^2
prompt: "f(x) = 2*x**2 from x0 = 2 with eta = 0.1 and beta = 0.8."
parameters: {f: "2*x**2", x0: 2, eta: 0.1, beta: 0.8}
parts:
  - {id: run, type: sequence, answer: "iterates(momentum(eta, beta), f, x0, 3)"}
  - {id: nag, type: number, answer: "iterates(nesterov(eta, beta), f, x0, 2)[2]"}
""",
    "adaptive": """\
id: adaptive
title: Adam and RMSprop on x^2
prompt: "f(x) = x**2 from x0 = 1."
parameters: {f: "x**2", x0: 1, lr: 0.1}
parts:
  - {id: adam-run, type: sequence, answer: "iterates(adam(lr, 0.5, 0.75, 0), f, x0, 2)"}
  - {id: rms, type: number, answer: "iterates(rmsprop(lr, 0.75, 0), f, x0, 2)[2]"}
  - {id: adam-eps, type: number, answer: "iterates(adam(lr, 0.5, 0.75, 0.25), f, x0, 1)[1]"}
""",
    "saddle": """\
id: saddle
title: A saddle and a minimum
prompt: "f(x, y) = x**2 - y**3 + 3*y."
parameters: {f: "x**2 - y**3 + 3*y"}
derived: {points: stationary_points(f)}
parts:
  - {id: hessian, type: matrix, answer: "hessian(f, points[1])"}
  - {id: kinds, type: labels, answer: "classify_points(f, points)", labels: [minimum, maximum, saddle]}
""",
    "rates": """\
id: rates
title: Stable learning rates for 3x^2
prompt: "For which eta does GD on 3*x**2 converge?"
parameters: {f: "3*x**2", x: [1, 2], g: [4, -2], eta: 0.25}
parts:
  - {id: converges, type: interval, answer: "converging_rates(f)"}
  - {id: closed, type: interval, answer: "interval(0, 2 / curvature(f), True, True)"}
  - {id: point, type: vector, answer: "x - eta * g"}
  - {id: direction, type: vector, answer: "neg(g)"}
  - {id: classify, type: labels, answer: "regimes(f, [0.02, 0.05, 0.1, 0.12])"}
""",
    "counts2": """\
id: counts2
title: Batches, rounded either way
prompt: "520 and 560 points in batches of 64."
parameters: {n1: 520, n2: 560, b: 64}
parts:
  - {id: ceiling, type: integer, answer: "ceil(n1 / b)"}
  - {id: dropped, type: integer, answer: "updates_per_epoch(n2, b, drop_last=True)"}
""",
    "scheduled": """\
id: scheduled
title: Gradient descent with a halving rate
prompt: "GD on x**2 + 1 from 4, eta_t = 0.25 * 0.5**t."
parameters: {f: "x**2 + 1", x0: 4, eta: 0.25}
parts:
  - {id: run, type: sequence, answer: "iterates(gd(eta, schedule=step_decay(0.5, 1)), f, x0, 3)"}
""",
    "clipped": """\
id: clipped
title: Clipped steps
prompt: "One step on x**2 + 2*y**2 from [3, 2] with eta = 0.25, the gradient clipped at 5."
parameters: {f: "x**2 + 2*y**2", x0: [3, 2], eta: 0.25, g: [6, 8]}
parts:
  - {id: by-norm, type: vector, answer: "iterates(gd(eta, clip_norm=5), f, x0, 1)[1]"}
  - {id: by-value, type: vector, answer: "iterates(gd(eta, clip_value=5), f, x0, 1)[1]"}
  - {id: clipped, type: vector, answer: "clip_by_norm(g, 5)"}
""",
    "adamw": """\
id: adamw
title: AdamW and AMSGrad on x^2
prompt: "f(x) = x**2 from x0 = 1, betas (0.5, 0.75), eps = 0."
parameters: {f: "x**2", x0: 1}
parts:
  - {id: decayed, type: number, answer: "iterates(adamw(0.1, 0.5, 0.75, 0, weight_decay=0.5), f, x0, 1)[1]"}
  - {id: ams, type: number, answer: "iterates(adam(0.6, 0.5, 0.75, 0, amsgrad=True), f, x0, 2)[2]"}
""",
    "loss": """\
id: loss
title: The gradient of a mean squared error
prompt: "y = w a + b at (w, b) = (1, 0) on (1, 2), (2, 3), (3, 5)."
parameters: {data: [[1, 2], [2, 3], [3, 5]], point: [1, 0]}
parts:
  - {id: grad, type: vector, answer: "loss_gradient(data, point)"}
""",
}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    folder = tmp_path_factory.mktemp("new-exercises")
    base = load_catalog(None)
    exercises = {}
    for name, text in EXERCISES.items():
        path = folder / f"{name}.yaml"
        path.write_text(text)
        exercises[name] = load_exercise(Path(path), base.misconceptions)
    return Catalog(exercises, {}, base.misconceptions, False, "test")


def run(step: Any, x0: float, n: int) -> list[float]:
    xs = [x0]
    for _ in range(n):
        xs.append(step(xs[-1]))
    return xs


def heavy_ball(beta_used: float, ema: bool = False, start_zero: bool = False, n: int = 3) -> list[float]:
    """x₀ … x_n of momentum on 2x² (f' = 4x) from 2 with η = 0.1, as a student computes it."""
    xs, b = [2.0], 0.0
    for t in range(n):
        g = 4 * xs[-1]
        if ema:
            b = g if t == 0 and not start_zero else 0.8 * b + 0.2 * g
        else:
            b = g if t == 0 else beta_used * b + g
        xs.append(xs[-1] - 0.1 * b)
    return xs


def adam_run(correct: bool = True, t_from: int = 1, scaled: bool = True, n: int = 2) -> list[float]:
    """Adam on x² from 1, η = 0.1, β = (0.5, 0.75), ε = 0."""
    xs, m, v = [1.0], 0.0, 0.0
    for t in range(1, n + 1):
        g = 2 * xs[-1]
        m, v = 0.5 * m + 0.5 * g, 0.75 * v + 0.25 * g * g
        e = t - 1 + t_from
        mh, vh = (m / (1 - 0.5**e), v / (1 - 0.75**e)) if correct and e > 0 else (m, v)
        xs.append(xs[-1] - 0.1 * (mh / math.sqrt(vh) if scaled else g))
    return xs


def adam_ams(amsgrad: bool) -> float:
    """x₂ of Adam on x² from 1, η = 0.6, β = (0.5, 0.75), ε = 0: g = 2, then 0.8 (v falls from 1 to 0.91)."""
    xs, m, v, v_max = [1.0], 0.0, 0.0, 0.0
    for t in (1, 2):
        g = 2 * xs[-1]
        m, v = 0.5 * m + 0.5 * g, 0.75 * v + 0.25 * g * g
        v_max = max(v_max, v)
        used = v_max if amsgrad else v
        xs.append(xs[-1] - 0.6 * (m / (1 - 0.5**t)) / math.sqrt(used / (1 - 0.75**t)))
    return xs[2]


def rms(weight: float) -> float:
    """RMSprop on x² from 1, η = 0.1, α = 0.75, ε = 0, two steps; v ← 0.75v + weight·g²."""
    x, v = 1.0, 0.0
    for _ in range(2):
        g = 2 * x
        v = 0.75 * v + weight * g * g
        x -= 0.1 * g / math.sqrt(v)
    return x


def adam_with(
    average: tuple[float, float] = (0.5, 0.75), correction: Any = lambda beta, t: 1 - beta**t, n: int = 2
) -> list[float]:
    """Adam on x² from 1, η = 0.1, ε = 0, as a student computes it: m ← a₁m + (1 − a₁)g, v ← a₂v + (1 − a₂)g² with
    the weights ``average`` given, then m and v divided by ``correction(β, t)`` with the true β = (0.5, 0.75)."""
    xs, m, v = [1.0], 0.0, 0.0
    for t in range(1, n + 1):
        g = 2 * xs[-1]
        m, v = average[0] * m + (1 - average[0]) * g, average[1] * v + (1 - average[1]) * g * g
        mh, vh = m / correction(0.5, t), v / correction(0.75, t)
        xs.append(xs[-1] - 0.1 * mh / math.sqrt(vh))
    return xs


def rms_with(alpha: float, weight: float) -> float:
    """RMSprop on x² from 1, η = 0.1, ε = 0, two steps; v ← alpha·v + weight·g²."""
    x, v = 1.0, 0.0
    for _ in range(2):
        g = 2 * x
        v = alpha * v + weight * g * g
        x -= 0.1 * g / math.sqrt(v)
    return x


def epoch(batches: list[list[int]], scale: Any = lambda b: 1 / len(b), sign: float = 1) -> list[float]:
    """Weights of SGD on (wa − y)² over ``batches`` of the epoch3 data, each step η·scale(batch)·Σ gradients."""
    data = [(1, 3), (2, 1), (3, 2)]
    ws = [1.0]
    for batch in batches:
        total = sum(2 * a * (ws[-1] * a - y) for a, y in (data[i - 1] for i in batch))
        ws.append(ws[-1] - sign * 0.05 * scale(batch) * total)
    return ws


quartic = run(lambda x: x - 0.1 * 4 * x**3, 1.0, 4)
GD = quartic[:4]

CASES: list[tuple[str, str, str, Any, str]] = [
    # change, exercise, part, the student's answer, the misconception id expected
    ("sign-error", "quartic", "iterates", run(lambda x: x + 0.4 * x**3, 1.0, 3), "sign-error"),
    ("forgot-eta", "quartic", "x2", run(lambda x: x - 4 * x**3, 1.0, 2)[2], "forgot-eta"),
    ("doubled-eta", "quartic", "iterates", run(lambda x: x - 0.8 * x**3, 1.0, 3), "doubled-eta"),
    (
        "function-for-derivative",
        "quartic",
        "iterates",
        run(lambda x: x - 0.1 * (x**4 + 3), 1.0, 3),
        "function-for-derivative",
    ),
    ("derivative-for-function", "quartic", "values", [4 * x**3 for x in GD], "derivative-for-function"),
    (
        "derivative-missing-factor",
        "quartic",
        "iterates",
        run(lambda x: x - 0.1 * x**3, 1.0, 3),
        "derivative-missing-factor",
    ),
    ("dropped-constant", "quartic", "values", [x**4 for x in GD], "dropped-constant"),
    ("missing-start", "quartic", "iterates", GD[1:], "off-by-one"),
    ("started-at-x1", "quartic", "iterates", quartic[1:], "off-by-one"),
    ("one-step-too-few", "quartic", "values", [x**4 + 3 for x in GD[:-1]], "off-by-one"),
    ("one-step-too-many", "quartic", "iterates", quartic, "off-by-one"),
    ("one-step-too-few-at-index", "quartic", "x2", GD[1], "off-by-one"),
    ("repeated-start", "quartic", "iterates", [1.0, *GD[:-1]], "repeated-start"),
    ("repeated-start-and-all-steps", "quartic", "iterates", [1.0, *GD], "repeated-start"),
    ("values-for-iterates", "quartic", "iterates", [x**4 + 3 for x in GD], "values-for-iterates"),
    ("iterates-for-values", "quartic", "values", GD, "iterates-for-values"),
    ("sum-not-mean", "batches3d", "full", [12, 8, 8], "sum-not-mean"),
    ("mean-over-n", "batches3d", "batch", [5 / 4, 1 / 4, 5 / 4], "mean-over-n"),
    ("divisor-n-minus-1", "batches3d", "full", [4, 8 / 3, 8 / 3], "divisor-n-minus-1"),
    ("zero-based-index", "batches3d", "batch", [6, 2, 0], "zero-based-index"),  # points 2 and (5, dropped)
    ("full-set-for-batch", "batches3d", "batch", [3, 2, 2], "full-set-for-batch"),
    ("components-swapped", "batches3d", "full", [2, 2, 3], "components-swapped"),
    ("wrong-batch-order", "epoch3", "weights", epoch([[1, 2], [3]]), "wrong-batch-order"),
    ("drop-last-batch", "counts", "updates", 7, "drop-last-batch"),
    ("floor-for-ceil", "counts", "ceiling", 7, "floor-for-ceil"),
    ("not-an-integer", "counts", "updates", "500/64", "not-an-integer"),
    ("count-times", "counts", "updates", 32000, "count-times"),
    ("count-inverted", "counts", "updates", "0.128", "count-inverted"),
    ("count-plus-one", "counts", "updates", 9, "count-plus-one"),
    ("count-minus-one", "counts", "ceiling", 7, "count-minus-one"),  # and floor-for-ceil: both are said
    ("ema-momentum", "heavy-ball", "run", heavy_ball(0.8, ema=True, start_zero=True), "ema-momentum"),
    ("ema-momentum-from-gradient", "heavy-ball", "run", heavy_ball(0.8, ema=True), "ema-momentum"),
    ("forgot-beta", "heavy-ball", "run", heavy_ball(1.0), "forgot-beta"),
    ("no-momentum", "heavy-ball", "run", run(lambda x: x - 0.4 * x, 2.0, 3), "no-momentum"),
    ("not-nesterov", "heavy-ball", "nag", heavy_ball(0.8, n=2)[2], "not-nesterov"),
    ("rmsprop-no-one-minus-alpha", "adaptive", "rms", rms(1.0), "rmsprop-no-one-minus-alpha"),
    ("no-bias-correction", "adaptive", "adam-run", adam_run(correct=False), "no-bias-correction"),
    ("adam-t-from-zero", "adaptive", "adam-run", adam_run(t_from=0), "adam-t-from-zero"),
    ("no-adaptive-scaling", "adaptive", "adam-run", adam_run(scaled=False), "no-adaptive-scaling"),
    ("wrong-point-previous", "saddle", "hessian", [[2, 0], [0, -6]], "wrong-point"),  # at (0, 1), not (0, −1)
    ("one-step-too-many-at-index", "quartic", "x2", GD[3], "off-by-one"),
    ("labels-swapped", "saddle", "kinds", "minimum, saddle", "labels-swapped"),  # the points are (0, 1), (0, −1)
    # The function misread: f = x⁴ + 3, f' = 4x³, η = 0.1, from 1.
    (
        "constant-differentiated",
        "quartic",
        "iterates",
        run(lambda x: x - 0.1 * (4 * x**3 + 3), 1.0, 3),
        "constant-differentiated",
    ),  # f' taken as 4x³ + 3
    ("misread-function", "quartic", "x2", run(lambda x: x - 0.1 * 16 * x**3, 1.0, 2)[2], "misread-function"),  # 4x⁴ + 3
    (
        "other-parameter",
        "quartic",
        "x2",
        run(lambda x: x - 0.05 * 4 * x**3, 1.0, 2)[2],
        "other-parameter",
    ),  # epoch3's η
    # A term of the update dropped, a sign lost, another part's answer, a unit vector: x = [1, 2], g = [4, −2], η = ¼.
    ("dropped-current-point", "rates", "point", [-1, 0.5], "dropped-current-point"),  # −ηg alone
    ("lost-sign", "rates", "point", [-2, -1.5], "lost-sign"),  # −x − ηg
    ("answer-to-another-part", "rates", "direction", [0, 2.5], "answer-to-another-part"),  # the new point
    ("normalised-direction", "rates", "direction", [-4 / math.sqrt(20), 2 / math.sqrt(20)], "normalised-direction"),
    ("normalised-gradient", "rates", "point", [1 - 1 / math.sqrt(20), 2 + 0.5 / math.sqrt(20)], "normalised-direction"),
    # Counting slips.
    ("index-shift-next", "quartic", "x2", GD[3], "index-shift"),
    ("index-shift-previous", "quartic", "x2", GD[1], "index-shift"),
    ("wrong-window", "quartic", "last3", GD[:3], "wrong-window"),  # x₀ … x₂ for x₁ … x₃
    ("batch-index-shift", "batches3d", "batch", [1, 5, 3], "index-shift"),  # points 0 (none) and 3 for 1 and 4
    ("round-for-ceil", "counts2", "ceiling", 8, "round-for-ceil"),  # 520/64 = 8.125: ⌈⌉ 9, rounded 8
    ("ceil-for-floor", "counts2", "dropped", 9, "ceil-for-floor"),  # 560/64 = 8.75: ⌊⌋ 8, ⌈⌉ 9
    ("round-for-floor", "counts2", "dropped", 9, "round-for-floor"),  # rounded 9 too
    ("size-for-count", "counts", "updates", 500, "size-for-count"),
    ("batch-size-for-count", "counts", "ceiling", 64, "batch-size-for-count"),
    # Intervals: GD on 3x² converges for 0 < η < 1/3, without passing the minimum for η ≤ 1/6.
    ("ends-closed", "rates", "converges", "[0, 1/3]", "boundary-included"),
    ("ends-opened", "rates", "closed", "(0, 1/3]", "boundary-excluded"),
    ("lower-bound-dropped", "rates", "converges", "eta < 1/3", "interval-end-wrong"),
    ("lower-bound-mirrored", "rates", "converges", "(-1/3, 1/3)", "interval-end-wrong"),
    ("upper-bound-dropped", "rates", "converges", "eta > 0", "interval-end-wrong"),
    ("divergence-region", "rates", "converges", "eta > 1/3", "divergence-region"),
    ("monotone-range-only", "rates", "converges", "(0, 1/6]", "monotone-range-only"),
    # β and 1 − β, bias corrections, ε: heavy ball with β = 0.8; Adam with β = (0.5, 0.75); RMSprop with α = 0.75.
    ("beta-swapped", "heavy-ball", "run", heavy_ball(0.2), "beta-swapped"),
    ("beta-swapped-in-rule", "adaptive", "rms", rms_with(0.25, 0.75), "beta-swapped"),
    ("beta-swapped-in-averages", "adaptive", "adam-run", adam_with(average=(0.5, 0.25)), "beta-swapped"),
    (
        "bias-correction-power",
        "adaptive",
        "adam-run",
        adam_with(correction=lambda b, t: (1 - b) ** t),
        "bias-correction-power",
    ),
    (
        "bias-correction-next-power",
        "adaptive",
        "adam-run",
        adam_with(correction=lambda b, t: 1 - b ** (t + 1)),
        "bias-correction-power",
    ),
    (
        "bias-correction-m-only",
        "adaptive",
        "adam-run",
        adam_with(correction=lambda b, t: 1 - b**t if b == 0.5 else 1),
        "bias-correction-m-only",
    ),
    (
        "bias-correction-v-only",
        "adaptive",
        "adam-run",
        adam_with(correction=lambda b, t: 1 - b**t if b == 0.75 else 1),
        "bias-correction-v-only",
    ),
    # one Adam step from 1 with ε = 0.25: g = 2, m̂ = 2, v̂ = 4; x − 0.1·2/√(4 + 0.25) where x − 0.1·2/(2 + 0.25)
    ("eps-inside-root", "adaptive", "adam-eps", 1 - 0.2 / math.sqrt(4.25), "eps-inside-root"),
    # 3x²: r = 1 − 6η is 0.88, 0.7, 0.4, 0.28: slow, slow, fast, fast; the middle two exchanged
    ("neighbours-swapped", "rates", "classify", "slow-monotone, fast, slow-monotone, fast", "labels-swapped"),
    # GD on x² + 1 from 4 with η_t = 0.25·0.5ᵗ: x ← x(1 − 2η_t); η fixed at 0.25: 4, 2, 1, 0.5;
    # t from 1 (η 0.125, 0.0625, 0.03125): 4, 3, 2.625, 2.4609375.
    ("no-schedule", "scheduled", "run", [4, 2, 1, 0.5], "no-schedule"),
    ("schedule-off-by-one", "scheduled", "run", [4, 3, 2.625, 2.4609375], "schedule-off-by-one"),
    # ∇f(x₀) = [6, 8], ‖·‖ = 10: unclipped [3, 2] − 0.25·[6, 8] = [1.5, 0]; each component clipped to 5:
    # [3, 2] − 0.25·[5, 5] = [1.75, 0.75]; by norm (for by value): [3, 2] − 0.25·[3, 4] = [2.25, 1].
    ("no-clipping", "clipped", "by-norm", [1.5, 0], "no-clipping"),
    ("clip-by-value-for-norm", "clipped", "clipped", [5, 5], "clip-by-value-for-norm"),
    ("clip-by-norm-for-value", "clipped", "by-value", [2.25, 1], "clip-by-norm-for-value"),
    # AdamW: m̂ = 2, v̂ = 4, step 1 + λx = 1.5 → 1 − 0.15; coupled: g + λx = 2.5, step η·sign → 0.9.
    ("coupled-weight-decay", "adamw", "decayed", 0.9, "coupled-weight-decay"),
    ("no-amsgrad", "adamw", "ams", adam_ams(False), "no-amsgrad"),
    # Residuals −1, −1, −2: ∂L/∂w = (2/3)(−9) = −6, ∂L/∂b = −8/3; summed: [−18, −8]; without the 2: [−3, −4/3].
    ("loss-sum-not-mean", "loss", "grad", [-18, -8], "sum-not-mean"),
    ("forgot-factor-two", "loss", "grad", [-3, -4 / 3], "forgot-factor-two"),
]


def test_every_change_of_the_catalogue_is_tested() -> None:
    tested = {case[0] for case in CASES} | {"wrong-point-next"}  # see test_a_point_taken_at_the_next_index
    tested |= {"sibling-function"}  # see test_another_variants_function_with_per_student_variants
    assert {change.name for change in CATALOGUE} == tested


@pytest.mark.parametrize(("change", "exercise", "part", "answer", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_change_is_named_on_an_exercise_written_without_rules(
    catalog: Catalog, change: str, exercise: str, part: str, answer: Any, expected: str
) -> None:
    result = graded(catalog, exercise, part, answer)
    assert result["misconception"] == expected or expected in result["details"].get("also", []), result
    assert result["score"] < result["max_score"]
    assert result["feedback"] and "{" not in result["feedback"]


def graded(catalog: Catalog, exercise: str, part: str, answer: Any) -> dict[str, Any]:
    results = grade({"student": "default", "answers": {exercise: {part: answer}}}, catalog).to_json()
    return next(p for p in results["exercises"][0]["parts"] if p["id"] == part)


def test_a_point_taken_at_the_next_index(catalog: Catalog, tmp_path: Path) -> None:
    text = EXERCISES["saddle"].replace("points[1]", "points[0]").replace("id: saddle", "id: saddle0")
    path = tmp_path / "saddle0.yaml"
    path.write_text(text)
    catalog.exercises["saddle0"] = load_exercise(path, catalog.misconceptions)
    # stationary points in order (0, 1), (0, −1): the Hessian at the second, [[2, 0], [0, 6]].
    result = graded(catalog, "saddle0", "hessian", [[2, 0], [0, 6]])
    assert result["misconception"] == "wrong-point"


def test_the_sign_and_eta_of_a_step_written_as_a_formula(catalog: Catalog) -> None:
    # x − η g with x = [1, 2], g = [4, −2], η = 0.25: [0, 2.5]; uphill [2, 1.5]; without η [−3, 4].
    assert graded(catalog, "rates", "point", [2, 1.5])["misconception"] == "sign-error"
    assert graded(catalog, "rates", "point", [-3, 4])["misconception"] == "forgot-eta"
    assert graded(catalog, "rates", "direction", [4, -2])["misconception"] == "sign-error"


def test_an_interval_from_a_derivative_without_its_factor(catalog: Catalog) -> None:
    # f = 3x², f'' = 6, GD converges for 0 < η < 1/3; with f' = 3x (factor dropped), 0 < η < 2/3.
    assert graded(catalog, "rates", "converges", "(0, 2/3)")["misconception"] == "derivative-missing-factor"


def test_two_changes_with_the_same_answer_are_both_said(catalog: Catalog) -> None:
    # ⌈500/64⌉ = 8: rounding down and subtracting one both give 7.
    result = graded(catalog, "counts", "ceiling", 7)
    named = {result["misconception"], *result["details"]["also"]}
    assert named == {"floor-for-ceil", "count-minus-one"}
    assert "rounded down" in result["feedback"] and "One too few" in result["feedback"]


def test_written_rules_come_first(catalog: Catalog) -> None:
    base = load_catalog(None)
    # gd-parabola writes its own off-by-one feedback for x₁ … x₅; the catalogue's is not used there.
    results = grade(
        {"student": "default", "answers": {"gd-parabola": {"iterates": "2, 1, 0.5, 0.25, 0.125"}}}, base
    ).to_json()
    part = results["exercises"][0]["parts"][0]
    assert part["misconception"] == "off-by-one" and "You left out x₀" in part["feedback"]
    assert "also" not in part["details"]


def test_a_right_answer_is_never_taken_for_a_change(catalog: Catalog) -> None:
    for exercise, part, answer in [
        ("quartic", "iterates", GD),
        ("counts", "ceiling", 8),
        ("heavy-ball", "run", heavy_ball(0.8)),
    ]:
        assert graded(catalog, exercise, part, answer)["status"] == "correct"


SIBLINGS = """\
id: siblings
title: Gradient descent, a function per student
prompt: "GD from 2 with eta = 0.1, two steps."
parameters: {f: {default: "x**2 + 1", choices: ["x**2 + 1", "3*x**2 - x"]}, x0: 2, eta: 0.1}
parts:
  - {id: run, type: sequence, answer: "iterates(gd(eta), f, x0, 2)"}
"""


def test_another_variants_function_with_per_student_variants(tmp_path: Path) -> None:
    """With per-student variants, a student may work with another variant's f (the slides', a friend's)."""
    base = load_catalog(None)
    path = tmp_path / "siblings.yaml"
    path.write_text(SIBLINGS)
    per_student = Catalog({"siblings": load_exercise(path, base.misconceptions)}, {}, base.misconceptions, True, "t")
    # the default student has f = x² + 1; with 3x² − x (f' = 6x − 1): 2, 2 − 1.1 = 0.9, 0.9 − 0.44 = 0.46
    result = graded(per_student, "siblings", "run", [2, 0.9, 0.46])
    assert result["misconception"] == "sibling-function" and "3x^2 - x" in result["feedback"], result
    slides = Catalog({"siblings": load_exercise(path, base.misconceptions)}, {}, base.misconceptions, False, "t")
    assert graded(slides, "siblings", "run", [2, 0.9, 0.46])["misconception"] is None  # nobody saw another f


def test_a_catalogue_name_never_costs_the_right_labels_their_credit(catalog: Catalog) -> None:
    # two of four labels exchanged: the two others keep their credit (2/4 of the part), and the mistake is named
    result = graded(catalog, "rates", "classify", "slow-monotone, fast, slow-monotone, fast")
    assert (result["misconception"], result["score"], result["status"]) == ("labels-swapped", 0.5, "partial")


def test_a_code_exercises_hidden_inputs_are_never_said() -> None:
    """A sentence naming a misread f or another η would show the hidden inputs: not for code exercises."""
    from grader.specs.catalogue import search_answers

    base = load_catalog(None)
    exercise = base.exercises["implement-gd"]
    params = base.variant(exercise, "s001")
    for part, key in zip(exercise.parts, base.keys(exercise, params), strict=True):
        context = base.search_context(exercise, part, params)
        found = search_answers(part.answer, part.kind, params, key.reference, context=context)
        assert found and not [f.change.name for f in found if f.change.reveals]
