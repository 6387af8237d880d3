"""How well answers written the way students write them are read: tests/data/answers.yaml and answers_heldout.yaml,
and every reference answer as tools and people print it (tests/printed_forms.py).

    python bench/corpus_report.py [--failures] [--json] [--corpus FILE] [--forms | --no-forms] [--students N]

Every answer is graded alone through the one grading path (``grader.grading.grade`` on a submission
for the default variant) and judged against its truth:

- ``right``: read as right means status ``correct`` and full credit;
- ``wrong``: must not get full credit; "diagnosed" when the misconception a TA would name is the one
  reported;
- ``ambiguous``: must be ``invalid``, with feedback naming each reading;
- every ``invalid`` must give a reason and an example of an accepted form (``like …`` / ``e.g.``).

Prints the figures overall and by notation; ``--failures`` lists each answer that missed.

Then the printed forms: each reference answer of every part whose reference is a number, count, vector,
sequence, matrix, interval or labels, rendered by each source's generator (Python/numpy/PyTorch/JAX/pandas,
R, Julia, MATLAB/Octave, calculators, spreadsheets, LaTeX, Markdown, phones, PDF copies, plain text,
prose in four languages) for the default variant and ``--students`` - 1 others, graded the same way: the
share read as right by source, by kind of answer and by form (``--forms`` lists every form), and the forms
of a perturbed value that got full credit (none should).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from grader.grading import grade
from grader.specs.model import load_catalog

TESTS = Path(__file__).resolve().parent.parent / "tests"
DATA = TESTS / "data"
CORPUS = (DATA / "answers.yaml", DATA / "answers_heldout.yaml")
_EXAMPLE = re.compile(r"\blike\b|\be\.g\.|for example|such as|one of:", re.IGNORECASE)


@dataclass(frozen=True)
class Graded:
    """One corpus answer and what the grader made of it."""

    exercise: str
    part: str
    notation: str
    answer: Any
    truth: str
    expected_misconception: str | None
    readings: tuple[str, ...]
    status: str
    score: float
    max_score: float
    misconception: str | None
    feedback: str

    @property
    def full_credit(self) -> bool:
        return self.status == "correct" and self.score == self.max_score

    @property
    def ok(self) -> bool:
        """Whether the grader met this answer's truth."""
        if self.truth == "right":
            return self.full_credit
        if self.truth == "wrong":
            return not self.full_credit
        return self.status == "invalid" and all(r in self.feedback for r in self.readings)

    @property
    def diagnosed(self) -> bool:
        return self.expected_misconception is not None and self.misconception == self.expected_misconception

    @property
    def invalid_explained(self) -> bool:
        """An ``invalid`` says why (a sentence beyond "not graded") and shows an accepted form."""
        reason = self.feedback.replace("This part was not graded.", "").strip()
        return bool(reason) and bool(_EXAMPLE.search(self.feedback))


def load_corpus(paths: tuple[Path, ...] = CORPUS) -> list[dict[str, Any]]:
    """The corpus entries of every file, each with its ``exercise`` and ``part``."""
    entries = []
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for where, answers in data.items():
            exercise, part = where.split("#")[0].split("/")
            entries.extend({"exercise": exercise, "part": part, **entry} for entry in answers)
    return entries


def grade_corpus(entries: list[dict[str, Any]]) -> list[Graded]:
    """Grade each entry alone, through :func:`grader.grading.grade`."""
    catalog = load_catalog()
    graded = []
    for entry in entries:
        submission = {"answers": {entry["exercise"]: {entry["part"]: entry["answer"]}}}
        result = grade(submission, catalog).to_json()
        exercise = result["exercises"][0]
        part = next(p for p in exercise["parts"] if p["id"] == entry["part"])
        graded.append(
            Graded(
                exercise=entry["exercise"],
                part=entry["part"],
                notation=entry["notation"],
                answer=entry["answer"],
                truth=entry["truth"],
                expected_misconception=entry.get("misconception"),
                readings=tuple(entry.get("readings", ())),
                status=part["status"],
                score=part["score"],
                max_score=part["max_score"],
                misconception=part["misconception"],
                feedback=part["feedback"],
            )
        )
    return graded


