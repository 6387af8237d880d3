"""The small expression language of exercise specs.

A spec's answers are written as expressions over the optimizer core, e.g.
``iterates(gd(eta), f, x0, steps)`` or ``batch_gradient(grads, [2, 4, 5], reduction="sum")``.
They are parsed with :mod:`ast` and evaluated by walking a whitelisted tree:
calls of the functions in :mod:`grader.specs.functions` (positional and
keyword arguments), names bound to the variant's parameters, numbers,
strings, lists, ``+ - * / **``, unary minus and indexing or slicing with
constants (``xs[1:]``). Nothing else is accepted, and nothing is handed to
``eval``: specs are data, not Python.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

MAX_LENGTH = 10_000  # characters of one spec expression
MAX_POWER_BITS = 100_000  # an exact integer power may have about 30 000 digits, not more


class SpecExpressionError(ValueError):
    """A spec expression is malformed or failed; the message names the expression."""


def _power(base: Any, exponent: Any) -> Any:
    """``**``, refusing exact integer powers too large to compute (``9**9**9``)."""
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1:
        if abs(exponent) * base.bit_length() > MAX_POWER_BITS:
            raise SpecExpressionError(f"{base}**{exponent} is too large")
    return operator.pow(base, exponent)


def _times(left: Any, right: Any) -> Any:
    """``*`` on numbers and vectors; repeating text (``'a' * 10**12``) is not arithmetic."""
    if isinstance(left, str | bytes) or isinstance(right, str | bytes):
        raise SpecExpressionError("text cannot be multiplied")
    return operator.mul(left, right)


_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _times,
    ast.Div: operator.truediv,
    ast.Pow: _power,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> ast.expr:
    """Parse and check a spec expression once; raises SpecExpressionError."""
    if len(text) > MAX_LENGTH:
        raise SpecExpressionError(f"the expression is too long ({len(text)} characters, at most {MAX_LENGTH})")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise SpecExpressionError(f"could not parse {text!r}: {exc.msg}") from exc
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, nesting too deep for the parser
        raise SpecExpressionError(f"could not parse {text[:80]!r}: {type(exc).__name__}") from exc
    _check(tree, text)
    return tree


def _check(node: ast.AST, text: str) -> None:
    allowed = (
        ast.Call,
        ast.Name,
        ast.Constant,
        ast.List,
        ast.Tuple,
        ast.BinOp,
        ast.UnaryOp,
        ast.Subscript,
        ast.Slice,
        ast.keyword,
        ast.Load,
        ast.USub,
        ast.UAdd,
        *_OPERATORS,
    )
    for child in ast.walk(node):
        if not isinstance(child, allowed):
            raise SpecExpressionError(f"{type(child).__name__} is not allowed in spec expression {text!r}")
        if isinstance(child, ast.Call) and not isinstance(child.func, ast.Name):
            raise SpecExpressionError(f"only named functions can be called in {text!r}")
        if isinstance(child, ast.Name) and child.id.startswith("_"):
            raise SpecExpressionError(f"name {child.id!r} is not allowed in {text!r}")


def evaluate(text: str, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    """Evaluate a spec expression with ``names`` (parameters) and ``functions`` (the core's registry)."""
    tree = compile_expression(text)
    try:
        return _evaluate(tree, names, functions)
    except SpecExpressionError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError, IndexError, RecursionError, MemoryError) as exc:
        raise SpecExpressionError(f"{text!r} failed: {exc or type(exc).__name__}") from exc


def _evaluate(node: ast.AST, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        if node.id in functions:
            return functions[node.id]
        raise SpecExpressionError(f"unknown name {node.id!r}")
    if isinstance(node, ast.List | ast.Tuple):
        return [_evaluate(item, names, functions) for item in node.elts]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, names, functions)
        return -_array(value) if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left = _array(_evaluate(node.left, names, functions))
        right = _array(_evaluate(node.right, names, functions))
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.Subscript):
        return _evaluate(node.value, names, functions)[_index(node.slice, names, functions)]
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]
        function = names[name] if callable(names.get(name)) else functions.get(name)
        if function is None:
            raise SpecExpressionError(f"unknown function {name!r}")
        args = [_evaluate(arg, names, functions) for arg in node.args]
        kwargs = {kw.arg: _evaluate(kw.value, names, functions) for kw in node.keywords if kw.arg}
        return function(*args, **kwargs)
    raise SpecExpressionError(f"{type(node).__name__} is not allowed")


def _index(node: ast.AST, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    if isinstance(node, ast.Slice):
        parts = [
            None if p is None else int(_evaluate(p, names, functions)) for p in (node.lower, node.upper, node.step)
        ]
        return slice(*parts)
    return int(_evaluate(node, names, functions))


def _array(value: Any) -> Any:
    """Lists take part in arithmetic as float64 vectors (``x0 - eta * grad``)."""
    return np.asarray(value, dtype=np.float64) if isinstance(value, list) else value
