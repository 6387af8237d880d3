"""Symbolic equivalence judged against pairs a teacher and a student wrote, with known verdicts.

The pairs (tests/data/equivalence_pairs.yaml) cover algebra, exp/log,
trigonometric and hyperbolic functions (sec, csc, cot, sinh, cosh, tanh,
csch), factorials and binomials, absolute values, the sigmoid and the
course's update rules, powers of negative numbers, and decimals inside
formulas; the last 46 follow the kinds of STACK's AlgEquiv tests (rational
functions, powers and roots, logs and exponentials, trigonometric
identities, absolute values and the traps of roots of squares). The bar: at
least 95 % of verdicts agree, no wrong formula is accepted, and every refusal
("undefined", "too complex") is true; and when sympy gives no verdict (every
worker busy), sampling accepts no wrong formula and marks no right one wrong
(what it cannot decide waits for a TA).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.checking import symbolic
from grader.checking.symbolic import compare
from grader.expressions import parse

PAIRS = yaml.safe_load((Path(__file__).parent / "data" / "equivalence_pairs.yaml").read_text(encoding="utf-8"))["pairs"]
REFUSALS = {"undefined", "too-complex"}


def verdict_of(reference: str, student: str, variables: str) -> str:
    """The grader's verdict in the file's words: equal, rounded, coarse, different, undefined, too-complex."""
    names = variables.split()
    comparison = compare(parse(student, names), reference, names)
    if comparison.how in ("rounded", "coarse", "undefined", "too-complex", "review"):
        return comparison.how
    return "equal" if comparison.equal else "different"


@pytest.fixture(scope="module")
def outcomes() -> list[tuple[list, str]]:
    return [(pair, verdict_of(pair[0], pair[1], pair[3] if len(pair) > 3 else "x")) for pair in PAIRS]


def test_the_set_is_large_and_covers_every_class():
    assert len(PAIRS) >= 100
    verdicts = {pair[2] for pair in PAIRS}
    assert verdicts == {"equal", "different", "rounded", "coarse", "undefined"}
    written = " ".join(pair[0] + " " + pair[1] for pair in PAIRS)
    for notation in ("sec(", "csc(", "sinh(", "cosh(", "tanh(", "csch(", "!", "binomial(", "|", "sigmoid(", "σ(",
                     "ln(", "e^", "exp(", "abs("):  # fmt: skip
        assert notation in written, notation


def test_at_least_95_percent_of_verdicts_agree(outcomes):
    disagreements = [(pair, got) for pair, got in outcomes if got != pair[2]]
    agreement = 1 - len(disagreements) / len(outcomes)
    print(f"\nequivalence pairs: {len(outcomes) - len(disagreements)}/{len(outcomes)} agree ({agreement:.1%})")
    assert agreement >= 0.95, disagreements


def test_no_wrong_formula_is_accepted(outcomes):
    accepted = {"equal", "rounded"}
    false_accepts = [(pair, got) for pair, got in outcomes if got in accepted and pair[2] not in accepted]
    assert false_accepts == []


def test_every_refusal_is_true(outcomes):
    untrue = [(pair, got) for pair, got in outcomes if got in REFUSALS and pair[2] != got]
    assert untrue == []


def test_the_pairs_written_like_stacks_tests_all_agree(outcomes):
    stack = outcomes[139:]
    assert len(stack) >= 40
    assert [(pair, got) for pair, got in stack if got != pair[2]] == []


class _Busy:
    def decide(self, *args: object, **kwargs: object) -> symbolic.Outcome:
        return symbolic.Outcome(None)


def test_without_sympy_sampling_accepts_nothing_wrong_and_marks_nothing_right_wrong(monkeypatch):
    monkeypatch.setattr(symbolic, "_POOL", _Busy())
    right, wrong = {"equal", "rounded"}, {"different", "coarse", "undefined"}
    outcomes = [(pair, verdict_of(pair[0], pair[1], pair[3] if len(pair) > 3 else "x")) for pair in PAIRS]
    assert [(p, got) for p, got in outcomes if got in right and p[2] not in right] == []
    assert [(p, got) for p, got in outcomes if got == "different" and p[2] in right] == []
    assert [p for p, got in outcomes if got == "review" and p[2] not in right | wrong] == []
    agreement = sum(got == p[2] or (got == "equal" and p[2] == "rounded") for p, got in outcomes) / len(outcomes)
    print(f"\nwithout sympy: {agreement:.1%} agree, {sum(got == 'review' for _, got in outcomes)} to a TA")
    assert agreement >= 0.9
