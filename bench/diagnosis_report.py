"""How often the grader names the mistake in realistic wrong answers, before and after the catalogue search.

The corpus ``tests/data/wrong_answers.yaml`` holds wrong answers to the
lecture's exercises written from how students err, each with what a TA would
name: a misconception id, the first wrong step of a sequence (``step 2``),
the wrong place of a vector, matrix or labels part (``component 2``,
``row 2 column 2``, ``case η = 1``), or ``none`` when no name fits. Each is
graded through the one grading function (with the part's earlier answers
where the entry gives them) and judged:

* named: the grader's misconception (or one it names alongside) is one the TA would name;
* located: no misconception, but the first wrong step, component or case is the one the TA would point at;
* misnamed: the grader names a misconception the TA would not;
* missed: neither;
* full credit: a wrong answer scoring full marks (must never happen).

"Before" grades with the written rules only (the catalogue search off),
"after" with the search. Run: ``.venv/bin/python bench/diagnosis_report.py
[--format text|json] [--show missed|misnamed|all]``. It also times the
search of one part beside grading a right answer, in the same run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "wrong_answers.yaml"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.grading import grade  # noqa: E402
from grader.specs.model import Catalog, load_catalog  # noqa: E402

PLACE = re.compile(r"^(step \d+|component \d+|row \d+ column \d+|case .+)$")
UNREADABLE = re.compile(r"None|array\(|\{\{|\}\}|\{[a-z]+\}|Traceback|<[a-z]+ object")


@dataclass
class Judged:
    entry: dict[str, Any]
    verdict: str  # named, located, misnamed, missed
    full_credit: bool
    result: dict[str, Any]


@dataclass
class Figures:
    judged: list[Judged] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(j.verdict for j in self.judged)

    @property
    def diagnosed(self) -> float:
        """The share named or located."""
        return (self.counts["named"] + self.counts["located"]) / len(self.judged)

    @property
    def full_credit(self) -> int:
        return sum(j.full_credit for j in self.judged)

    @property
    def unreadable_feedback(self) -> int:
        """Feedback that is empty or shows program text (None, {placeholders}, reprs)."""
        return sum(not j.result["feedback"] or bool(UNREADABLE.search(j.result["feedback"])) for j in self.judged)

    def to_json(self) -> dict[str, Any]:
        return {
            "answers": len(self.judged),
            **{verdict: self.counts[verdict] for verdict in ("named", "located", "misnamed", "missed")},
            "diagnosed": round(self.diagnosed, 4),
            "full_credit": self.full_credit,
            "unreadable_feedback": self.unreadable_feedback,
        }


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def judge(entry: dict[str, Any], part: dict[str, Any]) -> str:
    """named / located / misnamed / missed, from what the TA expects (see the module)."""
    expected = [str(e) for e in entry["expect"]]
    names = {e for e in expected if not PLACE.match(e) and e != "none"}
    given = [part["misconception"], *part["details"].get("also", [])] if part["misconception"] else []
    if names & set(given):
        return "named"
    if given:
        return "misnamed"
    details = part["details"]
    for place in (e for e in expected if PLACE.match(e)):
        kind, _, what = place.partition(" ")
        if kind == "step" and details.get("first_wrong_step") == int(what):
            return "located"
        if kind in ("component", "row") and part["score"] > 0 and place in details.get("wrong", []):
            return "located"
        if kind == "case" and part["score"] > 0 and what in details.get("wrong_cases", []):
            return "located"
    return "missed"


def evaluate(catalog: Catalog, entries: list[dict[str, Any]]) -> Figures:
    figures = Figures()
    for entry in entries:
        answers = {**entry.get("earlier", {}), entry["part"]: entry["answer"]}
        graded = grade({"student": "default", "answers": {entry["exercise"]: answers}}, catalog).to_json()
        (exercise,) = graded["exercises"]
        part = next(p for p in exercise["parts"] if p["id"] == entry["part"])
        figures.judged.append(Judged(entry, judge(entry, part), part["score"] >= part["max_score"], part))
    return figures


def before_and_after(entries: list[dict[str, Any]] | None = None) -> tuple[Figures, Figures]:
    """The figures with the written rules only, and with the catalogue search."""
    entries = entries if entries is not None else load_corpus()
    before_catalog = load_catalog(None)
    before_catalog.search = False
    return evaluate(before_catalog, entries), evaluate(load_catalog(None), entries)


def search_cost() -> dict[str, float]:
    """Milliseconds to search the catalogue for one part of a variant (paid once, when an answer is first wrong
    there), beside grading a right answer to it, over every part of the default variants (median and max)."""
    import statistics
    import time

    from grader.specs.catalogue import search_answers
    from grader.specs.model import render

    catalog = load_catalog(None)
    searched, checked = [], []
    for exercise in catalog.exercises.values():
        params = catalog.variant(exercise, None)
        for part, key in zip(exercise.parts, catalog.keys(exercise, params), strict=True):
            if part.answer is None or part.kind in ("text", "expression", "choice"):
                continue
            start = time.perf_counter()
            search_answers(part.answer, part.kind, params, key.reference, render=render)
            middle = time.perf_counter()
            grade(
                {"student": "default", "answers": {exercise.id: {part.id: key.type.submitted(key.reference)}}}, catalog
            ).to_json()
            searched.append((middle - start) * 1000)
            checked.append((time.perf_counter() - middle) * 1000)
    return {
        "search_median_ms": round(statistics.median(searched), 1),
        "search_max_ms": round(max(searched), 1),
        "grade_right_answer_median_ms": round(statistics.median(checked), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--show", choices=("missed", "misnamed", "all"), help="list these answers (after)")
    args = parser.parse_args()
    before, after = before_and_after()
    cost = search_cost()
    if args.format == "json":
        print(json.dumps({"before": before.to_json(), "after": after.to_json(), "cost": cost}, indent=2))
    else:
        print(f"{len(after.judged)} wrong answers ({CORPUS.relative_to(ROOT)})")
        print(f"{'':22}{'before':>10}{'after':>10}")
        for name in ("named", "located", "misnamed", "missed"):
            print(f"{name:22}{before.counts[name]:>10}{after.counts[name]:>10}")
        print(f"{'diagnosed (target 90%)':22}{before.diagnosed:>10.1%}{after.diagnosed:>10.1%}")
        print(f"{'full credit (target 0)':22}{before.full_credit:>10}{after.full_credit:>10}")
        print(f"{'unreadable feedback':22}{before.unreadable_feedback:>10}{after.unreadable_feedback:>10}")
        print(
            f"search of one part: median {cost['search_median_ms']} ms, max {cost['search_max_ms']} ms "
            f"(once per variant); grading a right answer: median {cost['grade_right_answer_median_ms']} ms"
        )
    if args.show:
        for judged in after.judged:
            if args.show == "all" or judged.verdict == args.show:
                entry, result = judged.entry, judged.result
                print(
                    f"- {judged.verdict}: {entry['exercise']}/{entry['part']} {entry['answer']!r} "
                    f"(TA: {', '.join(map(str, entry['expect']))}) -> {result['misconception']} "
                    f"{result['score']}/{result['max_score']}: {result['feedback']}"
                )


if __name__ == "__main__":
    main()
