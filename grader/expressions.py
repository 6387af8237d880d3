"""Safe parsing of formulas typed by people.

Everything that reads a formula written by a person (``--f`` on the command
line, a student's answer, a formula in a spec) goes through :func:`parse`.
The text is normalised (unicode minus, ``^`` for power, implicit
multiplication such as ``2x``), parsed with :mod:`ast` and checked against a
whitelist *before* anything else happens:

* numbers (int and float literals), names from an allowed set,
* ``+ - * / **`` and unary ``-``/``+``,
* calls of a few known functions with one positional argument.

Length, node count, nesting depth and constant exponents are bounded, so
``9**9**9`` or ten thousand nested parentheses are refused in microseconds.
Only a checked tree is turned into numbers (:meth:`Formula.evaluate`,
:meth:`Formula.compile`, exact :meth:`Formula.exact`) or into sympy
(:meth:`Formula.to_sympy`). Nothing here calls ``eval``, ``sympify`` or
``parse_expr``; sympy is imported only by :meth:`Formula.to_sympy`.
"""

from __future__ import annotations

import ast
import functools
import io
import math
import operator
import re
import tokenize
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

MAX_LENGTH = 1000
MAX_NODES = 400
MAX_DEPTH = 30
MAX_EXPONENT = 1000
MAX_EXACT_DIGITS = 400

FUNCTIONS: dict[str, tuple[Callable[[float], float], Callable[[Any], Any], str]] = {
    # name: (math function, numpy function, sympy function name)
    "sqrt": (math.sqrt, np.sqrt, "sqrt"),
    "exp": (math.exp, np.exp, "exp"),
    "log": (math.log, np.log, "log"),
    "ln": (math.log, np.log, "log"),
    "sin": (math.sin, np.sin, "sin"),
    "cos": (math.cos, np.cos, "cos"),
    "tan": (math.tan, np.tan, "tan"),
    "tanh": (math.tanh, np.tanh, "tanh"),
    "abs": (abs, np.abs, "Abs"),
    "Abs": (abs, np.abs, "Abs"),
    "sign": (lambda v: float(np.sign(v)), np.sign, "sign"),
}
CONSTANTS = {"pi": math.pi, "e": math.e, "E": math.e}
DEFAULT_VARIABLES = frozenset(
    {"x", "y", "z", "t", "w", "b", "eta", "beta", "alpha", "theta"}
    | {f"x{i}" for i in range(1, 10)}
    | {f"w{i}" for i in range(1, 10)}
)

_REPLACEMENTS = {
    "\u2212": "-",  # unicode minus
    "\u2013": "-",  # en dash, typed for minus
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u00f7": "/",
    "^": "**",
    "\u00b2": "**2",
    "\u00b3": "**3",
    "\u03c0": "pi",
    "\u03b7": "eta",
    "\u03b2": "beta",
    "\u03b1": "alpha",
    "\u03b8": "theta",
}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


class ExpressionError(ValueError):
    """A formula was refused; the message is one sentence naming what is wrong."""


