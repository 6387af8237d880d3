"""``type: labels``: one label per case (``slow-monotone, fast, …``), each scored on its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.answers.base import EXPRESSION, LABELS, TEXT, WORD_MAP, AnswerType, Example, list_or_text, register
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.misconceptions import first_match, searched_match
from grader.checking.outcome import result
from grader.contract import PartResult


@register
@dataclass(frozen=True)
class LabelsAnswer(AnswerType):
    name = "labels"
    options = {"labels": LABELS, "aliases": WORD_MAP, "cases": EXPRESSION, "case_name": TEXT}
    description = "Labels, one per case: a JSON list of strings, or text separated by commas or new lines."
    examples = (
        Example(
            "fast, diverging", ["fast", "diverging"], "correct", "fast, diverging", {"labels": ["fast", "diverging"]}
        ),
        Example(
            "Fast\ndiverging",
            ["fast", "diverging"],
            "correct",
            "fast, diverging",
            {"labels": ["fast", "diverging"]},
            why="one per line, any case",
        ),
        Example(
            "diverging, fast",
            ["fast", "diverging"],
            "incorrect",
            options={"labels": ["fast", "diverging"]},
            why="swapped",
        ),
        Example(
            "fast, slow",
            ["fast", "diverging"],
            "invalid",
            options={"labels": ["fast", "diverging"]},
            why="a label the part does not offer",
        ),
        Example(
            "fast",
            ["fast", "diverging"],
            "invalid",
            options={"labels": ["fast", "diverging"]},
            why="one label for two cases",
        ),
    )
    labels: tuple[str, ...] = ()  # the allowed labels (any, when empty)
    aliases: Mapping[str, str] = field(default_factory=dict)  # other words students use → a label
    case_name: str = "{}"  # how a case is named in feedback ({} is the case's value: ``η = {}``)

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        options = (*self.labels, *self.aliases)
        labels = reading.read_labels(raw, len(key.reference), notes=notes, options=options, cases=tuple(key.cases))
        return [self.aliases.get(label, label) for label in labels]

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        unknown = [label for label in value if self.labels and label not in self.labels]
        if unknown:
            return result(
                key,
                0.0,
                "invalid",
                f"Unknown label {unknown[0]!r}; use one of: {', '.join(self.labels)}. This part was not graded.",
            )
        wrong = [i for i, (got, want) in enumerate(zip(value, key.reference, strict=True)) if got != want]
        if not wrong:
            return result(key, 1.0, "correct", "Correct.")
        fraction = (len(value) - len(wrong)) / len(value)
        same = lambda v, answer: v == answer  # noqa: E731
        # a written rule's credit is the spec's; naming a mistake by the catalogue never costs the right labels
        found = first_match(key, value, same, search=False) or searched_match(key, value, same, at_least=fraction)
        if found:
            return found
        cases = tuple(self.case_name.replace("{}", c) for c in key.cases) or tuple(
            str(i + 1) for i in range(len(value))
        )
        where = "; ".join(
            f"{cases[i]}: you wrote {value[i]}" + ("" if key.secret else f", it is {key.reference[i]}") for i in wrong
        )
        return result(
            key,
            fraction,
            "partial" if fraction > 0 else "incorrect",
            f"Not right for {where}.",
            wrong_cases=[cases[i] for i in wrong],
        )

    def hint(self, key: AnswerKey) -> str:
        count = len(key.reference)
        allowed = f", each one of: {', '.join(self.labels)}" if self.labels else ""
        return f"write {count} labels separated by commas, one per case in order{allowed}"

    def schema(self) -> dict[str, Any]:
        return list_or_text({"type": "string"}, self.description)
