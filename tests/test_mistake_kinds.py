"""Kinds of mistakes, each made by a generator of its own on every spec where it makes sense, are named.

"Feedback that generalises": wrong answers written by people who never saw
the specs had their mistake named only 73–79 % of the time, because whole
kinds of input had no rule and no catalogue change. Each kind here has a
generator: for every part of every exercise (the default variant and two
per-student ones) where the kind makes sense, it applies the mistake to the
part's own reference computation, as the student would (the spec's answer
expression evaluated with a parameter misread, a core function replaced by
the mistaken one written here, or the reference reshaped), and the wrong
answer is graded through ``grader.grading.grade`` with the other parts
answered right. The grader must name the kind (one of the ids it is known
by, among the misconception and the ``also`` it reports) and give partial or
no credit, never full. The mistakes are written here from the student's
procedure, not taken from ``grader/specs/catalogue.py``.

A generated answer the grader cannot tell from the reference (within the
part's tolerance: ε inside Adam's root when ε is 1e-8) does not count.
``python tests/test_mistake_kinds.py`` prints the rate per kind without
asserting (it runs on older versions of the grader too).
"""

from __future__ import annotations

import ast
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.grading import grade  # noqa: E402
from grader.specs import language  # noqa: E402
from grader.specs.functions import FUNCTIONS  # noqa: E402
from grader.specs.model import Catalog, load_catalog  # noqa: E402

STUDENTS = ("default", "kinds-1", "kinds-2")  # the slides' numbers and two per-student variants

RATES = ("eta", "lr", "learning_rate", "step_size")
MOMENTA = ("beta", "momentum", "mu")
SWAPPABLE = (*MOMENTA, "alpha", "beta1", "beta2")  # weights w of an average w·old + (1 − w)·new
# where each function of the core takes the f it differentiates
DIFFERENTIATING = {
    "iterates": 1,
    "next_from": 1,
    "path_shape": 1,
    "gradient": 0,
    "hessian": 0,
    "converging_rates": 0,
    "regimes": 0,
    "regime": 0,
    "curvature": 0,
    "step_factor": 0,
}
RULE_MAKERS = ("gd", "momentum", "ema_momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad")


@dataclass
class Part:
    """One part of one variant, with what a generator needs."""

    exercise: Any
    part: Any
    key: Any
    params: dict[str, Any]
    student: str
    references: dict[str, Any]
    catalog: Catalog

    def evaluate(self, expression: str | None = None, params: dict[str, Any] | None = None, **functions: Any) -> Any:
        """The part's answer (or ``expression``) computed with ``params`` (and the values derived from them: who
        misreads f finds other stationary points) and spec functions replaced."""
        registry = {**FUNCTIONS, **functions}
        names = self.params if params is None else _rederived(self.catalog, self.exercise, params)
        return language.evaluate(expression or self.part.answer, names, registry)


def _rederived(catalog: Catalog, exercise: Any, params: dict[str, Any]) -> dict[str, Any]:
    if hasattr(catalog, "rederived"):
        return catalog.rederived(exercise, params)
    drawn = {p.name: params[p.name] for p in exercise.parameters}  # versions of the grader before it
    return {**params, **catalog._with_derived(exercise, drawn)}


@dataclass(frozen=True)
class Typed:
    """An answer as the student types it (text), where the part's value would be numbers."""

    text: str


@dataclass
class Case:
    kind: str
    part: Part
    answer: Any
    expected: frozenset[str]
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def named(self) -> set[str]:
        return {self.result.get("misconception"), *self.result.get("details", {}).get("also", [])} - {None}

    @property
    def ok(self) -> bool:
        return bool(self.expected & self.named) and self.result["score"] < self.result["max_score"]


