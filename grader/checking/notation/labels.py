"""Labels and options as students write them: one per line, bulleted, numbered, in a table, as a
Python list, quoted, or each after the case it answers (``η=0.05: slow-monotone``, ``0.05 → fast``,
``(1, 0): minimum``), and a single option inside a sentence (``It overshoots.``).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from grader.checking.notation import Reading, StepError
from grader.checking.notation.brackets import group, split_top

MAX_LABELS = 100
_SEPARATORS = (re.compile(r"\n"), re.compile(r";"), re.compile(r"\t"), re.compile(r","))
_CASE = re.compile(r"^.*(?::|→|->|=)\s*")
_POINT = re.compile(r"^\s*[(\[][^()\[\]]*[)\]]\s*")
_QUOTES = "'\"`*"
_NOTE = re.compile(r"\s*\([^()]*[A-Za-z]{2,}[^()]*\)\s*")
_SUBJECT = re.compile(r"^(?:it|this run|the run|the path|the iterates?|they)\s+(?:(?:is|are|will)\s+)?", re.I)


def label_items(text: str, reading: Reading) -> list[str]:
    """The labels of a list, in order, each without the case it answers or its quotes."""
    text = text.strip()
    bracketed = group(text)
    if bracketed and bracketed[0] == "[":
        text = bracketed[1]  # ['slow-monotone', 'fast', …] pasted from Python
    for separator in _SEPARATORS:
        items = [item for item in split_top(text, separator) if item.strip()]
        if len(items) >= 2:
            break
    if len(items) > MAX_LABELS:
        raise StepError(f"it has {len(items)} labels, more than {MAX_LABELS}")
    labels = [label_alone(item) for item in items]
    if any(_CASE.match(item.strip()) for item in items):
        reading.note("Read each label after the case it answers.")
    return labels


def label_alone(item: str) -> str:
    """``η=0.05: slow-monotone`` → ``slow-monotone``; ``'fast'`` → ``fast``; ``diverging.`` → ``diverging``."""
    item = _CASE.sub("", item.strip()) if _CASE.match(item.strip()) else item
    item = _POINT.sub("", item) if _POINT.sub("", item).strip() else item  # (1, 0) min
    return item.strip().strip(_QUOTES).strip().rstrip(".!").strip(_QUOTES).strip()


def option_alone(text: str) -> str:
    """One option out of what surrounds it: ``It overshoots.`` → ``overshoots``; a note in parentheses
    and quotes go; the rest is left for the option list to judge."""
    text = _NOTE.sub(" ", text).strip()
    text = _SUBJECT.sub("", label_alone(text))
    return text.strip()


_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|doesn't|does not|won't|isn't|cannot|can't)\b|n't\b", re.I)


def option_named(text: str, options: Collection[str]) -> str | None:
    """The one option a sentence names (``it overshoots the minimum`` → ``overshoots``); None when it
    names none, several, or says "not" (``it does not overshoot`` is no reading of ``overshoots``)."""
    if _NEGATION.search(text):
        return None
    words = "-" + "-".join(re.findall(r"[\w']+", text.lower())) + "-"
    named = {option for option in options if f"-{option.lower()}-" in words}
    return named.pop() if len(named) == 1 else None
