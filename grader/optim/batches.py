"""Mini-batch tools: full and mini-batch gradients, shuffled batches, SGD epochs.

The lecture counts data points from 1 (∇L₁, …, ∇L_n). Every function that
takes or returns indices has a keyword ``one_based`` (default ``True``, the
lecture's convention; ``False`` for Python's 0, …, n − 1).

Per-example gradients are given as an array of shape (n, d), row i − 1 being
∇L_i (or shape (n,) for scalar parameters).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from grader.optim.rules import SGD

__all__ = [
    "batch_gradient",
    "full_gradient",
    "sgd_epoch",
    "shuffled_batches",
    "slipped_indices",
    "updates_per_epoch",
    "zero_based_slip",
]

Reduction = Literal["mean", "sum", "mean-over-n"]


def _per_example(per_example: ArrayLike) -> np.ndarray:
    arr = np.asarray(per_example, dtype=np.float64)
    if arr.ndim not in (1, 2) or len(arr) == 0:
        raise ValueError(f"Per-example gradients must be a non-empty array of shape (n, d), got shape {arr.shape}.")
    return arr


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}.") from None


def _positive_integer(name: str, value: Any) -> int:
    value = _integer(name, value)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


def _zero_based(indices: Iterable[Any], n: int | None, one_based: bool) -> np.ndarray:
    """Validate ``indices`` (1 … n if ``one_based``, else 0 … n − 1) and return them 0-based."""
    result = [_integer("index", i) - (1 if one_based else 0) for i in indices]
    if not result:
        raise ValueError("A batch must contain at least one index.")
    first = 1 if one_based else 0
    for i in result:
        if i < 0 or (n is not None and i >= n):
            bound = f"{first} … {n - 1 + first}" if n is not None else f"≥ {first}"
            raise ValueError(
                f"Index {i + first} is out of range: {'1-based' if one_based else '0-based'} indices must be {bound}."
            )
    return np.array(result, dtype=np.intp)


def full_gradient(per_example: ArrayLike, reduction: Literal["mean", "sum"] = "mean") -> np.ndarray:
    """The full-batch gradient ∇L = (1/n) Σᵢ ∇Lᵢ, the mean of the n rows.

    With ``reduction="sum"`` it is Σᵢ ∇Lᵢ instead, the ``sum-not-mean``
    misconception (for the lecture's five gradients: [19, 11] instead of [3.8, 2.2]).
    No indices are involved.
    """
    arr = _per_example(per_example)
    if reduction == "mean":
        return arr.mean(axis=0)
    if reduction == "sum":
        return arr.sum(axis=0)
    raise ValueError(f"Unknown reduction {reduction!r}; choose 'mean' or 'sum'.")


def batch_gradient(
    per_example: ArrayLike,
    indices: Iterable[int],
    one_based: bool = True,
    reduction: Reduction = "mean",
) -> np.ndarray:
    """The mini-batch gradient (1/|B|) Σ_{i∈B} ∇Lᵢ over the points ``indices``.

    Args:
        per_example: the n per-example gradients, shape (n, d).
        indices: the batch B, counted from 1 if ``one_based`` (default, the
            lecture's convention) else from 0. A repeated index counts twice.
        one_based: how ``indices`` are counted.
        reduction: ``"mean"`` (right), or a misconception:
            ``"sum"`` gives Σ_{i∈B} ∇Lᵢ (``sum-not-mean``),
            ``"mean-over-n"`` gives (1/n) Σ_{i∈B} ∇Lᵢ, dividing by the size of
            the data set instead of the batch (``mean-over-n``).

    Raises:
        ValueError: for an empty batch, an index out of range or not an
            integer, or an unknown reduction.
    """
    arr = _per_example(per_example)
    rows = arr[_zero_based(indices, len(arr), one_based)]
    if reduction == "mean":
        return rows.mean(axis=0)
    if reduction == "sum":
        return rows.sum(axis=0)
    if reduction == "mean-over-n":
        return rows.sum(axis=0) / len(arr)
    raise ValueError(f"Unknown reduction {reduction!r}; choose 'mean', 'sum' or 'mean-over-n'.")


def slipped_indices(indices: Iterable[int], n: int) -> list[int]:
    """The 1-based points read by a student who used 1-based ``indices`` as 0-based ones.

    Index i names point i + 1; indices past the end (i ≥ n) are dropped. For
    the batch 2, 4, 5 of n = 5 points: [3, 5].
    """
    n = _positive_integer("n", n)
    meant = _zero_based(indices, None, one_based=True) + 1
    return [int(i) + 1 for i in meant if i < n]


def zero_based_slip(per_example: ArrayLike, indices: Iterable[int]) -> np.ndarray:
    """The ``zero-based-index`` misconception: 1-based ``indices`` read as 0-based.

    The mean of the per-example gradients at the points
    :func:`slipped_indices` gives, i.e. ``per_example[i]`` for each index i
    that exists (the out-of-range one is dropped). For the lecture's batch
    2, 4, 5: points 3 and 5, [2, 3] and [3, 3], mean [2.5, 3].

    Raises:
        ValueError: if no index is left.
    """
    arr = _per_example(per_example)
    points = slipped_indices(indices, len(arr))
    if not points:
        raise ValueError("No index is left once the out-of-range ones are dropped.")
    return batch_gradient(arr, points, one_based=True)


def updates_per_epoch(n: int, batch_size: int, drop_last: bool = False) -> int:
    """Number of SGD updates in one epoch over n points with batches of ``batch_size`` B.

    ⌈n/B⌉ (the last batch may be smaller), or ⌊n/B⌋ with ``drop_last``
    (PyTorch DataLoader's option that drops the incomplete last batch).
    Computed with integers only: n = 1200, B = 32 gives 38, or 37 with drop_last.

    Raises:
        ValueError: unless n and B are positive integers.
    """
    n = _positive_integer("n", n)
    batch_size = _positive_integer("batch_size", batch_size)
    return n // batch_size if drop_last else -(-n // batch_size)


def shuffled_batches(
    n: int, batch_size: int, seed: int, drop_last: bool = False, one_based: bool = True
) -> list[np.ndarray]:
    """Split the points into batches of ``batch_size`` in a random order, one epoch.

    A permutation from ``numpy.random.default_rng(seed)`` is cut into
    consecutive batches; the last one is smaller when B does not divide n,
    and is dropped with ``drop_last``. The same seed gives the same batches.
    There are :func:`updates_per_epoch` batches.

    Args:
        n: number of data points.
        batch_size: B.
        seed: seed of the random generator.
        drop_last: drop the incomplete last batch.
        one_based: return indices 1 … n (default) or 0 … n − 1.
    """
    n = _positive_integer("n", n)
    batch_size = _positive_integer("batch_size", batch_size)
    order = np.random.default_rng(seed).permutation(n) + (1 if one_based else 0)
    count = updates_per_epoch(n, batch_size, drop_last)
    return [order[k * batch_size : (k + 1) * batch_size] for k in range(count)]


def sgd_epoch(
    per_example_gradient: Callable[[np.ndarray, int], ArrayLike],
    theta0: ArrayLike,
    batches: Sequence[Iterable[int]],
    lr: float,
    one_based: bool = True,
) -> list[np.ndarray]:
    """One epoch of mini-batch SGD: θ ← θ − η (1/|B|) Σ_{i∈B} ∇Lᵢ(θ), once per batch.

    Args:
        per_example_gradient: ``(theta, i) -> ∇Lᵢ(theta)``; it always receives
            a 0-based index i (ready to index a numpy array), whatever
            ``one_based`` says.
        theta0: starting parameters θ₀.
        batches: the batches in order, each a collection of indices.
        lr: learning rate η > 0.
        one_based: how the indices in ``batches`` are counted (default: from
            1, the lecture's convention).

    Returns:
        [θ₀, θ₁, …, θ_k] for k batches, as float64 arrays.

    Raises:
        ValueError: for an invalid ``lr``, an empty batch or an index below
            the first one (1, or 0 when not ``one_based``).
    """
    rule = SGD(lr=lr)
    state = rule.init(theta0)
    thetas = [np.asarray(theta0, dtype=np.float64)]
    for batch in batches:
        theta = thetas[-1]
        rows = [
            np.asarray(per_example_gradient(theta, int(i)), dtype=np.float64)
            for i in _zero_based(batch, None, one_based)
        ]
        theta, state = rule.update(theta, np.mean(rows, axis=0), state)
        thetas.append(theta)
    return thetas
