"""Step 5: the value among labels, units, notes and words.

``24 updates``, ``about 24 updates per epoch``, ``38 (37 full + 1 partial)``, ``37 (drop_last=True)``,
``38 because the last batch is partial``, ``b32: 38``, ``With B = 200 there are 6 updates.``,
``the new point is (3.5, 2)``, ``The iterates are 4, 2, 1 and 0.5.``, ``≈ 24``, ``~24``, a trailing
full stop, ``3.333...``, and number words for counts (``thirty-eight``).

Words are runs of two or more letters that are not a function or constant of the formula language;
a single letter, alone or with a subscript (``x``, ``x1``, ``x_t``, ``b32``, ``g_B``), is a label and
stays, so that ``x1 = 2`` reaches the equation step. What is left is cut into spans of maths; when
several spans hold a number, the answer is the one a reader would take (a count followed by its
unit, the first number followed by its justification), and otherwise the answer is refused with
the numbers found, never guessed.
"""

from __future__ import annotations

import re

from grader.checking.notation import Ambiguous, Reading, StepError, quoted
from grader.checking.notation.brackets import closing_at, depths, top_level
from grader.expressions import CONSTANTS, FUNCTIONS


class WordsError(StepError):
    """No value, or more than one, among the words; the message says which."""


NUMBER, LIST = "number", "list"

_MATH_NAMES = {name.lower() for name in (*FUNCTIONS, *CONSTANTS)} | {"ceil", "floor", "inf", "infinity", "oo", "pi"}
_TOKEN = re.compile(r"[A-Za-z\u00c0-\u024f\u0370-\u03ff][\w\u0370-\u03ff']*(?:-[A-Za-z][\w']*)*")
_LABEL = re.compile(r"^[A-Za-z\u0370-\u03ff](?:\d+|_\w+|'*)$")
# A single letter alone is a label when a value or its argument follows (x = 2, f(x0): 18, η ≈ 0.1), else a
# word (French "il y a 24", Spanish "y").
_NAMES_A_VALUE = re.compile(r"[ \t]*(?:[=:≈~(\[_'<>≤≥∈←,;)\]]|$)")
_AND = {"and", "und", "et", "y"}
# When, not what: "0.8896 after 2 steps", "nach 2 Schritten", "après 2 itérations", "después de 2 pasos".
_CONTEXT = re.compile(
    r"\b(?:after|nach|apr[èe]s|despu[ée]s\s+de|tras|au\s+bout\s+de|al\s+cabo\s+de|within)\s+(\d+)\s+([^\W\d_][\w-]*)",
    re.IGNORECASE,
)
_UNITS = re.compile(
    r"^(?:updates?|steps?|iterations?|batch(?:es)?|mini-?batch(?:es)?|minibatch(?:es)?|gradient|times|epochs?)$", re.I
)
_REASONS = re.compile(r"^(?:because|since|as|which|from|due|with|for|i\.?e|rounded|that|when|where)$", re.I)
_PARAMETER = re.compile(r"^\s*(?:n|N|B|b|η|eta|lr|β|beta|α|alpha|t|k|batch_size)\s*[=:]\s*[\d.]+\s*$")
_NOTE = re.compile(r"\(([^()]*)\)")
_ELLIPSIS = re.compile(r"(\d+\.\d+)\s*(?:\.\.\.|…)")
_DIGIT = re.compile(r"(?<![A-Za-z_\d\u0370-\u03ff])[\d∞]")
_OPERATOR_END = "-=+*/^≈~→<>≤≥∈("
_LIST_END = ",;"  # 4, 2, and 1: a list goes on after a separator
_OPERATOR_START = re.compile(r"^\s*[=+*/^≈→<>≤≥)]")
_EDGE = " \t\n,;:!?"
_COLON = re.compile(r":")

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_NUMBER_WORD = "|".join([*_ONES, *_TENS, "hundred"])
_NUMBER_WORDS = re.compile(rf"\b(?:{_NUMBER_WORD})(?:(?:[\s-]+|\s+and\s+)(?:{_NUMBER_WORD}))*\b", re.I)


