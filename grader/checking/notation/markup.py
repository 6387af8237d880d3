"""Step 2: LaTeX and Markdown, as students paste them from their notes, into plain maths.

LaTeX: ``$…$``, ``\\(…\\)``, ``\\frac{a}{b}``, ``\\sqrt{…}``, ``^{…}``, ``\\cdot``, ``\\times``,
``\\left( … \\right)``, ``\\lceil … \\rceil``, ``\\begin{pmatrix} a \\\\ b \\end{pmatrix}`` (and
bmatrix, matrix, and ``\\left[\\begin{array}{cc} … \\end{array}\\right]``: rows by ``\\\\``, columns by ``&``),
``3.\\overline{3}``, Greek letters and relations, set braces ``\\{η \\mid 0 < η < 1\\}`` (kept as ``{…}``;
other braces group), ``\\iff``, siunitx's ``\\num{2.48}``, ``x_{0}`` (as ``x_0``), and the items of an
``itemize`` or ``enumerate`` one per line.
Markdown: code fences and backticks, ``**bold**``, ``*italic*``, bullet and numbered lists, headings,
quotes (not R's ``>`` prompt over its output), a table with a header rule read as the printed table it is
(:mod:`.tables`: a step column ``t`` dropped, rows named ``x``/``y``, a matrix under column names) or else
its last row, and a matrix drawn with bars (``| 6 0 |`` / ``| 0 2 |``, no header rule) as its rows.
"""

from __future__ import annotations

import re
from fractions import Fraction

from grader.checking.notation import Reading, StepError
from grader.checking.notation.consoles import r_output
from grader.checking.notation.tables import printed_table
from grader.checking.notation.tools import PARAMETER_NAMES


class MarkupError(StepError):
    """Markup that could not be turned into maths; the message names what."""


_SET_OPEN, _SET_CLOSE = "\ue000", "\ue001"  # \\{ \\}: a set's braces, kept while other braces become ( )
_DELIMITERS = re.compile(r"\$\$|\$|\\\(|\\\)|\\\[|\\\]")
_MATRIX = re.compile(
    r"(?:\\left\s*([(\[])\s*)?\\begin\{([pbBvV]?matrix\*?|array)\}(?:\{[^}]*\})?(.*?)\\end\{\2\}(?:\s*\\right\s*([)\]]))?",
    re.DOTALL,
)
_PAIRED = {"(": ")", "[": "]"}
_COMMANDS = {
    r"\cdot": "*",
    r"\times": "*",
    r"\ast": "*",
    r"\div": "/",
    r"\approx": "≈",
    r"\simeq": "≈",
    r"\sim": "~",
    r"\leqslant": "≤",
    r"\geqslant": "≥",
    r"\leq": "≤",
    r"\geq": "≥",
    r"\le": "≤",
    r"\ge": "≥",
    r"\lt": "<",
    r"\gt": ">",
    r"\neq": "≠",
    r"\in": "∈",
    r"\infty": "∞",
    r"\rightarrow": "→",
    r"\to": "→",
    r"\mapsto": "→",
    r"\implies": "→",
    r"\iff": "⇔",
    r"\Leftrightarrow": "⇔",
    r"\Longleftrightarrow": "⇔",
    r"\mid": "|",
    r"\vert": "|",
    r"\lvert": "|",
    r"\rvert": "|",
    r"\colon": ":",
    r"\Rightarrow": "→",
    r"\lceil": "⌈",
    r"\rceil": "⌉",
    r"\lfloor": "⌊",
    r"\rfloor": "⌋",
    r"\langle": "⟨",
    r"\rangle": "⟩",
    r"\top": "T",
    r"\intercal": "T",
    r"\nabla": "∇",
    r"\partial": "∂",
    r"\eta": "η",
    r"\beta": "β",
    r"\alpha": "α",
    r"\theta": "θ",
    r"\sigma": "σ",
    r"\pi": "pi",
    r"\ldots": "...",
    r"\cdots": "...",
    r"\dots": "...",
    r"\quad": " ",
    r"\qquad": " ",
    r"\{": _SET_OPEN,
    r"\}": _SET_CLOSE,
    r"\%": "%",
}
_COMMAND = re.compile("|".join(re.escape(c) + (r"(?![A-Za-z])" if c[-1].isalpha() else "") for c in _COMMANDS))
_SIZING = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)[lr]?(?![A-Za-z])\s*(\\[{}]|[()\[\]|.⌈⌉⌊⌋⟨⟩])?")
_SPACING = re.compile(r"\\[,;:! ]|~")
_TEXT = re.compile(
    r"\\(?:text|textrm|textbf|textit|mathrm|mathbf|mathit|boldsymbol|bm|operatorname|vec|hat|mathsf|num)\s*(?=\{)"
)
_LIST_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{(?:itemize|enumerate)\}")
_ITEM = re.compile(r"\\item(?![A-Za-z])(?:\s*\[[^\]\n]{0,20}\])?")
_SUBSCRIPT = re.compile(r"_\{(\w{1,12})\}")
_FRAC = re.compile(r"\\[dt]?frac\s*")
_SQRT = re.compile(r"\\sqrt\s*")
_OVERLINE = re.compile(r"(-?)(\d*)\.(\d*)\\overline\{(\d+)\}")
_UNKNOWN = re.compile(r"\\[A-Za-z]+")

