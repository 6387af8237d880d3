"""Properties of the core that hold for every input (hypothesis)."""

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grader.optim import (
    SGD,
    Adam,
    Momentum,
    Objective,
    ascent,
    batch_gradient,
    forgot_eta,
    full_gradient,
    run,
    shuffled_batches,
    updates_per_epoch,
)

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
dims = st.integers(1, 4)


@st.composite
def quadratics(draw):
    """f(x) = ½ xᵀAx + bᵀx with A = MᵀM (convex), its smoothness L = λ_max(A), and a start."""
    d = draw(dims)
    m = draw(arrays(np.float64, (d, d), elements=finite))
    a = m.T @ m
    b = draw(arrays(np.float64, d, elements=finite))
    x0 = draw(arrays(np.float64, d, elements=finite))
    objective = Objective(
        tuple(f"x{i + 1}" for i in range(d)),
        lambda x: 0.5 * x @ a @ x + b @ x,
        lambda x: a @ x + b,
        lambda x: a,
    )
    return objective, float(np.linalg.eigvalsh(a).max()), x0


@settings(max_examples=200)
@given(quadratics(), st.floats(0.01, 0.99))
def test_gd_below_two_over_l_never_increases_a_convex_quadratic(problem, fraction):
    # f(x − ηg) − f(x) = −η|g|² + ½η² gᵀAg ≤ −η|g|²(1 − ηL/2) ≤ 0 for η < 2/L.
    objective, lipschitz, x0 = problem
    lr = fraction * 2 / max(lipschitz, 1e-3)
    values = run(SGD(lr=lr), objective, x0, 20).values
    scale = 1e-9 * (1 + np.abs(values).max())
    assert (np.diff(values) <= scale).all()


@given(quadratics(), st.floats(1e-3, 1.0), st.booleans())
def test_momentum_with_beta_zero_is_gd(problem, lr, nesterov):
    # b = 0·b + g = g and d = g + 0·b = g exactly, so the paths are identical.
    objective, _, x0 = problem
    gd = run(SGD(lr=lr), objective, x0, 10)
    heavy = run(Momentum(lr=lr, momentum=0.0, nesterov=nesterov), objective, x0, 10)
    np.testing.assert_array_equal(heavy.iterates, gd.iterates)
    assert heavy.diverged_at == gd.diverged_at


@given(arrays(np.float64, 3, elements=finite), arrays(np.float64, 3, elements=finite))
def test_sign_error_and_forgotten_eta_of_gd(x, g):
    # x − η(−g) is x + ηg exactly; η = 1 makes x − 1·g exactly x − g.
    lr = 0.3
    uphill, _ = ascent(SGD(lr=lr)).update(x, g, ascent(SGD(lr=lr)).init(x))
    no_eta, _ = forgot_eta(SGD(lr=lr)).update(x, g, forgot_eta(SGD(lr=lr)).init(x))
    np.testing.assert_array_equal(uphill, x + lr * g)
    np.testing.assert_array_equal(no_eta, x - g)


gradient_sequences = st.lists(
    st.floats(-1e3, 1e3, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-100),
    min_size=1,
    max_size=30,
)


def adam_step_bound(beta1: float, beta2: float, t: int) -> float:
    """max |m̂_t|/√v̂_t over all gradient sequences (Cauchy–Schwarz, needs β₁² ≤ β₂).

    m̂ = Σ w_k g_k, v̂ = Σ u_k g_k² with weights w_k = (1−β₁)β₁ᵏ/(1−β₁ᵗ),
    u_k = (1−β₂)β₂ᵏ/(1−β₂ᵗ) summing to 1, so |m̂| ≤ √(Σ w_k²/u_k)·√v̂, and
    Σ w_k²/u_k = (1−β₁)²(1−β₂ᵗ)/((1−β₁ᵗ)²(1−β₂)) · Σ_{k<t} (β₁²/β₂)ᵏ. It is 1 at t = 1.
    """
    r = beta1**2 / beta2
    geometric = t if r == 1 else (1 - r**t) / (1 - r)
    return math.sqrt((1 - beta1) ** 2 * (1 - beta2**t) / ((1 - beta1**t) ** 2 * (1 - beta2)) * geometric)


