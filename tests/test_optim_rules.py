"""Update rules, right and wrong, against values worked out by hand from the formulas."""

import math

import numpy as np
import pytest
import sympy

from grader.optim import (
    RULES,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Cosine,
    Exponential,
    InverseTime,
    Momentum,
    Objective,
    RMSprop,
    StepDecay,
    Warmup,
    ascent,
    clipped,
    forgot_eta,
    make_rule,
    run,
    scheduled,
)
from grader.optim.rules import (
    AddDecoupledWeightDecay,
    AddWeightDecay,
    bias_correction_from_zero,
    bias_correction_of,
    clip_norm_for_value,
    clip_value_for_norm,
    coupled_weight_decay,
    ema_momentum,
    eps_moved,
    forgot_beta,
    rms_without_one_minus_alpha,
    schedule_from_one,
    without_amsgrad,
    without_bias_correction,
    without_clipping,
    without_momentum,
    without_nesterov,
    without_schedule,
)

x = sympy.Symbol("x")
PARABOLA = Objective.from_sympy(x**2 + 2)  # f = x² + 2, f' = 2x


def steps(rule, x0, gradients):
    """Feed the given gradients to ``rule`` from ``x0``; return x₁, x₂, … as floats or lists."""
    state = rule.init(x0)
    xs, point = [], np.asarray(x0, dtype=float)
    for g in gradients:
        point, state = rule.update(point, g, state)
        xs.append(point.tolist())
    return xs


def arrays(state):
    """Every array in a (nested) rule state."""
    if isinstance(state, np.ndarray):
        return [state]
    return [a for item in state for a in arrays(item)] if isinstance(state, tuple) else []


def path(rule, n=5, x0=4.0):
    """Iterates of ``rule`` on f = x² + 2 from x₀ = 4, as a flat list."""
    return run(rule, PARABOLA, x0, n).iterates[:, 0].tolist()


# --- gradient descent -------------------------------------------------------------


def test_lecture_gd_run():
    # x_{t+1} = x_t − 0.25·2x_t = x_t/2: 4, 2, 1, 0.5, 0.25, 0.125;
    # f = x² + 2: 18, 6, 3, 2.25, 2.0625, 2.015625.
    trace = run(SGD(lr=0.25), PARABOLA, 4, 5)
    assert trace.iterates[:, 0].tolist() == [4, 2, 1, 0.5, 0.25, 0.125]
    assert trace.values.tolist() == [18, 6, 3, 2.25, 2.0625, 2.015625]
    assert trace.gradients[:, 0].tolist() == [8, 4, 2, 1, 0.5, 0.25]
    assert trace.diverged_at is None


def test_gd_step_2d():
    # [4, 3] − 0.5·[1, 2] = [3.5, 2].
    assert steps(SGD(lr=0.5), [4, 3], [[1, 2]]) == [[3.5, 2.0]]


def test_sgd_weight_decay():
    # g = 8 + 0.5·4 = 10; x = 4 − 0.25·10 = 1.5.
    assert steps(SGD(lr=0.25, weight_decay=0.5), 4.0, [8.0]) == [1.5]


def test_gd_and_sgd_are_the_same_rule_with_pytorch_default():
    assert make_rule("gd") == make_rule("sgd") == SGD(lr=1e-3)


# --- momentum ---------------------------------------------------------------------


def test_momentum_three_steps():
    # β = 0.5, η = 0.25 on f = x² + 2 from 4:
    # t=1: g = 8, b = g = 8,              x = 4 − 0.25·8 = 2
    # t=2: g = 4, b = 0.5·8 + 4 = 8,      x = 2 − 0.25·8 = 0
    # t=3: g = 0, b = 0.5·8 + 0 = 4,      x = 0 − 0.25·4 = −1
    assert path(Momentum(lr=0.25, momentum=0.5), 3) == [4, 2, 0, -1]


def test_momentum_state_holds_the_buffer():
    rule = Momentum(lr=0.25, momentum=0.5)
    state = rule.init(4.0)
    x1, state = rule.update(4.0, 8.0, state)
    assert (state.step, state.buffer.tolist()) == (1, 8.0)
    _, state = rule.update(x1, 4.0, state)
    assert (state.step, state.buffer.tolist()) == (2, 8.0)


