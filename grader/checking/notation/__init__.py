"""The steps that turn what a student wrote into plain maths, one small named step per module.

Reading an answer (see :mod:`grader.checking.reading`) runs, in order:

0. :func:`~.hedges.refuse_hedges` – is it one answer? Hedged, guessed and doubled answers are refused
   with their reason (on what the student typed, before any step drops a word);
1. :func:`~.characters.normalise_characters` – unicode from phones, PDFs and word processors;
2. :func:`~.markup.strip_markup` – LaTeX and Markdown into plain maths;
3. :func:`~.tools.unwrap_tool_output` – what Python, numpy, PyTorch, JAX, pandas, sympy, MATLAB, Jupyter,
   calculators and spreadsheets print (tables through :mod:`~.tables`, R's and Julia's consoles through
   :mod:`~.consoles`);
4. :func:`~.rounding.work_out_rounding` – ``ceil(…)``, ``⌈…⌉``, ``floor(…)`` of numbers;
   then, for an answer that is one number, :func:`~.scales.read_scales` – scale words and digit grouping
   (``24 thousand``, ``1.2M``, ``three thousand``, ``1,200,000``, ``3 000``);
5. :func:`~.words.find_value` – the value among labels, units, notes and words;
6. :func:`~.equations.last_side` – the answer of a worked equation, refusing sides that disagree;
7. :func:`~.items.split_items` – the items of a list, the separator decided from the whole answer.

Each step takes the text and a :class:`Reading`, returns the text it made, and tells the student,
through ``Reading.notes``, any decision worth knowing ("Read 37,5 as 37.5 (decimal comma)."). The
reading keeps every step that changed the text, so a test (or a TA) can see what each one did.
Nothing here evaluates student text: numbers are parsed by the whitelist of :mod:`grader.expressions`.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field

_SHORT = reprlib.Repr()
_SHORT.maxstring = 60


def quoted(text: str) -> str:
    """Student text as quoted in a message, shortened: ``'3,5'``, ``'((((((((…'``."""
    return _SHORT.repr(text.strip())


class StepError(ValueError):
    """A step could not read the answer; the message says what, for "could not read … as …: <message>"."""


class Ambiguous(ValueError):
    """An answer two readings fit (a comma, an interval's ends) or whose worked sides disagree; the
    message quotes the answer and shows both readings, so it is never graded as if one were certain."""


@dataclass
class Reading:
    """What reading one answer did: the text after each step that changed it, and notes for the student."""

    notes: list[str] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)
    columns: tuple[str, ...] = ()  # the names of a printed table's value columns, when it has several
    unit: str = ""  # the word naming what a single number counts (``updates`` in ``24 updates``), if any

    def note(self, sentence: str) -> None:
        """Tell the student one reading decision (once)."""
        if sentence not in self.notes:
            self.notes.append(sentence)

    def run(self, step: Callable[[str, Reading], str], text: str) -> str:
        """Apply one step and record its result when it changed the text."""
        result = step(text, self)
        if result != text:
            self.steps.append((step.__name__, result))
        return result