def normalise(text: str) -> str:
    """Rewrite what people type into Python syntax: unicode operators, ``^``, ``2x``."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is too long ({len(text)} characters, at most {MAX_LENGTH})")
    if not text.isascii() or "^" in text:
        for old, new in _REPLACEMENTS.items():
            text = text.replace(old, new)
    text = text.strip()
    return _insert_implicit_products(text) if _MAY_IMPLY_PRODUCT.search(text) else text


# Where an implicit product could hide: an operand directly followed by a name or "(" (2x, 2(…), x y,
# sqrt(…) — told apart by the tokenizer), or ")" followed by an operand. Other text is left as it is.
_MAY_IMPLY_PRODUCT = re.compile(r"[\w.)]\s*[A-Za-z_(]|\)\s*[\w.(]")


def _insert_implicit_products(text: str) -> str:
    """``2x`` → ``2*x``, ``2(x+1)`` → ``2*(x+1)``, ``(x+1)(x-1)`` → ``(x+1)*(x-1)``, ``x y`` → ``x*y``."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise ExpressionError(f"could not read {text!r} as a formula") from exc
    out: list[str] = []
    previous: tokenize.TokenInfo | None = None
    for token in tokens:
        if token.type in (
            tokenize.NEWLINE,
            tokenize.NL,
            tokenize.ENDMARKER,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            continue
        if token.type == tokenize.ERRORTOKEN and not token.string.isspace():
            raise ExpressionError(f"unexpected character {token.string!r} in {text!r}")
        if previous is not None and _is_implicit_product(previous, token):
            out.append("*")
        out.append(token.string)
        previous = token
    return " ".join(out)


def _is_implicit_product(left: tokenize.TokenInfo, right: tokenize.TokenInfo) -> bool:
    left_ends_operand = left.type in (tokenize.NUMBER, tokenize.NAME) or left.string == ")"
    right_starts_operand = right.type in (tokenize.NUMBER, tokenize.NAME) or right.string == "("
    if not (left_ends_operand and right_starts_operand):
        return False
    if left.type == tokenize.NAME and left.string in FUNCTIONS and right.string == "(":
        return False  # a call: sqrt(2)
    return not (left.type == tokenize.NUMBER and right.type == tokenize.NUMBER)


@dataclass(frozen=True)
class Formula:
    """A checked formula: a whitelisted syntax tree and the names it uses."""

    text: str
    tree: ast.expr = field(repr=False, compare=False)
    names: frozenset[str] = frozenset()

    @property
    def is_constant(self) -> bool:
        return not self.names

    def exact(self) -> Fraction | None:
        """The exact rational value when the formula is rational arithmetic on literals, else None.

        ``10/3`` → Fraction(10, 3); ``1200/32`` → 75/2; ``2.5`` → 5/2; ``sqrt(2)`` → None.
        """
        try:
            return _exact(self.tree)
        except (_NotExact, ZeroDivisionError, OverflowError):
            return None

    def evaluate(self, values: dict[str, float] | None = None) -> float:
        """The float value, with ``values`` bound to the names; raises ExpressionError if not a real number."""
        env = dict(values or {})
        missing = self.names - env.keys()
        if missing:
            raise ExpressionError(f"the formula uses {', '.join(sorted(missing))}, which has no value here")
        try:
            result = _evaluate(self.tree, env)
        except ZeroDivisionError as exc:
            raise ExpressionError(f"{self.text} divides by zero") from exc
        except (OverflowError, ValueError, TypeError) as exc:
            raise ExpressionError(f"{self.text} is not a finite real number") from exc
        if isinstance(result, complex) or not math.isfinite(result):
            raise ExpressionError(f"{self.text} is not a finite real number")
        return float(result)

    def compile(self, variables: Sequence[str]) -> Callable[..., Any]:
        """A numpy function of ``variables`` (positional), vectorised, float64."""
        unknown = self.names - set(variables)
        if unknown:
            raise ExpressionError(f"the formula uses {', '.join(sorted(unknown))}, not one of {', '.join(variables)}")
        position = {name: i for i, name in enumerate(variables)}
        node_function = _compile(self.tree, position)

        def function(*args: Any) -> Any:
            with np.errstate(all="ignore"):
                return node_function([np.asarray(a, dtype=np.float64) for a in args])

        return function

    def to_sympy(self, symbols: dict[str, Any] | None = None) -> Any:
        """The sympy expression of this checked tree (decimals become exact rationals)."""
        import sympy

        table = dict(symbols or {})
        for name in self.names:
            table.setdefault(name, sympy.Symbol(name, real=True))
        return _to_sympy(self.tree, table, sympy)


def parse(text: str, variables: Collection[str] | None = None) -> Formula:
    """Check ``text`` against the whitelist and return a :class:`Formula`.

    ``variables`` is the set of names allowed (default: :data:`DEFAULT_VARIABLES`);
    pass an empty set for a plain number. Raises :class:`ExpressionError`.
    """
    return _formula(_parse_tree(text)[1], text.strip(), variables)


def parse_structure(text: str, variables: Collection[str] | None = None) -> Formula | list[Any]:
    """Like :func:`parse`, but a top-level list or tuple (``[3.5, 2]``, ``(3.5, 2)``, ``3.5, 2``,
    ``[[1, 0], [0, 1]]``) becomes a (nested) list of formulas.

    Each item keeps its text as typed (``2.50`` stays ``2.50``), so that its
    significant figures can still be counted.
    """
    source, tree = _parse_tree(text)
    return _structure(tree, text, source, variables, depth=0)


@functools.lru_cache(maxsize=4096)
def _parse_tree(text: str) -> tuple[str, ast.expr]:
    """The normalised source and its syntax tree (not yet checked).

    Cached: a class types the same answers again and again. Trees are never
    modified after parsing, so sharing them is safe.
    """
    source = normalise(text)
    if not source:
        raise ExpressionError("the answer is empty")
    try:
        return source, ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"could not read {text.strip()!r} as a formula") from exc


