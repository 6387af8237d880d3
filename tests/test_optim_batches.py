"""Mini-batch tools against the lecture's homework, worked out by hand."""

import numpy as np
import pytest

from grader.optim import (
    batch_gradient,
    full_gradient,
    sgd_epoch,
    shuffled_batches,
    slipped_indices,
    updates_per_epoch,
    zero_based_slip,
)

# ∇L₁ … ∇L₅ of the lecture.
GRADS = [[7, 2], [3, 1], [2, 3], [4, 2], [3, 3]]


def test_full_gradient():
    # Σ = [7+3+2+4+3, 2+1+3+2+3] = [19, 11]; mean = [19/5, 11/5] = [3.8, 2.2].
    np.testing.assert_allclose(full_gradient(GRADS), [3.8, 2.2], rtol=1e-15)
    np.testing.assert_array_equal(full_gradient(GRADS, reduction="sum"), [19, 11])


def test_batch_gradient_one_based():
    # Points 2, 4, 5: [3, 1] + [4, 2] + [3, 3] = [10, 6]; mean [10/3, 2].
    np.testing.assert_allclose(batch_gradient(GRADS, [2, 4, 5]), [10 / 3, 2], rtol=1e-15)


def test_batch_gradient_zero_based():
    np.testing.assert_allclose(batch_gradient(GRADS, [1, 3, 4], one_based=False), [10 / 3, 2], rtol=1e-15)


def test_sum_not_mean():
    np.testing.assert_array_equal(batch_gradient(GRADS, [2, 4, 5], reduction="sum"), [10, 6])


def test_mean_over_n():
    # [10, 6]/5 = [2, 1.2].
    np.testing.assert_allclose(batch_gradient(GRADS, [2, 4, 5], reduction="mean-over-n"), [2, 1.2], rtol=1e-15)


def test_zero_based_slip():
    # 2, 4, 5 read as 0-based: rows 2, 4 are points 3, 5 ([2, 3], [3, 3]); row 5 does not exist.
    assert slipped_indices([2, 4, 5], 5) == [3, 5]
    np.testing.assert_array_equal(zero_based_slip(GRADS, [2, 4, 5]), [2.5, 3])


def test_zero_based_slip_with_nothing_left():
    with pytest.raises(ValueError, match="No index is left"):
        zero_based_slip(GRADS, [5])


def test_repeated_index_counts_twice():
    # Points 1, 1, 2: ([7, 2]·2 + [3, 1])/3 = [17/3, 5/3].
    np.testing.assert_allclose(batch_gradient(GRADS, [1, 1, 2]), [17 / 3, 5 / 3], rtol=1e-15)


def test_scalar_per_example_gradients():
    assert batch_gradient([1.0, 2.0, 6.0], [1, 3]) == 3.5


@pytest.mark.parametrize(
    ("indices", "one_based", "message"),
    [
        ([0, 2], True, "Index 0 is out of range: 1-based indices must be 1 … 5."),
        ([6], True, "Index 6 is out of range: 1-based indices must be 1 … 5."),
        ([5], False, "Index 5 is out of range: 0-based indices must be 0 … 4."),
        ([-1], False, "Index -1 is out of range"),
        ([], True, "at least one index"),
        ([2.0], True, "index must be an integer, got 2.0."),
        ([True], True, "index must be an integer"),
    ],
)
def test_bad_indices(indices, one_based, message):
    with pytest.raises(ValueError, match=message):
        batch_gradient(GRADS, indices, one_based=one_based)


def test_bad_reduction_and_shape():
    with pytest.raises(ValueError, match="Unknown reduction 'max'"):
        batch_gradient(GRADS, [1], reduction="max")
    with pytest.raises(ValueError, match="Unknown reduction 'mean-over-n'"):
        full_gradient(GRADS, reduction="mean-over-n")
    with pytest.raises(ValueError, match="non-empty array of shape"):
        full_gradient([])


