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
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from grader import budget

MAX_LENGTH = 1000
MAX_NODES = 400
MAX_DEPTH = 30
MAX_EXPONENT = 1000
MAX_EXACT_DIGITS = 400
MAX_EXACT_BITS = 4 * MAX_EXACT_DIGITS  # numerator or denominator of any exact value a formula computes


@dataclass(frozen=True)
class Function:
    """A function a formula may call: its arity, and how to compute it on floats, on numpy arrays
    (float64 or complex128, principal branches) and in sympy (``symbolic(sympy, *arguments)``)."""

    arity: int
    real: Callable[..., float]
    array: Callable[..., Any]
    symbolic: Callable[..., Any]


def _sympy(name: str) -> Callable[..., Any]:
    return lambda sympy, *args: getattr(sympy, name)(*args)


def _sigmoid(v: float) -> float:
    """σ(v) = 1 / (1 + e^(−v)), computed without overflow on either side."""
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    return math.exp(v) / (1.0 + math.exp(v))


def _binomial(n: float, k: float) -> float:
    """C(n, k) = Γ(n+1) / (Γ(k+1) Γ(n−k+1)); exact for whole numbers that fit."""
    if float(n).is_integer() and float(k).is_integer() and 0 <= k <= n <= 1000:
        return float(math.comb(int(n), int(k)))
    return math.gamma(n + 1) / (math.gamma(k + 1) * math.gamma(n - k + 1))


def _real_only(function: Callable[..., float]) -> Callable[..., Any]:
    """A math function applied to arrays element by element; nan where an argument is not real
    or the function is undefined (the gamma function has no complex version in numpy)."""

    def element(*values: Any) -> float:
        if any(complex(v).imag != 0 for v in values):
            return math.nan
        try:
            return function(*(complex(v).real for v in values))
        except (ValueError, OverflowError, ZeroDivisionError):
            return math.nan

    vectorised = np.vectorize(element, otypes=[np.float64])
    return lambda *args: vectorised(*args)


