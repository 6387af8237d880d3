"""Step 3: what Python, numpy, PyTorch, JAX, pandas, MATLAB, Jupyter and spreadsheets print, unwrapped to the values.

``array([3.8, 2.2])``, ``array([[6., 0.],\\n       [0., 2.]])``, ``tensor([3.8000, 2.2000],
requires_grad=True)``, JAX's ``Array([3.8, 2.2], dtype=float32)``, ``Parameter containing:``,
``np.float64(2.0)``, ``dtype=float32``, ``Out[3]: 38`` and ``In [3]:`` lines, ``>>>`` prompts, a
spreadsheet formula ``=1200/50``, Python's ``math.ceil`` / ``//`` (``-(-1200 // 32)``: the unary minus
binds tighter), ``diag(6, 2)`` / ``np.diag([6, 2])`` as the diagonal matrix, a dict ``{'x': 3.5, 'y': 2}``
with the parameter names, Python's ``Fraction(10, 3)`` and sympy's ``Rational(10, 3)``, a TI calculator's
``►Frac`` (``2.48`` / ``Ans►Frac`` / ``62/25``: the two must agree) and the rows of a matrix side by side
(TI-Nspire's and Mathematica's ``[[6,0][0,2]]``), R's and Julia's printing (see :mod:`.consoles`), and
printed tables (MATLAB displays, pandas Series and DataFrames, spreadsheet copies: see :mod:`.tables`).
"""

from __future__ import annotations

import re
from typing import Any

from grader.checking.notation import Reading
from grader.checking.notation.brackets import closing_at, group, split_top
from grader.checking.notation.consoles import console_output
from grader.checking.notation.tables import printed_table

_PROMPT_LINE = re.compile(r"^\s*(?:In\s*\[\d*\]:|>>>|\.\.\.\s).*$", re.MULTILINE)
_CONVERSION = re.compile(r"\n[ \t]*(?:Ans)?[ \t]*[►▶▸][ \t]*(?:Frac|Dec|DMS)[ \t]*\n")
_SIDE_BY_SIDE = re.compile(r"\][ \t]*\[")
_FRACTION = re.compile(
    r"\b(?:(?:fractions|sympy|sp)\.)?(?:Fraction|Rational)\(\s*(?:(-?\d+)\s*,\s*(\d+)|['\"](-?\d+)\s*/\s*(\d+)['\"])\s*\)"
)
_OUT = re.compile(r"^\s*Out\s*\[\d*\]\s*:\s*", re.MULTILINE)
_PARAMETER = re.compile(r"^\s*Parameter containing:\s*", re.IGNORECASE)
_WRAPPER = re.compile(
    r"\b(?:(?:np|numpy|torch|jnp|tf)\.)?(?:array|tensor|asarray|matrix|Tensor|as_tensor|DeviceArray|Array)\("
)
_SCALAR = re.compile(r"\b(?:np|numpy|torch)\.(?:float|int|uint|double)(?:16|32|64|128)?_?\(")
_KEYWORD = re.compile(r"^\s*[A-Za-z_]\w*\s*=")
_ROUNDING_CALL = {
    "ceil": re.compile(r"\b(?:math|np|numpy|torch)\.ceil\(|\b(?:CEILING(?:\.MATH)?|ROUNDUP|AUFRUNDEN)\(", re.I),
    "floor": re.compile(
        r"\b(?:math|np|numpy|torch)\.floor\(|\b(?:FLOOR(?:\.MATH)?|ROUNDDOWN|ABRUNDEN)\(|\bint\(", re.I
    ),
}
_PYTHON_MATH = re.compile(r"\b(?:math|np|numpy|torch)\.(sqrt|exp|log|sin|cos|tan|tanh|pi|e)\b")
_OPERAND = r"(\d+(?:\.\d*)?|\([^()]*\))"  # a number or a bracket without brackets inside: linear
_FLOOR_DIVISION = re.compile(rf"(-\s*)?{_OPERAND}\s*//\s*(-\s*)?{_OPERAND}")
_UNARY_BEFORE = "([{,;=:"  # what a unary minus follows (or the start of the text)
_DIAG = re.compile(r"\b(?:(np|numpy|torch|jnp)\.)?diag\(")
_DIAG_ITEM = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:\s*/\s*\d+)?\s*$")
_SPACES = re.compile(r"\s+")
_DICT = re.compile(r"^\{\s*['\"]?[A-Za-z_\u0370-\u03ff][\w\u0370-\u03ff]*['\"]?\s*:")
_KEY = re.compile(r"^\s*['\"]?([A-Za-z_\u0370-\u03ff][\w\u0370-\u03ff]*)['\"]?\s*:\s*(.*)$", re.DOTALL)
_TOP_COMMA = re.compile(r",")