def find_value(text: str, reading: Reading, context: str = NUMBER, number_words: bool = False) -> str:
    """The maths of the answer without the words around it; raises :class:`WordsError` when no value,
    or several that no reader could choose between, are left. ``number_words``: the answer is a count
    (``thirty-eight``), not an item of a list (where ``one`` is more likely a slip than a value)."""
    original = text.strip()
    text = _ELLIPSIS.sub(lambda m: _repeating(m, reading), original)
    if context == NUMBER:
        text = _without_context(text, reading)
    if number_words and not _DIGIT.search(text):
        text = original = _NUMBER_WORDS.sub(lambda m: _number_from_words(m.group(), reading), text)
    colons = top_level(text, _COLON)
    if len(colons) == 1 and _TOKEN.search(text[: colons[0].start()]) and _DIGIT.search(text[colons[0].end() :]):
        text = text[colons[0].end() :]  # a label, b32: 38 / f(x_t): 18, 6, …
    text = _drop_notes(text, context)
    spans = _spans(text, context)
    found = [(span, following) for span, following in spans if _DIGIT.search(span)]
    if not found:
        raise WordsError(f"{quoted(original)} is not a number" if context == NUMBER else "there is no value in it")
    span = _choose(found, original)
    if context == NUMBER:
        reading.unit = unit_after(text[text.find(span) + len(span) :]) if span in text else ""
    chosen = re.sub(r" {2,}", " ", span)
    unit = reading.unit if context == NUMBER else ""
    others = original.replace(chosen, "", 1).replace(unit, "", 1) if unit else original.replace(chosen, "")
    if unit:  # the word naming what it counts is read, and judged by a part that says what it counts
        tail = "; the other words around it are not graded" if _TOKEN.search(others) else ""
        reading.note(f"Read {chosen} {unit} as your answer{tail}.")
    elif chosen != original and _TOKEN.search(others):
        reading.note(f"Read {chosen} as your answer; the words around it are not graded.")
    return chosen


# What a count counts, by the word after it (``24 updates``, ``24 epochs``). A part that asks for one quantity
# (``unit: updates``) gives an answer in another only half credit, saying why (grader/answers/integer.py).
QUANTITIES = {
    "updates": (
        "update updates step steps iteration iterations iters schritt schritte iterationen aktualisierungen "
        "itération itérations iteration iteraciones paso pasos actualizaciones schritten pas mises"
    ),
    "epochs": "epoch epochs epoche epochen époque époques epoque epoques época épocas epoca epocas",
    "batches": "batch batches minibatch minibatches mini-batch mini-batches lote lotes",
    "points": "point points datapoint datapoints data-point data-points sample samples example examples",
}
_QUANTITY_OF = {word: quantity for quantity, words in QUANTITIES.items() for word in words.split()}
# Words that may stand before the word naming the quantity: 24 gradient steps, 24 mini-batch updates.
_QUALIFIERS = {"gradient", "descent", "sgd", "gd", "parameter", "weight", "optimizer", "optimiser", "training"}
_UNIT_WORDS = re.compile(r"\s*((?:[A-Za-z\u00c0-\u024f][\w'-]*[ \t]*){1,4})")


def _without_context(text: str, reading: Reading) -> str:
    """``0.8896 after 2 steps`` → ``0.8896``: a count of steps after ``after`` (``nach``, ``après``, ``después
    de``) says when, not what, where another number is left to be the answer (told)."""
    for match in _CONTEXT.finditer(text):
        if quantity(match.group(2)) is None:
            continue
        rest = text[: match.start()] + text[match.end() :]
        if _DIGIT.search(rest):
            reading.note(f"Read {match.group().strip()!r} as when, not as your answer.")
            return rest.strip()
    return text


def unit_after(text: str) -> str:
    """The word naming what the number before ``text`` counts (``updates`` in ``24 gradient updates per
    epoch``, ``epochs`` in ``24 epochs``), or ''; the head of the words right after the number."""
    words = _UNIT_WORDS.match(text)
    unit = ""
    for word in words.group(1).split() if words else ():
        if word.lower() in _QUANTITY_OF:
            unit = word
        elif word.lower() not in _QUALIFIERS:
            break
    return unit


