"""Running rules on objectives: traces, JSON, divergence, off-by-one slips."""

import json
import warnings

import numpy as np
import pytest
import sympy

from grader.optim import (
    SGD,
    Adam,
    Objective,
    one_step_too_few,
    one_step_too_many,
    run,
    without_start,
)

x, y = sympy.symbols("x y")
PARABOLA = Objective.from_sympy(x**2 + 2)


def test_trace_shapes_and_json():
    # GD η = 0.25 on x² + 2 from 4: x halves each step.
    trace = run(SGD(lr=0.25), PARABOLA, 4, 5)
    assert trace.iterates.shape == (6, 1)
    assert trace.values.shape == (6,)
    assert trace.gradients.shape == (6, 1)
    assert trace.steps == 5
    assert trace.to_json() == {
        "iterates": [[4.0], [2.0], [1.0], [0.5], [0.25], [0.125]],
        "values": [18.0, 6.0, 3.0, 2.25, 2.0625, 2.015625],
        "gradients": [[8.0], [4.0], [2.0], [1.0], [0.5], [0.25]],
    }


def test_json_keeps_full_precision():
    # GD η = 0.1: x ← 0.8x, so x₁ = 3.2 and x₂ = 2.56 (up to rounding), not short decimals.
    trace = run(SGD(lr=0.1), PARABOLA, 4, 30)
    data = json.loads(json.dumps(trace.to_json()))
    np.testing.assert_array_equal(data["iterates"], trace.iterates)
    np.testing.assert_array_equal(data["values"], trace.values)
    assert all(type(v) is float for v in trace.to_json()["values"])


def test_two_variables():
    # f = x² + 10y², ∇f = [2x, 20y]; GD η = 0.05 from [1, 1]:
    # x₁ = [1 − 0.1, 1 − 1] = [0.9, 0], f(x₁) = 0.81.
    f = Objective.from_sympy(x**2 + 10 * y**2)
    trace = run(SGD(lr=0.05), f, [1, 1], 1)
    assert trace.iterates.tolist() == [[1.0, 1.0], [0.9, 0.0]]
    assert trace.values.tolist() == [11.0, pytest.approx(0.81)]
    assert trace.gradients.tolist() == [[2.0, 20.0], [1.8, 0.0]]


def test_zero_steps_is_just_the_start():
    trace = run(Adam(), PARABOLA, 4, 0)
    assert trace.iterates.tolist() == [[4.0]]
    assert trace.values.tolist() == [18.0]


def test_divergence_is_recorded_without_raising_or_warning():
    # η = 1.5: x ← x − 3x = −2x, so x_t = 4·(−2)^t = ±2^(t+2) and f(x_t) − 2 = 2^(2t+4).
    # f first overflows (2^1024 > max float) at 2t + 4 = 1024, t = 510.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = run(SGD(lr=1.5), PARABOLA, 4, 2000)
    assert trace.diverged_at == 510
    assert trace.steps == 509
    assert len(trace.iterates) == len(trace.gradients) == 510
    assert np.isfinite(trace.values).all()
    assert trace.iterates[-1, 0] == -(2.0**511)
    assert trace.to_json()["diverged_at"] == 510


def test_divergence_from_a_raising_callable():
    # Callables written with the math module raise OverflowError instead of giving inf.
    f = Objective(("x",), lambda p: float(p[0]) ** 2, lambda p: [2 * float(p[0])])
    trace = run(SGD(lr=1.5), f, 4, 2000)
    assert trace.diverged_at == 510


def test_non_finite_start_value_stops_at_step_zero():
    f = Objective.from_sympy(sympy.log(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = run(SGD(lr=0.1), f, 0, 5)
    assert trace.diverged_at == 0
    assert trace.iterates.shape == (0, 1)
    assert trace.to_json() == {"iterates": [], "values": [], "gradients": [], "diverged_at": 0}


@pytest.mark.parametrize("steps", [-1, 2.0, True, "3"])
def test_bad_steps(steps):
    with pytest.raises(ValueError, match="steps must be a non-negative integer"):
        run(SGD(lr=0.1), PARABOLA, 4, steps)


def test_bad_start():
    with pytest.raises(ValueError, match="x0 must be finite"):
        run(SGD(lr=0.1), PARABOLA, float("nan"), 3)
    with pytest.raises(ValueError, match="1 coordinate"):
        run(SGD(lr=0.1), PARABOLA, [1, 2], 3)


def test_off_by_one_slips():
    rule, n = SGD(lr=0.25), 5
    trace = run(rule, PARABOLA, 4, n)
    # x₁ … x₅ only.
    assert without_start(trace).iterates[:, 0].tolist() == [2, 1, 0.5, 0.25, 0.125]
    assert without_start(trace).values.tolist() == [6, 3, 2.25, 2.0625, 2.015625]
    # x₀ … x₄: one update too few.
    assert one_step_too_few(trace).iterates[:, 0].tolist() == [4, 2, 1, 0.5, 0.25]
    assert one_step_too_few(trace).gradients[:, 0].tolist() == [8, 4, 2, 1, 0.5]
    # x₀ … x₆: one update too many; x₆ = 0.0625, f = 2.00390625.
    extra = one_step_too_many(rule, PARABOLA, 4, n)
    assert extra.iterates[:, 0].tolist() == [4, 2, 1, 0.5, 0.25, 0.125, 0.0625]
    assert extra.values[-1] == 2.00390625
