"""Step 1: characters from phones, PDFs and word processors into plain ASCII maths.

NFKC folds full-width digits and signs (``３８`` → ``38``, ``＝`` → ``=``), no-break and thin
spaces, and subscripts (``x₁`` → ``x1``). It must not run first on its own: it would turn ``3⅓``
into ``31⁄3`` and ``2⁻¹`` into ``2-1``. So vulgar fractions become ``(3+1/3)`` and runs of
superscripts become powers ``**(-1)`` before NFKC, and the characters NFKC leaves alone (minus
signs, dashes, multiplication dots, curly quotes, the fraction slash) are mapped after it.
"""

from __future__ import annotations

import re
import unicodedata

from grader.checking.notation import Reading

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_VULGAR = "½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒"
_MIXED_NUMBER = re.compile(rf"(\d*)\s?([{_VULGAR}])")
_TIMES_TEN = re.compile(r"(?<![\w.*^/])(\d+(?:\.\d*)?)\s*[×x*·⋅]\s*10\s*(?:\*\*|\^)\s*(?:\(([+-]?\d+)\)|([+-]?\d+))")
_AFTER_NFKC = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2013": "-",  # en dash, typed for minus
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u00b7": "*",  # middle dot
        "\u22c5": "*",  # dot operator
        "\u2219": "*",  # bullet operator
        "\u00d7": "*",  # multiplication sign
        "\u2217": "*",  # asterisk operator
        "\u00f7": "/",
        "\u2044": "/",  # fraction slash
        "\u2215": "/",  # division slash
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u200b": None,  # zero-width space
        "\ufeff": None,  # byte-order mark
        "\u2026": "...",
        "\u1d40": "^T",  # modifier letter capital T: a transposed vector
        "\u22a4": "^T",
        "\u27f6": "→",
        "\u21d2": "→",
        "\u2192": "→",
        "\u2190": "=",  # x ← (3.5, 2): an assignment
        "\u27f5": "=",
    }
)


def normalise_characters(text: str, reading: Reading) -> str:
    """Full-width, no-break, curly, dashed and superscript characters → plain maths; ``3⅓`` → ``(3+1/3)``."""
    if not text.isascii():
        text = _MIXED_NUMBER.sub(_vulgar_fraction, text)
        text = _SUPERSCRIPT_RUN.sub(lambda m: "**(" + m.group().translate(_SUPERSCRIPTS) + ")", text)
        text = text.replace("\u1d40", "^T")  # NFKC would make it a plain T
        text = unicodedata.normalize("NFKC", text).translate(_AFTER_NFKC)
    text = _TIMES_TEN.sub(
        lambda m: f"{m[1]}e{m[2] or m[3]}", text
    )  # 1.2×10⁻³ → 1.2e-3: keeps the digits the student gave
    if _ITEM_SEPARATOR.search(text):
        text = _TYPED_MIXED_NUMBER.sub(lambda m: _typed_mixed_number(m, reading), text)
    return text


# 2 1/4 as a mixed number, where commas, semicolons or lines separate the items (with spaces between the
# items, 4 1/2 1/4 is three numbers), and only with a proper fraction (2 5/4 is not how anyone writes 3¼).
_ITEM_SEPARATOR = re.compile(r"[,;\n]")
_TYPED_MIXED_NUMBER = re.compile(r"(?<![\d./])(\d+) +(\d+)/(\d+)(?![\d./])")


def _typed_mixed_number(match: re.Match[str], reading: Reading) -> str:
    whole, numerator, denominator = match.groups()
    if not 0 < int(numerator) < int(denominator):
        return match.group()
    reading.note(f"Read {match.group()} as {whole} + {numerator}/{denominator} (a mixed number).")
    return f"({whole}+{numerator}/{denominator})"


def _vulgar_fraction(match: re.Match[str]) -> str:
    """``½`` → ``(1/2)``, ``3⅓`` → ``(3+1/3)`` (a mixed number), by the fraction NFKC spells out."""
    whole, fraction = match.groups()
    numerator, denominator = unicodedata.normalize("NFKC", fraction).split("\u2044")
    if whole:
        return f"({whole}+{numerator}/{denominator})"
    return f"({numerator}/{denominator})"