def test_momentum_dampening_skips_the_first_step():
    # PyTorch: b₁ = g (no dampening on the first step), then b ← βb + (1 − τ)g.
    # β = τ = 0.5, η = 0.25: t=1: b = 8, x = 2; t=2: g = 4, b = 4 + 2 = 6, x = 2 − 1.5 = 0.5.
    assert path(Momentum(lr=0.25, momentum=0.5, dampening=0.5), 2) == [4, 2, 0.5]


def test_nesterov_two_steps():
    # β = 0.5, η = 0.25; step direction d = g + βb:
    # t=1: g = 8, b = 8, d = 8 + 4 = 12,  x = 4 − 3 = 1
    # t=2: g = 2, b = 4 + 2 = 6, d = 2 + 3 = 5, x = 1 − 1.25 = −0.25
    assert path(Momentum(lr=0.25, momentum=0.5, nesterov=True), 2) == [4, 1, -0.25]
    assert make_rule("nesterov", lr=0.25, momentum=0.5) == Momentum(lr=0.25, momentum=0.5, nesterov=True)


def test_ema_momentum_misconception():
    # b ← βb + (1 − β)g from b₀ = 0, β = 0.5, η = 0.25:
    # t=1: g = 8, b = 0 + 4 = 4,          x = 4 − 1 = 3
    # t=2: g = 6, b = 2 + 3 = 5,          x = 3 − 1.25 = 1.75
    assert path(Momentum(lr=0.25, momentum=0.5, ema=True), 2) == [4, 3, 1.75]


def test_momentum_weight_decay():
    # g = 8 + 0.25·4 = 9, b = 9, x = 4 − 0.25·9 = 1.75.
    assert steps(Momentum(lr=0.25, momentum=0.5, weight_decay=0.25), 4.0, [8.0]) == [1.75]


# --- Adagrad ----------------------------------------------------------------------


def test_adagrad_two_steps_exact():
    # η = 0.1, ε = 0: s = 9, x = 1 − 0.1·3/3 = 0.9; s = 9 + 16 = 25, x = 0.9 − 0.1·4/5 = 0.82.
    assert steps(Adagrad(lr=0.1, eps=0), 1.0, [3.0, 4.0]) == pytest.approx([0.9, 0.82], abs=1e-15)


def test_adagrad_is_per_coordinate():
    # g = [3, 4]: s = [9, 16], step = 0.1·[3/3, 4/4] = [0.1, 0.1].
    assert steps(Adagrad(lr=0.1, eps=0), [1, 1], [[3, 4]]) == [[0.9, 0.9]]


def test_adagrad_defaults():
    # lr = 0.01, ε = 1e-10: x = 1 − 0.01·3/(3 + 1e-10).
    assert steps(Adagrad(), 1.0, [3.0]) == [1 - 0.01 * 3 / (3 + 1e-10)]


def test_adagrad_lr_decay_and_initial_accumulator():
    # lr_decay = 1: η₂ = 0.1/(1 + 1) = 0.05; step 2: s = 25, x = 0.9 − 0.05·4/5 = 0.86.
    got = steps(Adagrad(lr=0.1, eps=0, lr_decay=1), 1.0, [3.0, 4.0])
    assert got == pytest.approx([0.9, 0.86], abs=1e-15)
    # s₀ = 16: s = 16 + 9 = 25, x = 1 − 0.1·3/5 = 0.94.
    assert steps(Adagrad(lr=0.1, eps=0, initial_accumulator_value=16), 1.0, [3.0]) == [0.94]


# --- RMSprop ----------------------------------------------------------------------


def test_rmsprop_two_steps_exact():
    # α = 0.75, η = 0.1, ε = 0:
    # t=1: g = 4, v = 0.25·16 = 4,              x = 1 − 0.1·4/2 = 0.8
    # t=2: g = 2, v = 0.75·4 + 0.25·4 = 4,      x = 0.8 − 0.1·2/2 = 0.7
    got = steps(RMSprop(lr=0.1, alpha=0.75, eps=0), 1.0, [4.0, 2.0])
    assert got == pytest.approx([0.8, 0.7], abs=1e-15)


