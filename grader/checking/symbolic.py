"""Symbolic equivalence of formulas, with a hard time limit that works in any thread.

What "equivalent" means: the two formulas are the same real function. At
every real point where both are defined, either both values are real and
equal, or neither is real (values are the *principal* ones of complex
arithmetic: ``(−8)**(1/3)`` is not −2 but a complex number, and ``log(x)`` at
a negative x is ``log|x| + iπ``, so neither is real). So ``sqrt(1/v)`` equals
``1/sqrt(v)`` (neither is real for v < 0) and ``log(1/x)`` equals
``−log(x)``; but ``sqrt(x**2)`` is ``|x|``, not ``x``, ``log(x**2)`` is not
``2 log(x)`` (at x = −1 one is real, the other not), and ``(a**b)**c`` is not
``a**(b*c)`` (at a = −2, b = 2, c = 1/2: 2 and −2). Negative values are
checked like any other point, never skipped.

How it is decided (:func:`compare`), in a sympy worker process (started with
``spawn``, safe in a threaded web server) that stops a comparison after
``SYMBOLIC_SECONDS`` of its CPU time, or sooner when the answer's budget
has less left (see below):

1. sympy builds both sides (decimals as the exact rationals they spell);
2. both are evaluated to 30 digits at a few exact rational points (negative
   ones included); two real values that differ beyond any rounding doubt, or
   a real value against one that is not, prove the formulas different, at
   once and whatever simplify would say;
3. ``simplify(student − reference) == 0`` proves them equal; so does
   ``simplify`` with every variable positive, when besides sampling (random
   points and a grid of small whole numbers and fractions, negative ones
   included) finds no point that tells them apart;
4. a student's decimal is a rounding: when replacing each decimal by a
   number it rounds (one of the reference's own rationals, or the simplest
   fraction within half a unit of its last digit) makes the formula exactly
   equal, the answer is right with a note (``0.333333333333333`` read as
   1/3); with fewer than ``MIN_DIGITS`` significant figures it is too coarse
   (partial). ``0.99999999`` does not round 1, so ``0.99999999*x`` is not
   ``x`` (the feedback says it is close, not equal).

Only when sympy neither proves nor disproves in time are the formulas
compared numerically, in complex arithmetic (principal values, like step
2), at random real points and the grid: apart where one side is real and the
other is not, else compared where both are real. Sampling never overrules a proof. "Too complex to
check" is said only when sympy ran out of time *and* the values overflow
floating point; a formula with no finite value anywhere is said to be so.

Who pays, and who waits. The workers are a small pool (:class:`SymbolicPool`,
``GRADER_SYMBOLIC_WORKERS`` processes, 2 by default) shared by the threads of
the process; a caller (the :class:`grader.budget.Account` the work is charged
to: a user, or a client address) holds at most ``PER_CALLER_SLOTS`` of them at
once, and waiting comparisons take free workers in their order of arrival,
skipping callers at their cap (:class:`FairSlots`). So a caller sending costly
formulas keeps at most one worker busy, and everyone else's comparisons go to
the others; a comparison that finds no free worker within ``SLOT_WAIT_SECONDS``
is decided by sampling instead. Each worker measures the CPU time it spent on
a comparison and reports it; :func:`compare` charges it to the account (the
request or job then takes it from the caller's CPU share) and to the running
budgets (:mod:`grader.budget`): inside grading, an answer whose comparisons
need more than its worker seconds is refused as too costly to check, instead of
being sampled. A worker that cannot stop a comparison (sympy stuck in C code)
is killed and replaced (see :class:`SymbolicPool`).
"""

from __future__ import annotations

import ast
import functools
import multiprocessing
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice, product
from typing import Any

import numpy as np

from grader import budget
from grader.expressions import CONSTANTS, FUNCTIONS, Formula, normalise, parse, significant_figures
from grader.settings import current

SYMBOLIC_SECONDS = 1.0  # CPU seconds a worker spends on one comparison at most
STARTUP_SECONDS = 15.0  # starting Python and importing sympy, once per worker
POOL_SIZE = max(1, current().symbolic_workers)  # worker processes per server process
PER_CALLER_SLOTS = 1  # workers one caller may hold at once (always fewer than the pool, when it has several)
SLOT_WAIT_SECONDS = 0.25  # how long a comparison waits for a free worker before sampling decides it
WORKER_NICENESS = 10  # a comparison past FAST_SECONDS yields the CPU: a costly formula never slows pages
FAST_SECONDS = 0.05  # CPU seconds a comparison runs at the server's priority (honest ones: 1 ms median, 0.2 s at most)
SAMPLES = 24
MIN_DIGITS = 3  # significant figures a decimal in a formula needs to stand for an exact number
DIGITS = 30  # precision of the exact-point evaluation
DIFFERENT = 1e-20  # relative gap at DIGITS digits that cannot be rounding
MAX_READINGS = 16  # readings of a formula's decimals tried


@dataclass(frozen=True)
class Comparison:
    """The verdict on a student's formula.

    ``how``: ``symbolic`` (sympy proved equal or different), ``rounded`` (equal once its decimals are
    read as the exact numbers they round), ``coarse`` (the same, but a decimal has fewer than
    ``MIN_DIGITS`` figures: partial), ``numeric`` (sympy undecided in time; random points decided),
    ``undefined`` (no finite value anywhere), ``too-complex`` (neither decided). ``credit`` is the
    fraction of the points it earns; ``note`` is a sentence for the student, or "".
    """

    equal: bool
    how: str
    credit: float
    note: str = ""


