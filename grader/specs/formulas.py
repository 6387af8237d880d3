"""Formulas built from a spec's parameters, and formulas (or lists of them) as LaTeX for prompts.

:func:`substitute` is the spec function ``formula("log(1 + exp(k*x))", k=k)``:
the text is read by the whitelist parser (:func:`grader.expressions.parse`),
each letter given is replaced in the tree by its number (or by a formula),
and the tree is tidied as a person would write it (``1*x`` is ``x``,
``x + 0`` is ``x``, ``x**1`` is ``x``, ``2*3*x`` is ``6*x``), so that no string
is glued together and ``{{f|latex}}`` shows ``\\log\\left(1 + \\exp\\left(x\\right)\\right)``,
never ``log(1 + exp(1x))``.

:func:`latex` is the ``{{name|latex}}`` filter: a formula as LaTeX from its
checked tree (the same writer as the students' "read as" line,
:func:`grader.checking.read_as.formula`), a list of formulas (a gradient) as
a column vector, a list of rows (a Hessian) as a matrix, a number as the
prompt writes numbers.
"""

from __future__ import annotations

import ast
import copy
import math
import numbers
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from grader.expressions import CONSTANTS, FUNCTIONS, ExpressionError, Formula, normalise, parse


def letters(text: str) -> frozenset[str]:
    """The variable names of a formula as written (functions and constants such as ``pi`` are not letters)."""
    try:
        tree = ast.parse(normalise(text), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"could not read {text!r} as a formula") from exc
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return frozenset(
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in CONSTANTS
        and node.id not in FUNCTIONS
    )  # fmt: skip


def checked(text: str) -> Formula:
    """``text`` through the whitelist parser, any letter allowed as a variable; raises ExpressionError."""
    if not isinstance(text, str):
        raise ExpressionError(f"a formula is text in quotes, not {text!r}")
    return parse(text, letters(text))