def test_rmsprop_defaults():
    # lr = 0.01, α = 0.99, ε = 1e-8, g = 2: v = 0.01·4 = 0.04, √v = 0.2,
    # x = 1 − 0.01·2/(0.2 + 1e-8) ≈ 0.9.
    (got,) = steps(RMSprop(), 1.0, [2.0])
    assert got == pytest.approx(1 - 0.01 * 2 / (0.2 + 1e-8), rel=1e-15)
    assert got == pytest.approx(0.9, abs=1e-8)


# --- Adam -------------------------------------------------------------------------


def test_adam_first_step_is_lr_times_sign():
    # t=1: m = 0.1g, v = 0.001g², m̂ = g, v̂ = g², step = η g/(|g| + ε) ≈ η·sign(g).
    (got,) = steps(Adam(), [0.0, 0.0], [[2.0, -0.5]])
    expected = [-1e-3 * 2 / (2 + 1e-8), 1e-3 * 0.5 / (0.5 + 1e-8)]
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == pytest.approx([-1e-3, 1e-3], rel=1e-7)


def test_adam_two_steps_exact():
    # β = (0.5, 0.75), η = 0.1, ε = 0, x₀ = 1:
    # t=1: g = 2:  m = 1, v = 0.25·4 = 1; m̂ = 1/0.5 = 2, v̂ = 1/0.25 = 4;
    #      x = 1 − 0.1·2/2 = 0.9
    # t=2: g = −2: m = 0.5 − 1 = −0.5, v = 0.75 + 1 = 1.75;
    #      m̂ = −0.5/0.75 = −2/3, v̂ = 1.75/0.4375 = 4; x = 0.9 + 0.1·(2/3)/2 = 0.9 + 1/30
    got = steps(Adam(lr=0.1, betas=(0.5, 0.75), eps=0), 1.0, [2.0, -2.0])
    assert got == pytest.approx([0.9, 0.9 + 1 / 30], abs=1e-15)


def test_adam_state_counts_from_one():
    rule = Adam()
    _, state = rule.update(0.0, 2.0, rule.init(0.0))
    assert state.step == 1
    assert state.m.tolist() == pytest.approx(0.2)
    assert state.v.tolist() == pytest.approx(0.004)


def test_adam_without_bias_correction_misconception():
    # Defaults, g = 2: m = 0.2, v = 0.004; step = 0.001·0.2/(√0.004 + 1e-8)
    # ≈ 0.001·0.1/√0.001 = 0.001·√10 ≈ 3.16e-3, not ≈ 1e-3.
    (got,) = steps(Adam(bias_correction=False), 0.0, [2.0])
    assert got == pytest.approx(-0.001 * 0.2 / (math.sqrt(0.004) + 1e-8), rel=1e-12)
    assert got == pytest.approx(-0.001 * math.sqrt(10), rel=1e-6)


def test_adam_weight_decay_is_added_to_the_gradient():
    # λ = 1, x = 3, g = −1: g' = 2, first step ≈ −η·sign(2): x = 3 − 0.1·2/(2 + 0) = 2.9.
    assert steps(Adam(lr=0.1, eps=0, weight_decay=1), 3.0, [-1.0]) == [2.9]


# --- the misconceptions -----------------------------------------------------------


def test_sign_error_moves_uphill():
    # x ← x + 0.25·2x = 1.5x: 4, 6, 9, 13.5.
    assert path(ascent(SGD(lr=0.25)), 3) == [4, 6, 9, 13.5]
    # 2-D: [4, 3] + 0.5·[1, 2] = [4.5, 4].
    assert steps(ascent(SGD(lr=0.5)), [4, 3], [[1, 2]]) == [[4.5, 4.0]]


def test_sign_error_of_adam_and_momentum():
    # Adam on −g: first step ≈ +η·sign(g).
    (got,) = steps(ascent(Adam(lr=0.1, eps=0)), 0.0, [2.0])
    assert got == pytest.approx(0.1)
    # Momentum β = 0.5, η = 0.25 uphill: b = −8, x = 6; g = 12, b = −4 − 12 = −16, x = 10.
    assert path(ascent(Momentum(lr=0.25, momentum=0.5)), 2) == [4, 6, 10]
    assert ascent(SGD(lr=0.3)).lr == 0.3


