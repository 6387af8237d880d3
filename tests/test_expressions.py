"""The safe formula parser: what people type is accepted, anything else is refused quickly and harmlessly."""

from __future__ import annotations

import cmath
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.expressions import ExpressionError, parse, significant_figures

# Accepted ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.5", 3.5),
        ("-2", -2.0),
        ("\u22122", -2.0),  # unicode minus
        ("1e-3", 0.001),
        ("10/3", 10 / 3),
        ("1200/32", 37.5),
        ("sqrt(2)", math.sqrt(2)),
        ("2^10", 1024.0),
        ("3 × 4", 12.0),
    ],
)
def test_numbers_as_typed_are_read(text, expected):
    formula = parse(text, variables=())
    assert formula.is_constant
    assert formula.evaluate() == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "at_3"),
    [
        ("2*x", 6.0),
        ("2x", 6.0),
        ("x**2 + 2", 11.0),
        ("x^2+2", 11.0),
        ("(x+1)(x-1)", 8.0),
        ("2(x+1)", 8.0),
        ("x²", 9.0),
        ("−x", -3.0),
    ],
)
def test_formulas_in_x_are_read(text, at_3):
    formula = parse(text)
    assert formula.names == {"x"}
    assert formula.evaluate({"x": 3.0}) == pytest.approx(at_3)


def test_greek_letters_become_their_names():
    assert parse("η·x").names == {"eta", "x"}


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("10/3", Fraction(10, 3)),
        ("1200/32", Fraction(75, 2)),
        ("2.5", Fraction(5, 2)),
        ("1e-3", Fraction(1, 1000)),
        ("0.1 + 0.2", Fraction(3, 10)),
        ("−2", Fraction(-2)),
        ("2^-2", Fraction(1, 4)),
    ],
)
def test_rational_arithmetic_is_exact(text, exact):
    assert parse(text, variables=()).exact() == exact


@pytest.mark.parametrize("text", ["sqrt(2)", "pi", "2*x", "1/0"])
def test_irrational_symbolic_or_undefined_values_have_no_exact_value(text):
    assert parse(text).exact() is None


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("2.02", 3),
        ("0.0500", 3),
        ("3.3", 2),
        ("−2.50", 3),
        ("1.0e3", 2),
        ("-0.05", 1),
        ("38", None),  # an integer is exact
        ("10/3", None),  # a fraction is exact
        ("sqrt(2)", None),
    ],
)
def test_significant_figures_of_a_typed_decimal(text, figures):
    assert significant_figures(text) == figures


# Refused -------------------------------------------------------------------------------

