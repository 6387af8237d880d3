"""Update rules of first-order optimizers, right and wrong, built from small links.

As in optax, an optimizer is a chain of small transformations of the
gradient, each with its own state and each written once (weight decay is one
link, shared by every optimizer)::

    gradient g ─▶ [clip] ─▶ [sign] ─▶ [weight decay] ─▶ momentum / EMA / Adam moments ─▶ [decoupled decay]
               ─▶ scale by −η_t (a constant η, or a schedule of :mod:`grader.optim.schedules`) ─▶ x + u

A :class:`Chain` of :class:`Link` objects is a rule::

    state = rule.init(x0)
    x1, state = rule.update(x0, grad_f(x0), state)

``update`` never modifies its arguments; states are immutable NamedTuples.
The named optimizers (:class:`SGD`, :class:`Momentum`, :class:`Adagrad`,
:class:`RMSprop`, :class:`Adam`, :class:`AdamW`) are frozen dataclasses holding PyTorch's
hyper-parameters (validated, with ``torch.optim``'s defaults) that build
their chain in :meth:`links`; a student who checks an answer with PyTorch
gets the same numbers. In the formulas, g is the gradient at x, η the
learning rate (``lr``), t the step count starting at 1, and all operations
act element-wise. Any rule takes a step-size schedule (:func:`scheduled`) and
gradient clipping by norm or by value (:func:`clipped`).

A misconception about an update rule is one link swapped or dropped
(:func:`rewire`): moving uphill (:func:`ascent`, a sign link in front),
η left out (:func:`forgot_eta`), momentum written as an EMA
(:func:`ema_momentum`), β forgotten, the Nesterov look-ahead dropped, RMSprop
without (1 − α), Adam without bias correction (of m, v or both) or counting
t from 0, ε inside the root, AMSGrad's maximum dropped, AdamW's decay added
to the gradient, the schedule not applied or counted from 1, the clipping
left out or done by value where the norm belongs (and the reverse).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "RULES",
    "AddDecoupledWeightDecay",
    "AddWeightDecay",
    "Adagrad",
    "AdagradState",
    "Adam",
    "AdamState",
    "AdamW",
    "Ascent",
    "Chain",
    "ChainState",
    "ClipByNorm",
    "ClipByValue",
    "EmptyState",
    "FlipSign",
    "Link",
    "Momentum",
    "MomentumState",
    "RMSprop",
    "RMSpropState",
    "Rule",
    "SGD",
    "ScaleByAdam",
    "ScaleByLearningRate",
    "ScaleByRms",
    "ScaleBySumOfSquares",
    "StepState",
    "Trace",
    "ascent",
    "bias_correction_from_zero",
    "bias_correction_of",
    "clip_norm_for_value",
    "clip_value_for_norm",
    "clipped",
    "coupled_weight_decay",
    "ema_momentum",
    "eps_moved",
    "forgot_beta",
    "forgot_eta",
    "make_rule",
    "rewire",
    "rms_without_one_minus_alpha",
    "schedule_from_one",
    "scheduled",
    "with_lr",
    "without_adaptive_scaling",
    "without_amsgrad",
    "without_bias_correction",
    "without_clipping",
    "without_momentum",
    "without_nesterov",
    "without_schedule",
]


class Rule(Protocol):
    """What every update rule provides."""

    @property
    def lr(self) -> float: ...

    def init(self, x: ArrayLike) -> Any: ...

    def update(self, x: ArrayLike, g: ArrayLike, state: Any) -> tuple[np.ndarray, Any]: ...


class Link(Protocol):
    """One transformation of the update u (the gradient, at the start of the chain)."""

    def init(self, x: np.ndarray) -> Any: ...

    def update(self, u: np.ndarray, state: Any, x: np.ndarray) -> tuple[np.ndarray, Any]: ...


# States ----------------------------------------------------------------------------------


class EmptyState(NamedTuple):
    """State of a link that keeps none."""


class StepState(NamedTuple):
    """Steps taken so far (for a learning-rate schedule)."""

    step: int


class MomentumState(NamedTuple):
    """Steps taken so far and the momentum buffer b."""

    step: int
    buffer: np.ndarray


class AdagradState(NamedTuple):
    """The running sum of squared gradients s."""

    sum: np.ndarray


class RMSpropState(NamedTuple):
    """The moving average of squared gradients v."""

    square_avg: np.ndarray


class AdamState(NamedTuple):
    """Steps taken so far, the moment estimates m (of g) and v (of g²), and AMSGrad's running maximum of v."""

    step: int
    m: np.ndarray
    v: np.ndarray
    v_max: np.ndarray | None = None


