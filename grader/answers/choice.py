"""``type: choice``: one of the options the part offers (any case; ``aliases`` map other words to one)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.answers.base import CHOICES, WORD_MAP, AnswerType, Example, register
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.misconceptions import first_match
from grader.checking.outcome import result
from grader.contract import PartResult


@register
@dataclass(frozen=True)
class ChoiceAnswer(AnswerType):
    name = "choice"
    options = {"choices": CHOICES, "aliases": WORD_MAP}
    required = ("choices",)
    description = "One of the part's options, as a string (any case)."
    examples = (
        Example("overshoots", "overshoots", "correct", "overshoots", {"choices": ["monotone", "overshoots"]}),
        Example("Overshoots", "overshoots", "correct", "overshoots", {"choices": ["monotone", "overshoots"]}),
        Example("monotone", "overshoots", "incorrect", options={"choices": ["monotone", "overshoots"]}),
        Example(
            "both",
            "overshoots",
            "invalid",
            options={"choices": ["monotone", "overshoots"]},
            why="not one of the options",
        ),
    )
    searched = False
    form_field = "select"
    choices: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        option = reading.read_choice(raw, notes=notes, options=(*self.choices, *self.aliases))
        return self.aliases.get(option, option)

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        """Right, a misconception's option, or wrong; an option that is not offered is not graded."""
        if value not in self.choices:
            return result(
                key,
                0.0,
                "invalid",
                f"{value!r} is not one of the options; choose one of: {', '.join(self.choices)}. This part was not graded.",
            )
        if value == key.reference:
            return result(key, 1.0, "correct", "Correct.")
        found = first_match(key, value, lambda v, answer: v == answer)
        return found or result(key, 0.0, "incorrect", f"{value} is not right for these numbers.")

    def hint(self, key: AnswerKey) -> str:
        return f"write one of: {', '.join(self.choices)}"

    @classmethod
    def fits(cls, answer: Any, reference: Any) -> bool:
        return isinstance(answer, str)

    def schema(self) -> dict[str, Any]:
        return {"description": self.description, "type": "string"}

    def shown(self) -> dict[str, Any]:
        return {"choices": list(self.choices)}
