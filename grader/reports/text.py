"""A graded result as text for a terminal."""

from __future__ import annotations

from grader.contract import NotebookResult, Result, shown_number

SYMBOLS = {
    "correct": "✓",
    "partial": "~",
    "incorrect": "✗",
    "missing": "·",
    "invalid": "!",
    "needs_review": "?",
}


def result_text(result: Result) -> str:
    """Per exercise and part: a symbol, the score and the feedback; the total last."""
    lines = []
    if result.student:
        lines.append(f"student {result.student}")
    for exercise in result.exercises:
        lines.append(f"\n{exercise.id}  {shown_number(exercise.score)}/{shown_number(exercise.max_score)}")
        for part in exercise.parts:
            symbol = SYMBOLS.get(part.status, "?")
            tag = f" [{part.misconception}]" if part.misconception else ""
            lines.append(
                f"  {symbol} {part.id:<12} {shown_number(part.score)}/{shown_number(part.max_score)}  "
                f"{part.status}{tag}: {part.feedback}"
            )
    if isinstance(result, NotebookResult) and result.error:
        lines.append(f"\nerror: {result.error}")
    lines.append(f"\ntotal {shown_number(result.score)}/{shown_number(result.max_score)}")
    return "\n".join(lines)