class ChainState(tuple):
    """The states of a chain's links, in order; ``state.buffer``, ``state.m`` … read the first link that has it."""

    def __getattr__(self, name: str) -> Any:
        for state in self:
            if name in getattr(state, "_fields", ()):
                return getattr(state, name)
        raise AttributeError(name)


# Checks of hyper-parameters -----------------------------------------------------------


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


# Links ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipByNorm:
    """Gradient clipping by norm: u ← u·min(1, c/‖u‖₂), the gradient shortened to length c when longer.

    ``torch.nn.utils.clip_grad_norm_(…, max_norm=c)`` before the step (PyTorch divides by ‖u‖ + 10⁻⁶,
    a relative difference of about 10⁻⁶/‖u‖), optax's ``clip_by_global_norm``.
    """

    max_norm: float

    def __post_init__(self) -> None:
        _set(self, "max_norm", _positive("max_norm", self.max_norm))

    def init(self, x: np.ndarray) -> EmptyState:
        return EmptyState()

    def update(self, u: np.ndarray, state: EmptyState, x: np.ndarray) -> tuple[np.ndarray, EmptyState]:
        norm = float(np.sqrt(np.sum(u * u)))
        return (u * (self.max_norm / norm) if norm > self.max_norm else u), state


@dataclass(frozen=True)
class ClipByValue:
    """Gradient clipping by value: each component clipped to [−c, c] (``torch.nn.utils.clip_grad_value_``)."""

    max_value: float

    def __post_init__(self) -> None:
        _set(self, "max_value", _positive("max_value", self.max_value))

    def init(self, x: np.ndarray) -> EmptyState:
        return EmptyState()

    def update(self, u: np.ndarray, state: EmptyState, x: np.ndarray) -> tuple[np.ndarray, EmptyState]:
        return np.clip(u, -self.max_value, self.max_value), state


@dataclass(frozen=True)
class FlipSign:
    """u ← −u: placed first, the rule climbs f instead of descending it (PyTorch's ``maximize=True``)."""

    def init(self, x: np.ndarray) -> EmptyState:
        return EmptyState()

    def update(self, u: np.ndarray, state: EmptyState, x: np.ndarray) -> tuple[np.ndarray, EmptyState]:
        return -u, state


@dataclass(frozen=True)
class AddWeightDecay:
    """u ← u + λx (L2 penalty λ added to the gradient, as ``weight_decay`` in ``torch.optim``)."""

    weight_decay: float

    def init(self, x: np.ndarray) -> EmptyState:
        return EmptyState()

    def update(self, u: np.ndarray, state: EmptyState, x: np.ndarray) -> tuple[np.ndarray, EmptyState]:
        return u + self.weight_decay * x, state


@dataclass(frozen=True)
class AddDecoupledWeightDecay:
    """u ← u + λx after the preconditioner (AdamW's decoupled decay): scaled by −η_t next, x loses η_t·λ·x.

    As ``torch.optim.AdamW`` (x ← x − ηλx, then the Adam step) and optax's ``add_decayed_weights``.
    """

    weight_decay: float

    def init(self, x: np.ndarray) -> EmptyState:
        return EmptyState()

    def update(self, u: np.ndarray, state: EmptyState, x: np.ndarray) -> tuple[np.ndarray, EmptyState]:
        return u + self.weight_decay * x, state


