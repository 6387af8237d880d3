"""The small expression language of exercise specs.

A spec's answers are written as expressions over the optimizer core, e.g.
``iterates(gd(eta), f, x0, steps)`` or ``batch_gradient(grads, [2, 4, 5], reduction="sum")``.
They are parsed with :mod:`ast` and evaluated by walking a whitelisted tree:
calls of the functions in :mod:`grader.specs.functions` (positional and
keyword arguments), names bound to the variant's parameters, numbers,
strings, lists, ``+ - * / **``, unary minus, indexing or slicing with
constants (``xs[1:]``), and comparisons joined by ``and``, ``or``, ``not``
(for an exercise's ``constraints:``, ``n % b != 0``). Nothing else is accepted, and nothing is handed to
``eval``: specs are data, not Python.

A call's arguments are checked against the function's signature and its
annotations before it runs: an unknown keyword, too many or too few
arguments, or a value of the wrong kind (text for a number, ``"m"`` for a
``bool``, an option not among a ``Literal``'s) is one sentence naming what is
allowed, never Python's own message. :func:`problems` finds the same mistakes,
and every unknown name, without evaluating anything, so a spec is refused
when it loads with all of them at once.
"""

from __future__ import annotations

import ast
import difflib
import functools
import inspect
import numbers
import operator
import types
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
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


_COMPARISONS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: _same(a, b),
    ast.NotEq: lambda a, b: not _same(a, b),
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _same(a: Any, b: Any) -> bool:
    """``==`` of spec values: numbers by value, lists item by item, text as text."""
    a = a.tolist() if isinstance(a, np.ndarray) else a
    b = b.tolist() if isinstance(b, np.ndarray) else b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _compared(op: ast.cmpop, left: Any, right: Any) -> bool:
    if not isinstance(op, ast.Eq | ast.NotEq) and not (_is_number(left) and _is_number(right)):
        raise SpecExpressionError(f"only numbers can be ordered, not {_short(left)} and {_short(right)}")
    return bool(_COMPARISONS[type(op)](left, right))


def _truth(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise SpecExpressionError(f"'and', 'or' and 'not' join comparisons (True or False), not {_short(value)}")


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
        ast.Not,
        ast.Compare,
        ast.BoolOp,
        ast.And,
        ast.Or,
        *_COMPARISONS,
        *_OPERATORS,
    )
    for child in ast.walk(node):
        if not isinstance(child, allowed):
            raise SpecExpressionError(f"{type(child).__name__} is not allowed in spec expression {text!r}")
        if isinstance(child, ast.Call) and not isinstance(child.func, ast.Name):
            raise SpecExpressionError(f"only named functions can be called in {text!r}")
        if isinstance(child, ast.Name) and child.id.startswith("_"):
            raise SpecExpressionError(f"name {child.id!r} is not allowed in {text!r}")
        if isinstance(child, ast.keyword) and child.arg is None:
            raise SpecExpressionError(f"** is not allowed in spec expression {text!r}")


def evaluate(text: str, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    """Evaluate a spec expression with ``names`` (parameters) and ``functions`` (the core's registry)."""
    tree = compile_expression(text)
    try:
        return _evaluate(tree, names, functions)
    except SpecExpressionError:
        raise
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        ArithmeticError,
        IndexError,
        RecursionError,
        MemoryError,
    ) as exc:
        raise SpecExpressionError(f"{text!r} failed: {exc or type(exc).__name__}") from exc