def quantity(unit: str) -> str | None:
    """The quantity a unit word names (``steps`` → ``updates``), None for a word of none."""
    return _QUANTITY_OF.get(unit.lower())


def _spans(text: str, context: str) -> list[tuple[str, str]]:
    """Maximal runs of maths between words, each with the word that follows it ('' at the end).

    Words inside a formula (``37 full + 1 partial = 38``) do not cut it: a span that ends with an
    operator, or a next one that starts with one, continues across them.
    """
    pieces: list[tuple[str, str]] = []  # (maths, the word after it)
    start = 0
    for token in _TOKEN.finditer(text):
        word = token.group()
        if word.lower() in _MATH_NAMES or (
            _LABEL.match(word) and (len(word) > 1 or _NAMES_A_VALUE.match(text, token.end()))
        ):
            continue
        if context == LIST and _ends_with(text[: token.start()], _LIST_END):
            continue  # an item of the list (4, 2, one): left for the number reader to refuse
        if context == LIST and word.lower() in _AND:
            text_before = text[start : token.start()]
            pieces.append((text_before + ",", ""))
            start = token.end()
            continue
        pieces.append((text[start : token.start()], word))
        start = token.end()
    pieces.append((text[start:], ""))
    spans: list[tuple[str, str]] = []
    for maths, word in pieces:
        ends_open = spans and (
            _ends_with(spans[-1][0], _OPERATOR_END) or (context == LIST and _ends_with(spans[-1][0], _LIST_END))
        )
        joins = ends_open or (spans and _OPERATOR_START.match(maths))
        if joins and re.search(r"[\d(\[]", maths):
            spans[-1] = (spans[-1][0] + " " + maths, word)
        elif spans and not spans[-1][0].strip():
            spans[-1] = (maths, word)
        elif maths.strip() or not spans:
            spans.append((maths, word))
        elif word and not spans[-1][1]:
            spans[-1] = (spans[-1][0], word)
    return [(_trimmed(span), following) for span, following in spans]


def _ends_with(text: str, characters: str) -> bool:
    """Whether the last character before trailing spaces is one of ``characters`` (linear, unlike ``\\s*$``)."""
    last = text.rstrip()[-1:]
    return bool(last) and last in characters


def _trimmed(span: str) -> str:
    span = re.sub(r"^\.\s+", "", span.strip(_EDGE))  # approx. (3.33, 2)
    span = re.sub(r"^(?:=|≈|~|→)\s*", "", span)
    if span.endswith(".") and not re.search(r"\d\.$", span[-3:] if len(span) > 2 else span):
        span = span[:-1]
    if re.search(r"\d\.\d*\.$|[)\]]\.$", span):
        span = span[:-1]  # 2.48. / (3.5, 2).: the full stop ends the sentence
    return span.strip(_EDGE)


# Words that say the value after them concludes the working before it.
_CONCLUDES = re.compile(
    r"\b(?:gives?|giving|so|thus|therefore|hence|finally|(?:the\s+)?(?:final\s+)?answer\s+is)\s*[:=]?\s*$",
    re.IGNORECASE,
)


def _choose(found: list[tuple[str, str]], original: str) -> str:
    if len(found) == 1:
        return found[0][0]
    kept = [(span, word) for span, word in found if not _PARAMETER.match(span)] or found
    if len(kept) == 1:
        return kept[0][0]
    with_unit = [span for span, word in kept if _UNITS.match(word)]
    if len(with_unit) == 1:
        return with_unit[0]
    if _REASONS.match(kept[0][1]):
        return kept[0][0]
    last = kept[-1][0]
    if _CONCLUDES.search(original[: original.rfind(last)]):
        return last  # working in words, then "that gives (3.8, 2.2)"
    numbers = ", ".join(span for span, _ in kept)
    raise WordsError(f"it holds several values ({numbers}); give only your answer")


