"""Values as they were read, written back for a person: plain text, LaTeX and a size.

The answer types show what they read with these before grading
(:func:`grader.answers.parts.read_answer`, STACK's validation step):
``4, 2, 1, ½, ¼, ⅛`` with its size ``6 numbers``.

Formulas are written out from the checked syntax tree (never ``eval``, never
sympy), numbers as the student gave them: an exact fraction as a fraction
(``1/8`` is ⅛), a decimal at the precision typed.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from typing import Any

from grader.checking.reading import Interval, Number
from grader.expressions import Formula

VULGAR = {
    Fraction(1, 2): "½",
    Fraction(1, 3): "⅓",
    Fraction(2, 3): "⅔",
    Fraction(1, 4): "¼",
    Fraction(3, 4): "¾",
    Fraction(1, 5): "⅕",
    Fraction(2, 5): "⅖",
    Fraction(3, 5): "⅗",
    Fraction(4, 5): "⅘",
    Fraction(1, 6): "⅙",
    Fraction(5, 6): "⅚",
    Fraction(1, 7): "⅐",
    Fraction(1, 8): "⅛",
    Fraction(3, 8): "⅜",
    Fraction(5, 8): "⅝",
    Fraction(7, 8): "⅞",
    Fraction(1, 9): "⅑",
    Fraction(1, 10): "⅒",
}
GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "eta": "η",
    "theta": "θ",
    "lambda": "λ",
    "lam": "λ",
    "mu": "μ",
    "sigma": "σ",
    "pi": "π",
}
LATEX_FUNCTIONS = {
    "sin",
    "cos",
    "tan",
    "sec",
    "csc",
    "cot",
    "sinh",
    "cosh",
    "tanh",
    "coth",
    "log",
    "ln",
    "exp",
}
MINUS = "\u2212"
SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


# Values -------------------------------------------------------------------------------------------


def shown(value: Any) -> tuple[str, str | None, str | None]:
    """``(text, latex, size)`` of a value read by :mod:`grader.checking.reading`: a number, a formula, an
    interval, a label, or a list of numbers, labels or points (a type shows its own values otherwise)."""
    if isinstance(value, Number):
        text, latex = number(value)
        return text, latex, None
    if isinstance(value, Formula):
        text, latex, _ = formula(value.tree, value.source)
        return text, latex, None
    if isinstance(value, Interval):
        return interval(value)
    if isinstance(value, str):
        return value, r"\text{" + latex_text(value) + "}", None
    if isinstance(value, list):
        return _listed(value)
    return str(value), None, None


def _listed(items: list[Any]) -> tuple[str, str | None, str | None]:
    if all(isinstance(item, str) for item in items):
        text = ", ".join(items)
        latex = r",\ ".join(r"\text{" + latex_text(item) + "}" for item in items)
        return text, latex, _count(len(items), "label")
    if items and all(isinstance(item, list) for item in items):
        rows = [[number(n) for n in row] for row in items]
        text = ", ".join("(" + ", ".join(t for t, _ in row) + ")" for row in rows)
        latex = r",\ ".join(r"\left(" + ",\\ ".join(x for _, x in row) + r"\right)" for row in rows)
        return text, latex, _count(len(items), "point")
    numbers = [number(n) for n in items]
    return ", ".join(t for t, _ in numbers), r",\ ".join(x for _, x in numbers), _count(len(items), "number")


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def number(value: Any) -> tuple[str, str]:
    """A number as read: ``(text, latex)``; an exact fraction as a fraction, a decimal as typed."""
    if not isinstance(value, Number):
        return _float(float(value))
    exact = value.exact
    if exact is not None:
        return fraction(exact)
    if not value.typed:
        return _float(value.value)
    return _decimal(value.text)


def fraction(exact: Fraction) -> tuple[str, str]:
    """``1/8`` → ``⅛`` and ``\\frac{1}{8}``; ``75/2`` → ``37.5``; ``10/3`` → ``10/3``; whole numbers as they are."""
    negative, size = exact < 0, abs(exact)
    sign, latex_sign = (MINUS, "-") if negative else ("", "")
    if size.denominator == 1:
        return f"{sign}{size.numerator}", f"{latex_sign}{size.numerator}"
    latex = rf"{latex_sign}\frac{{{size.numerator}}}{{{size.denominator}}}"
    if size in VULGAR:
        return sign + VULGAR[size], latex
    decimal = _terminating(size)
    if decimal is not None:
        return sign + decimal, latex_sign + decimal
    return f"{sign}{size.numerator}/{size.denominator}", latex


def _terminating(value: Fraction, places: int = 6) -> str | None:
    """A fraction whose decimal expansion ends within ``places`` digits, written out (``75/2`` → ``37.5``)."""
    scaled = value * 10**places
    if scaled.denominator != 1:
        return None
    whole, rest = divmod(scaled.numerator, 10**places)
    return f"{whole}.{str(rest).rjust(places, '0').rstrip('0')}"


_EXPONENT = re.compile(r"^([^eE]+)[eE]([+-]?)0*(\d+)$")


def _decimal(text: str) -> tuple[str, str]:
    """A typed decimal at the precision typed: ``2.020`` stays ``2.020``, ``10.`` is ``10``, ``1e-3`` is 1 × 10⁻³."""
    cleaned = text.strip().replace(MINUS, "-").replace(" ", "")
    cleaned = cleaned[:-1] if cleaned.endswith(".") else cleaned
    found = _EXPONENT.match(cleaned)
    if found:
        mantissa, sign, power = found.groups()
        exponent = ("-" if sign == "-" else "") + power
        return (
            f"{mantissa.replace('-', MINUS)} × 10{exponent.translate(SUPERSCRIPTS)}",
            rf"{mantissa} \times 10^{{{exponent}}}",
        )
    return cleaned.replace("-", MINUS), cleaned


def _float(value: float) -> tuple[str, str]:
    if value != value:
        return "NaN", r"\text{NaN}"
    if value in (float("inf"), float("-inf")):
        return ("" if value > 0 else MINUS) + "∞", ("" if value > 0 else "-") + r"\infty"
    text = repr(float(value))
    text = text[:-2] if text.endswith(".0") else text
    return _decimal(text)


def interval(value: Interval) -> tuple[str, str, str | None]:
    low = ("-∞", r"-\infty") if value.low is None else _float(value.low)
    high = ("∞", r"\infty") if value.high is None else _float(value.high)
    opening, closing = "[" if value.low_closed else "(", "]" if value.high_closed else ")"
    text = f"{opening}{low[0].replace('-', MINUS)}, {high[0]}{closing}"
    latex = rf"\left{opening}{low[1]},\ {high[1]}\right{closing}"
    return text, latex, "an interval"


def latex_text(text: str) -> str:
    """Text safe inside ``\\text{…}``: LaTeX's special characters escaped, at most 200 characters."""
    escaped = re.sub(
        r"([\\{}$&#^_%~])", lambda m: r"\textbackslash{}" if m.group(1) == "\\" else "\\" + m.group(1), text
    )
    return escaped[:200]