def _written(p: Part, answer: Any) -> set[str]:
    """The spec's own rules whose answer this is: where a rule is written for exactly this answer (the values
    for the iterates, Adam without bias correction for the other part), its name names the kind too."""
    from grader.checking.compare import plain_equal

    return {rule.id for rule in p.key.misconceptions if plain_equal(rule.answer, answer)}


Generator = Callable[[Part], Iterator[tuple[Any, set[str]]]]
KINDS: dict[str, Generator] = {}


def kind(name: str) -> Callable[[Generator], Generator]:
    def register(generator: Generator) -> Generator:
        KINDS[name] = generator
        return generator

    return register


# Helpers --------------------------------------------------------------------------------------------


def _sympy(text: str, names: tuple[str, ...] | None = None) -> tuple[Any, dict[str, Any]]:
    import sympy

    from grader.expressions import DEFAULT_VARIABLES, parse

    formula = parse(text, set(names) if names else DEFAULT_VARIABLES | {"a", "y"})
    symbols = {n: sympy.Symbol(n, real=True) for n in (names or sorted(formula.names))}
    return formula.to_sympy(symbols), symbols


def _formulas(params: dict[str, Any]) -> dict[str, str]:
    """The parameters that are formulas of the course's variables (f, f1, loss …)."""
    from grader.expressions import DEFAULT_VARIABLES, ExpressionError, parse

    found = {}
    for name, value in params.items():
        if isinstance(value, str):
            try:
                if parse(value, DEFAULT_VARIABLES | {"a", "y"}).names:
                    found[name] = value
            except ExpressionError:
                pass
    return found


def _with_f(replaced: str, by: str) -> dict[str, Any]:
    """The core's functions that differentiate f, given ``by`` wherever they are given ``replaced``."""

    def wrap(function: Callable[..., Any], position: int) -> Callable[..., Any]:
        def called(*args: Any, **kwargs: Any) -> Any:
            args = tuple(by if i == position and a == replaced else a for i, a in enumerate(args))
            return function(*args, **kwargs)

        return called

    return {name: wrap(FUNCTIONS[name], at) for name, at in DIFFERENTIATING.items() if name in FUNCTIONS}


def _calls(expression: str) -> set[str]:
    tree = language.compile_expression(expression)
    return {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_numbers(v) for v in value)
    return _number(value)


