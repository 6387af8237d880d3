"""Symbolic equivalence: sympy in a worker process with a hard time limit, numeric sampling as fallback."""

from __future__ import annotations

import math
import threading
import warnings

import pytest

from grader.checking import symbolic
from grader.checking.symbolic import equivalent
from grader.expressions import ExpressionError, parse


@pytest.fixture(scope="module", autouse=True)
def warm_worker():
    """Start the sympy worker once, so that the timings below measure checking, not starting Python."""
    equivalent(parse("x"), parse("x"))


@pytest.mark.parametrize(
    ("student", "reference"),
    [
        ("x^2+2", "x**2 + 2"),
        ("2x", "2*x"),
        ("(x+1)**2", "x**2+2*x+1"),
        ("sin(x)**2 + cos(x)**2", "1"),
        ("(x+1)(x-1)", "x^2 - 1"),
        ("exp(2*log(x))", "x**2"),
    ],
)
def test_equivalent_formulas(student, reference):
    equal, how = equivalent(parse(student), parse(reference))
    assert equal
    assert how in ("symbolic", "numeric")


def test_sympy_decides_the_simple_cases():
    assert equivalent(parse("(x+1)**2"), parse("x**2+2*x+1")) == (True, "symbolic")


@pytest.mark.parametrize(
    ("student", "reference"),
    [("x**2", "x**3"), ("2*x", "x**2"), ("x^2 + 2", "x^2 - 2"), ("sqrt(x**2)", "x")],
)
def test_different_formulas(student, reference):
    assert equivalent(parse(student), parse(reference))[0] is False


def test_sympy_decides_in_variables_beyond_the_defaults():
    names = {"w", "a", "y"}
    student, reference = parse("2a(w a - y)", names), parse("2*w*a**2 - 2*a*y", names)
    assert equivalent(student, reference) == (True, "symbolic")


def test_the_reference_may_be_given_as_text():
    assert equivalent(parse("2x"), "x + x")[0]


# Equal at every point, but sympy.simplify of their difference takes seconds: about 4 s of CPU on a quiet
# machine, four times the limit (the power 100 took 1.2 s, too close to it: a fast machine proved it in time).
EXPENSIVE, EXPENSIVE_EQUAL = "(x+1)**200*(x-1)**200", "(x**2-1)**200"


def test_an_expensive_expression_is_cut_off_and_settled_by_sampling():
    """sympy would prove these equal after seconds; the limit stops it and random points decide.
    (How long the cut takes is measured by bench/bench_hostile.py, not here.)"""
    assert equivalent(parse(EXPENSIVE), parse(EXPENSIVE_EQUAL)) == (True, "numeric")


def test_a_difference_at_an_exact_point_is_found_without_simplifying():
    """((x+1)**1000)*((x+3)**999) would take sympy.simplify far longer than the limit: "symbolic"
    (not "numeric") shows that the exact points proved the difference before the limit."""
    assert equivalent(parse("((x+1)**1000)*((x+3)**999)"), parse("x")) == (False, "symbolic")


def test_a_number_too_large_to_compute_exactly_is_refused_when_parsed():
    with pytest.raises(ExpressionError, match="too large to compute exactly"):
        parse("((2**1000)**1000)**1000*x")


def test_overruns_in_a_row_are_each_cut_off_and_the_worker_recovers():
    """A killed worker is replaced by its warm spare, and proofs work again afterwards."""
    for _ in range(3):
        assert equivalent(parse(EXPENSIVE), parse(EXPENSIVE_EQUAL)) == (True, "numeric")
    assert equivalent(parse("x^2+2"), parse("x**2 + 2")) == (True, "symbolic")


def test_the_time_limit_works_off_the_main_thread():
    """A web server checks answers in worker threads, where signal.alarm cannot be used."""
    outcome: dict = {}

    def check() -> None:
        try:
            outcome["simple"] = equivalent(parse("sin(x)**2 + cos(x)**2"), parse("1"))
            outcome["expensive"] = equivalent(parse(EXPENSIVE), parse(EXPENSIVE_EQUAL))
        except BaseException as exc:  # report anything to the main thread
            outcome["error"] = exc

    thread = threading.Thread(target=check)
    thread.start()
    thread.join(timeout=120)  # a hang guard, not a speed claim
    assert not thread.is_alive()
    assert "error" not in outcome
    assert outcome["simple"][0] is True
    assert outcome["expensive"] == (True, "numeric")