@dataclass(frozen=True)
class Trace:
    """Momentum buffer b of the lecture and of ``torch.optim.SGD``.

        b ← g                   on step 1 (``start="gradient"``),
        b ← βb + w g            afterwards (and from b₀ = 0 on step 1 with ``start="zero"``),
        u ← g + βb if nesterov, else b

    with w = 1 − τ (τ = dampening, 0 by default), or w = 1 − β when ``ema``
    (momentum written as an exponential moving average, a misconception).

    Args:
        decay: β (not validated here: a misconception may use β = 1).
        dampening: τ.
        nesterov: step along g + βb (look ahead with the new buffer).
        ema: weigh the new gradient by 1 − β.
        start: ``"gradient"`` (b₁ = g) or ``"zero"`` (b₀ = 0).
    """

    decay: float
    dampening: float = 0.0
    nesterov: bool = False
    ema: bool = False
    start: Literal["gradient", "zero"] = "gradient"

    def init(self, x: np.ndarray) -> MomentumState:
        return MomentumState(step=0, buffer=np.zeros_like(x))

    def update(self, u: np.ndarray, state: MomentumState, x: np.ndarray) -> tuple[np.ndarray, MomentumState]:
        beta = self.decay
        weight = (1 - beta) if self.ema else (1 - self.dampening)
        if state.step == 0 and self.start == "gradient":
            b = u
        else:
            b = beta * state.buffer + weight * u
        out = u + beta * b if self.nesterov else b
        return out, MomentumState(step=state.step + 1, buffer=b)


@dataclass(frozen=True)
class ScaleBySumOfSquares:
    """Adagrad's preconditioner: s ← s + u², u ← u / (√s + ε), with s₀ = ``initial``."""

    eps: float
    initial: float = 0.0

    def init(self, x: np.ndarray) -> AdagradState:
        return AdagradState(sum=np.full_like(x, self.initial))

    def update(self, u: np.ndarray, state: AdagradState, x: np.ndarray) -> tuple[np.ndarray, AdagradState]:
        s = state.sum + u * u
        return u / (np.sqrt(s) + self.eps), AdagradState(sum=s)


@dataclass(frozen=True)
class ScaleByRms:
    """RMSprop's preconditioner: v ← αv + w u² (v₀ = 0), u ← u / (√v + ε).

    w = 1 − α as in PyTorch; ``new_weight=1`` is the misconception v ← αv + u².
    """

    alpha: float
    eps: float
    new_weight: float | None = None

    def init(self, x: np.ndarray) -> RMSpropState:
        return RMSpropState(square_avg=np.zeros_like(x))

    def update(self, u: np.ndarray, state: RMSpropState, x: np.ndarray) -> tuple[np.ndarray, RMSpropState]:
        weight = (1 - self.alpha) if self.new_weight is None else self.new_weight
        v = self.alpha * state.square_avg + weight * (u * u)
        return u / (np.sqrt(v) + self.eps), RMSpropState(square_avg=v)