def test_forgot_eta():
    # x ← x − 2x = −x: 4, −4, 4.
    assert path(forgot_eta(SGD(lr=0.25)), 2) == [4, -4, 4]
    # 2-D: [4, 3] − [1, 2] = [3, 1].
    assert steps(forgot_eta(SGD(lr=0.5)), [4, 3], [[1, 2]]) == [[3.0, 1.0]]
    # Momentum β = 0.5 without η: b = 8, x = −4; g = −8, b = 4 − 8 = −4, x = 0.
    assert path(forgot_eta(Momentum(lr=0.25, momentum=0.5)), 2) == [4, -4, 0]


def test_forgot_eta_keeps_the_other_hyper_parameters_and_the_sign_error():
    rule = forgot_eta(Adam(lr=0.1, betas=(0.5, 0.75), bias_correction=False))
    assert rule == Adam(lr=1.0, betas=(0.5, 0.75), bias_correction=False)
    # Uphill and without η: x ← x + 2x = 3x: 4, 12.
    assert path(forgot_eta(ascent(SGD(lr=0.25))), 1) == [4, 12]


# --- misconceptions as one link swapped or dropped ----------------------------------


def test_ema_momentum_from_zero_is_the_ema_rule():
    rule = ema_momentum(Momentum(lr=0.25, momentum=0.5))
    assert path(rule, 2) == path(Momentum(lr=0.25, momentum=0.5, ema=True), 2) == [4, 3, 1.75]


def test_ema_momentum_started_from_the_first_gradient():
    # b₁ = g = 8, x = 2; g = 4, b = 0.5·8 + 0.5·4 = 6, x = 2 − 1.5 = 0.5.
    assert path(ema_momentum(Momentum(lr=0.25, momentum=0.5), start="gradient"), 2) == [4, 2, 0.5]


def test_forgot_beta_adds_the_whole_previous_direction():
    # b₁ = 8, x = 2; g = 4, b = 8 + 4 = 12, x = 2 − 3 = −1.
    assert path(forgot_beta(Momentum(lr=0.25, momentum=0.5)), 2) == [4, 2, -1]


def test_dropping_the_buffer_or_the_look_ahead():
    assert path(without_momentum(Momentum(lr=0.25, momentum=0.5)), 3) == [4, 2, 1, 0.5]
    nesterov = Momentum(lr=0.25, momentum=0.5, nesterov=True)
    assert path(without_nesterov(nesterov), 3) == [4, 2, 0, -1]


def test_rmsprop_without_one_minus_alpha():
    # α = 0.75, η = 0.1, ε = 0: v = 16, x = 1 − 0.1·4/4 = 0.9; v = 12 + 4 = 16, x = 0.9 − 0.1·2/4 = 0.85.
    got = steps(rms_without_one_minus_alpha(RMSprop(lr=0.1, alpha=0.75, eps=0)), 1.0, [4.0, 2.0])
    assert got == pytest.approx([0.9, 0.85], abs=1e-15)


def test_adam_bias_correction_dropped_or_counted_from_zero():
    rule = Adam(lr=0.1, betas=(0.5, 0.75), eps=0)
    assert steps(without_bias_correction(rule), 1.0, [2.0]) == steps(
        Adam(lr=0.1, betas=(0.5, 0.75), eps=0, bias_correction=False), 1.0, [2.0]
    )
    # t from 0: step 1 uncorrected, m = 1, v = 1, x = 0.9; step 2 with exponent 1:
    # m = −0.5, v = 1.75, m̂ = −1, v̂ = 7, x = 0.9 + 0.1/√7.
    got = steps(bias_correction_from_zero(rule), 1.0, [2.0, -2.0])
    assert got == pytest.approx([0.9, 0.9 + 0.1 / math.sqrt(7)], abs=1e-15)


def test_a_misconception_that_does_not_apply_is_none():
    assert ema_momentum(Adam()) is None
    assert without_bias_correction(SGD(lr=0.1)) is None
    assert rms_without_one_minus_alpha(Momentum(lr=0.1)) is None