def substitute(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with each letter of ``values`` replaced by its number or formula, tidied (see the module)."""
    try:
        formula = checked(text)
    except ExpressionError as exc:
        raise ValueError(f"formula: {exc}") from exc
    unused = sorted(set(values) - formula.names)
    if unused:
        said = ", ".join(unused)
        have = ", ".join(sorted(formula.names)) or "none"
        raise ValueError(f"formula: {said} {'is' if len(unused) == 1 else 'are'} not in {text!r} (its letters: {have})")
    replacements: dict[str, ast.expr] = {}
    for name, value in values.items():
        if isinstance(value, str):
            try:
                replacements[name] = checked(value).tree
            except ExpressionError as exc:
                raise ValueError(f"formula: {name}: {exc}") from exc
        elif _is_number(value):
            replacements[name] = _number(Fraction(value) if isinstance(value, int) else float(value))
        else:
            raise ValueError(f"formula: {name} must be a number or a formula in quotes, not {value!r}")

    class Put(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return copy.deepcopy(replacements[node.id]) if node.id in replacements else node

    tree = tidy(Put().visit(copy.deepcopy(formula.tree)))
    result = ast.unparse(ast.fix_missing_locations(tree))
    checked(result)  # what was put in keeps the formula within the parser's bounds
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))


# Tidying a tree ------------------------------------------------------------------------------------------


def _value(node: ast.AST) -> Fraction | None:
    """The exact value of a number node (``2``, ``0.5``, ``-3``), else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and math.isfinite(node.value):
        return Fraction(node.value) if isinstance(node.value, int) else Fraction(repr(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _value(node.operand)
        return None if inner is None else -inner
    return None


def _number(value: Fraction | float) -> ast.expr:
    """A number node: a whole number as an int, a decimal as written by repr, a negative one with a unary minus."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            literal: int | float = int(abs(value))
        else:
            literal = abs(float(value))
        negative = value < 0
    else:
        literal = int(abs(value)) if float(value).is_integer() and abs(value) < 1e15 else abs(value)
        negative = value < 0
    node: ast.expr = ast.Constant(literal)
    return ast.UnaryOp(ast.USub(), node) if negative else node


def _short(value: Fraction) -> bool:
    """Whether a folded number is as short to write as a person would (a whole number or a short decimal)."""
    if value.denominator == 1:
        return abs(value.numerator) < 10**12
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1 and len(repr(float(value))) <= 12 and Fraction(repr(float(value))) == value


def tidy(node: ast.AST) -> ast.expr:
    """The tree with the forms a substitution leaves behind written as a person would (bottom up)."""
    if isinstance(node, ast.BinOp):
        return _tidy_binary(ast.BinOp(tidy(node.left), node.op, tidy(node.right)))
    if isinstance(node, ast.UnaryOp):
        operand = tidy(node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(operand, ast.UnaryOp) and isinstance(operand.op, ast.USub):
            return operand.operand  # −(−x) = x
        value = _value(operand)
        if value is not None:
            return _number(-value)
        return ast.UnaryOp(node.op, operand)
    if isinstance(node, ast.Call):
        return ast.Call(node.func, [tidy(a) for a in node.args], [])
    return node  # type: ignore[return-value]


def _tidy_binary(node: ast.BinOp) -> ast.expr:
    left, right, op = node.left, node.right, node.op
    a, b = _value(left), _value(right)
    if a is not None and b is not None:
        folded = _fold(a, op, b)
        if folded is not None and _short(folded):
            return _number(folded)
    if isinstance(op, ast.Mult):
        if a == 1 or b == 1:
            return right if a == 1 else left
        if a == 0 or b == 0:
            return ast.Constant(0)
        if a == -1 or b == -1:
            return tidy(ast.UnaryOp(ast.USub(), right if a == -1 else left))
        if b is not None and a is None:  # x*2 → 2*x, as a person writes a coefficient
            return _tidy_binary(ast.BinOp(right, op, left))
        if a is not None and isinstance(right, ast.BinOp) and isinstance(right.op, ast.Mult):
            inner = _value(right.left)
            if inner is not None and _short(a * inner):  # 2*(3*x) → 6*x
                return _tidy_binary(ast.BinOp(_number(a * inner), ast.Mult(), right.right))
    if isinstance(op, ast.Add):
        if a == 0:
            return right
        if b == 0:
            return left
        if b is not None and b < 0:  # x + −2 → x − 2
            return ast.BinOp(left, ast.Sub(), _number(-b))
        if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub):
            return ast.BinOp(left, ast.Sub(), right.operand)
    if isinstance(op, ast.Sub):
        if b == 0:
            return left
        if a == 0:
            return tidy(ast.UnaryOp(ast.USub(), right))
        if b is not None and b < 0:  # x − −2 → x + 2
            return ast.BinOp(left, ast.Add(), _number(-b))
        if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub):
            return ast.BinOp(left, ast.Add(), right.operand)
    if isinstance(op, ast.Div) and b == 1:
        return left
    if isinstance(op, ast.Pow):
        if b == 1:
            return left
        if b == 0:
            return ast.Constant(1)
    return ast.BinOp(left, op, right)


def _fold(a: Fraction, op: ast.operator, b: Fraction) -> Fraction | None:
    if isinstance(op, ast.Add):
        return a + b
    if isinstance(op, ast.Sub):
        return a - b
    if isinstance(op, ast.Mult):
        return a * b
    if isinstance(op, ast.Div):
        return None if b == 0 else a / b
    if isinstance(op, ast.Pow) and b.denominator == 1 and abs(b) <= 64 and (a != 0 or b > 0):
        return a ** int(b)
    return None


# LaTeX for prompts -------------------------------------------------------------------------------------


def latex(value: Any, number: Callable[[Any], str] = str) -> str:
    """A formula, a list of formulas (a column vector) or of rows (a matrix), or a number, as LaTeX.

    ``number`` writes a number as the prompt does. Raises ExpressionError for text that is no formula.
    """
    if isinstance(value, list):
        if value and all(isinstance(row, list) for row in value):
            rows = [" & ".join(latex(item, number) for item in row) for row in value]
        else:
            rows = [latex(item, number) for item in value]
        return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"
    if isinstance(value, str):
        from grader.checking.read_as import formula as written

        tree = checked(value)
        return _tidy_latex(written(tree.tree, tree.source)[1])
    return number(value)


def _tidy_latex(text: str) -> str:
    """``{x}^{2}`` as ``x^{2}``: a single letter or digit needs no braces as a base."""
    return re.sub(r"\{([A-Za-z0-9])\}\^", r"\1^", text)