@dataclass(frozen=True)
class ScaleByAdam:
    """Adam's moments and bias correction (``torch.optim.Adam``):

        m ← β₁m + (1 − β₁)u,  v ← β₂v + (1 − β₂)u²     (m₀ = v₀ = 0)
        v_max ← max(v_max, v)                           (AMSGrad only; v is then v_max below)
        m̂ = m / (1 − β₁ᵗ),    v̂ = v / (1 − β₂ᵗ)
        u ← m̂ / (√v̂ + ε)     (or m̂ / √(v̂ + ε) with ``eps_inside``)

    ``bias_correction``: True corrects both moments, ``"m"`` only m, ``"v"``
    only v, False neither. ``count_from=0`` is the misconception of counting t
    from 0 (the first step then cannot divide by 1 − β⁰ = 0 and goes
    uncorrected, step k uses the exponent k − 1).
    """

    beta1: float
    beta2: float
    eps: float
    bias_correction: bool | Literal["m", "v"] = True
    count_from: int = 1
    eps_inside: bool = False
    amsgrad: bool = False

    def init(self, x: np.ndarray) -> AdamState:
        zeros = np.zeros_like(x)
        return AdamState(step=0, m=zeros, v=zeros, v_max=zeros if self.amsgrad else None)

    def update(self, u: np.ndarray, state: AdamState, x: np.ndarray) -> tuple[np.ndarray, AdamState]:
        t = state.step + 1
        m = self.beta1 * state.m + (1 - self.beta1) * u
        v = self.beta2 * state.v + (1 - self.beta2) * (u * u)
        v_max = None
        if self.amsgrad:
            v_max = v if state.v_max is None else np.maximum(state.v_max, v)
        exponent = t - 1 + self.count_from
        which = self.bias_correction if exponent > 0 else False
        m_hat = m / (1 - self.beta1**exponent) if which is True or which == "m" else m
        second = v if v_max is None else v_max
        v_hat = second / (1 - self.beta2**exponent) if which is True or which == "v" else second
        denominator = np.sqrt(v_hat + self.eps) if self.eps_inside else np.sqrt(v_hat) + self.eps
        return m_hat / denominator, AdamState(step=t, m=m, v=v, v_max=v_max)


@dataclass(frozen=True)
class ScaleByLearningRate:
    """u ← −η_t u: η_t = ``schedule.rate(η, t)`` with t the updates made before (0 for the first);
    without a schedule η_t = η / (1 + t·decay) (Adagrad's ``lr_decay``; η_t = η when decay = 0).

    ``offset=1`` is the misconception of counting t from 1 (the first update already decayed).
    """

    lr: float
    decay: float = 0.0
    schedule: Any = None
    offset: int = 0

    def init(self, x: np.ndarray) -> StepState:
        return StepState(step=0)

    def rate(self, step: int) -> float:
        """η_t of the update after ``step`` earlier ones."""
        t = step + self.offset
        if self.schedule is not None:
            return float(self.schedule.rate(self.lr, t))
        return self.lr / (1 + t * self.decay) if self.decay else self.lr

    def update(self, u: np.ndarray, state: StepState, x: np.ndarray) -> tuple[np.ndarray, StepState]:
        return -self.rate(state.step) * u, StepState(step=state.step + 1)


# Rules made of links ----------------------------------------------------------------------


class _Chained:
    """A rule whose :meth:`links` give its chain: init and update run the links in order."""

    def links(self) -> tuple[Link, ...]:
        raise NotImplementedError

    def init(self, x: ArrayLike) -> ChainState:
        x = _array(x)
        return ChainState(link.init(x) for link in self.links())

    def update(self, x: ArrayLike, g: ArrayLike, state: ChainState) -> tuple[np.ndarray, ChainState]:
        """x ← x + u, u the gradient g passed through every link."""
        x, u = _array(x), _array(g)
        states = []
        for link, link_state in zip(self.links(), state, strict=True):
            u, link_state = link.update(u, link_state, x)
            states.append(link_state)
        return x + u, ChainState(states)


@dataclass(frozen=True)
class Chain(_Chained):
    """Any chain of links as a rule (what :func:`rewire` returns)."""

    chain: tuple[Any, ...]

    def links(self) -> tuple[Link, ...]:
        return self.chain

    @property
    def lr(self) -> float:
        return next(link.lr for link in self.chain if isinstance(link, ScaleByLearningRate))


def _decay(weight_decay: float) -> tuple[Link, ...]:
    return (AddWeightDecay(weight_decay),) if weight_decay else ()


@dataclass(frozen=True)
class SGD(_Chained):
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

    def links(self) -> tuple[Link, ...]:
        return (*_decay(self.weight_decay), ScaleByLearningRate(self.lr))


