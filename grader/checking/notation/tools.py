"""Step 3: what Python, numpy, PyTorch, Jupyter and spreadsheets print, unwrapped to the values.

``array([3.8, 2.2])``, ``array([[6., 0.],\\n       [0., 2.]])``, ``tensor([3.8000, 2.2000],
requires_grad=True)``, ``Parameter containing:``, ``np.float64(2.0)``, ``dtype=float32``,
``Out[3]: 38`` and ``In [3]:`` lines, ``>>>`` prompts, a spreadsheet formula ``=1200/50``, Python's
``math.ceil`` / ``//`` and a dict ``{'x': 3.5, 'y': 2}`` with the parameter names.
"""

from __future__ import annotations

import re
from typing import Any

from grader.checking.notation import Reading
from grader.checking.notation.brackets import closing_at, split_top

_PROMPT_LINE = re.compile(r"^\s*(?:In\s*\[\d*\]:|>>>|\.\.\.\s).*$", re.MULTILINE)
_OUT = re.compile(r"^\s*Out\s*\[\d*\]\s*:\s*", re.MULTILINE)
_PARAMETER = re.compile(r"^\s*Parameter containing:\s*", re.IGNORECASE)
_WRAPPER = re.compile(
    r"\b(?:(?:np|numpy|torch|jnp|tf)\.)?(?:array|tensor|asarray|matrix|Tensor|as_tensor|DeviceArray)\("
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
_FLOOR_DIVISION = re.compile(r"(\d+(?:\.\d*)?)\s*//\s*(\d+(?:\.\d*)?)")
_DICT = re.compile(r"^\{\s*['\"]?[A-Za-z_\u0370-\u03ff][\w\u0370-\u03ff]*['\"]?\s*:")
_KEY = re.compile(r"^\s*['\"]?([A-Za-z_\u0370-\u03ff][\w\u0370-\u03ff]*)['\"]?\s*:\s*(.*)$", re.DOTALL)
_TOP_COMMA = re.compile(r",")


def unwrap_tool_output(text: str, reading: Reading) -> str:
    """Prompts, ``Out[n]:``, ``array(…)``/``tensor(…)`` and their keywords, ``np.float64(…)``, ``=`` of a
    spreadsheet formula, ``math.ceil``/``//``, and a dict of named values → the values alone."""
    text = _PARAMETER.sub("", _PROMPT_LINE.sub("", text) if "In [" in text or ">>>" in text else text)
    text = _OUT.sub("", text).strip()
    if text.startswith("=") and not text.startswith("=="):
        text = text[1:]  # a spreadsheet formula, =1200/50
    text = _unwrap_calls(text, _WRAPPER, keep_first_argument=True)
    text = _unwrap_calls(text, _SCALAR, keep_first_argument=True)
    for name, call in _ROUNDING_CALL.items():
        text = _unwrap_calls(text, call, rename=name)
    text = _PYTHON_MATH.sub(r"\1", text)
    text = _FLOOR_DIVISION.sub(r"floor(\1/\2)", text)
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
