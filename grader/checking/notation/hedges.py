"""Step 0: is it one answer? Hedged, guessed and doubled answers are refused with their reason.

A TA gives no credit for an answer that is not one answer, however close it is, so this step
reads the words and signs around the value before any other step drops them, and refuses
(:class:`Hedged`, one sentence naming the reason) an answer that

- offers another value (``alternatives``): ``24 or 25``, ``24 (25?)``, ``0.8896 (or 1.84?)``,
  ``24, maybe 25``, in German, French, Spanish or Italian too (``24 oder 25``, ``24 ou 25``,
  ``24 o 25``), a list followed by ``(or …)``, two lists, vectors or intervals joined by ``/``
  (``(3.5, 2) / (3.5, 2.5)``, ``4, 2, 1 / 4, 2, 2``);
- says it is unsure (``uncertain``): ``maybe``, ``perhaps``, ``probably``, ``I think``, ``not sure``,
  ``guess``, ``vielleicht``, ``peut-être``, ``quizás``, …;
- is an estimate (``estimate``): ``roughly``, ``about 24``, ``around 24``, ``ca.``, ``circa``,
  ``or so``, ``24-ish``, ``more or less``, ``give or take``, ``ungefähr``, ``etwa``, ``environ``,
  ``más o menos``, …; or a value with its uncertainty: ``2.0156 ± 0.0001``, ``+/-``, ``\\pm``;
- is a question (``question``): a question mark after the value or an item (``38?``, ``4, 2?, 1``,
  ``(0, 1)?``, ``(?)``); a question mark with the answer after it restates the question
  (``How many updates per epoch? 24 updates``) and is not a hedge;
- joins two numbers in a way that may be arithmetic or two answers (``ask``): ``37–38`` (a dash,
  or a hyphen from the smaller to the larger, ``37-38``), ``2.48 / 5.52`` (a slash between two
  decimals). The grader asks which was meant instead of guessing (:func:`ask_joined`); a
  whole-number fraction such as ``37/38`` is asked about by the integer type, where a count is
  expected (grader/answers/integer.py).

Precision notes are not hedges: ``≈``, ``~``, ``\\approx``, ``approx.``, ``approx``,
``approximately`` (and ``aprox.``, ``aproximadamente``, ``approximativement``) say that a decimal
is rounded, and the value is judged at the precision written; so do notes such as ``(rounded)``.
Every other word for "about" is an estimate (docs/answers.md#hedged-answers-and-units).

The step changes nothing it does not refuse; it runs on what the student typed, before the
characters step, so that an en dash (``37–38``) is still a dash and not a minus sign.
"""

from __future__ import annotations

import re
from fractions import Fraction

from grader.checking.notation import Ambiguous, Reading, quoted
from grader.checking.notation.brackets import CLOSING, OPENING, top_level

VALUE, INTERVAL = "value", "interval"

ALTERNATIVES, UNCERTAIN, ESTIMATE, QUESTION, ASK = "alternatives", "uncertain", "estimate", "question", "ask"


