"""Update rules of first-order optimizers, right and wrong.

Each rule is a small frozen dataclass with two pure methods, in the style of
optax's gradient transformations::

    state = rule.init(x0)
    x1, state = rule.update(x0, grad_f(x0), state)

``update`` never modifies its arguments; the state is an immutable NamedTuple.
The formulas and defaults are those documented for ``torch.optim`` (PyTorch
2.x), so a student who checks an answer with PyTorch gets the same numbers. In
the formulas, g is the gradient at x, η the learning rate (``lr``), t the
step count starting at 1, and all operations act element-wise.

The misconceptions students have are rules too, so that the grader can
recompute an answer under the wrong belief and recognise it:

* :func:`ascent` (sign flipped, moves uphill), id ``sign-error``;
* :func:`forgot_eta` (the step without η), id ``forgot-eta``;
* ``Momentum(ema=True)`` (momentum as an EMA with 1 − β);
* ``Adam(bias_correction=False)`` (Adam without m̂ and v̂).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "RULES",
    "Adagrad",
    "AdagradState",
    "Adam",
    "AdamState",
    "Ascent",
    "EmptyState",
    "Momentum",
    "MomentumState",
    "RMSprop",
    "RMSpropState",
    "Rule",
    "SGD",
    "ascent",
    "forgot_eta",
    "make_rule",
]


class Rule(Protocol):
    """What every update rule provides."""

    @property
    def lr(self) -> float: ...

    def init(self, x: ArrayLike) -> Any: ...

    def update(self, x: ArrayLike, g: ArrayLike, state: Any) -> tuple[np.ndarray, Any]: ...


class EmptyState(NamedTuple):
    """State of a rule that keeps none."""


class MomentumState(NamedTuple):
    """Steps taken so far and the momentum buffer b."""

    step: int
    buffer: np.ndarray


class AdagradState(NamedTuple):
    """Steps taken so far and the running sum of squared gradients s."""

    step: int
    sum: np.ndarray


class RMSpropState(NamedTuple):
    """The moving average of squared gradients v."""

    square_avg: np.ndarray


class AdamState(NamedTuple):
    """Steps taken so far and the moment estimates m (of g) and v (of g²)."""

    step: int
    m: np.ndarray
    v: np.ndarray


def _array(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return value


def _positive(name: str, value: Any) -> float:
    value = _number(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}.")
    return value


def _non_negative(name: str, value: Any) -> float:
    value = _number(name, value)
    if value < 0:
        raise ValueError(f"{name} must be ≥ 0, got {value!r}.")
    return value


def _fraction(name: str, value: Any, *, one: bool = False) -> float:
    """A number in [0, 1), or in [0, 1] if ``one``."""
    value = _number(name, value)
    if not (0 <= value < 1 or (one and value == 1)):
        raise ValueError(f"{name} must be in [0, 1{']' if one else ')'}, got {value!r}.")
    return value


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class SGD:
    """Gradient descent, full-batch (GD) or on mini-batches (SGD).

    x ← x − η g, with g ← g + λx first when ``weight_decay`` λ > 0.
    Reference: ``torch.optim.SGD(lr, momentum=0, weight_decay)``.

    Args:
        lr: learning rate η > 0 (PyTorch default 1e-3).
        weight_decay: L2 penalty λ ≥ 0 added to the gradient (default 0).
    """

    lr: float = 1e-3
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "lr", _positive("lr", self.lr))
        _set(self, "weight_decay", _non_negative("weight_decay", self.weight_decay))

    def init(self, x: ArrayLike) -> EmptyState:
        return EmptyState()

    def update(self, x: ArrayLike, g: ArrayLike, state: EmptyState) -> tuple[np.ndarray, EmptyState]:
        x, g = _array(x), _array(g)
        if self.weight_decay:
            g = g + self.weight_decay * x
        return x - self.lr * g, state


@dataclass(frozen=True)
class Momentum:
    """SGD with heavy-ball momentum, or Nesterov momentum.

    As in the lecture (g_t = β g_{t−1} + ∇f(x_t), x_{t+1} = x_t − η g_t) and
    ``torch.optim.SGD(lr, momentum=β, dampening=τ, nesterov, weight_decay)``:

        g ← g + λx                          (if weight_decay λ > 0)
        b ← g                   on step 1,
        b ← βb + (1 − τ)g       afterwards  (τ = dampening, 0 by default)
        d ← g + βb if nesterov, else b
        x ← x − η d

    With ``ema=True`` the rule models the misconception of writing momentum
    as an exponential moving average, b ← βb + (1 − β)g starting from b = 0,
    which shrinks every step by about (1 − β) compared with the lecture's rule
    (first step: b = (1 − β)g instead of g).

    Args:
        lr: learning rate η > 0 (PyTorch default 1e-3).
        momentum: β in [0, 1) (default 0.9; PyTorch's 0 means plain SGD).
            With β = 0 the rule is plain gradient descent, with or without
            Nesterov (PyTorch refuses nesterov with β = 0).
        dampening: τ in [0, 1] (default 0); must be 0 with nesterov or ema.
        weight_decay: L2 penalty λ ≥ 0 added to the gradient (default 0).
        nesterov: use the Nesterov step g + βb (default False).
        ema: the EMA misconception above (default False).
    """

    lr: float = 1e-3
    momentum: float = 0.9
    dampening: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    ema: bool = False

    def __post_init__(self) -> None:
        _set(self, "lr", _positive("lr", self.lr))
        _set(self, "momentum", _fraction("momentum", self.momentum))
        _set(self, "dampening", _fraction("dampening", self.dampening, one=True))
        _set(self, "weight_decay", _non_negative("weight_decay", self.weight_decay))
        if self.dampening and (self.nesterov or self.ema):
            raise ValueError("dampening must be 0 with nesterov or ema momentum.")

    def init(self, x: ArrayLike) -> MomentumState:
        return MomentumState(step=0, buffer=np.zeros_like(_array(x)))

    def update(self, x: ArrayLike, g: ArrayLike, state: MomentumState) -> tuple[np.ndarray, MomentumState]:
        x, g = _array(x), _array(g)
        if self.weight_decay:
            g = g + self.weight_decay * x
        beta = self.momentum
        if self.ema:
            b = beta * state.buffer + (1 - beta) * g
        elif state.step == 0:
            b = g
        else:
            b = beta * state.buffer + (1 - self.dampening) * g
        d = g + beta * b if self.nesterov else b
        return x - self.lr * d, MomentumState(step=state.step + 1, buffer=b)


@dataclass(frozen=True)
class Adagrad:
    """Adagrad: steps scaled by the root of the sum of all squared gradients.

    As in ``torch.optim.Adagrad``:

        g ← g + λx                          (if weight_decay λ > 0)
        η_t = η / (1 + (t − 1)·lr_decay)
        s ← s + g²                          (s₀ = initial_accumulator_value)
        x ← x − η_t g / (√s + ε)

    Args:
        lr: learning rate η > 0 (PyTorch default 0.01).
        eps: ε ≥ 0 added to the denominator (PyTorch default 1e-10).
        lr_decay: ≥ 0 (default 0).
        initial_accumulator_value: s₀ ≥ 0 (default 0).
        weight_decay: L2 penalty λ ≥ 0 added to the gradient (default 0).
    """

    lr: float = 1e-2
    eps: float = 1e-10
    lr_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "lr", _positive("lr", self.lr))
        _set(self, "eps", _non_negative("eps", self.eps))
        _set(self, "lr_decay", _non_negative("lr_decay", self.lr_decay))
        _set(
            self,
            "initial_accumulator_value",
            _non_negative("initial_accumulator_value", self.initial_accumulator_value),
        )
        _set(self, "weight_decay", _non_negative("weight_decay", self.weight_decay))

    def init(self, x: ArrayLike) -> AdagradState:
        return AdagradState(step=0, sum=np.full_like(_array(x), self.initial_accumulator_value))

    def update(self, x: ArrayLike, g: ArrayLike, state: AdagradState) -> tuple[np.ndarray, AdagradState]:
        x, g = _array(x), _array(g)
        if self.weight_decay:
            g = g + self.weight_decay * x
        lr = self.lr / (1 + state.step * self.lr_decay)
        s = state.sum + g * g
        return x - lr * g / (np.sqrt(s) + self.eps), AdagradState(step=state.step + 1, sum=s)


@dataclass(frozen=True)
class RMSprop:
    """RMSprop: steps scaled by the root of a moving average of squared gradients.

    As in ``torch.optim.RMSprop`` (momentum=0, centered=False):

        g ← g + λx                          (if weight_decay λ > 0)
        v ← αv + (1 − α)g²                  (v₀ = 0)
        x ← x − η g / (√v + ε)

    Args:
        lr: learning rate η > 0 (PyTorch default 0.01).
        alpha: smoothing constant α in [0, 1) (PyTorch default 0.99).
        eps: ε ≥ 0 added to the denominator (PyTorch default 1e-8).
        weight_decay: L2 penalty λ ≥ 0 added to the gradient (default 0).
    """

    lr: float = 1e-2
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "lr", _positive("lr", self.lr))
        _set(self, "alpha", _fraction("alpha", self.alpha))
        _set(self, "eps", _non_negative("eps", self.eps))
        _set(self, "weight_decay", _non_negative("weight_decay", self.weight_decay))

    def init(self, x: ArrayLike) -> RMSpropState:
        return RMSpropState(square_avg=np.zeros_like(_array(x)))

    def update(self, x: ArrayLike, g: ArrayLike, state: RMSpropState) -> tuple[np.ndarray, RMSpropState]:
        x, g = _array(x), _array(g)
        if self.weight_decay:
            g = g + self.weight_decay * x
        v = self.alpha * state.square_avg + (1 - self.alpha) * (g * g)
        return x - self.lr * g / (np.sqrt(v) + self.eps), RMSpropState(square_avg=v)


@dataclass(frozen=True)
class Adam:
    """Adam: momentum on g, scaled by a moving average of g², both bias-corrected.

    As in ``torch.optim.Adam`` (amsgrad=False):

        g ← g + λx                          (if weight_decay λ > 0)
        m ← β₁m + (1 − β₁)g                 (m₀ = 0)
        v ← β₂v + (1 − β₂)g²                (v₀ = 0)
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
        x ← x − η m̂ / (√v̂ + ε)

    The first step is x − η g/(|g| + ε) ≈ x − η·sign(g).

    With ``bias_correction=False`` the rule models the misconception of
    using m and v directly (m̂ = m, v̂ = v): the early steps then have the
    wrong size, the first one η(1 − β₁)/√(1 − β₂) ≈ 3.16η with the defaults.

    Args:
        lr: learning rate η > 0 (PyTorch default 1e-3).
        betas: (β₁, β₂), each in [0, 1) (PyTorch default (0.9, 0.999)).
        eps: ε ≥ 0 added to the denominator (PyTorch default 1e-8).
        weight_decay: L2 penalty λ ≥ 0 added to the gradient (default 0).
        bias_correction: divide by 1 − βᵗ (default True).
    """

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    bias_correction: bool = True

    def __post_init__(self) -> None:
        _set(self, "lr", _positive("lr", self.lr))
        betas = tuple(self.betas) if isinstance(self.betas, tuple | list) else ()
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {self.betas!r}.")
        _set(self, "betas", (_fraction("beta1", betas[0]), _fraction("beta2", betas[1])))
        _set(self, "eps", _non_negative("eps", self.eps))
        _set(self, "weight_decay", _non_negative("weight_decay", self.weight_decay))

    def init(self, x: ArrayLike) -> AdamState:
        zeros = np.zeros_like(_array(x))
        return AdamState(step=0, m=zeros, v=zeros)

    def update(self, x: ArrayLike, g: ArrayLike, state: AdamState) -> tuple[np.ndarray, AdamState]:
        x, g = _array(x), _array(g)
        if self.weight_decay:
            g = g + self.weight_decay * x
        beta1, beta2 = self.betas
        t = state.step + 1
        m = beta1 * state.m + (1 - beta1) * g
        v = beta2 * state.v + (1 - beta2) * (g * g)
        if self.bias_correction:
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        else:
            m_hat, v_hat = m, v
        return x - self.lr * m_hat / (np.sqrt(v_hat) + self.eps), AdamState(step=t, m=m, v=v)


@dataclass(frozen=True)
class Ascent:
    """A rule run on −g: it climbs f instead of descending it.

    Models the ``sign-error`` misconception (x ← x + η g for gradient
    descent: from x₀ = 4 on x² + 2 with η = 0.25 it goes 4, 6, 9, …). Equal
    to PyTorch's ``maximize=True`` option of the wrapped optimizer.

    Args:
        rule: the rule whose sign is flipped.
    """

    rule: Rule

    @property
    def lr(self) -> float:
        return self.rule.lr

    def init(self, x: ArrayLike) -> Any:
        return self.rule.init(x)

    def update(self, x: ArrayLike, g: ArrayLike, state: Any) -> tuple[np.ndarray, Any]:
        return self.rule.update(x, -_array(g), state)


def ascent(rule: Rule) -> Ascent:
    """The ``sign-error`` misconception: ``rule`` moving uphill, on −g (see :class:`Ascent`)."""
    return Ascent(rule)


def forgot_eta(rule: Rule) -> Rule:
    """The ``forgot-eta`` misconception: ``rule`` with its learning rate η replaced by 1.

    The student dropped the factor η from the step: x ← x − g for gradient
    descent (from [4, 3] with ∇f = [1, 2]: [3, 1]), x ← x − b for momentum,
    x ← x − m̂/(√v̂ + ε) for Adam. The sign error of an :class:`Ascent` is kept.
    """
    if isinstance(rule, Ascent):
        return Ascent(forgot_eta(rule.rule))
    return dataclasses.replace(rule, lr=1.0)


RULES: dict[str, Callable[..., Rule]] = {
    "gd": SGD,
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": functools.partial(Momentum, nesterov=True),
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def make_rule(
    name: str,
    *,
    lr: float | None = None,
    momentum: float | None = None,
    alpha: float | None = None,
    betas: tuple[float, float] | None = None,
    eps: float | None = None,
    **options: Any,
) -> Rule:
    """Build the rule ``name`` of :data:`RULES` with PyTorch's defaults for what is not given.

    Args:
        name: one of gd, sgd, momentum, nesterov, adagrad, rmsprop, adam.
        lr: learning rate η (> 0, finite).
        momentum: β of momentum and nesterov, in [0, 1).
        alpha: α of rmsprop, in [0, 1).
        betas: (β₁, β₂) of adam, each in [0, 1).
        eps: ε of adagrad, rmsprop and adam (≥ 0).
        **options: any other field of the rule's class, e.g. ``weight_decay``,
            ``dampening``, ``ema=True``, ``bias_correction=False``, ``lr_decay``.
            A value of ``None`` means "not given", everywhere.

    Raises:
        ValueError: with one sentence, for an unknown name, an option the rule
            does not take, or an invalid value.
    """
    key = str(name).strip().lower()
    if key not in RULES:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {', '.join(sorted(RULES))}.")
    factory = RULES[key]
    cls = factory.func if isinstance(factory, functools.partial) else factory
    fixed = factory.keywords if isinstance(factory, functools.partial) else {}
    accepted = [f.name for f in dataclasses.fields(cls) if f.name not in fixed]
    given = dict(lr=lr, momentum=momentum, alpha=alpha, betas=betas, eps=eps, **options)
    given = {k: v for k, v in given.items() if v is not None}
    for option in given:
        if option not in accepted:
            raise ValueError(f"Option {option!r} does not apply to {key!r}, which takes {', '.join(accepted)}.")
    return factory(**given)
