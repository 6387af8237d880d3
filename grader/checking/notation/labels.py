"""Labels and options as students write them: one per line, bulleted, numbered, in a table, as a
Python list, quoted, or each after the case it answers (``η=0.05: slow-monotone``, ``0.05 → fast``,
``(1, 0): minimum``), and a single option inside a sentence (``It overshoots.``).

Also: labels between `` / `` (``slow / fast``), after markers counting up (``a) slow b) fast``,
``(a)``, ``a.``, ``1)``), in the last column of a Markdown table with a header (one row per case),
in a pandas Series (``0.05    slow-monotone`` … ``dtype: object``); an option spelled with other
case, hyphens, spaces or underscores (``Over-shoots``, ``Slow monotone``); and the labels a sentence
names in order (``(1, 0) is a minimum and (-1, 0) is a saddle point``), never a negated one.

Labels in German, French and Spanish are the options their words say in English (:func:`translated_option`:
``langsam`` → slow, ``oszilliert und konvergiert`` → oscillating-converging, ``oscille sans converger`` →
oscillating-stuck, ``diverge``, ``lokales Minimum``, ``point selle``), told to the student; a word that names
no single option (``konvergiert``: slow, fast or oscillating) is not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from itertools import permutations, product

from grader.checking.notation import Reading, StepError
from grader.checking.notation.brackets import group, split_top

MAX_LABELS = 100
_SEPARATORS = (
    re.compile(r"\n"),
    re.compile(r";"),
    re.compile(r"\t"),
    re.compile(r","),
    re.compile(r"\s/\s|(?<=[^\W\d_])/(?=[^\W\d_])"),  # slow / fast, slow/fast; not 1/2
)
_CASE = re.compile(r"^.*(?::|→|->|=)\s*")
_POINT = re.compile(r"^\s*[(\[][^()\[\]]*[)\]]\s*")
_QUOTES = "'\"`*"
_NOTE = re.compile(r"\s*\([^()]*[A-Za-z]{2,}[^()]*\)\s*")
_VALUE = re.compile(r"^\s*[-+]?\d+(?:\.\d*)?\s+(?=[^\W\d_])")  # 0.05    slow-monotone (pandas)
_DTYPE = re.compile(r"\n[ \t]*(?:Name: [^\n,]*, )?(?:Length: \d+, )?dtype: \w+[ \t]*$")
_MARKER = re.compile(r"(?<!\S)(\(?)([a-z]|\d{1,2})([.)])(?=\s)")
_ROW = re.compile(r"^\s*\|.*\|\s*$")
_RULE = re.compile(r"^\s*\|?\s*(?::-+:?|-{2,}:?|-:)\s*(?:\|\s*(?::?-+:?)\s*)*\|?\s*$")  # |---|, |:-:|--:|
_SUBJECT = re.compile(r"^(?:it|this run|the run|the path|the iterates?|they)\s+(?:(?:is|are|will)\s+)?", re.I)


def label_items(text: str, reading: Reading) -> list[str]:
    """The labels of a list, in order, each without the case it answers or its quotes."""
    text = _DTYPE.sub("", text.strip()).strip()  # a pandas Series: its dtype line is no label
    bracketed = group(text)
    if bracketed and bracketed[0] == "[":
        text = bracketed[1]  # ['slow-monotone', 'fast', …] pasted from Python
    items = _marked(text)
    if items is None:
        for separator in _SEPARATORS:
            items = [item for item in split_top(text, separator) if item.strip()]
            if len(items) >= 2:
                break
    if len(items) > MAX_LABELS:
        raise StepError(f"it has {len(items)} labels, more than {MAX_LABELS}")
    labels = [label_alone(item) for item in items]
    if any(_CASE.match(item.strip()) or _VALUE.match(item) for item in items):
        reading.note("Read each label after the case it answers.")
    return labels


def _marked(text: str) -> list[str] | None:
    """``a) slow b) fast``, ``(a) slow (b) fast``, ``1. slow 2. fast``: the labels after markers that
    count up from ``a`` or ``1`` in one style, the first opening the answer; None when it does not
    open with a marker. Markers that do not count up (``a) … c) … b)``, ``b) … a)``) are refused."""
    markers = list(_MARKER.finditer(text))
    if len(markers) < 2 or markers[0].start() != 0:
        return None
    first = "1" if markers[0].group(2).isdigit() else "a"
    style = (markers[0].group(1), markers[0].group(3))
    for index, marker in enumerate(markers):
        expected = chr(ord("a") + index) if first == "a" else str(index + 1)
        bracket_closed = marker.group(1) == "" or marker.group(3) == ")"
        if marker.group(2) != expected or (marker.group(1), marker.group(3)) != style or not bracket_closed:
            shown = ", ".join(m.group().strip() for m in markers)
            raise StepError(f"its markers {shown} do not count up one by one; give the labels in the question's order")
    ends = [m.start() for m in markers[1:]] + [len(text)]
    items = [text[m.end() : end].strip().rstrip(",;").strip() for m, end in zip(markers, ends, strict=True)]
    return items if all(items) else None


def label_table(text: str, reading: Reading) -> str:
    """A Markdown table with a header and one row per case → the labels of its last column, one per
    line (``| η | behaviour |`` / ``|---|---|`` / ``| 0.05 | slow-monotone |`` …). A table without a
    header rule, or with one row, is left to the markup step (its last row holds the answer)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) < 4 or not _RULE.match(lines[1]) or not all(_ROW.match(line) for line in lines):
        return text
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]
    if any(_RULE.match(line) for line in lines[2:]) or len({len(row) for row in rows}) != 1 or len(rows[0]) < 2:
        return text
    reading.note("Read the labels in the last column of the table.")
    return "\n".join(row[-1] for row in rows)


