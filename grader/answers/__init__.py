"""Answer types, one module each, registered by their YAML ``type:`` name (see :mod:`grader.answers.base`)."""

from grader.answers import choice, expression, integer, interval, labels, matrix, number, sequence, text, vector  # noqa: F401
from grader.answers.base import TYPES, AnswerType, OptionError
from grader.checking.outcome import fmt

__all__ = ["TYPES", "AnswerType", "OptionError", "answer_type", "examples_table"]


def answer_type(name: str) -> type[AnswerType]:
    """The answer type registered as ``name``; raises KeyError naming the known types."""
    try:
        return TYPES[name]
    except KeyError:
        raise KeyError(f"type {name!r} is not one of {', '.join(TYPES)}") from None


def examples_table() -> str:
    """Every type's examples as one Markdown table (docs/answer-types.md holds it; the tests grade each row)."""
    lines = ["| type | reference | answer typed | graded | read as | what it shows |", "|---|---|---|---|---|---|"]
    for name, kind in TYPES.items():
        for example in kind.examples:
            reference = "—" if example.reference is None else f"`{fmt(example.reference)}`"
            answer = f"`{example.answer}`".replace("\n", "⏎") if example.answer.strip() else "(blank)"
            read_as = f"`{example.read_as}`" if example.read_as else ""
            lines.append(f"| {name} | {reference} | {answer} | {example.status} | {read_as} | {example.why} |")
    return "\n".join(lines) + "\n"
