"""``type: text``: free text for a person to read (``needs_review``), with the keywords it mentions.

Options: ``keywords`` (what a TA looks for; the result's hint says which the
answer mentions) and ``model`` (the model answer the review page shows a TA,
and what the worked solutions write).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.answers.base import TEXT, TEXTS, AnswerType, Example, register
from grader.checking import reading
from grader.checking.key import AnswerKey
from grader.checking.outcome import result
from grader.contract import PartResult

MODEL_SENTENCE = (
    "A very large learning rate overshoots the minimum, so the iterates oscillate or diverge; "
    "a very small one makes every step tiny, so convergence is slow."
)  # what the worked solutions write for a text part whose spec gives no ``model``


MAX_SHOWN_TEXT = 300  # characters of a free-text answer echoed back before grading


@register
@dataclass(frozen=True)
class TextAnswer(AnswerType):
    name = "text"
    options = {"keywords": TEXTS, "model": TEXT}
    needs_answer = False
    searched = False
    read_by_ta = True
    form_field = "area"
    description = "A sentence or two, as a string; a TA reads it."
    examples = (
        Example(
            "It overshoots the minimum and diverges.",
            None,
            "needs_review",
            "It overshoots the minimum and diverges.",
            {"keywords": ["overshoot"]},
            why="a TA reads it",
        ),
        Example(" ", None, "missing", options={"keywords": ["overshoot"]}, why="nothing written"),
    )
    keywords: tuple[str, ...] = ()  # what a TA looks for
    model: str = ""  # the model answer a TA compares with

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any:
        return reading.read_text(raw, notes=notes)

    def read_as(self, key: AnswerKey, value: Any) -> tuple[str, str | None, str | None]:
        clipped = value if len(value) <= MAX_SHOWN_TEXT else value[:MAX_SHOWN_TEXT] + "…"
        return clipped, None, "a text for a TA to read"

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult:
        lowered = value.lower()
        found = [k for k in self.keywords if k.lower() in lowered]
        missing = [k for k in self.keywords if k not in found]
        hint = f"mentions {', '.join(found) or 'none of the keywords'}" + (
            f"; not: {', '.join(missing)}" if missing else ""
        )
        return result(
            key,
            0.0,
            "needs_review",
            "Your answer was recorded; a TA will read it.",
            keywords_found=found,
            keywords_missing=missing,
            hint=hint,
        )

    def hint(self, key: AnswerKey) -> str:
        return "write a sentence or two in your own words"

    def submitted(self, value: Any) -> Any:
        return (self.model.strip() or MODEL_SENTENCE) if value is None else value

    def schema(self) -> dict[str, Any]:
        return {"description": self.description, "type": "string"}