def label_alone(item: str) -> str:
    """``η=0.05: slow-monotone`` → ``slow-monotone``; ``'fast'`` → ``fast``; ``diverging.`` → ``diverging``."""
    item = _CASE.sub("", item.strip()) if _CASE.match(item.strip()) else item
    item = _POINT.sub("", item) if _POINT.sub("", item).strip() else item  # (1, 0) min
    item = _VALUE.sub("", item)  # 0.05    slow-monotone
    return item.strip().strip(_QUOTES).strip().rstrip(".!").strip(_QUOTES).strip()


def option_alone(text: str) -> str:
    """One option out of what surrounds it: ``It overshoots.`` → ``overshoots``; a note in parentheses
    and quotes go; the rest is left for the option list to judge."""
    text = _NOTE.sub(" ", text).strip()
    text = _SUBJECT.sub("", label_alone(text))
    return text.strip()


_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|doesn't|does not|won't|isn't|cannot|can't)\b|n't\b", re.I)


def option_named(text: str, options: Collection[str]) -> str | None:
    """The one option a sentence names (``it overshoots the minimum`` → ``overshoots``); None when it
    names none, several, or says "not" (``it does not overshoot`` is no reading of ``overshoots``)."""
    if _NEGATION.search(text):
        return None
    words = "-" + "-".join(re.findall(r"[\w']+", text.lower())) + "-"
    named = {option for option in options if f"-{option.lower()}-" in words}
    return named.pop() if len(named) == 1 else None


def compact(label: str) -> str:
    """A label with case, hyphens, spaces and underscores aside: ``Over-shoots`` → ``overshoots``."""
    return re.sub(r"[-_\s]+", "", label.lower())


def known_option(label: str, options: Collection[str]) -> str | None:
    """The one option ``label`` spells, case, hyphens, spaces and underscores aside (``Over-shoots``,
    ``slow_monotone``); None when it spells none, or several."""
    if label in options:
        return label
    key = compact(label)
    found = {option for option in options if compact(option) == key}
    return found.pop() if len(found) == 1 else None


_WORD = re.compile(r"[^\W_]+(?:[-_'’][^\W_]+)*|\?")
_HEDGE = re.compile(r"^(?:or|maybe|perhaps|probably|either|unsure|\?)$", re.I)


def labels_in_sentence(text: str, options: Collection[str]) -> tuple[list[str], str | None]:
    """The options a sentence names, in order (``(1, 0) is a minimum and (-1, 0) is a saddle point`` →
    ``minimum``, ``saddle-point``), the longest that fits at each word; and the first word outside
    them that negates or hedges (``not``, ``or``, ``maybe``, ``?``), for the caller to refuse."""
    words = [w.group().lower() for w in _WORD.finditer(text)]
    spelled = {tuple(re.split(r"[-_\s]+", option.lower())): option for option in options}
    longest = max((len(parts) for parts in spelled), default=0)
    named: list[str] = []
    doubt: str | None = None
    parts = [re.split(r"[-_]", word.replace("’", "'")) for word in words]
    index = 0
    while index < len(words):
        for size in range(min(longest, len(words) - index), 0, -1):
            option = spelled.get(tuple(p for word in parts[index : index + size] for p in word))
            if option is not None:
                named.append(option)
                index += size
                break
        else:
            if doubt is None and (_NEGATION.search(words[index]) or _HEDGE.match(words[index])):
                doubt = words[index]
            index += 1
    return named, doubt