def test_checks_from_several_threads_at_once():
    results: list = []

    def check(k: int) -> None:
        results.append(equivalent(parse(f"{k}*x + x"), parse(f"{k + 1}x"))[0])

    threads = [threading.Thread(target=check, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [True] * 6


# When sympy decides nothing in time --------------------------------------------------------------------------


class _Busy:
    """A pool whose workers are all taken: sympy gives no verdict, sampling decides (as under load)."""

    def decide(self, *args: object, **kwargs: object) -> symbolic.Outcome:
        return symbolic.Outcome(None)


@pytest.fixture
def no_sympy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(symbolic, "_POOL", _Busy())


# (x - 1)^20 written out: its terms reach 10^7 where the value is near 0, so floating point loses every digit
# near x = 1 and random points used to call these two different.
EXPANDED = " + ".join(f"{math.comb(20, k) * (-1) ** (20 - k)}*x**{k}" for k in range(21)).replace("+ -", "- ")


def test_an_equal_formula_sympy_cannot_settle_is_settled_by_precise_sampling(no_sympy: None) -> None:
    assert equivalent(parse(EXPANDED), parse("(x - 1)**20")) == (True, "numeric")
    assert equivalent(parse("(x+1)**200*(x-1)**200"), parse("(x**2-1)**200")) == (True, "numeric")


def test_sampling_still_finds_a_difference(no_sympy: None) -> None:
    assert equivalent(parse(EXPANDED + " + 1e-6"), parse("(x - 1)**20")) == (False, "numeric")
    assert equivalent(parse("sqrt(x**2)"), parse("x")) == (False, "numeric")
    assert equivalent(parse("abs(x - 1)**20"), parse("(x - 1)**20")) == (True, "numeric")


def test_what_sampling_cannot_decide_goes_to_a_ta(no_sympy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Floating point disagrees, and the precise evaluation cannot say (here: made unable): not wrong, reviewed."""
    monkeypatch.setattr(symbolic, "precise_gap", lambda *args: None)
    verdict = symbolic.compare(parse(EXPANDED), "(x - 1)**20", ["x"])
    assert (verdict.equal, verdict.how) == (False, "review") and "TA" in verdict.note


def test_an_undecided_formula_is_never_marked_incorrect(no_sympy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.grading import grade
    from grader.specs.model import load_catalog

    monkeypatch.setattr(symbolic, "precise_gap", lambda *args: None)
    # σ'(z) plus (z + 3)^12 minus the same written out: equal, but floating point loses digits near z = 3
    expanded = " + ".join(f"{math.comb(12, k) * 3 ** (12 - k)}*z**{k}" for k in range(13))
    answer = f"sigmoid(z)*(1 - sigmoid(z)) + (z + 3)**12 - ({expanded})"
    result = grade({"answers": {"logistic-derivative": {"sigmoid": answer}}}, load_catalog(None)).to_json()
    part = result["exercises"][0]["parts"][0]
    assert part["status"] == "needs_review" and part["details"]["method"] == "review", part


def test_sampling_formulas_that_overflow_on_both_sides_raises_no_warning():
    # STACK's fixture 426: both sides overflow floating point at most points (inf − inf there)
    student, reference = parse("258552*x^7*(81*x^8+1)^398", ["x"]), parse("x^3*(x^4+1)^399", ["x"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert symbolic.numerically_same(student, reference) is False
        assert symbolic.could_be_equal(student, reference) is False


# The same real function: written another way that is real exactly where the other is ------------------------

REAL_EQUAL = [
    ("eta*m*sqrt(1/v)", "eta*m/sqrt(v)", ["eta", "m", "v"]),  # Adam's step, the root taken of 1/v
    ("2*pi/sqrt(k/m)", "2*pi*sqrt(m/k)", ["k", "m"]),
    ("-log(x)", "log(1/x)", ["x"]),
    ("3*log(x)", "log(x^3)", ["x"]),
]
REAL_DIFFERENT = [
    ("(a^b)^c", "a^(b*c)", ["a", "b", "c"]),  # a = -2, b = 2, c = 1/2: 2 and -2
    ("log(x) + log(y)", "log(x*y)", ["x", "y"]),  # x = y = -1: one real, the other not
    ("2*log(x)", "log(x^2)", ["x"]),
    ("x", "sqrt(x^2)", ["x"]),
    ("sqrt(k/m)*sqrt(m/k)", "1", ["k", "m"]),  # -1 where k/m < 0
]


@pytest.mark.parametrize(("student", "reference", "names"), REAL_EQUAL)
def test_the_same_real_function_written_another_way_is_right(student, reference, names):
    comparison = symbolic.compare(parse(student, names), reference, names)
    assert comparison.equal and comparison.note == ""


@pytest.mark.parametrize(("student", "reference", "names"), REAL_DIFFERENT)
def test_a_formula_real_where_the_other_is_not_or_unequal_where_both_are_is_wrong(student, reference, names):
    comparison = symbolic.compare(parse(student, names), reference, names)
    assert not comparison.equal and comparison.how in ("symbolic", "numeric")
    assert "decimal" not in comparison.note  # no decimal in either: the note never blames one


@pytest.mark.parametrize(("student", "reference", "names"), REAL_EQUAL + REAL_DIFFERENT)
def test_sampling_alone_gives_the_same_verdicts(no_sympy: None, student, reference, names):
    expected = (student, reference, names) in REAL_EQUAL
    assert symbolic.numerically_same(parse(student, names), parse(reference, names)) is expected
