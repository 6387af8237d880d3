"""Error carried forward that cannot be gamed by a wrong step onto a fixed point, or by repeating values.

Carried credit is for doing the remaining work right from a wrong start. Once
a wrong step lands where the rule stands still (the minimum, for gradient
descent), every later step "follows" by copying it; those copies, and the
values computed from them, earn nothing (grader.checking.carried.repeated_items).
The properties run over every sequence part of exercises/, with answers built
from the reference, from the rule applied to the student's own items, from
fixed points of the rule, from repeats and from noise.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from grader.answers import answer_type
from grader.answers.parts import check_part
from grader.checking.carried import carried_reference, next_item
from grader.checking.key import AnswerKey
from grader.grading import grade
from grader.paths import exercises_dir
from grader.specs.model import Catalog

# Every sequence part of the project's exercises, read from the YAML (no catalog at collection time);
# `carries` marks the parts that give carried credit (a `step:` or a `carried:` rule).
SEQUENCE_PARTS = sorted(
    (spec["id"], part["id"], "step" in part or "carried" in part)
    for spec in (yaml.safe_load(path.read_text()) for path in sorted(exercises_dir().glob("*.yaml")))
    if "parts" in spec
    for part in spec["parts"]
    if part.get("type") == "sequence"
)
ALL_PARTS = [pytest.param(exercise, part, id=f"{exercise}/{part}") for exercise, part, _ in SEQUENCE_PARTS]
CARRYING_PARTS = [pytest.param(e, p, id=f"{e}/{p}") for e, p, carries in SEQUENCE_PARTS if carries]


def test_the_properties_cover_the_lectures_sequence_exercises() -> None:
    named = {(exercise, part) for exercise, part, carries in SEQUENCE_PARTS if carries}
    assert {("gd-parabola", "iterates"), ("gd-parabola", "values"), ("momentum-iterations", "iterates")} <= named
    assert ("sgd-epoch", "weights") in named


def parts(catalog: Catalog, exercise: str, answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = grade({"student": "default", "answers": {exercise: answers}}, catalog).to_json()
    return {p["id"]: p for p in result["exercises"][0]["parts"]}


# The three answers of the issue ------------------------------------------------------------------

COPIED = "only repeat your earlier value"


def test_a_wrong_step_onto_the_minimum_earns_nothing_for_the_steps_that_stay_there(catalog: Catalog) -> None:
    got = parts(catalog, "gd-parabola", {"iterates": "4, 2, 0, 0, 0, 0", "values": "18, 6, 2, 2, 2, 2"})
    iterates, values = got["iterates"], got["values"]
    # x₀, x₁ right; x₂ = 0 a wrong step; x₃ … x₅ = 0 only copy it (was 5/6, and 6/6 for the values).
    assert iterates["score"] == 2 and iterates["status"] == "partial"
    assert iterates["details"]["first_wrong_step"] == 2 and iterates["details"]["repeated_steps"] == [3, 4, 5]
    assert iterates["feedback"] == (
        "Step 2 is off: from x₁ = 2 the update gives x₂ = 1; you wrote 0. x₃, x₄, x₅ only repeat your earlier "
        "value 0 while the right sequence keeps moving, so they earn no credit for following from your own values."
    )
    # 18 and 6 are right, f(x₂) = 2 is f of the student's own x₂; the three 2s after it only copy it.
    assert values["score"] == 3 and values["details"]["repeated_steps"] == [3, 4, 5]
    assert "f(x)₃, f(x)₄, f(x)₅ only repeat your earlier value 2" in values["feedback"]
    assert iterates["score"] + values["score"] <= 6  # at most half of the exercise (was 11/12)


def test_a_first_step_onto_the_minimum_earns_at_most_its_misconception(catalog: Catalog) -> None:
    got = parts(catalog, "gd-parabola", {"iterates": "4, 0, 0, 0, 0, 0", "values": "18, 2, 2, 2, 2, 2"})
    iterates, values = got["iterates"], got["values"]
    assert iterates["misconception"] == "doubled-eta"  # 2η lands on the minimum in one step
    assert iterates["score"] == 1.5  # the misconception's own credit, no longer 5/6 carried
    assert COPIED + " 0" in iterates["feedback"]
    assert values["score"] == 2  # 18 right and f(x₁) = 2 from the student's x₁; the copies nothing
    assert COPIED + " 2" in values["feedback"]
    assert iterates["score"] + values["score"] <= 6  # was 11/12


def test_one_slip_then_honest_steps_keeps_its_carried_credit(catalog: Catalog) -> None:
    iterates = [4, 2, 1.5, 0.75, 0.375, 0.1875]
    values = ", ".join(str(x * x + 2) for x in iterates)
    got = parts(catalog, "gd-parabola", {"iterates": ", ".join(map(str, iterates)), "values": values})
    assert got["iterates"]["score"] == 5 and got["iterates"]["details"]["wrong_steps"] == [2]
    assert got["iterates"]["feedback"].endswith(
        "Your later steps follow correctly from your value, so they keep their credit."
    )
    assert "repeated_steps" not in got["iterates"]["details"]
    assert got["values"]["score"] == 6 and got["values"]["status"] == "correct"


def test_the_rule_knows_no_update_rule_a_contraction_to_2_is_gamed_alike() -> None:
    """x_{t+1} = x_t/2 + 1 stands still at 2: a wrong step onto 2 earns nothing for the steps after it."""
    key = AnswerKey(
        part="iterates",
        type=answer_type("sequence").configure({}),
        points=6,
        reference=[10.0, 6.0, 4.0, 3.0, 2.5, 2.25],
        step=lambda prefix: prefix[-1] / 2 + 1,
    )
    gamed = check_part(key, "10, 6, 2, 2, 2, 2")[0]
    assert gamed.score == 2 and gamed.details["repeated_steps"] == [3, 4, 5]
    honest = check_part(key, "10, 6, 5, 3.5, 2.75, 2.375")[0]  # x₂ wrong, then the rule from it
    assert honest.score == 5 and "keep their credit" in honest.feedback


# Properties over every sequence part --------------------------------------------------------------


def keys_of(catalog: Catalog, exercise: str) -> list[AnswerKey]:
    spec = catalog.exercises[exercise]
    return catalog.keys(spec, catalog.variant(spec, "default"))


def as_json(item: Any) -> Any:
    """A value the grader computed, as the plain JSON a student's script would send."""
    if isinstance(item, list | tuple):
        return [as_json(x) for x in item]
    return float(item)


