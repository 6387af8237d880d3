"""Step 4½, for an answer that is one number: digit grouping and scale words, as the number they spell.

Digit grouping (told, "Read 1,200,000 as 1200000 (thousands separators).", "Read 3 000 as 3000 (digit
grouping)."): commas with two groups of three
digits or more (``1,200,000``) or before a decimal point (``2,500.5``), spaces and thin spaces between
groups of three (``3 000``, ``1 200 000``: the characters step made them spaces), apostrophes
(``1'200'000``, Swiss), underscores (``1_200_000``, Python) and points with two groups or more
before an optional decimal comma (``1.200.000``, ``1.200.000,5``). A single comma before three digits
(``3,000``) could be a decimal comma: :mod:`grader.checking.reading` asks which was meant.

Scale words (told, "Read 3 thousand as 3000."): ``dozen``, ``hundred``, ``thousand``, ``million``,
``billion`` (also plural, and ``Tausend``, ``Million(en)``, ``Milliarde(n)``, ``mille``, ``milliard(s)``,
``mil``, ``millón``/``millones``) after a number in digits (``24 thousand``, ``1.2 million``, ``1,5 Millionen``)
or in words (``three thousand``, ``a dozen``, ``one million two hundred thousand``), and the suffixes
``k``, ``K`` and ``M`` right after the digits (``3k``, ``1.2M``), unless the letter may be a variable
(``2k+1``, ``k + 2k``: asked about). A scale word that follows no number (``24 (in thousands)``) is never
dropped as a word around the answer: the answer is asked about.

A decimal before a power of ten keeps its digits (``1.2 million`` is read as ``1.2e6``, two significant
figures, as if typed so); a whole number before it is exact (``3 thousand`` is ``3000``).
Lists are not read here: in ``1,200,000`` a list part could mean three numbers.

A percentage (``50%``, ``50 percent``) is asked about, never read: 0.5 or 50 may be meant, as the question
asks for a fraction or a percentage.
"""

from __future__ import annotations

import re
from fractions import Fraction

from grader.checking.notation import Reading, StepError, quoted
from grader.checking.notation.hedges import ASK, Hedged

_SCALES = {
    "dozen": 12,
    "dozens": 12,
    "hundred": 100,
    "hundreds": 100,
    "thousand": 10**3,
    "thousands": 10**3,
    "tausend": 10**3,
    "mille": 10**3,
    "mil": 10**3,
    "million": 10**6,
    "millions": 10**6,
    "millionen": 10**6,
    "millón": 10**6,
    "millon": 10**6,
    "millones": 10**6,
    "billion": 10**9,
    "billions": 10**9,
    "milliarde": 10**9,
    "milliarden": 10**9,
    "milliard": 10**9,
    "milliards": 10**9,
}
_SUFFIXES = {"k": 10**3, "K": 10**3, "M": 10**6}
_SCALE = "|".join(sorted(_SCALES, key=len, reverse=True))
_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD = "|".join([*_ONES, *_TENS, _SCALE])

# A number in digits, grouped or not: the groups are checked by _grouped.
_GROUPED = re.compile(
    r"(?<![\w.,'])(?P<number>\d{1,3}(?:(?P<sep>[,' _.])\d{3})(?:(?P=sep)\d{3})*(?:[.,]\d+)?)(?![\w'.,]?\d|\w)"
)
_MANTISSA = r"(?P<mantissa>(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:e[+-]?\d+)?)"
_SCALED = re.compile(
    rf"(?<![\w.,'^*/]){_MANTISSA}(?:[ \t]*(?P<words>(?:{_SCALE})(?:[ \t]+(?:{_SCALE}))*)\b|(?P<suffix>[kKM])(?![\w']))",
    re.IGNORECASE,
)
_PHRASE = re.compile(rf"\b(?:an?[ \t]+)?(?:{_WORD})(?:(?:[ \t-]+|[ \t]+and[ \t]+)(?:{_WORD}))*\b", re.IGNORECASE)
_LEFT = re.compile(rf"\b(?:{_SCALE})\b", re.IGNORECASE)
_LONE_THOUSANDS = re.compile(r"^[1-9]\d{0,2},\d{3}$")
_LARGEST = 10**300  # as the number reader allows
# A percentage: 0.5 or 50 is meant, depending on the question (``7 % 3``, Python's remainder, is not one).
_PERCENT = re.compile(
    r"(?P<number>[-+−]?(?:\d+(?:[.,]\d+)?|[.,]\d+))[ \t]*(?P<sign>%|percent\b|per[ \t]+cent\b|prozent\b|pour[ \t]+cent\b"
    r"|por[ \t]+ciento\b)(?![ \t]*[\d(.])",
    re.IGNORECASE,
)