def _drop_notes(text: str, context: str) -> str:
    """Remove notes in parentheses that hold words (``(37 full + 1 partial)``, ``(drop_last=True)``);
    after a number, a note in parentheses without words too (``24 (1200/50)``). A note that offers
    another value (``0.8896 (or 1.84?)``) never gets here: the hedges step refused it."""
    result, position = [], 0
    for match in _NOTE.finditer(text):
        inside = match.group(1)
        words = [w for w in _TOKEN.findall(inside) if w.lower() not in _MATH_NAMES and not _LABEL.match(w)]
        before = text[: match.start()]
        after_number = (
            context == NUMBER
            and before[-1:].isspace()
            and before.rstrip()[-1:].isdigit()
            and not text[match.end() :].strip()
        )
        if words or after_number:
            if closing_at(text, match.start()) == match.end() - 1 and (words or after_number):
                result.append(text[position : match.start()])
                position = match.end()
    result.append(text[position:])
    return "".join(result)


def _repeating(match: re.Match[str], reading: Reading) -> str:
    reading.note(f"Read {match.group()} as {match.group(1)}.")
    return match.group(1)


def _number_from_words(phrase: str, reading: Reading) -> str:
    """``thirty-eight`` → ``38`` (0 to 999)."""
    total, current = 0, 0
    for word in re.split(r"[\s-]+", phrase.lower()):
        if word == "and":
            continue
        if word in _ONES:
            current += _ONES.index(word)
        elif word in _TENS:
            current += 10 * (_TENS.index(word) + 2)
        elif word == "hundred":
            current = max(current, 1) * 100
    total += current
    reading.note(f"Read '{phrase}' as {total}.")
    return str(total)


_BETWEEN = re.compile(
    r"\b(?:(?:between|zwischen|entre)\s+(\S+)\s+(?:and|und|et|y)|(?:from|von|de|desde)\s+(\S+)\s+(?:to|bis|à|a|hasta))"
    r"\s+(\S+?)[.,;]?(?:\s|$)",
    re.I,
)  # English, German, French, Spanish
_EQUIVALENT = re.compile(r"⇔|⟺|<=>|\biff\b")
_BECAUSE = re.compile(r"\b(?:because|since)\b", re.I)
_BARE = re.compile(r"^[\s\d.<>≤≥=+-]*$")
_OPEN_WORDS = re.compile(
    r"exclusive|excluded|excluding|strict|not included|open|not equal"
    r"|\b(?:ausschlie(?:ß|ss)lich|exklusive|nicht eingeschlossen|offen"
    r"|exclu|non compris|non inclus|ouvert"
    r"|sin incluir|no incluid|excluid|excluyendo|estrictamente|abierto|sin los extremos)",
    re.I,
)  # English (as before), German, French, Spanish: checked before the closed words ("non compris")
_CLOSED_WORDS = re.compile(
    r"inclusive|included|including|closed"
    r"|\b(?:einschlie(?:ß|ss)lich|inklusive|geschlossen|inclus|compris|ferm[ée]|incluid|incluyendo|cerrado"
    r"|con los extremos)",
    re.I,
)
# Intervals as tools print them: Julia's IntervalSets (0 .. 1 (open)) and sympy's Interval.open(0, 1).
_INTERVAL_SETS = re.compile(
    r"^\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*\.\.\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*(?:\((open|closed|open-closed|closed-open)\))?\s*$"
)
_SYMPY_INTERVAL = re.compile(
    r"^\s*(?:sympy\.|sp\.)?Interval(?:\.(open|Lopen|Ropen))?\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*"
    r"(?:,\s*(True|False)\s*(?:,\s*(True|False)\s*)?)?\)\s*$"
)
_ENDS = {"open": (False, False), "closed": (True, True), "open-closed": (False, True), "closed-open": (True, False)}
_SET_BUILDER = re.compile(r"^\{\s*[^:|{}]+?\s*[:|]\s*(.+)\}$")
_KEPT = {"and", "und", "et", "y", "in", "inf", "infinity", "oo"}