def near(a: Any, b: Any, key: AnswerKey) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(near(x, y, key) for x, y in zip(a, b, strict=True))
    tolerance = key.tolerance
    return abs(float(a) - float(b)) <= max(tolerance.atol, tolerance.rtol * abs(float(b)))


def copied(key: AnswerKey, answer: list[Any]) -> int:
    """How many items repeat an earlier item of the answer where the reference does not repeat (and are not
    the reference's own item): the oracle the rule is held to, written without the grader's code."""
    reference = key.reference
    return sum(
        1
        for k in range(1, len(answer))
        if not near(answer[k], reference[k], key)
        and any(near(answer[k], answer[j], key) and not near(reference[k], reference[j], key) for j in range(k))
    )


def fixed_point(key: AnswerKey) -> Any:
    """Where the rule (from one item, so without state) stands still, found by running it; None if it does not settle."""
    if key.step is None:
        return None
    point = key.reference[-1]
    for _ in range(200):
        following = next_item(key, [point])
        if following is None:
            return None
        point = as_json(following)
    return point if near(as_json(next_item(key, [point])), point, key) else None


def noise(key: AnswerKey) -> st.SearchStrategy[Any]:
    number = st.floats(-20, 20, allow_nan=False).map(lambda x: round(x, 3))
    first = key.reference[0]
    return st.lists(number, min_size=len(first), max_size=len(first)) if isinstance(first, list) else number


def zero(key: AnswerKey) -> Any:
    first = key.reference[0]
    return [0.0] * len(first) if isinstance(first, list) else 0.0


def draw_answer(
    data: st.DataObject, key: AnswerKey, earlier: dict[str, Any], tail_from: int | None = None
) -> list[Any]:
    """A wrong-ish answer built item by item: the reference's item, the rule applied to the answer so far (or
    the item recomputed from the earlier parts), a fixed point of the rule, zero, a repeat, or noise. From
    ``tail_from`` on, only repeats and the rule: a tail that follows by copying."""
    carried = carried_reference(key, earlier)
    fixed = fixed_point(key)
    answer: list[Any] = []
    for k in range(len(key.reference)):
        if tail_from is not None and k >= tail_from:
            how = data.draw(st.sampled_from(["repeat", "repeat", "repeat", "follow"]))
        else:
            how = data.draw(st.sampled_from(["reference", "follow", "follow", "fixed", "zero", "repeat", "noise"]))
        item = None
        if how == "reference":
            item = key.reference[k]
        elif how == "follow":
            if carried is not None and len(carried) == len(key.reference):
                item = carried[k]
            else:
                item = next_item(key, answer) if k else key.reference[0]
        elif how == "fixed":
            item = fixed
        elif how == "zero":
            item = zero(key)
        elif how == "repeat" and k:
            item = answer[data.draw(st.sampled_from([k - 1, *range(k)]))]
        if item is None or not all(math.isfinite(x) for x in _flat(as_json(item))):
            item = data.draw(noise(key))
        answer.append(as_json(item))
    return answer


