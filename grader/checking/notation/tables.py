"""Tables as tools print them, read for step 3 (:mod:`.tools`): the values without their names and index.

- MATLAB/Octave displays: ``x =\\n\\n   4.0000   2.0000\\n`` (a row; ``format rat``'s ``1/2`` too; the Live
  Editor's ``x = 1×2`` over it),
  ``x_new =\\n\\n    1.5100\\n    0.2200\\n`` (a column), ``H =\\n\\n   6   0\\n   0   2\\n`` (a matrix),
  wide rows cut into ``Columns 1 through 6``; the name before ``=`` is a label;
- pandas Series: ``<index>    <value>`` lines and a footer ``dtype: float64`` (``Name: w, dtype: …``,
  ``Length: 3, dtype: …``), under the index's name if it has one → the values in order, numbers or labels;
- pandas DataFrames (and R's data.frame): a header of column names, then two or more rows of a label and one
  number per column; a column ``t``/``k``/``step`` counting 0, 1, … is the step, not a value (dropped);
- spreadsheet copies: a header row then rows whose first column ``t``/``k``/``step``… counts 0, 1, 2, …
  (or 1, 2, …) → the other columns; and ``x<TAB>3.5`` / ``y<TAB>2`` rows of parameter names and values, also
  under a header (``component | value``).

A table of several value columns is read as rows (a matrix, or points), and its column names are kept in
:attr:`Reading.columns`, so that a part asking for one sequence refuses it naming the columns instead of
guessing which one was meant. Anything else (a row of another length, a cell that is not a number, a
MATLAB common factor ``1.0e+03 *``, a printout cut short with ``...``) is left alone or refused, never guessed.
"""

from __future__ import annotations

import re

from grader.checking.notation import Reading, StepError

_MATLAB_NAME = re.compile(r"^\s*([A-Za-z]\w*)\s*=\s*(?:\d+\s*[×x*]\s*\d+(?:\s+(?:double|single|int\d*|logical))?)?\s*$")
_MATLAB_FACTOR = re.compile(r"^\s*[+-]?\d+(?:\.\d*)?[eE][+-]?\d+\s*\*\s*$")
_MATLAB_COLUMNS = re.compile(r"^\s*Columns?\s+\d+(?:\s+(?:through|to|and)\s+\d+)?\s*:?\s*$", re.IGNORECASE)
_SERIES_FOOTER = re.compile(r"^\s*(?:Name:[^,\n]*,\s*)?(?:Length:\s*\d+,\s*)?dtype:\s*\w+\s*$")
_CELL_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:nan|NaN|inf|Inf|\d+/\d+)$")
_CUT_SHORT = re.compile(r"^\s*(?:\.\.\.|…)\s*$")
_HEADER_NAME = re.compile(r"^[A-Za-z_#\u0370-\u03ff][\w\u0370-\u03ff()\[\]',.*^-]*$")
_ROW_LABEL = re.compile(r"^[\w.\u0370-\u03ff+-]+$")
_INDEX_NAMES = frozenset({"t", "k", "i", "j", "n", "step", "steps", "iter", "iteration", "epoch", "idx", "index", "#"})


