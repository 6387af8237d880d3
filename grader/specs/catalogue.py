"""The catalogue of small changes: a mistake named by search, without a rule written for it.

A part's reference answer is a spec expression over the optimizer core
(``iterates(gd(eta), f, x0, steps)``, ``batch_gradient(grads, batch)``,
``updates_per_epoch(n, b)`` …). Most wrong answers students give are that
computation with one small change: the update's sign flipped, η left out,
the sum for the mean, ⌊n/B⌋ for ⌈n/B⌉, momentum as an EMA, Adam without bias
correction, one step too many … Each :class:`Change` here is one such change,
with a stable misconception id, a default credit and a sentence, and knows
where in the computation it applies:

* ``names``: a parameter changed (η → 2η, η → −η, β → 1);
* ``functions``: a function of the core swapped (``mean`` → ``total``,
  ``ceil`` → ``floor``, a rule with one link swapped, f replaced by a formula
  whose derivative is the wrong one, …);
* ``tree``: the expression rewritten (a point taken at the next index);
* ``output``: the answer reshaped (the list without x₀, components swapped,
  two labels exchanged, a count plus one).

:func:`search_answers` applies every change to a part's own expression and
parameters, so it works for every variant and for exercises written later;
a change that leaves the answer unchanged, or fails, does not apply there.
Credits of ids the course's ``misconceptions:`` lists are taken from there,
and so is the sentence of a change named as its id (an instructor's wording
wins); a more specific change (``started-at-x1`` of ``off-by-one``) keeps its own.
"""

from __future__ import annotations

import ast
import copy
import functools
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from grader import optim
from grader.calculus import cached_formula
from grader.checking.key import Misconception
from grader.optim import rules
from grader.specs import language
from grader.specs.functions import FUNCTIONS, plain

LEARNING_RATES = ("eta", "lr", "learning_rate", "step_size")
"""Parameter names read as the learning rate η (the η changes substitute them)."""

MOMENTUM_FACTORS = ("beta", "momentum", "mu")
"""Parameter names read as the momentum factor β."""

RULE_MAKERS = ("gd", "momentum", "ema_momentum", "nesterov", "adam", "rmsprop", "adagrad")

# Where the objective f is an argument (position) of a function of the core: as the thing
# differentiated (the update, gradients, curvature) or as the thing evaluated (values).
DERIVATIVE_USERS = {
    "iterates": 1,
    "path_shape": 1,
    "next_from": 1,
    "gradient": 0,
    "hessian": 0,
    "step_factor": 0,
    "regime": 0,
    "regimes": 0,
    "converging_rates": 0,
    "curvature": 0,
    "quadratic_gradient": 0,
    "sgd_epoch": 0,
}
VALUE_USERS = {"values": 0, "value": 0}
POINT_USERS = ("gradient", "hessian", "value")

Answer = Any
Wrapper = Callable[[Callable[..., Any]], Callable[..., Any]]


@dataclass(frozen=True)
class Change:
    """One small change of a computation, named as the misconception it models."""

    name: str  # the catalogue entry (unique)
    credit: float
    sentence: str  # {{param}} is filled with the variant's parameters; {a}, {b} by the change
    names: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    functions: Mapping[str, Wrapper] = field(default_factory=dict)
    tree: Callable[[ast.expr], Iterator[ast.expr]] | None = None
    output: Callable[[Any], Iterator[tuple[Any, dict[str, str]]]] | None = None
    kinds: frozenset[str] | None = None  # answer types it applies to (None: all)
    misconception: str = ""  # the id reported to the student and counted by analytics (default: the name)

    def __post_init__(self) -> None:
        if not self.misconception:
            object.__setattr__(self, "misconception", self.name)


@dataclass(frozen=True)
class Found:
    """A change applied to one part of one variant: the answer it leads to."""

    change: Change
    answer: Answer
    credit: float
    feedback: str

    @property
    def id(self) -> str:
        return self.change.misconception


# Building blocks -------------------------------------------------------------------------