def _structure(
    node: ast.expr, text: str, source: str, variables: Collection[str] | None, depth: int
) -> Formula | list[Any]:
    if isinstance(node, ast.Tuple | ast.List):
        if depth >= 2:
            raise ExpressionError("lists nested more than two deep are not accepted")
        if len(node.elts) > 10_000:
            raise ExpressionError("the list is too long")
        return [_structure(item, text, source, variables, depth + 1) for item in node.elts]
    if depth == 0:
        return _formula(node, text.strip(), variables)
    typed = ast.get_source_segment(source, node) or ast.unparse(node)
    return _formula(node, "".join(typed.split()), variables)  # tokens were joined by spaces


def _formula(node: ast.expr, text: str, variables: Collection[str] | None) -> Formula:
    allowed = DEFAULT_VARIABLES if variables is None else frozenset(variables)
    names: set[str] = set()
    _check(node, allowed, names, depth=0, budget=[MAX_NODES])
    return Formula(text=text, tree=node, names=frozenset(names))


def _check(node: ast.AST, allowed: frozenset[str], names: set[str], depth: int, budget: list[int]) -> None:
    """Refuse anything outside the whitelist; collect the variable names used."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ExpressionError(f"the formula is too large (more than {MAX_NODES} parts)")
    if depth > MAX_DEPTH:
        raise ExpressionError(f"the formula is nested too deeply (more than {MAX_DEPTH} levels)")
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise ExpressionError(f"{node.value!r} is not a number")
        if isinstance(node.value, int) and node.value.bit_length() > 4 * MAX_EXACT_DIGITS:
            raise ExpressionError("a number in the formula is too large")
        return
    if isinstance(node, ast.Name):
        if "__" in node.id or (node.id not in allowed and node.id not in CONSTANTS):
            raise ExpressionError(_unknown_name_message(node.id, allowed))
        if node.id not in CONSTANTS:
            names.add(node.id)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(node.operand, allowed, names, depth + 1, budget)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, allowed, names, depth + 1, budget)
        _check(node.right, allowed, names, depth + 1, budget)
        if isinstance(node.op, ast.Pow):
            _check_exponent(node.right)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else "this"
            raise ExpressionError(
                f"calling {called!r} is not allowed; known functions: {', '.join(sorted(set(FUNCTIONS) - {'Abs'}))}"
            )
        if node.keywords or len(node.args) != 1:
            raise ExpressionError(f"{node.func.id}() takes exactly one argument")
        _check(node.args[0], allowed, names, depth + 1, budget)
        return
    raise ExpressionError(f"{_describe(node)} is not allowed in a formula")


def _check_exponent(node: ast.expr) -> None:
    """A constant exponent must stay within ±MAX_EXPONENT (so ``9**9**9`` is refused unevaluated)."""
    try:
        exponent = _evaluate(node, {})
    except KeyError:
        return  # depends on a variable: evaluated in floats only, where overflow gives inf
    except (OverflowError, ZeroDivisionError, ValueError, TypeError) as exc:
        raise ExpressionError("an exponent in the formula is too large") from exc
    if isinstance(exponent, complex) or not abs(exponent) <= MAX_EXPONENT:
        raise ExpressionError(f"an exponent in the formula is too large (at most {MAX_EXPONENT})")


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "indexing",
        ast.Lambda: "a lambda",
        ast.ListComp: "a comprehension",
        ast.GeneratorExp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.Compare: "a comparison",
        ast.BoolOp: "a logical operator",
        ast.Tuple: "a list of values",
        ast.List: "a list of values",
        ast.Dict: "a dictionary",
        ast.Set: "a set",
        ast.IfExp: "an if-expression",
        ast.NamedExpr: "an assignment",
        ast.Starred: "unpacking",
        ast.JoinedStr: "a string",
    }
    for kind, description in kinds.items():
        if isinstance(node, kind):
            return description
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    return type(node).__name__


def _unknown_name_message(name: str, allowed: frozenset[str]) -> str:
    if not allowed:
        return f"{name!r} is not a number"
    if len(allowed) > 6:
        return f"unknown name {name!r} in the formula"
    return f"unknown name {name!r}; use the variables {', '.join(sorted(allowed))}"


class _NotExact(Exception):
    pass


def _exact(node: ast.expr) -> Fraction:
    if isinstance(node, ast.Constant):
        return Fraction(repr(node.value)) if isinstance(node.value, float) else Fraction(node.value)
    if isinstance(node, ast.UnaryOp):
        value = _exact(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _exact(node.left), _exact(node.right)
        if isinstance(node.op, ast.Pow):
            if right.denominator != 1 or abs(right) > MAX_EXPONENT:
                raise _NotExact
            result = left ** int(right)
        else:
            result = _BINARY[type(node.op)](left, right)
        if max(abs(result.numerator), result.denominator).bit_length() > 4 * MAX_EXACT_DIGITS:
            raise _NotExact
        return result
    raise _NotExact


def _evaluate(node: ast.expr, env: dict[str, float]) -> Any:
    """Float evaluation of a checked tree (names missing from ``env`` raise KeyError)."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return CONSTANTS[node.id] if node.id in CONSTANTS else float(env[node.id])
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, env), _evaluate(node.right, env)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT and abs(left) > 1:
            raise OverflowError("exponent too large")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id][0](_evaluate(node.args[0], env))  # type: ignore[union-attr]
    raise ExpressionError(f"{_describe(node)} is not allowed in a formula")