def unwrap_tool_output(text: str, reading: Reading) -> str:
    """Prompts, ``Out[n]:``, ``array(…)``/``tensor(…)`` and their keywords, ``np.float64(…)``, ``=`` of a
    spreadsheet formula, ``math.ceil``/``//``, and a dict of named values → the values alone."""
    text = _PARAMETER.sub("", _PROMPT_LINE.sub("", text) if "In [" in text or ">>>" in text else text)
    text = _OUT.sub("", text)
    text = console_output(text, reading)
    if "Frac" in text or "Dec" in text:
        text = _CONVERSION.sub(" = ", text)  # 2.48 / Ans►Frac / 62/25: both sides, checked to agree
    if "Fraction(" in text or "Rational(" in text:
        text = _FRACTION.sub(lambda m: f"({m[1] or m[3]}/{m[2] or m[4]})", text)
    if "\n" in text:
        text = printed_table(text, reading, PARAMETER_NAMES)
    text = text.strip()
    if text.startswith("=") and not text.startswith("=="):
        text = text[1:]  # a spreadsheet formula, =1200/50
    if "][" in text.replace(" ", "") and (outer := group(text)) and outer[0] == "[":
        text = _SIDE_BY_SIDE.sub("], [", text)  # [[6,0][0,2]]: rows side by side
    text = _unwrap_calls(text, _WRAPPER, keep_first_argument=True)
    text = _unwrap_calls(text, _SCALAR, keep_first_argument=True)
    for name, call in _ROUNDING_CALL.items():
        text = _unwrap_calls(text, call, rename=name)
    if "diag(" in text:
        text = _diagonal(text, reading)
    text = _PYTHON_MATH.sub(r"\1", text)
    if "//" in text:
        text = _floor_divisions(text)
    if _DICT.match(text):
        text = _dict_values(text, reading)
    return text


def _unwrap_calls(text: str, call: re.Pattern[str], keep_first_argument: bool = False, rename: str = "") -> str:
    """``array([1, 2], dtype=float32)`` → ``[1, 2]``; with ``rename``, ``math.ceil(x)`` → ``ceil(x)``
    (and a spreadsheet's ``ROUNDUP(x, 0)`` → ``ceil(x)``)."""
    start = 0
    while match := call.search(text, start):
        opening = match.end() - 1
        closing = closing_at(text, opening)
        if closing < 0:
            return text
        arguments = [a for a in split_top(text[opening + 1 : closing], _TOP_COMMA) if not _KEYWORD.match(a)]
        arguments = split_top(text[opening + 1 : closing].replace(";", ","), _TOP_COMMA) if rename else arguments
        inside = arguments[0].strip() if arguments else ""
        replacement = f"{rename}({inside})" if rename else inside
        text = text[: match.start()] + replacement + text[closing + 1 :]
        start = match.start() + len(replacement) if rename else match.start()
    return text