class Hedged(Ambiguous):
    """An answer that is not one answer; ``kind`` says why (one of the kinds above)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _words(*phrases: str) -> re.Pattern[str]:
    """Phrases (regular expressions) as whole words, any case."""
    return re.compile(r"(?<![\w'])(?:" + "|".join(phrases) + r")(?![\w'])", re.IGNORECASE)


# Words offering another answer: English, German, French/Portuguese, Spanish/Italian ("o" only between values).
_OR = re.compile(r"(?<![\w'])(or|oder|ou|o)(?![\w'])", re.IGNORECASE)
# ``or so``, ``or more``: estimates, not a second value
_NOT_ALTERNATIVE = re.compile(r"\s*(?:so|thereabouts|more|less|fewer|above|below|higher|lower)\b", re.IGNORECASE)

_UNCERTAIN = _words(
    "maybe",
    "perhaps",
    "probably",
    "possibly",
    "presumably",
    "not sure",
    "unsure",
    "not certain",
    "uncertain",
    r"i\s+(?:think|guess|believe|suppose|assume)",
    r"guess(?:ed|ing)?",
    "vielleicht",
    "wahrscheinlich",
    "vermutlich",
    r"ich\s+(?:glaube|denke)",
    r"nicht\s+sicher",
    r"peut-[êe]tre",
    "probablement",
    r"je\s+(?:pense|crois)",
    r"pas\s+s[ûu]re?",
    r"quiz[áa]s?",
    r"tal\s+vez",
    "probablemente",
    "creo",
    r"no\s+estoy\s+segur[oa]",
    "forse",
)
# Estimates anywhere, and estimates only before a value (``about 24``, but ``not sure about the ends`` is
# uncertain for another word, and ``around`` may be a place).
_ESTIMATE = _words(
    "roughly",
    "circa",
    r"ca\.?(?=\s*[-+(\[\d.])",
    r"or\s+so",
    r"or\s+thereabouts",
    r"or\s+(?:more|less|fewer|above|below|higher|lower)",
    r"more\s+or\s+less",
    r"give\s+or\s+take",
    r"something\s+like",
    r"in\s+the\s+region\s+of",
    "ballpark",
    r"ungef[äa]e?hr",
    "zirka",
    "environ",
    r"[àa]\s+peu\s+pr[èe]s",
    r"m[áa]s\s+o\s+menos",
    r"alrededor\s+de",
    r"grosso\s+modo",
    r"(?:about|around|nearly|almost|close\s+to|etwa|rund|cerca\s+de|unos|unas|some)(?=\s*[:=]?\s*[-+(\[\d.])",
)
# ``oscillates around 0``, ``ends up close to 0``: where the iterates go, not how sure the answer is.
_PLACE = re.compile(
    r"(?:oscillat|bounc|jump|mov|circl|spiral|zigzag|settl|converg|stay|end|lands?)\w*(?:\s+up)?\s+\Z", re.IGNORECASE
)
_ISH = re.compile(r"\d\s*-?\s*ish(?![\w'])", re.IGNORECASE)
_PLUS_MINUS = re.compile(r"±|∓|\+\s*/\s*-|\\pm(?![a-z])")  # a value and its uncertainty

# A question mark after a value or an item: at the end, before a separator or a closing bracket, or as a note.
_QUESTION = re.compile(r"[?？¿](?=\s*(?:$|[?？,;\n\t)\]}(]))|\(\s*[?？]+\s*\)")

_NUMBER = r"[-−]?(?:\d+(?:\.\d+)?|\.\d+)"
_JOINED = re.compile(
    rf"(?:^|(?<=[,;\n\t(\[{{$`]))[ \t]*({_NUMBER})([ \t]*)([-–—−/])([ \t]*)({_NUMBER})[ \t]*(?=$|[,;\n\t)\]}}$`.?])"
)
_SLASH = re.compile(r"/")
_OFFERED = re.compile(
    r"\s*[-+−]?[\d.(\[][-+−\d.,;/\s()\[\]eE]*[?？]+\s*"
)  # (25?), ((0, 1]?): a value offered in a note
_ITEM_SEPARATOR = re.compile(r"[,;]")
_DIGIT = re.compile(r"\d")
_VALUE_START = re.compile(r"\s*(?:[:=]\s*)?(?:[-+−]?\s*[\d.(\[]|[<>≤≥]=?\s*[-+]?\d)")
_WORD = re.compile(r"(?<!\w)[A-Za-z\u00c0-\u024f][\w'-]*")
_SIGNS = re.compile(r"[A-Za-z\u00c0-\u024f?？¿/–—−±∓-]")
_EDGE = " \t\n,;:!?？¿="
_MATH_WORDS = {"sqrt", "exp", "log", "ln", "pi", "inf", "infinity", "ceil", "floor", "abs", "sin", "cos", "tan"}


def refuse_hedges(text: str, reading: Reading, context: str = VALUE) -> str:
    """``text`` unchanged when it is one answer; otherwise :class:`Hedged` naming why (see the module).

    ``context``: :data:`VALUE` (numbers and lists of them) or :data:`INTERVAL` (where ``0–1`` is left to
    the interval reader, which asks for the ends)."""
    if not _SIGNS.search(text):
        return text
    _two_answers(text)
    if found := _UNCERTAIN.search(text):
        raise Hedged(
            f"'{found.group()}' in {quoted(text)} hedges the answer: write only the answer you mean, without it",
            UNCERTAIN,
        )
    estimates = (m for m in _ESTIMATE.finditer(text) if not _PLACE.search(text, max(0, m.start() - 30), m.start()))
    if found := (next(estimates, None) or _ISH.search(text)):
        word = found.group() if found.re is _ESTIMATE else "-ish"
        raise Hedged(
            f"'{word}' in {quoted(text)} makes it an estimate, not a value: write the value itself "
            "(≈ may say that a decimal is rounded)",
            ESTIMATE,
        )
    if found := _PLUS_MINUS.search(text):
        raise Hedged(
            f"'{found.group()}' in {quoted(text)} gives a value with its uncertainty, not one value: write the "
            "value alone",
            ESTIMATE,
        )
    if _QUESTION.search(text):
        raise Hedged(
            f"the question mark in {quoted(text)} makes it a guess, not an answer: write only the answer you "
            "mean, without the '?'",
            QUESTION,
        )
    _two_lists(text)  # first: 0.4, 0.2, 0.1 / 0.4, 0.2, 1.1 is two lists, not the quotient 0.1/0.4
    if context == VALUE:
        for joined in _JOINED.finditer(text):
            _ask_if_two(text, joined)
    return text


def _two_answers(text: str) -> None:
    """Another value offered after ``or`` (``oder``, ``ou``, ``o``), or after a hedge word or alone with a
    question mark in a note (``24 (maybe 25)``, ``24 (25?)``); a note ``(or …)`` that leaves it open.

    Linear in the answer whatever it holds: digits are counted once, notes found in one pass."""
    digits = [0]
    for char in text:
        digits.append(digits[-1] + char.isdigit())
    notes = _notes(text)

    def has_digit(start: int, end: int) -> bool:
        return digits[max(end, start)] > digits[start]

    def sides(start: int, end: int) -> tuple[int, int, int, bool]:
        """Where the first answer ends, where the second starts and ends, and whether it is in a note: in a
        note after a value (``24 (or 25)``), the text before the note and the note after the word."""
        opening, close = notes[start]
        if opening >= 0 and has_digit(0, opening):
            return opening, end, close, True
        return start, end, len(text), False

    for match in _OR.finditer(text):
        word = match.group(1)
        if word.lower() == "o" and not _between_values(text, match):
            continue
        if _NOT_ALTERNATIVE.match(text, match.end()):
            continue
        first_end, second_start, second_end, in_note = sides(match.start(), match.end())
        if has_digit(0, first_end) and has_digit(second_start, second_end):
            _refuse_two(text, _candidate(text[:first_end]), _candidate(text[second_start:second_end]))
        if in_note and not _WORD.search(text, second_start, second_end):
            raise Hedged(
                f"{quoted(text)} leaves another answer open ('{word} …'): write only the answer you mean",
                ALTERNATIVES,
            )
    for match in _UNCERTAIN.finditer(text):
        if _VALUE_START.match(text, match.end()):
            first_end, second_start, second_end, _ = sides(match.start(), match.end())
            if has_digit(0, first_end) and has_digit(second_start, second_end):
                _refuse_two(text, _candidate(text[:first_end]), _candidate(text[second_start:second_end]))
    for opening, close in sorted(set(notes)):
        if opening > 0 and has_digit(0, opening) and _OFFERED.fullmatch(text, opening + 1, close):
            _refuse_two(text, _candidate(text[:opening]), _candidate(text[opening + 1 : close]))


def _between_values(text: str, match: re.Match[str]) -> bool:
    """Spanish and Italian ``o`` only between two values (``24 o 25``), never as a letter."""
    before = text[max(0, match.start() - 40) : match.start()].rstrip()
    return (
        bool(before) and (before[-1].isdigit() or before[-1] in CLOSING) and bool(_VALUE_START.match(text, match.end()))
    )


def _notes(text: str) -> list[tuple[int, int]]:
    """For each position, the innermost round bracket open there and where it closes (the end of the text if
    it never does); (-1, -1) outside round brackets. Two passes."""
    closes: dict[int, int] = {}
    stack: list[int] = []
    for index, char in enumerate(text):
        if char in OPENING:
            stack.append(index)
        elif char in CLOSING and stack:
            closes[stack.pop()] = index
    result: list[tuple[int, int]] = []
    stack = []
    for index, char in enumerate(text):
        if char in CLOSING and stack:
            stack.pop()
        inner = stack[-1] if stack else -1
        result.append((inner, closes.get(inner, len(text))) if inner >= 0 and text[inner] == "(" else (-1, -1))
        if char in OPENING:
            stack.append(index)
    return result


def _candidate(text: str) -> str:
    """One of two answers as it is named: its maths without the words, question marks and edges, and without
    a bracket left over from a note (``24 (or 25)``)."""
    kept = _WORD.sub(lambda m: m.group() if _is_maths(m.group()) else " ", text)
    kept = re.sub(r"[?？¿]", " ", kept)
    kept = re.sub(r"\s+", " ", kept).strip(_EDGE).rstrip(".").strip(_EDGE)
    opened = sum(kept.count(c) for c in "([{") - sum(kept.count(c) for c in ")]}")
    if opened > 0 and kept[:1] in "([{":
        kept = kept[1:].strip(_EDGE)
    elif opened < 0 and kept[-1:] in ")]}":
        kept = kept[:-1].strip(_EDGE)
    return kept


def _is_maths(word: str) -> bool:
    """A word kept in a named answer: a function or constant, a one-letter name (``η``, ``x1``)."""
    return word.lower() in _MATH_WORDS or bool(re.fullmatch(r"[A-Za-z](?:\d+|_\w+)?", word))


def _refuse_two(text: str, first: str, second: str) -> None:
    raise Hedged(
        f"{quoted(text)} gives two answers, {_short(first)} and {_short(second)}: write only the one you mean",
        ALTERNATIVES,
    )


def _short(text: str) -> str:
    return text if len(text) <= 48 else text[:45].rstrip() + "…"


def _ask_if_two(text: str, joined: re.Match[str]) -> None:
    """``37–38``, ``37-38``, ``2.48 / 5.52``: arithmetic, or two answers? Asked, never guessed."""
    first, space_before, sign, space_after, second = joined.groups()
    first, second = first.replace("−", "-"), second.replace("−", "-")
    if sign == "/":
        if "." in first and "." in second:
            raise Hedged(ask_joined(text, first, "/", second), ASK)
        return
    if bool(space_before) != bool(space_after) or "-" in first + second:
        return  # 1 -3: numpy's spaced list of 1 and −3; a range of signed numbers is not told from arithmetic
    if sign in "–—" or Fraction(first) < Fraction(second):
        raise Hedged(ask_joined(text, first, "-", second), ASK)


def ask_joined(text: str, first: str, sign: str, second: str) -> str:
    """The question for two numbers joined by ``/`` or ``-``: ``by '37/38', did you mean the fraction
    37/38 ≈ 0.974, or two answers, 37 and 38?``"""
    a, b = Fraction(first), Fraction(second)
    if sign == "/":
        whole = "." not in first + second
        value = a / b if b else None
        shown = "is undefined" if value is None else f"≈ {float(value):.3g}"
        what = f"the fraction {first}/{second}" if whole else f"the quotient {first}/{second}"
    else:
        value = a - b
        shown = f"= {_plain(value)}"
        what = f"the difference {first} − {second}"
    return f"by {quoted(text)}, did you mean {what} {shown}, or two answers, {first} and {second}?"


def _plain(value: Fraction) -> str:
    text = str(value.numerator) if value.denominator == 1 else f"{float(value):.6g}"
    return text.replace("-", "−")


def _two_lists(text: str) -> None:
    """Two lists, vectors or intervals joined by ``/`` (``(3.5, 2) / (3.5, 2.5)``, ``4, 2, 1 / 4, 2, 2``):
    a list is not divided by a list, so these are two answers."""
    slashes = top_level(text, _SLASH)
    if len(slashes) != 1:
        return
    at = slashes[0].start()
    before, after = text[:at], text[at + 1 :]
    if _is_list_group(before.strip()) and _is_list_group(after.strip()):
        _refuse_two(text, before.strip(), after.strip())
    spaced = before[-1:].isspace() and after[:1].isspace()
    items_before, items_after = len(top_level(before, _ITEM_SEPARATOR)), len(top_level(after, _ITEM_SEPARATOR))
    if spaced and items_before and items_before == items_after:
        _refuse_two(text, before.strip(), after.strip())


def _is_list_group(text: str) -> bool:
    """A bracketed list or interval: ``(3.5, 2)``, ``[0, 1)``, ``]0, 1[``."""
    if len(text) < 2 or text[0] not in "([{]" or text[-1] not in ")]}[":
        return False
    return bool(top_level(text[1:-1], _ITEM_SEPARATOR))