def _compile(node: ast.expr, position: dict[str, int]) -> Callable[[list[Any]], Any]:
    """A closure tree evaluating a checked tree on numpy arrays (no eval, no code generation)."""
    if isinstance(node, ast.Constant):
        try:
            constant = np.float64(float(node.value))
        except OverflowError:  # an integer beyond float range: overflow gives inf, as in numpy
            constant = np.float64(np.inf)
        return lambda args: constant
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            value = np.float64(CONSTANTS[node.id])
            return lambda args: value
        index = position[node.id]
        return lambda args: args[index]
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, position)
        return (lambda args: -operand(args)) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _compile(node.left, position), _compile(node.right, position)
        combine = np.power if isinstance(node.op, ast.Pow) else _BINARY[type(node.op)]
        return lambda args: combine(left(args), right(args))
    if isinstance(node, ast.Call):
        function = FUNCTIONS[node.func.id][1]  # type: ignore[union-attr]
        argument = _compile(node.args[0], position)
        return lambda args: function(argument(args))
    raise ExpressionError(f"{_describe(node)} is not allowed in a formula")


def _to_sympy(node: ast.expr, symbols: dict[str, Any], sympy: Any) -> Any:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, float):
            return sympy.Rational(repr(node.value)) if "e" not in repr(node.value) else sympy.Float(node.value)
        return sympy.Integer(node.value)
    if isinstance(node, ast.Name):
        if node.id == "pi":
            return sympy.pi
        if node.id in ("e", "E"):
            return sympy.E
        return symbols[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _to_sympy(node.operand, symbols, sympy)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _to_sympy(node.left, symbols, sympy)
        right = _to_sympy(node.right, symbols, sympy)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        function = getattr(sympy, FUNCTIONS[node.func.id][2])  # type: ignore[union-attr]
        return function(_to_sympy(node.args[0], symbols, sympy))
    raise ExpressionError(f"{_describe(node)} is not allowed in a formula")


_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def significant_figures(text: str) -> int | None:
    """Significant figures of a plain decimal as typed (``2.02`` → 3, ``0.0500`` → 3, ``38`` → None: exact)."""
    literal = text.strip().replace("\u2212", "-").replace("\u2013", "-").replace(" ", "")
    if not _DECIMAL.match(literal) or ("." not in literal and "e" not in literal.lower()):
        return None
    mantissa = re.split(r"[eE]", literal.lstrip("+-"))[0]
    digits = mantissa.replace(".", "").lstrip("0")
    if "." not in mantissa:
        digits = digits.rstrip("0") or "0"  # 1200e0: trailing zeros of an integer are ambiguous
    return max(len(digits), 1)