@dataclass(frozen=True)
class Momentum(_Chained):
    """SGD with heavy-ball momentum, or Nesterov momentum.

    As in the lecture (g_t = β g_{t−1} + ∇f(x_t), x_{t+1} = x_t − η g_t) and
    ``torch.optim.SGD(lr, momentum=β, dampening=τ, nesterov, weight_decay)``:
    weight decay, then :class:`Trace`, then scale by −η:

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

    def links(self) -> tuple[Link, ...]:
        trace = Trace(self.momentum, self.dampening, self.nesterov, self.ema, start="zero" if self.ema else "gradient")
        return (*_decay(self.weight_decay), trace, ScaleByLearningRate(self.lr))


@dataclass(frozen=True)
class Adagrad(_Chained):
    """Adagrad: steps scaled by the root of the sum of all squared gradients.

    As in ``torch.optim.Adagrad``: weight decay, :class:`ScaleBySumOfSquares`,
    scale by −η_t:

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

    def links(self) -> tuple[Link, ...]:
        return (
            *_decay(self.weight_decay),
            ScaleBySumOfSquares(self.eps, self.initial_accumulator_value),
            ScaleByLearningRate(self.lr, self.lr_decay),
        )


@dataclass(frozen=True)
class RMSprop(_Chained):
    """RMSprop: steps scaled by the root of a moving average of squared gradients.

    As in ``torch.optim.RMSprop`` (momentum=0, centered=False): weight decay,
    :class:`ScaleByRms`, scale by −η:

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

    def links(self) -> tuple[Link, ...]:
        return (*_decay(self.weight_decay), ScaleByRms(self.alpha, self.eps), ScaleByLearningRate(self.lr))


@dataclass(frozen=True)
class Adam(_Chained):
    """Adam: momentum on g, scaled by a moving average of g², both bias-corrected.

    As in ``torch.optim.Adam`` (amsgrad=False): weight decay,
    :class:`ScaleByAdam`, scale by −η:

        g ← g + λx                          (if weight_decay λ > 0)
        m ← β₁m + (1 − β₁)g                 (m₀ = 0)
        v ← β₂v + (1 − β₂)g²                (v₀ = 0)
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
        x ← x − η m̂ / (√v̂ + ε)

    The first step is x − η g/(|g| + ε) ≈ x − η·sign(g).

    With ``bias_correction=False`` the rule models the misconception of
    using m and v directly (m̂ = m, v̂ = v): the early steps then have the
    wrong size, the first one η(1 − β₁)/√(1 − β₂) ≈ 3.16η with the defaults.

    The variants are options, each also a misconception: ``bias_correction="m"``
    or ``"v"`` corrects one moment only; ``eps_inside=True`` divides by
    √(v̂ + ε) (as optax's ``eps_root``) instead of √v̂ + ε; ``amsgrad=True`` divides
    by the root of the largest v so far (``torch.optim.Adam(amsgrad=True)``:
    v_max ← max(v_max, v), v̂ = v_max/(1 − β₂ᵗ)).

    Args:
        lr: learning rate η > 0 (PyTorch default 1e-3).
        betas: (β₁, β₂), each in [0, 1) (PyTorch default (0.9, 0.999)).
        eps: ε ≥ 0 added to the denominator (PyTorch default 1e-8).
        weight_decay: L2 penalty λ ≥ 0 added to the gradient (default 0).
        bias_correction: True (default), False, ``"m"`` or ``"v"``: which moments are divided by 1 − βᵗ.
        eps_inside: ε under the square root (default False).
        amsgrad: AMSGrad's maximum of v (default False).
    """

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    bias_correction: bool | Literal["m", "v"] = True
    eps_inside: bool = False
    amsgrad: bool = False

    def __post_init__(self) -> None:
        _set(self, "lr", _positive("lr", self.lr))
        betas = tuple(self.betas) if isinstance(self.betas, tuple | list) else ()
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {self.betas!r}.")
        _set(self, "betas", (_fraction("beta1", betas[0]), _fraction("beta2", betas[1])))
        _set(self, "eps", _non_negative("eps", self.eps))
        _set(self, "weight_decay", _non_negative("weight_decay", self.weight_decay))
        if not (isinstance(self.bias_correction, bool | np.bool_) or self.bias_correction in ("m", "v")):
            raise ValueError(f"bias_correction must be True, False, 'm' or 'v', got {self.bias_correction!r}.")
        if self.bias_correction in ("m", "v"):
            _set(self, "bias_correction", str(self.bias_correction))
        else:
            _set(self, "bias_correction", bool(self.bias_correction))
        _set(self, "eps_inside", bool(self.eps_inside))
        _set(self, "amsgrad", bool(self.amsgrad))

    def _scale(self) -> ScaleByAdam:
        beta1, beta2 = self.betas
        return ScaleByAdam(
            beta1, beta2, self.eps, self.bias_correction, eps_inside=self.eps_inside, amsgrad=self.amsgrad
        )

    def links(self) -> tuple[Link, ...]:
        return (*_decay(self.weight_decay), self._scale(), ScaleByLearningRate(self.lr))


@dataclass(frozen=True)
class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

        m, v, m̂, v̂ as in :class:`Adam`, from g itself (no λx added to it)
        x ← x − η (m̂/(√v̂ + ε) + λx)

    PyTorch writes it x ← x − ηλx, then the Adam step: the same point, since the
    Adam step does not depend on x. With a schedule, the decay uses η_t too.
    Adding λx to the gradient instead (:class:`Adam`'s ``weight_decay``) is the
    misconception ``coupled-weight-decay``: the decay is then divided by √v̂.

    Args:
        lr, betas, eps, bias_correction, eps_inside, amsgrad: as :class:`Adam`.
        weight_decay: λ ≥ 0 (PyTorch default 1e-2).
    """

    weight_decay: float = 1e-2

    def links(self) -> tuple[Link, ...]:
        decay = (AddDecoupledWeightDecay(self.weight_decay),) if self.weight_decay else ()
        return (self._scale(), *decay, ScaleByLearningRate(self.lr))


@dataclass(frozen=True)
class Ascent(_Chained):
    """A rule run on −g: it climbs f instead of descending it (a :class:`FlipSign` link in front).

    Models the ``sign-error`` misconception (x ← x + η g for gradient
    descent: from x₀ = 4 on x² + 2 with η = 0.25 it goes 4, 6, 9, …). Equal
    to PyTorch's ``maximize=True`` option of the wrapped optimizer.

    Args:
        rule: the rule whose sign is flipped.
    """

    rule: Any

    @property
    def lr(self) -> float:
        return self.rule.lr

    def links(self) -> tuple[Link, ...]:
        return (FlipSign(), *self.rule.links())


# The misconceptions: one link swapped or dropped ----------------------------------------------


def rewire(rule: Any, swap: Callable[[Any], Any]) -> Chain | None:
    """``rule`` with each link replaced by ``swap(link)`` (``None`` drops it).

    Returns ``None`` when no link changed: the misconception does not apply to
    this rule (Adam has no momentum buffer to turn into an EMA, say).
    """
    before = rule.links()
    after = tuple(new for new in (swap(link) for link in before) if new is not None)
    return None if after == before else Chain(after)


def _on(kind: type, change: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda link: change(link) if isinstance(link, kind) else link


def ascent(rule: Rule) -> Ascent:
    """The ``sign-error`` misconception: ``rule`` moving uphill, on −g (see :class:`Ascent`)."""
    return Ascent(rule)


def with_lr(rule: Any, lr: float) -> Any:
    """``rule`` with its learning rate η replaced by ``lr`` (everything else, the sign error included, kept)."""
    if isinstance(rule, Ascent):
        return Ascent(with_lr(rule.rule, lr))
    if isinstance(rule, Chain):
        return rewire(rule, _on(ScaleByLearningRate, lambda link: dataclasses.replace(link, lr=lr))) or rule
    return dataclasses.replace(rule, lr=lr)


def forgot_eta(rule: Rule) -> Rule:
    """The ``forgot-eta`` misconception: ``rule`` with its learning rate η replaced by 1.

    The student dropped the factor η from the step: x ← x − g for gradient
    descent (from [4, 3] with ∇f = [1, 2]: [3, 1]), x ← x − b for momentum,
    x ← x − m̂/(√v̂ + ε) for Adam. The sign error of an :class:`Ascent` is kept.
    """
    return with_lr(rule, 1.0)


def ema_momentum(rule: Any, start: Literal["gradient", "zero"] = "zero") -> Chain | None:
    """Misconception ``ema-momentum``: b ← βb + (1 − β)g, from b₀ = 0 (``start="zero"``) or b₁ = g."""
    return rewire(rule, _on(Trace, lambda t: dataclasses.replace(t, ema=True, dampening=0.0, start=start)))


def forgot_beta(rule: Any) -> Chain | None:
    """Misconception ``forgot-beta``: b ← b + g, the previous direction not scaled by β."""
    return rewire(rule, _on(Trace, lambda t: dataclasses.replace(t, decay=1.0)))


def without_momentum(rule: Any) -> Chain | None:
    """Misconception ``no-momentum``: the momentum buffer dropped, a plain gradient step."""
    return rewire(rule, _on(Trace, lambda t: None))


def without_nesterov(rule: Any) -> Chain | None:
    """Misconception ``not-nesterov``: heavy-ball momentum where Nesterov's look-ahead g + βb belongs."""
    return rewire(rule, _on(Trace, lambda t: dataclasses.replace(t, nesterov=False)))


def rms_without_one_minus_alpha(rule: Any) -> Chain | None:
    """Misconception ``rmsprop-no-one-minus-alpha``: v ← αv + g² instead of αv + (1 − α)g²."""
    return rewire(rule, _on(ScaleByRms, lambda link: dataclasses.replace(link, new_weight=1.0)))


def without_bias_correction(rule: Any) -> Chain | None:
    """Misconception ``no-bias-correction``: Adam's m and v used without dividing by 1 − βᵗ."""
    return rewire(rule, _on(ScaleByAdam, lambda link: dataclasses.replace(link, bias_correction=False)))


def without_adaptive_scaling(rule: Any) -> Chain | None:
    """Misconception ``no-adaptive-scaling``: Adam, RMSprop or Adagrad without its preconditioner, a plain step."""
    adaptive = (ScaleByAdam, ScaleByRms, ScaleBySumOfSquares)
    return rewire(rule, lambda link: None if isinstance(link, adaptive) else link)


def bias_correction_from_zero(rule: Any) -> Chain | None:
    """Misconception ``adam-t-from-zero``: Adam's step counter t started at 0 instead of 1."""
    return rewire(rule, _on(ScaleByAdam, lambda link: dataclasses.replace(link, count_from=0)))


def bias_correction_of(rule: Any, which: Literal["m", "v"]) -> Chain | None:
    """Misconceptions ``bias-correction-m-only`` and ``bias-correction-v-only``: one of Adam's moments left uncorrected."""
    return rewire(rule, _on(ScaleByAdam, lambda link: dataclasses.replace(link, bias_correction=which)))


def eps_moved(rule: Any) -> Chain | None:
    """Misconception ``eps-inside-root`` (or its reverse): ε under the square root, √(v̂ + ε), where √v̂ + ε belongs."""
    return rewire(rule, _on(ScaleByAdam, lambda link: dataclasses.replace(link, eps_inside=not link.eps_inside)))


def without_amsgrad(rule: Any) -> Chain | None:
    """Misconception ``no-amsgrad``: AMSGrad's running maximum of v dropped (plain Adam)."""
    return rewire(rule, _on(ScaleByAdam, lambda link: dataclasses.replace(link, amsgrad=False)))


def coupled_weight_decay(rule: Any) -> Chain | None:
    """Misconception ``coupled-weight-decay``: AdamW's decay λx added to the gradient (Adam's L2), not to the step."""
    links = rule.links()
    decays = [link for link in links if isinstance(link, AddDecoupledWeightDecay)]
    if not decays:
        return None
    kept = [link for link in links if not isinstance(link, AddDecoupledWeightDecay)]
    first = next(i for i, link in enumerate(kept) if not isinstance(link, FlipSign | ClipByNorm | ClipByValue))
    return Chain((*kept[:first], AddWeightDecay(decays[0].weight_decay), *kept[first:]))


# Schedules and clipping, for any rule, and their misconceptions ---------------------------------------


def scheduled(rule: Any, schedule: Any) -> Any:
    """``rule`` with the step-size schedule ``schedule`` (:mod:`grader.optim.schedules`): update t uses η_t."""
    if schedule is None:
        return rule
    if not callable(getattr(schedule, "rate", None)):
        raise ValueError(f"schedule must be a schedule such as StepDecay(0.5, 2), got {schedule!r}.")
    return rewire(rule, _on(ScaleByLearningRate, lambda link: dataclasses.replace(link, schedule=schedule))) or rule


def clipped(rule: Any, max_norm: float | None = None, max_value: float | None = None) -> Any:
    """``rule`` on the clipped gradient: by norm (:class:`ClipByNorm`) and/or by value (:class:`ClipByValue`), first."""
    clips = []
    if max_norm is not None:
        clips.append(ClipByNorm(max_norm))
    if max_value is not None:
        clips.append(ClipByValue(max_value))
    return Chain((*clips, *rule.links())) if clips else rule


def without_schedule(rule: Any) -> Chain | None:
    """Misconception ``no-schedule``: the base η at every step, the schedule not applied."""
    return rewire(rule, _on(ScaleByLearningRate, lambda link: dataclasses.replace(link, schedule=None)))


def schedule_from_one(rule: Any) -> Chain | None:
    """Misconception ``schedule-off-by-one``: the schedule's t counted from 1, so the first update is already decayed."""
    return rewire(
        rule, _on(ScaleByLearningRate, lambda link: dataclasses.replace(link, offset=1) if link.schedule else link)
    )


def without_clipping(rule: Any) -> Chain | None:
    """Misconception ``no-clipping``: the gradient used as it is, not clipped."""
    return rewire(rule, lambda link: None if isinstance(link, ClipByNorm | ClipByValue) else link)


def clip_value_for_norm(rule: Any) -> Chain | None:
    """Misconception ``clip-by-value-for-norm``: each component clipped to [−c, c] where the norm is to be c."""
    return rewire(rule, _on(ClipByNorm, lambda link: ClipByValue(link.max_norm)))


def clip_norm_for_value(rule: Any) -> Chain | None:
    """Misconception ``clip-by-norm-for-value``: the whole gradient shortened to length c where each component is clipped."""
    return rewire(rule, _on(ClipByValue, lambda link: ClipByNorm(link.max_value)))


# Construction by name ---------------------------------------------------------------------------


RULES: dict[str, Callable[..., Rule]] = {
    "gd": SGD,
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": functools.partial(Momentum, nesterov=True),
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
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
        name: one of gd, sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw.
        lr: learning rate η (> 0, finite).
        momentum: β of momentum and nesterov, in [0, 1).
        alpha: α of rmsprop, in [0, 1).
        betas: (β₁, β₂) of adam and adamw, each in [0, 1).
        eps: ε of adagrad, rmsprop, adam and adamw (≥ 0).
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