HOSTILE = {
    "attribute access": "().__class__",
    "attribute of a variable": "x.real",
    "subscript": "x[0]",
    "lambda": "lambda: 1",
    "comprehension": "[i for i in (1, 2)]",
    "generator": "sum(i for i in (1, 2))",
    "dunder name": "__builtins__",
    "huge power tower": "9**9**9",
    "tiny power": "2**-9999",
    "big float power": "2.0**1000.5",
    "power of a variable": "x**(10**5)",
    "10,000 nested parentheses": "(" * 10_000 + "1" + ")" * 10_000,
    "400 nested parentheses": "(" * 400 + "1" + ")" * 400,
    "900 unary minus": "-" * 900 + "1",
    "deep power chain": "x" + "**x" * 300,
    "a 1 MB string": "1" * 1_000_000,
    "a string": "'text'",
    "bytes": "b'1'",
    "a bool": "True",
    "None": "None",
    "keyword argument": "sqrt(x=2)",
    "two arguments": "sqrt(2, 3)",
    "unknown function": "open(1)",
    "unknown name": "foo",  # (xyz is x·y·z)
    "walrus": "(x := 2)",
    "f-string": "f'{x}'",
    "comparison": "x < 1",
    "boolean operator": "x and 1",
    "conditional": "x if x else 1",
    "set": "{1}",
    "dictionary": "{1: 2}",
    "starred": "*x",
    "floor division": "x // 2",
    "modulo": "x % 2",
    "bit operation": "~x",
    "two statements": "x; 1",
    "empty": "   ",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_or_unsupported_input_is_refused_quickly(text):
    with pytest.raises(ExpressionError):
        parse(text)


def test_import_and_system_call_is_refused_without_running(tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(ExpressionError):
        parse(f"__import__('os').system('touch {target}')")
    assert not target.exists()


def test_dunder_names_written_in_fullwidth_letters_are_refused():
    """Python folds ``＿＿import＿＿`` to ``__import__``; the whitelist sees the folded name."""
    with pytest.raises(ExpressionError):
        parse("\uff3f\uff3fimport\uff3f\uff3f('os')")


def test_refusals_say_what_is_wrong():
    with pytest.raises(ExpressionError, match="attribute access"):
        parse("x.real")
    with pytest.raises(ExpressionError, match="exponent"):
        parse("9**9**9")
    with pytest.raises(ExpressionError, match="too long"):
        parse("1" * 1_000_000)


def test_variables_outside_the_allowed_set_are_refused():
    with pytest.raises(ExpressionError, match="'y'"):
        parse("x + y", variables={"x"})
    with pytest.raises(ExpressionError):
        parse("x", variables=())


@pytest.mark.parametrize("text", ["1/0", "sqrt(-1)", "log(0)", "1e400", "10**(10**3)", "exp(1000)"])
def test_values_that_are_not_finite_real_numbers_are_refused_on_evaluation(text):
    with pytest.raises(ExpressionError):
        parse(text).evaluate()


def test_integers_beyond_float_range_compile_to_infinity():
    """A 400-digit constant is allowed for exact arithmetic; in floats it overflows to inf, no crash."""
    formula = parse("1" * 400 + "*x")
    assert np.isinf(formula.compile(("x",))(np.array([1.0, 2.0]))).all()


@settings(max_examples=400, deadline=2000)
@given(st.text(max_size=200))
def test_parse_of_any_text_raises_only_expression_error(text):
    try:
        parse(text)
    except ExpressionError:
        pass


@settings(max_examples=400, deadline=2000)
@given(st.text(alphabet="0123456789.eE+-−*/^²()[], xyηπ_sqrtexpabs", max_size=80))
def test_formula_like_text_raises_only_expression_error(text):
    try:
        formula = parse(text)
    except ExpressionError:
        return
    if formula.names <= {"x", "y", "eta"}:
        try:
            formula.evaluate({"x": 0.5, "y": -1.5, "eta": 0.25})
        except ExpressionError:
            pass
        formula.exact()


# The three readings of a checked tree agree -------------------------------------------

LEAVES = st.one_of(
    st.sampled_from(["x", "y", "pi", "0.5", "2.25", "1e-3"]),
    st.integers(0, 9).map(str),
)


def _grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(children, st.sampled_from(["**2", "**3", "^2", "**-1"])).map(lambda t: f"({t[0]}){t[1]}"),
        st.tuples(st.sampled_from(["sqrt", "exp", "log", "sin", "cos", "tanh", "abs"]), children).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
        st.tuples(st.integers(2, 9), children).map(lambda t: f"{t[0]}({t[1]})"),  # 2(x+1)
        children.map(lambda c: f"-{c}"),
    )


FORMULAS = st.recursive(LEAVES, _grow, max_leaves=10)
POINTS = st.floats(-3, 3, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(FORMULAS, POINTS, POINTS)
def test_to_sympy_and_compile_agree_with_evaluate(text, x, y):
    formula = parse(text)
    try:
        value = formula.evaluate({"x": x, "y": y})
    except ExpressionError:
        return  # undefined here (log of a negative, division by zero): nothing to compare
    compiled = formula.compile(("x", "y"))(np.float64(x), np.float64(y))
    assert float(compiled) == pytest.approx(value, rel=1e-9, abs=1e-12)

    symbols = {"x": sympy.Symbol("x", real=True), "y": sympy.Symbol("y", real=True)}
    expression = formula.to_sympy(symbols)
    exact = (
        complex(expression.evalf(30, subs={symbols["x"]: sympy.Float(x, 30), symbols["y"]: sympy.Float(y, 30)}))
        if expression.free_symbols
        else complex(expression.evalf(30))
    )
    if not cmath.isfinite(exact):
        return  # exact arithmetic hit a pole that rounding stepped around
    assert exact.real == pytest.approx(value, rel=1e-6, abs=1e-6)
    assert abs(exact.imag) <= 1e-6


def test_compile_is_vectorised():
    points = np.linspace(-2, 2, 9)
    compiled = parse("x^2 + 2").compile(("x",))
    assert compiled(points) == pytest.approx(points**2 + 2)


@pytest.mark.parametrize("text", ["9e999", "9e999*x", "1e400/3", "-9e999"])
def test_a_literal_beyond_floating_point_has_no_exact_value(text):
    assert parse(text).exact() is None