@pytest.mark.parametrize("name", sorted(RULES))
def test_weight_decay_is_one_link_of_every_rule(name):
    links = make_rule(name, lr=0.1, weight_decay=0.5).links()
    kind = AddDecoupledWeightDecay if name == "adamw" else AddWeightDecay  # AdamW decays the step, not g
    assert [link for link in links if isinstance(link, AddWeightDecay | AddDecoupledWeightDecay)] == [kind(0.5)]


# --- construction -----------------------------------------------------------------


def test_registry_names():
    assert set(RULES) == {"gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}


def test_pytorch_defaults():
    assert make_rule("momentum") == Momentum(lr=1e-3, momentum=0.9)
    assert make_rule("adagrad") == Adagrad(lr=0.01, eps=1e-10)
    assert make_rule("rmsprop") == RMSprop(lr=0.01, alpha=0.99, eps=1e-8)
    assert make_rule("adam") == Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8)


def test_make_rule_passes_hyper_parameters_and_options():
    assert make_rule("Adam", lr=0.1, betas=[0.5, 0.75], eps=0) == Adam(0.1, (0.5, 0.75), 0.0)
    assert make_rule("momentum", lr=0.1, momentum=0.5, ema=True) == Momentum(lr=0.1, momentum=0.5, ema=True)
    assert make_rule("rmsprop", alpha=0.5, momentum=None).alpha == 0.5
    assert make_rule("adam", bias_correction=False).bias_correction is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "adamax"}, "Unknown optimizer 'adamax'; choose one of adagrad, adam, adamw, gd, "),
        ({"name": "gd", "lr": 0}, "lr must be positive, got 0.0."),
        ({"name": "gd", "lr": -0.1}, "lr must be positive, got -0.1."),
        ({"name": "gd", "lr": float("nan")}, "lr must be finite, got nan."),
        ({"name": "adam", "lr": float("inf")}, "lr must be finite, got inf."),
        ({"name": "gd", "lr": "0.1"}, "lr must be a number, got '0.1'."),
        ({"name": "gd", "lr": True}, "lr must be a number, got True."),
        ({"name": "momentum", "momentum": 1}, r"momentum must be in \[0, 1\), got 1.0."),
        ({"name": "nesterov", "momentum": -0.5}, r"momentum must be in \[0, 1\), got -0.5."),
        ({"name": "rmsprop", "alpha": 1.5}, r"alpha must be in \[0, 1\), got 1.5."),
        ({"name": "adam", "betas": (0.9, 1.0)}, r"beta2 must be in \[0, 1\), got 1.0."),
        ({"name": "adam", "betas": (0.9,)}, r"betas must be a pair \(beta1, beta2\)"),
        ({"name": "adagrad", "eps": -1e-10}, "eps must be ≥ 0, got -1e-10."),
        ({"name": "gd", "momentum": 0.9}, "Option 'momentum' does not apply to 'gd', which "),
        ({"name": "adam", "alpha": 0.9}, "Option 'alpha' does not apply to 'adam', which "),
        ({"name": "nesterov", "nesterov": False}, "Option 'nesterov' does not apply"),
        ({"name": "nesterov", "dampening": 0.1}, "dampening must be 0 with nesterov"),
    ],
)
def test_make_rule_rejects_with_one_sentence(kwargs, message):
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=message) as info:
        make_rule(name, **kwargs)
    text = str(info.value)
    assert "\n" not in text and text.endswith(".")


def test_rules_are_frozen_and_validate_on_direct_construction():
    with pytest.raises(ValueError, match="lr must be positive"):
        SGD(lr=0)
    rule = SGD(lr=0.1)
    with pytest.raises(AttributeError):
        rule.lr = 0.2  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(RULES))
def test_update_does_not_modify_its_arguments(name):
    rule = make_rule(name, lr=0.1)
    x0, g = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    state = rule.init(x0)
    x1, state1 = rule.update(x0, g, state)
    snapshot = [a.copy() for a in arrays(state1)]
    rule.update(x1, g, state1)
    assert x0.tolist() == [1.0, -2.0] and g.tolist() == [0.5, 3.0]
    assert [a.tolist() for a in arrays(state1)] == [a.tolist() for a in snapshot]
    assert snapshot or name in ("gd", "sgd")
    assert x1.dtype == np.float64 and x1.shape == (2,)