def compare(student: Formula, reference: Formula | str, variables: Collection[str] | None = None) -> Comparison:
    """Compare a student's formula with the reference (a Formula, or spec text parsed with ``variables``)."""
    target = reference_formula(reference, variables)
    names = sorted(student.names | target.names)
    left = budget.worker_seconds_left()  # None outside grading: no answer's budget to keep to
    if left is not None:
        budget.refuse_if_workers_spent()
    limit = SYMBOLIC_SECONDS if left is None else min(SYMBOLIC_SECONDS, left)
    account = budget.current_account()
    with budget.uncounted():  # the worker has its own time limit; waiting for it costs this thread nothing
        _warm_numpy()
        outcome = _POOL.decide(
            student.text, target.text, names, caller=account.key if account else None, cpu_limit=limit
        )
    budget.spend_worker(outcome.cpu_seconds, stopped=outcome.stopped)  # inside grading, a stopped check is refused
    verdict = outcome.verdict
    if verdict is not None:
        kind, note = verdict
        if kind == "equal":
            return Comparison(True, "symbolic", 1.0)
        if kind == "rounded":
            return Comparison(True, "rounded", 1.0, note)
        if kind == "coarse":
            return Comparison(False, "coarse", 0.5, note)
        if kind == "different":
            close = student.decimals() and _numerically_equal(student, target, rtol=1e-6, precise=False) is True
            return Comparison(False, "symbolic", 0.0, _CLOSE if close else "")
    numeric = _numerically_equal(student, target)
    if numeric is False and student.decimals() and _numerically_equal(student, target, 1e-2, precise=False):
        return Comparison(False, "review", 0.0, _REVIEW_DECIMALS)  # a rounding only sympy can tell: not wrong
    if numeric is not None:
        return Comparison(numeric, "numeric", 1.0 if numeric else 0.0)
    for side, formula in (("Your formula", student), ("The expected formula", target)):
        if not _finite_anywhere(formula, names):
            return Comparison(False, "undefined", 0.0, f"{side} has no finite value at any point tried.")
    if _overflows(student, target, names):
        return Comparison(False, "too-complex", 0.0, "Its values are too large to compare; simplify it.")
    return Comparison(False, "review", 0.0, _REVIEW)


def equivalent(
    student: Formula, reference: Formula | str, variables: Collection[str] | None = None
) -> tuple[bool, str]:
    """(equal?, how): :func:`compare` reduced to a yes or no and the method (see :class:`Comparison`)."""
    verdict = compare(student, reference, variables)
    return verdict.equal, verdict.how


def reference_formula(reference: Formula | str, variables: Collection[str] | None = None) -> Formula:
    """A spec's formula: parsed with the part's ``variables`` (default: the names it uses itself)."""
    if isinstance(reference, Formula):
        return reference
    text = str(reference)
    if variables is None:
        variables = set(re.findall(r"[A-Za-z_]\w*", normalise(text))) - set(FUNCTIONS) - set(CONSTANTS)
    return parse(text, variables)


_CLOSE = (
    "It is close to the expected formula but not equal to it: a decimal in it is not a rounding of the "
    "exact number. Write exact numbers (1, 1/3) rather than decimals."
)
_REVIEW_DECIMALS = (
    "This formula is close to the expected one; whether its decimals are roundings of the exact numbers could "
    "not be checked in the time the grader has, so a TA will check it (it is not marked wrong)."
)
_REVIEW = (
    "The grader could neither prove nor disprove that this formula equals the expected one in the time it has, "
    "and its values at sample points were too imprecise to decide, so a TA will check it (it is not marked wrong)."
)


@functools.cache
def _warm_numpy() -> None:
    """numpy's first random generator and complex evaluation cost ~20 ms, once per process: not an answer's cost."""
    _numerically_equal(parse("x", ["x"]), parse("x", ["x"]))


