"""Step-size schedules: the learning rate η_t of update t, for any update rule.

A schedule gives the rate of each update from the base learning rate η and
t, the number of updates made before it (t = 0 for the first update), as
PyTorch's ``torch.optim.lr_scheduler`` does when ``scheduler.step()`` is
called once after every ``optimizer.step()``: the first update uses η
itself (except during a warm-up). Each schedule is a small frozen dataclass
with :meth:`rate`; :class:`~grader.optim.rules.ScaleByLearningRate` calls it
with the step count it keeps, so a schedule works with every rule of
:mod:`grader.optim.rules` (GD, momentum, Adam, …)::

    InverseTime(0.5)            η_t = η / (1 + 0.5·t)                     (optax inverse_time_decay)
    StepDecay(0.5, every=2)     η_t = η · 0.5^⌊t/2⌋                      (torch StepLR)
    Exponential(0.9)            η_t = η · 0.9^t                           (torch ExponentialLR)
    Cosine(10, min_lr=0)        η_t = η_min + (η − η_min)(1 + cos(π·min(t, 10)/10))/2   (torch CosineAnnealingLR)
    Warmup(4)                   η_t = η · min(1, (t + 1)/4)               (torch LinearLR(1/4, total_iters=3))

A misconception about a schedule is a change of the rate link
(:func:`grader.optim.rules.without_schedule`: η kept constant;
:func:`grader.optim.rules.schedule_from_one`: t counted from 1).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Cosine", "Exponential", "InverseTime", "Schedule", "StepDecay", "Warmup"]


class Schedule(Protocol):
    """What every schedule provides: the rate of an update."""

    def rate(self, lr: float, step: int) -> float:
        """η_t for the update after ``step`` earlier ones (0 for the first), from the base rate ``lr``."""
        ...


def _number(name: str, value: Any, *, low: float, strict: bool, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    value = float(value)
    if value < low or (strict and value == low) or (high is not None and value > high):
        bound = f"> {low:g}" if strict else f"≥ {low:g}"
        if high is not None:
            bound += f" and ≤ {high:g}"
        raise ValueError(f"{name} must be {bound}, got {value!r}.")
    return value


def _whole(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or float(value) != int(value) or value < 1:
        raise ValueError(f"{name} must be a whole number ≥ 1, got {value!r}.")
    return int(value)


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class InverseTime:
    """Inverse-time decay: η_t = η / (1 + k·t/s), t the updates before this one.

    optax's ``inverse_time_decay`` and Keras's ``InverseTimeDecay`` (without
    staircase); with s = 1 it is Adagrad's ``lr_decay`` k.

    Args:
        decay: k ≥ 0.
        every: s ≥ 1, the updates over which the rate falls to η/(1 + k).
    """

    decay: float
    every: int = 1

    def __post_init__(self) -> None:
        _set(self, "decay", _number("decay", self.decay, low=0, strict=False))
        _set(self, "every", _whole("every", self.every))

    def rate(self, lr: float, step: int) -> float:
        return lr / (1 + self.decay * step / self.every)


@dataclass(frozen=True)
class StepDecay:
    """Step decay: η_t = η·γ^⌊t/s⌋, the rate multiplied by γ every s updates (``torch.optim.lr_scheduler.StepLR``).

    Args:
        gamma: γ in (0, 1].
        every: s ≥ 1 (PyTorch's ``step_size``).
    """

    gamma: float
    every: int

    def __post_init__(self) -> None:
        _set(self, "gamma", _number("gamma", self.gamma, low=0, strict=True, high=1))
        _set(self, "every", _whole("every", self.every))

    def rate(self, lr: float, step: int) -> float:
        return lr * self.gamma ** (step // self.every)


@dataclass(frozen=True)
class Exponential:
    """Exponential decay: η_t = η·γ^t (``torch.optim.lr_scheduler.ExponentialLR``).

    Args:
        gamma: γ in (0, 1].
    """

    gamma: float

    def __post_init__(self) -> None:
        _set(self, "gamma", _number("gamma", self.gamma, low=0, strict=True, high=1))

    def rate(self, lr: float, step: int) -> float:
        return lr * self.gamma**step


@dataclass(frozen=True)
class Cosine:
    """Cosine decay over T updates: η_t = η_min + (η − η_min)(1 + cos(π·min(t, T)/T))/2.

    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=T, eta_min=η_min)``
    for t ≤ T; after T the rate stays at η_min (as optax's ``cosine_decay_schedule``;
    PyTorch's would rise again).

    Args:
        steps: T ≥ 1.
        min_lr: η_min ≥ 0 (default 0).
    """

    steps: int
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "steps", _whole("steps", self.steps))
        _set(self, "min_lr", _number("min_lr", self.min_lr, low=0, strict=False))

    def rate(self, lr: float, step: int) -> float:
        t = min(step, self.steps)
        return self.min_lr + (lr - self.min_lr) * (1 + math.cos(math.pi * t / self.steps)) / 2


@dataclass(frozen=True)
class Warmup:
    """Linear warm-up over w updates: η_t = η·(t + 1)/w for t < w, then η (or ``then``'s rate at t − w).

    The first update uses η/w, the w-th uses η. Equal to
    ``torch.optim.lr_scheduler.LinearLR(start_factor=1/w, total_iters=w − 1)``, and with
    ``then`` to ``SequentialLR([that, then], milestones=[w])``.

    Args:
        steps: w ≥ 1.
        then: the schedule after the warm-up (default: constant η).
    """

    steps: int
    then: Any = None

    def __post_init__(self) -> None:
        _set(self, "steps", _whole("steps", self.steps))
        if self.then is not None and not callable(getattr(self.then, "rate", None)):
            raise ValueError(f"then must be a schedule, got {self.then!r}.")

    def rate(self, lr: float, step: int) -> float:
        if step < self.steps:
            return lr * (step + 1) / self.steps
        return lr if self.then is None else self.then.rate(lr, step - self.steps)