def _with_names(**changes: Callable[[Any], Any]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """Substitute every parameter of the given family (``eta=…`` covers eta, lr, …) present in the variant."""
    families = {"eta": LEARNING_RATES, "beta": MOMENTUM_FACTORS}

    def substitute(params: Mapping[str, Any]) -> dict[str, Any]:
        result = dict(params)
        for family, change in changes.items():
            for name in families[family]:
                if _is_number(result.get(name)):
                    result[name] = change(result[name])
        return result

    return substitute


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _rules(change: Callable[[Any], Any], makers: tuple[str, ...] = RULE_MAKERS) -> dict[str, Wrapper]:
    """Every rule the spec builds goes through ``change`` (a rule → a rule, or None where it does not apply)."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def made(*args: Any, **kwargs: Any) -> Any:
            rule = original(*args, **kwargs)
            changed = change(rule)
            return rule if changed is None else changed

        return made

    return {name: wrap for name in makers}


def _rules_any_beta(change: Callable[[Any], Any]) -> dict[str, Wrapper]:
    """Momentum rules built with β = 0 whatever β the spec gives, then changed (β = 1 is no valid rule)."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def made(lr: Any, beta: Any = 0.0, *args: Any, **kwargs: Any) -> Any:
            return change(original(lr, 0.0, *args, **kwargs))

        return made

    return {name: wrap for name in ("momentum", "nesterov")}


def _signed_rules() -> dict[str, Wrapper]:
    """Rules uphill, whatever the sign of the η they are given (η → −η is substituted too)."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def made(lr: Any, *args: Any, **kwargs: Any) -> Any:
            return rules.ascent(original(abs(float(lr)), *args, **kwargs))

        return made

    return {name: wrap for name in RULE_MAKERS}


def _unit_rules() -> dict[str, Wrapper]:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda lr, *args, **kwargs: original(1.0, *args, **kwargs)

    return {name: wrap for name in RULE_MAKERS}


def _objective(users: Mapping[str, int], transform: Callable[[str], str | None]) -> dict[str, Wrapper]:
    """Functions that use f (at the given argument) receive ``transform(f)`` instead."""

    def wrapper(position: int) -> Wrapper:
        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            def made(*args: Any, **kwargs: Any) -> Any:
                args = list(args)
                if len(args) > position and isinstance(args[position], str):
                    changed = transform(args[position])
                    if changed is None:
                        raise _NotApplicable
                    args[position] = changed
                return original(*args, **kwargs)

            return made

        return wrap

    return {name: wrapper(position) for name, position in users.items()}


def _replace(name: str, function: Callable[..., Any]) -> dict[str, Wrapper]:
    return {name: lambda original: function}


def _keyword(name: str, **fixed: Any) -> dict[str, Wrapper]:
    """``name`` called with the given keyword arguments forced."""
    return {name: lambda original: lambda *args, **kwargs: original(*args, **{**kwargs, **fixed})}


class _NotApplicable(Exception):
    """The change has no meaning for this computation (f′ of a two-variable f as a number, say)."""


# Changes of the objective f (sympy, on demand) ---------------------------------------------


_FORMULA_NAMES = frozenset({"a", "y"})


def _sympy_of(text: str) -> Any:
    from grader.expressions import DEFAULT_VARIABLES, parse

    return parse(text, DEFAULT_VARIABLES | _FORMULA_NAMES).to_sympy()


@functools.lru_cache(maxsize=256)
def integral(text: str) -> str | None:
    return cached_formula("integral", text, _integral)


def _integral(text: str) -> str | None:
    """F with F′ = f, for a one-variable f (stepping along f where f′ belongs is descending F)."""
    import sympy

    expression = _sympy_of(text)
    if len(expression.free_symbols) != 1:
        return None
    result = sympy.integrate(expression, next(iter(expression.free_symbols)))
    return None if result.has(sympy.Integral) else str(result)


@functools.lru_cache(maxsize=256)
def derivative_formula(text: str) -> str | None:
    return cached_formula("derivative_formula", text, _derivative_formula)


def _derivative_formula(text: str) -> str | None:
    """f′ of a one-variable f (values of f′ given for values of f)."""
    import sympy

    expression = _sympy_of(text)
    if len(expression.free_symbols) != 1:
        return None
    return str(sympy.diff(expression, next(iter(expression.free_symbols))))


@functools.lru_cache(maxsize=256)
def without_power_factor(text: str) -> str | None:
    return cached_formula("without_power_factor", text, _without_power_factor)


def _without_power_factor(text: str) -> str | None:
    """f with each power uⁿ replaced by uⁿ/n, so that its derivative lacks the factor n (x for 2x)."""
    import sympy

    expression = _sympy_of(text)
    powers = [p for p in expression.atoms(sympy.Pow) if p.exp.is_Number and p.exp > 1]
    if not powers:
        return None
    return str(expression.xreplace({p: p / p.exp for p in powers}))


@functools.lru_cache(maxsize=256)
def without_constant(text: str) -> str | None:
    return cached_formula("without_constant", text, _without_constant)


def _without_constant(text: str) -> str | None:
    """f without its additive constant (x² for x² + 2)."""
    expression = _sympy_of(text)
    constant, _ = expression.as_coeff_Add()
    return None if constant == 0 else str(expression - constant)


def _half_mse(original: Callable[..., Any]) -> Callable[..., Any]:
    """``loss_gradient`` of the mean squared error computed without the factor 2 (not for other losses)."""

    def made(data: Any, point: Any, loss: str = "mse", *args: Any, **kwargs: Any) -> Any:
        if loss != "mse":
            raise _NotApplicable
        return original(data, point, "half-mse", *args, **kwargs)

    return made


# Changes of the data of mini-batches ----------------------------------------------------------


def _mean_with(divisor: Callable[[int], int]) -> Callable[..., Any]:
    def mean(vectors: Any) -> Any:
        return plain(optim.full_gradient(vectors, reduction="sum") / divisor(len(vectors)))

    return mean


def _batch_with(divisor: Callable[[int], int]) -> Callable[..., Any]:
    def batch(vectors: Any, indices: Any, reduction: str = "mean") -> Any:
        summed = optim.batch_gradient(vectors, indices, one_based=True, reduction="sum")
        return plain(summed / divisor(len(indices)))

    return batch


def _epoch_batches(change: Callable[[list[list[int]], int], list[list[int]]]) -> dict[str, Wrapper]:
    """``sgd_epoch`` run over batches changed by ``change(batches, n)``."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def made(loss: Any, data: Any, batches: Any, *args: Any, **kwargs: Any) -> Any:
            changed = change([[int(i) for i in b] for b in batches], len(data))
            if not changed:
                raise _NotApplicable
            return original(loss, data, changed, *args, **kwargs)

        return made

    return {"sgd_epoch": wrap}


def _zero_based(batches: list[list[int]], n: int) -> list[list[int]]:
    """1-based indices read as 0-based: index i means point i + 1; n is out of range and dropped."""
    return [kept for kept in ([i + 1 for i in b if i + 1 <= n] for b in batches) if kept]


# Changes of the shape of the answer ----------------------------------------------------------------


def _slice(start: int | None, stop: int | None) -> Callable[[Any], Iterator[tuple[Any, dict[str, str]]]]:
    def reshaped(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
        if isinstance(answer, list) and len(answer) > 2:
            yield answer[start:stop], {}

    return reshaped


def _repeat_start(keep_last: bool) -> Callable[[Any], Iterator[tuple[Any, dict[str, str]]]]:
    def reshaped(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
        if isinstance(answer, list) and len(answer) > 1:
            yield [answer[0], *(answer if keep_last else answer[:-1])], {}

    return reshaped


def _swapped_components(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    if isinstance(answer, list) and len(answer) >= 2 and all(_is_number(v) for v in answer):
        yield list(reversed(answer)), {}


def _plus(amount: int) -> Callable[[Any], Iterator[tuple[Any, dict[str, str]]]]:
    def changed(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
        if _is_number(answer) and answer + amount >= 0:
            yield answer + amount, {}

    return changed


def _swapped_labels(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    """Every pair of labels the answer uses, exchanged throughout."""
    if not isinstance(answer, list):
        return
    used = list(dict.fromkeys(a for a in answer if isinstance(a, str)))
    for i, first in enumerate(used):
        for second in used[i + 1 :]:
            swap = {first: second, second: first}
            yield [swap.get(label, label) for label in answer], {"a": first, "b": second}


def _shifted_points(offset: int) -> Callable[[ast.expr], Iterator[ast.expr]]:
    """``hessian(f, points[k])`` (or gradient, value) at ``points[k + offset]`` instead."""

    def rewrite(tree: ast.expr) -> Iterator[ast.expr]:
        changed = False

        class Shift(ast.NodeTransformer):
            def visit_Call(self, node: ast.Call) -> ast.AST:
                nonlocal changed
                self.generic_visit(node)
                if isinstance(node.func, ast.Name) and node.func.id in POINT_USERS and len(node.args) >= 2:
                    point = node.args[1]
                    if isinstance(point, ast.Subscript) and isinstance(point.slice, ast.Constant):
                        index = point.slice.value
                        if isinstance(index, int) and index + offset >= 0:
                            point.slice = ast.Constant(index + offset)
                            changed = True
                return node

        result = Shift().visit(copy.deepcopy(tree))
        if changed:
            yield result

    return rewrite


def _ema_formula(tree: ast.expr) -> Iterator[ast.expr]:
    """``β·g_prev + ∇f`` (``scale(beta, a) + b`` or ``beta * a + b``) as a moving average: ``β·g_prev + (1 − β)·∇f``."""

    def momentum_term(node: ast.expr) -> str | None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "scale" and node.args:
            node = node.args[0]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            node = node.left
        return node.id if isinstance(node, ast.Name) and node.id in MOMENTUM_FACTORS else None

    changed = False

    class Average(ast.NodeTransformer):
        def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
            nonlocal changed
            self.generic_visit(node)
            if isinstance(node.op, ast.Add):
                for kept, other in ((node.left, "right"), (node.right, "left")):
                    beta = momentum_term(kept)
                    if beta:
                        weight = ast.BinOp(ast.Constant(1), ast.Sub(), ast.Name(beta, ast.Load()))
                        scaled = ast.Call(ast.Name("scale", ast.Load()), [weight, getattr(node, other)], [])
                        setattr(node, other, scaled)
                        changed = True
                        break
            return node

    result = Average().visit(copy.deepcopy(tree))
    if changed:
        yield ast.fix_missing_locations(result)


def _iterates_reshaped(extra: int, start: int, repeat_start: bool = False) -> dict[str, Wrapper]:
    """``iterates(rule, f, x0, steps)`` run ``steps + extra`` steps, listed from x_start (x₀ written twice first)."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def made(rule: Any, f: Any, x0: Any, steps: Any) -> Any:
            points = original(rule, f, x0, int(steps) + extra)[start:]
            return [points[0], *points] if repeat_start else points

        return made

    return {"iterates": wrap}


def _values_for_iterates() -> dict[str, Wrapper]:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def made(rule: Any, f: Any, x0: Any, steps: Any) -> Any:
            return FUNCTIONS["values"](f, original(rule, f, x0, steps))

        return made

    return {"iterates": wrap}


# The catalogue -----------------------------------------------------------------------------------

SEQUENCE = frozenset({"sequence"})
NUMERIC = frozenset({"number", "integer", "vector", "matrix", "sequence", "interval"})

CATALOGUE: tuple[Change, ...] = (
    # The step: sign, η, f and f′.
    Change(
        "sign-error",
        0.25,
        "You moved uphill: gradient descent steps against the gradient, x ← x − η·∇f(x); adding η·∇f climbs f.",
        names=_with_names(eta=lambda v: -v),
        functions={**_signed_rules(), **_replace("neg", plain)},
        kinds=NUMERIC,
    ),
    Change(
        "forgot-eta",
        0.25,
        "You left out the learning rate: the step is η·∇f(x), not ∇f(x). Multiply the gradient by η first.",
        names=_with_names(eta=lambda v: 1),
        functions=_unit_rules(),
        kinds=NUMERIC,
    ),
    Change(
        "doubled-eta",
        0.25,
        "Your steps are twice as long as they should be: the step is η·∇f(x), not 2η·∇f(x).",
        names=_with_names(eta=lambda v: 2 * v),
        kinds=NUMERIC,
    ),
    Change(
        "function-for-derivative",
        0,
        "You stepped along f(x) itself; the update uses the derivative: x ← x − η·f′(x).",
        functions=_objective(DERIVATIVE_USERS, integral),
        kinds=NUMERIC,
    ),
    Change(
        "derivative-for-function",
        0,
        "These are values of the derivative f′; the question asks for the values of f itself.",
        functions=_objective(VALUE_USERS, derivative_formula),
        kinds=NUMERIC,
    ),
    Change(
        "derivative-missing-factor",
        0.25,
        "Your derivative is missing its factor: the derivative of xⁿ is n·xⁿ⁻¹ (of x² it is 2x, not x).",
        functions=_objective(DERIVATIVE_USERS, without_power_factor),
        kinds=NUMERIC,
    ),
    Change(
        "dropped-constant",
        0.5,
        "You left out the constant term of f: f(x) includes it (for x² + 2, add the 2 to x²).",
        functions=_objective(VALUE_USERS, without_constant),
        kinds=NUMERIC,
    ),
    # Counting steps.
    Change(
        "missing-start",
        0.5,
        "You left out x₀: the list starts with the starting point x₀ and ends with the last iterate asked for.",
        misconception="off-by-one",
        output=_slice(1, None),
        kinds=SEQUENCE,
    ),
    Change(
        "started-at-x1",
        0.5,
        "You started the list at x₁ and went one step too far: it runs from the given x₀ up to the last iterate asked for.",
        misconception="off-by-one",
        functions=_iterates_reshaped(1, 1),
        kinds=SEQUENCE,
    ),
    Change(
        "one-step-too-few",
        0.5,
        "One step too few: the list runs from x₀ up to the last iterate asked for, one more than the number of steps.",
        misconception="off-by-one",
        output=_slice(None, -1),
        kinds=SEQUENCE,
    ),
    Change(
        "one-step-too-many",
        0.5,
        "One step too many: the list stops at the last iterate asked for.",
        misconception="off-by-one",
        functions=_iterates_reshaped(1, 0),
        kinds=NUMERIC,
    ),
    Change(
        "one-step-too-many-at-index",
        0.5,
        "One step too many: x_t is the point after t updates from x₀; you went one update further.",
        misconception="off-by-one",
        functions=_iterates_reshaped(1, 1),
        kinds=NUMERIC - SEQUENCE,
    ),
    Change(
        "one-step-too-few-at-index",
        0.5,
        "One step too few: x_t is the point after t updates from x₀; you stopped one update early.",
        misconception="off-by-one",
        functions=_iterates_reshaped(0, 0, repeat_start=True),
        kinds=NUMERIC - SEQUENCE,
    ),
    Change(
        "repeated-start",
        0.5,
        "You wrote x₀ twice: x₁ is the point after the first update from x₀, not x₀ again.",
        output=_repeat_start(keep_last=False),
        kinds=SEQUENCE,
    ),
    Change(
        "repeated-start-and-all-steps",
        0.5,
        "You wrote x₀ twice: x₁ is the point after the first update from x₀, not x₀ again.",
        misconception="repeated-start",
        output=_repeat_start(keep_last=True),
        kinds=SEQUENCE,
    ),
    Change(
        "values-for-iterates",
        0,
        "These are the function values f(xₜ), not the iterates xₜ. The iterates are the points x where the method stands.",
        functions=_values_for_iterates(),
        kinds=SEQUENCE,
    ),
    Change(
        "iterates-for-values",
        0,
        "These are the iterates xₜ; the question asks for the function values f(xₜ) at those points.",
        functions=_replace("values", lambda f, points: plain(points)),
        kinds=SEQUENCE,
    ),
    # Means and batches.
    Change(
        "sum-not-mean",
        0.25,
        "You summed the per-example gradients; the (mini-batch) gradient is their mean: divide by the number of points in it.",
        functions={
            **_replace("mean", FUNCTIONS["total"]),
            **_keyword("batch_gradient", reduction="sum"),
            **_keyword("sgd_epoch", reduction="sum"),
        },
        kinds=NUMERIC,
    ),
    Change(
        "mean-over-n",
        0.5,
        "You divided the batch's sum by n, the size of the whole data set; a mini-batch gradient divides by the batch size |B|.",
        functions={
            **_keyword("batch_gradient", reduction="mean-over-n"),
            **_keyword("sgd_epoch", reduction="mean-over-n"),
        },
        kinds=NUMERIC,
    ),
    Change(
        "divisor-n-minus-1",
        0.5,
        "You divided by one less than the number of points; the mean gradient divides the sum by the number of points itself.",
        functions={
            **_replace("mean", _mean_with(lambda n: n - 1)),
            **_replace("batch_gradient", _batch_with(lambda n: n - 1)),
            **_keyword("sgd_epoch", reduction="n-1"),
        },
        kinds=NUMERIC,
    ),
    Change(
        "zero-based-index",
        0.25,
        "You counted the points from 0: the lecture numbers them from 1, so point 2 is the second one in the list.",
        functions={**_replace("batch_gradient", FUNCTIONS["zero_based_batch"]), **_epoch_batches(_zero_based)},
        kinds=NUMERIC,
    ),
    Change(
        "full-set-for-batch",
        0.25,
        "You used every point; a mini-batch gradient averages only the points in the batch.",
        functions={
            **_replace("batch_gradient", lambda vectors, indices, reduction="mean": FUNCTIONS["mean"](vectors)),
            **_epoch_batches(lambda batches, n: [list(range(1, n + 1)) for _ in batches]),
        },
        kinds=NUMERIC,
    ),
    Change(
        "wrong-batch-order",
        0.5,
        "You took the batches in another order: each SGD step starts from the weights the previous batch produced, in the order given.",
        functions=_epoch_batches(lambda batches, n: list(reversed(batches)) if len(batches) > 1 else []),
        kinds=NUMERIC,
    ),
    Change(
        "components-swapped",
        0.5,
        "Your components are in the wrong order: give them in the order of the variables (x first, then y).",
        output=_swapped_components,
        kinds=frozenset({"vector"}),
    ),
    # Counts.
    Change(
        "drop-last-batch",
        0.5,
        "You rounded down: the last, smaller batch is still an update, so there are ⌈n/B⌉ updates per epoch.",
        functions=_keyword("updates_per_epoch", drop_last=True),
        kinds=NUMERIC,
    ),
    Change(
        "floor-for-ceil",
        0.5,
        "You rounded down where the count rounds up: a last, incomplete group still counts.",
        functions=_replace("ceil", FUNCTIONS["floor"]),
        kinds=NUMERIC,
    ),
    Change(
        "not-an-integer",
        0,
        "That is not a count: the number of updates is a whole number; a last, smaller batch still counts as one, so round n/B up.",
        functions=_replace("updates_per_epoch", lambda n, b, drop_last=False: n / b),
        kinds=NUMERIC,
    ),
    Change(
        "count-times",
        0,
        "You multiplied n by B; the number of batches is n divided by the batch size B, rounded up.",
        functions=_replace("updates_per_epoch", lambda n, b, drop_last=False: n * b),
        kinds=NUMERIC,
    ),
    Change(
        "count-inverted",
        0,
        "You divided B by n; the number of batches is n/B, the data set size divided by the batch size, rounded up.",
        functions=_replace("updates_per_epoch", lambda n, b, drop_last=False: b / n),
        kinds=NUMERIC,
    ),
    Change(
        "count-plus-one",
        0.5,
        "One too many: ⌈n/B⌉ already counts the last, smaller batch; do not add one more.",
        output=_plus(1),
        kinds=frozenset({"integer"}),
    ),
    Change(
        "count-minus-one",
        0.5,
        "One too few: every batch is an update, the last, smaller one too; there are ⌈n/B⌉ of them.",
        output=_plus(-1),
        kinds=frozenset({"integer"}),
    ),
    # Momentum, Nesterov, RMSprop, Adam: one link of the rule swapped or dropped.
    Change(
        "ema-momentum",
        0.25,
        "You used momentum as a moving average, g ← βg + (1−β)∇f; the lecture's (and PyTorch's) rule adds the whole gradient: g ← βg + ∇f(x).",
        functions=_rules(lambda rule: rules.ema_momentum(rule, start="zero")),
        tree=_ema_formula,
        kinds=NUMERIC,
    ),
    Change(
        "ema-momentum-from-gradient",
        0.25,
        "You used momentum as a moving average, g ← βg + (1−β)∇f (from g₀ = ∇f(x₀)); the rule adds the whole gradient: g ← βg + ∇f(x).",
        misconception="ema-momentum",
        functions=_rules(lambda rule: rules.ema_momentum(rule, start="gradient")),
        kinds=NUMERIC,
    ),
    Change(
        "forgot-beta",
        0.25,
        "You left out β: the previous direction is scaled by β before the new gradient is added, g ← βg + ∇f(x).",
        names=_with_names(beta=lambda v: 1),
        functions=_rules_any_beta(rules.forgot_beta),
        kinds=NUMERIC,
    ),
    Change(
        "no-momentum",
        0.25,
        "You took a plain gradient step: momentum also carries the previous direction, g ← βg + ∇f(x).",
        names=_with_names(beta=lambda v: 0),
        functions=_rules_any_beta(rules.without_momentum),
        kinds=NUMERIC,
    ),
    Change(
        "not-nesterov",
        0.5,
        "This is the heavy-ball momentum step; Nesterov (as in PyTorch) steps along ∇f + β·b, looking ahead with the new buffer.",
        functions=_rules(rules.without_nesterov, ("nesterov",)),
        kinds=NUMERIC,
    ),
    Change(
        "rmsprop-no-one-minus-alpha",
        0.25,
        "RMSprop's average weighs the new squared gradient by (1 − α): v ← αv + (1 − α)g², not αv + g².",
        functions=_rules(rules.rms_without_one_minus_alpha, ("rmsprop",)),
        kinds=NUMERIC,
    ),
    Change(
        "no-bias-correction",
        0.25,
        "You skipped Adam's bias correction: divide m by (1 − β₁ᵗ) and v by (1 − β₂ᵗ) before the step.",
        functions=_rules(rules.without_bias_correction, ("adam",)),
        kinds=NUMERIC,
    ),
    Change(
        "no-adaptive-scaling",
        0.25,
        "You took a plain gradient step x − η∇f; this method divides each coordinate's step by the root of its running average of squared gradients.",
        functions=_rules(rules.without_adaptive_scaling, ("adam", "rmsprop", "adagrad")),
        kinds=NUMERIC,
    ),
    Change(
        "adam-t-from-zero",
        0.25,
        "Adam counts steps from t = 1: the first step divides by 1 − β₁¹ and 1 − β₂¹, the second by 1 − β₁² and 1 − β₂².",
        functions=_rules(rules.bias_correction_from_zero, ("adam",)),
        kinds=NUMERIC,
    ),
    # Step-size schedules, gradient clipping, AdamW's decay and AMSGrad: one link of the rule changed.
    Change(
        "no-schedule",
        0.25,
        "You kept the learning rate fixed: with a schedule each update t uses its own rate η_t.",
        functions=_rules(rules.without_schedule, (*RULE_MAKERS, "adamw")),
        kinds=NUMERIC,
    ),
    Change(
        "schedule-off-by-one",
        0.5,
        "Your schedule is one update ahead: t counts the updates made before, so the first update uses η₀ = η.",
        functions=_rules(rules.schedule_from_one, (*RULE_MAKERS, "adamw")),
        kinds=NUMERIC,
    ),
    Change(
        "no-clipping",
        0.25,
        "You stepped along the whole gradient: clip it first, so that no step is longer than η·c.",
        functions=_rules(rules.without_clipping, (*RULE_MAKERS, "adamw")),
        kinds=NUMERIC,
    ),
    Change(
        "clip-by-value-for-norm",
        0.25,
        "You clipped each component to [−c, c]; clipping by norm keeps the direction and shortens g to length c.",
        functions={
            **_rules(rules.clip_value_for_norm, (*RULE_MAKERS, "adamw")),
            **_replace("clip_by_norm", lambda vector, c: FUNCTIONS["clip"](vector, -float(c), float(c))),
        },
        kinds=NUMERIC,
    ),
    Change(
        "clip-by-norm-for-value",
        0.25,
        "You shortened the whole gradient to length c; clipping by value clips each component to [−c, c] on its own.",
        functions=_rules(rules.clip_norm_for_value, (*RULE_MAKERS, "adamw")),
        kinds=NUMERIC,
    ),
    Change(
        "coupled-weight-decay",
        0.25,
        "AdamW decays the weights apart from the gradient, x ← x − η(m̂/(√v̂ + ε) + λx); adding λx to the "
        "gradient (Adam's L2) divides the decay by √v̂ too.",
        functions=_rules(rules.coupled_weight_decay, ("adamw",)),
        kinds=NUMERIC,
    ),
    Change(
        "no-amsgrad",
        0.25,
        "AMSGrad divides by the root of the largest v̂ so far, max(v_max, v), not by the latest v̂.",
        functions=_rules(rules.without_amsgrad, ("adam", "adamw")),
        kinds=NUMERIC,
    ),
    # The gradient of a loss over a data set.
    Change(
        "loss-sum-not-mean",
        0.25,
        "You summed over the data set; the loss is the mean over its n points, so divide the sum by n.",
        misconception="sum-not-mean",
        functions={**_keyword("loss_gradient", reduction="sum"), **_keyword("loss_value", reduction="sum")},
        kinds=NUMERIC,
    ),
    Change(
        "forgot-factor-two",
        0.5,
        "The derivative of (ŷ − y)² is 2(ŷ − y)·∂ŷ: you left out the factor 2.",
        functions={"loss_gradient": _half_mse},
        kinds=NUMERIC,
    ),
    # Where and what.
    Change(
        "wrong-point-next",
        0,
        "You evaluated at a different point from the one asked for; check which point the question names.",
        misconception="wrong-point",
        tree=_shifted_points(1),
        kinds=NUMERIC,
    ),
    Change(
        "wrong-point-previous",
        0,
        "You evaluated at a different point from the one asked for; check which point the question names.",
        misconception="wrong-point",
        tree=_shifted_points(-1),
        kinds=NUMERIC,
    ),
    Change(
        "labels-swapped",
        0,
        "You exchanged two labels: where you wrote “{b}” it is “{a}”, and the other way round.",
        output=_swapped_labels,
        kinds=frozenset({"labels"}),
    ),
)

CHANGES: dict[str, Change] = {change.name: change for change in CATALOGUE}
assert len(CHANGES) == len(CATALOGUE), "catalogue names must be unique"


def apply(change: Change, expression: str, params: Mapping[str, Any]) -> list[tuple[Any, dict[str, str]]]:
    """The answers ``expression`` gives under ``change`` (none when it does not apply or fails)."""
    names = change.names(params) if change.names else dict(params)
    functions = dict(FUNCTIONS)
    for name, wrap in change.functions.items():
        if name in functions:
            functions[name] = wrap(functions[name])
    texts = [expression]
    if change.tree is not None:
        rewritten = [ast.unparse(tree) for tree in change.tree(language.compile_expression(expression))]
        texts = rewritten or texts  # nothing to rewrite: the change's other parts still apply
    results: list[tuple[Any, dict[str, str]]] = []
    for text in texts:
        try:
            value = _plain(language.evaluate(text, names, functions))
        except (_NotApplicable, language.SpecExpressionError, ValueError, TypeError, ArithmeticError):
            continue
        except Exception:  # noqa: BLE001 - a change may break the core in any way; it then does not apply
            continue
        if change.output is None:
            results.append((value, {}))
        else:
            results.extend(change.output(value))
    return results


def _plain(value: Any) -> Any:
    return value if callable(value) else plain(value)


def search_answers(
    expression: str,
    kind: str,
    params: Mapping[str, Any],
    reference: Any,
    course: Mapping[str, Mapping[str, Any]] | None = None,
    render: Callable[[str, Mapping[str, Any]], str] | None = None,
) -> tuple[Found, ...]:
    """Every change's answer for one part of one variant that differs from the reference.

    Args:
        expression: the part's reference expression.
        kind: the part's answer type (changes limited to other types are skipped).
        params: the variant's parameters.
        reference: the reference answer (a change giving it does not apply here).
        course: the course's misconception entries (credit and feedback override the catalogue's).
        render: fills ``{{name}}`` with the parameters (the spec's own renderer).
    """
    from grader.checking.compare import plain_equal

    found: list[Found] = []
    for change in CATALOGUE:
        if change.kinds is not None and kind not in change.kinds:
            continue
        for answer, fill in apply(change, expression, params):
            if not _comparable(answer, reference, kind):
                continue
            if plain_equal(answer, reference):
                continue
            entry = (course or {}).get(change.misconception, {})
            general = change.name == change.misconception and not fill  # the course's sentence for the id fits
            sentence = str(entry.get("feedback", change.sentence)) if general else change.sentence
            text = render(sentence, params) if render else sentence
            for key, value in fill.items():
                text = text.replace("{" + key + "}", value)
            credit = float(entry.get("credit", change.credit))
            found.append(Found(change, answer, credit, _tidy(text)))
    return tuple(found)


def searcher(
    expression: str,
    kind: str,
    params: Mapping[str, Any],
    reference: Any,
    course: Mapping[str, Mapping[str, Any]],
    render: Callable[[str, Mapping[str, Any]], str] | None,
) -> Callable[[], tuple[Misconception, ...]]:
    """The catalogue's answers for one part of one variant, computed on first use and kept (thread-safe)."""
    lock = threading.Lock()
    kept: list[tuple[Misconception, ...]] = []

    def searched() -> tuple[Misconception, ...]:
        with lock:
            if not kept:
                found = search_answers(expression, kind, params, reference, course, render)
                kept.append(tuple(Misconception(f.id, f.answer, f.credit, f.feedback) for f in found))
            return kept[0]

    return searched


def _tidy(text: str) -> str:
    """A sentence whose unfilled ``{{name}}`` placeholders (a parameter this variant lacks) are dropped."""
    return re.sub(r"\{\{\s*\w+\s*\}\}", "", text)


def _comparable(answer: Any, reference: Any, kind: str) -> bool:
    """Same shape as the reference (a sequence may differ in length; a labels answer is a list of text)."""
    if kind == "sequence":  # any length, but items of the reference's shape (numbers, or points of d numbers)
        return isinstance(answer, list) and bool(answer) and {_shape(a) for a in answer} == {_shape(reference[0])}
    if kind == "interval":
        return type(answer) is type(reference)
    if isinstance(reference, list):
        return isinstance(answer, list) and _shape(answer) == _shape(reference)
    if kind == "labels" or kind == "choice":
        return isinstance(answer, str)
    return _is_number(answer) and not isinstance(answer, bool)


def _shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):
        return (len(value), *(_shape(value[0]) if value else ()))
    return ()