def read_scales(text: str, reading: Reading) -> str:
    """``1,200,000`` → ``1200000``, ``3 thousand`` → ``3000``, ``1.2M`` → ``1.2e6``, ``a dozen`` → ``12``
    (each told); a scale word apart from any number is asked about (:class:`Hedged`, ``ask``)."""
    if percent := _PERCENT.search(text):
        number = percent.group("number").replace(",", ".").replace("−", "-")
        raise Hedged(
            f"{quoted(text)} is a percentage: write the number it stands for, {_decimal(Fraction(number) / 100)}, "
            f"or {number} where the question asks for a percentage",
            ASK,
        )
    text = _GROUPED.sub(lambda match: _grouped(match, reading), text)
    text = _SCALED.sub(lambda match: _scaled(match, reading), text)
    if _LEFT.search(text) and not re.search(r"\d", text):
        text = _PHRASE.sub(lambda match: _in_words(match, reading), text)
    left = _LEFT.search(text)
    if left:
        raise Hedged(
            f"{quoted(text)} has the word {left.group()!r} apart from any number, so it is not clear which number "
            f"it scales; write the whole number in digits",
            ASK,
        )
    return text


def _grouped(match: re.Match[str], reading: Reading) -> str:
    """One grouped number as plain digits, or unchanged when its grouping is not one (``3,000``: asked later)."""
    number, separator = match.group("number"), match.group("sep")
    groups = number.count(separator)
    decimal = "," if separator == "." else "."
    whole, _, fraction = number.partition(decimal)
    if separator in ",." and groups == 1 and not fraction:
        return number  # 3,000 (3.000 or 3000?) and 1.200 (1.2): as before, for the number reader
    if separator in ", " and match.string[: match.start()].rstrip()[-1:] in ("(", "[", "{"):
        return number  # [1,200,000]: a list, as Python writes it
    strict = rf"\d{{1,3}}(?:{re.escape(separator)}\d{{3}})+(?:{re.escape(decimal)}\d+)?"
    if not re.fullmatch(strict, number):
        return number  # 1,000,5: groups, then a comma that is no decimal point
    plain = whole.replace(separator, "") + (f".{fraction}" if fraction else "")
    what = "thousands separators" if separator != " " else "digit grouping"
    reading.note(f"Read {number} as {plain} ({what}).")
    return plain