def figures(graded: list[Graded]) -> dict[str, Any]:
    """The headline figures, and the share of right answers read as right by notation."""
    right = [g for g in graded if g.truth == "right"]
    wrong = [g for g in graded if g.truth == "wrong"]
    named = [g for g in wrong if g.expected_misconception]
    ambiguous = [g for g in graded if g.truth == "ambiguous"]
    invalid = [g for g in graded if g.status == "invalid"]
    by_notation: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for g in right:
        by_notation[g.notation][0] += g.ok
        by_notation[g.notation][1] += 1
    return {
        "answers": len(graded),
        "right": len(right),
        "right_read_as_right": sum(g.ok for g in right),
        "right_read_as_right_pct": round(100 * sum(g.ok for g in right) / max(len(right), 1), 1),
        "right_marked_wrong": sum(g.status in ("incorrect", "partial") for g in right),
        "right_refused_as_invalid": sum(g.status == "invalid" for g in right),
        "wrong": len(wrong),
        "wrong_with_full_credit": sum(not g.ok for g in wrong),
        "wrong_with_misconception": len(named),
        "misconception_named": sum(g.diagnosed for g in named),
        "wrong_invalid": sum(g.status == "invalid" for g in wrong),
        "ambiguous": len(ambiguous),
        "ambiguous_invalid_naming_readings": sum(g.ok for g in ambiguous),
        "invalid": len(invalid),
        "invalid_without_reason_or_example": sum(not g.invalid_explained for g in invalid),
        "by_notation": {k: f"{ok}/{n}" for k, (ok, n) in sorted(by_notation.items())},
    }


def _print(numbers: dict[str, Any]) -> None:
    print(f"answers graded                         {numbers['answers']}")
    print(
        f"right answers read as right            {numbers['right_read_as_right']}/{numbers['right']}"
        f"  ({numbers['right_read_as_right_pct']} %)"
    )
    print(f"right answers marked wrong             {numbers['right_marked_wrong']}/{numbers['right']}")
    print(f"right answers refused as invalid       {numbers['right_refused_as_invalid']}/{numbers['right']}")
    print(f"wrong answers given full credit        {numbers['wrong_with_full_credit']}/{numbers['wrong']}")
    print(
        f"wrong answers with the misconception   {numbers['misconception_named']}/{numbers['wrong_with_misconception']}"
        " named as a TA would"
    )
    print(f"wrong answers refused as invalid       {numbers['wrong_invalid']}/{numbers['wrong']}")
    print(
        f"ambiguous: invalid, naming readings    {numbers['ambiguous_invalid_naming_readings']}/{numbers['ambiguous']}"
    )
    print(f"invalid without reason or example      {numbers['invalid_without_reason_or_example']}/{numbers['invalid']}")
    print("right read as right, by notation:")
    for notation, share in numbers["by_notation"].items():
        print(f"  {notation:<14} {share}")