@settings(max_examples=200)
@given(
    gradient_sequences,
    st.floats(0.0, 0.99),
    st.floats(1e-3, 0.9999),
    st.floats(1e-4, 1.0),
)
def test_adam_step_is_bounded(gradients, beta1, beta2, lr):
    # Per coordinate |Δx_t| ≤ η·C_t, C_t from adam_step_bound (the ε ≥ 0 only shrinks it);
    # in particular the first step is at most η.
    if beta1**2 > beta2:
        beta1, beta2 = math.sqrt(beta2), beta1**2
    rule = Adam(lr=lr, betas=(beta1, beta2))
    x, state = np.zeros(1), rule.init(np.zeros(1))
    for t, g in enumerate(gradients, start=1):
        new_x, state = rule.update(x, [g], state)
        assert abs(new_x[0] - x[0]) <= lr * adam_step_bound(beta1, beta2, t) * (1 + 1e-9)
        x = new_x


@given(st.floats(1e-3, 1e3), st.sampled_from([-1.0, 1.0]), st.integers(1, 50))
def test_adam_step_under_a_constant_gradient_is_at_most_lr(size, sign, count):
    # Constant g: m̂ = g and v̂ = g² for every t, so |Δx| = η|g|/(|g| + ε) ≤ η.
    rule = Adam(lr=0.01)
    x, state = np.zeros(1), rule.init(np.zeros(1))
    for _ in range(count):
        new_x, state = rule.update(x, [sign * size], state)
        step = new_x[0] - x[0]
        assert -sign * step <= 0.01 * (1 + 1e-12)  # downhill, and at most η
        assert -sign * step > 0
        x = new_x


@given(st.integers(1, 10**6), st.integers(1, 10**4))
def test_updates_per_epoch_covers_the_data_exactly_once(n, batch_size):
    updates = updates_per_epoch(n, batch_size)
    assert updates * batch_size >= n > (updates - 1) * batch_size
    kept = updates_per_epoch(n, batch_size, drop_last=True)
    assert kept * batch_size <= n < (kept + 1) * batch_size


@given(st.integers(1, 200), st.integers(1, 50), st.integers(0, 2**32 - 1), st.booleans())
def test_shuffled_batches_are_a_partition(n, batch_size, seed, drop_last):
    batches = shuffled_batches(n, batch_size, seed, drop_last=drop_last)
    assert len(batches) == updates_per_epoch(n, batch_size, drop_last)
    flat = np.concatenate(batches).tolist() if batches else []
    assert len(set(flat)) == len(flat) and set(flat) <= set(range(1, n + 1))
    assert all(len(b) == batch_size for b in batches[:-1])
    if not drop_last:
        assert sorted(flat) == list(range(1, n + 1))


@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, (n, 2), elements=finite),
            st.lists(st.integers(1, n), min_size=1, max_size=10),
        )
    )
)
def test_batch_reductions_relate(data):
    grads, batch = data
    n = len(grads)
    mean = batch_gradient(grads, batch)
    total = batch_gradient(grads, batch, reduction="sum")
    np.testing.assert_allclose(total, mean * len(batch), atol=1e-9)
    np.testing.assert_allclose(batch_gradient(grads, batch, reduction="mean-over-n"), total / n)
    everything = batch_gradient(grads, range(1, n + 1))
    np.testing.assert_allclose(everything, full_gradient(grads), atol=1e-12)


@given(quadratics(), st.floats(1e-3, 0.5))
def test_trace_json_round_trips_exactly(problem, lr):
    objective, _, x0 = problem
    trace = run(Adam(lr=lr), objective, x0, 5)
    data = json.loads(json.dumps(trace.to_json()))
    np.testing.assert_array_equal(np.array(data["iterates"]).reshape(-1, objective.dim), trace.iterates)
    np.testing.assert_array_equal(data["values"], trace.values)
    np.testing.assert_array_equal(np.array(data["gradients"]).reshape(-1, objective.dim), trace.gradients)