# Formulas ----------------------------------------------------------------------------------------

_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = 1, 2, 3, 4, 5


def formula(node: ast.AST, source: str = "") -> tuple[str, str, int]:
    """``(text, latex, precedence)`` of a checked formula tree (:func:`grader.expressions.parse`)."""
    if isinstance(node, ast.Constant):
        typed = ast.get_source_segment(source, node) if source else None
        if isinstance(node.value, float):
            text, latex = _decimal(typed if typed and re.match(r"^[\d.eE+-]+$", typed) else repr(node.value))
        else:
            text = latex = str(node.value)
        return text, latex, _ATOM
    if isinstance(node, ast.Name):
        name = node.id
        if name in ("e", "E"):
            return "e", "e", _ATOM
        if name in GREEK:
            return GREEK[name], "\\" + ("lambda" if name == "lam" else name), _ATOM
        if len(name) == 1:
            return name, name, _ATOM
        subscripted = re.match(r"^([A-Za-z])_?(\d+)$", name)
        if subscripted:
            return name, f"{subscripted.group(1)}_{{{subscripted.group(2)}}}", _ATOM
        return name, r"\mathrm{" + latex_text(name) + "}", _ATOM
    if isinstance(node, ast.UnaryOp):
        text, latex, precedence = formula(node.operand, source)
        if isinstance(node.op, ast.UAdd):
            return text, latex, precedence
        if precedence <= _UNARY:
            text, latex = f"({text})", rf"\left({latex}\right)"
        return MINUS + text, "-" + latex, _UNARY
    if isinstance(node, ast.BinOp):
        return _binary(node, source)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _call(node.func.id, [formula(a, source) for a in node.args])
    return "?", "?", _ATOM  # a checked tree holds nothing else


