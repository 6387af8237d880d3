"""Maths written in TeX (``$f(x_0), \\dots, f(x_{5})$``) as plain text to be read aloud: ``f(x₀), …, f(x₅)``.

Pages typeset prompts with KaTeX, whose formulas a browser leaves out of a
form field's accessible name; :func:`maths_as_text` gives the same prompt as
text for that name (and anywhere a formula must be read without a renderer).
Sub- and superscripts become Unicode sub/superscript characters where every
character has one (``x_{t+1}`` → ``xₜ₊₁``, ``x^2`` → ``x²``), else a spoken
form (``x_{batch}`` → ``x sub batch``); the remaining commands (``\\eta``,
``\\nabla``, ``\\frac{1}{n}``, ``\\sum``, …) are pylatexenc's Unicode
rendering. Markdown code ticks are dropped. The text is for people, never
parsed back into maths.
"""

from __future__ import annotations

import re
from functools import lru_cache

SUBSCRIPTS = dict(zip("0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
SUPERSCRIPTS = dict(zip("0123456789+-−=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁱⁿ", strict=True))
# A script: ``_`` or ``^`` followed by one braced group without nested braces, one command (\theta) or one character.
SCRIPT = re.compile(r"([_^])(?:\{([^{}]*)\}|(\\[A-Za-z]+)|([^\s\\{}]))")
MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)


def maths_as_text(text: str) -> str:
    """``text`` with each ``$…$``, ``$$…$$``, ``\\(…\\)`` and ``\\[…\\]`` formula in it written as plain text."""
    if not isinstance(text, str):
        return text
    plain = MATH.sub(lambda m: formula_as_text(next(g for g in m.groups() if g is not None)), text)
    return plain.replace("`", "")


@lru_cache(maxsize=1024)
def formula_as_text(tex: str) -> str:
    """One TeX formula (without its ``$`` delimiters) as plain text."""
    from pylatexenc.latex2text import LatexNodes2Text

    scripted = SCRIPT.sub(_script, tex)
    text = LatexNodes2Text(math_mode="text").latex_to_text(scripted)
    return re.sub(r"\s+", " ", text).strip()


def _script(match: re.Match[str]) -> str:
    kind, group, command, char = match.groups()
    body = group if group is not None else command or char
    table = SUBSCRIPTS if kind == "_" else SUPERSCRIPTS
    # The empty groups end a command before the script (``\sum{}ᵢ``) and keep the space after one (``{\theta}``).
    if body and all(c in table for c in body):
        return "{}" + "".join(table[c] for c in body)
    return "{} " + ("sub" if kind == "_" else "to the power") + " {" + body + "} "


_POWER = re.compile(r"\*\*\s*(-?\d+)")


def python_as_text(formula: str) -> str:
    """A formula in the grader's Python syntax (``x**2 + 2*x``) as the prompts show it (``x² + 2x``): powers as
    superscripts, ``2*x`` as ``2x``, other products as ``·``, minus signs as ``−``. For legends and titles, where
    ``**`` would look like code."""
    text = _POWER.sub(lambda m: "".join(SUPERSCRIPTS[c] for c in m.group(1)), str(formula))
    text = text.replace("**", "^")
    text = re.sub(r"(\d)\s*\*\s*([A-Za-z(])", r"\1\2", text)
    return text.replace("*", "·").replace("sqrt(", "√(").replace("-", "−")