_FENCE = re.compile(r"^\s*```[\w-]*\s*$", re.MULTILINE)
_BOLD = re.compile(r"(?<![\w)*])(\*\*|__)([^*_\s](?:[^*_]*[^*_\s])?)\1(?![\w(*])")  # linear: no * or _ inside
_ITALIC = re.compile(r"(?<![\w)*\\])\*([^*_\s\n](?:[^*_\n]{0,200}[^*_\s])?)\*(?![\w(*])")  # not 2*3*4
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.MULTILINE)
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s+")
_HEADING = re.compile(r"^\s*(?:#{1,6}|>(?!>>))\s*", re.MULTILINE)  # not Python's >>> prompt
_HEADING_ONLY = re.compile(r"^\s*#{1,6}\s*", re.MULTILINE)  # where > is R's prompt
_BRACED_COMMA = re.compile(r"(?<=\d)\{,\}(?=\d)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*(?::-+:?|-{2,}:?|-:)\s*(\|\s*(?::?-+:?)\s*)*\|?\s*$")  # |---|, |:-:|--:|


def strip_markup(text: str, reading: Reading) -> str:
    """LaTeX and Markdown into plain maths (``\\frac{10}{3}`` → ``((10)/(3))``, ``**24**`` → ``24``)."""
    text = _strip_markdown(text, reading)
    if "{,}" in text:
        text = _BRACED_COMMA.sub(",", text)  # 3{,}5, 1{,}200{,}000: LaTeX's comma between digits, without its space
    if "\\" in text or "$" in text or "^{" in text or "_{" in text:
        text = _strip_latex(text)
    return text


def _strip_latex(text: str) -> str:
    text = _DELIMITERS.sub(" ", text)
    if "\\item" in text:
        text = _ITEM.sub("\n", _LIST_ENVIRONMENT.sub("", text))
    text = _MATRIX.sub(_delimited_matrix, text)
    text = _OVERLINE.sub(_repeating_decimal, text)
    text = _SIZING.sub(_sized, text)
    text = _SPACING.sub(" ", text)
    text = _COMMAND.sub(lambda m: _COMMANDS[m.group()], text)
    text = _braced(text, _TEXT, lambda body: f" {body} ")
    text = _braced(text, _FRAC, lambda numerator, denominator: f"(({numerator})/({denominator}))", arguments=2)
    text = _braced(text, _SQRT, lambda body: f"sqrt({body})")
    text = re.sub(r"\^\s*\{", "^(", _SUBSCRIPT.sub(r"_\1", text)).replace("_{", "_(")
    unknown = _UNKNOWN.search(text)
    if unknown:
        raise MarkupError(f"the LaTeX command {unknown.group()} is not something a number or formula can hold")
    text = text.replace("{", "(").replace("}", ")")
    return text.replace(_SET_OPEN, "{").replace(_SET_CLOSE, "}")


def _sized(match: re.Match[str]) -> str:
    """``\\left( … \\right)`` → ``( … )``; ``\\left\\{`` is a set's brace; ``\\right.`` is nothing."""
    bracket = match.group(1) or ""
    if bracket in (r"\{", r"\}"):
        return _SET_OPEN if bracket == r"\{" else _SET_CLOSE
    return bracket.replace(".", "")