def _vector(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 1 and all(_number(v) for v in value)


# The function misread -----------------------------------------------------------------------------------


@kind("the constant of f differentiated")
def constant_differentiated(p: Part) -> Iterator[tuple[Any, set[str]]]:
    for f in _formulas(p.params).values():
        expression, symbols = _sympy(f)
        constant = expression.as_coeff_Add()[0]
        if constant != 0:  # (x² + 2)' taken as 2x + 2: as if f were x² + 2 + 2x
            wrong = f"({f}) + ({constant})*({' + '.join(sorted(symbols))})"
            yield p.evaluate(**_with_f(f, wrong)), {"constant-differentiated"}


@kind("f misread: (x + 2)² or 2x² + 2 for x² + 2")
def misread(p: Part) -> Iterator[tuple[Any, set[str]]]:
    import sympy

    for name, f in _formulas(p.params).items():
        expression, _ = _sympy(f)
        constant, rest = expression.as_coeff_Add()
        for term in sympy.Add.make_args(rest):
            if isinstance(term, sympy.Pow) and term.exp.is_Integer and term.exp > 1:
                misreadings = [expression - term + term.exp * term]
                if constant != 0:
                    misreadings.append(expression - constant - term + (term.base + constant) ** term.exp)
                for wrong in misreadings:
                    yield p.evaluate(params={**p.params, name: str(wrong)}), {"misread-function"}


@kind("another variant's f")
def sibling_function(p: Part) -> Iterator[tuple[Any, set[str]]]:
    for parameter in p.exercise.parameters:
        current = p.params.get(parameter.name)
        if parameter.name not in _formulas(p.params):
            continue
        for other in (parameter.default, *parameter.choices):
            if isinstance(other, str) and other != current and _formulas({"f": other}):
                if _sympy(other)[1].keys() == _sympy(current)[1].keys():
                    yield p.evaluate(params={**p.params, parameter.name: other}), {"sibling-function"}


@kind("a learning rate or β of another exercise")
def other_parameter(p: Part) -> Iterator[tuple[Any, set[str]]]:
    for name, value in p.params.items():
        family = RATES if name in RATES else MOMENTA if name in MOMENTA else None
        if family is None or not _number(value):
            continue
        seen = sorted(
            {
                float(v)
                for other in p.catalog.exercises.values()
                if other.id != p.exercise.id and other.kind != "code"
                for q in other.parameters
                if q.name in family or q.name.rstrip("s") in family
                for d in (q.default, *q.choices)
                for v in (d if isinstance(d, list) else [d])
                if _number(v) and not math.isclose(v, value)
            }
        )
        for other in seen[:2]:
            yield p.evaluate(params={**p.params, name: other}), {"other-parameter"}


# A term of the update dropped or swapped -----------------------------------------------------------------


@dataclass(frozen=True)
class StepOnly:
    """The student's rule: the new point is the step alone, x_{t+1} = −η∇f(x_t) (the current point dropped)."""

    rule: Any

    @property
    def lr(self) -> float:
        return self.rule.lr

    def init(self, x: Any) -> Any:
        return self.rule.init(x)

    def update(self, x: Any, g: Any, state: Any) -> tuple[Any, Any]:
        moved, state = self.rule.update(x, g, state)
        return np.asarray(moved) - np.asarray(x, dtype=float), state


def _step_only(maker: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args, **kwargs: StepOnly(maker(*args, **kwargs))


@kind("the current point dropped: x_{t+1} = −η∇f")
def current_point_dropped(p: Part) -> Iterator[tuple[Any, set[str]]]:
    calls = _calls(p.part.answer)
    if calls & set(RULE_MAKERS) and calls & {"iterates", "next_after"}:
        makers = {m: _step_only(FUNCTIONS[m]) for m in RULE_MAKERS if m in FUNCTIONS}
        yield p.evaluate(**makers), {"dropped-current-point"}
    tree = language.compile_expression(p.part.answer)
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Sub) and isinstance(tree.left, ast.Name):
        yield p.evaluate(f"-({ast.unparse(tree.right)})"), {"dropped-current-point"}


@kind("one sign lost in a sum")
def lost_sign(p: Part) -> Iterator[tuple[Any, set[str]]]:
    tree = language.compile_expression(p.part.answer)
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Add):  # g_prev·β + ∇f as ∇f − β·g_prev
        yield p.evaluate(f"({ast.unparse(tree.right)}) - ({ast.unparse(tree.left)})"), {"lost-sign"}
        yield p.evaluate(f"({ast.unparse(tree.left)}) - ({ast.unparse(tree.right)})"), {"lost-sign"}


@kind("β and 1 − β swapped")
def beta_swapped(p: Part) -> Iterator[tuple[Any, set[str]]]:
    swapped = {n: 1 - v for n, v in p.params.items() if n in SWAPPABLE and _number(v) and 0 < v < 1}
    if swapped:
        yield p.evaluate(params={**p.params, **swapped}), {"beta-swapped"}


class StudentAdam:
    """Adam as a student computes it, with the bias correction ``correction(β, t)`` and ε where they put it."""

    def __init__(self, lr: float, beta1: float, beta2: float, eps: float, correction: Any, eps_inside: bool) -> None:
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.correction, self.eps_inside = correction, eps_inside

    def init(self, x: Any) -> Any:
        zeros = np.zeros_like(np.asarray(x, dtype=float))
        return 0, zeros, zeros

    def update(self, x: Any, g: Any, state: Any) -> tuple[Any, Any]:
        t, m, v = state
        t, g = t + 1, np.asarray(g, dtype=float)
        m = self.beta1 * m + (1 - self.beta1) * g
        v = self.beta2 * v + (1 - self.beta2) * g * g
        m_hat, v_hat = m / self.correction(self.beta1, t, "m"), v / self.correction(self.beta2, t, "v")
        root = np.sqrt(v_hat + self.eps) if self.eps_inside else np.sqrt(v_hat) + self.eps
        return np.asarray(x, dtype=float) - self.lr * m_hat / root, (t, m, v)


