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
  two labels exchanged, a count plus one);
* ``variants``: several misreadings of the parameters, each with the words
  that say which (f = (x + 2)² read for x² + 2, another variant's f, η from
  another exercise);
* ``answers``: an answer taken from elsewhere (another part's reference).

What a change may use besides the variant's parameters is its
:class:`Context`: the other values the spec's parameters take, the values
parameters of the same kind take in other exercises, and the other parts'
references. Formula parts (``type: expression``) have a catalogue of their
own, :data:`FORMULA_CHANGES`, applied to the reference formula with sympy
(a sign lost, a factor missing or doubled, the chain rule stopped one link
early, a spurious ½, the function for its derivative, …).

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
import dataclasses
import functools
import inspect
import math
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader import optim
from grader.answers import TYPES
from grader.calculus import cached_formula
from grader.checking.key import Misconception
from grader.checking.reading import Interval
from grader.optim import rules
from grader.specs import language
from grader.specs.functions import FUNCTIONS, plain

LEARNING_RATES = ("eta", "lr", "learning_rate", "step_size")
"""Parameter names read as the learning rate η (the η changes substitute them)."""

MOMENTUM_FACTORS = ("beta", "momentum", "mu")
"""Parameter names read as the momentum factor β."""

FAMILIES: dict[str, tuple[str, ...]] = {
    "eta": LEARNING_RATES,
    "beta": MOMENTUM_FACTORS,
    "alpha": ("alpha",),
    "beta1": ("beta1",),
    "beta2": ("beta2",),
}
"""Parameters of the same kind, whatever a spec calls them (a value of one may be taken for another's)."""

SYMBOLS = {"eta": "η", "beta": "β", "alpha": "α", "beta1": "β₁", "beta2": "β₂"}


def family(name: str) -> str | None:
    """The family of a parameter name (``lr`` → ``eta``), also of its plural (``etas``), or None."""
    for key, names in FAMILIES.items():
        if name in names or (name.endswith("s") and name[:-1] in names):
            return key
    return None


def _rule_makers() -> tuple[str, ...]:
    """The spec functions that build an update rule from a learning rate (``gd(lr, …)``, ``adam(lr, …)``, and
    any added later): their first argument is ``lr`` and they return a ``Rule``."""
    makers = []
    for name, function in FUNCTIONS.items():
        try:
            arguments = list(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            continue
        returns = getattr(function, "__annotations__", {}).get("return")
        if arguments[:1] == ["lr"] and returns in ("Rule", rules.Rule):
            makers.append(name)
    return tuple(makers)


RULE_MAKERS = _rule_makers()

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
    variants: Callable[[Mapping[str, Any], Context], Iterator[tuple[dict[str, Any], dict[str, str]]]] | None = None
    answers: Callable[[Mapping[str, Any], Context], Iterator[tuple[Any, dict[str, str]]]] | None = None
    reveals: bool = False  # its sentence shows parameter values (never said where they are hidden inputs)

    def __post_init__(self) -> None:
        if not self.misconception:
            object.__setattr__(self, "misconception", self.name)


@dataclass(frozen=True)
class Context:
    """What a change may use besides the variant's parameters (all optional: a change needing what is not
    given does not apply)."""

    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # this spec's parameters: their values
    elsewhere: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # a family: its values in other specs
    siblings: Callable[[], Mapping[str, Any]] | None = None  # the other parts' references in this variant
    variables: tuple[str, ...] = ()  # a formula part's variables (the first is the one differentiated)
    derive: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None  # derived values again, for changed ones
    secret: bool = False  # the parameters are a code exercise's hidden inputs: no sentence may show them


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
    families = FAMILIES

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
DERIVED_VERSION = 2  # of the formulas derived below and kept in the derivative cache: raise it when they change


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


@functools.lru_cache(maxsize=256)
def constant_differentiated(text: str) -> str | None:
    return cached_formula(f"constant_differentiated.{DERIVED_VERSION}", text, _constant_differentiated)


def _constant_differentiated(text: str) -> str | None:
    """f + c·(x + y + …) for f with the additive constant c: its derivative has c where the constant's 0 belongs
    (2x + 2 for x² + 2)."""
    import sympy

    expression = _sympy_of(text)
    constant, _ = expression.as_coeff_Add()
    if constant == 0 or not expression.free_symbols:
        return None
    return str(expression + constant * sympy.Add(*sorted(expression.free_symbols, key=str)))


@functools.lru_cache(maxsize=256)
def misreadings(text: str) -> tuple[str, ...]:
    found = cached_formula(f"misreadings.{DERIVED_VERSION}", text, lambda t: list(_misreadings(t)))
    return tuple(found or ())


def _misreadings(text: str) -> list[str]:
    """Formulas a student may read for f: a power and the constant under one bracket ((x + 2)² for x² + 2), a
    power's exponent read as its coefficient too (2x² + 2 for x² + 2)."""
    import sympy

    expression = _sympy_of(text)
    constant, rest = expression.as_coeff_Add()
    terms = sympy.Add.make_args(rest)
    powers = [t for t in terms if isinstance(t, sympy.Pow) and t.exp.is_Integer and t.exp > 1 and t.base.free_symbols]
    found = []
    for power in powers:
        if constant != 0:
            found.append(expression - constant - power + (power.base + constant) ** power.exp)
        found.append(expression - power + power.exp * power)
    texts = [str(f) for f in found if sympy.simplify(f - expression) != 0]
    return list(dict.fromkeys(texts))


def _formula_parameter(value: Any) -> bool:
    """A parameter that is a formula with variables (``"x**2 + 2"``), not a label or a number."""
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        return bool(_variables(value))
    except Exception:  # noqa: BLE001 - any text that is not a formula of the course
        return False


@functools.lru_cache(maxsize=512)
def _variables(text: str) -> frozenset[str]:
    from grader.expressions import DEFAULT_VARIABLES, parse

    return parse(text, DEFAULT_VARIABLES | _FORMULA_NAMES).names


_SIGMOID = re.compile(r"1/\(1 \+ exp\(-(\w+(?:\*\w+)*|\([^()]*\))\)\)")


def pretty(text: str) -> str:
    """A formula as students read it: ``2*x**2 + 2`` → ``2x^2 + 2``, ``1/(1 + exp(-a*w))`` → ``σ(a·w)``."""
    shown = _SIGMOID.sub(lambda m: f"σ({m.group(1).strip('()')})", text).replace("**", "^")
    shown = re.sub(r"(?<![\w.])(\d+)\*(?=[A-Za-z(])", r"\1", shown)
    return shown.replace("*", "·")


# Misreadings of the parameters (``variants``) ----------------------------------------------------


def _misread_functions(params: Mapping[str, Any], context: Context) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    for name, value in params.items():
        if _formula_parameter(value):
            for wrong in misreadings(value):
                yield {**params, name: wrong}, {"a": pretty(wrong), "b": pretty(value)}


def _sibling_functions(params: Mapping[str, Any], context: Context) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """Another value the spec gives the same formula parameter (another variant's f), or another formula
    parameter of the spec in the same variables (f1 for f2)."""
    formulas = {name: value for name, value in params.items() if _formula_parameter(value)}
    for name, value in formulas.items():
        others = [c for c in context.choices.get(name, ()) if _formula_parameter(c) and c != value]
        others += [v for n, v in formulas.items() if n != name and _variables(v) == _variables(value)]
        for other in dict.fromkeys(others):
            if _variables(other) == _variables(value):
                yield {**params, name: other}, {"a": pretty(other), "b": pretty(value)}


def _other_parameters(params: Mapping[str, Any], context: Context) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """A learning rate, momentum factor, α or β of another variant or another exercise where this one's belongs."""
    for name, value in params.items():
        kind = family(name)
        if kind is None or not _is_number(value):
            continue
        pool = [*context.choices.get(name, ()), *context.elsewhere.get(kind, ())]
        for other in sorted({float(v) for v in pool if _is_number(v)}):
            if not math.isclose(other, value, rel_tol=1e-12, abs_tol=1e-15):
                yield (
                    {**params, name: other},
                    {"name": SYMBOLS[kind], "a": _number_text(other), "b": _number_text(value)},
                )


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _sibling_answers(params: Mapping[str, Any], context: Context) -> Iterator[tuple[Any, dict[str, str]]]:
    if context.siblings is not None:
        for part, reference in context.siblings().items():
            if reference is not None:
                yield reference, {"a": part}


def _normalised_vectors(params: Mapping[str, Any], context: Context) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """The given gradient (a vector parameter ``g``, ``grad`` or ``gradient``) scaled to length 1."""
    changed = dict(params)
    for name in ("g", "grad", "gradient"):
        value = params.get(name)
        if isinstance(value, list) and len(value) > 1 and all(_is_number(v) for v in value):
            length = math.sqrt(sum(v * v for v in value))
            if length > 0 and not math.isclose(length, 1.0):
                changed[name] = [v / length for v in value]
    if changed != dict(params):
        yield changed, {}


# Rules with one more link changed ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Displacement:
    """A rule whose new point is its step alone, the current point left out: x_{t+1} = −η∇f(x_t)."""

    rule: Any

    @property
    def lr(self) -> float:
        return self.rule.lr

    def init(self, x: Any) -> Any:
        return self.rule.init(x)

    def update(self, x: Any, g: Any, state: Any) -> tuple[np.ndarray, Any]:
        moved, state = self.rule.update(x, g, state)
        return np.asarray(moved, dtype=np.float64) - np.asarray(x, dtype=np.float64), state


@dataclass(frozen=True)
class _AdamOutput:
    """Adam's link with its moments kept by ``link`` (perhaps with β and 1 − β swapped) and its output computed
    from them here: bias-corrected by 1 − βᵗ (``correction="power"``) or by (1 − β)ᵗ (``"of-difference"``)."""

    link: Any  # a ScaleByAdam
    swapped: bool = False
    correction: str = "power"

    def init(self, x: Any) -> Any:
        return self.link.init(x)

    def update(self, u: Any, state: Any, x: Any) -> tuple[np.ndarray, Any]:
        beta1, beta2 = self.link.beta1, self.link.beta2
        averaging = dataclasses.replace(self.link, bias_correction=False)
        if self.swapped:
            averaging = dataclasses.replace(averaging, beta1=1 - beta1, beta2=1 - beta2)
        _, new = averaging.update(u, state, x)
        t = new.step
        second = new.v if getattr(new, "v_max", None) is None else new.v_max
        if self.correction == "of-difference":
            m_hat, v_hat = new.m / (1 - beta1) ** t, second / (1 - beta2) ** t
        else:
            m_hat, v_hat = new.m / (1 - beta1**t), second / (1 - beta2**t)
        eps = self.link.eps
        inside = getattr(self.link, "eps_inside", False)
        return m_hat / (np.sqrt(v_hat + eps) if inside else np.sqrt(v_hat) + eps), new


def _on_links(kind: type, change: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A rule with each link of ``kind`` changed (None where the rule has none: the change does not apply)."""
    return lambda rule: rules.rewire(rule, lambda link: change(link) if isinstance(link, kind) else link)


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


def _shifted_down(batches: list[list[int]], n: int) -> list[list[int]]:
    """Each index taken one lower (point i − 1 for point i); point 0 does not exist and is dropped."""
    return [kept for kept in ([i - 1 for i in b if i - 1 >= 1] for b in batches) if kept]


def _batch_shifted_down(vectors: Any, indices: Any, reduction: str = "mean") -> Any:
    kept = [int(i) - 1 for i in indices if int(i) - 1 >= 1]
    if not kept:
        raise _NotApplicable
    return plain(optim.batch_gradient(vectors, kept, one_based=True, reduction=reduction))


# Counts: rounding and what is counted ---------------------------------------------------------------


def _round_half_up(x: float) -> int:
    return math.floor(float(x) + 0.5)


def _count(reference_floor: bool, count: Callable[[float], Any]) -> dict[str, Wrapper]:
    """``updates_per_epoch`` (the ceiling, or the floor with drop_last) computed as ``count(n / B)`` where the spec
    rounds that way (``reference_floor``: only where it asks for drop_last)."""

    def updates(n: Any, b: Any, drop_last: bool = False) -> Any:
        if bool(drop_last) != reference_floor:
            raise _NotApplicable
        return count(int(n) / int(b))

    return {"updates_per_epoch": lambda original: updates}


def _counted(pick: Callable[[Any, Any], Any]) -> dict[str, Wrapper]:
    return {"updates_per_epoch": lambda original: lambda n, b, drop_last=False: pick(n, b)}


def _division_in_rounding(side: str) -> Callable[[ast.expr], Iterator[ast.expr]]:
    """``ceil(n / b)`` or ``floor(n / b)`` as ``n`` (the size) or ``b`` (the batch) alone."""

    def rewrite(tree: ast.expr) -> Iterator[ast.expr]:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("ceil", "floor")
                and len(node.args) == 1
                and isinstance(node.args[0], ast.BinOp)
                and isinstance(node.args[0].op, ast.Div)
            ):
                kept = node.args[0].left if side == "left" else node.args[0].right
                yield _replaced(tree, node, kept)

    return rewrite


def _replaced(tree: ast.expr, target: ast.AST, replacement: ast.expr) -> ast.expr:
    """A copy of ``tree`` with the node ``target`` (a node of ``tree``) replaced by a copy of ``replacement``."""
    copied = copy.deepcopy(tree)
    twin = next(new for old, new in zip(ast.walk(tree), ast.walk(copied), strict=True) if old is target)

    class Replace(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> ast.AST:
            return copy.deepcopy(replacement) if node is twin else super().visit(node)

    return ast.fix_missing_locations(Replace().visit(copied))


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


def _neighbours_swapped(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    """The labels of two neighbouring cases exchanged (the others kept)."""
    if not isinstance(answer, list) or not all(isinstance(a, str) for a in answer):
        return
    for i in range(len(answer) - 1):
        if answer[i] != answer[i + 1]:
            swapped = [*answer[:i], answer[i + 1], answer[i], *answer[i + 2 :]]
            yield swapped, {"a": answer[i], "b": answer[i + 1]}


def _normalised(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    if isinstance(answer, list) and len(answer) > 1 and all(_is_number(v) for v in answer):
        length = math.sqrt(sum(v * v for v in answer))
        if length > 0 and not math.isclose(length, 1.0):
            yield [v / length for v in answer], {}


# Intervals ------------------------------------------------------------------------------------------


def _ends(closing: bool) -> Callable[[Any], Iterator[tuple[Any, dict[str, str]]]]:
    """The interval with its ends closed otherwise: with an end closed that is open (``closing``), or only
    ends opened that are closed."""

    def changed(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
        if not isinstance(answer, Interval):
            return
        for low_closed in (False, True) if answer.low is not None else (False,):
            for high_closed in (False, True) if answer.high is not None else (False,):
                if (low_closed, high_closed) == (answer.low_closed, answer.high_closed):
                    continue
                closes = (low_closed and not answer.low_closed) or (high_closed and not answer.high_closed)
                if closes == closing:
                    yield Interval(answer.low, answer.high, low_closed, high_closed), {}

    return changed


def _bounds(make: Callable[[Interval], list[Interval]]) -> Callable[[Any], Iterator[tuple[Any, dict[str, str]]]]:
    def changed(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
        if isinstance(answer, Interval):
            for interval in make(answer):
                yield interval, {}

    return changed


def _lower_dropped(i: Interval) -> list[Interval]:
    return [Interval(None, i.high, False, i.high_closed)] if i.low is not None else []


def _lower_mirrored(i: Interval) -> list[Interval]:
    return [Interval(-i.high, i.high, i.high_closed, i.high_closed)] if i.high is not None and i.high > 0 else []


def _upper_dropped(i: Interval) -> list[Interval]:
    return [Interval(i.low, None, i.low_closed, False)] if i.high is not None else []


def _beyond(i: Interval) -> list[Interval]:
    """Where the interval ends and beyond: (b, ∞) and [b, ∞) for (a, b) (for rates: where it diverges)."""
    return [Interval(i.high, None, closed, False) for closed in (False, True)] if i.high is not None else []


def _both_upper_ends(answer: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    if isinstance(answer, Interval):
        yield answer, {}
        if answer.high is not None:
            yield Interval(answer.low, answer.high, answer.low_closed, not answer.high_closed), {}


def _monotone_rates(f: Any) -> Interval:
    """Where GD on a quadratic converges without passing the minimum: 0 < η ≤ 1/f''."""
    return Interval(0.0, 1.0 / FUNCTIONS["curvature"](f), False, True)


# Rewritten expressions --------------------------------------------------------------------------------


def _without_current_point(tree: ast.expr) -> Iterator[ast.expr]:
    """``x - step`` (or ``x + step``), a parameter minus (or plus) something, as the step alone: −step (or step)."""
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Sub | ast.Add) and isinstance(tree.left, ast.Name):
        step = copy.deepcopy(tree.right)
        yield ast.fix_missing_locations(ast.UnaryOp(ast.USub(), step) if isinstance(tree.op, ast.Sub) else step)


def _one_sign_flipped(tree: ast.expr) -> Iterator[tuple[ast.expr, dict[str, str]]]:
    """One sum or difference with the sign of one of its terms flipped: ``a + b`` as ``a − b`` or ``b − a``,
    ``a − b`` as ``−a − b`` (``a + b`` is the sign error of the whole step)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            left, right = node.left, node.right
            shown_left, shown_right = ast.unparse(left), ast.unparse(right)
            if isinstance(node.op, ast.Add):
                changes = [
                    (ast.BinOp(left, ast.Sub(), right), f"{shown_right} is added, not subtracted"),
                    (ast.BinOp(right, ast.Sub(), left), f"{shown_left} is added, not subtracted"),
                ]
            else:
                changes = [(ast.BinOp(ast.UnaryOp(ast.USub(), left), ast.Sub(), right), f"{shown_left} is positive")]
            for changed, said in changes:
                yield _replaced(tree, node, copy.deepcopy(changed)), {"a": _spoken(said)}


def _spoken(text: str) -> str:
    """Spec text as a sentence shows it: ``scale(beta, g_prev)`` → ``β·g_prev``."""
    text = re.sub(r"scale\(([^,()]+), ([^()]+)\)", r"\1·\2", text)
    text = re.sub(r"gradient\(f, ([^()]+)\)", r"∇f(\1)", text)
    for name, symbol in (("beta", "β"), ("eta", "η"), ("alpha", "α"), ("lr", "η")):
        text = re.sub(rf"\b{name}\b", symbol, text)
    return text.replace(" * ", "·")


def _point_arguments(tree: ast.expr) -> set[int]:
    """The ids of the nodes that are the point argument of gradient, hessian or value (wrong-point shifts those)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in POINT_USERS:
            if len(node.args) >= 2:
                found.add(id(node.args[1]))
    return found


def _shifted_indices(offset: int) -> Callable[[ast.expr], Iterator[ast.expr]]:
    """Each constant index ``xs[k]`` (not a point of gradient, hessian or value) taken at ``k + offset``."""

    def rewrite(tree: ast.expr) -> Iterator[ast.expr]:
        points = _point_arguments(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Subscript)
                and id(node) not in points
                and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, int)
                and not isinstance(node.slice.value, bool)
            ):
                index = node.slice.value
                if index >= 0 and index + offset >= 0 or index < 0 and index + offset < 0:
                    shifted = ast.Subscript(copy.deepcopy(node.value), ast.Constant(index + offset), ast.Load())
                    yield _replaced(tree, node, shifted)

    return rewrite


def _constant(node: ast.expr | None) -> int | None:
    """A slice bound as an int (None: absent or not a constant)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant(node.operand)
        return None if inner is None else -inner
    return None


def _windows(tree: ast.expr) -> Iterator[tuple[ast.expr, dict[str, str]]]:
    """A slice with constant bounds taken elsewhere, keeping its length: the first n items where the last n are
    asked for (and the reverse), or one place earlier or later."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)) or node.slice.step is not None:
            continue
        low, high = node.slice.lower, node.slice.upper
        lo, hi = _constant(low), _constant(high)
        if (low is not None and lo is None) or (high is not None and hi is None):
            continue
        windows: list[tuple[int | None, int | None, str]] = []
        if lo is not None and lo > 0 and high is None:  # xs[k:]: all but the first k
            windows.append((None, -lo, "the first items instead of the last"))
        if lo is not None and lo < 0 and high is None:  # xs[-n:]: the last n
            windows.append((None, -lo, f"the first {-lo} instead of the last {-lo}"))
        if low is None and hi is not None and hi > 0:  # xs[:n]: the first n
            windows.append((-hi, None, f"the last {hi} instead of the first {hi}"))
        if lo is not None and hi is not None and 0 <= lo < hi:
            if lo > 0:
                windows.append((0, hi - lo, f"the first {hi - lo} instead of items {lo}–{hi - 1}"))
            windows.append((lo + 1, hi + 1, "each one place later"))
            if lo > 0:
                windows.append((lo - 1, hi - 1, "each one place earlier"))
        for start, stop, said in windows:
            bounds = [None if v is None else ast.Constant(v) for v in (start, stop)]
            window = ast.Subscript(copy.deepcopy(node.value), ast.Slice(*bounds), ast.Load())
            yield _replaced(tree, node, window), {"a": said}


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
LABELS = frozenset({"labels"})  # a misread f changes the cases' labels too

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
    # The function misread: its constant differentiated, brackets or a factor read into it, another function.
    Change(
        "constant-differentiated",
        0.25,
        "You differentiated the constant term of f as if it were a multiple of x: the derivative of a constant is 0, "
        "so it adds nothing to f′.",
        functions=_objective(DERIVATIVE_USERS, constant_differentiated),
        kinds=NUMERIC | LABELS,
    ),
    # A term of the update dropped.
    Change(
        "dropped-current-point",
        0,
        "You left out the current point: the update is x ← x − η∇f(x); −η∇f(x) alone is only the step.",
        functions=_rules(_Displacement),
        tree=_without_current_point,
        kinds=NUMERIC,
    ),
    Change(
        "lost-sign",
        0.25,
        "One sign is wrong: {a}.",
        tree=_one_sign_flipped,
        kinds=NUMERIC,
    ),
    # The answer to another part, or another quantity.
    Change(
        "answer-to-another-part",
        0,
        "This is the answer to part “{a}”, not to this one: read again what this part asks for.",
        answers=_sibling_answers,
    ),
    Change(
        "normalised-direction",
        0.25,
        "You scaled the vector to length 1; the update uses −∇f itself (and the step −η∇f), not a unit vector.",
        output=_normalised,
        kinds=frozenset({"vector"}),
    ),
    Change(
        "normalised-gradient",
        0.25,
        "You divided the gradient by its length; gradient descent steps along −η∇f itself, not a unit vector.",
        misconception="normalised-direction",
        variants=_normalised_vectors,
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
    Change(
        "index-shift-next",
        0.25,
        "You took the item one place later than the one asked for: count the places again (the first is 0 for x₀).",
        misconception="index-shift",
        tree=_shifted_indices(1),
        kinds=NUMERIC,
    ),
    Change(
        "index-shift-previous",
        0.25,
        "You took the item one place earlier than the one asked for: count the places again (the first is 0 for x₀).",
        misconception="index-shift",
        tree=_shifted_indices(-1),
        kinds=NUMERIC,
    ),
    Change(
        "wrong-window",
        0.25,
        "You gave other items than those asked for: {a}.",
        tree=_windows,
        kinds=NUMERIC,
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
        "batch-index-shift",
        0.25,
        "You took each point one place before the one named (point 1 for point 2): the points are numbered from 1.",
        misconception="index-shift",
        functions={**_replace("batch_gradient", _batch_shifted_down), **_epoch_batches(_shifted_down)},
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
    Change(
        "round-for-ceil",
        0.5,
        "You rounded n/B to the nearest whole number; the count rounds up: a last, smaller batch still counts.",
        functions={**_replace("ceil", _round_half_up), **_count(False, _round_half_up)},
        kinds=NUMERIC,
    ),
    Change(
        "ceil-for-floor",
        0.5,
        "You rounded up where the count rounds down: the last, incomplete batch is dropped here.",
        functions={**_replace("floor", FUNCTIONS["ceil"]), **_count(True, FUNCTIONS["ceil"])},
        kinds=NUMERIC,
    ),
    Change(
        "round-for-floor",
        0.5,
        "You rounded n/B to the nearest whole number; here the count rounds down (the last, incomplete batch is dropped).",
        functions={**_replace("floor", _round_half_up), **_count(True, _round_half_up)},
        kinds=NUMERIC,
    ),
    Change(
        "size-for-count",
        0,
        "That is the size of the data set, n; the number of updates is n divided by the batch size B, rounded up.",
        functions=_counted(lambda n, b: n),
        tree=_division_in_rounding("left"),
        kinds=NUMERIC,
    ),
    Change(
        "batch-size-for-count",
        0,
        "That is the batch size B; the number of updates per epoch is n/B, the data set size divided by it, rounded up.",
        functions=_counted(lambda n, b: b),
        tree=_division_in_rounding("right"),
        kinds=NUMERIC,
    ),
    # Intervals: an end open or closed, an end wrong, another region.
    Change(
        "ends-closed",
        0.5,
        "Check the ends: an end where the method does not converge (η = 0 does not move; at the upper end it "
        "oscillates for ever) is not in the interval.",
        misconception="boundary-included",
        output=_ends(closing=True),
        kinds=frozenset({"interval"}),
    ),
    Change(
        "ends-opened",
        0.5,
        "Check the ends: the interval includes its end (a closed bracket), and you left it out.",
        misconception="boundary-excluded",
        output=_ends(closing=False),
        kinds=frozenset({"interval"}),
    ),
    Change(
        "lower-bound-dropped",
        0.5,
        "Your upper end is right, but the interval has a lower end too: a learning rate must be positive (η > 0).",
        misconception="interval-end-wrong",
        output=_bounds(_lower_dropped),
        kinds=frozenset({"interval"}),
    ),
    Change(
        "lower-bound-mirrored",
        0.25,
        "Your upper end is right, the lower one is not: the interval does not reach below 0, however |1 − η f″| < 1 "
        "is solved.",
        misconception="interval-end-wrong",
        output=_bounds(_lower_mirrored),
        kinds=frozenset({"interval"}),
    ),
    Change(
        "upper-bound-dropped",
        0.25,
        "Your lower end is right, but the interval has an upper end too: too large a step overshoots and diverges.",
        misconception="interval-end-wrong",
        output=_bounds(_upper_dropped),
        kinds=frozenset({"interval"}),
    ),
    Change(
        "divergence-region",
        0,
        "That is where gradient descent does not converge (from the upper end on); the question asks where it does.",
        output=_bounds(_beyond),
        kinds=frozenset({"interval"}),
    ),
    Change(
        "monotone-range-only",
        0.25,
        "That is where the iterates approach the minimum without passing it; gradient descent also converges while "
        "it oscillates, up to η < 2/f″.",
        functions=_replace("converging_rates", _monotone_rates),
        output=_both_upper_ends,
        kinds=frozenset({"interval"}),
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
    Change(
        "beta-swapped",
        0.25,
        "You swapped β and 1 − β: the previous value is weighed by β, the new gradient by 1 − β (for momentum as in "
        "the lecture, by 1).",
        names=_with_names(beta=lambda v: 1 - v, alpha=lambda v: 1 - v, beta1=lambda v: 1 - v, beta2=lambda v: 1 - v),
        kinds=NUMERIC,
    ),
    Change(
        "beta-swapped-in-rule",
        0.25,
        "You swapped β and 1 − β: the previous value is weighed by β, the new gradient by 1 − β (for momentum as in "
        "the lecture, by 1).",
        misconception="beta-swapped",
        functions={
            **_rules(
                lambda rule: rules.rewire(
                    rule,
                    lambda link: (
                        dataclasses.replace(link, decay=1 - link.decay)
                        if isinstance(link, rules.Trace)
                        else dataclasses.replace(link, alpha=1 - link.alpha, new_weight=link.alpha)
                        if isinstance(link, rules.ScaleByRms)
                        else dataclasses.replace(link, beta1=1 - link.beta1, beta2=1 - link.beta2)
                        if isinstance(link, rules.ScaleByAdam)
                        else link
                    ),
                )
            )
        },
        kinds=NUMERIC,
    ),
    Change(
        "beta-swapped-in-averages",
        0.25,
        "You swapped β and 1 − β in the moving averages: m ← β₁m + (1 − β₁)g keeps most of the old value and adds a "
        "little of the new gradient, not the other way round.",
        misconception="beta-swapped",
        functions={
            **_rules(_on_links(rules.ScaleByAdam, lambda link: _AdamOutput(link, swapped=True))),
            **_rules(
                _on_links(rules.Trace, lambda t: dataclasses.replace(t, decay=1 - t.decay, ema=True, dampening=0.0)),
                ("momentum", "nesterov"),
            ),
        },
        kinds=NUMERIC,
    ),
    Change(
        "bias-correction-power",
        0.25,
        "Adam's bias correction divides by 1 − βᵗ (β to the power t), not by (1 − β)ᵗ.",
        functions=_rules(_on_links(rules.ScaleByAdam, lambda link: _AdamOutput(link, correction="of-difference"))),
        kinds=NUMERIC,
    ),
    Change(
        "bias-correction-next-power",
        0.25,
        "Adam's bias correction at step t divides by 1 − β₁ᵗ and 1 − β₂ᵗ (t = 1 on the first step), not by 1 − βᵗ⁺¹.",
        misconception="bias-correction-power",
        functions=_rules(_on_links(rules.ScaleByAdam, lambda link: dataclasses.replace(link, count_from=2))),
        kinds=NUMERIC,
    ),
    Change(
        "bias-correction-m-only",
        0.25,
        "You corrected m but not v: Adam divides both moments by their 1 − βᵗ (v by 1 − β₂ᵗ) before the step.",
        functions=_rules(lambda rule: rules.bias_correction_of(rule, "m")),
        kinds=NUMERIC,
    ),
    Change(
        "bias-correction-v-only",
        0.25,
        "You corrected v but not m: Adam divides both moments by their 1 − βᵗ (m by 1 − β₁ᵗ) before the step.",
        functions=_rules(lambda rule: rules.bias_correction_of(rule, "v")),
        kinds=NUMERIC,
    ),
    Change(
        "eps-inside-root",
        0.5,
        "ε belongs outside the square root: divide by √v̂ + ε, not by √(v̂ + ε).",
        functions=_rules(rules.eps_moved),
        kinds=NUMERIC,
    ),
    # The function or a parameter misread.
    Change(
        "misread-function",
        0.25,
        "You worked with f = {a}; the function is {b}. Read it again before differentiating.",
        variants=_misread_functions,
        reveals=True,
        kinds=NUMERIC | LABELS,
    ),
    Change(
        "sibling-function",
        0,
        "These are the numbers for f = {a}, not for this exercise's f = {b}: check which function you were given.",
        variants=_sibling_functions,
        reveals=True,
        kinds=NUMERIC | LABELS,
    ),
    Change(
        "other-parameter",
        0.25,
        "You used {name} = {a}; here {name} = {b} (the other value belongs to another exercise or variant).",
        variants=_other_parameters,
        reveals=True,
        kinds=NUMERIC | LABELS,
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
    Change(
        "neighbours-swapped",
        0,
        "You exchanged the labels of two neighbouring cases: “{a}” and “{b}” belong the other way round.",
        misconception="labels-swapped",
        output=_neighbours_swapped,
        kinds=frozenset({"labels"}),
    ),
)

CHANGES: dict[str, Change] = {change.name: change for change in CATALOGUE}
assert len(CHANGES) == len(CATALOGUE), "catalogue names must be unique"


def point_of(expression: str, params: Mapping[str, Any]) -> dict[str, float] | None:
    """The point at which a part's expression evaluates f (``hessian(f, points[0])`` → {x: 1, y: 0}), by the
    names of f's variables; None when it evaluates at none, or at several different points."""
    from grader.calculus import variables_of
    from grader.expressions import parse

    try:
        tree = language.compile_expression(expression)
    except language.SpecExpressionError:
        return None
    found: dict[str, dict[str, float]] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in POINT_USERS):
            continue
        if len(node.args) < 2:
            continue
        try:
            f = language.evaluate(ast.unparse(node.args[0]), params, FUNCTIONS)
            point = np.asarray(language.evaluate(ast.unparse(node.args[1]), params, FUNCTIONS), dtype=np.float64)
            names = variables_of(parse(f))
        except Exception:  # noqa: BLE001 - any expression that gives no point: none is known
            return None
        values = point.reshape(-1).tolist()
        if len(values) != len(names):
            return None
        found[repr(values)] = dict(zip(names, values, strict=True))
    return next(iter(found.values())) if len(found) == 1 else None


# Formulas: the catalogue applied to the reference formula itself ---------------------------------------

FORMULA = frozenset({"expression"})

FORMULA_CHANGES: tuple[Change, ...] = (
    Change("formula-sign", 0.25, "The sign is flipped: your formula is the negative of the right one.",
           misconception="sign-error", kinds=FORMULA),
    Change("lost-sign", 0.25, "One sign inside is wrong: where you have {b}, the formula has {a}.", kinds=FORMULA),
    Change("missing-factor", 0.25, "A factor is missing: the right formula is yours times {a}.", kinds=FORMULA),
    Change(
        "chain-stopped-early",
        0.25,
        "You stopped the chain rule one link early: the derivative of the inner part {a}, that is {b}, is missing as a "
        "factor.",
        misconception="forgot-chain-rule",
        kinds=FORMULA,
    ),
    Change("extra-factor", 0.25, "Your formula has a factor {a} too many.", kinds=FORMULA),
    Change("spurious-half", 0.25, "Your formula has a factor ½ that does not belong: the right one is twice yours.",
           kinds=FORMULA),
    Change(
        "formula-function-for-derivative",
        0,
        "This is the function itself (up to a constant); the question asks for its derivative.",
        misconception="function-for-derivative",
        kinds=FORMULA,
    ),
    Change(
        "differentiated-twice",
        0,
        "You differentiated once more: this is the derivative of the formula asked for.",
        kinds=FORMULA,
    ),
    Change(
        "formula-of-another-part",
        0,
        "This is the answer to part “{a}”, not to this one: read again what this part asks for.",
        misconception="answer-to-another-part",
        kinds=FORMULA,
    ),
)  # fmt: skip
FORMULA_CHANGES_BY_NAME = {change.name: change for change in FORMULA_CHANGES}
MAX_FORMULA_CHANGES = 48  # candidate formulas for one reference


def formula_changes(reference: str, variables: tuple[str, ...]) -> list[tuple[str, str, dict[str, str]]]:
    """The catalogue's formulas for a reference formula in ``variables`` (the first is the one differentiated):
    ``(change name, formula, words)``, derived once per machine by sympy (then kept in the derivative cache)."""
    key = f"{','.join(variables)}|{reference}"
    found = cached_formula(f"formula_changes.{DERIVED_VERSION}", key, _formula_changes)
    return [(name, text, dict(fill)) for name, text, fill in (found or [])]


def _formula_changes(key: str) -> list[list[Any]]:
    import sympy

    from grader.expressions import ExpressionError, parse

    joined, reference = key.split("|", 1)
    names = joined.split(",")
    symbols = {name: sympy.Symbol(name, real=True) for name in names}
    right = parse(reference, names).to_sympy(symbols)
    variable = symbols[names[0]]
    candidates: list[tuple[str, Any, dict[str, str]]] = [("formula-sign", -right, {})]
    integral = sympy.integrate(right, variable)
    if not integral.has(sympy.Integral):
        candidates.append(("formula-function-for-derivative", integral, {}))
    inner = {u for u in sympy.preorder_traversal(right) if variable in u.free_symbols and u != variable and u != right}
    inner |= {-u for u in inner if u.could_extract_minus_sign()}  # -a*w is a node; a*w, the inner part, too
    for part in sorted(inner, key=sympy.default_sort_key):  # d/du where d/dx belongs: the factor du/dx missing
        slope = sympy.diff(part, variable)
        if slope.is_number and slope in (0, 1, -1):
            continue
        fill = {"a": pretty(str(part)), "b": pretty(str(slope))}
        candidates.append(("chain-stopped-early", right / slope, fill))
    for node in sympy.preorder_traversal(right):  # one term of a sum with its sign flipped
        if node.is_Add:
            for term in node.args:
                flipped = right.xreplace({node: node - 2 * term})
                candidates.append(("lost-sign", flipped, {"a": pretty(str(term)), "b": pretty(str(-term))}))
    for factor in sympy.Mul.make_args(right):  # a factor of the product left out, or written twice
        if factor not in (1, -1):
            candidates.append(("missing-factor", right / factor, {"a": pretty(str(factor))}))
            candidates.append(("extra-factor", right * factor, {"a": pretty(str(factor))}))
    candidates.append(("spurious-half", right / 2, {}))
    candidates.append(("extra-factor", 2 * right, {"a": "2"}))
    candidates.append(("differentiated-twice", sympy.diff(right, variable), {}))

    from grader.checking.symbolic import numerically_same

    target = parse(reference, names)
    kept: list[list[Any]] = []
    seen: set[tuple[str, str]] = set()
    for name, expression, fill in candidates:
        text = str(expression)
        if (name, text) in seen or len(kept) >= MAX_FORMULA_CHANGES:
            continue
        seen.add((name, text))
        try:
            formula = parse(text, names)
        except ExpressionError:
            continue
        if numerically_same(formula, target, precise=False) is not False:  # equal to the reference, or undefined
            continue
        kept.append([name, text, fill])
    return kept


def search_formulas(
    reference: Any,
    variables: tuple[str, ...],
    course: Mapping[str, Mapping[str, Any]] | None = None,
    context: Context | None = None,
) -> tuple[Found, ...]:
    """The formula catalogue's answers for a formula part: each a formula (text) with its credit and sentence."""
    if not isinstance(reference, str) or not variables:
        return ()
    made = formula_changes(reference, tuple(variables))
    if context is not None and context.siblings is not None:
        for part, other in context.siblings().items():
            if isinstance(other, str) and other != reference and _variables(other) <= set(variables):
                made.append(("formula-of-another-part", other, {"a": part}))
    found = []
    for name, text, fill in made:
        change = FORMULA_CHANGES_BY_NAME[name]
        sentence = change.sentence
        for key, value in fill.items():
            sentence = sentence.replace("{" + key + "}", value)
        credit = float((course or {}).get(change.misconception, {}).get("credit", change.credit))
        found.append(Found(change, text, credit, sentence))
    return tuple(found)


def apply(
    change: Change, expression: str, params: Mapping[str, Any], context: Context | None = None
) -> list[tuple[Any, dict[str, str]]]:
    """The answers ``expression`` gives under ``change``, each with the words its sentence fills in (none when it
    does not apply or fails)."""
    context = context or Context()
    if change.answers is not None:
        return list(change.answers(params, context))
    if change.variants is not None:
        alternatives = list(change.variants(params, context))
    else:
        alternatives = [(change.names(params) if change.names else dict(params), {})]
    if context.derive is not None and (change.variants is not None or change.names is not None):
        alternatives = [(derived, said) for names, said in alternatives if (derived := _derived(context, names))]
    functions = dict(FUNCTIONS)
    for name, wrap in change.functions.items():
        if name in functions:
            functions[name] = wrap(functions[name])
    texts: list[tuple[str, dict[str, str]]] = [(expression, {})]
    if change.tree is not None:
        rewritten = [
            (ast.unparse(item[0]), item[1]) if isinstance(item, tuple) else (ast.unparse(item), {})
            for item in change.tree(language.compile_expression(expression))
        ]
        texts = rewritten or texts  # nothing to rewrite: the change's other parts still apply
    results: list[tuple[Any, dict[str, str]]] = []
    for names, said in alternatives:
        for text, where in texts:
            try:
                value = _plain(language.evaluate(text, names, functions))
            except (_NotApplicable, language.SpecExpressionError, ValueError, TypeError, ArithmeticError):
                continue
            except Exception:  # noqa: BLE001 - a change may break the core in any way; it then does not apply
                continue
            fill = {**said, **where}
            if change.output is None:
                results.append((value, fill))
            else:
                results.extend((answer, {**fill, **more}) for answer, more in change.output(value))
    return results


def _plain(value: Any) -> Any:
    return value if callable(value) else plain(value)


def _derived(context: Context, names: dict[str, Any]) -> dict[str, Any] | None:
    """The derived parameters computed again from changed ones (None where they cannot be: the change does not
    apply there)."""
    try:
        return context.derive(names) if context.derive else names
    except Exception:  # noqa: BLE001 - a misread f may have no stationary point, say
        return None


def search_answers(
    expression: str,
    kind: str,
    params: Mapping[str, Any],
    reference: Any,
    course: Mapping[str, Mapping[str, Any]] | None = None,
    render: Callable[[str, Mapping[str, Any]], str] | None = None,
    context: Context | None = None,
) -> tuple[Found, ...]:
    """Every change's answer for one part of one variant that differs from the reference.

    Args:
        expression: the part's reference expression.
        kind: the part's answer type (changes limited to other types are skipped).
        params: the variant's parameters.
        reference: the reference answer (a change giving it does not apply here).
        course: the course's misconception entries (credit and feedback override the catalogue's).
        render: fills ``{{name}}`` with the parameters (the spec's own renderer).
        context: what changes may use besides the parameters (see :class:`Context`).
    """
    if kind == "expression":
        return search_formulas(reference, context.variables if context else (), course, context)
    from grader.checking.compare import plain_equal

    found: list[Found] = []
    for change in CATALOGUE:
        if change.kinds is not None and kind not in change.kinds:
            continue
        if change.reveals and context is not None and context.secret:
            continue
        for answer, fill in apply(change, expression, params, context):
            if not TYPES[kind].fits(answer, reference):  # not of the part's shape
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
    context: Context | None = None,
) -> Callable[[], tuple[Misconception, ...]]:
    """The catalogue's answers for one part of one variant, computed on first use and kept (thread-safe)."""
    lock = threading.Lock()
    kept: list[tuple[Misconception, ...]] = []

    def searched() -> tuple[Misconception, ...]:
        with lock:
            if not kept:
                found = search_answers(expression, kind, params, reference, course, render, context)
                kept.append(tuple(Misconception(f.id, f.answer, f.credit, f.feedback) for f in found))
            return kept[0]

    return searched


def _tidy(text: str) -> str:
    """A sentence whose unfilled ``{{name}}`` placeholders (a parameter this variant lacks) are dropped."""
    return re.sub(r"\{\{\s*\w+\s*\}\}", "", text)