def _braced(text: str, command: re.Pattern[str], build, arguments: int = 1) -> str:  # type: ignore[no-untyped-def]
    """Replace ``\\command{a}{b}`` (braces nested any depth; ``\\frac12`` too) by ``build(a, b)``."""
    while match := command.search(text):
        position, parts = match.end(), []
        for _ in range(arguments):
            while position < len(text) and text[position] == " ":
                position += 1
            if position < len(text) and text[position] == "{":
                end = _closing_brace(text, position)
                parts.append(text[position + 1 : end])
                position = end + 1
            elif position < len(text):
                parts.append(text[position])  # \frac12: one-character arguments
                position += 1
            else:
                raise MarkupError(f"{match.group().strip()} is missing its argument")
        text = text[: match.start()] + build(*parts) + text[position:]
    return text


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise MarkupError("a { in the LaTeX is never closed")


def _delimited_matrix(match: re.Match[str]) -> str:
    """A matrix environment, with the ``\\left[ … \\right]`` around an ``array`` taken as its brackets."""
    opening, _, body, closing = match.groups()
    matrix = _matrix(body)
    if opening and closing == _PAIRED[opening]:
        return matrix
    return (opening or "") + matrix + (closing or "")  # unpaired: left for the items step to refuse


def _matrix(body: str) -> str:
    """``a & b \\\\ c & d`` → ``[[a, b], [c, d]]``."""
    rows = [row for row in re.split(r"\\\\", body) if row.strip()]
    return "[" + ", ".join("[" + ", ".join(cell.strip() for cell in row.split("&")) + "]" for row in rows) + "]"


def _repeating_decimal(match: re.Match[str]) -> str:
    """``3.\\overline{3}`` → ``(10/3)``, ``0.1\\overline{6}`` → ``(1/6)``: the exact value of the repetend."""
    sign, whole, fixed, repeated = match.groups()
    value = Fraction(int(whole or "0")) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(repeated), (10 ** len(repeated) - 1) * 10 ** len(fixed))
    return f"({sign}{value.numerator}/{value.denominator})"


def _strip_markdown(text: str, reading: Reading) -> str:
    if "`" in text:
        text = _FENCE.sub("", text).replace("`", "")
    if "**" in text or "__" in text:
        text = _BOLD.sub(r"\2", text)
    if "*" in text:
        text = _ITALIC.sub(r"\1", text)
    if "|" in text:
        text = _table(text, reading)
    if ">" in text and not ("[" in text and r_output(text)):
        text = _HEADING.sub("", text)
    else:
        text = _HEADING_ONLY.sub("", text)
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) >= 2 and all(_BULLET.match(line) for line in lines) and _is_list(lines):
        text = "\n".join(_BULLET.sub("", line) for line in lines)
    return text.strip()


def _is_list(lines: list[str]) -> bool:
    """Bullets, or numbers counting up one by one (``1. 4`` / ``2. 2``; not ``4. 0.5`` on its own)."""
    numbers = [_NUMBERED.match(line) for line in lines]
    if not any(numbers):
        return True
    if not all(numbers):
        return False
    counted = [int(n.group(1)) for n in numbers if n]
    return counted == list(range(counted[0], counted[0] + len(counted))) and counted[0] in (0, 1)


_CELL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBERS = re.compile(rf"^[ \t]*{_CELL}(?:[ \t]+{_CELL})*[ \t]*$")  # 6 0: a row of a matrix drawn with bars
_CELL_MATHS = re.compile(r"^\$([^$]*)\$$")


def _table(text: str, reading: Reading) -> str:
    """A Markdown table (every line opening or closing with ``|``): with a header rule, the table it prints
    (:func:`.tables.printed_table`: a step column dropped, named rows, a matrix under column names), else its
    last row, cells separated by tabs; without one, a matrix drawn with bars when every cell holds numbers
    (``| 6 0 |`` / ``| 0 2 |``: its rows), else its last row."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or not all(line.startswith("|") or line.endswith("|") for line in lines):
        return text
    ruled = any(_TABLE_RULE.match(line) for line in lines)
    rows = [
        [_CELL_MATHS.sub(r"\1", cell.strip()) for cell in line.strip("|").split("|")]
        for line in lines
        if not _TABLE_RULE.match(line)
    ]
    if ruled and len(rows) >= 3:  # a header and two rows or more (one row is the answer itself)
        printed = "\n".join("\t".join(row) for row in rows)
        read = printed_table(printed, reading, PARAMETER_NAMES)
        if read != printed:
            return read
    if not ruled and all(_NUMBERS.match(cell) for row in rows for cell in row if cell):
        return "\n".join("\t".join(cell for cell in row if cell) for row in rows)
    return "\t".join(rows[-1])