def labels_from_sentence(
    text: str, options: Collection[str], count: int, reading: Reading, cases: tuple[str, ...] = ()
) -> list[str] | None:
    """The ``count`` options a sentence names in order, told to the student; None when it names
    fewer. Refused (:class:`StepError`) when it names more, negates or hedges (``not a minimum``,
    ``minimum or saddle``, ``?``), or names the ``cases`` in another order than the part's."""
    named, doubt = labels_in_sentence(text, options)
    if len(named) < count or not named:
        return None
    if len(named) > count:
        raise StepError(f"it names {len(named)} labels ({', '.join(named)}) for {count} cases; give one label per case")
    if doubt:
        raise StepError(f"it names {', '.join(named)} but also says {doubt!r}; give only the labels, one per case")
    places = [_place(text, case) for case in cases]
    found = [place for place in places if place >= 0]
    if found != sorted(found) or len(set(found)) != len(found):
        raise StepError(
            "it names the cases in another order than the question; give the labels in the question's order"
        )
    reading.note(f"Read {', '.join(named)} from your sentence, one label per case in order.")
    return named


def _place(text: str, case: str) -> int:
    """Where a case (``0.05``; a point ``[1, 0]`` written ``(1, 0)``) is first named, spaces aside;
    -1 when it is not."""
    spaced = re.sub(r"\s+", "", case)
    point = len(spaced) > 2 and spaced[0] == "[" and spaced[-1] == "]"
    inner = spaced[1:-1] if point else spaced
    if not inner:
        return -1
    pattern = r"\s*".join(re.escape(char) for char in inner)
    pattern = rf"[(\[]\s*{pattern}\s*[)\]]" if point else rf"(?<![\d.\-]){pattern}(?![\d.])"
    match = re.search(pattern, text)
    return match.start() if match else -1


# The words students use for the course's labels in German, French and Spanish, as the English word they say
# (its other English spellings below); what they combine to is looked up among the part's options and aliases.
_FOREIGN = {
    **dict.fromkeys("langsam lent lente lentement lento lenta lentamente".split(), "slow"),
    **dict.fromkeys("monoton monotone monotón monótono monótona monotono monotona".split(), "monotone"),
    **dict.fromkeys("schnell rasch rapide rapidement vite rápido rápida rapido rapida rápidamente rapidamente".split(), "fast"),
    **dict.fromkeys("konvergiert konvergent konvergierend konvergenz converge convergent convergente".split(), "converging"),
    **dict.fromkeys("oszilliert oszillierend schwingt pendelt oscille oscillant oscillante oscila oscilante".split(), "oscillating"),
    **dict.fromkeys("divergiert divergierend diverge divergente divergent".split(), "diverging"),
    **dict.fromkeys("dauerhaft ewig endlos indéfiniment indefiniment indefinidamente".split(), "forever"),
    **dict.fromkeys("festgefahren feststeckend bloqué bloquée bloque coincé atascado atascada estancado estancada".split(), "stuck"),
    **dict.fromkeys("mínimo minimo".split(), "minimum"),
    **dict.fromkeys("máximo maximo".split(), "maximum"),
    **dict.fromkeys("lokales lokal lokaler locale".split(), "local"),
    **dict.fromkeys("sattelpunkt sattel selle col silla".split(), "saddle"),
}  # fmt: skip
# Phrases first, as words joined by hyphens: "without converging" is how the other languages say stuck.
_PHRASES = (
    ("ohne-zu-konvergieren", "stuck"), ("ohne-konvergenz", "stuck"), ("konvergiert-nicht", "stuck"),
    ("sans-converger", "stuck"), ("sans-convergence", "stuck"), ("ne-converge-pas", "stuck"),
    ("sin-converger", "stuck"), ("sin-convergencia", "stuck"), ("no-converge", "stuck"),
    ("without-converging", "stuck"), ("not-converging", "stuck"),
    ("point-selle", "saddle"), ("point-col", "saddle"), ("punto-de-silla", "saddle"),
)  # fmt: skip
_FILLERS = frozenset("und et y e and aber mais pero sehr très tres muy".split())
_SPELLINGS = {
    "converging": ("converging", "converges", "convergent", "converge"),
    "oscillating": ("oscillating", "oscillates", "oscillate"),
    "diverging": ("diverging", "diverges", "divergent"),
    "monotone": ("monotone", "monotonic"),
}


def translated_option(label: str, options: Collection[str]) -> str | None:
    """The option a label in German, French or Spanish names (``langsam`` → ``slow-monotone`` through the alias
    ``slow``; ``oszilliert und konvergiert`` → ``oscillating-converging``; ``minimum local`` →
    ``local-minimum``'s option), or None: its words are put in English and tried, in any order and spelling,
    against the options and aliases (at most three words, so at most 6 × 4³ tries)."""
    if len(label) > 80:
        return None
    key = "-" + "-".join(re.split(r"[-_\s]+", label.strip().lower())) + "-"
    for phrase, english in _PHRASES:
        key = key.replace(f"-{phrase}-", f"-{english}-")
    english = [_FOREIGN.get(word, word) for word in key.split("-") if word and word not in _FILLERS]
    if not english or len(english) > 3:
        return None
    for order in permutations(english):
        for spelled in product(*(_SPELLINGS.get(word, (word,)) for word in order)):
            found = known_option("-".join(spelled), options)
            if found:
                return found
    return None