# --- step-size schedules, for any rule --------------------------------------------
# On f = x² + 2 (f' = 2x) from x₀ = 4 with η = 0.25; the first update uses t = 0.


def test_schedules_give_the_rate_of_each_update():
    # η_t for t = 0, 1, 2, 3, 4, worked from each formula.
    assert [InverseTime(1).rate(0.25, t) for t in range(3)] == [0.25, 0.125, 0.25 / 3]
    assert [InverseTime(1, every=2).rate(1, t) for t in range(3)] == [1, 1 / 1.5, 0.5]
    assert [StepDecay(0.5, every=2).rate(0.25, t) for t in range(5)] == [0.25, 0.25, 0.125, 0.125, 0.0625]
    assert [Exponential(0.5).rate(0.25, t) for t in range(3)] == [0.25, 0.125, 0.0625]
    # cos(0) = 1, cos(π/2) = 0, cos(π) = −1, and held at η_min after T = 2.
    assert [Cosine(2).rate(0.25, t) for t in range(4)] == pytest.approx([0.25, 0.125, 0, 0], abs=1e-16)
    # η_min = 0.05, T = 4, t = 1: 0.05 + 0.2·(1 + √2/2)/2.
    assert Cosine(4, min_lr=0.05).rate(0.25, 1) == pytest.approx(0.05 + 0.1 * (1 + math.sqrt(2) / 2), rel=1e-15)
    assert [Warmup(4).rate(0.25, t) for t in range(5)] == [0.0625, 0.125, 0.1875, 0.25, 0.25]
    # Warm-up over 2 updates, then halving every update from η.
    assert [Warmup(2, then=StepDecay(0.5, 1)).rate(1, t) for t in range(5)] == [0.5, 1, 1, 0.5, 0.25]


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        # x ← x − η_t·2x: η 0.25, 0.125, 1/12 → 4, 2, 1.5, 1.25.
        (InverseTime(1), [4, 2, 1.5, 1.25]),
        # η 0.25, 0.25, 0.125, 0.125 → 4, 2, 1, 0.75, 0.5625.
        (StepDecay(0.5, every=2), [4, 2, 1, 0.75, 0.5625]),
        # η 0.25, 0.125, 0.0625 → 4, 2, 1.5, 1.3125.
        (Exponential(0.5), [4, 2, 1.5, 1.3125]),
        # η 0.25, 0.125, 0, 0 → 4, 2, 1.5, 1.5, 1.5.
        (Cosine(2), [4, 2, 1.5, 1.5, 1.5]),
        # η 0.0625, 0.125, 0.1875, 0.25 → 4, 3.5, 2.625, 1.640625, 0.8203125.
        (Warmup(4), [4, 3.5, 2.625, 1.640625, 0.8203125]),
    ],
)
def test_gradient_descent_with_a_schedule(schedule, expected):
    rule = scheduled(SGD(lr=0.25), schedule)
    assert path(rule, len(expected) - 1) == pytest.approx(expected, abs=1e-15)


def test_a_schedule_applies_to_momentum_and_adam():
    # Momentum β = 0.5, η_t = 0.25·0.5^t: b = 8, x = 2; b = 0.5·8 + 4 = 8, x = 2 − 0.125·8 = 1.
    assert path(scheduled(Momentum(lr=0.25, momentum=0.5), StepDecay(0.5, 1)), 2) == [4, 2, 1]
    # Adam β = (0.5, 0.75), ε = 0 from 1 with g = 2, −2 (see test_adam_two_steps_exact): the second
    # step −(−2/3)/2 = 1/3 is taken with η₁ = 0.05 instead of 0.1.
    got = steps(scheduled(Adam(lr=0.1, betas=(0.5, 0.75), eps=0), StepDecay(0.5, 1)), 1.0, [2.0, -2.0])
    assert got == pytest.approx([0.9, 0.9 + 0.05 / 3], abs=1e-15)