def _flat(item: Any) -> list[float]:
    return [float(x) for x in item] if isinstance(item, list) else [float(item)]


def answer_exercise(
    data: st.DataObject, catalog: Catalog, exercise: str, part: str, tail_from: int | None = None
) -> tuple[AnswerKey, list[Any], Any, dict[str, Any]]:
    """Draw answers to the sequence parts up to ``part`` (so a ``carried:`` part has the student's own earlier
    values), check them in order; the key, answer and result of ``part``, and the values read before it."""
    earlier: dict[str, Any] = {}
    for key in keys_of(catalog, exercise):
        if key.kind != "sequence":
            continue
        answer = draw_answer(data, key, earlier, tail_from if key.part == part else None)
        result, value = check_part(key, answer, earlier)
        if key.part == part:
            return key, answer, result, earlier
        earlier[key.part] = value
    raise AssertionError(f"{exercise} has no sequence part {part}")


def right(key: AnswerKey, answer: list[Any]) -> bool:
    return near(answer, key.reference, key)


def honest(key: AnswerKey, answer: list[Any], earlier: dict[str, Any]) -> bool:
    """Each item the reference's or the one recomputed from the student's own earlier answers (error carried
    forward is judged item by item), with no item only copying another."""
    carried = carried_reference(key, earlier)
    if carried is None or len(carried) != len(answer):
        return False
    each = all(
        near(item, key.reference[k], key) or near(item, as_json(carried[k]), key) for k, item in enumerate(answer)
    )
    return each and copied(key, answer) == 0


@pytest.mark.parametrize(("exercise", "part"), ALL_PARTS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_no_wrong_answer_gets_full_credit(catalog: Catalog, exercise: str, part: str, data: st.DataObject) -> None:
    key, answer, result, earlier = answer_exercise(data, catalog, exercise, part)
    if not right(key, answer) and not honest(key, answer, earlier):
        assert result.score < result.max_score, (answer, result.feedback)


@pytest.mark.parametrize(("exercise", "part"), CARRYING_PARTS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_copied_items_earn_nothing_and_a_copied_half_at_most_half(
    catalog: Catalog, exercise: str, part: str, data: st.DataObject
) -> None:
    n = next(len(key.reference) for key in keys_of(catalog, exercise) if key.part == part)
    tail_from = data.draw(st.integers(1, max(1, n // 2)))  # a tail of at least half the items
    key, answer, result, _ = answer_exercise(data, catalog, exercise, part, tail_from)
    copies = copied(key, answer)
    fraction = result.score / result.max_score
    named = 0.5 if result.misconception else 0.0  # a named mistake keeps its own credit, never above half
    assert fraction <= max((n - copies) / n, named) + 1e-6, (answer, result.feedback)
    if 2 * copies >= n:
        assert fraction <= 0.5 + 1e-6, (answer, result.feedback)


@pytest.mark.parametrize(("exercise", "part"), CARRYING_PARTS)
# a schedule's step-decay rates repeat by design, so many drawn slips land on a value already given: filtered
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_one_slip_then_the_rule_keeps_all_but_one_share(
    catalog: Catalog, exercise: str, part: str, data: st.DataObject
) -> None:
    """The reference up to step k, a wrong x_k, then the rule (or the recomputation) from the student's own values."""
    earlier: dict[str, Any] = {}
    for key in keys_of(catalog, exercise):
        if key.kind != "sequence":
            continue
        n = len(key.reference)
        carried = carried_reference(key, earlier)
        if carried is not None:
            answer = as_json(carried)
        else:
            k = data.draw(st.integers(1, n - 1))
            slip = data.draw(noise(key))
            assume(not near(slip, key.reference[k], key))
            answer = [as_json(x) for x in key.reference[:k]] + [slip]
            while len(answer) < n:
                following = next_item(key, answer)
                assume(following is not None)
                answer.append(as_json(following))
            assume(all(math.isfinite(x) for item in answer for x in _flat(item)))
        result, value = check_part(key, answer, earlier)
        if key.part == part:
            assume(copied(key, answer) == 0)  # a slip that happens to land on a value already given is another case
            share = 1.0 if carried is not None else (n - 1) / n
            assert result.score == pytest.approx(result.max_score * share, abs=1e-6), (answer, result.feedback)
            return
        earlier[key.part] = value