def _printed_forms_module() -> Any:
    spec = importlib.util.spec_from_file_location("printed_forms", TESTS / "printed_forms.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["printed_forms"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _full(catalog: Any, student: str, exercise: str, part: str, answer: str) -> tuple[bool, dict[str, Any]]:
    result = grade({"student": student, "answers": {exercise: {part: answer}}}, catalog).to_json()
    graded = next(p for p in result["exercises"][0]["parts"] if p["id"] == part)
    return graded["status"] == "correct" and graded["score"] == graded["max_score"], graded


def printed_forms(students: int = 4) -> dict[str, Any]:
    """Every reference answer as each source prints it, graded: read as right by source, kind and form; the
    perturbed forms given full credit; the forms missed."""
    forms = _printed_forms_module()
    catalog = load_catalog()
    catalog.per_student, catalog.secret = True, "printed-forms"  # the variants tests/test_printed_forms.py uses
    names = ("default", *(f"s{i:03d}" for i in range(1, students)))
    shares: dict[str, dict[str, list[int]]] = {"source": {}, "kind": {}, "form": {}}
    perturbed = [0, 0]
    missed: list[dict[str, Any]] = []
    for student, exercise, part, reference in forms.references(catalog, names):
        wrong = {(f.source, f.form): f.text for f in forms.forms(forms.perturbed(reference))}
        for form in forms.forms(reference):
            ok, graded = _full(catalog, student, exercise, part, form.text)
            for by, key in (
                ("source", form.source),
                ("kind", reference.kind),
                ("form", f"{form.source}: {reference.kind}, {form.form}"),
            ):
                share = shares[by].setdefault(key, [0, 0])
                share[0] += ok
                share[1] += 1
            if not ok:
                missed.append({"where": f"{student} {exercise}/{part}", "source": form.source, "form": form.form,
                               "answer": form.text, "status": graded["status"], "feedback": graded["feedback"]})  # fmt: skip
            if (other := wrong.get((form.source, form.form))) is not None and other != form.text:
                credited, graded = _full(catalog, student, exercise, part, other)
                perturbed[0] += credited
                perturbed[1] += 1
                if credited:
                    missed.append({"where": f"{student} {exercise}/{part}", "source": form.source, "form": form.form,
                                   "answer": other, "status": "perturbed value given full credit",
                                   "feedback": graded["feedback"]})  # fmt: skip
    read = sum(ok for ok, _ in shares["source"].values())
    total = sum(n for _, n in shares["source"].values())
    return {
        "variants": len(names),
        "forms": total,
        "read_as_right": read,
        "read_as_right_pct": round(100 * read / max(total, 1), 1),
        "perturbed_with_full_credit": f"{perturbed[0]}/{perturbed[1]}",
        **{f"by_{by}": {k: f"{ok}/{n}" for k, (ok, n) in sorted(values.items())} for by, values in shares.items()},
        "missed": missed,
    }


def _print_forms(numbers: dict[str, Any], every_form: bool) -> None:
    print(f"\nprinted forms of the reference answers ({numbers['variants']} variants; tests/printed_forms.py)")
    print(
        f"right forms read as right              {numbers['read_as_right']}/{numbers['forms']}"
        f"  ({numbers['read_as_right_pct']} %)"
    )
    print(f"perturbed forms given full credit      {numbers['perturbed_with_full_credit']}")
    for by in ("source", "kind"):
        print(f"read as right, by {by}:")
        for key, share in numbers[f"by_{by}"].items():
            print(f"  {key:<14} {share}")
    forms = numbers["by_form"].items()
    shown = [(k, v) for k, v in forms if every_form or v.split("/")[0] != v.split("/")[1]]
    print("read as right, by form" + ("" if every_form else " (those below 100 %)") + ":")
    for key, share in shown:
        print(f"  {key:<60} {share}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="list every answer that missed its truth")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--corpus", type=Path, action="append", help="a corpus file in the same format (repeatable)")
    parser.add_argument("--forms", action="store_true", help="list the reading rate of every printed form")
    parser.add_argument("--no-forms", action="store_true", help="leave out the printed forms of the references")
    parser.add_argument("--students", type=int, default=4, help="variants of the printed forms (default 4)")
    args = parser.parse_args(argv)
    graded = grade_corpus(load_corpus(tuple(args.corpus) if args.corpus else CORPUS))
    numbers = figures(graded)
    printed = None if args.no_forms else printed_forms(args.students)
    if args.json:
        print(json.dumps({**numbers, **({"printed_forms": printed} if printed else {})}, indent=2, ensure_ascii=False))
    else:
        _print(numbers)
        if printed:
            _print_forms(printed, args.forms)
    if args.failures:
        print("\nmissed:", file=sys.stderr)
        for g in graded:
            missed = not g.ok or (g.expected_misconception and not g.diagnosed)
            if missed or (g.status == "invalid" and not g.invalid_explained and g.truth != "right"):
                shown = {k: v for k, v in asdict(g).items() if k not in ("exercise", "part", "notation")}
                print(
                    f"  {g.exercise}/{g.part} [{g.notation}] {json.dumps(shown, ensure_ascii=False)}", file=sys.stderr
                )
        for miss in printed["missed"] if printed else ():
            print(
                f"  {miss['where']} [{miss['source']}: {miss['form']}] {json.dumps(miss, ensure_ascii=False)}",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