def _sample_points(count: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(20261126)
    return rng.uniform(-3.0, 3.0, size=(count, max(width, 1)))


# Where too few of the first points are usable (both sides finite), more are tried: positive ones (logs and
# roots of a variable are real there), small ones, larger ones.
_MORE_RANGES = ((0.05, 3.0), (-0.5, 0.5), (-10.0, 10.0), (0.5, 20.0))
_MORE_PER_RANGE = 24
MIN_USABLE = 8  # points where both sides are finite before sampling decides
PRECISE_POINTS = 4  # points where floating point disagrees that are evaluated again, precisely
PRECISE_DIGITS = (30, 60)  # the precisions of that evaluation, in decimal digits


def _more_points(width: int) -> np.ndarray:
    rng = np.random.default_rng(20261127)
    return np.vstack([rng.uniform(low, high, size=(_MORE_PER_RANGE, max(width, 1))) for low, high in _MORE_RANGES])


def _values(formula: Formula, names: list[str], points: np.ndarray) -> np.ndarray:
    values = formula.compile(names, dtype=np.complex128)(*points.T[: len(names)])
    return np.broadcast_to(np.asarray(values, dtype=np.complex128), (len(points),))


REAL_IMAGINARY = 1e-9  # |imaginary part| / |value| at most: a real value computed in complex arithmetic
NON_REAL_IMAGINARY = 1e-6  # at least: no rounding makes that much of an imaginary part


def _real(values: np.ndarray) -> np.ndarray:
    """Finite values that are real (their imaginary part is rounding)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.abs(values.imag) <= REAL_IMAGINARY * np.maximum(np.abs(values), 1e-300))


def _non_real(values: np.ndarray) -> np.ndarray:
    """Finite values that are not real: an even root or a logarithm of a negative number."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.abs(values.imag) > NON_REAL_IMAGINARY * np.abs(values))


def _one_sided(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Points where one side is a real number and the other is not: the two are not the same real function."""
    return (_real(left) & _non_real(right)) | (_non_real(left) & _real(right))


# Small whole numbers and simple fractions, every combination of them (a random 1000 beyond three variables):
# where a power's exponent is whole, a negative base gives a real value, so two formulas that agree for
# positive variables and are not real for negative ones alone ((a^b)^c and a^(bc)) are told apart there.
_GRID_VALUES = (-3.0, -2.0, -1.0, -0.5, -1 / 3, 1 / 3, 0.5, 1.0, 2.0, 3.0)
_GRID_POINTS = 1000


@functools.cache
def _grid_points(width: int) -> np.ndarray:
    width = max(width, 1)
    if len(_GRID_VALUES) ** width <= _GRID_POINTS:
        return np.array(list(product(_GRID_VALUES, repeat=width)))
    rng = np.random.default_rng(20261207)
    return rng.choice(np.array(_GRID_VALUES), size=(_GRID_POINTS, width))


@functools.cache
def _first_points(width: int) -> np.ndarray:
    """The random points, then the grid (made once per width; never written to)."""
    points = np.vstack([_sample_points(SAMPLES, width), _grid_points(width)])
    points.flags.writeable = False
    return points


def _sampled(a: Formula, b: Formula, names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points and both sides' values there (random points, then the grid), extended beyond them when too few
    are real on both."""
    points = _first_points(len(names))
    left, right = _values(a, names, points), _values(b, names, points)
    if (_real(left) & _real(right)).sum() < MIN_USABLE:
        more = _more_points(len(names))
        points = np.vstack([points, more])
        left = np.concatenate([left, _values(a, names, more)])
        right = np.concatenate([right, _values(b, names, more)])
    return points, left, right


def _numerically_equal(a: Formula, b: Formula, rtol: float = 1e-9, precise: bool = True) -> bool | None:
    """Compare the two as real functions at random real points: different where one side is real and the other
    is not; else compared where both are real (None when fewer than 3 are, or when floating point cannot tell).

    Where the floating-point values disagree (at ``rtol``), the most different points are evaluated again with
    40 and 80 significant digits (:func:`precise_gap`): a difference that stays is a difference; one that
    vanishes was rounding (a sum whose terms cancel, ``(x − 1)^20`` written out); one that neither stays nor
    vanishes leaves the verdict open (None), never "different". Without ``precise``, floating point decides."""
    names = sorted(a.names | b.names)
    points, left, right = _sampled(a, b, names)
    one_sided = np.flatnonzero(_one_sided(left, right))
    if len(one_sided) and (not precise or any(_precisely_one_sided(a, b, names, points[i]) for i in one_sided[:3])):
        return False
    usable = _real(left) & _real(right)
    if usable.sum() < 3:
        return None
    with np.errstate(invalid="ignore"):  # inf − inf where both overflow: such points are not usable anyway
        gap = np.abs(left - right)
        scale = np.maximum(np.abs(left), np.abs(right))
        close = gap <= rtol * scale + 1e-12
    doubtful = np.flatnonzero(usable & ~close)
    if not len(doubtful):
        # floating point agrees; a few points of different sign patterns are confirmed precisely
        if precise and any(_precisely_apart(a, b, names, points[i], rtol) for i in _spread(points, usable)):
            return False
        return True
    if not precise:
        return False
    order = doubtful[np.argsort(-(gap[doubtful] / (scale[doubtful] + 1e-300)))]
    undecided = False
    for i in order[:PRECISE_POINTS]:  # the most different first: a real difference is found at once
        verdict = precise_gap(a, b, names, points[i])
        if verdict is False:
            return False
        undecided = undecided or verdict is None
    return None if undecided else True


CONFIRMED_POINTS = 3  # points where agreeing floating-point values are confirmed precisely


def _spread(points: np.ndarray, usable: np.ndarray) -> list[int]:
    """Up to ``CONFIRMED_POINTS`` usable points of different sign patterns (all negative, mixed, all positive)."""
    chosen: dict[tuple[bool, ...], int] = {}
    for i in np.flatnonzero(usable):
        signs = tuple(bool(v < 0) for v in points[i])
        pattern = (all(signs), any(signs) and not all(signs))
        chosen.setdefault(pattern, int(i))
    return list(chosen.values())[:CONFIRMED_POINTS]


def numerically_same(a: Formula, b: Formula, rtol: float = 1e-9, precise: bool = True) -> bool | None:
    """:func:`_numerically_equal`: equal at sampled points (True), different (False), or undecided (None)."""
    return _numerically_equal(a, b, rtol, precise)


def could_be_equal(a: Formula, b: Formula) -> bool:
    """A quick screen before a proof: False only when floating point shows the two formulas clearly apart (a
    relative gap over 10⁻⁴ where both are real, or one real and the other not, at two or more points)."""
    names = sorted(a.names | b.names)
    points = _sample_points(SAMPLES, len(names))
    left, right = _values(a, names, points), _values(b, names, points)
    usable = _real(left) & _real(right)
    gap = np.abs(left[usable] - right[usable])
    scale = np.maximum(np.abs(left), np.abs(right))[usable]
    one_sided = _one_sided(left, right).sum()  # real on one side only: apart too
    return bool((usable.sum() < 3 and not one_sided) or (gap > 1e-4 * scale + 1e-9).sum() + one_sided < 2)


def _overflows(a: Formula, b: Formula, names: list[str]) -> bool:
    """Whether a side is infinite or beyond 10¹⁵⁰ at most points tried (a value floating point cannot compare)."""
    points = np.vstack([_sample_points(SAMPLES, len(names)), _more_points(len(names))])
    for formula in (a, b):
        values = np.abs(_values(formula, names, points))
        if (~np.isfinite(values) | (values > 1e150)).mean() > 0.5:
            return True
    return False


def _finite_anywhere(formula: Formula, names: list[str]) -> bool:
    points = np.vstack([_sample_points(SAMPLES, len(names)), _more_points(len(names))])
    return bool(np.isfinite(_values(formula, names, points)).any())


# Precise evaluation at one point (mpmath, in this process): bounded in size, counted in the answer's budget.

MAX_MAGNITUDE = 4000  # bits of any intermediate value's exponent: beyond it a point is not evaluated precisely


class _Imprecise(Exception):
    """The formula cannot be evaluated precisely at this point (a value too large, a pole, a function undefined)."""


def precise_gap(a: Formula, b: Formula, names: list[str], point: Any) -> bool | None:
    """At one point, with mpmath: True when both sides agree to within the rounding of ``PRECISE_DIGITS``, False
    when they differ by the same amount at both precisions (a real difference), None when that cannot be said."""
    gaps = []
    for digits in PRECISE_DIGITS:
        context = _context(digits)
        try:
            (left, left_size), (right, right_size) = (_precise(f, names, point, context) for f in (a, b))
        except (_Imprecise, ZeroDivisionError, ValueError, OverflowError, TypeError):
            return None
        size = max(left_size, right_size, abs(left), abs(right))
        gap = abs(left - right)
        if gap <= size * context.mpf(10) ** (8 - digits):
            return True
        gaps.append(gap)
    first, second = gaps
    return False if abs(first - second) <= 1e-3 * second else None


_contexts = threading.local()


def _context(digits: int) -> Any:
    """An mpmath context of ``digits`` digits for this thread (mpmath's global one is shared by all threads)."""
    kept = getattr(_contexts, "by_digits", None)
    if kept is None:
        kept = _contexts.by_digits = {}
    if digits not in kept:
        with budget.uncounted():  # importing mpmath and building a context, once per thread: not an answer's cost
            import mpmath

            context = mpmath.MPContext()
            context.dps = digits
            kept[digits] = context
    return kept[digits]


def _precisely_one_sided(a: Formula, b: Formula, names: list[str], point: Any) -> bool:
    """Whether, evaluated with 30 digits at ``point``, one side is real and the other clearly is not."""
    context = _context(PRECISE_DIGITS[0])
    try:
        (left, _), (right, _) = (_precise(f, names, point, context) for f in (a, b))
    except (_Imprecise, ZeroDivisionError, ValueError, OverflowError, TypeError):
        return False

    def real(value: Any) -> bool:
        return bool(abs(context.im(value)) <= context.mpf(10) ** (5 - PRECISE_DIGITS[0]) * max(abs(value), 1))

    def non_real(value: Any) -> bool:
        return bool(abs(context.im(value)) > NON_REAL_IMAGINARY * abs(value))

    return (real(left) and non_real(right)) or (non_real(left) and real(right))


def _precisely_apart(a: Formula, b: Formula, names: list[str], point: Any, rtol: float) -> bool:
    """Whether both sides, evaluated with 30 digits at ``point``, differ by more than ``rtol`` (relative)."""
    context = _context(PRECISE_DIGITS[0])
    try:
        (left, _), (right, _) = (_precise(f, names, point, context) for f in (a, b))
    except (_Imprecise, ZeroDivisionError, ValueError, OverflowError, TypeError):
        return False
    return bool(abs(left - right) > rtol * max(abs(left), abs(right)) + 1e-12)


def _precise(formula: Formula, names: list[str], point: Any, context: Any) -> tuple[Any, Any]:
    """The formula's principal value at ``point`` in mpmath's ``context``, and the largest magnitude of any value
    computed on the way (how much rounding a cancellation may have left)."""
    values = {name: context.mpf(float(point[i])) for i, name in enumerate(names)}  # mpmath turns complex as needed
    largest = [context.mpf(0)]
    functions = _precise_functions(context)

    def bounded(value: Any) -> Any:
        if not context.isfinite(value):
            raise _Imprecise
        if value != 0 and context.mag(value) > MAX_MAGNITUDE:
            raise _Imprecise
        largest[0] = max(largest[0], abs(value))
        return value

    def walk(node: ast.expr) -> Any:
        budget.checkpoint()
        if isinstance(node, ast.Constant):
            number = node.value
            return context.mpf(repr(number) if isinstance(number, float) else int(number))
        if isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                return +context.pi if node.id == "pi" else +context.e
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = walk(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow):
                if right != 0 and left != 0 and abs(right) * max(abs(context.log(abs(left))), 1) > MAX_MAGNITUDE:
                    raise _Imprecise
                if context.im(right) == 0 and context.re(right) == int(context.re(right)) and abs(right) <= 64:
                    return bounded(left ** int(context.re(right)))
                return bounded(left**right)
            return bounded(_PRECISE_BINARY[type(node.op)](left, right))
        if isinstance(node, ast.Call):
            name = node.func.id  # type: ignore[union-attr]
            arguments = [walk(argument) for argument in node.args]
            if name in ("exp", "sinh", "cosh", "sigmoid") and abs(arguments[0]) > MAX_MAGNITUDE:
                raise _Imprecise
            if name in ("factorial", "binomial") and any(abs(v) > 10**6 for v in arguments):
                raise _Imprecise
            return bounded(functions[name](*arguments))
        raise _Imprecise

    return walk(formula.tree), largest[0]


_PRECISE_BINARY = {
    ast.Add: lambda x, y: x + y,
    ast.Sub: lambda x, y: x - y,
    ast.Mult: lambda x, y: x * y,
    ast.Div: lambda x, y: x / y,
}


def _precise_functions(c: Any) -> dict[str, Any]:
    """The formula functions of :data:`grader.expressions.FUNCTIONS` in mpmath, principal branches."""
    return {
        "sqrt": c.sqrt, "exp": c.exp, "log": c.log, "ln": c.log, "sin": c.sin, "cos": c.cos, "tan": c.tan,
        "sec": c.sec, "csc": c.csc, "cot": c.cot, "asin": c.asin, "acos": c.acos, "atan": c.atan,
        "sinh": c.sinh, "cosh": c.cosh, "tanh": c.tanh, "sech": c.sech, "csch": c.csch, "coth": c.coth,
        "abs": abs, "Abs": abs, "sign": c.sign,
        "sigmoid": lambda v: 1 / (1 + c.exp(-v)), "factorial": c.factorial, "binomial": c.binomial,
    }  # fmt: skip


# In the worker process ---------------------------------------------------------------------------

# Exact points: small rationals of both signs, away from 0 and ±1 where many identities hold by accident.
_POINT_VALUES = ("2/3", "-3/2", "5/4", "-1/3", "7/5", "-5/2", "1/2", "-4/5")
_POINTS = 6


def decide(student: str, reference: str, names: list[str]) -> tuple[str, str]:
    """sympy's verdict on two formula texts: ("equal" | "different" | "rounded" | "coarse" | "undecided", note)."""
    import sympy

    a, b = parse(student, names), parse(reference, names)
    symbols = {name: sympy.Symbol(name, real=True) for name in names}
    given, target = a.to_sympy(symbols), b.to_sympy(symbols)
    verdict = _exact_verdict(given, target, symbols, sympy)
    if verdict == "undecided" and _equal_where_positive(given, target, symbols, sympy):
        if _numerically_equal(a, b) is True:  # and as real functions at every point tried, negative ones too
            verdict = "equal"
    if verdict == "different" and a.decimals():
        return _as_rounding(a, target, symbols, sympy) or (verdict, "")
    return verdict, ""


def _exact_verdict(a: Any, b: Any, symbols: dict[str, Any], sympy: Any) -> str:
    if a - b == 0:
        return "equal"
    order = list(symbols.values())
    for i in range(_POINTS):
        point = {s: sympy.Rational(_POINT_VALUES[(i + 3 * j) % len(_POINT_VALUES)]) for j, s in enumerate(order)}
        if _differ_at(a, b, point, sympy):
            return "different"
        if not order:
            break
    difference = sympy.simplify(a - b)
    if difference == 0 or sympy.simplify(difference.rewrite(sympy.exp)) == 0:
        return "equal"
    return "undecided"


def _equal_where_positive(a: Any, b: Any, symbols: dict[str, Any], sympy: Any) -> bool:
    """Whether sympy proves the two equal when every variable is positive (``sqrt(1/v)`` is ``1/sqrt(v)`` there)."""
    positive = {symbol: sympy.Symbol(name, positive=True) for name, symbol in symbols.items()}
    return bool(sympy.simplify((a - b).xreplace(positive)) == 0)


def _value_at(expression: Any, point: dict[Any, Any], sympy: Any) -> Any:
    """The value to ``DIGITS`` digits, or None where it is not finite or not known that precisely."""
    try:
        value = expression.evalf(DIGITS, subs=point, strict=True)
    except (sympy.core.evalf.PrecisionExhausted, ArithmeticError, ValueError, TypeError):
        return None
    if not value.is_number or value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        return None
    return value


def _differ_at(a: Any, b: Any, point: dict[Any, Any], sympy: Any) -> bool:
    """Whether, at ``point``, both sides are finite and one is real and the other not, or both are real and differ
    by more than rounding at ``DIGITS`` digits could (two values that are not real tell nothing)."""
    left, right = _value_at(a, point, sympy), _value_at(b, point, sympy)
    if left is None or right is None:
        return False
    left_real, right_real = _is_real(left, sympy), _is_real(right, sympy)
    if left_real is None or right_real is None or not (left_real or right_real):
        return False
    if left_real != right_real:
        return True
    gap = sympy.Abs(left - right).evalf(DIGITS)
    scale = sympy.Max(sympy.Abs(left), sympy.Abs(right)).evalf(DIGITS)
    return bool(gap > DIFFERENT * scale)


def _is_real(value: Any, sympy: Any) -> bool | None:
    """A value at ``DIGITS`` digits: real (True), clearly not (False), or too close to tell (None)."""
    imaginary, size = abs(sympy.im(value).evalf(DIGITS)), abs(value).evalf(DIGITS)
    if imaginary <= DIFFERENT * max(size, 1):
        return True
    return False if imaginary > NON_REAL_IMAGINARY * size else None


def _as_rounding(formula: Formula, target: Any, symbols: dict[str, Any], sympy: Any) -> tuple[str, str] | None:
    """Read each decimal as an exact number it rounds; ("rounded"/"coarse", note) when that makes the
    formula equal to ``target``, else None."""
    numbers = _real_numbers(target, sympy)
    decimals = formula.decimals()
    choices = [_readings(typed, numbers, sympy) for _, typed in decimals]
    for chosen in islice(product(*choices), MAX_READINGS):
        changed = {i: value for i, value in enumerate(chosen) if value != sympy.Rational(decimals[i][1])}
        if not changed:
            continue
        candidate = formula.to_sympy(symbols, changed)
        if _exact_verdict(candidate, target, symbols, sympy) == "equal":
            read = ", ".join(f"{decimals[i][1]} as {sympy.sstr(value)}" for i, value in changed.items())
            figures = min(significant_figures(decimals[i][1]) or MIN_DIGITS for i in changed)
            if figures < MIN_DIGITS:
                return "coarse", (
                    f"Right only if {read}, but that is too coarse to tell (fewer than {MIN_DIGITS} significant "
                    "figures): write the exact number."
                )
            return "rounded", f"Read {read}: right, but write the exact number rather than a rounded decimal."
    return None


def _real_numbers(expression: Any, sympy: Any) -> dict[Any, float]:
    """The constant parts of the reference (1/3, π, √2, e/2 …) and their opposites, with float values."""
    found: dict[Any, float] = {}
    for part in sympy.preorder_traversal(expression):
        if part.is_number and part.is_real and len(found) < 64:
            value = float(part.evalf(20))
            found[part], found[-part] = value, -value
    return found


def _readings(typed: str, numbers: dict[Any, float], sympy: Any) -> list[Any]:
    """The exact numbers a typed decimal may stand for: itself, the simplest fraction within half a
    unit of its last digit, and the reference's own numbers it rounds (at most 4 in all)."""
    value = Fraction(typed)
    half = _half_unit(typed)
    low, high = value - half, value + half
    simplest = _simplest_between(low, high)
    found = [sympy.Rational(value.numerator, value.denominator)]
    found.append(sympy.Rational(simplest.numerator, simplest.denominator))
    found += [number for number, approx in numbers.items() if low <= Fraction(approx) <= high]
    return list(dict.fromkeys(found))[:4]


def _half_unit(typed: str) -> Fraction:
    """Half a unit of the last digit typed: 0.333 → 0.0005, 2.5e-3 → 0.00005."""
    mantissa, _, exponent = typed.lower().lstrip("+-").partition("e")
    decimals = len(mantissa.partition(".")[2])
    return Fraction(1, 2) * Fraction(10) ** (int(exponent or 0) - decimals)


def _simplest_between(low: Fraction, high: Fraction) -> Fraction:
    """The fraction with the smallest denominator in [low, high] (continued fractions, Stern–Brocot)."""
    if low <= 0 <= high:
        return Fraction(0)
    if high < 0:
        return -_simplest_between(-high, -low)
    whole = low.numerator // low.denominator
    if whole == low or whole + 1 <= high:
        return Fraction(whole if whole == low else whole + 1)
    return whole + 1 / _simplest_between(1 / (high - whole), 1 / (low - whole))


class _OutOfTime(BaseException):
    """Raised in a worker's comparison at its CPU limit (a BaseException: sympy's own ``except Exception`` lets it
    through)."""


POLL_SECONDS = 0.005  # in a worker: how often the main thread reads the comparison's CPU clock


def _timed_decide(
    student: str, reference: str, names: list[str], cpu_limit: float, niceness: int = WORKER_NICENESS
) -> tuple[str, Any, float]:
    """In a worker: :func:`decide`, in a thread of its own, stopped after ``cpu_limit`` seconds of that thread's CPU
    time: ``(status, verdict, cpu seconds)``, status ``done``, ``overrun`` (stopped at its limit) or ``failed``
    (sympy raised).

    The main thread reads the comparison thread's CPU clock every ``POLL_SECONDS`` while it runs, and at the limit
    raises ``_OutOfTime`` in it (``PyThreadState_SetAsyncExc``), again at every look until it has stopped. The
    thread runs at the server's priority for its first ``FAST_SECONDS`` (every honest formula so far), then at
    ``niceness``: a costly formula yields the CPU to pages and to other students' formulas. A thread per
    comparison, because a thread may lower its own priority but never raise it again."""
    import ctypes

    start = time.process_time()
    outcome: dict[str, Any] = {"status": "failed", "verdict": None}

    def run() -> None:
        try:
            try:
                outcome["verdict"] = decide(student, reference, names)
                outcome["status"] = "done"
            except _OutOfTime:
                outcome["status"] = "overrun"
            except (Exception, RecursionError):  # any failure of sympy is "undecided", not a dead worker
                outcome["status"] = "failed"
        except BaseException:  # the limit's exception arriving as the comparison ends
            if outcome["status"] == "failed":
                outcome["status"] = "overrun"

    thread = threading.Thread(target=run, name="comparison", daemon=True)
    thread.start()
    demoted = False
    try:
        clock: int | None = time.pthread_getcpuclockid(thread.ident or 0)
    except (OSError, AttributeError):
        clock = None
    while thread.is_alive():
        thread.join(POLL_SECONDS)
        try:
            used = time.clock_gettime(clock) if clock is not None else time.process_time() - start
        except OSError:  # the thread has just ended
            continue
        if not demoted and (used >= FAST_SECONDS or cpu_limit <= FAST_SECONDS):
            demoted = True
            try:
                os.setpriority(os.PRIO_PROCESS, thread.native_id or 0, niceness)
            except (OSError, AttributeError):
                pass
        if used >= cpu_limit and thread.is_alive():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident or 0), ctypes.py_object(_OutOfTime))
    thread.join()
    return outcome["status"], outcome["verdict"], time.process_time() - start