def _evaluate(node: ast.AST, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        if node.id in functions:
            return functions[node.id]
        raise SpecExpressionError(f"unknown name {node.id!r}{nearest(node.id, [*names, 'True', 'False'])}")
    if isinstance(node, ast.List | ast.Tuple):
        return [_evaluate(item, names, functions) for item in node.elts]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, names, functions)
        if isinstance(node.op, ast.Not):
            return not _truth(value)
        return -_array(value) if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, names, functions)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, names, functions)
            if not _compared(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        for operand in node.values:
            value = _truth(_evaluate(operand, names, functions))
            if value is isinstance(node.op, ast.Or):
                return value
        return not isinstance(node.op, ast.Or)
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
            raise SpecExpressionError(f"unknown function {name!r}{nearest(name, functions)}")
        args = [_evaluate(arg, names, functions) for arg in node.args]
        kwargs = {kw.arg: _evaluate(kw.value, names, functions) for kw in node.keywords if kw.arg}
        if function is names.get(name):  # given with the parameters (``student`` in a carried rule)
            return function(*args, **kwargs)
        return _call(name, function, args, kwargs)
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


# Calls: the arguments checked against the function's signature ------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What an annotation allows: in words for the sentence, and the test of a value."""

    words: str
    accepts: Callable[[Any], bool]
    choices: tuple[Any, ...] = ()  # a Literal's options


def _is_number(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu"


def _is_whole(value: Any) -> bool:
    if isinstance(value, numbers.Integral):
        return not isinstance(value, bool | np.bool_)
    return _is_number(value) and float(value).is_integer()


KINDS: dict[Any, Kind] = {
    bool: Kind("True or False", lambda value: isinstance(value, bool | np.bool_)),
    int: Kind("a whole number", _is_whole),
    float: Kind("a number", _is_number),
    str: Kind('text in quotes (a formula such as "x**2 + 2", or a label)', lambda value: isinstance(value, str)),
}
"""The annotations whose values are checked before a call (:mod:`grader.specs.functions` adds update rules)."""


def _literal(choices: tuple[Any, ...]) -> Kind:
    def accepts(value: Any) -> bool:
        return any(type(value) is type(choice) and value == choice for choice in choices)

    return Kind("one of " + _listed([repr(c) for c in choices], "or"), accepts, choices)


def _kind(annotation: Any) -> Kind | None:
    if typing.get_origin(annotation) is typing.Literal:
        return _literal(typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = _kind(options[0]) if len(options) == 1 else None
        if inner is None or len(options) == len(typing.get_args(annotation)):
            return None
        return Kind(inner.words, lambda value: value is None or inner.accepts(value), inner.choices)  # X | None
    try:
        return KINDS.get(annotation)
    except TypeError:  # an unhashable annotation: not checked
        return None


@dataclass(frozen=True)
class Signature:
    """A function's parameters as a spec sees them: what may be passed, what must be, and of which kind."""

    positional: tuple[str, ...]
    keywords: frozenset[str]
    required: tuple[str, ...]
    variadic: str | None
    any_keyword: bool
    kinds: Mapping[str, Kind]
    shown: tuple[str, ...]  # ``lr``, ``beta1=0.9``, ``*items``: the parameters as the docs write them

    def problem(self, name: str, args: list[Any], kwargs: Mapping[str, Any]) -> str | None:
        """The sentence saying what is wrong with ``name(*args, **kwargs)``, or None.

        A value that is :data:`UNKNOWN` (not a constant, in a check before evaluating) is not checked.
        """
        if len(args) > len(self.positional) and self.variadic is None:
            return f"{name} takes {self._count()}{self._listing()}, not {len(args)}"
        bound = dict(zip(self.positional, args, strict=False))
        for key, value in kwargs.items():
            if key not in self.keywords and not self.any_keyword:
                close = nearest(key, sorted(self.keywords))
                others = _listed(list(self.positional) + sorted(self.keywords - set(self.positional)), "and")
                return (
                    f"{name} has no argument {key!r}{close}, only {others}" if others else f"{name} takes no arguments"
                )
            if key in bound:
                return f"{name} got the argument {key!r} twice"
            bound[key] = value
        missing = [p for p in self.required if p not in bound]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            listed = _listed([repr(m) for m in missing], "and")
            return f"{name} is missing the argument{plural} {listed} (its arguments are {', '.join(self.shown)})"
        for parameter, value in bound.items():
            if (kind := self.kinds.get(parameter)) is not None and value is not UNKNOWN and not kind.accepts(value):
                return _wrong(name, parameter, kind, value)
        if self.variadic is not None and (kind := self.kinds.get(self.variadic)) is not None:
            for value in args[len(self.positional) :]:
                if value is not UNKNOWN and not kind.accepts(value):
                    return _wrong(name, self.variadic, kind, value)
        return None

    def _count(self) -> str:
        most, least = len(self.positional), sum(1 for p in self.positional if p in self.required)
        if most == 0:
            return "no arguments"
        if least == most:
            return f"{most} argument{'s' if most > 1 else ''}"
        return f"{least} to {most} arguments"

    def _listing(self) -> str:
        return f" ({', '.join(self.shown)})" if self.shown else ""


UNKNOWN: Any = object()
"""A value known only when the expression is evaluated (a parameter, a call's result)."""


def _wrong(name: str, parameter: str, kind: Kind, value: Any) -> str:
    close = nearest(value, [c for c in kind.choices if isinstance(c, str)])
    return f"argument {parameter!r} of {name} must be {kind.words}, not {_short(value)}{close}"


@functools.lru_cache(maxsize=4096)
def signature(function: Callable[..., Any]) -> Signature | None:
    """The spec-facing signature of ``function`` (None when Python cannot tell it)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # noqa: BLE001 - annotations that do not resolve are simply not checked
        hints = {}
    positional, keywords, required, shown = [], set(), [], []
    variadic, any_keyword = None, False
    kinds: dict[str, Kind] = {}
    for p in parameters:
        if p.kind is p.VAR_POSITIONAL:
            variadic = p.name
            shown.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            any_keyword = True
            shown.append(f"**{p.name}")
            continue
        else:
            if p.kind is not p.KEYWORD_ONLY:
                positional.append(p.name)
            if p.kind is not p.POSITIONAL_ONLY:
                keywords.add(p.name)
            if p.default is p.empty:
                required.append(p.name)
                shown.append(p.name)
            else:
                shown.append(f"{p.name}={p.default!r}")
        if p.name in hints and (kind := _kind(hints[p.name])) is not None:
            kinds[p.name] = kind
    return Signature(
        tuple(positional), frozenset(keywords), tuple(required), variadic, any_keyword, kinds, tuple(shown)
    )


def _call(name: str, function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``function(*args, **kwargs)``, after checking the arguments against its signature."""
    try:
        spec = signature(function)
    except TypeError:  # an unhashable callable: not checked
        spec = None
    if spec is not None and (problem := spec.problem(name, args, kwargs)) is not None:
        raise SpecExpressionError(problem)
    return function(*args, **kwargs)


# Checking an expression without evaluating it --------------------------------------------------------


def problems(text: str, names: Collection[str], functions: Mapping[str, Callable[..., Any]]) -> list[str]:
    """Every mistake in one spec expression that shows without evaluating it, in the order written.

    An unknown function or name (with the nearest known ones), an unknown
    keyword, too many or too few arguments, and a constant argument of the
    wrong kind (``bias_correction="m"``). ``names`` are the names the
    expression may use (parameters, derived values). Raises SpecExpressionError
    when the expression cannot be parsed.
    """
    tree = compile_expression(text)
    nodes = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Call | ast.Name)),
        key=lambda node: (node.lineno, node.col_offset, isinstance(node, ast.Name)),
    )
    called = {id(node.func) for node in nodes if isinstance(node, ast.Call)}
    found: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Name):
            if id(node) in called or node.id in names or node.id in functions:
                continue
            close = nearest(node.id, [*names, "True", "False"])
            known = f" (the names it may use are {', '.join(sorted(map(str, names)))})" if names else ""
            found.append(f"unknown name {node.id!r}{close or known}")
            continue
        name = node.func.id  # type: ignore[attr-defined]
        function = functions.get(name)
        if function is None:
            if name in names:
                continue  # a function given with the parameters (``student`` in a carried rule)
            if name == "student":
                found.append("student() is only for 'carried' rules (the student's answer to an earlier part)")
                continue
            close = nearest(name, functions)
            found.append(f"unknown function {name!r}{close or ' (docs/specs.md lists the functions a spec can call)'}")
            continue
        given = [kw.arg for kw in node.keywords if kw.arg]
        if twice := next((k for i, k in enumerate(given) if k in given[:i]), None):
            found.append(f"{name} got the argument {twice!r} twice")
            continue
        spec = signature(function)
        if spec is None:
            continue
        args = [_constant(arg) for arg in node.args]
        kwargs = {kw.arg: _constant(kw.value) for kw in node.keywords if kw.arg}
        if (problem := spec.problem(name, args, kwargs)) is not None:
            found.append(problem)
    return list(dict.fromkeys(found))


def _constant(node: ast.AST) -> Any:
    """The value of a constant argument (``"sum"``, ``-1``, ``[1, 2]``); :data:`UNKNOWN` for anything else."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return UNKNOWN
    return list(value) if isinstance(value, tuple) else value


def nearest(word: Any, known: Collection[str]) -> str:
    """`` (did you mean 'gd'?)`` with the closest known names (difflib), or nothing."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [k for k in known if isinstance(k, str)], n=3)
    return f" (did you mean {_listed([repr(c) for c in close], 'or')}?)" if close else ""


def _listed(items: list[str], last: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    try:
        text = repr(value)
    except ValueError:  # an integer of more digits than Python prints
        return "a number too large to print"
    return text if len(text) <= 60 else text[:57] + "…"
