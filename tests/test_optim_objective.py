"""Objective: values and derivatives from sympy, checked against hand-derived ones."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy

from grader.optim import Objective
from grader.optim.objective import natural_key

x, y = sympy.symbols("x y")


def test_parabola_value_gradient_hessian():
    # f = x² + 2, f' = 2x, f'' = 2; at x = 4: 18, 8, 2.
    f = Objective.from_sympy(x**2 + 2)
    assert f.variables == ("x",)
    assert f.dim == 1
    assert f.value(4) == 18.0
    assert type(f.value(4)) is float
    np.testing.assert_array_equal(f.gradient(4), [8.0])
    np.testing.assert_array_equal(f.hessian(4), [[2.0]])
    assert f.gradient(4).dtype == np.float64
    assert f.hessian(4).dtype == np.float64


def test_scalar_and_sequence_points_agree_in_one_dimension():
    f = Objective.from_sympy(x**2 + 2)
    assert f.value(0.5) == f.value([0.5]) == f.value(np.array([0.5])) == 2.25


def test_rosenbrock_at_its_minimum():
    # f = (1 − x)² + 100(y − x²)²
    # ∂f/∂x = −2(1 − x) − 400x(y − x²), ∂f/∂y = 200(y − x²): both 0 at (1, 1).
    # ∂²f/∂x² = 2 − 400y + 1200x² = 802, ∂²f/∂x∂y = −400x = −400, ∂²f/∂y² = 200.
    f = Objective.from_sympy((1 - x) ** 2 + 100 * (y - x**2) ** 2)
    assert f.value([1, 1]) == 0.0
    np.testing.assert_array_equal(f.gradient([1, 1]), [0.0, 0.0])
    np.testing.assert_array_equal(f.hessian([1, 1]), [[802.0, -400.0], [-400.0, 200.0]])
    # At (0, 0): ∂f/∂x = −2, ∂f/∂y = 0, value 1.
    assert f.value((0, 0)) == 1.0
    np.testing.assert_array_equal(f.gradient((0, 0)), [-2.0, 0.0])


def test_constant_derivatives_have_the_right_shapes():
    # f = 3x + y²: ∇f = [3, 2y], ∇²f = [[0, 0], [0, 2]]; at (1, 5): [3, 10].
    f = Objective.from_sympy(3 * x + y**2)
    np.testing.assert_array_equal(f.gradient([1, 5]), [3.0, 10.0])
    np.testing.assert_array_equal(f.hessian([1, 5]), [[0.0, 0.0], [0.0, 2.0]])


def test_saddle_hessian():
    # f = x² − y²: ∇²f = diag(2, −2), indefinite (a saddle at 0).
    f = Objective.from_sympy(x**2 - y**2)
    np.testing.assert_array_equal(f.hessian([0, 0]), [[2.0, 0.0], [0.0, -2.0]])


def test_abs_differentiates_to_sign():
    # Variables are real, so d|x|/dx = sign(x): −1 at x = −3.
    f = Objective.from_sympy(sympy.Abs(x))
    np.testing.assert_array_equal(f.gradient(-3), [-1.0])


def test_variables_default_to_natural_order():
    x1, x2, x10 = sympy.symbols("x1 x2 x10")
    f = Objective.from_sympy(x10 + 2 * x2 + 3 * x1)
    assert f.variables == ("x1", "x2", "x10")
    # ∇f = [3, 2, 1] in that order.
    np.testing.assert_array_equal(f.gradient([0, 0, 0]), [3.0, 2.0, 1.0])
    z = sympy.Symbol("z")
    assert Objective.from_sympy(z + y + x).variables == ("x", "y", "z")


def test_natural_key():
    assert sorted(["x10", "y", "x2", "x", "x1"], key=natural_key) == ["x", "x1", "x2", "x10", "y"]


def test_explicit_variables_set_the_order_and_may_add_directions():
    f = Objective.from_sympy(x**2 - y, variables=["y", "x", "z"])
    assert f.variables == ("y", "x", "z")
    # ∇f = [∂/∂y, ∂/∂x, ∂/∂z] = [−1, 2x, 0]; at (y, x, z) = (0, 3, 0): [−1, 6, 0].
    np.testing.assert_array_equal(f.gradient([0, 3, 0]), [-1.0, 6.0, 0.0])
    assert Objective.from_sympy(x**2 - y, variables=[y, x]).variables == ("y", "x")


def test_symbols_with_assumptions_are_matched_by_name():
    xr = sympy.Symbol("x", positive=True)
    f = Objective.from_sympy(xr**2, variables=["x"])
    np.testing.assert_array_equal(f.gradient(3), [6.0])


def test_missing_variable_is_an_error():
    with pytest.raises(ValueError, match=r"depends on y, which is not among the variables \(x\)"):
        Objective.from_sympy(x + y, variables=["x"])


def test_constant_needs_explicit_variables():
    with pytest.raises(ValueError, match="has no variables"):
        Objective.from_sympy(sympy.Integer(5))
    f = Objective.from_sympy(sympy.Integer(5), variables=["x"])
    assert f.value(1) == 5.0
    np.testing.assert_array_equal(f.gradient(1), [0.0])


def test_text_is_refused():
    with pytest.raises(TypeError, match="sympy expression"):
        Objective.from_sympy("x**2")


def test_wrong_point_shape_is_an_error():
    f = Objective.from_sympy(x**2 + y**2)
    with pytest.raises(ValueError, match=r"2 coordinate\(s\) \(x, y\), got shape \(3,\)"):
        f.value([1, 2, 3])
    with pytest.raises(ValueError, match="got shape"):
        f.gradient(1.0)


def test_overflow_gives_inf_not_an_exception():
    # With Python floats 1e200**2 raises OverflowError; the point is float64.
    f = Objective.from_sympy(x**2)
    with np.errstate(over="ignore"):
        assert f.value(1e200) == np.inf


def test_lambdify_runs_once_per_expression(monkeypatch):
    calls = []
    real_lambdify = sympy.lambdify

    def counting(*args, **kwargs):
        calls.append(kwargs.get("modules"))
        return real_lambdify(*args, **kwargs)

    monkeypatch.setattr(sympy, "lambdify", counting)
    expr = x**4 - 3 * x * y + y**6  # not used by any other test
    first = Objective.from_sympy(expr)
    assert calls == ["numpy"] * 3  # value, gradient, Hessian
    second = Objective.from_sympy(expr)
    assert len(calls) == 3
    Objective.from_sympy(expr, variables=["y", "x"])  # another order is another function
    assert len(calls) == 6
    assert first.value([1, 1]) == second.value([1, 1]) == -1.0


def test_direct_construction_from_callables():
    f = Objective(("a", "b"), lambda p: p[0] * p[1], lambda p: [p[1], p[0]])
    assert f.value([2, 3]) == 6.0
    np.testing.assert_array_equal(f.gradient([2, 3]), [3.0, 2.0])
    assert not f.has_hessian
    with pytest.raises(ValueError, match="no Hessian"):
        f.hessian([2, 3])


def test_duplicate_variable_names_are_an_error():
    with pytest.raises(ValueError, match="distinct"):
        Objective(("x", "x"), sum, lambda p: p)


def test_import_does_not_load_sympy_or_matplotlib():
    code = "import sys, grader.optim; print(','.join(m for m in ('sympy', 'matplotlib') if m in sys.modules))"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