def _student_adam(correction: Any, eps_inside: bool = False) -> Callable[..., Any]:
    def adam(lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, bias_correction: Any = True,
             **options: Any) -> StudentAdam:  # fmt: skip
        if bias_correction is not True or any(v not in (None, False, 0, 0.0) for v in options.values()):
            raise _NotThisKind
        return StudentAdam(lr, beta1, beta2, eps, correction, eps_inside)

    return adam


class _NotThisKind(Exception):
    """The mistake does not apply to this computation."""


def _right(beta: float, t: int, moment: str) -> float:
    return 1 - beta**t


ADAM_MISTAKES = {
    "bias-correction-power": lambda beta, t, moment: (1 - beta) ** t,
    "bias-correction-m-only": lambda beta, t, moment: 1 - beta**t if moment == "m" else 1,
    "bias-correction-v-only": lambda beta, t, moment: 1 - beta**t if moment == "v" else 1,
}


@kind("Adam's bias correction: (1 − β)ᵗ, or one moment only")
def bias_correction(p: Part) -> Iterator[tuple[Any, set[str]]]:
    if "adam" in _calls(p.part.answer):
        for name, correction in ADAM_MISTAKES.items():
            yield p.evaluate(adam=_student_adam(correction)), {name}


@kind("ε inside Adam's root")
def eps_inside(p: Part) -> Iterator[tuple[Any, set[str]]]:
    if "adam" in _calls(p.part.answer):
        yield p.evaluate(adam=_student_adam(_right, eps_inside=True)), {"eps-inside-root"}


# The answer to another question --------------------------------------------------------------------------


@kind("another part's answer")
def another_part(p: Part) -> Iterator[tuple[Any, set[str]]]:
    for other, reference in p.references.items():
        if other != p.part.id and reference is not None:
            yield reference, {"answer-to-another-part"}


@kind("a direction normalised to length 1")
def normalised(p: Part) -> Iterator[tuple[Any, set[str]]]:
    if p.key.kind == "vector" and _vector(p.key.reference):
        length = math.sqrt(sum(v * v for v in p.key.reference))
        if length > 0 and not math.isclose(length, 1):
            yield [v / length for v in p.key.reference], {"normalised-direction"}


# Counting slips ---------------------------------------------------------------------------------------


class _Shift(ast.NodeTransformer):
    def __init__(self, target: ast.Subscript, offset: int) -> None:
        self.target, self.offset = target, offset

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if ast.dump(node) == ast.dump(self.target):
            return ast.Subscript(node.value, ast.Constant(node.slice.value + self.offset), ast.Load())
        return node


@kind("an index one off")
def index_shift(p: Part) -> Iterator[tuple[Any, set[str]]]:
    tree = language.compile_expression(p.part.answer)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
        ):
            for offset in (-1, 1):
                if node.slice.value + offset >= 0:
                    shifted = ast.unparse(_Shift(node, offset).visit(ast.parse(p.part.answer, mode="eval").body))
                    try:
                        yield p.evaluate(shifted), {"index-shift", "off-by-one", "wrong-point"}
                    except language.SpecExpressionError:
                        pass  # no item there
    if "batch_gradient" in _calls(p.part.answer):  # each batch index one lower (point 1 for point 2)

        def batch(vectors: Any, indices: Any, reduction: str = "mean") -> Any:
            kept = [int(i) - 1 for i in indices if int(i) > 1]
            return FUNCTIONS["batch_gradient"](vectors, kept, reduction)

        yield p.evaluate(batch_gradient=batch), {"index-shift"}