def _binary(node: ast.BinOp, source: str) -> tuple[str, str, int]:
    left, right = formula(node.left, source), formula(node.right, source)
    op = node.op
    if isinstance(op, ast.Add | ast.Sub):
        right_text, right_latex = _wrapped(right, _SUM + (1 if isinstance(op, ast.Sub) else 0))
        symbol = "+" if isinstance(op, ast.Add) else MINUS
        latex_symbol = "+" if isinstance(op, ast.Add) else "-"
        return f"{left[0]} {symbol} {right_text}", f"{left[1]} {latex_symbol} {right_latex}", _SUM
    if isinstance(op, ast.Mult):
        left_text, left_latex = _wrapped(left, _PRODUCT)
        right_text, right_latex = _wrapped(right, _PRODUCT + 1)
        implicit = isinstance(node.left, ast.Constant) and not isinstance(node.right, ast.Constant)
        implicit = implicit and right[2] >= _POWER and right_text[:1].isalpha()
        if implicit:
            return f"{left_text}{right_text}", f"{left_latex} {right_latex}", _PRODUCT
        return f"{left_text}·{right_text}", rf"{left_latex} \cdot {right_latex}", _PRODUCT
    if isinstance(op, ast.Div):
        left_text, _ = _wrapped(left, _PRODUCT)
        right_text, _ = _wrapped(right, _PRODUCT + 1)
        return f"{left_text}/{right_text}", rf"\frac{{{left[1]}}}{{{right[1]}}}", _PRODUCT
    if isinstance(op, ast.Pow):
        base_text, base_latex = _wrapped(left, _POWER + 1)
        exponent_text = right[0] if right[2] == _ATOM else f"({right[0]})"
        return f"{base_text}^{exponent_text}", f"{{{base_latex}}}^{{{right[1]}}}", _POWER
    return "?", "?", _ATOM


def _wrapped(part: tuple[str, str, int], at_least: int) -> tuple[str, str]:
    """A sub-formula in parentheses when it binds less tightly than ``at_least``."""
    text, latex, precedence = part
    if precedence < at_least:
        return f"({text})", rf"\left({latex}\right)"
    return text, latex


def _call(name: str, arguments: list[tuple[str, str, int]]) -> tuple[str, str, int]:
    texts = ", ".join(a[0] for a in arguments)
    latexes = [a[1] for a in arguments]
    if name == "sqrt":
        return f"√({texts})", rf"\sqrt{{{latexes[0]}}}", _ATOM
    if name in ("abs", "Abs"):
        return f"|{texts}|", rf"\left|{latexes[0]}\right|", _ATOM
    if name == "factorial":
        inner_text, inner_latex = _wrapped(arguments[0], _ATOM)
        return f"{inner_text}!", f"{inner_latex}!", _ATOM
    if name == "binomial" and len(latexes) == 2:
        return f"binomial({texts})", rf"\binom{{{latexes[0]}}}{{{latexes[1]}}}", _ATOM
    if name == "sigmoid":
        return f"σ({texts})", rf"\sigma\left({latexes[0]}\right)", _ATOM
    operator = "\\" + name if name in LATEX_FUNCTIONS else r"\operatorname{" + latex_text(name) + "}"
    return f"{name}({texts})", operator + r"\left(" + r",\ ".join(latexes) + r"\right)", _ATOM
