"""The result of checking one part, as the result JSON contract describes it."""

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
            "score": _round_score(self.score),
            "max_score": _round_score(self.max_score),
            "status": self.status,
            "feedback": self.feedback,
            "misconception": self.misconception,
            "details": self.details,
        }


def _round_score(value: float) -> float | int:
    rounded = round(float(value), 4)
    return int(rounded) if rounded.is_integer() else rounded