def interval_words(text: str, reading: Reading, variables: tuple[str, ...]) -> str:
    """An interval in words or set notation, as maths: ``between 0 and 1 (exclusive)`` → ``(0, 1)``,
    ``{η : 0 < η < 1}``, ``{η | 0 < η < 1}`` → ``0 < η < 1``, ``for 0 < η < 1 it converges`` →
    ``0 < η < 1``, ``eta > 0 and eta < 1, because …`` → ``eta > 0 and eta < 1``, and the last side of
    worked equivalences: ``|1 − 2η| < 1 ⇔ 0 < η < 1`` (also ``⟺``, ``<=>``, ``iff``) → ``0 < η < 1``.

    ``between 0 and 1`` or ``from 0 to 1`` alone does not say whether the ends belong: refused,
    showing both readings; so are equivalent sides that are plain intervals and differ.
    """
    text = text.strip().rstrip(".")
    printed = _printed_interval(text, reading)
    if printed:
        return printed
    text = _last_equivalent(text, reading, variables)
    builder = _SET_BUILDER.match(text)
    if builder:
        return builder.group(1)
    because = [m for m in top_level(text, _BECAUSE) if _DIGIT.search(text[: m.start()])]
    if because:  # eta > 0 and eta < 1, because we need |1 - 2*eta| < 1
        text = text[: because[0].start()].strip(_EDGE)
    between = _BETWEEN.search(text + " ")
    if between:
        low = between.group(1) or between.group(2)
        high = between.group(3)
        if _OPEN_WORDS.search(text):
            return f"({low}, {high})"
        if _CLOSED_WORDS.search(text):
            return f"[{low}, {high}]"
        raise Ambiguous(
            f"{quoted(text)} does not say whether the ends belong: ({low}, {high}) leaves them out, "
            f"[{low}, {high}] keeps them; write one of these"
        )

    def is_word(token: str) -> bool:
        return token not in variables and token.lower() not in _KEPT | _MATH_NAMES

    def drop_note(match: re.Match[str]) -> str:  # (0,1) (open interval): a note after the interval
        is_note = match.start() > 0 and any(map(is_word, _TOKEN.findall(match.group())))
        return " " if is_note else match.group()

    text = _NOTE.sub(drop_note, text)
    level = depths(text)
    words = [w for w in _TOKEN.finditer(text) if level[w.start()] == 0 and is_word(w.group())]
    for word in reversed(words):  # for 0 < η < 1 it converges; eta must be in (0, 1)
        text = text[: word.start()] + " " + text[word.end() :]
    return re.sub(r"\s+-\s*$", "", text).strip(_EDGE + ".")


def _printed_interval(text: str, reading: Reading) -> str | None:
    """Julia's ``0.0 .. 1.0 (open)`` and sympy's ``Interval.open(0, 1)`` as brackets (``(0.0, 1.0)``);
    IntervalSets' bare ``0 .. 1`` (closed there, a range to others) is refused showing both readings."""
    julia = _INTERVAL_SETS.match(text)
    if julia:
        low, high, ends = julia.groups()
        if ends is None:
            raise Ambiguous(
                f"{quoted(text)} does not say whether the ends belong: ({low}, {high}) leaves them out, "
                f"[{low}, {high}] keeps them; write one of these"
            )
        low_closed, high_closed = _ENDS[ends]
    else:
        sympy = _SYMPY_INTERVAL.match(text)
        if not sympy:
            return None
        which, low, high, left_open, right_open = sympy.groups()
        low_closed = which not in ("open", "Lopen") and left_open != "True"
        high_closed = which not in ("open", "Ropen") and right_open != "True"
    shown = f"{'[' if low_closed else '('}{low}, {high}{']' if high_closed else ')'}"
    reading.note(f"Read {text.strip()} as {shown}.")
    return shown


def _last_equivalent(text: str, reading: Reading, variables: tuple[str, ...]) -> str:
    """The last side of ``… ⇔ …``; an earlier side that is itself a plain interval must say the same."""
    sides = [side.strip() for side in _EQUIVALENT.split(text)]
    if len(sides) < 2:
        return text
    last = sides[-1]

    def bare(side: str) -> str:
        for name in sorted(variables, key=len, reverse=True):
            side = side.replace(name, " ")
        return side

    for side in sides[:-1]:
        if _BARE.match(bare(side)) and re.sub(r"\s+", "", side) != re.sub(r"\s+", "", last):
            raise Ambiguous(f"the sides of {quoted(text)} disagree: {side} is not {last}; give only your answer")
    if not last:
        return text
    reading.note(f"Took the last side of {text}.")
    return last
