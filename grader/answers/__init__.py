"""Answer types, one module each, registered by their YAML ``type:`` name (see :mod:`grader.answers.base`)."""

from grader.answers import choice, expression, integer, interval, labels, matrix, number, sequence, text, vector  # noqa: F401
from grader.answers.base import TYPES, AnswerType, OptionError

__all__ = ["TYPES", "AnswerType", "OptionError", "answer_type"]


def answer_type(name: str) -> type[AnswerType]:
    """The answer type registered as ``name``; raises KeyError naming the known types."""
    try:
        return TYPES[name]
    except KeyError:
        raise KeyError(f"type {name!r} is not one of {', '.join(TYPES)}") from None