def _scaled(match: re.Match[str], reading: Reading) -> str:
    """A number in digits before scale words or a suffix as the number it spells."""
    mantissa, words, suffix = match.group("mantissa"), match.group("words"), match.group("suffix")
    if suffix and suffix not in _SUFFIXES:
        return match.group()  # 3m is metres or milli, not a million
    if suffix and _in_formula(match, suffix):
        raise Hedged(
            f"{quoted(match.string)} could use {suffix} for {'a thousand' if suffix in 'kK' else 'a million'} "
            f"({match.group()} = {_decimal(Fraction(match.group('mantissa').replace(',', '.')) * _SUFFIXES[suffix])}) "
            f"or as a variable in a formula; write the number in digits",
            ASK,
        )
    factor = _SUFFIXES[suffix] if suffix else 1
    point = mantissa.replace(",", ".")
    spoken = re.sub(r"\s+", " ", match.group().strip())
    base, _, exponent = point.lower().partition("e")
    for word in (words or "").split():
        factor *= _SCALES[word.lower()]
        if factor > _LARGEST:
            raise StepError(f"{quoted(spoken)} is too large to be a number")
    if exponent and abs(int(exponent)) > 300:
        raise StepError(f"{quoted(spoken)} is too large to be a number")
    if "," in mantissa and _LONE_THOUSANDS.match(mantissa):
        scale = spoken[len(mantissa) :]
        whole = mantissa.replace(",", "")
        raise Hedged(
            f"{quoted(spoken)} could be {point}{scale} (a decimal comma) or {whole}{scale} (a thousands separator); "
            f"write {_decimal(Fraction(point) * factor)} or {_decimal(Fraction(whole) * factor)}",
            ASK,
        )
    value = Fraction(point) * factor
    if value > _LARGEST:
        raise StepError(f"{quoted(spoken)} is too large to be a number")
    shown = _decimal(value)
    comma = " (decimal comma)" if "," in mantissa else ""
    reading.note(f"Read {spoken} as {shown}{comma}.")
    power = len(str(factor)) - 1
    if ("." in base or exponent) and factor == 10**power:
        return f"{base}e{int(exponent or 0) + power}"  # 1.2 million: two significant figures, as 1.2e6 would be
    return shown


_OPERAND_BEFORE = re.compile(r"[\w)\]][ \t]*[-+*/^][ \t]*$")
_OPERATOR_AFTER = re.compile(r"[ \t]*[-+*/^]|\(")


def _in_formula(match: re.Match[str], suffix: str) -> bool:
    """Whether ``3k`` may be 3·k: an operand of arithmetic (``2k+1``, ``1 + 2k``), or ``k`` stands alone elsewhere
    in the answer (``k + 2k``)."""
    text, start, end = match.string, match.start(), match.end()
    if _OPERAND_BEFORE.search(text[max(0, start - 40) : start]) or _OPERATOR_AFTER.match(text, end):
        return True
    alone = re.compile(rf"(?<![\w.]){suffix}(?!\w)")
    return bool(alone.search(text[:start]) or alone.search(text, end))


def _decimal(value: Fraction) -> str:
    """A value that is a finite decimal, in plain digits (``1200000``, ``18``, ``1234.5``)."""
    if value.denominator == 1:
        return str(value.numerator)
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    digits = str(abs(value.numerator * 10**places // value.denominator)).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def _in_words(match: re.Match[str], reading: Reading) -> str:
    """``three thousand`` → ``3000``, ``a dozen`` → ``12``, ``one million two hundred thousand`` → ``1200000``;
    a phrase without a scale word is left for the words step (``thirty-eight``)."""
    phrase = match.group()
    first = _LEFT.search(phrase)
    if not first or not phrase[: first.start()].strip():
        return phrase  # thirty-eight for the words step; thousands alone says no number (asked)
    total, current, scaled = 0, 0, False
    for word in re.split(r"[ \t-]+", phrase.lower()):
        if word == "and":
            continue
        if word in ("a", "an"):
            current = 1
        elif word in _ONES:
            current += _ONES.index(word)
        elif word in _TENS:
            current += 10 * (_TENS.index(word) + 2)
        elif _SCALES[word] < 1000:
            current = max(current, 1) * _SCALES[word]
        elif scaled and not current:
            total *= _SCALES[word]  # a thousand million
        else:
            total += max(current, 1) * _SCALES[word]
            current = 0
        scaled = word in _SCALES and _SCALES[word] >= 1000
        if total > _LARGEST:
            raise StepError(f"{quoted(phrase)} is too large to be a number")
    total += current
    reading.note(f"Read '{phrase}' as {total}.")
    return str(total)
