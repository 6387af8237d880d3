"""Step 1: characters from phones, PDFs and word processors into plain ASCII maths.

NFKC folds full-width digits and signs (``３８`` → ``38``, ``＝`` → ``=``), no-break and thin
spaces, ligatures (``ﬁ``), mathematical letters (``𝑥``) and subscripts (``x₁`` → ``x1``). It must not
run first on its own: it would turn ``3⅓`` into ``31⁄3`` and ``2⁻¹`` into ``2-1``. So vulgar fractions
become ``(3+1/3)`` and runs of superscripts become powers ``**(-1)`` before NFKC, and the characters NFKC
leaves alone (minus signs, dashes, multiplication dots, curly quotes, the fraction slash, soft hyphens
and zero-width characters a PDF copy leaves) are mapped after it.

Also before NFKC: a TI calculator's raised minus as a sign (``{⁻1 ⁻2}``, ``1.2ᴇ⁻3``), repeating decimals
marked on their digits (``3.3̅``, Casio's ``3.3̇``, ``0.1̇42857̇``) and written ``3.(3)``, all exact
(``(10/3)``, told), and matrices drawn with the pieces of large brackets (``⎡6 0⎤`` / ``⎣0 2⎦``, sympy's
pretty printing with its blank ``⎢ ⎥`` lines) as rows ``[6 0]``; after it, ``√2``, ``2√3``, ``√(x+1)`` as
``sqrt``.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

from grader.checking.notation import Reading

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_VULGAR = "½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒"
_MIXED_NUMBER = re.compile(rf"(\d*)(\s?)([{_VULGAR}])")
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
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,  # zero-width joiner
        "\u2060": None,  # word joiner
        "\u00ad": None,  # soft hyphen: where a PDF broke a word across lines
        "\ufeff": None,  # byte-order mark
        "\u2028": "\n",  # line and paragraph separators
        "\u2029": "\n",
        "\u2026": "...",
        "\u1d40": "^T",  # modifier letter capital T: a transposed vector
        "\u22a4": "^T",
        "\u27f6": "→",
        "\u21d2": "→",
        "\u2192": "→",
        "\u2266": "≤",  # ≦ and ≧, as Japanese keyboards type them
        "\u2267": "≥",
        "\u2190": "=",  # x ← (3.5, 2): an assignment
        "\u27f5": "=",
    }
)


def normalise_characters(text: str, reading: Reading) -> str:
    """Full-width, no-break, curly, dashed and superscript characters → plain maths; ``3⅓`` → ``(3+1/3)``."""
    if not text.isascii():
        if "⁻" in text or "ᴇ" in text:
            text = _TI_EXPONENT.sub("e-", text).replace("ᴇ", "e")
            text = _TI_MINUS.sub("-", text)
        if "\u0305" in text or "\u0307" in text:
            text = _MARKED_REPETEND.sub(lambda m: _marked_repetend(m, reading), text)
        if _DRAWN.search(text):
            text = _drawn_rows(text)
        if "，" in text or "、" in text:
            text = text.replace("，", ", ").replace("、", ", ")  # CJK commas separate items, never decimals
        text = _MIXED_NUMBER.sub(_vulgar_fraction, text)
        text = _SUPERSCRIPT_RUN.sub(lambda m: "**(" + m.group().translate(_SUPERSCRIPTS) + ")", text)
        text = text.replace("\u1d40", "^T")  # NFKC would make it a plain T
        text = unicodedata.normalize("NFKC", text).translate(_AFTER_NFKC)
        if "√" in text:
            text = _roots(text)
    if "(" in text and "." in text:
        text = _BRACKETED_REPETEND.sub(lambda m: _bracketed_repetend(m, reading), text)
    text = _TIMES_TEN.sub(
        lambda m: f"{m[1]}e{m[2] or m[3]}", text
    )  # 1.2×10⁻³ → 1.2e-3: keeps the digits the student gave
    if _ITEM_SEPARATOR.search(text):
        text = "\n".join(_typed_mixed_numbers(line, reading) for line in text.split("\n"))
    return text


# 2 1/4 as a mixed number, where commas, semicolons or lines separate the items (with spaces between the
# items, 4 1/2 1/4 is three numbers), and only with a proper fraction (2 5/4 is not how anyone writes 3¼).
_ITEM_SEPARATOR = re.compile(r"[,;\n]")
_TYPED_MIXED_NUMBER = re.compile(r"(?<![\d./])(\d+) +(\d+)/(\d+)(?![\d./])")


def _typed_mixed_numbers(line: str, reading: Reading) -> str:
    """The mixed numbers of one line: between commas or semicolons, or alone on their line (``2 1/4``); a line
    of items between spaces (a matrix's row ``0  1/10  0``, MATLAB's ``format rat``) has none."""
    if "/" not in line:
        return line
    if "," in line or ";" in line:
        return _TYPED_MIXED_NUMBER.sub(lambda m: _typed_mixed_number(m, reading), line)
    alone = _TYPED_MIXED_NUMBER.fullmatch(line.strip())
    return _typed_mixed_number(alone, reading) if alone else line


def _typed_mixed_number(match: re.Match[str], reading: Reading) -> str:
    whole, numerator, denominator = match.groups()
    if not 0 < int(numerator) < int(denominator) or int(whole) == 0:
        return match.group()
    reading.note(f"Read {match.group()} as {whole} + {numerator}/{denominator} (a mixed number).")
    return f"({whole}+{numerator}/{denominator})"


def _vulgar_fraction(match: re.Match[str]) -> str:
    """``½`` → ``(1/2)``, ``3⅓`` → ``(3+1/3)`` (a mixed number), by the fraction NFKC spells out; after 0 it is
    another item (``0 ⅛`` in a row), not a mixed number."""
    whole, space, fraction = match.groups()
    numerator, denominator = unicodedata.normalize("NFKC", fraction).split("\u2044")
    if whole and not whole.startswith("0"):
        return f"({whole}+{numerator}/{denominator})"
    return f"{whole}{space}({numerator}/{denominator})"


# A TI calculator's negative sign is a raised minus before plain digits (``⁻1``), unlike a power (``2⁻¹``).
_TI_MINUS = re.compile(r"(?<![\w)\]}.⁰¹²³⁴⁵⁶⁷⁸⁹])⁻(?=\.?\d)")
_TI_EXPONENT = re.compile(r"(?<=\d)ᴇ⁻(?=\d)")


def repeating_decimal(sign: str, whole: str, fixed: str, repeated: str) -> str:
    """``3.(3)`` → ``(10/3)``: the exact value of a decimal whose digits ``repeated`` repeat for ever."""
    value = Fraction(int(whole or "0")) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(repeated), (10 ** len(repeated) - 1) * 10 ** len(fixed))
    return f"({sign}{value.numerator}/{value.denominator})"


# 3.3̅ (a combining overline on each repeating digit), Casio's 3.3̇ / 0.1̇42857̇ (a dot above the first and last).
_MARKED_REPETEND = re.compile(
    r"(?<![\d.])(-?)(\d*)\.((?:\d(?![\u0305\u0307]))*)((?:\d\u0305)+|\d\u0307(?:\d{0,8}\d\u0307)?)(?![\d\u0305\u0307])"
)
# 3.(3), 0.1(6): the repeating digits in brackets right after the decimals.
_BRACKETED_REPETEND = re.compile(r"(?<![\w.)\]])(-?)(\d+)\.(\d{0,9})\((\d{1,9})\)(?![\w.(])")


def _marked_repetend(match: re.Match[str], reading: Reading) -> str:
    sign, whole, fixed, marked = match.groups()
    repeated = marked.replace("\u0305", "").replace("\u0307", "")
    value = repeating_decimal(sign, whole, fixed, repeated)
    reading.note(f"Read {match.group()} as {value[1:-1]} (a repeating decimal).")
    return value


def _bracketed_repetend(match: re.Match[str], reading: Reading) -> str:
    value = repeating_decimal(*match.groups())
    reading.note(f"Read {match.group()} as {value[1:-1]} (a repeating decimal).")
    return value


# √2, 2√3, √(x+1), x√2: the root of a number, a name or a bracket; a product with what stands before it.
_RADICAND = re.compile(r"[ \t]*(?:(\d+(?:\.\d+)?)|([^\W\d_]\w*)|(\())")


def _roots(text: str) -> str:
    """Each ``√`` found once, what follows it matched from there, what precedes it looked at: linear."""
    out, start = [], 0
    while (at := text.find("√", start)) >= 0:
        radicand = _RADICAND.match(text, at + 1)
        if radicand is None:
            break
        before = text[start:at].rstrip(" \t")
        number, name, opening = radicand.groups()
        times = "*" if before and (before[-1].isalnum() or before[-1] in ")._") else ""
        out.append(before + (" " if before and text[start:at] != before and not times else "") + times)
        out.append("sqrt(" if opening else f"sqrt({number or name})")
        start = radicand.end()
    return "".join(out) + text[start:]


# The pieces of large brackets (sympy's pretty printing, Word's and Unicode maths): a row between a left and a
# right piece, and the blank lines between rows that sympy draws.
_DRAWN_PAIRS = {"⎡": "⎤", "⎢": "⎥", "⎣": "⎦", "⎛": "⎞", "⎜": "⎟", "⎝": "⎠", "│": "│", "┃": "┃", "║": "║"}
_DRAWN = re.compile(r"^[ \t]*[⎡⎛│┃║]", re.MULTILINE)


def _drawn_rows(text: str) -> str:
    """``⎡6 0⎤`` / ``⎢   ⎥`` / ``⎣0 2⎦`` → ``[6 0]`` / ``[0 2]``, when every line is such a row (else unchanged)."""
    rows = []
    for line in text.strip().split("\n"):
        line = line.strip()
        if len(line) < 2 or _DRAWN_PAIRS.get(line[0]) != line[-1]:
            return text
        inner = line[1:-1].strip()
        if inner:
            rows.append(f"[{inner}]")
    return "\n".join(rows) if len(rows) >= 1 else text