@pytest.mark.parametrize(
    ("n", "batch_size", "drop_last", "expected"),
    [
        (1200, 50, False, 24),  # 1200/50 = 24 exactly
        (1200, 200, False, 6),  # 1200/200 = 6 exactly
        (1200, 32, False, 38),  # 1200/32 = 37.5 → ⌈⌉ = 38 (37 full batches + one of 16)
        (1200, 32, True, 37),  # ⌊37.5⌋ = 37
        (1200, 50, True, 24),
        (5, 10, False, 1),
        (5, 10, True, 0),
        (10**18 + 1, 10**9, False, 10**9 + 1),  # exact where floats would round
    ],
)
def test_updates_per_epoch(n, batch_size, drop_last, expected):
    got = updates_per_epoch(n, batch_size, drop_last)
    assert got == expected and type(got) is int


@pytest.mark.parametrize(
    ("n", "batch_size", "message"),
    [
        (1200, 0, "batch_size must be a positive integer, got 0."),
        (0, 32, "n must be a positive integer, got 0."),
        (1200, 32.0, "batch_size must be an integer, got 32.0."),
        (1200.5, 32, "n must be an integer"),
        ("1200", 32, "n must be an integer"),
    ],
)
def test_updates_per_epoch_rejects(n, batch_size, message):
    with pytest.raises(ValueError, match=message):
        updates_per_epoch(n, batch_size)


def test_updates_per_epoch_takes_numpy_integers():
    assert updates_per_epoch(np.int64(1200), np.int32(32)) == 38


def test_shuffled_batches():
    batches = shuffled_batches(10, 4, seed=0)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(1, 11))
    again = shuffled_batches(10, 4, seed=0)
    assert [b.tolist() for b in batches] == [b.tolist() for b in again]
    other = shuffled_batches(10, 4, seed=1)
    assert [b.tolist() for b in batches] != [b.tolist() for b in other]


def test_shuffled_batches_zero_based_and_drop_last():
    one = shuffled_batches(10, 4, seed=3)
    zero = shuffled_batches(10, 4, seed=3, one_based=False)
    assert [(b - 1).tolist() for b in one] == [b.tolist() for b in zero]
    dropped = shuffled_batches(10, 4, seed=3, drop_last=True)
    assert [b.tolist() for b in dropped] == [b.tolist() for b in one[:2]]


def test_sgd_epoch_by_hand():
    # L_i(θ) = ½(θ − a_i)², ∇L_i = θ − a_i, a = 1, 2, 3, 4; η = 0.5, θ₀ = 0:
    # batch {1, 2}: mean(0 − 1, 0 − 2) = −1.5,           θ₁ = 0 + 0.75 = 0.75
    # batch {3, 4}: mean(0.75 − 3, 0.75 − 4) = −2.75,    θ₂ = 0.75 + 1.375 = 2.125
    a = np.array([1.0, 2.0, 3.0, 4.0])
    seen = []

    def grad(theta, i):
        seen.append(i)
        return theta - a[i]

    thetas = sgd_epoch(grad, 0.0, [[1, 2], [3, 4]], lr=0.5)
    assert [t.tolist() for t in thetas] == [0.0, 0.75, 2.125]
    assert seen == [0, 1, 2, 3]  # the callable always gets 0-based indices
    zero = sgd_epoch(lambda t, i: t - a[i], 0.0, [[0, 1], [2, 3]], lr=0.5, one_based=False)
    assert [t.tolist() for t in zero] == [0.0, 0.75, 2.125]


def test_sgd_epoch_on_the_lecture_gradients():
    # Constant per-example gradients, batch {2, 4, 5}, η = 0.5: θ₁ = −0.5·[10/3, 2] = [−5/3, −1].
    thetas = sgd_epoch(lambda t, i: GRADS[i], [0.0, 0.0], [[2, 4, 5]], lr=0.5)
    np.testing.assert_allclose(thetas[1], [-5 / 3, -1], rtol=1e-15)
    assert len(thetas) == 2


def test_sgd_epoch_rejects():
    with pytest.raises(ValueError, match="lr must be positive"):
        sgd_epoch(lambda t, i: t, 0.0, [[1]], lr=0)
    with pytest.raises(ValueError, match="Index 0 is out of range"):
        sgd_epoch(lambda t, i: t, 0.0, [[0]], lr=0.1)