def printed_table(text: str, reading: Reading, parameter_names: frozenset[str] = frozenset()) -> str:
    """A MATLAB display, a pandas Series or DataFrame, or a spreadsheet table → its values: one per line,
    or rows of numbers separated by spaces; ``parameter_names`` (x, y, …) put named values in that order
    (``[3.5, 2]``). Any other text is returned as it is."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 2:
        return text
    if _MATLAB_NAME.match(lines[0]):
        return _matlab(lines[1:], reading) or text
    if _SERIES_FOOTER.match(lines[-1]):
        return _series(lines[:-1], reading, parameter_names) or text
    rows = [_cells(line) for line in lines]
    header, body = rows[0], rows[1:]
    numeric = all(_CELL_NUMBER.match(cell) for row in body for cell in row[1:])
    if not numeric:
        return text
    labels = [row[0] for row in body]
    if len(body) >= 2 and all(len(row) == len(header) + 1 for row in body) and _row_labels(labels, header):
        values = [row[1:] for row in body]
        if len(header) >= 2 and header[0].lower() in _INDEX_NAMES and _counts([row[0] for row in values]):
            header, values = header[1:], [row[1:] for row in values]  # R's data.frame(t = 0:5, x = …)
        return _columns(header, values, labels, reading, parameter_names)
    if len(header) >= 2 and all(len(row) == len(header) for row in body) and _is_header(header):
        if header[0].lower() in _INDEX_NAMES and _counts([row[0] for row in body]):
            return _columns(header[1:], [row[1:] for row in body], [], reading, parameter_names)
        if all(_CELL_NUMBER.match(row[0]) for row in body):
            return _columns(header, body, [], reading, parameter_names)
    for named in (rows, body):  # x<TAB>3.5 / y<TAB>2, under a header or not
        if all(len(row) == 2 and _CELL_NUMBER.match(row[1]) for row in named) and _named(
            [row[0] for row in named], parameter_names
        ):
            return _named_values({row[0]: row[1] for row in named}, reading)
    return text


def _cells(line: str) -> list[str]:
    """A spreadsheet row is cut at tabs (a cell may hold spaces), a printed one at runs of spaces."""
    return [cell.strip() for cell in line.strip().split("\t")] if "\t" in line else line.split()


def _is_header(cells: list[str]) -> bool:
    """Column names (``x``, ``f(x)``, ``x_t``), not numbers nor a formula (``1200/50``)."""
    return all(_HEADER_NAME.match(cell) for cell in cells)


def _row_labels(labels: list[str], header: list[str]) -> bool:
    """A DataFrame's row labels, distinct words or numbers, under column names (pandas' default 0, 1, …
    only over rows counted 0, 1, …, so that a matrix whose first row is short is not taken for one)."""
    if len(set(labels)) != len(labels) or not all(_ROW_LABEL.match(label) for label in labels):
        return False
    return _is_header(header) or (
        header == [str(i) for i in range(len(header))] and labels[0] == "0" and _counts(labels)
    )


def _counts(cells: list[str]) -> bool:
    """An index column: 0, 1, 2, … or 1, 2, 3, …"""
    return bool(cells) and cells[0] in ("0", "1") and cells == [str(int(cells[0]) + i) for i in range(len(cells))]


def _named(names: list[str], parameter_names: frozenset[str]) -> bool:
    return len(names) >= 2 and len(set(names)) == len(names) and all(name in parameter_names for name in names)


def _named_values(named: dict[str, str], reading: Reading) -> str:
    from grader.checking.notation.tools import named_values  # noqa: PLC0415 (tools imports this module)

    return "[" + ", ".join(named_values(named, reading)) + "]"


def _columns(
    header: list[str], rows: list[list[str]], labels: list[str], reading: Reading, parameter_names: frozenset[str]
) -> str:
    """One value column → its values one per line (by name when the rows are x, y, …); several → rows."""
    if len(header) == 1:
        values = [row[0] for row in rows]
        if _named(labels, parameter_names):
            return _named_values(dict(zip(labels, values, strict=True)), reading)
        return "\n".join(values)
    reading.columns = tuple(header)
    return "\n".join(" ".join(row) for row in rows)


def _matlab(lines: list[str], reading: Reading) -> str | None:
    """``x =`` then rows of numbers (wide rows cut into ``Columns 1 through 6`` blocks) → the rows."""
    if any(_MATLAB_FACTOR.match(line) for line in lines):
        factor = next(line.strip() for line in lines if _MATLAB_FACTOR.match(line))
        raise StepError(
            f"MATLAB printed its values scaled by a common factor ({factor}); "
            "print them with format long g, or write them out"
        )
    blocks: list[list[list[str]]] = [[]]
    for line in lines:
        if _MATLAB_COLUMNS.match(line):
            if blocks[-1]:
                blocks.append([])
            continue
        cells = line.split()
        if not all(_CELL_NUMBER.match(cell) for cell in cells):
            return None
        blocks[-1].append(cells)
    if not blocks[0] or any(len(block) != len(blocks[0]) for block in blocks):
        return None
    rows = [[cell for block in blocks for cell in block[r]] for r in range(len(blocks[0]))]
    if any(len(row) != len(rows[0]) for row in rows):
        return None
    return "\n".join(" ".join(row) for row in rows)


def _series(lines: list[str], reading: Reading, parameter_names: frozenset[str]) -> str | None:
    """``<index>    <value>`` lines → the values in order (labels too); by name when the index is x, y, …"""
    if any(_CUT_SHORT.match(line) for line in lines):
        raise StepError("pandas cut the printout short (...); print all of its values, like s.tolist()")
    if len(lines) >= 2 and _HEADER_NAME.match(lines[0].strip()):
        lines = lines[1:]  # the index's name, on a line of its own
    pairs = [line.strip().split(None, 1) for line in lines]
    if any(len(pair) != 2 for pair in pairs):
        return None
    values = [value.strip() for _, value in pairs]
    labels = [index for index, _ in pairs]
    if _named(labels, parameter_names) and all(_CELL_NUMBER.match(value) for value in values):
        return _named_values(dict(zip(labels, values, strict=True)), reading)
    return "\n".join(values)
