"""What the R and Julia consoles print, read for step 3 (:mod:`.tools`): the values without the console's marks.

- R: the ``[1]`` (``[7]``, …) that opens each line of a printed vector (``[1] 3.5 2.0``; a wrapped vector's
  lines joined into one), a matrix print (``     [,1] [,2]`` over ``[1,]    6    0`` rows) as its rows, the
  prompt ``> x`` (and ``+`` continuations) before such output, a factor's ``Levels:`` line, and ``c(3.5, 2)``;
- Julia: the ``julia>`` prompt line, the type line over a display (``2-element Vector{Float64}:``,
  ``2×2 Matrix{Float64}:``, ``2-element Array{Float64,1}:``), a ``Float32`` written ``2.48f0``, and rationals
  ``10//3`` where the output is Julia's (a ``Rational`` type line or a ``julia>`` prompt: elsewhere ``//`` is
  Python's floor division).

:func:`printed_by` names the tool whose output an answer looks like, so that an answer that still cannot be
read is refused saying so ("this looks like R output; write the numbers only").
Every pattern is anchored on a line or a literal and runs in linear time.
"""

from __future__ import annotations

import re

from grader.checking.notation import Reading

_R_INDEX = re.compile(r"^[ \t]*\[(\d+)\][ \t]+(?=\S)", re.MULTILINE)
_R_MATRIX_HEADER = re.compile(r"^[ \t]*(?:\[,\d+\][ \t]*)+$")
_R_MATRIX_ROW = re.compile(r"^[ \t]*\[(\d+),\][ \t]+(\S.*)$")
_R_PROMPT = re.compile(r"^[ \t]*[>+](?:[ \t].*)?$")
_R_LEVELS = re.compile(r"^[ \t]*(?:\d+[ \t]+)?Levels:.*$", re.MULTILINE)
_R_C = re.compile(r"(?<![\w.])c\(")
_JULIA_PROMPT = re.compile(r"^[ \t]*julia>.*$", re.MULTILINE)
_JULIA_TYPE = re.compile(
    r"^[ \t]*(?:\d+-element|\d+[ \t]*[×x*][ \t]*\d+)[ \t]+[A-Za-z][\w.]*(?:\{[^\n{}]*(?:\{[^\n{}]*\}[^\n{}]*)*\})?(?:[ \t]+with[^\n]*)?:[ \t]*$",
    re.MULTILINE,
)
_JULIA_RATIONAL = re.compile(r"(?<![\w./])(-?\d+)[ \t]*//[ \t]*(\d+)(?![\w./])")
_FLOAT32 = re.compile(r"(?<![\w.])(\d+\.\d*|\.\d+|\d+)f([+-]?\d+)(?![\w.])")


def r_output(text: str) -> bool:
    """Whether ``text`` holds what R prints: a line opening with ``[1]``, or a matrix print's ``[,1]`` header."""
    first = _R_INDEX.search(text)
    if first and first.group(1) == "1":
        return True
    return any(_R_MATRIX_HEADER.match(line) for line in text.split("\n")[:3] if line.strip())


def console_output(text: str, reading: Reading) -> str:
    """R's and Julia's printing → the values (see the module); other text is returned as it is."""
    if "julia>" in text or "-element" in text or "Matrix{" in text or "Array{" in text:
        text = _julia(text, reading)
    if "[" in text and r_output(text):
        text = _r(text)
    if "c(" in text:
        text = _r_vector_code(text)
    if "f" in text and _FLOAT32.search(text):
        text = _FLOAT32.sub(r"\1e\2", text)  # Julia's Float32: 2.48f0
    return text


def _julia(text: str, reading: Reading) -> str:
    julia = "julia>" in text or "Rational" in text
    text = _JULIA_PROMPT.sub("", text)
    text = _JULIA_TYPE.sub("", text)
    if julia and "//" in text:
        text = _JULIA_RATIONAL.sub(r"\1/\2", text)
        reading.note("Read Julia's // as a fraction.")
    return text.strip("\n")


def _r(text: str) -> str:
    """Prompts dropped, a matrix print as its rows, ``[n]`` openings dropped and a wrapped vector joined."""
    lines = [line for line in text.split("\n") if line.strip() and not _R_PROMPT.match(line)]
    lines = [line for line in lines if not _R_LEVELS.match(line)]
    if lines and _R_MATRIX_HEADER.match(lines[0]):
        rows = [_R_MATRIX_ROW.match(line) for line in lines[1:]]
        if rows and all(rows) and [int(row.group(1)) for row in rows if row] == list(range(1, len(rows) + 1)):
            return "\n".join(row.group(2).strip() for row in rows if row)
        return text
    indices = [_R_INDEX.match(line) for line in lines]
    if not lines or not all(indices):
        return text
    starts = [int(match.group(1)) for match in indices if match]
    if starts[0] != 1 or starts != sorted(starts):
        return text
    return " ".join(line[match.end() :].strip() for line, match in zip(lines, indices, strict=True) if match)


def _r_vector_code(text: str) -> str:
    """``c(3.5, 2)`` → ``[3.5, 2]``: R's vector as a list (the brackets around it matched in one pass)."""
    out, start = [], 0
    for match in _R_C.finditer(text):
        if match.start() < start:
            continue
        depth, index = 0, match.end() - 1
        for index in range(match.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[index], 0)
            if depth == 0:
                break
        if depth:
            return text
        out.append(text[start : match.start()] + "[" + text[match.end() : index] + "]")
        start = index + 1
    return "".join(out) + text[start:]


# The tools whose printing an answer may hold, each recognised by marks only it prints, as a refusal names it.
_PRINTED_BY = (
    ("R output", re.compile(r"^[ \t]*\[1\][ \t]+\S|^[ \t]*\[,1\]|^[ \t]*\[1,\]|^[ \t]*Levels:", re.MULTILINE)),
    ("Julia output", re.compile(r"julia>|\d-element [A-Z]|\d[ \t]*[×x*][ \t]*\d+ [A-Z]\w*\{|\d//\d")),
    (
        "MATLAB or Octave output",
        re.compile(
            r"^[ \t]*[A-Za-z]\w*[ \t]*=[ \t]*(?:\d+[ \t]*[×x*][ \t]*\d+)?[ \t]*\n|^[ \t]*Columns \d+|^[ \t]*>>",
            re.MULTILINE,
        ),
    ),
    ("pandas output", re.compile(r"^[ \t]*(?:Name:.*,[ \t]*)?dtype:", re.MULTILINE)),
    ("sympy output", re.compile(r"\bMatrix\(|\bInterval(?:\.\w+)?\(|[⎡⎣⎛⎝]")),
    ("PyTorch output", re.compile(r"\btensor\(|grad_fn=")),
    ("JAX output", re.compile(r"\bArray\(|\bDeviceArray\(")),
    ("numpy output", re.compile(r"\barray\(|\bnp\.\w+\(|dtype=")),
    ("Jupyter output", re.compile(r"^[ \t]*(?:In|Out)[ \t]*\[\d*\]:", re.MULTILINE)),
    ("a TI calculator's screen", re.compile(r"[⁻ᴇ►▶]")),
    ("Mathematica or Wolfram Alpha output", re.compile(r"\{\{|\bMatrixForm\b|\bN\[")),
    ("a copy from a spreadsheet", re.compile(r"\t")),
)


def printed_by(text: str) -> str | None:
    """What ``text`` looks like the printing of (``R output``, ``Julia output``, ``a TI calculator's screen``, …),
    or None."""
    if len(text) > 20_000:
        return None
    for tool, marks in _PRINTED_BY:
        if marks.search(text):
            return tool
    return None