def _serve(connection: Any, niceness: int = WORKER_NICENESS) -> None:
    """Worker loop: say ``ready`` once sympy is imported, then answer each (student, reference, names,
    cpu_limit) with ``(status, verdict, cpu seconds)`` (see :func:`_timed_decide`)."""
    decide("cosh(x)**2 - sinh(x)**2 + sec(x)", "1 + sec(x)", ["x"])  # import and warm sympy's simplify once
    connection.send("ready")
    while True:
        try:
            student, reference, names, cpu_limit = connection.recv()
        except EOFError:
            return
        connection.send(_timed_decide(student, reference, names, cpu_limit, niceness))


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_of(pid: int) -> float | None:
    """CPU seconds (user and system) a process has used so far, from /proc; None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return None


TIMER_SLACK = 1.0  # CPU seconds past its limit at which a worker that could not stop a comparison is killed
WALL_SECONDS = 10.0  # wall seconds after which a comparison is given up even under its CPU limit


def _wall_limit(cpu_limit: float) -> float:
    """Wall seconds after which a worker that has not answered is killed even though its CPU time is under the
    limit: the machine is so loaded that it hardly runs (the caller then samples, as before a proof)."""
    return max(WALL_SECONDS, 5 * cpu_limit)


class _Process:
    """One sympy process and the pipe to it; ``ready`` once it has said so."""

    def __init__(self, niceness: int = WORKER_NICENESS) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, niceness), daemon=True, name="grader-sympy")
        self.process.start()
        child.close()
        self.ready = False

    def alive(self) -> bool:
        return self.process.is_alive()

    def wait_until_ready(self, timeout: float) -> None:
        if not self.ready:
            if not self.connection.poll(timeout) or self.connection.recv() != "ready":
                raise EOFError("the sympy worker did not start")
            self.ready = True

    def cpu(self) -> float | None:
        return _cpu_of(self.process.pid) if self.process.pid else None

    def stop(self) -> None:
        self.process.kill()
        self.process.join(timeout=1)
        self.connection.close()


class FairSlots:
    """``size`` slots shared by callers, at most ``per_caller`` held by one caller at once.

    :meth:`acquire` waits for a slot in order of arrival, except that a caller
    at its cap never holds up the others: while its own requests wait, a later
    caller's takes the next free slot. A caller of None (no account: the command
    line, a test) has no cap. The cap is at most ``size - 1`` when there are
    several slots, so no single caller can hold them all.
    """

    def __init__(self, size: int, per_caller: int) -> None:
        self.size = max(1, size)
        self.per_caller = max(1, min(per_caller, self.size - 1 if self.size > 1 else 1))
        self._free = list(range(self.size))
        self._held: Counter[str] = Counter()
        self._waiting: list[tuple[object, str | None]] = []
        self._condition = threading.Condition()

    def held(self, caller: str | None) -> int:
        """Slots ``caller`` holds now."""
        with self._condition:
            return self._held[caller] if caller is not None else 0

    def waiting(self) -> int:
        """Requests waiting for a slot now."""
        with self._condition:
            return len(self._waiting)

    def acquire(self, caller: str | None, timeout: float) -> int | None:
        """A free slot for ``caller`` (the lowest numbered), or None when none came within ``timeout`` seconds."""
        entry = (object(), caller)
        deadline = time.monotonic() + timeout
        with self._condition:
            self._waiting.append(entry)
            try:
                while not self._may_take(entry):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    self._condition.wait(remaining)
                slot = min(self._free)
                self._free.remove(slot)
                if caller is not None:
                    self._held[caller] += 1
                return slot
            finally:
                self._waiting.remove(entry)
                self._condition.notify_all()  # the next in line may take a slot now

    def release(self, slot: int, caller: str | None) -> None:
        with self._condition:
            self._free.append(slot)
            if caller is not None:
                self._held[caller] -= 1
                if self._held[caller] <= 0:
                    del self._held[caller]
            self._condition.notify_all()

    def _may_take(self, entry: tuple[object, str | None]) -> bool:
        """A free slot, the caller under its cap, and no earlier waiting request that could take it."""
        if not self._free or not self._under_cap(entry[1]):
            return False
        for other in self._waiting:
            if other is entry:
                return True
            if self._under_cap(other[1]):
                return False
        return True

    def _under_cap(self, caller: str | None) -> bool:
        return caller is None or self._held[caller] < self.per_caller


@dataclass(frozen=True)
class Outcome:
    """What the pool did with one comparison: sympy's verdict (None: undecided, failed, not run), the worker's CPU
    seconds for it, and whether its time limit stopped it."""

    verdict: tuple[str, str] | None
    cpu_seconds: float = 0.0
    stopped: bool = False


class SymbolicPool:
    """``size`` sympy processes behind :class:`FairSlots`; each comparison runs in the process of its slot.

    A process is started when its slot is first used (:meth:`start` starts the
    first ahead), and replaced at once when it dies or has to be killed: when
    it could not stop a comparison (sympy in one long C call: the CPU time it
    used, read from /proc, passes the limit by ``TIMER_SLACK``), or after
    :func:`_wall_limit` of wall time on a machine too loaded to run it. A
    comparison waits for the first slot's process to start (up to
    ``STARTUP_SECONDS``: the first formula a command checks), but not for
    another slot's: sampling decides it while that process starts (they are
    needed only while someone else holds the first). A comparison past
    ``FAST_SECONDS`` runs at a lower priority (``WORKER_NICENESS``) than the
    server, so that the CPU a costly formula burns is taken from no page and
    no other student's formula.
    """

    def __init__(
        self, size: int = POOL_SIZE, per_caller: int = PER_CALLER_SLOTS, niceness: int = WORKER_NICENESS
    ) -> None:
        self.slots = FairSlots(size, per_caller)
        self.niceness = niceness
        self._processes: list[_Process | None] = [None] * self.slots.size
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the first worker now (it imports sympy in the background), so that no request waits for it."""
        try:
            self._process(0)
        except OSError:
            pass

    def _process(self, slot: int) -> _Process:
        with self._lock:
            process = self._processes[slot]
            if process is None or not process.alive():
                if process is not None:
                    process.stop()
                process = self._processes[slot] = _Process(self.niceness)
            return process

    def _replace(self, slot: int) -> None:
        """Kill the slot's process and start its successor at once (it warms up while nobody waits)."""
        with self._lock:
            process, self._processes[slot] = self._processes[slot], None
        if process is not None:
            process.stop()
        try:
            self._process(slot)
        except OSError:
            pass

    def decide(
        self,
        student: str,
        reference: str,
        names: list[str],
        *,
        caller: str | None = None,
        cpu_limit: float = SYMBOLIC_SECONDS,
        slot_wait: float = SLOT_WAIT_SECONDS,
    ) -> Outcome:
        """sympy's verdict within ``cpu_limit`` CPU seconds, run for ``caller`` (see :class:`FairSlots`)."""
        slot = self.slots.acquire(caller, slot_wait)
        if slot is None:
            return Outcome(None)  # every worker is busy with others' comparisons: sampling decides this one
        try:
            return self._run(slot, (student, reference, names, cpu_limit), STARTUP_SECONDS if slot == 0 else 0.0)
        finally:
            self.slots.release(slot, caller)

    def _run(self, slot: int, task: tuple[str, str, list[str], float], startup: float) -> Outcome:
        cpu_limit = task[3]
        try:
            process = self._process(slot)
            if not process.ready and not process.connection.poll(startup):
                return Outcome(None)  # still importing sympy: sampling decides this one, the process keeps starting
            process.wait_until_ready(0)
            before, started = process.cpu(), time.monotonic()
            process.connection.send(task)
            while not process.connection.poll(0.05):
                now = process.cpu()
                used = now - before if now is not None and before is not None else time.monotonic() - started
                if used >= cpu_limit + TIMER_SLACK or time.monotonic() - started >= _wall_limit(cpu_limit):
                    break
            else:
                status, verdict, cpu = process.connection.recv()
                if status == "done" and verdict is not None and verdict[0] != "undecided":
                    return Outcome(verdict, cpu)
                return Outcome(None, cpu, stopped=status == "overrun")
        except (OSError, EOFError):
            used = 0.0
        self._replace(slot)
        return Outcome(None, used, stopped=used >= cpu_limit)

    def close(self) -> None:
        with self._lock:
            processes, self._processes = self._processes, [None] * self.slots.size
        for process in processes:
            if process is not None:
                process.stop()


_POOL = SymbolicPool()


def start() -> None:
    """Start this process's sympy workers ahead of the first formula (a server does, when it starts)."""
    _POOL.start()


def _forget_after_fork() -> None:
    """In a forked child: the parent's workers and their pipes are not ours to use."""
    global _POOL
    _POOL = SymbolicPool()


os.register_at_fork(after_in_child=_forget_after_fork)