def _reciprocal(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: 1 / function(v)


FUNCTIONS: dict[str, Function] = {
    "sqrt": Function(1, math.sqrt, np.sqrt, _sympy("sqrt")),
    "exp": Function(1, math.exp, np.exp, _sympy("exp")),
    "log": Function(1, math.log, np.log, _sympy("log")),
    "ln": Function(1, math.log, np.log, _sympy("log")),
    "sin": Function(1, math.sin, np.sin, _sympy("sin")),
    "cos": Function(1, math.cos, np.cos, _sympy("cos")),
    "tan": Function(1, math.tan, np.tan, _sympy("tan")),
    "sec": Function(1, _reciprocal(math.cos), _reciprocal(np.cos), _sympy("sec")),
    "csc": Function(1, _reciprocal(math.sin), _reciprocal(np.sin), _sympy("csc")),
    "cot": Function(1, _reciprocal(math.tan), _reciprocal(np.tan), _sympy("cot")),
    "asin": Function(1, math.asin, np.arcsin, _sympy("asin")),
    "acos": Function(1, math.acos, np.arccos, _sympy("acos")),
    "atan": Function(1, math.atan, np.arctan, _sympy("atan")),
    "sinh": Function(1, math.sinh, np.sinh, _sympy("sinh")),
    "cosh": Function(1, math.cosh, np.cosh, _sympy("cosh")),
    "tanh": Function(1, math.tanh, np.tanh, _sympy("tanh")),
    "sech": Function(1, _reciprocal(math.cosh), _reciprocal(np.cosh), _sympy("sech")),
    "csch": Function(1, _reciprocal(math.sinh), _reciprocal(np.sinh), _sympy("csch")),
    "coth": Function(1, _reciprocal(math.tanh), _reciprocal(np.tanh), _sympy("coth")),
    "abs": Function(1, abs, np.abs, _sympy("Abs")),
    "Abs": Function(1, abs, np.abs, _sympy("Abs")),
    "sign": Function(1, lambda v: float(np.sign(v)), np.sign, _sympy("sign")),
    "sigmoid": Function(1, _sigmoid, lambda v: 1 / (1 + np.exp(-v)), lambda sympy, v: 1 / (1 + sympy.exp(-v))),
    "factorial": Function(1, lambda v: math.gamma(v + 1), _real_only(lambda v: math.gamma(v + 1)), _sympy("factorial")),
    "binomial": Function(2, _binomial, _real_only(_binomial), _sympy("binomial")),
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
    "\u03c3": "sigmoid",  # σ(z): the logistic function of the course
    "\u2223": "|",  # divides sign, pasted for absolute-value bars
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


def normalise(text: str, variables: Collection[str] = ()) -> str:
    """Rewrite what people type into Python syntax: unicode operators, ``^``, ``2x``, ``|x|``, ``n!``;
    a name that is not one of ``variables`` but spells several of them is their product (``xy``)."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is too long ({len(text)} characters, at most {MAX_LENGTH})")
    if not text.isascii() or "^" in text:
        for old, new in _REPLACEMENTS.items():
            text = text.replace(old, new)
    text = text.strip()
    return _rewrite_tokens(text, variables) if _MAY_NEED_REWRITING.search(text) else text


# Where an implicit product could hide: an operand directly followed by a name or "(" (2x, 2(…), x y,
# sqrt(…) — told apart by the tokenizer), or ")" followed by an operand; and the notations |x| and n!.
# Other text is left as it is.
_MAY_NEED_REWRITING = re.compile(r"[\w.)]\s*[A-Za-z_(]|\)\s*[\w.(]|[|!]|[A-Za-z]{2}")


def _rewrite_tokens(text: str, variables: Collection[str]) -> str:
    """``2x`` → ``2*x``, ``2(x+1)`` → ``2*(x+1)``, ``(x+1)(x-1)`` → ``(x+1)*(x-1)``, ``x y`` → ``x*y``;
    ``|x - 1|`` → ``abs(x - 1)``; ``n!`` → ``factorial(n)``, ``(n+1)!`` → ``factorial((n+1))``.

    Linear in the text: each ``!`` finds its operand through the brackets already matched, and the
    running CPU budget is checked as the tokens are written (a chain of factorials, ``x!!!…``, once
    cost time quadratic in its length before any budget was checked)."""
    try:
        tokens = _split_products(tokenize.generate_tokens(io.StringIO(text).readline), variables)
    except (tokenize.TokenError, SyntaxError, IndentationError) as exc:
        raise ExpressionError(f"could not read {text!r} as a formula") from exc
    out = _Written(text)
    previous: tokenize.TokenInfo | None = None
    bars: list[tuple[str, ...]] = []  # what closes each absolute-value bar still open
    for count, token in enumerate(tokens):
        if count % 64 == 63:
            budget.checkpoint()
        if token.type in (
            tokenize.NEWLINE,
            tokenize.NL,
            tokenize.ENDMARKER,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            continue
        if token.string == "!":
            out.wrap_factorial()
            previous = token._replace(type=tokenize.OP, string=")")  # n! ends an operand, like ")"
            continue
        if token.string == "|":
            opening = not bars or not _ends_operand(previous)
            if not opening:
                out.extend(bars.pop())
            elif previous is not None and previous.type == tokenize.NAME and previous.string in FUNCTIONS:
                out.extend(("(", "abs", "("))  # ln|x|: the function of the absolute value
                bars.append((")", ")"))
            else:
                if _ends_operand(previous):
                    out.append("*")  # |x||y|: a product of two absolute values
                out.extend(("abs", "("))
                bars.append((")",))
            previous = token._replace(type=tokenize.OP, string="(" if opening else ")")
            continue
        if token.type == tokenize.ERRORTOKEN and not token.string.isspace():
            raise ExpressionError(f"unexpected character {token.string!r} in {text!r}")
        if previous is not None and _is_implicit_product(previous, token):
            out.append("*")
        out.append(token.string)
        previous = token
    if bars:
        raise ExpressionError(f"an absolute-value bar | is not closed in {text!r}")
    return out.text()


def _split_products(tokens: Iterator[tokenize.TokenInfo], variables: Collection[str]) -> list[tokenize.TokenInfo]:
    """``wa`` → ``w``, ``a`` when w and a are variables and wa is not a name of its own."""
    out = []
    for token in tokens:
        pieces = None
        if token.type == tokenize.NAME and token.string not in variables and token.string not in FUNCTIONS:
            pieces = _spelled_by(token.string, variables)
        out.extend([token._replace(string=piece) for piece in pieces] if pieces else [token])
    return out


def _spelled_by(name: str, variables: Collection[str]) -> list[str] | None:
    """``name`` as a sequence of two or more of ``variables`` (the longest first), or None."""
    if name in CONSTANTS or len(name) > 12:
        return None
    for end in range(len(name) - 1, 0, -1):
        head, tail = name[:end], name[end:]
        if head in variables:
            rest = [tail] if tail in variables else _spelled_by(tail, variables)
            if rest:
                return [head, *rest]
    return None


def _ends_operand(token: tokenize.TokenInfo | None) -> bool:
    return token is not None and (token.type in (tokenize.NUMBER, tokenize.NAME) or token.string == ")")


class _Written:
    """The tokens written so far, with each closing bracket's operand start, so that ``!`` finds its operand at
    once. ``factorial(`` is not inserted into the list (that copied it for every ``!``): it is counted at the
    operand's first token and written out by :meth:`text`."""

    def __init__(self, text: str) -> None:
        self.source = text
        self.tokens: list[str] = []
        self.operand_start: dict[int, int] = {}  # index of a ")" -> index of the first token of its operand
        self.factorials: dict[int, int] = {}  # index of a token -> how many "factorial (" open before it
        self.open: list[int] = []  # indexes of the "(" not closed yet

    def __bool__(self) -> bool:
        return bool(self.tokens)

    def __getitem__(self, index: int) -> str:
        return self.tokens[index]

    def append(self, token: str) -> None:
        index = len(self.tokens)
        self.tokens.append(token)
        if token == "(":
            self.open.append(index)
        elif token == ")" and self.open:
            start = self.open.pop()
            if start > 0 and self.tokens[start - 1] in FUNCTIONS:
                start -= 1  # sqrt(x): the call is the operand
            self.operand_start[index] = start

    def extend(self, tokens: Iterable[str]) -> None:
        for token in tokens:
            self.append(token)

    def wrap_factorial(self) -> None:
        """Turn the operand just written (``n``, ``3``, ``(n+1)``, ``f(x)``) into ``factorial(operand)``."""
        last = len(self.tokens) - 1
        if last < 0:
            raise ExpressionError(f"'!' must follow a number, a name or a bracket in {self.source!r}")
        if self.tokens[last] == ")":
            start = self.operand_start.get(last)
            if start is None:
                raise ExpressionError(f"could not read {self.source!r} as a formula (a bracket is not opened)")
        elif self.tokens[last][0].isalnum() or self.tokens[last][0] in "._":
            start = last
        else:
            raise ExpressionError(f"'!' must follow a number, a name or a bracket in {self.source!r}")
        self.factorials[start] = self.factorials.get(start, 0) + 1
        if self.factorials[start] > MAX_DEPTH:
            raise ExpressionError(f"the formula is nested too deeply (more than {MAX_DEPTH} levels)")
        self.tokens.append(")")
        self.operand_start[last + 1] = start

    def text(self) -> str:
        pieces: list[str] = []
        for index, token in enumerate(self.tokens):
            pieces.extend(("factorial", "(") * self.factorials.get(index, 0))
            pieces.append(token)
        return " ".join(pieces)


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
    source: str = field(default="", repr=False, compare=False)  # the normalised text the tree was parsed from

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

    def compile(self, variables: Sequence[str], dtype: Any = np.float64) -> Callable[..., Any]:
        """A numpy function of ``variables`` (positional), vectorised, in ``dtype`` (float64, or
        complex128 for principal values where a real result does not exist: ``(−8)**(1/3)``)."""
        unknown = self.names - set(variables)
        if unknown:
            raise ExpressionError(f"the formula uses {', '.join(sorted(unknown))}, not one of {', '.join(variables)}")
        position = {name: i for i, name in enumerate(variables)}
        node_function = _compile(self.tree, position)

        def function(*args: Any) -> Any:
            with np.errstate(all="ignore"):
                return node_function([np.asarray(a, dtype=dtype) for a in args])

        return function

    def to_sympy(self, symbols: dict[str, Any] | None = None, decimals: Mapping[int, Any] | None = None) -> Any:
        """The sympy expression of this checked tree.

        A decimal becomes the exact rational it spells as typed (``0.1`` → 1/10,
        ``0.333`` → 333/1000), unless ``decimals`` maps its position in
        :meth:`decimals` to another value (to try what a rounded decimal stands for).
        """
        import sympy

        table = dict(symbols or {})
        for name in self.names:
            table.setdefault(name, sympy.Symbol(name, real=True))
        literals = {
            id(node): decimals[i] if decimals and i in decimals else sympy.Rational(typed)
            for i, (node, typed) in enumerate(self.decimals())
        }
        return _to_sympy(self.tree, table, sympy, literals)

    def decimals(self) -> list[tuple[ast.Constant, str]]:
        """The decimal literals of the formula, in order, each with its text as typed (``0.3330``)."""
        found = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                typed = ast.get_source_segment(self.source, node) if self.source else None
                found.append((node, typed if typed and _DECIMAL.match(typed) else repr(node.value)))
        return found


def parse(text: str, variables: Collection[str] | None = None) -> Formula:
    """Check ``text`` against the whitelist and return a :class:`Formula`.

    ``variables`` is the set of names allowed (default: :data:`DEFAULT_VARIABLES`);
    pass an empty set for a plain number. Raises :class:`ExpressionError`.
    """
    source, tree = _parse_tree(text, _allowed(variables))
    return _formula(tree, text.strip(), variables, source)


def _allowed(variables: Collection[str] | None) -> frozenset[str]:
    return DEFAULT_VARIABLES if variables is None else frozenset(variables)


@functools.lru_cache(maxsize=4096)
def _parse_tree(text: str, variables: frozenset[str]) -> tuple[str, ast.expr]:
    """The normalised source and its syntax tree (not yet checked).

    Cached: a class types the same answers again and again. Trees are never
    modified after parsing, so sharing them is safe.
    """
    source = normalise(text, variables)
    if not source:
        raise ExpressionError("the answer is empty")
    try:
        return source, ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"could not read {text.strip()!r} as a formula") from exc


def _formula(node: ast.expr, text: str, variables: Collection[str] | None, source: str) -> Formula:
    budget.checkpoint()  # every formula read, alone or as an item of a list, is charged to the running budget
    allowed = _allowed(variables)
    names: set[str] = set()
    _check(node, allowed, names, depth=0, budget=[MAX_NODES])
    _exact_size(node)
    return Formula(text=text, tree=node, names=frozenset(names), source=source)


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
        if isinstance(node.value, int) and node.value.bit_length() > MAX_EXACT_BITS:
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
        arity = FUNCTIONS[node.func.id].arity
        if node.keywords or len(node.args) != arity:
            count = "one argument" if arity == 1 else f"{arity} arguments"
            raise ExpressionError(f"{node.func.id}() takes exactly {count}")
        for argument in node.args:
            _check(argument, allowed, names, depth + 1, budget)
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


def _exact_size(node: ast.expr) -> tuple[int, int] | None:
    """Bits of the numerator and denominator an exact evaluation of ``node`` could reach, computed from
    the sizes alone (no big number is built); None for a part that is not a constant.

    Refuses (ExpressionError) a formula whose constant parts would exceed :data:`MAX_EXACT_BITS`, such
    as ``(N/(N+1))**1000`` with a 1000-bit N: exact arithmetic on it (Fraction, sympy) would cost
    tenths of a second for a 611-character answer. Bounds: a·b and a/b add sizes, a ± b adds the
    cross sizes plus a carry, a**k multiplies by ⌈|k|⌉; a function's value is bounded by its argument's,
    but for n! (log2 Γ(n + 1) bits: ``((5!)!)!`` is refused) and C(n, k) (its own log2).
    """
    if isinstance(node, ast.Constant):
        if isinstance(node.value, float) and not math.isfinite(node.value):
            return None  # 1e400: refused where it is evaluated
        exact = Fraction(repr(node.value)) if isinstance(node.value, float) else Fraction(node.value)
        size = (exact.numerator.bit_length(), exact.denominator.bit_length())
    elif isinstance(node, ast.Name):
        return None
    elif isinstance(node, ast.UnaryOp):
        return _exact_size(node.operand)
    elif isinstance(node, ast.Call):
        sizes = [_exact_size(argument) for argument in node.args]
        known = [size for size in sizes if size is not None]
        if len(known) < len(sizes):
            return None
        size = (max(n for n, _ in known), max(d for _, d in known))
        if node.func.id in _GROWING:  # type: ignore[union-attr]
            size = (_GROWING[node.func.id](node.args), 1)  # type: ignore[union-attr]
    elif isinstance(node, ast.BinOp):
        left, right = _exact_size(node.left), _exact_size(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Pow):
            factor = math.ceil(abs(_evaluate(node.right, {})))  # bounded by MAX_EXPONENT in _check
            size = (max(left) * factor, max(left) * factor)
        elif isinstance(node.op, ast.Mult):
            size = (left[0] + right[0], left[1] + right[1])
        elif isinstance(node.op, ast.Div):
            size = (left[0] + right[1], left[1] + right[0])
        else:
            size = (max(left[0] + right[1], right[0] + left[1]) + 1, left[1] + right[1])
    else:
        return None
    if max(size) > MAX_EXACT_BITS:
        raise ExpressionError(
            f"a number in the formula is too large to compute exactly (more than {MAX_EXACT_BITS} bits)"
        )
    return size


def _factorial_bits(arguments: list[ast.expr]) -> int:
    """Bits of n! for a constant n (sympy computes it exactly): log2 Γ(n + 1); ((5!)!)! would be 10²⁰¹ bits."""
    try:
        n = abs(float(_evaluate(arguments[0], {})))
        return math.ceil(math.lgamma(n + 1) / math.log(2)) if n > 1 else 1
    except (OverflowError, ValueError):
        return MAX_EXACT_BITS + 1


def _binomial_bits(arguments: list[ast.expr]) -> int:
    """Bits of C(n, k) for constants: log2 of Γ(n+1) / (Γ(k+1) Γ(n−k+1)) for 0 ≤ k ≤ n, else at most |n|."""
    try:
        n, k = (float(_evaluate(argument, {})) for argument in arguments)
        if 0 <= k <= n:
            size = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(2)
        else:
            size = abs(n)
        return max(1, math.ceil(size))
    except (OverflowError, ValueError):
        return MAX_EXACT_BITS + 1


# Functions whose exact value is far larger than their argument's (the others are bounded by it).
_GROWING: dict[str, Callable[[list[ast.expr]], int]] = {"factorial": _factorial_bits, "binomial": _binomial_bits}


def _exact(node: ast.expr) -> Fraction:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise _NotExact  # a literal beyond floating point (9e999) has no exact value here
        return Fraction(repr(node.value)) if isinstance(node.value, float) else Fraction(node.value)
    if isinstance(node, ast.UnaryOp):
        value = _exact(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _exact(node.left), _exact(node.right)
        if isinstance(node.op, ast.Pow) and (right.denominator != 1 or abs(right) > MAX_EXPONENT):
            raise _NotExact
        return _BINARY[type(node.op)](left, int(right) if isinstance(node.op, ast.Pow) else right)
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
        function = FUNCTIONS[node.func.id]  # type: ignore[union-attr]
        return function.real(*(_evaluate(argument, env) for argument in node.args))
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
        function = FUNCTIONS[node.func.id].array  # type: ignore[union-attr]
        arguments = [_compile(argument, position) for argument in node.args]
        return lambda args: function(*(argument(args) for argument in arguments))
    raise ExpressionError(f"{_describe(node)} is not allowed in a formula")


def _to_sympy(node: ast.expr, symbols: dict[str, Any], sympy: Any, literals: Mapping[int, Any]) -> Any:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, float):
            chosen = literals.get(id(node))
            return chosen if chosen is not None else sympy.Rational(repr(node.value))
        return sympy.Integer(node.value)
    if isinstance(node, ast.Name):
        if node.id == "pi":
            return sympy.pi
        if node.id in ("e", "E"):
            return sympy.E
        return symbols[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _to_sympy(node.operand, symbols, sympy, literals)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _to_sympy(node.left, symbols, sympy, literals)
        right = _to_sympy(node.right, symbols, sympy, literals)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        function = FUNCTIONS[node.func.id].symbolic  # type: ignore[union-attr]
        return function(sympy, *(_to_sympy(argument, symbols, sympy, literals) for argument in node.args))
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
