"""Step 4: ``ceil(1200/32)``, ``⌈1200/32⌉``, ``floor(…)``, ``⌊…⌋`` of a number, worked out.

The whitelist parser has no rounding functions (a formula answer never needs them); a count
often comes with one. The argument is parsed by the whitelist and rounded exactly when it is
rational (``⌈1200/32⌉`` → ``38``); an argument that is not a plain number is left as it was.
"""

from __future__ import annotations

import math
import re

from grader.checking.notation import Reading
from grader.checking.notation.brackets import closing_at
from grader.expressions import ExpressionError, parse

_CALL = re.compile(r"\b(ceil|floor|ceiling)\s*\(")
_BRACKETS = re.compile(r"⌈([^⌈⌉⌊⌋]*)⌉|⌊([^⌈⌉⌊⌋]*)⌋")


def work_out_rounding(text: str, reading: Reading) -> str:
    """``ceil(x)`` / ``⌈x⌉`` → ``⌈x⌉`` as a whole number, and ``floor`` likewise, when x is a number."""
    if "⌈" in text or "⌊" in text:
        text = _BRACKETS.sub(lambda m: _rounded(m[1] if m[1] is not None else m[2], m[1] is not None, reading), text)
    start = 0
    while match := _CALL.search(text, start):
        opening = match.end() - 1
        closing = closing_at(text, opening)
        if closing < 0:
            break
        up = match.group(1) != "floor"
        replacement = _rounded(text[opening + 1 : closing], up, reading)
        text = text[: match.start()] + replacement + text[closing + 1 :]
        start = match.start() + len(replacement)
    return text


def _rounded(argument: str, up: bool, reading: Reading) -> str:
    symbols = ("⌈", "⌉") if up else ("⌊", "⌋")
    written = f"{symbols[0]}{argument.strip()}{symbols[1]}"
    try:
        formula = parse(argument, variables=())
        exact = formula.exact()
        value = exact if exact is not None else formula.evaluate()
    except ExpressionError:
        return f"{'ceil' if up else 'floor'}({argument})"  # left for the parser to refuse, naming it
    result = math.ceil(value) if up else math.floor(value)
    reading.note(f"Worked out {written} = {result}.")
    return str(result)