@kind("the data set's size, the batch size, or another rounding for the count")
def counts(p: Part) -> Iterator[tuple[Any, set[str]]]:
    tree = language.compile_expression(p.part.answer)
    if not (isinstance(tree, ast.Call) and getattr(tree.func, "id", "") == "updates_per_epoch"):
        return
    n, b = (p.evaluate(ast.unparse(arg)) for arg in tree.args[:2])
    dropped = any(k.arg == "drop_last" and getattr(k.value, "value", False) for k in tree.keywords)
    yield n, {"size-for-count"}
    yield b, {"batch-size-for-count"}
    yield math.floor(n / b + 0.5), {"round-for-floor" if dropped else "round-for-ceil"}
    yield (math.ceil(n / b), {"ceil-for-floor"}) if dropped else (n // b, {"drop-last-batch", "floor-for-ceil"})


# Intervals and labels ---------------------------------------------------------------------------------


@kind("an interval's ends or region wrong")
def intervals(p: Part) -> Iterator[tuple[Any, set[str]]]:
    from grader.checking.reading import Interval

    i = p.key.reference
    if p.key.kind != "interval" or i.low is None or i.high is None:
        return
    for low_closed, high_closed in ((True, True), (True, False), (False, True)):
        if (low_closed and not i.low_closed) or (high_closed and not i.high_closed):
            yield Interval(i.low, i.high, low_closed, high_closed), {"boundary-included"}
    yield Interval(None, i.high, False, i.high_closed), {"interval-end-wrong"}  # η > 0 forgotten
    yield Interval(i.low, None, i.low_closed, False), {"interval-end-wrong"}
    if i.high > 0:
        yield Interval(-i.high, i.high, False, False), {"interval-end-wrong"}  # |1 − ηL| < 1 solved as |η| < 2/L
    yield Interval(i.high, None, False, False), {"divergence-region"}
    if "converging_rates" in _calls(p.part.answer):  # only where the iterates never pass the minimum: η ≤ 1/L
        yield Interval(i.low, (i.low + i.high) / 2, False, True), {"monotone-range-only"}


@kind("the labels of neighbouring cases exchanged")
def neighbours(p: Part) -> Iterator[tuple[Any, set[str]]]:
    labels = p.key.reference
    if p.key.kind == "labels":
        for i in range(len(labels) - 1):
            if labels[i] != labels[i + 1]:
                yield [*labels[:i], labels[i + 1], labels[i], *labels[i + 2 :]], {"labels-swapped"}


# Formulas ----------------------------------------------------------------------------------------------


@kind("a formula: sign, factor, ½, chain rule stopped early, the function itself")
def formula(p: Part) -> Iterator[tuple[Any, set[str]]]:
    import sympy

    if p.key.kind != "expression":
        return
    names = tuple(p.key.type.variables)
    right, symbols = _sympy(p.key.reference, names)
    variable = symbols[names[0]]
    yield str(-right), {"sign-error"}
    yield str(right / 2), {"spurious-half"}
    yield str(2 * right), {"extra-factor"}
    for factor in sympy.Mul.make_args(right):
        if not factor.is_number:
            yield str(right / factor), {"missing-factor", "forgot-chain-rule", "forgot-inner-factor"}
    for node in sympy.preorder_traversal(right):
        if isinstance(node, sympy.Function | sympy.Pow) and not node.is_number:
            inner = node.args[0]
            slope = sympy.diff(inner, variable)
            if inner != variable and not (slope.is_number and abs(slope) == 1) and slope != 0:
                yield str(right / slope), {"forgot-chain-rule", "forgot-inner-factor", "missing-factor"}
    integral = sympy.integrate(right, variable)
    if not integral.has(sympy.Integral):
        yield str(integral), {"function-for-derivative"}


@kind("a value left as a formula (6x for 6)")
def left_symbolic(p: Part) -> Iterator[tuple[Any, set[str]]]:
    tree = language.compile_expression(p.part.answer)
    if not (isinstance(tree, ast.Call) and getattr(tree.func, "id", "") in ("hessian", "gradient")):
        return
    import sympy

    f = p.evaluate(ast.unparse(tree.args[0]))
    expression, symbols = _sympy(f)
    ordered = [symbols[n] for n in sorted(symbols)]
    gradient = [sympy.diff(expression, s) for s in ordered]
    if tree.func.id == "hessian":
        formulas = [[str(sympy.diff(g, s)) for s in ordered] for g in gradient]
    else:
        formulas = [str(g) for g in gradient] if len(gradient) > 1 else str(gradient[0])
    typed = formulas if isinstance(formulas, str) else str(formulas).replace("'", "")
    if any(name in typed for name in symbols):
        yield Typed(typed), {"not-evaluated"}


# Running the generators ----------------------------------------------------------------------------------


def per_student_catalog() -> Catalog:
    base = load_catalog(None)
    return Catalog(base.exercises, base.assignments, base.misconceptions, True, "mistake-kinds")


def parts(catalog: Catalog) -> Iterator[Part]:
    for exercise in catalog.exercises.values():
        if exercise.kind == "code":
            continue
        for student in STUDENTS:
            params = catalog.variant(exercise, student)
            keys = catalog.keys(exercise, params)
            references = {key.part: key.reference for key in keys}
            for spec_part, key in zip(exercise.parts, keys, strict=True):
                if spec_part.answer is not None and key.kind not in ("text",):
                    yield Part(exercise, spec_part, key, dict(params), student, references, catalog)


def _plain(value: Any) -> Any:
    from grader.specs.functions import plain

    return plain(value)


def _fits(p: Part, answer: Any) -> bool:
    """Whether the answer is one of the part's kind (the right shape, labels of its own, a formula in its variables)."""
    from grader.checking.reading import Interval
    from grader.expressions import ExpressionError, parse

    reference, kind = p.key.reference, p.key.kind
    if kind == "expression":
        try:
            return isinstance(answer, str) and parse(answer, set(p.key.type.variables)) is not None
        except ExpressionError:
            return False
    if kind == "interval":
        return isinstance(answer, Interval)
    if kind == "labels":
        allowed = set(p.key.type.labels) or set(reference)
        labels = isinstance(answer, list) and all(isinstance(a, str) for a in answer)
        return labels and len(answer) == len(reference) and set(answer) <= allowed
    if kind == "choice":
        return isinstance(answer, str) and answer in p.key.type.choices
    if kind == "sequence":
        return isinstance(answer, list) and bool(answer) and {np.shape(a) for a in answer} == {np.shape(reference[0])}
    if isinstance(reference, list):
        return isinstance(answer, list) and _numbers(answer) and np.shape(answer) == np.shape(reference)
    return _number(answer)


def _finite(answer: Any) -> bool:
    if isinstance(answer, list):
        return all(_finite(a) for a in answer)
    return not _number(answer) or math.isfinite(answer)


def cases(catalog: Catalog | None = None) -> list[Case]:
    """Every kind's wrong answers on every part it makes sense for, graded."""
    catalog = catalog or per_student_catalog()
    made: list[Case] = []
    for p in parts(catalog):
        for name, generator in KINDS.items():
            seen: list[Any] = []
            try:
                generated = list(generator(p))
            except (_NotThisKind, language.SpecExpressionError, ValueError, ArithmeticError, TypeError):
                continue
            for answer, expected in generated:
                typed = isinstance(answer, Typed)
                answer = answer if isinstance(answer, str | Typed) else _plain(answer)
                if answer is None or not (typed or _fits(p, answer)) or not _finite(answer):
                    continue
                if answer == p.key.reference or any(answer == s for s in seen):
                    continue
                seen.append(answer)
                case = Case(name, p, answer, frozenset(expected | _written(p, answer)))
                case.result = _graded(p, answer.text if typed else answer)
                if case.result["status"] == "correct":
                    continue  # within the part's tolerance of the reference: no mistake to name
                made.append(case)
    return made


TYPED_DIGITS = 6  # significant figures of the numbers typed (at least the digits any part asks for)


def _typed(value: Any) -> str:
    """Numbers as a student types them, rounded to ``TYPED_DIGITS`` significant figures: ``[3.5, 2]``."""
    if isinstance(value, list):
        return "[" + ", ".join(_typed(v) for v in value) + "]"
    number = float(value)
    if number != 0 and not 1e-6 <= abs(number) < 1e15:
        return repr(number)
    text = np.format_float_positional(number, precision=TYPED_DIGITS, unique=False, fractional=False, trim="k")
    return text.rstrip(".")


def _graded(p: Part, answer: Any) -> dict[str, Any]:
    answers = {key: _submitted(p, key, ref) for key, ref in p.references.items() if ref is not None}
    if isinstance(answer, str):
        answers[p.part.id] = answer
    elif _numbers(answer):  # typed, as students answer (a JSON number would be judged by the tolerance alone)
        answers[p.part.id] = _typed(answer)
    else:
        answers[p.part.id] = _submitted(p, p.part.id, answer)
    graded = grade({"student": p.student, "answers": {p.exercise.id: answers}}, p.catalog).to_json()
    return next(part for part in graded["exercises"][0]["parts"] if part["id"] == p.part.id)


def _submitted(p: Part, part_id: str, value: Any) -> Any:
    key = next(k for k in p.catalog.keys(p.exercise, p.params) if k.part == part_id)
    return key.type.submitted(value)


def rates(made: list[Case]) -> dict[str, tuple[int, int]]:
    """Per kind: (named, generated)."""
    total, named = Counter(c.kind for c in made), Counter(c.kind for c in made if c.ok)
    return {k: (named[k], total[k]) for k in KINDS if total[k]}


def table(made: list[Case]) -> str:
    lines = [f"{'kind':75} {'named':>12}"]
    for name, (good, total) in rates(made).items():
        lines.append(f"{name:75} {good:>4}/{total:<4} {good / total:>6.1%}")
    good, total = sum(c.ok for c in made), len(made)
    lines.append(f"{'all kinds':75} {good:>4}/{total:<4} {good / max(total, 1):>6.1%}")
    return "\n".join(lines)


# The tests ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def made() -> list[Case]:
    return cases()


NOWHERE = {"ε inside Adam's root"}  # the course's ε is 1e-8: inside or outside the root, the same answer (see
# tests/test_catalogue.py for an exercise where ε matters)


def test_each_kind_is_generated_on_the_courses_specs(made: list[Case]) -> None:
    generated = set(rates(made))
    assert generated == set(KINDS) - NOWHERE, set(KINDS) - NOWHERE - generated


def test_every_generated_mistake_is_named_and_never_gets_full_credit(made: list[Case]) -> None:
    print("\n" + table(made))
    missed = [
        (c.kind, f"{c.part.exercise.id}/{c.part.part.id}", c.part.student, c.answer, c.result["misconception"],
         c.result["score"], c.result["feedback"][:120])
        for c in made
        if not c.ok
    ]  # fmt: skip
    assert missed == []


def test_formula_mistakes_are_named_on_the_logistic_derivative(made: list[Case]) -> None:
    """Today's formula parts: before, a wrong formula got "not equivalent to the expected formula" and no name."""
    logistic = [c for c in made if c.part.exercise.id == "logistic-derivative"]
    assert len(logistic) >= 10 and all(c.ok for c in logistic)


if __name__ == "__main__":
    print(table(cases()))
