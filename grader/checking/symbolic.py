"""Symbolic equivalence of formulas, with a hard time limit that works in any thread.

What "equivalent" means: the two formulas take the same value at every real
point where both are defined, where a value is the *principal* one (as in
sympy and in complex arithmetic: ``(−8)**(1/3)`` is a complex number, not
−2, and ``log(x)`` at a negative x is ``log|x| + iπ``). So ``sqrt(x)**2``
equals ``x``, but ``sqrt(x**2)`` is ``|x|``, not ``x``, ``log(x**2)`` is not
``2 log(x)``, and ``(a**b)**c`` is not ``a**(b*c)``: they differ at negative
bases, which are checked like any other point, never skipped.

How it is decided (:func:`compare`), in a sympy worker process (started with
``spawn``, safe in a threaded web server) that the caller waits for at most
``SYMBOLIC_SECONDS``:

1. sympy builds both sides (decimals as the exact rationals they spell);
2. both are evaluated to 30 digits at a few exact rational points (negative
   ones included); two values that differ beyond any rounding doubt prove the
   formulas different, at once and whatever simplify would say;
3. ``simplify(student − reference) == 0`` proves them equal;
4. a student's decimal is a rounding: when replacing each decimal by a
   number it rounds (one of the reference's own rationals, or the simplest
   fraction within half a unit of its last digit) makes the formula exactly
   equal, the answer is right with a note (``0.333333333333333`` read as
   1/3); with fewer than ``MIN_DIGITS`` significant figures it is too coarse
   (partial). ``0.99999999`` does not round 1, so ``0.99999999*x`` is not
   ``x`` (the feedback says it is close, not equal).

Only when sympy neither proves nor disproves in time are the formulas
compared numerically, in complex arithmetic (principal values, like step
2), at random real points. Sampling never overrules a proof. "Too complex to
check" is said only when sympy ran out of time *and* the values overflow
floating point; a formula with no finite value anywhere is said to be so.
"""

from __future__ import annotations

import functools
import multiprocessing
import re
import threading
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice, product
from typing import Any

import numpy as np

from grader import budget
from grader.expressions import CONSTANTS, FUNCTIONS, Formula, normalise, parse, significant_figures

SYMBOLIC_SECONDS = 1.0
STARTUP_SECONDS = 15.0  # starting Python and importing sympy, once per worker
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
    with budget.uncounted():  # the worker has its own time limit; waiting for it costs this thread nothing
        _warm_numpy()
        verdict = _WORKER.decide(student.text, target.text, names)
    if verdict is not None:
        kind, note = verdict
        if kind == "equal":
            return Comparison(True, "symbolic", 1.0)
        if kind == "rounded":
            return Comparison(True, "rounded", 1.0, note)
        if kind == "coarse":
            return Comparison(False, "coarse", 0.5, note)
        if kind == "different":
            close = _numerically_equal(student, target, rtol=1e-6) is True
            return Comparison(False, "symbolic", 0.0, _CLOSE if close else "")
    numeric = _numerically_equal(student, target)
    if numeric is not None:
        return Comparison(numeric, "numeric", 1.0 if numeric else 0.0)
    for side, formula in (("Your formula", student), ("The expected formula", target)):
        if not _finite_anywhere(formula, names):
            return Comparison(False, "undefined", 0.0, f"{side} has no finite value at any point tried.")
    return Comparison(False, "too-complex", 0.0, "Its values are too large to compare; simplify it.")


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


@functools.cache
def _warm_numpy() -> None:
    """numpy's first random generator and complex evaluation cost ~20 ms, once per process: not an answer's cost."""
    _numerically_equal(parse("x", ["x"]), parse("x", ["x"]))