def _floor_divisions(text: str) -> str:
    """``1200 // 32`` → ``floor(1200/32)``, ``(1200 + 31) // 32`` → ``floor((1200 + 31)/32)``, ``-1200 // 32``
    → ``floor(-1200/32)`` (Python's unary minus binds tighter than ``//``); a ``//`` in a chain (``3*400 // 32``, ``1200 // 32**2``) is left for the
    parser to refuse, since reading it needs Python's order of operations."""
    out, start = [], 0
    for match in _FLOOR_DIVISION.finditer(text):
        minus, left, right_minus, right = match.groups()
        before = text[: match.start()].rstrip()
        after = text[match.end() :].lstrip()
        previous = text[match.start() - 1] if match.start() else " "
        if previous.isalnum() or previous in "._":
            continue  # part of a name or a number (x1200 // 32, 1e3 // 2)
        if after.startswith(("**", "^", ".", "(")) or after[:1].isalnum():
            continue
        unary = bool(minus) and (not before or before[-1] in _UNARY_BEFORE)
        binary = bool(minus) and not unary and (before[-1].isalnum() or before[-1] in ")]}")  # 5 - 1200 // 32
        if (minus and not unary and not binary) or (not minus and before and before[-1] in "*/%^@"):
            continue  # 2*-1200 // 32, 3*400 // 32: Python's order of operations decides
        out.append(text[start : match.start()] + ("-" if binary else ""))
        out.append(f"floor({'-' if unary else ''}{left}/{'-' if right_minus else ''}{right})")
        start = match.end()
    return "".join(out) + text[start:] if out else text


def _diagonal(text: str, reading: Reading) -> str:
    """``diag(6, 2)``, ``np.diag([6, 2])``, ``diag([6 2])`` → ``[[6, 0], [0, 2]]``; numpy's ``np.diag(v, k)``
    (an offset diagonal) and the diagonal of a matrix are left for the parser to refuse."""
    match = _DIAG.search(text)
    if not match:
        return text
    closing = closing_at(text, match.end() - 1)
    if closing < 0:
        return text
    arguments = [a.strip() for a in split_top(text[match.end() : closing], _TOP_COMMA)]
    if len(arguments) == 1 and (bracketed := group(arguments[0])) and bracketed[0] in "[(":
        inside = bracketed[1].strip()
        items = split_top(inside, _TOP_COMMA) if "," in inside else _SPACES.split(inside)
    elif match.group(1) is None and len(arguments) >= 2:
        items = arguments
    else:
        return text
    items = [item.strip() for item in items]
    if not 2 <= len(items) <= 20 or not all(_DIAG_ITEM.match(item) for item in items):
        return text
    rows = ["[" + ", ".join(item if i == j else "0" for j in range(len(items))) + "]" for i, item in enumerate(items)]
    matrix = "[" + ", ".join(rows) + "]"
    reading.note(f"Read {text[match.start() : closing + 1]} as the diagonal matrix {matrix}.")
    return text[: match.start()] + matrix + text[closing + 1 :]


PARAMETER_NAMES = frozenset({"x", "y", "z", "w", "b", "x1", "x2", "x3", "w1", "w2", "w3", "theta1", "theta2"})


def named_values(named: dict[str, Any], reading: Reading) -> list[Any]:
    """The values of a dict of parameters, in x, y, z order (x1, x2, …), told to the student."""
    order = sorted(named, key=lambda name: (name in ("w", "b") and "wb".index(name), name))
    reading.note(f"Read the values of {', '.join(order)} in that order.")
    return [named[name] for name in order]


def _dict_values(text: str, reading: Reading) -> str:
    """``{'x': 3.5, 'y': 2}`` → ``[3.5, 2]``; names other than the parameters' leave the text as it is."""
    if closing_at(text, 0) != len(text) - 1:
        return text
    named = {}
    for entry in split_top(text[1:-1], _TOP_COMMA):
        match = _KEY.match(entry)
        if not match or match.group(1) not in PARAMETER_NAMES:
            return text
        named[match.group(1)] = match.group(2).strip()
    return "[" + ", ".join(named_values(named, reading)) + "]"
