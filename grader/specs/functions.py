"""The functions a spec's answers may call: thin, documented wrappers over the optimizer core.

Each takes plain values (numbers, lists, formula text) and returns plain
values (floats, lists of floats, labels), so that reference answers are data.
A formula argument ``f`` is text such as ``"x**2 + 2"``; it becomes an
:class:`~grader.optim.objective.Objective` through :func:`grader.calculus.objective`.
One-variable functions give plain numbers, several variables give lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import numpy as np

from grader import optim
from grader.calculus import gradient_formulas, hessian_formulas, objective
from grader.checking.reading import Interval
from grader.optim import rules, schedules
from grader.optim.rules import Rule
from grader.optim.schedules import Schedule
from grader.specs import language

F = TypeVar("F", bound=Callable[..., Any])


def example(call: str) -> Callable[[F], F]:
    """Give a spec function its one-line example: docs/specs.md shows it with its result, the tests run it."""

    def attach(function: F) -> F:
        function.example = call  # type: ignore[attr-defined]
        return function

    return attach


Reduction = Literal["mean", "sum", "mean-over-n"]
EpochReduction = Literal["mean", "sum", "mean-over-n", "n-1"]


@example("plain([1, 2.5])")
def plain(value: Any) -> Any:
    """The value as plain numbers and lists (numpy arrays and scalars become Python floats and lists)."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _point(f: str, x: Any) -> Any:
    """A point as the student writes it: a number in 1-D, a list otherwise."""
    values = plain(np.asarray(x, dtype=np.float64).reshape(-1))
    return values[0] if objective(f).dim == 1 else values


# Step-size schedules --------------------------------------------------------------------


@example("inverse_time(0.5)")
def inverse_time(decay: float, every: int = 1) -> Schedule:
    """Inverse-time decay η_t = η/(1 + k·t/s) of update t (t = 0 for the first), for a rule's ``schedule=``."""
    return schedules.InverseTime(float(decay), int(every))


@example("step_decay(0.5, 2)")
def step_decay(gamma: float, every: int) -> Schedule:
    """Step decay η_t = η·γ^⌊t/s⌋: η multiplied by γ every s updates (PyTorch's StepLR)."""
    return schedules.StepDecay(float(gamma), int(every))


@example("exponential_decay(0.9)")
def exponential_decay(gamma: float) -> Schedule:
    """Exponential decay η_t = η·γ^t (PyTorch's ExponentialLR)."""
    return schedules.Exponential(float(gamma))


@example("cosine_decay(10, min_lr=0.001)")
def cosine_decay(steps: int, min_lr: float = 0.0) -> Schedule:
    """Cosine decay over T updates: η_t = η_min + (η − η_min)(1 + cos(π·min(t, T)/T))/2 (PyTorch's CosineAnnealingLR)."""
    return schedules.Cosine(int(steps), float(min_lr))


@example("warmup(4, then=cosine_decay(10))")
def warmup(steps: int, then: Schedule | None = None) -> Schedule:
    """Linear warm-up η_t = η·(t + 1)/w for the first w updates, then η (or the schedule ``then``, from its t = 0)."""
    return schedules.Warmup(int(steps), then)


@example("step_sizes(0.4, step_decay(0.5, 2), 5)")
def step_sizes(lr: float, schedule: Schedule | None, steps: int) -> list[float]:
    """η₀, η₁, …, the rates of the first ``steps`` updates of a rule with base rate ``lr`` and ``schedule``."""
    if int(steps) > MAX_STEPS:
        raise ValueError(f"{steps} steps are too many for an exercise (at most {MAX_STEPS})")
    link = rules.ScaleByLearningRate(float(lr), schedule=schedule)
    return [link.rate(t) for t in range(int(steps))]


# Update rules (right and wrong) -------------------------------------------------


def _with(rule: Rule, schedule: Schedule | None, clip_norm: float | None, clip_value: float | None) -> Rule:
    """A rule with the options every rule takes: its step-size schedule and gradient clipping."""
    rule = rules.scheduled(rule, schedule)
    none = clip_norm is None and clip_value is None
    return rule if none else rules.clipped(rule, clip_norm, clip_value)