def _sample_points(count: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(20261126)
    return rng.uniform(-3.0, 3.0, size=(count, max(width, 1)))


def _values(formula: Formula, names: list[str], points: np.ndarray) -> np.ndarray:
    values = formula.compile(names, dtype=np.complex128)(*points.T[: len(names)])
    return np.broadcast_to(np.asarray(values, dtype=np.complex128), (len(points),))


def _numerically_equal(a: Formula, b: Formula, rtol: float = 1e-9) -> bool | None:
    """Compare principal values at random real points; None when fewer than 3 are finite on both sides."""
    names = sorted(a.names | b.names)
    points = _sample_points(SAMPLES, len(names))
    left, right = _values(a, names, points), _values(b, names, points)
    usable = np.isfinite(left) & np.isfinite(right)
    if usable.sum() < 3:
        return None
    gap = np.abs(left[usable] - right[usable])
    scale = np.maximum(np.abs(left[usable]), np.abs(right[usable]))
    return bool(np.all(gap <= rtol * scale + 1e-12))


def _finite_anywhere(formula: Formula, names: list[str]) -> bool:
    return bool(np.isfinite(_values(formula, names, _sample_points(SAMPLES, len(names)))).any())


# In the worker process ---------------------------------------------------------------------------

# Exact points: small rationals of both signs, away from 0 and ±1 where many identities hold by accident.
_POINT_VALUES = ("2/3", "-3/2", "5/4", "-1/3", "7/5", "-5/2", "1/2", "-4/5")
_POINTS = 6


def decide(student: str, reference: str, names: list[str]) -> tuple[str, str]:
    """sympy's verdict on two formula texts: ("equal" | "different" | "rounded" | "coarse" | "undecided", note)."""
    import sympy

    a, b = parse(student, names), parse(reference, names)
    symbols = {name: sympy.Symbol(name, real=True) for name in names}
    target = b.to_sympy(symbols)
    verdict = _exact_verdict(a.to_sympy(symbols), target, symbols, sympy)
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
    """Whether both sides are finite at ``point`` and differ by more than rounding at ``DIGITS`` digits could."""
    left, right = _value_at(a, point, sympy), _value_at(b, point, sympy)
    if left is None or right is None:
        return False
    gap = sympy.Abs(left - right).evalf(DIGITS)
    scale = sympy.Max(sympy.Abs(left), sympy.Abs(right)).evalf(DIGITS)
    return bool(gap > DIFFERENT * scale)


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


def _serve(connection: Any) -> None:
    """Worker loop: say ``ready`` once sympy is imported, then answer (student, reference, names) with
    :func:`decide`'s verdict (None when sympy failed)."""
    decide("cosh(x)**2 - sinh(x)**2 + sec(x)", "1 + sec(x)", ["x"])  # import and warm sympy's simplify once

    connection.send("ready")
    while True:
        try:
            student, reference, names = connection.recv()
        except EOFError:
            return
        try:
            connection.send(decide(student, reference, names))
        except (Exception, RecursionError):  # any failure of sympy is "undecided", not a dead worker
            connection.send(None)


class _Process:
    """One sympy process and the pipe to it; ``ready`` once it has said so."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True, name="grader-sympy")
        self.process.start()
        child.close()
        self.ready = False

    def wait_until_ready(self, timeout: float) -> None:
        if not self.ready:
            if not self.connection.poll(timeout) or self.connection.recv() != "ready":
                raise EOFError("the sympy worker did not start")
            self.ready = True

    def stop(self) -> None:
        self.process.kill()
        self.process.join(timeout=1)
        self.connection.close()


class _SympyWorker:
    """A sympy process and a warm spare; requests are serialised, an overrun kills the process.

    The spare takes over a killed process at once, and a new spare imports
    and warms sympy while nobody waits; a request waits for a process to be
    ready (up to ``STARTUP_SECONDS``) only when overruns come faster than
    spares start. Thus a slow formula costs its own request the time limit,
    not the requests after it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: _Process | None = None
        self._spare: _Process | None = None

    def _replace(self) -> None:
        """Stop the active process; the spare (or a new process) takes its place; start a new spare."""
        if self._active is not None:
            self._active.stop()
        self._active, self._spare = self._spare, None
        try:
            self._active = self._active or _Process()
            self._spare = _Process()
        except OSError:
            pass

    def decide(
        self, student: str, reference: str, names: list[str], timeout: float = SYMBOLIC_SECONDS
    ) -> tuple[str, str] | None:
        """The worker's verdict, or None when it failed, was undecided or did not answer within ``timeout``."""
        with self._lock:
            try:
                if self._active is None or not self._active.process.is_alive():
                    self._replace()
                if self._active is not None:
                    self._active.wait_until_ready(STARTUP_SECONDS)
                    self._active.connection.send((student, reference, names))
                    if self._active.connection.poll(timeout):
                        verdict = self._active.connection.recv()
                        return None if verdict is None or verdict[0] == "undecided" else verdict
            except (OSError, EOFError):
                pass
            self._replace()
            return None


_WORKER = _SympyWorker()