def test_schedule_misconceptions():
    rule = scheduled(SGD(lr=0.25), InverseTime(1))
    # η kept at 0.25: x halves each step.
    assert path(without_schedule(rule), 3) == [4, 2, 1, 0.5]
    # t from 1: η 0.125, 1/12 → 4 − 1 = 3, 3 − (1/12)·6 = 2.5.
    assert path(schedule_from_one(rule), 2) == pytest.approx([4, 3, 2.5], abs=1e-15)
    assert without_schedule(SGD(lr=0.25)) is None
    assert schedule_from_one(SGD(lr=0.25)) is None


def test_schedules_refuse_bad_values_with_one_sentence():
    with pytest.raises(ValueError, match=r"gamma must be > 0 and ≤ 1, got 1.5."):
        StepDecay(1.5, 2)
    with pytest.raises(ValueError, match=r"every must be a whole number ≥ 1, got 0."):
        StepDecay(0.5, 0)
    with pytest.raises(ValueError, match=r"decay must be ≥ 0, got -1.0."):
        InverseTime(-1)
    with pytest.raises(ValueError, match="schedule must be a schedule"):
        scheduled(SGD(lr=0.1), 0.5)


# --- gradient clipping ----------------------------------------------------------------


def test_clipping_by_norm_and_by_value():
    # g = [3, 4], ‖g‖ = 5 > 1: by norm [0.6, 0.8]; by value [1, 1]; η = 0.5 from the origin.
    assert steps(clipped(SGD(lr=0.5), max_norm=1), [0, 0], [[3, 4]])[0] == pytest.approx([-0.3, -0.4], abs=1e-15)
    assert steps(clipped(SGD(lr=0.5), max_value=1), [0, 0], [[3, -0.5]]) == [[-0.5, 0.25]]
    # ‖[0.3, 0.4]‖ = 0.5 ≤ 1: left as it is.
    assert steps(clipped(SGD(lr=0.5), max_norm=1), [0, 0], [[0.3, 0.4]])[0] == pytest.approx([-0.15, -0.2])
    # Clipped first, then the weight decay λx (as clip_grad_norm_ before optimizer.step()):
    # [0.6, 0.8] + 1·[1, 0] = [1.6, 0.8]; x = [1, 0] − 0.5·[1.6, 0.8] = [0.2, −0.4].
    (got,) = steps(clipped(SGD(lr=0.5, weight_decay=1), max_norm=1), [1, 0], [[3, 4]])
    assert got == pytest.approx([0.2, -0.4], abs=1e-15)


def test_clipping_misconceptions():
    rule = clipped(SGD(lr=0.5), max_norm=1)
    assert steps(without_clipping(rule), [0, 0], [[3, 4]]) == [[-1.5, -2.0]]
    assert steps(clip_value_for_norm(rule), [0, 0], [[3, 4]]) == [[-0.5, -0.5]]
    # Shortened to length 1 where each component was to be clipped to [−1, 1]: [3, 4]/5.
    by_value = clipped(SGD(lr=0.5), max_value=1)
    assert steps(clip_norm_for_value(by_value), [0, 0], [[3, 4]])[0] == pytest.approx([-0.3, -0.4])
    assert without_clipping(SGD(lr=0.5)) is None
    with pytest.raises(ValueError, match="max_norm must be positive"):
        clipped(SGD(lr=0.5), max_norm=0)


# --- Adam's variants ----------------------------------------------------------------------
# β = (0.5, 0.75), η = 0.1, ε = 0, x₀ = 1, gradients 2 then −2:
# t = 1: m = 1, v = 1; t = 2: m = 0.5 − 1 = −0.5, v = 0.75 + 1 = 1.75.
# 1 − β₁ = 0.5, 1 − β₂ = 0.25; 1 − β₁² = 0.75, 1 − β₂² = 0.4375.


