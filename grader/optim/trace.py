"""Running an update rule on an objective, and the off-by-one slips of listing its path.

Steps are counted as in the lecture: x₀ is the start, x_t the point after t
updates, so a run of N steps has the N + 1 points x₀, x₁, …, x_N.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from grader.optim.objective import Objective
from grader.optim.rules import Rule

__all__ = ["Trace", "one_step_too_few", "one_step_too_many", "run", "without_start"]


@dataclass(frozen=True)
class Trace:
    """The path of an optimizer.

    Attributes:
        iterates: x₀, …, x_N as a float64 array of shape (N + 1, d).
        values: f(x₀), …, f(x_N), shape (N + 1,).
        gradients: ∇f(x₀), …, ∇f(x_N), shape (N + 1, d).
        diverged_at: the step t at which x_t, f(x_t) or ∇f(x_t) was not a
            finite number (overflow, inf, nan); the run stopped there and
            keeps only steps 0 … t − 1. ``None`` if the run completed.
    """

    iterates: np.ndarray
    values: np.ndarray
    gradients: np.ndarray
    diverged_at: int | None = None

    @property
    def steps(self) -> int:
        """Number of updates recorded (rows − 1)."""
        return len(self.values) - 1

    def to_json(self) -> dict[str, Any]:
        """``{"iterates": [[…], …], "values": […], "gradients": [[…], …]}`` of Python floats.

        Floats keep full precision (``json.dumps`` writes their shortest
        round-tripping form). ``"diverged_at"`` is added only if the run diverged.
        """
        data: dict[str, Any] = {
            "iterates": self.iterates.tolist(),
            "values": self.values.tolist(),
            "gradients": self.gradients.tolist(),
        }
        if self.diverged_at is not None:
            data["diverged_at"] = self.diverged_at
        return data


def run(rule: Rule, objective: Objective, x0: ArrayLike, steps: int) -> Trace:
    """Apply ``rule`` ``steps`` times from ``x0`` and record x_t, f(x_t), ∇f(x_t) for t = 0 … steps.

    x_{t+1} is ``rule.update(x_t, ∇f(x_t), state)``. The run stops early,
    without raising or warning, at the first step whose point, value or
    gradient is not finite, and records that step in ``diverged_at``.

    Args:
        rule: an update rule (see :mod:`grader.optim.rules`).
        objective: the function f to minimise.
        x0: starting point, d numbers (a number when d = 1).
        steps: number of updates N ≥ 0.

    Raises:
        ValueError: if ``x0`` is not a finite point of the objective's
            dimension or ``steps`` is not a non-negative integer.
    """
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}.")
    x = objective.point(x0)
    if not np.isfinite(x).all():
        raise ValueError(f"x0 must be finite, got {x.tolist()}.")
    state = rule.init(x)
    iterates: list[np.ndarray] = []
    values: list[float] = []
    gradients: list[np.ndarray] = []
    diverged_at = None
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            try:
                if t:
                    x, state = rule.update(x, gradients[-1], state)
                value = objective.value(x)
                gradient = objective.gradient(x)
            except (OverflowError, ZeroDivisionError):
                finite = False
            else:
                finite = math.isfinite(value) and np.isfinite(x).all() and np.isfinite(gradient).all()
            if not finite:
                diverged_at = t
                break
            iterates.append(x)
            values.append(value)
            gradients.append(gradient)
    d = objective.dim
    return Trace(
        iterates=np.array(iterates, dtype=np.float64).reshape(-1, d),
        values=np.array(values, dtype=np.float64),
        gradients=np.array(gradients, dtype=np.float64).reshape(-1, d),
        diverged_at=diverged_at,
    )


def without_start(trace: Trace) -> Trace:
    """The ``off-by-one`` slip of listing x₁, …, x_N without the start x₀.

    Drops the first row of iterates, values and gradients; ``diverged_at``
    (a step number of the run) is kept.
    """
    return Trace(trace.iterates[1:], trace.values[1:], trace.gradients[1:], trace.diverged_at)


def one_step_too_few(trace: Trace) -> Trace:
    """The ``off-by-one`` slip of stopping one update early: x₀, …, x_{N−1}.

    Drops the last row of iterates, values and gradients; ``diverged_at`` is kept.
    """
    return Trace(trace.iterates[:-1], trace.values[:-1], trace.gradients[:-1], trace.diverged_at)


def one_step_too_many(rule: Rule, objective: Objective, x0: ArrayLike, steps: int) -> Trace:
    """The ``off-by-one`` slip of doing one update too many: x₀, …, x_{N+1}.

    Same as ``run(rule, objective, x0, steps + 1)``.
    """
    return run(rule, objective, x0, steps + 1)