@example("gd(0.1)")
def gd(
    lr: float, *, schedule: Schedule | None = None, clip_norm: float | None = None, clip_value: float | None = None
) -> Rule:
    """Gradient descent x ← x − η∇f; every rule also takes ``schedule=``, ``clip_norm=`` and ``clip_value=``."""
    return _with(optim.SGD(lr=float(lr)), schedule, clip_norm, clip_value)


@example("momentum(0.1, 0.9)")
def momentum(
    lr: float,
    beta: float,
    *,
    schedule: Schedule | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> Rule:
    """The lecture's heavy ball: g ← βg + ∇f, x ← x − ηg."""
    return _with(optim.Momentum(lr=float(lr), momentum=float(beta)), schedule, clip_norm, clip_value)


@example("ema_momentum(0.1, 0.9)")
def ema_momentum(
    lr: float,
    beta: float,
    *,
    schedule: Schedule | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> Rule:
    """Misconception ``ema-momentum``: g ← βg + (1−β)∇f."""
    return _with(optim.Momentum(lr=float(lr), momentum=float(beta), ema=True), schedule, clip_norm, clip_value)


@example("nesterov(0.1, 0.9)")
def nesterov(
    lr: float,
    beta: float,
    *,
    schedule: Schedule | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> Rule:
    """Nesterov momentum as in PyTorch: the step uses ∇f + βb."""
    return _with(optim.Momentum(lr=float(lr), momentum=float(beta), nesterov=True), schedule, clip_norm, clip_value)


AdamCorrection = Literal[True, False, "m", "v"]


@example('adam(0.1, bias_correction="m")')
def adam(
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    bias_correction: AdamCorrection = True,
    *,
    eps_inside: bool = False,
    amsgrad: bool = False,
    weight_decay: float = 0.0,
    schedule: Schedule | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> Rule:
    """Adam (PyTorch's formulas); its variants are options, each also a misconception's rule.

    ``bias_correction``: True (both moments), ``"m"`` or ``"v"`` (that one only) or False
    (neither, misconception ``no-bias-correction``); ``eps_inside=True`` divides by √(v̂ + ε)
    instead of √v̂ + ε; ``amsgrad=True`` by the root of the largest v̂ so far; ``weight_decay``
    λ adds λx to the gradient (coupled L2, as ``torch.optim.Adam``; :func:`adamw` decouples it).
    """
    rule = optim.Adam(
        lr=float(lr),
        betas=(float(beta1), float(beta2)),
        eps=float(eps),
        weight_decay=float(weight_decay),
        bias_correction=bias_correction,
        eps_inside=bool(eps_inside),
        amsgrad=bool(amsgrad),
    )
    return _with(rule, schedule, clip_norm, clip_value)


@example("adamw(0.1, weight_decay=0.01)")
def adamw(
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    *,
    weight_decay: float = 0.01,
    bias_correction: AdamCorrection = True,
    eps_inside: bool = False,
    amsgrad: bool = False,
    schedule: Schedule | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> Rule:
    """AdamW (PyTorch's): Adam with decoupled weight decay, x ← x − η(m̂/(√v̂ + ε) + λx).

    Adam's ``weight_decay`` (λx added to the gradient) where AdamW's belongs is the
    misconception ``coupled-weight-decay``.
    """
    rule = optim.AdamW(
        lr=float(lr),
        betas=(float(beta1), float(beta2)),
        eps=float(eps),
        weight_decay=float(weight_decay),
        bias_correction=bias_correction,
        eps_inside=bool(eps_inside),
        amsgrad=bool(amsgrad),
    )
    return _with(rule, schedule, clip_norm, clip_value)


@example("rmsprop(0.01, alpha=0.9)")
def rmsprop(
    lr: float,
    alpha: float = 0.99,
    eps: float = 1e-8,
    *,
    schedule: Schedule | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> Rule:
    """RMSprop (PyTorch's formulas)."""
    return _with(optim.RMSprop(lr=float(lr), alpha=float(alpha), eps=float(eps)), schedule, clip_norm, clip_value)


@example("adagrad(0.5)")
def adagrad(
    lr: float,
    eps: float = 1e-10,
    *,
    schedule: Schedule | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> Rule:
    """Adagrad (PyTorch's formulas)."""
    return _with(optim.Adagrad(lr=float(lr), eps=float(eps)), schedule, clip_norm, clip_value)


@example("ascent(gd(0.1))")
def ascent(rule: Rule) -> Rule:
    """Misconception ``sign-error``: the rule moving uphill."""
    return optim.ascent(rule)


@example("forgot_eta(gd(0.1))")
def forgot_eta(rule: Rule) -> Rule:
    """Misconception ``forgot-eta``: the rule with η = 1."""
    return optim.forgot_eta(rule)


@example("schedule_from_one(gd(0.4, schedule=step_decay(0.5, 2)))")
def schedule_from_one(rule: Rule) -> Rule:
    """Misconception ``schedule-off-by-one``: the rule's schedule with t counted from 1 (the first update already decayed)."""
    changed = rules.schedule_from_one(rule)
    if changed is None:
        raise ValueError("schedule_from_one needs a rule with a schedule, such as gd(0.4, schedule=step_decay(0.5, 2))")
    return changed


# Runs and steps -------------------------------------------------------------------


MAX_STEPS = 10_000  # a spec asks for a few steps; a typo such as 10**9 is refused, not run


@example('iterates(gd(0.25), "x**2 + 2", 4, 3)')
def iterates(rule: Rule, f: str, x0: Any, steps: int) -> list[Any]:
    """x₀, x₁, …, x_steps of ``rule`` on f (at most 10 000 steps)."""
    if int(steps) > MAX_STEPS:
        raise ValueError(f"{steps} steps are too many for an exercise (at most {MAX_STEPS})")
    trace = optim.run(rule, objective(f), np.asarray(x0, dtype=np.float64).reshape(-1), int(steps))
    return [_point(f, x) for x in trace.iterates]


@example('path_shape(gd(0.9), "x**2", 1)')
def path_shape(rule: Rule, f: str, x0: Any, steps: int = 100) -> str:
    """How ``rule`` approaches the minimum of a one-variable f from x0, judged from ``steps`` steps of the core.

    ``does-not-converge`` when an iterate is not finite or |f'(x_steps)| ≥ |f'(x₀)|
    (it gets no closer); else ``overshoots`` when f' changes sign along the way (an iterate
    passed the minimum); else ``monotone``.
    """
    trace = optim.run(rule, objective(f), np.asarray(x0, dtype=np.float64).reshape(-1), int(steps))
    slopes = [float(g[0]) for g in trace.gradients]
    if not all(math.isfinite(s) for s in slopes) or abs(slopes[-1]) >= abs(slopes[0]):
        return "does-not-converge"
    signs = [s > 0 for s in slopes if s != 0]  # an iterate exactly at the minimum is on neither side
    if any(a != b for a, b in zip(signs, signs[1:], strict=False)):
        return "overshoots"
    return "monotone"


@example('values("x**2 + 2", [4, 2, 1])')
def values(f: str, points: Sequence[Any]) -> list[float]:
    """f at each point."""
    return [float(objective(f).value(np.asarray(p, dtype=np.float64).reshape(-1))) for p in points]


@example('value("x**2 + y**2", [3, 4])')
def value(f: str, point: Any) -> float:
    """f at one point."""
    return values(f, [point])[0]


Derivative = Any  # formula text (a list of them for several variables), or numbers at a point


@example('gradient("x**2 + 10*y**2")')
def gradient(f: str, point: Any = None) -> Derivative:
    """∇f as formulas (``["2*x", "20*y"]``; one formula in 1-D), or its value at ``point`` (a number in 1-D)."""
    if point is None:
        formulas = gradient_formulas(f)
        return formulas[0] if len(formulas) == 1 else formulas
    return _point(f, objective(f).gradient(np.asarray(point, dtype=np.float64).reshape(-1)))


@example('hessian("x**2*y", [1, 2])')
def hessian(f: str, point: Any = None) -> Derivative:
    """∇²f at ``point`` as a matrix (a list of rows), or without a point as formulas (for prompts)."""
    if point is None:
        return hessian_formulas(f)
    return plain(objective(f).hessian(np.asarray(point, dtype=np.float64).reshape(-1)))


@example('next_from(gd(0.25), "x**2 + 2")')
def next_from(rule: Rule, f: str) -> Callable[[Sequence[Any]], Any]:
    """For error carried forward: the next iterate after the student's own ``prefix`` x₀…x_k.

    The rule's state (momentum buffer, Adam moments) is rebuilt from the
    gradients at the student's own points, so a slip is not counted again.
    """
    target = objective(f)

    def following(prefix: Sequence[Any]) -> Any:
        state = rule.init(np.asarray(prefix[0], dtype=np.float64).reshape(-1))
        result = None
        for point in prefix:
            x = np.asarray(point, dtype=np.float64).reshape(-1)
            result, state = rule.update(x, target.gradient(x), state)
        return _point(f, result)

    return following


@example('next_after(gd(0.25), "x**2 + 2", [4, 3])')
def next_after(rule: Rule, f: str, points: Sequence[Any]) -> Any:
    """The iterate after ``points`` (x₀ … x_k, the student's own), for a ``carried:`` rule: ``next_from(rule, f)(points)``."""
    return next_from(rule, f)(points)


@example('derivative("x**3 + 2*x")')
def derivative(f: str) -> str:
    """f' of a one-variable f as formula text (for prompts); for several variables use :func:`gradient`."""
    target = objective(f)
    if target.dim != 1:
        names = " and ".join([", ".join(target.variables[:-1]), target.variables[-1]])
        raise ValueError(
            f"derivative(f) is for a function of one variable, and {f} has the variables {names}: "
            f"gradient(f) gives ∂f/∂{', ∂f/∂'.join(target.variables)}"
        )
    return gradient_formulas(f)[0]


@example('quadratic_gradient("x**2 + x*y")')
def quadratic_gradient(f: str) -> dict[str, Any]:
    """The gradient of a quadratic f as data, ∇f(x) = A x + b (A the Hessian, b = ∇f(0)).

    The notebook sandbox turns ``{"quadratic_gradient": {"A": …, "b": …}}`` into a callable
    ``df`` for the student's function, without evaluating any formula there.
    """
    target = objective(f)
    origin = np.zeros(target.dim)
    return {"quadratic_gradient": {"A": plain(target.hessian(origin)), "b": plain(target.gradient(origin))}}


@example("numpy_array([2, 1])")
def numpy_array(values: Sequence[float]) -> dict[str, Any]:
    """A hidden input that is a numpy array of floats (the sandbox builds ``np.array(values, dtype=float)``).

    As data, ``{"ndarray": […]}``, which trusted code in the notebook's sandbox turns into the array.
    """
    return {"ndarray": plain(np.asarray(values, dtype=np.float64))}


@example("numpy_float(4)")
def numpy_float(value: float) -> dict[str, Any]:
    """A hidden input that is a number, as a numpy float64 (a float with numpy's methods, like numpy's results).

    As data, ``{"float64": x}``, which trusted code in the notebook's sandbox turns into ``np.float64(x)``:
    it is a ``float``, and ``.astype``, ``.copy`` and ``* 1.0`` work on it as on an array.
    """
    return {"float64": float(value)}


# Learning rates on a quadratic --------------------------------------------------


@example('step_factor("x**2", 0.25)')
def step_factor(f: str, eta: float) -> float:
    """r = 1 − η f'' for a one-variable quadratic: GD gives x_{t+1} − x* = r (x_t − x*)."""
    return 1.0 - float(eta) * curvature(f)


@example('regime("x**2", 0.75)')
def regime(f: str, eta: float) -> str:
    """How GD with step ``eta`` behaves on a one-variable quadratic, from r = 1 − η f''.

    r ≥ 1 or r < −1: ``diverging`` (r > 1 cannot happen for η > 0 on a convex quadratic);
    r = −1: ``oscillating-stuck``; −1 < r < 0: ``oscillating-converging``;
    0 ≤ r ≤ 1/2: ``fast`` (the error at least halves each step); 1/2 < r < 1: ``slow-monotone``.
    """
    r = step_factor(f, eta)
    if math.isclose(r, -1.0, abs_tol=1e-12):
        return "oscillating-stuck"
    if r < -1 or r >= 1:
        return "diverging"
    if r < 0:
        return "oscillating-converging"
    return "fast" if r <= 0.5 else "slow-monotone"


@example('regimes("x**2", [0.1, 1, 1.5])')
def regimes(f: str, etas: Sequence[float]) -> list[str]:
    """:func:`regime` for each step size in ``etas``."""
    return [regime(f, eta) for eta in etas]


@example('converging_rates("x**2")')
def converging_rates(f: str) -> Interval:
    """The open interval of η for which GD converges on a one-variable quadratic: 0 < η < 2/f''."""
    return Interval(0.0, 2.0 / curvature(f), False, False)


@example('curvature("3*x**2 + x")')
def curvature(f: str) -> float:
    """f'' of a one-variable quadratic (its Hessian at 0)."""
    return float(objective(f).hessian([0.0])[0][0])


@example("neg([1, -2])")
def neg(vector: Any) -> Any:
    """−v."""
    return plain(-np.asarray(vector, dtype=np.float64))


@example("scale(0.5, [4, 2])")
def scale(factor: float, vector: Any) -> Any:
    """c·v."""
    return plain(float(factor) * np.asarray(vector, dtype=np.float64))


@example("interval(0, 1, True, False)")
def interval(low: float, high: float, low_closed: bool = False, high_closed: bool = False) -> Interval:
    """An interval, for misconception answers such as ``interval(0, 1, True, True)``."""
    return Interval(float(low), float(high), bool(low_closed), bool(high_closed))


# Mini-batches --------------------------------------------------------------------


@example("mean([[1, 2], [3, 4]])")
def mean(vectors: Sequence[Any]) -> Any:
    """The mean of per-example gradients (the full gradient)."""
    return plain(optim.full_gradient(vectors))


@example("total([[1, 2], [3, 4]])")
def total(vectors: Sequence[Any]) -> Any:
    """Misconception ``sum-not-mean``: the sum of per-example gradients."""
    return plain(optim.full_gradient(vectors, reduction="sum"))


@example('batch_gradient([1, 2, 3, 6], [2, 4], reduction="sum")')
def batch_gradient(vectors: Sequence[Any], indices: Sequence[int], reduction: Reduction = "mean") -> Any:
    """Mini-batch gradient over 1-based ``indices`` (``reduction`` "sum" / "mean-over-n" are misconceptions)."""
    return plain(optim.batch_gradient(vectors, indices, one_based=True, reduction=reduction))


@example("zero_based_batch([1, 2, 3, 6], [2, 4])")
def zero_based_batch(vectors: Sequence[Any], indices: Sequence[int]) -> Any:
    """Misconception ``zero-based-index``: the 1-based indices read as 0-based, out-of-range dropped."""
    return plain(optim.zero_based_slip(vectors, indices))


@example("updates_per_epoch(100, 32, drop_last=True)")
def updates_per_epoch(n: int, batch_size: int, drop_last: bool = False) -> int:
    """⌈n/B⌉, or ⌊n/B⌋ with drop_last."""
    return optim.updates_per_epoch(int(n), int(batch_size), drop_last=bool(drop_last))


@example('sgd_epoch("(w*a - y)**2", [[1, 2], [2, 2]], [[1], [2]], 0.1, 0)')
def sgd_epoch(
    loss: str,
    data: Sequence[Sequence[float]],
    batches: Sequence[Sequence[int]],
    lr: float,
    w0: Any,
    reduction: EpochReduction = "mean",
) -> list[Any]:
    """One SGD epoch on a per-example ``loss`` in the parameter ``w`` (or w1, w2, …) and data columns a, y.

    ``loss`` is a formula such as ``(w*a - y)**2``; each data row gives (a, y).
    Returns θ₀ … θ_k for the k batches (1-based indices), one SGD step per batch.
    With ``reduction="sum"`` each step uses the batch's sum (misconception ``sum-not-mean``),
    ``"mean-over-n"`` the sum over n (``mean-over-n``), ``"n-1"`` the sum over |B| − 1.
    """
    parameters = tuple(sorted(n for n in _names(loss) if n.startswith("w")))
    columns = ("a", "y")
    target = objective(loss, parameters + columns)
    rows = np.asarray(data, dtype=np.float64)

    def per_example(theta: np.ndarray, i: int) -> np.ndarray:
        return target.gradient(np.concatenate([theta, rows[i]]))[: len(parameters)]

    scale = {
        "mean": lambda b: 1,
        "sum": lambda b: len(b),
        "mean-over-n": lambda b: len(b) / len(rows),
        "n-1": lambda b: len(b) / (len(b) - 1),
    }[reduction]
    thetas = [np.asarray(w0, dtype=np.float64).reshape(-1)]
    for batch in batches:
        theta = thetas[-1]
        step = np.mean([per_example(theta, int(i) - 1) for i in batch], axis=0) * scale(batch)
        thetas.append(theta - float(lr) * step)
    return [plain(t)[0] if len(parameters) == 1 else plain(t) for t in thetas]


@example('epoch_step("(w*a - y)**2", [[1, 2], [2, 2]], [[1], [2]], 0.1)')
def epoch_step(
    loss: str, data: Sequence[Sequence[float]], batches: Sequence[Sequence[int]], lr: float
) -> Callable[[Sequence[Any]], Any]:
    """For error carried forward in an SGD epoch: θ_k after the student's own θ₀ … θ_{k−1}.

    One SGD step on batch k (the k-th of ``batches``) from the student's θ_{k−1}.
    """

    def following(prefix: Sequence[Any]) -> Any:
        k = len(prefix)
        if not 1 <= k <= len(batches):
            raise ValueError(f"an epoch of {len(batches)} batches has no step {k}")
        return sgd_epoch(loss, data, [batches[k - 1]], lr, prefix[-1])[1]

    return following


def _names(formula: str) -> frozenset[str]:
    from grader.expressions import parse

    return parse(formula, variables={"w", "a", "y", *(f"w{i}" for i in range(1, 10))}).names


# Stationary points -----------------------------------------------------------------


@example('stationary_points("x**3 - 3*x")')
def stationary_points(f: str) -> list[list[float]]:
    """The real points where ∇f = 0, solved exactly by sympy, in sorted order."""
    import sympy

    from grader.calculus import variables_of
    from grader.expressions import parse

    formula = parse(f)
    names = variables_of(formula)
    symbols = {n: sympy.Symbol(n, real=True) for n in names}
    expression = formula.to_sympy(symbols)
    ordered = [symbols[n] for n in names]
    solutions = sympy.solve([sympy.diff(expression, s) for s in ordered], ordered, dict=True)
    points = [
        [float(solution[s]) for s in ordered]
        for solution in solutions
        if all(solution.get(s, None) is not None and solution[s].is_real for s in ordered)
    ]
    return sorted(points, key=lambda p: [-v for v in p])


@example('classify_point("x**2 - y**2", [0, 0])')
def classify_point(f: str, point: Sequence[float]) -> str:
    """``minimum`` / ``maximum`` / ``saddle`` from the eigenvalues of the Hessian at a stationary point."""
    eigenvalues = np.linalg.eigvalsh(np.asarray(hessian(f, point)))
    if np.all(eigenvalues > 1e-12):
        return "minimum"
    if np.all(eigenvalues < -1e-12):
        return "maximum"
    if np.any(eigenvalues > 1e-12) and np.any(eigenvalues < -1e-12):
        return "saddle"
    return "degenerate"


@example('classify_points("x**3 - 3*x", [[1], [-1]])')
def classify_points(f: str, points: Sequence[Sequence[float]]) -> list[str]:
    """:func:`classify_point` for each point."""
    return [classify_point(f, p) for p in points]


@example('negate_labels(["minimum", "saddle"])')
def negate_labels(labels: Sequence[str]) -> list[str]:
    """Misconception ``hessian-sign-swapped``: minimum and maximum exchanged."""
    swap = {"minimum": "maximum", "maximum": "minimum"}
    return [swap.get(label, label) for label in labels]


# Losses of a small model on a data set -------------------------------------------------------------

Loss = Literal["mse", "half-mse", "cross-entropy"]
MAX_ROWS = 100_000  # a data set in a spec is small; a typo such as range(10**9) is refused

_LOSSES = {
    "mse": "(w*a + b - y)**2",
    "half-mse": "(w*a + b - y)**2/2",
    "cross-entropy": "-y*log(sigmoid(w*a + b)) - (1 - y)*log(1 - sigmoid(w*a + b))",
}


def _model(data: Sequence[Sequence[float]], point: Any, bias: bool) -> tuple[np.ndarray, np.ndarray]:
    rows = np.asarray(data, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != 2 or not len(rows):
        raise ValueError("data must be a list of rows [a, y] (one feature a and the label y)")
    if len(rows) > MAX_ROWS:
        raise ValueError(f"a data set of {len(rows)} rows is too large for an exercise (at most {MAX_ROWS})")
    theta = np.asarray(point, dtype=np.float64).reshape(-1)
    if len(theta) != (2 if bias else 1):
        wanted = "[w, b]" if bias else "w (the model has no bias: bias=False)"
        raise ValueError(f"the model's parameters are {wanted}, not {plain(point)!r}")
    return rows, np.append(theta, 0.0) if not bias else theta


@example("loss_gradient([[1, 2], [2, 3], [3, 4]], [1, 0])")
def loss_gradient(
    data: Sequence[Sequence[float]],
    point: Any,
    loss: Loss = "mse",
    reduction: Literal["mean", "sum"] = "mean",
    bias: bool = True,
) -> Any:
    """[∂L/∂w, ∂L/∂b] at ``point`` = [w, b] of a one-feature linear model on ``data`` rows [a, y] (sympy).

    The model is ŷ = w·a + b (without b when ``bias=False``; ``point`` is then w and the result a number).
    ``loss="mse"``: L = (1/n)·Σ(ŷ − y)²; ``"half-mse"``: half of it; ``"cross-entropy"``: p = σ(w·a + b),
    L = (1/n)·Σ −y·log p − (1 − y)·log(1 − p) (labels 0 or 1). ``reduction="sum"`` is the sum over the
    data (misconception ``sum-not-mean``). Each example's gradient comes from sympy's derivative of its loss.
    """
    rows, theta = _model(data, point, bias)
    target = objective(_LOSSES[loss], ("w", "b", "a", "y"))
    per_example = np.array([target.gradient(np.concatenate([theta, row]))[:2] for row in rows])
    total = per_example.sum(axis=0) if reduction == "sum" else per_example.mean(axis=0)
    return plain(total) if bias else float(total[0])


@example("loss_value([[1, 2], [2, 3], [3, 4]], [1, 0])")
def loss_value(
    data: Sequence[Sequence[float]],
    point: Any,
    loss: Loss = "mse",
    reduction: Literal["mean", "sum"] = "mean",
    bias: bool = True,
) -> float:
    """L(w, b), the mean loss of the one-feature linear model ŷ = w·a + b on ``data`` (see :func:`loss_gradient`)."""
    rows, theta = _model(data, point, bias)
    target = objective(_LOSSES[loss], ("w", "b", "a", "y"))
    losses = [target.value(np.concatenate([theta, row])) for row in rows]
    return float(np.sum(losses) if reduction == "sum" else np.mean(losses))


# Formulas built from parameters ------------------------------------------------------------------------


@example('formula("log(1 + exp(k*x))", k=1)')
def formula(text: str, **values: Any) -> str:
    """The formula ``text`` with numbers (or formulas in quotes) put in for its letters, tidied.

    ``formula("log(1 + exp(k*x))", k=2)`` is ``log(1 + exp(2 * x))``, and with k = 1 ``log(1 + exp(x))``
    (``1*x``, ``x + 0``, ``x**1`` and products of numbers are written out as a person would). A letter
    given that the formula does not use is refused, so a typo does not leave a parameter in f.
    """
    from grader.specs.formulas import substitute

    return substitute(text, values)


# Arithmetic on numbers and vectors -----------------------------------------------------------------------


@example("norm([3, 4])")
def norm(vector: Any) -> float:
    """The Euclidean norm ‖v‖₂ = √(Σ vᵢ²) (of a number: its absolute value)."""
    return float(np.linalg.norm(np.asarray(vector, dtype=np.float64).reshape(-1)))


@example("sqrt([4, 9])")
def _sqrt(value: Any) -> Any:
    """√x, of a number or of each component of a vector."""
    array = np.asarray(value, dtype=np.float64)
    if np.any(array < 0):
        raise ValueError(f"sqrt of a negative number ({plain(value)!r})")
    return plain(np.sqrt(array))


@example("abs([-1, 2])")
def _abs(value: Any) -> Any:
    """|x|, of a number or of each component of a vector."""
    return plain(np.abs(np.asarray(value, dtype=np.float64)))


@example("clip([3, -0.5], -1, 1)")
def clip(value: Any, low: float, high: float) -> Any:
    """x clipped to [low, high], of a number or of each component (clipping by value is ``clip(g, -c, c)``)."""
    if float(low) > float(high):
        raise ValueError(f"clip needs low ≤ high, not {low} > {high}")
    return plain(np.clip(np.asarray(value, dtype=np.float64), float(low), float(high)))


@example("clip_by_norm([6, 8], 5)")
def clip_by_norm(vector: Any, max_norm: float) -> Any:
    """The vector shortened to length c when it is longer, v·min(1, c/‖v‖) (as the core clips gradients)."""
    link = rules.ClipByNorm(float(max_norm))
    clipped, _ = link.update(np.asarray(vector, dtype=np.float64), link.init(np.zeros(1)), np.zeros(1))
    return plain(clipped)


@example("sum([[1, 2], [3, 4]])")
def _sum(values: Sequence[Any]) -> Any:
    """The sum of a list of numbers, or of vectors component by component."""
    return plain(np.sum(np.asarray(values, dtype=np.float64), axis=0))


# Python's own, as a spec may call them -----------------------------------------------------------


@example("len([4, 2, 1])")
def _len(items: Sequence[Any]) -> int:
    """The number of items of a list."""
    return len(items)


@example("min(3, 1, 2)")
def _min(*values: Any) -> float:
    """The smallest of several numbers, or of one list: ``min(a, b)``, ``min(xs)``."""
    return min(*values)


@example("max([3, 1, 2])")
def _max(*values: Any) -> float:
    """The largest of several numbers, or of one list: ``max(a, b)``, ``max(xs)``."""
    return max(*values)


@example("ceil(100 / 32)")
def _ceil(x: float) -> int:
    """The smallest whole number ≥ x."""
    return math.ceil(x)


@example("floor(100 / 32)")
def _floor(x: float) -> int:
    """The largest whole number ≤ x."""
    return math.floor(x)


@example("vector(1, 2) * 3")
def _vector(*items: float) -> list[float]:
    """A vector of the numbers given, as a list of floats: ``vector(1, 2)`` is ``[1.0, 2.0]``."""
    return plain(np.asarray(items, dtype=np.float64))


_CORE = (
    gd, momentum, ema_momentum, nesterov, adam, adamw, rmsprop, adagrad, ascent, forgot_eta, schedule_from_one,
    inverse_time, step_decay, exponential_decay, cosine_decay, warmup, step_sizes,
    iterates, path_shape, values, value, gradient, hessian, next_from, next_after, derivative, quadratic_gradient,
    numpy_array, numpy_float,
    step_factor, regime, regimes, converging_rates, curvature, interval, neg, scale,
    mean, total, batch_gradient, zero_based_batch, updates_per_epoch, sgd_epoch, epoch_step,
    loss_gradient, loss_value, formula,
    stationary_points, classify_point, classify_points, negate_labels, plain, norm, clip, clip_by_norm,
)  # fmt: skip

FUNCTIONS: dict[str, Callable[..., Any]] = {function.__name__: function for function in _CORE} | {
    "len": _len,
    "min": _min,
    "max": _max,
    "ceil": _ceil,
    "floor": _floor,
    "vector": _vector,
    "sqrt": _sqrt,
    "abs": _abs,
    "sum": _sum,
}
"""Every name a spec expression may call; docs/specs.md lists them (``grader exercises functions --write``)."""

language.KINDS[Rule] = language.Kind(
    "an update rule such as gd(0.1) or adam(0.01)",
    lambda value: callable(getattr(value, "update", None)) and callable(getattr(value, "init", None)),
)
language.KINDS[Schedule] = language.Kind(
    "a step-size schedule such as step_decay(0.5, 2) or inverse_time(0.5)",
    lambda value: callable(getattr(value, "rate", None)),
)
