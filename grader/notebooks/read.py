"""Stage "validate" of the intake: a notebook file's code cells and grader metadata, or why it cannot be read.

A version 4 notebook in the shape the grader reads (cells of a known type,
their sources text) is read as the JSON it is; nbformat, imported only then,
reads any other (version 3, converted) and gives the reason a file is not a
notebook. Outputs are dropped before nbformat reads (and validates) the rest,
so a notebook carrying megabytes of outputs costs no more than its code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_MARKDOWN = 200  # Markdown cells kept, each cut to MAX_MARKDOWN_CHARS: only for pointing a TA at an answer
MAX_MARKDOWN_CHARS = 4000


class NotebookError(ValueError):
    """The file is not a notebook we can read; the message says why."""


@dataclass(frozen=True)
class Notebook:
    cells: list[str]  # the code cells' sources, in order
    positions: list[int]  # where each code cell stands among all the notebook's cells (for feedback)
    assignment: str | None
    student: str | None
    markdown: list[tuple[int, str]] = field(default_factory=list)  # (position, source) of Markdown cells
    labels: list[str] = field(default_factory=list)  # each code cell's label, see in_labels

    def label(self, code_index: Any) -> str:
        """A code cell as Jupyter numbers it when the notebook is run from the top, as the grader ran it."""
        if isinstance(code_index, int) and 0 <= code_index < len(self.labels):
            return self.labels[code_index]
        return f"cell {code_index}"


def in_labels(cells: list[str]) -> list[str]:
    """``In [1]``, ``In [2]``, … for code cells run from the top; an empty cell is not run, so not numbered."""
    labels, count = [], 0
    for source in cells:
        count += bool(source.strip())
        labels.append(f"In [{count}]" if source.strip() else "In [ ]")
    return labels


def read_notebook(data: bytes) -> Notebook:
    """The code cells and the grader metadata of a notebook file (any nbformat version 4)."""
    if not data.strip():
        raise NotebookError("the file is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError("the file is not UTF-8 text") from exc
    try:
        node = json.loads(text)
        if not _plain_v4(node):
            # Another version (3 is converted), or a shape the grader does not read as it is: nbformat decides.
            # Outputs are never run, shown or graded: they are dropped before nbformat reads (and validates)
            # the rest, so that a notebook carrying megabytes of outputs costs no more than its code.
            import nbformat

            node = nbformat.reads(json.dumps(_without_outputs(node)), as_version=4)
    except Exception as exc:  # nbformat raises many kinds (JSON, schema, version) for bad files
        first_line = next(iter(str(exc).splitlines()), "")[:120]
        raise NotebookError(f"not a Jupyter notebook ({type(exc).__name__}: {first_line})") from exc
    cells = node.get("cells") if isinstance(node.get("cells"), list) else []
    code = [(i, _source(c)) for i, c in enumerate(cells) if isinstance(c, dict) and c.get("cell_type") == "code"]
    metadata = node.get("metadata")
    meta = metadata.get("grader", {}) if isinstance(metadata, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    markdown = [
        (i, _source(c)) for i, c in enumerate(cells) if isinstance(c, dict) and c.get("cell_type") == "markdown"
    ]
    return Notebook(
        cells=[source for _, source in code],
        positions=[i for i, _ in code],
        assignment=meta.get("assignment") if isinstance(meta.get("assignment"), str) else None,
        student=meta.get("student") if isinstance(meta.get("student"), str) else None,
        markdown=[(i, source[:MAX_MARKDOWN_CHARS]) for i, source in markdown[:MAX_MARKDOWN]],
        labels=in_labels([source for _, source in code]),
    )


def _plain_v4(node: Any) -> bool:
    """Whether ``node`` is an nbformat 4 notebook in exactly the shape the grader reads: a list of cells, each a
    code, Markdown or raw cell whose source is text or a list of lines, and metadata that is an object. Such a
    notebook is read as it is (nbformat's reading would give the same cells); anything else goes through nbformat.
    """
    if not isinstance(node, dict) or type(node.get("nbformat")) is not int or node["nbformat"] != 4:
        return False
    cells = node.get("cells")
    if not isinstance(cells, list) or not isinstance(node.get("metadata"), dict):
        return False
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
            return False
        source = cell.get("source")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            return False
    return True


CELL_TYPES = ("code", "markdown", "raw")


def _without_outputs(notebook: Any) -> Any:
    """The parsed notebook with every code cell's outputs emptied (nbformat 4, and 3's worksheets)."""
    if not isinstance(notebook, dict):
        return notebook
    cells = notebook.get("cells")
    groups = [cells] if isinstance(cells, list) else []
    worksheets = notebook.get("worksheets")
    if isinstance(worksheets, list):
        groups += [w["cells"] for w in worksheets if isinstance(w, dict) and isinstance(w.get("cells"), list)]
    for group in groups:
        for cell in group:
            if isinstance(cell, dict) and "outputs" in cell:
                cell["outputs"] = []
    return notebook


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