def test_adam_bias_correction_of_one_moment_or_none():
    def adam(which):
        return steps(Adam(lr=0.1, betas=(0.5, 0.75), eps=0, bias_correction=which), 1.0, [2.0, -2.0])

    # both: 2/√4 = 1, then (−2/3)/√4 → 0.9, 0.9 + 1/30.
    assert adam(True) == pytest.approx([0.9, 0.9 + 1 / 30], abs=1e-15)
    # m only: 2/√1 = 2 → 0.8; then (−2/3)/√1.75 → 0.8 + 0.1·(2/3)/√1.75.
    assert adam("m") == pytest.approx([0.8, 0.8 + 0.1 * (2 / 3) / math.sqrt(1.75)], abs=1e-15)
    # v only: 1/√4 = 0.5 → 0.95; then −0.5/√4 = −0.25 → 0.975.
    assert adam("v") == pytest.approx([0.95, 0.975], abs=1e-15)
    # none: 1/√1 = 1 → 0.9; then −0.5/√1.75 → 0.9 + 0.05/√1.75.
    assert adam(False) == pytest.approx([0.9, 0.9 + 0.05 / math.sqrt(1.75)], abs=1e-15)
    rule = Adam(lr=0.1, betas=(0.5, 0.75), eps=0)
    assert steps(bias_correction_of(rule, "m"), 1.0, [2.0, -2.0]) == adam("m")
    assert steps(bias_correction_of(rule, "v"), 1.0, [2.0, -2.0]) == adam("v")
    with pytest.raises(ValueError, match="bias_correction must be True, False, 'm' or 'v'"):
        Adam(bias_correction="both")


def test_adam_eps_inside_or_outside_the_root():
    # ε = 5, t = 1: m̂ = 2, v̂ = 4; inside 2/√(4 + 5) = 2/3, outside 2/(2 + 5) = 2/7.
    inside = Adam(lr=0.1, betas=(0.5, 0.75), eps=5, eps_inside=True)
    outside = Adam(lr=0.1, betas=(0.5, 0.75), eps=5)
    assert steps(inside, 1.0, [2.0]) == pytest.approx([1 - 0.1 * 2 / 3], abs=1e-15)
    assert steps(outside, 1.0, [2.0]) == pytest.approx([1 - 0.1 * 2 / 7], abs=1e-15)
    assert steps(eps_moved(outside), 1.0, [2.0]) == steps(inside, 1.0, [2.0])


def test_amsgrad_divides_by_the_largest_v():
    # Gradients 2 then 0: v₁ = 1, v₂ = 0.75 < v_max = 1; m₂ = 0.5, m̂₂ = 2/3.
    # AMSGrad: v̂ = 1/0.4375 = 16/7, step (2/3)/(4/√7) = √7/6; Adam: v̂ = 12/7, step √21/9.
    ams = Adam(lr=0.1, betas=(0.5, 0.75), eps=0, amsgrad=True)
    plain = Adam(lr=0.1, betas=(0.5, 0.75), eps=0)
    assert steps(ams, 1.0, [2.0, 0.0]) == pytest.approx([0.9, 0.9 - 0.1 * math.sqrt(7) / 6], abs=1e-15)
    assert steps(plain, 1.0, [2.0, 0.0]) == pytest.approx([0.9, 0.9 - 0.1 * math.sqrt(21) / 9], abs=1e-15)
    assert steps(without_amsgrad(ams), 1.0, [2.0, 0.0]) == steps(plain, 1.0, [2.0, 0.0])
    assert without_amsgrad(plain) is None


def test_adamw_decays_the_step_not_the_gradient():
    # λ = 0.5, g = 2 at x = 1: Adam's step 1 plus λx = 0.5 → x = 1 − 0.1·1.5 = 0.85
    # (PyTorch: 1·(1 − 0.1·0.5) = 0.95, then − 0.1·1 = 0.85).
    rule = AdamW(lr=0.1, betas=(0.5, 0.75), eps=0, weight_decay=0.5)
    assert steps(rule, 1.0, [2.0]) == pytest.approx([0.85], abs=1e-15)
    # Coupled: g + λx = 2.5, and Adam's first step is η·sign(2.5) → 0.9.
    assert steps(coupled_weight_decay(rule), 1.0, [2.0]) == pytest.approx([0.9], abs=1e-15)
    assert steps(Adam(lr=0.1, betas=(0.5, 0.75), eps=0, weight_decay=0.5), 1.0, [2.0]) == pytest.approx([0.9])
    assert coupled_weight_decay(Adam()) is None
    assert make_rule("adamw") == AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
