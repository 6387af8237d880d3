"""The typed values every layer passes around: answers that could not be obtained, and results.

Their JSON form (``to_json``) is the contract of DESIGN.md: the field names
never change; only Python code sees the types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["correct", "partial", "incorrect", "missing", "invalid", "needs_review"]
STATUSES: tuple[Status, ...] = (
    "correct",
    "partial",
    "incorrect",
    "missing",
    "invalid",
    "needs_review",
)


@dataclass(frozen=True)
class Unanswered:
    """An answer that could not be obtained (a student's function raised, say), with the reason."""

    reason: str
    missing: bool = False


@dataclass(frozen=True)
class Returned:
    """What a student's function returned when the grader called it on a part's hidden input.

    Only the notebook grader makes these (JSON cannot): an answer to a code
    exercise that is not one is typed, and is refused.
    """

    value: Any


@dataclass
class PartResult:
    """Score and feedback for one part: ``feedback`` says what is wrong, where and why."""

    id: str
    score: float
    max_score: float
    status: Status
    feedback: str
    misconception: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": rounded_score(self.score),
            "max_score": rounded_score(self.max_score),
            "status": self.status,
            "feedback": self.feedback,
            "misconception": self.misconception,
            "details": self.details,
        }


def rounded_score(value: float) -> float | int:
    """A score as the JSON shows it: 4 decimal places, an integer when whole."""
    rounded = round(float(value), 4)
    return int(rounded) if rounded.is_integer() else rounded
