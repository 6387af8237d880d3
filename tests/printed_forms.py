"""What tools and people print: one generator per source, rendering a reference answer the way it prints it.

Each generator takes a :class:`Reference` (a number, a count, a vector, a sequence, a matrix, an interval or
labels, with the name of what is asked) and returns the forms its source prints, each named: ``R``'s
``[1] 3.5 2.0`` and its matrix print, Julia's ``2-element Vector{Float64}:``, MATLAB's and Octave's
displays, a TI calculator's ``{⁻1 ⁻2}``, a spreadsheet's cells, LaTeX, Markdown, a phone's keyboard, a PDF's
copy, sentences in English, German, French and Spanish, and plain text drawn by hand (``| 6 0 |``). A
source with no way of printing a kind (a spreadsheet has no interval) gives no form for it.

The forms follow each tool's own rules: numpy's and JAX's printing comes from numpy itself; PyTorch prints
four decimals, pandas up to six with a common number of decimals, R seven significant figures with a
common number of decimals, Julia the shortest round-trip decimals, MATLAB's ``format short`` four
decimals (an exact zero as ``0``), calculators ten significant figures. Used by tests/test_printed_forms.py
(each form of a right answer is read as right, a perturbed value in the same form is not) and by
bench/corpus_report.py (reading rates per source and per form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

KINDS = ("number", "integer", "vector", "sequence", "matrix", "interval", "labels")
# A sequence of vectors (``[[3, 2], [2.25, 1], …]``) is rendered as "points".


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    low_closed: bool
    high_closed: bool


@dataclass(frozen=True)
class Reference:
    """A reference answer to render: its kind, value, what is asked (``x_2``), the cases of labels."""

    kind: str
    value: Any
    name: str = "x"
    cases: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    unit: str = ""


@dataclass(frozen=True)
class Form:
    source: str
    form: str  # the name of the form: "R matrix print"
    text: str


# Numbers -------------------------------------------------------------------------------------------


def typed(v: float) -> str:
    """A number as a student types it: whole numbers bare, others to 6 significant figures."""
    if abs(v) < 1e-12:
        return "0"
    if abs(v - round(v)) < 1e-9:
        return str(int(round(v)))
    return f"{v:.6g}"


def exact(v: float) -> Fraction | None:
    """The simple fraction a float is (10/3 for 3.3333333333333335), or None."""
    f = Fraction(v).limit_denominator(1000)
    return f if abs(float(f) - v) < 1e-12 else None


def fraction_text(v: float) -> str:
    f = exact(v)
    if f is None:
        return typed(v)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def ident(name: str) -> str:
    """What is asked as a variable name of a programming language (``x_1`` → ``x1``, ``∇f(w)`` → ``fw``)."""
    kept = "".join(c for c in name if c.isascii() and (c.isalnum()))
    return kept if kept[:1].isalpha() else "ans"


def integral(values: list[float]) -> bool:
    return all(abs(v - round(v)) < 1e-12 for v in values)


def right(cells: list[str]) -> list[str]:
    width = max(map(len, cells))
    return [c.rjust(width) for c in cells]


def common_decimals(values: list[float], digits: int, most: int) -> int:
    """The fewest decimals showing every value to ``digits`` significant figures (at most ``most``)."""
    need = 0
    for v in values:
        if v == 0:
            continue
        text = f"{float(f'{v:.{digits}g}'):.{most}f}".rstrip("0")
        need = max(need, len(text.split(".")[1]) if "." in text else 0)
    return min(need, most)


# Python, numpy, PyTorch, JAX, pandas, sympy ------------------------------------------------------------


def _torch_cells(values: list[float]) -> list[str]:
    """PyTorch's printing: four decimals, whole numbers as ``6.``, scientific (``1.0000e-03``) when the
    nonzero values span more than a factor 1000 or one is below 1e-4."""
    nonzero = [abs(v) for v in values if v]
    if nonzero and (max(nonzero) / min(nonzero) > 1000 or max(nonzero) > 1e8 or min(nonzero) < 1e-4):
        return right([f"{v:.4e}" for v in values])
    cells = [f"{v:.0f}." for v in values] if integral(values) else [f"{v:.4f}" for v in values]
    return right(cells)


def _torch(value: Any, grad: bool = False) -> str:
    tail = ", requires_grad=True" if grad else ""
    if isinstance(value, list) and value and isinstance(value[0], list):
        flat = _torch_cells([v for row in value for v in row])
        n = len(value[0])
        rows = ["[" + ", ".join(flat[i * n : (i + 1) * n]) + "]" for i in range(len(value))]
        return "tensor([" + ",\n        ".join(rows) + "]" + tail + ")"
    if isinstance(value, list):
        return "tensor([" + ", ".join(_torch_cells(value)) + "]" + tail + ")"
    return f"tensor({_torch_cells([value])[0].strip()}{tail})"


def _pandas_cells(values: list[float]) -> list[str]:
    if integral(values):
        return right([f"{v:.1f}" for v in values])
    decimals = max(len(f"{v:.6f}".rstrip("0").split(".")[1]) for v in values)  # display.precision: 6 places
    return right([f"{v:.{max(decimals, 1)}f}" for v in values])


def _series(index: list[str], cells: list[str], dtype: str = "float64", header: str = "") -> str:
    width = max(map(len, index))
    lines = [f"{i:<{width}}    {c}" for i, c in zip(index, cells, strict=True)]
    return "\n".join(([header] if header else []) + lines + [f"dtype: {dtype}"])


def _frame(columns: list[str], rows: list[list[str]], index: list[str]) -> str:
    """A pandas DataFrame as it prints: the index left-aligned, each column right-aligned under its name."""
    width = max(map(len, index))
    cols = []
    for j, name in enumerate(columns):
        cells = [row[j] for row in rows]
        w = max(len(name), *map(len, cells))
        cols.append([name.rjust(w)] + [c.rjust(w) for c in cells])
    lines = [" " * width + "  " + "  ".join(col[0] for col in cols)]
    for i, label in enumerate(index):
        lines.append(f"{label:<{width}}  " + "  ".join(col[i + 1] for col in cols))
    return "\n".join(lines)


def _sympy_number(v: float) -> str:
    f = exact(v)
    return typed(v) if f is None else (str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}")


def _sympy_pretty(rows: list[list[str]]) -> str:
    """sympy's pretty printing of a Matrix: ⎡ ⎤ ⎢ ⎥ ⎣ ⎦ around columns two spaces apart, blank rows between."""
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    body = ["  ".join(cell.center(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    inner = len(body[0])
    if len(rows) == 1:
        return f"[{body[0]}]"
    lines = []
    for i, line in enumerate(body):
        left, end = ("⎡", "⎤") if i == 0 else ("⎣", "⎦") if i == len(body) - 1 else ("⎢", "⎥")
        lines.append(f"{left}{line}{end}")
        if i < len(body) - 1:
            lines.append("⎢" + " " * inner + "⎥")
    return "\n".join(lines)


def _names(count: int) -> list[str]:
    """Names of the rows or columns of a table: x, y, z, then x4, x5, …"""
    return ["x", "y", "z", *(f"x{i}" for i in range(4, count + 1))][:count]


def python_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_python(ref.value)
    v, kind = ref.value, ref.kind
    if kind in ("number", "integer"):
        forms = [
            ("repr", repr(float(v)) if kind == "number" else str(int(v))),
            ("numpy scalar", repr(np.float64(v)) if kind == "number" else repr(np.int64(v))),
            ("Jupyter Out[]", f"Out[7]: {repr(float(v)) if kind == 'number' else int(v)}"),
            ("Jupyter In/Out", f"In [7]: {ident(ref.name)}\nOut[7]: {repr(float(v)) if kind == 'number' else int(v)}"),
            (">>> prompt", f">>> {ident(ref.name)}\n{repr(float(v)) if kind == 'number' else int(v)}"),
            ("torch scalar", _torch(v) if kind == "number" else f"tensor({int(v)})"),
            (
                "JAX scalar",
                repr(np.float32(v)).replace("np.float32", "Array")[:-1] + ", dtype=float32)"
                if kind == "number"
                else f"Array({int(v)}, dtype=int32, weak_type=True)",
            ),
        ]
        if kind == "integer":
            forms.append(("numpy ceil", repr(np.float64(v))))
        else:
            forms.append(("f-string", f"{ident(ref.name)} = {v:.4f}"))
        return forms
    if kind in ("vector", "sequence"):
        array = np.array(v, dtype=float)
        forms = [
            ("numpy repr", repr(array)),
            ("numpy print", str(array)),
            ("list", repr([float(x) for x in v])),
            ("list of numpy scalars", "[" + ", ".join(repr(np.float64(x)) for x in v) + "]"),
            ("torch", _torch(v)),
            ("torch requires_grad", _torch(v, grad=True)),
            ("JAX", repr(array.astype(np.float32)).replace("array(", "Array(")),
            ("pandas Series", _series([str(i) for i in range(len(v))], _pandas_cells(v))),
        ]
        if kind == "vector":
            forms.append(("tuple", repr(tuple(float(x) for x in v))))
            if len(v) == 2:
                forms.append(("pandas Series by name", _series(["x", "y"], _pandas_cells(v))))
            forms.append(("sympy Matrix", "Matrix([" + ", ".join(f"[{_sympy_number(x)}]" for x in v) + "])"))
            forms.append(("sympy pretty", _sympy_pretty([[_sympy_number(x)] for x in v])))
        else:
            forms.append(
                ("pandas DataFrame", _frame(["x"], [[c] for c in _pandas_cells(v)], [str(i) for i in range(len(v))]))
            )
        return forms
    if kind == "matrix":
        array = np.array(v, dtype=float)
        cells = _pandas_cells([x for row in v for x in row])
        n = len(v[0])
        names = _names(n)
        return [
            ("numpy repr", repr(array)),
            ("numpy print", str(array)),
            ("nested list", repr([[float(x) for x in row] for row in v])),
            ("torch", _torch(v)),
            ("JAX", repr(array.astype(np.float32)).replace("array(", "Array(").replace("\n      ", "\n      ")),
            (
                "sympy Matrix",
                "Matrix([" + ", ".join("[" + ", ".join(_sympy_number(x) for x in row) + "]" for row in v) + "])",
            ),
            ("sympy pretty", _sympy_pretty([[_sympy_number(x) for x in row] for row in v])),
            ("pandas DataFrame", _frame(names, [cells[i * n : (i + 1) * n] for i in range(len(v))], _names(len(v)))),
        ]
    if kind == "interval":
        low, high = typed(v.low), typed(v.high)
        op = {True: "<=", False: "<"}
        which = {(False, False): "open", (True, True): "", (True, False): "Ropen", (False, True): "Lopen"}[
            (v.low_closed, v.high_closed)
        ]
        return [
            ("chained comparison", f"{low} {op[v.low_closed]} eta {op[v.high_closed]} {high}"),
            ("sympy Interval", f"Interval{'.' + which if which else ''}({low}, {high})"),
        ]
    if kind == "labels":
        return [
            ("list", repr(list(v))),
            ("tuple", repr(tuple(v))),
            ("numpy array", repr(np.array(v))),
            ("numpy print", str(np.array(v))),
            ("pandas Series", _series([str(i) for i in range(len(v))], right(list(v)), "object")),
        ]
    return []


# R -------------------------------------------------------------------------------------------------


def r_cells(values: list[float]) -> list[str]:
    """R's print of a numeric vector: 7 significant figures, one format for all, right-aligned: fixed with a
    common number of decimals, or scientific (``1e-03 5e+02``) when that is narrower."""
    if integral(values) and max(abs(x) for x in values) < 1e15:
        return right([str(int(round(x))) for x in values])
    fixed = right([f"{x:.{common_decimals(values, 7, 15)}f}" for x in values])
    digits = max(
        (len(f"{abs(x):.7g}".replace(".", "").lstrip("0").split("e")[0].rstrip("0")) for x in values if x), default=1
    )
    scientific = right([f"{x:.{max(digits, 1) - 1}e}" for x in values])
    return fixed if len(fixed[0]) <= len(scientific[0]) else scientific


def r_vector(cells: list[str], width: int = 80) -> str:
    """``[1] …`` lines, wrapped at ``width`` with the index of the first item of each line."""
    lines: list[list[str]] = [[]]
    starts = [1]
    label_width = len(f"[{len(cells)}]")
    for i, cell in enumerate(cells):
        if lines[-1] and label_width + sum(len(c) + 1 for c in lines[-1]) + len(cell) + 1 > width:
            lines.append([])
            starts.append(i + 1)
        lines[-1].append(cell)
    return "\n".join(f"[{s}]".rjust(label_width) + " " + " ".join(line) for s, line in zip(starts, lines, strict=True))


def r_matrix(rows: list[list[float]]) -> str:
    """R's print of a matrix: ``[,1]`` headers, ``[1,]`` row labels, each column formatted on its own."""
    n = len(rows[0])
    columns = [r_cells([row[j] for row in rows]) for j in range(n)]
    heads = [f"[,{j + 1}]" for j in range(n)]
    widths = [max(len(h), len(c[0])) for h, c in zip(heads, columns, strict=True)]
    label = len(f"[{len(rows)},]")
    lines = [" " * label + "".join(" " + h.rjust(w) for h, w in zip(heads, widths, strict=True))]
    for i in range(len(rows)):
        lines.append(f"[{i + 1},]".ljust(label) + "".join(" " + columns[j][i].rjust(widths[j]) for j in range(n)))
    return "\n".join(lines)


def r_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_r(ref.value)
    v, kind = ref.value, ref.kind
    if kind in ("number", "integer"):
        cell = r_cells([v])[0]
        return [
            ("[1] print", f"[1] {cell}"),
            ("console", f"> {ident(ref.name)}\n[1] {cell}"),
            ("console with code", f"> print({ident(ref.name)})\n[1] {cell}"),
        ]
    if kind in ("vector", "sequence"):
        cells = r_cells(v)
        forms = [
            ("[1] print", r_vector(cells)),
            ("console", f"> {ident(ref.name)}\n" + r_vector(cells)),
            ("c() code", "c(" + ", ".join(typed(x) for x in v) + ")"),
        ]
        if kind == "vector":
            forms.append(("column matrix print", r_matrix([[x] for x in v])))
            if len(v) == 2:
                names = ["x", "y"]
                w = max(len(c) for c in cells)
                forms.append(
                    (
                        "named vector",
                        " ".join(n.rjust(w) for n in names) + " \n" + " ".join(c.rjust(w) for c in cells) + " ",
                    )
                )
        else:
            t = r_cells(list(range(len(v))))
            x = r_cells(v)
            index_w = len(str(len(v)))
            lines = [" " * index_w + " " + "t".rjust(len(t[0])) + " " + "x".rjust(len(x[0]))]
            lines += [f"{str(i + 1).rjust(index_w)} {a} {b}" for i, (a, b) in enumerate(zip(t, x, strict=True))]
            forms.append(("data.frame print", "\n".join(lines)))
        return forms
    if kind == "matrix":
        return [
            ("matrix print", r_matrix(v)),
            ("console", "> H\n" + r_matrix(v)),
        ]
    if kind == "interval":
        op = {True: ">=", False: ">"}
        op2 = {True: "<=", False: "<"}
        return [
            ("logical expression", f"eta {op[v.low_closed]} {typed(v.low)} & eta {op2[v.high_closed]} {typed(v.high)}")
        ]
    if kind == "labels":
        quoted = [f'"{x}"' for x in v]
        width = max(map(len, quoted))
        cells = [q.ljust(width) for q in quoted]
        levels = " ".join(sorted(set(v) | set(ref.options[:3] if ref.options else ())))
        return [
            ("character vector print", r_vector(cells)),
            ("factor print", "[1] " + " ".join(v) + "\nLevels: " + levels),
        ]
    return []


# Julia ---------------------------------------------------------------------------------------------


def julia_number(v: float) -> str:
    text = repr(float(v))
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa if '.' in mantissa else mantissa + '.0'}e{int(exponent)}"
    return text


def julia_float32(v: float) -> str:
    """Julia's Float32: the shortest decimals of the float32, then ``f0`` (``2.48f0``)."""
    text = str(np.float32(v))
    return text.removesuffix(".0") + ".0f0" if text.endswith(".0") else text + "f0"


def julia_column(cells: list[str]) -> list[str]:
    """Julia aligns a column of numbers at the decimal point (rationals at their ``//``)."""
    mark = "//" if any("//" in c for c in cells) else "."
    lefts = [c.split(mark)[0] if mark in c else c for c in cells]
    rights = [c[len(left) :] for c, left in zip(cells, lefts, strict=True)]
    wl = max(map(len, lefts))
    wr = max(map(len, rights))
    return [(left.rjust(wl) + r.ljust(wr)).rstrip() for left, r in zip(lefts, rights, strict=True)]


def julia_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_julia(ref.value)
    v, kind = ref.value, ref.kind
    name = ident(ref.name)
    if kind in ("number", "integer"):
        text = julia_number(v) if kind == "number" else str(int(v))
        forms = [("REPL", f"julia> {name}\n{text}"), ("value", text)]
        if kind == "number":
            forms.append(("Float32", julia_float32(v)))
            f = exact(v)
            if f is not None and f.denominator != 1:
                forms.append(("Rational", f"julia> {name}\n{f.numerator}//{f.denominator}"))
        return forms
    if kind in ("vector", "sequence"):
        is_int = kind == "sequence" and False
        cells = julia_column([julia_number(x) for x in v])
        element = "Int64" if is_int else "Float64"
        display = f"{len(v)}-element Vector{{{element}}}:\n" + "\n".join(" " + c for c in cells)
        forms = [
            ("Vector display", display),
            ("REPL", f"julia> {name}\n" + display),
            ("old Array display", display.replace(f"Vector{{{element}}}", f"Array{{{element},1}}")),
            ("repr", "[" + ", ".join(julia_number(x) for x in v) + "]"),
        ]
        fractions = [exact(x) for x in v]
        if all(f is not None for f in fractions) and any(f.denominator != 1 for f in fractions if f is not None):
            rational = julia_column([f"{f.numerator}//{f.denominator}" for f in fractions if f is not None])
            forms.append(
                (
                    "Rational vector",
                    f"{len(v)}-element Vector{{Rational{{Int64}}}}:\n" + "\n".join(" " + c for c in rational),
                )
            )
        if kind == "vector":
            forms.append(
                ("row Matrix display", f"1×{len(v)} Matrix{{Float64}}:\n " + "  ".join(julia_number(x) for x in v))
            )
        return forms
    if kind == "matrix":
        columns = [julia_column([julia_number(row[j]) for row in v]) for j in range(len(v[0]))]
        lines = [" " + "  ".join(columns[j][i] for j in range(len(v[0]))) for i in range(len(v))]
        shape = f"{len(v)}×{len(v[0])}"
        return [
            ("Matrix display", f"{shape} Matrix{{Float64}}:\n" + "\n".join(lines)),
            ("REPL", "julia> H\n" + f"{shape} Matrix{{Float64}}:\n" + "\n".join(lines)),
            ("old Array display", f"{shape} Array{{Float64,2}}:\n" + "\n".join(lines)),
            ("repr", "[" + "; ".join(" ".join(julia_number(x) for x in row) for row in v) + "]"),
        ]
    if kind == "interval":
        ends = {
            (False, False): "open",
            (True, True): "closed",
            (True, False): "closed–open",
            (False, True): "open–closed",
        }
        return [
            (
                "IntervalSets",
                f"{julia_number(v.low)} .. {julia_number(v.high)} ({ends[(v.low_closed, v.high_closed)]})",
            ),
            (
                "chained comparison",
                f"{typed(v.low)} {'≤' if v.low_closed else '<'} η {'≤' if v.high_closed else '<'} {typed(v.high)}",
            ),
        ]
    if kind == "labels":
        return [
            ("Vector{String} display", f"{len(v)}-element Vector{{String}}:\n" + "\n".join(f' "{x}"' for x in v)),
            ("repr", "[" + ", ".join(f'"{x}"' for x in v) + "]"),
            ("Symbols", "[" + ", ".join(f":{x}" if "-" not in x else f":{x.replace('-', '_')}" for x in v) + "]"),
        ]
    return []


# MATLAB and Octave -----------------------------------------------------------------------------------


def matlab_cells(values: list[float], octave: bool = False) -> list[str]:
    """``format short``: whole numbers as integers, else four decimals (an exact zero as ``0``)."""
    if integral(values):
        width = max(len(str(int(round(x)))) for x in values) + (3 if octave else 4)
        return [str(int(round(x))).rjust(width) for x in values]
    width = 9 if octave else 10
    if max(abs(x) for x in values) >= 10:
        width += 1
    return [("0" if x == 0 else f"{x:.4f}").rjust(width) for x in values]


def matlab_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_matlab(ref.value)
    v, kind = ref.value, ref.kind
    name = ident(ref.name)
    if kind in ("number", "integer"):
        cell = matlab_cells([v])[0]
        octave = matlab_cells([v], octave=True)[0].strip()
        return [
            ("MATLAB display", f"{name} =\n\n{cell}\n"),
            ("MATLAB ans", f"ans =\n\n{cell}\n"),
            ("MATLAB compact", f"{name} =\n{cell}"),
            ("Live Editor", f"{name} = {cell.strip()}"),
            ("Octave display", f"{name} = {octave}"),
        ]
    if kind in ("vector", "sequence"):
        row = "".join(matlab_cells(v))
        orow = "".join(matlab_cells(v, octave=True))
        forms = [
            ("MATLAB row", f"{name} =\n\n{row}\n"),
            ("Live Editor row", f"{name} = 1×{len(v)}\n\n{row}\n"),
            ("Octave row", f"{name} =\n\n{orow}\n\n"),
            ("typed row", "[" + " ".join(typed(x) for x in v) + "]"),
        ]
        if kind == "vector":
            column = "\n".join(matlab_cells(v))
            forms.append(("MATLAB column", f"{name} =\n\n{column}\n"))
            forms.append(("typed column", "[" + "; ".join(typed(x) for x in v) + "]"))
        return forms
    if kind == "matrix":
        flat = matlab_cells([x for row in v for x in row])
        oflat = matlab_cells([x for row in v for x in row], octave=True)
        n = len(v[0])
        rows = ["".join(flat[i * n : (i + 1) * n]) for i in range(len(v))]
        orows = ["".join(oflat[i * n : (i + 1) * n]) for i in range(len(v))]
        return [
            ("MATLAB display", "H =\n\n" + "\n".join(rows) + "\n"),
            ("Live Editor", f"H = {len(v)}×{n}\n\n" + "\n".join(rows) + "\n"),
            ("Octave display", "H =\n\n" + "\n".join(orows) + "\n\n"),
            ("typed", "[" + "; ".join(" ".join(typed(x) for x in row) for row in v) + "]"),
        ]
    if kind == "interval":
        op = {True: ">=", False: ">"}
        op2 = {True: "<=", False: "<"}
        return [
            ("logical expression", f"eta {op[v.low_closed]} {typed(v.low)} & eta {op2[v.high_closed]} {typed(v.high)}")
        ]
    if kind == "labels":
        strings = "    ".join(f'"{x}"' for x in v)
        cells = "    ".join(f"{{'{x}'}}" for x in v)
        octave = "\n".join(f"  [1,{i + 1}] = {x}" for i, x in enumerate(v))
        return [
            ("string array", f"labels = \n\n  1×{len(v)} string array\n\n    {strings}\n"),
            ("cell array", f"labels =\n\n  1×{len(v)} cell array\n\n    {cells}\n"),
            ("Octave cell", f"labels =\n{{\n{octave}\n}}\n"),
        ]
    return []


# Calculators -----------------------------------------------------------------------------------------


def ti_number(v: float) -> str:
    """A TI-84 shows ten significant figures, no leading zero, and its own raised minus ``⁻``."""
    text = f"{v:.10g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}ᴇ{int(exponent)}"
    negative = text.startswith("-")
    text = text.lstrip("-")
    if text.startswith("0."):
        text = text[1:]
    return ("⁻" if negative else "") + text.replace("ᴇ-", "ᴇ⁻")


def nspire_number(v: float) -> str:
    text = f"{v:.10g}"
    return text + "." if "." not in text and "e" not in text else text


def repeating(v: float) -> tuple[str, str, str] | None:
    """``(whole, fixed, repeated)`` digits of a fraction whose decimals repeat (10/3: '3', '', '3'), else None."""
    f = exact(v)
    if f is None or f.denominator == 1:
        return None
    d = f.denominator
    for two_five in (2, 5):
        while d % two_five == 0:
            d //= two_five
    if d == 1 or f < 0:
        return None
    whole, rest = divmod(f.numerator, f.denominator)
    digits, seen = [], {}
    while rest not in seen:
        seen[rest] = len(digits)
        rest *= 10
        digits.append(str(rest // f.denominator))
        rest %= f.denominator
    start = seen[rest]
    return str(whole), "".join(digits[:start]), "".join(digits[start:])


def calculator_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_calculator(ref.value)
    v, kind = ref.value, ref.kind
    if kind in ("number", "integer"):
        forms = [
            ("TI-84", ti_number(v)),
            ("TI-Nspire", nspire_number(v) if kind == "number" else str(int(v))),
            ("Casio", f"{v:.10g}"),
        ]
        if kind == "number":
            f = exact(v)
            if f is not None and f.denominator != 1:
                forms.append(("TI-84 ►Frac", f"{ti_number(v)}\nAns►Frac\n{f.numerator}/{f.denominator}"))
        return forms
    if kind in ("vector", "sequence"):
        forms = [
            ("TI-84 list", "{" + " ".join(ti_number(x) for x in v) + "}"),
            ("TI-Nspire list", "{" + ",".join(nspire_number(x) for x in v) + "}"),
            ("Wolfram Alpha list", "{" + ", ".join(fraction_text(x) for x in v) + "}"),
            (
                "Mathematica decimals",
                "{" + ", ".join(f"{x:.6g}" + ("." if float(x).is_integer() else "") for x in v) + "}",
            ),
        ]
        reps = [repeating(x) for x in v]
        if any(reps):
            forms.append(
                (
                    "Casio repeating dot",
                    ", ".join(
                        f"{r[0]}.{r[1]}"
                        + "".join(d + "\u0307" for d in r[2][:1])
                        + (r[2][1:-1] + r[2][-1] + "\u0307" if len(r[2]) > 1 else "")
                        if r
                        else typed(x)
                        for x, r in zip(v, reps, strict=True)
                    ),
                )
            )
        if kind == "vector":
            forms.append(("TI-84 matrix", "[[" + " ".join(ti_number(x) for x in v) + "]]"))
        return forms
    if kind == "matrix":
        rows = ["[" + " ".join(ti_number(x) for x in row) + "]" for row in v]
        return [
            ("TI-84 matrix", "[" + "\n ".join(rows) + "]"),
            ("TI-Nspire matrix", "[" + "".join("[" + ",".join(nspire_number(x) for x in row) + "]" for row in v) + "]"),
            ("Wolfram Alpha", "{" + ", ".join("{" + ", ".join(fraction_text(x) for x in row) + "}" for row in v) + "}"),
        ]
    if kind == "interval":
        return [
            (
                "Wolfram Alpha",
                f"{typed(v.low)} {'<=' if v.low_closed else '<'} η {'<=' if v.high_closed else '<'} {typed(v.high)}",
            )
        ]
    return []


# Spreadsheets -----------------------------------------------------------------------------------------


def sheet_number(v: float, comma: bool = False) -> str:
    text = f"{v:.10g}"
    return text.replace(".", ",") if comma else text


def spreadsheet_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_spreadsheet(ref.value)
    v, kind = ref.value, ref.kind
    if kind in ("number", "integer"):
        forms = [("cell", sheet_number(v)), ("cell, decimal comma", sheet_number(v, comma=True))]
        if kind == "integer":
            forms.append(("name and value", f"{ref.unit or 'updates'}\t{int(v)}"))
        return forms
    if kind in ("vector", "sequence"):
        forms = [
            ("row", "\t".join(sheet_number(x) for x in v)),
            ("column", "\n".join(sheet_number(x) for x in v)),
            ("row, decimal comma", "\t".join(sheet_number(x, True) for x in v)),
            ("column, decimal comma", "\n".join(sheet_number(x, True) for x in v)),
        ]
        if kind == "sequence":
            forms.append(
                ("table with a step column", "t\tx_t\n" + "\n".join(f"{i}\t{sheet_number(x)}" for i, x in enumerate(v)))
            )
            forms.append(
                (
                    "table, steps from 1",
                    "step\tvalue\n" + "\n".join(f"{i + 1}\t{sheet_number(x)}" for i, x in enumerate(v)),
                )
            )
        elif len(v) == 2:
            forms.append(("named rows", "\n".join(f"{n}\t{sheet_number(x)}" for n, x in zip("xy", v, strict=False))))
        return forms
    if kind == "matrix":
        return [
            ("cells", "\n".join("\t".join(sheet_number(x) for x in row) for row in v)),
            ("cells, decimal comma", "\n".join("\t".join(sheet_number(x, True) for x in row) for row in v)),
        ]
    if kind == "labels":
        forms = [("row", "\t".join(v)), ("column", "\n".join(v))]
        if ref.cases:
            forms.append(
                (
                    "table with the cases",
                    "case\tlabel\n" + "\n".join(f"{c}\t{x}" for c, x in zip(ref.cases, v, strict=True)),
                )
            )
        return forms
    return []


# LaTeX -----------------------------------------------------------------------------------------------


def latex_number(v: float) -> str:
    f = exact(v)
    if f is not None and f.denominator != 1:
        sign = "-" if f < 0 else ""
        return f"{sign}\\frac{{{abs(f.numerator)}}}{{{f.denominator}}}"
    return typed(v)


def latex_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_latex(ref.value)
    v, kind = ref.value, ref.kind
    if kind in ("number", "integer"):
        forms = [
            ("inline", f"${typed(v)}$"),
            ("named", f"${ref.name} = {typed(v)}$"),
            ("display", f"\\[ {typed(v)} \\]"),
            ("siunitx", f"\\num{{{typed(v)}}}"),
        ]
        f = exact(v)
        if kind == "number" and f is not None and f.denominator != 1:
            forms.append(("fraction", f"${latex_number(v)}$"))
        reps = repeating(v) if kind == "number" else None
        if reps:
            forms.append(("overline", f"${reps[0]}.{reps[1]}\\overline{{{reps[2]}}}$"))
        return forms
    if kind in ("vector", "sequence"):
        column = " \\\\ ".join(latex_number(x) for x in v)
        forms = [
            ("pmatrix", f"$\\begin{{pmatrix}} {column} \\end{{pmatrix}}$"),
            ("bmatrix", f"$\\begin{{bmatrix}} {column} \\end{{bmatrix}}$"),
            ("left right", "$\\left(" + ",\\, ".join(latex_number(x) for x in v) + "\\right)$"),
            ("transposed row", "$(" + ", ".join(latex_number(x) for x in v) + ")^\\top$"),
            ("named", f"${ref.name} = \\begin{{pmatrix}} {column} \\end{{pmatrix}}$"),
        ]
        if kind == "sequence":
            forms.append(("list with spaces", "$" + ",\\ ".join(latex_number(x) for x in v) + "$"))
            forms.append(
                ("subscripted", "$" + ",\\; ".join(f"x_{{{i}}} = {latex_number(x)}" for i, x in enumerate(v)) + "$")
            )
        return forms
    if kind == "matrix":
        body = " \\\\ ".join(" & ".join(latex_number(x) for x in row) for row in v)
        cols = "c" * len(v[0])
        return [
            ("pmatrix", f"$\\begin{{pmatrix}} {body} \\end{{pmatrix}}$"),
            ("bmatrix", f"$$\\begin{{bmatrix}}\n{body}\n\\end{{bmatrix}}$$"),
            ("array", f"$\\left[\\begin{{array}}{{{cols}}} {body} \\end{{array}}\\right]$"),
            ("named", f"$H = \\begin{{pmatrix}} {body} \\end{{pmatrix}}$"),
            ("nabla", f"$\\nabla^2 f = \\begin{{bmatrix}} {body} \\end{{bmatrix}}$"),
        ]
    if kind == "interval":
        low, high = typed(v.low), typed(v.high)
        lo, hi = ("[" if v.low_closed else "("), ("]" if v.high_closed else ")")
        french_lo, french_hi = ("[" if v.low_closed else "]"), ("]" if v.high_closed else "[")
        le = {True: "\\le", False: "<"}
        return [
            ("in", f"$\\eta \\in {lo}{low}, {high}{hi}$"),
            ("inequalities", f"$ {low} {le[v.low_closed]} \\eta {le[v.high_closed]} {high} $"),
            ("left right", f"$\\eta \\in \\left{lo}{low},\\, {high}\\right{hi}$"),
            ("French brackets", f"$\\eta \\in \\left{french_lo}{low}, {high}\\right{french_hi}$"),
        ]
    if kind == "labels":
        return [
            ("text", ", ".join(f"\\text{{{x}}}" for x in v)),
            ("itemize", "\\begin{itemize}\n" + "\n".join(f"  \\item {x}" for x in v) + "\n\\end{itemize}"),
            ("enumerate", "\\begin{enumerate}\n" + "\n".join(f"  \\item {x}" for x in v) + "\n\\end{enumerate}"),
        ]
    return []


# Markdown --------------------------------------------------------------------------------------------


def markdown_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_markdown(ref.value)
    v, kind = ref.value, ref.kind
    if kind in ("number", "integer"):
        return [
            ("bold", f"**{typed(v)}**"),
            ("code", f"`{typed(v)}`"),
            ("bold named", f"**{ref.name}** = {typed(v)}"),
            ("italic", f"*{typed(v)}*"),
            ("fenced Jupyter output", f"```\nOut[3]: {typed(v)}\n```"),
        ]
    if kind in ("vector", "sequence"):
        items = [typed(x) for x in v]
        forms = [
            ("code", "`[" + ", ".join(items) + "]`"),
            ("bold", "**(" + ", ".join(items) + ")**"),
            ("bullets", "\n".join(f"- {x}" for x in items)),
            ("numbered", "\n".join(f"{i + 1}. {x}" for i, x in enumerate(items))),
            ("fenced numpy", f"```python\n>>> x\n{np.array(v, dtype=float)!r}\n```"),
        ]
        if kind == "sequence":
            forms.append(
                ("table", "| t | x_t |\n|---|---|\n" + "\n".join(f"| {i} | {x} |" for i, x in enumerate(items)))
            )
            forms.append(
                (
                    "table, aligned",
                    "| $t$ | $x_t$ |\n|:-:|--:|\n" + "\n".join(f"| {i} | {x} |" for i, x in enumerate(items)),
                )
            )
            forms.append(
                (
                    "wide table",
                    "| "
                    + " | ".join(f"x{i}" for i in range(len(v)))
                    + " |\n|"
                    + "---|" * len(v)
                    + "\n| "
                    + " | ".join(items)
                    + " |",
                )
            )
        elif len(v) <= 3:
            forms.append(
                (
                    "table",
                    "| component | value |\n|---|---|\n"
                    + "\n".join(f"| {n} | {x} |" for n, x in zip(_names(len(v)), items, strict=True)),
                )
            )
        return forms
    if kind == "matrix":
        rows = [[typed(x) for x in row] for row in v]
        n = len(rows[0])
        names, row_names = _names(n), _names(len(rows))
        return [
            ("code", "`" + repr([[float(x) for x in row] for row in v]) + "`"),
            (
                "table with names",
                "|   | "
                + " | ".join(names)
                + " |\n|---|"
                + "---|" * n
                + "\n"
                + "\n".join(f"| {row_names[i]} | " + " | ".join(row) + " |" for i, row in enumerate(rows)),
            ),
            ("fenced numpy", f"```\n{np.array(v, dtype=float)!r}\n```"),
            ("bullets of rows", "\n".join("- [" + ", ".join(row) + "]" for row in rows)),
        ]
    if kind == "interval":
        low, high = typed(v.low), typed(v.high)
        lo, hi = ("[" if v.low_closed else "("), ("]" if v.high_closed else ")")
        return [
            ("code", f"`{low} {'<=' if v.low_closed else '<'} eta {'<=' if v.high_closed else '<'} {high}`"),
            ("bold", f"**{lo}{low}, {high}{hi}**"),
            ("bold sentence", f"The iterates converge for **η ∈ {lo}{low}, {high}{hi}**."),
        ]
    if kind == "labels":
        forms = [
            ("bullets", "\n".join(f"- {x}" for x in v)),
            ("numbered", "\n".join(f"{i + 1}. {x}" for i, x in enumerate(v))),
            ("bold", ", ".join(f"**{x}**" for x in v)),
            ("code", ", ".join(f"`{x}`" for x in v)),
        ]
        if ref.cases:
            forms.append(
                (
                    "table",
                    "| case | label |\n|---|---|\n"
                    + "\n".join(f"| {c} | {x} |" for c, x in zip(ref.cases, v, strict=True)),
                )
            )
            forms.append(("bullets with cases", "\n".join(f"- {c}: {x}" for c, x in zip(ref.cases, v, strict=True))))
        return forms
    return []


# Phone keyboards ---------------------------------------------------------------------------------------

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_VULGAR = {
    Fraction(1, 2): "½",
    Fraction(1, 4): "¼",
    Fraction(1, 8): "⅛",
    Fraction(3, 4): "¾",
    Fraction(1, 3): "⅓",
    Fraction(2, 3): "⅔",
}


def phone_number(v: float) -> str:
    """Phones type the minus sign U+2212 (or an en dash), a vulgar fraction where one exists."""
    f = exact(v)
    if f is not None and f.denominator != 1:
        whole, part = divmod(abs(f), 1)
        if part in _VULGAR:
            return ("−" if f < 0 else "") + (str(whole) if whole else "") + _VULGAR[part]
    return typed(v).replace("-", "−")


def phone_name(name: str) -> str:
    if "_" in name:
        base, sub = name.split("_", 1)
        return base + sub.translate(_SUBSCRIPT)
    return name


def phone_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_phone(ref.value)
    v, kind = ref.value, ref.kind
    if kind in ("number", "integer"):
        forms = [
            ("decimal comma", typed(v).replace(".", ",").replace("-", "−")),
            ("subscripted name", f"{phone_name(ref.name)} = {typed(v).replace('-', '−')}"),
            ("no-break space", f"\u00a0{typed(v)}\u00a0"),
        ]
        reps = repeating(v) if kind == "number" else None
        if reps:
            forms.append(("combining overline", f"{reps[0]}.{reps[1]}" + "".join(d + "\u0305" for d in reps[2])))
            forms.append(("bracketed repetend", f"{reps[0]}.{reps[1]}({reps[2]})"))
        if kind == "number" and abs(v) >= 1 and "." in typed(v) and exact(v) is None:
            forms.append(
                ("full-width digits", typed(v).translate(str.maketrans("0123456789.", "０１２３４５６７８９．")))
            )
        return forms
    if kind in ("vector", "sequence"):
        forms = [
            ("minus signs", "(" + ", ".join(phone_number(x) for x in v) + ")"),
            (
                "decimal commas and semicolons",
                "(" + "; ".join(typed(x).replace(".", ",").replace("-", "−") for x in v) + ")",
            ),
            ("full-width brackets", "（" + "，".join(typed(x) for x in v) + "）"),
            ("no-break spaces", ",\u00a0".join(typed(x) for x in v)),
            ("arrows", " → ".join(phone_number(x) for x in v)),
        ]
        reps = [repeating(x) for x in v]
        if any(reps):
            forms.append(
                (
                    "combining overline",
                    ", ".join(
                        f"{r[0]}.{r[1]}" + "".join(d + "\u0305" for d in r[2]) if r else typed(x)
                        for x, r in zip(v, reps, strict=True)
                    ),
                )
            )
            forms.append(
                (
                    "bracketed repetend",
                    ", ".join(f"{r[0]}.{r[1]}({r[2]})" if r else typed(x) for x, r in zip(v, reps, strict=True)),
                )
            )
        return forms
    if kind == "matrix":
        return [
            (
                "rows in brackets",
                "[" + ", ".join("[" + ", ".join(phone_number(x) for x in row) + "]" for row in v) + "]",
            ),
            ("semicolon rows", "(" + "; ".join(" ".join(phone_number(x) for x in row) for row in v) + ")"),
            ("full-width commas", "[[" + "]，[".join("，".join(typed(x) for x in row) for row in v) + "]]"),
        ]
    if kind == "interval":
        low, high = typed(v.low).replace("-", "−"), typed(v.high).replace("-", "−")
        lo, hi = ("[" if v.low_closed else "("), ("]" if v.high_closed else ")")
        return [
            ("symbols", f"{low} {'≤' if v.low_closed else '<'} η {'≤' if v.high_closed else '<'} {high}"),
            ("element of", f"η ∈ {lo}{low}, {high}{hi}"),
            ("full-width", f"{low}{'≦' if v.low_closed else '＜'}η{'≦' if v.high_closed else '＜'}{high}"),
        ]
    if kind == "labels":
        return [
            ("capitalised", ", ".join(x[:1].upper() + x[1:] for x in v)),
            ("smart quotes", ", ".join(f"“{x}”" for x in v)),
            ("one per line, capitalised", "\n".join(x[:1].upper() + x[1:] for x in v)),
            ("no-break spaces", ",\u00a0".join(v)),
        ]
    return []


# PDF copies ------------------------------------------------------------------------------------------

_MATH_ITALIC = {"x": "𝑥", "y": "𝑦", "w": "𝑤", "f": "𝑓", "η": "𝜂", "n": "𝑛", "H": "𝐻", "g": "𝑔", "d": "𝑑"}


def pdf_name(name: str) -> str:
    base, _, sub = name.partition("_")
    return "".join(_MATH_ITALIC.get(c, c) for c in base) + sub.translate(_SUBSCRIPT)


def soft_hyphens(word: str) -> str:
    """A soft hyphen where a PDF broke the word across a line (``oscil\\u00adlating``)."""
    if len(word) < 6:
        return word + "\u200b"
    middle = len(word) // 2
    return word[:middle] + "\u00ad" + word[middle:]


def pdf_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_pdf(ref.value)
    v, kind = ref.value, ref.kind
    if kind in ("number", "integer"):
        return [
            ("math italic name", f"{pdf_name(ref.name)} = {typed(v).replace('-', '−')}"),
            ("thin spaces", f"{pdf_name(ref.name)}\u2009=\u2009{typed(v).replace('-', '−')}"),
            ("zero-width space", f"\u200b{typed(v)}\u200b"),
            ("ligature in a sentence", f"The ﬁnal value is {typed(v)}."),
        ]
    if kind in ("vector", "sequence"):
        items = [typed(x).replace("-", "−") for x in v]
        forms = [
            ("minus signs and thin spaces", "(" + ",\u2009".join(items) + ")"),
            ("narrow no-break spaces", ",\u202f".join(items)),
            ("line broken", ", ".join(items[: len(items) // 2]) + ",\n" + ", ".join(items[len(items) // 2 :])),
            ("one per line", "\n".join(items)),
        ]
        return forms
    if kind == "matrix":
        return [
            ("rows on lines", "\n".join("\u2009".join(typed(x).replace("-", "−") for x in row) for row in v)),
            ("bracketed rows", "\n".join("[ " + "  ".join(typed(x) for x in row) + " ]" for row in v)),
        ]
    if kind == "interval":
        low, high = typed(v.low), typed(v.high)
        lo, hi = ("[" if v.low_closed else "("), ("]" if v.high_closed else ")")
        return [
            (
                "math italic",
                f"{low}\u2009{'≤' if v.low_closed else '<'}\u2009𝜂\u2009{'≤' if v.high_closed else '<'}\u2009{high}",
            ),
            ("element of", f"𝜂 ∈ {lo}{low},\u00a0{high}{hi}"),
        ]
    if kind == "labels":
        return [
            ("soft hyphens", ", ".join(soft_hyphens(x) for x in v)),
            ("zero-width spaces", ",\u200b ".join(v)),
            ("one per line with soft hyphens", "\n".join(soft_hyphens(x) for x in v)),
        ]
    return []


# Plain text drawn by hand -------------------------------------------------------------------------------


def typed_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_typed(ref.value)
    v, kind = ref.value, ref.kind
    name = ref.name
    if kind in ("number", "integer"):
        forms = [("named", f"{name} = {typed(v)}"), ("named, no spaces", f"{name.replace('_', '')}={typed(v)}")]
        if kind == "number":
            forms.append(("named with what it is", f"{name} (after 2 steps) = {typed(v)}"))
        else:
            forms.append(("colon", f"updates per epoch: {int(v)}"))
        return forms
    if kind in ("vector", "sequence"):
        items = [typed(x) for x in v]
        if kind == "vector":
            forms = [
                ("named", f"{name} = ({', '.join(items)})"),
                ("components", ", ".join(f"{n} = {x}" for n, x in zip(_names(len(items)), items, strict=True))),
                ("bars", "\n".join(f"| {x} |" for x in items)),
                ("bracketed column", "\n".join(f"[ {x} ]" for x in items)),
                ("Unicode brackets", _big_brackets([[x] for x in items])),
                ("transposed", f"({', '.join(items)})^T"),
            ]
            if name.startswith(("∇", "g")):
                forms.append(("gradient", f"dL/dw = ({', '.join(items)})"))
            return forms
        return [
            ("labelled", ", ".join(f"x{i} = {x}" for i, x in enumerate(items))),
            ("labelled with subscripts", ", ".join(f"x_{i} = {x}" for i, x in enumerate(items))),
            ("labelled, semicolons", "; ".join(f"x_{i}={x}" for i, x in enumerate(items))),
            ("one per line labelled", "\n".join(f"x{i}: {x}" for i, x in enumerate(items))),
            ("spaces", " ".join(items)),
        ]
    if kind == "matrix":
        rows = [[typed(x) for x in row] for row in v]
        width = max(len(x) for row in rows for x in row)
        return [
            ("bars", "\n".join("| " + " ".join(x.rjust(width) for x in row) + " |" for row in rows)),
            ("bracketed rows", "\n".join("[ " + " ".join(x.rjust(width) for x in row) + " ]" for row in rows)),
            ("Unicode brackets", _big_brackets(rows)),
            ("Unicode parentheses", _big_brackets(rows, "⎛⎞⎜⎟⎝⎠")),
            ("named rows", f"H = [{'; '.join(' '.join(row) for row in rows)}]"),
            ("semicolons", "; ".join(", ".join(row) for row in rows)),
        ]
    if kind == "interval":
        low, high = typed(v.low), typed(v.high)
        return [
            ("eta", f"{low} {'<=' if v.low_closed else '<'} eta {'<=' if v.high_closed else '<'} {high}"),
            ("lr", f"lr {'>=' if v.low_closed else '>'} {low} and lr {'<=' if v.high_closed else '<'} {high}"),
        ]
    if kind == "labels":
        forms = [("slashes", " / ".join(v)), ("semicolons", "; ".join(v))]
        if ref.cases:
            forms.append(("case = label", ", ".join(f"{c} = {x}" for c, x in zip(ref.cases, v, strict=True))))
            forms.append(("case → label lines", "\n".join(f"{c} → {x}" for c, x in zip(ref.cases, v, strict=True))))
        return forms
    return []


def _big_brackets(rows: list[list[str]], pieces: str = "⎡⎤⎢⎥⎣⎦") -> str:
    top_l, top_r, mid_l, mid_r, bot_l, bot_r = pieces
    width = max(len(x) for row in rows for x in row)
    lines = []
    for i, row in enumerate(rows):
        left, end = (top_l, top_r) if i == 0 else (bot_l, bot_r) if i == len(rows) - 1 else (mid_l, mid_r)
        lines.append(left + " ".join(x.rjust(width) for x in row) + end)
    return "\n".join(lines)


# Prose in several languages ----------------------------------------------------------------------------

LABEL_WORDS = {
    "de": {
        "slow-monotone": "langsam", "fast": "schnell", "oscillating-converging": "oszilliert und konvergiert",
        "oscillating-stuck": "oszilliert ohne zu konvergieren", "diverging": "divergiert",
        "minimum": "Minimum", "maximum": "Maximum", "saddle": "Sattelpunkt",
    },
    "fr": {
        "slow-monotone": "lent", "fast": "rapide", "oscillating-converging": "oscille et converge",
        "oscillating-stuck": "oscille sans converger", "diverging": "diverge",
        "minimum": "minimum", "maximum": "maximum", "saddle": "point selle",
    },
    "es": {
        "slow-monotone": "lento", "fast": "rápido", "oscillating-converging": "oscila y converge",
        "oscillating-stuck": "oscila sin converger", "diverging": "diverge",
        "minimum": "mínimo", "maximum": "máximo", "saddle": "punto de silla",
    },
}  # fmt: skip
# Other words students use for the same labels, one list a language, as a second form.
LABEL_WORDS_2 = {
    "de": {
        "slow-monotone": "langsam monoton", "fast": "konvergiert schnell", "oscillating-converging": "oszillierend konvergent",
        "oscillating-stuck": "oszilliert dauerhaft", "diverging": "divergent",
        "minimum": "lokales Minimum", "maximum": "lokales Maximum", "saddle": "Sattel",
    },
    "fr": {
        "slow-monotone": "lent et monotone", "fast": "converge vite", "oscillating-converging": "oscillant convergent",
        "oscillating-stuck": "oscille indéfiniment", "diverging": "divergent",
        "minimum": "minimum local", "maximum": "maximum local", "saddle": "col",
    },
    "es": {
        "slow-monotone": "lento y monótono", "fast": "converge rápido", "oscillating-converging": "oscilante convergente",
        "oscillating-stuck": "oscila indefinidamente", "diverging": "divergente",
        "minimum": "mínimo local", "maximum": "máximo local", "saddle": "silla",
    },
}  # fmt: skip


def decimal_comma(text: str) -> str:
    return text.replace(".", ",")


def prose_forms(ref: Reference) -> list[tuple[str, str]]:
    if ref.kind == "points":
        return points_prose(ref.value)
    v, kind = ref.value, ref.kind
    name = ref.name
    if kind == "number":
        return [
            ("sentence", f"The answer is {typed(v)}."),
            ("value with its context", f"{typed(v)} after 2 steps"),
            ("named with its context", f"{name} = {typed(v)} after 2 steps"),
            ("German", f"{name} ist {decimal_comma(typed(v))} nach 2 Schritten"),
            ("French", f"{name} vaut {decimal_comma(typed(v))} après 2 itérations"),
            ("Spanish", f"{name} es {decimal_comma(typed(v))} después de 2 pasos"),
        ]
    if kind == "integer":
        n = int(v)
        return [
            ("sentence", f"the answer is {n} updates"),
            ("sentence with the batch", f"With this batch size there are {n} updates per epoch."),
            ("German", f"Es sind {n} Updates pro Epoche."),
            ("French", f"Il y a {n} mises à jour par époque."),
            ("Spanish", f"Son {n} actualizaciones por época."),
        ]
    if kind in ("vector", "sequence"):
        items = [typed(x) for x in v]
        if kind == "vector":
            return [
                ("sentence", f"The result is ({', '.join(items)})."),
                ("German", f"Das Ergebnis ist ({'; '.join(decimal_comma(x) for x in items)})."),
                ("French", f"Le résultat est ({' ; '.join(decimal_comma(x) for x in items)})."),
                ("Spanish", f"El resultado es ({'; '.join(decimal_comma(x) for x in items)})."),
            ]
        return [
            ("sentence", "The iterates are " + ", ".join(items[:-1]) + " and " + items[-1] + "."),
            ("German", "Die Werte sind " + "; ".join(decimal_comma(x) for x in items) + "."),
            ("French", "Les valeurs sont " + " ; ".join(decimal_comma(x) for x in items) + "."),
            ("Spanish", "Los valores son " + "; ".join(decimal_comma(x) for x in items) + "."),
        ]
    if kind == "matrix":
        rows = "[" + ", ".join("[" + ", ".join(typed(x) for x in row) + "]" for row in v) + "]"
        return [
            ("sentence", f"The Hessian is {rows}."),
            ("German", f"Die Hesse-Matrix ist {rows}."),
            ("French", f"La matrice hessienne est {rows}."),
            ("Spanish", f"La matriz hessiana es {rows}."),
        ]
    if kind == "interval":
        low, high = typed(v.low), typed(v.high)
        if v.low_closed or v.high_closed:
            return [
                (
                    "sentence",
                    f"It converges for {low} {'≤' if v.low_closed else '<'} η {'≤' if v.high_closed else '<'} {high}.",
                )
            ]
        return [
            ("sentence", f"It converges for {low} < η < {high}."),
            ("between, exclusive", f"between {low} and {high} (exclusive)"),
            ("German", f"Konvergenz für {low} < η < {high}"),
            ("German in words", f"zwischen {low} und {high} (ausschließlich)"),
            ("French", f"converge pour {low} < η < {high}"),
            ("French in words", f"entre {low} et {high} exclus"),
            ("Spanish", f"converge para {low} < η < {high}"),
            ("Spanish in words", f"entre {low} y {high} (sin incluir los extremos)"),
        ]
    if kind == "labels":
        forms = []
        if ref.cases:
            forms.append(("sentence", "; ".join(f"for {c} it is {x}" for c, x in zip(ref.cases, v, strict=True))))
        for language, table in LABEL_WORDS.items():
            if all(x in table for x in v):
                forms.append((language_name(language), ", ".join(table[x] for x in v)))
                forms.append(
                    (language_name(language) + ", other words", ", ".join(LABEL_WORDS_2[language][x] for x in v))
                )
        return forms
    return []


def language_name(code: str) -> str:
    return {"de": "German", "fr": "French", "es": "Spanish"}[code]


# Sequences of points ----------------------------------------------------------------------------------


def _pairs(points: list[list[float]], number: Callable[[float], str] = typed, sep: str = ", ") -> list[str]:
    return ["(" + sep.join(number(x) for x in point) + ")" for point in points]


def points_python(v: list[list[float]]) -> list[tuple[str, str]]:
    array = np.array(v, dtype=float)
    n = len(v[0])
    names = _names(n)
    cells = _pandas_cells([x for point in v for x in point])
    return [
        ("numpy repr", repr(array)),
        ("numpy print", str(array)),
        ("list of lists", repr([[float(x) for x in point] for point in v])),
        ("list of arrays", "[" + ", ".join(repr(np.array(point, dtype=float)) for point in v) + "]"),
        ("torch", _torch(v)),
        (
            "pandas DataFrame",
            _frame(names, [cells[i * n : (i + 1) * n] for i in range(len(v))], [str(i) for i in range(len(v))]),
        ),
    ]


def points_r(v: list[list[float]]) -> list[tuple[str, str]]:
    return [("matrix print", r_matrix(v))]


def points_julia(v: list[list[float]]) -> list[tuple[str, str]]:
    rows = ["[" + ", ".join(julia_number(x) for x in point) + "]" for point in v]
    columns = [julia_column([julia_number(point[j]) for point in v]) for j in range(len(v[0]))]
    lines = [" " + "  ".join(columns[j][i] for j in range(len(v[0]))) for i in range(len(v))]
    return [
        (
            "Vector of Vectors display",
            f"{len(v)}-element Vector{{Vector{{Float64}}}}:\n" + "\n".join(" " + r for r in rows),
        ),
        ("Matrix display", f"{len(v)}×{len(v[0])} Matrix{{Float64}}:\n" + "\n".join(lines)),
    ]


def points_matlab(v: list[list[float]]) -> list[tuple[str, str]]:
    flat = matlab_cells([x for point in v for x in point])
    n = len(v[0])
    rows = ["".join(flat[i * n : (i + 1) * n]) for i in range(len(v))]
    return [("MATLAB display", "X =\n\n" + "\n".join(rows) + "\n")]


def points_calculator(v: list[list[float]]) -> list[tuple[str, str]]:
    return [
        ("TI-84 matrix", "[" + "\n ".join("[" + " ".join(ti_number(x) for x in point) + "]" for point in v) + "]"),
        ("Wolfram Alpha", "{" + ", ".join("{" + ", ".join(fraction_text(x) for x in point) + "}" for point in v) + "}"),
    ]


def points_spreadsheet(v: list[list[float]]) -> list[tuple[str, str]]:
    names = _names(len(v[0]))
    return [
        ("cells", "\n".join("\t".join(sheet_number(x) for x in point) for point in v)),
        (
            "table with a step column",
            "t\t"
            + "\t".join(names)
            + "\n"
            + "\n".join(f"{i}\t" + "\t".join(sheet_number(x) for x in point) for i, point in enumerate(v)),
        ),
    ]


def points_latex(v: list[list[float]]) -> list[tuple[str, str]]:
    return [
        ("pairs", "$" + ",\\ ".join("(" + ", ".join(latex_number(x) for x in point) + ")" for point in v) + "$"),
        (
            "subscripted",
            "$"
            + ",\\; ".join(f"x_{{{i}}} = (" + ", ".join(typed(x) for x in point) + ")" for i, point in enumerate(v))
            + "$",
        ),
    ]


def points_markdown(v: list[list[float]]) -> list[tuple[str, str]]:
    names = _names(len(v[0]))
    return [
        (
            "table",
            "| t | "
            + " | ".join(names)
            + " |\n|---|"
            + "---|" * len(names)
            + "\n"
            + "\n".join(f"| {i} | " + " | ".join(typed(x) for x in point) + " |" for i, point in enumerate(v)),
        ),
        ("bullets", "\n".join("- " + pair for pair in _pairs(v))),
    ]


def points_phone(v: list[list[float]]) -> list[tuple[str, str]]:
    return [
        ("arrows", " → ".join(_pairs(v, phone_number))),
        ("decimal commas", "; ".join("(" + " | ".join(typed(x).replace(".", ",") for x in point) + ")" for point in v)),
    ]


def points_pdf(v: list[list[float]]) -> list[tuple[str, str]]:
    return [("minus signs and thin spaces", ",\u2009".join(_pairs(v, lambda x: typed(x).replace("-", "−"))))]


def points_typed(v: list[list[float]]) -> list[tuple[str, str]]:
    return [
        ("pairs", ", ".join(_pairs(v))),
        ("labelled", ", ".join(f"x{i} = {pair}" for i, pair in enumerate(_pairs(v)))),
        ("labelled, one per line", "\n".join(f"x_{i} = {pair}" for i, pair in enumerate(_pairs(v)))),
        ("rows", "\n".join(" ".join(typed(x) for x in point) for point in v)),
    ]


def points_prose(v: list[list[float]]) -> list[tuple[str, str]]:
    pairs = _pairs(v)
    return [
        ("sentence", "The iterates are " + ", ".join(pairs[:-1]) + " and " + pairs[-1] + "."),
        ("German", "Die Iterierten sind " + ", ".join(_pairs(v, lambda x: typed(x).replace(".", ","), "; ")) + "."),
    ]


SOURCES: dict[str, Callable[[Reference], list[tuple[str, str]]]] = {
    "Python": python_forms,
    "R": r_forms,
    "Julia": julia_forms,
    "MATLAB/Octave": matlab_forms,
    "calculator": calculator_forms,
    "spreadsheet": spreadsheet_forms,
    "LaTeX": latex_forms,
    "Markdown": markdown_forms,
    "phone": phone_forms,
    "PDF copy": pdf_forms,
    "typed by hand": typed_forms,
    "prose": prose_forms,
}


def forms(ref: Reference) -> list[Form]:
    """Every form of ``ref``, from every source."""
    return [Form(source, name, text) for source, generate in SOURCES.items() for name, text in generate(ref)]


def perturbed(ref: Reference) -> Reference:
    """The same kind of answer with one value changed so that any source's printing shows it: the last number
    moved by 1 (a whole number) or 0.5, an interval's upper end moved by 1, the last label another option."""
    v = ref.value
    if ref.kind == "interval":
        return replace(ref, value=replace(v, high=v.high + 1))
    if ref.kind == "labels":
        other = next(o for o in ref.options if o != v[-1])
        return replace(ref, value=[*v[:-1], other])
    if ref.kind in ("matrix", "points"):
        return replace(ref, value=[*v[:-1], [*v[-1][:-1], _moved(v[-1][-1])]])
    if isinstance(v, list):
        return replace(ref, value=[*v[:-1], _moved(v[-1])])
    return replace(ref, value=_moved(v))


def _moved(x: float) -> float:
    return x + 1 if float(x).is_integer() else x + 0.5


# The references of the course's exercises -------------------------------------------------------------

# What each part asks for, as a student names it on the left of an equation.
NAMES = {
    "x1": "x_1",
    "x2": "x_2",
    "direction": "d",
    "new-point": "x_1",
    "full": "∇f(w)",
    "batch": "g_B",
    "hessian": "H",
    "iterates": "x_t",
    "values": "f(x_t)",
    "weights": "w_t",
    "b50": "n",
    "b200": "n",
    "b32": "n",
}


def reference_of(key: Any, part: Any) -> Reference:
    """A :class:`Reference` from an answer key of the grader (and its part, for the labels' options)."""
    value, kind = key.reference, key.kind
    if key.kind == "interval":
        value = Interval(value.low, value.high, value.low_closed, value.high_closed)
    elif key.kind == "sequence" and value and isinstance(value[0], list | tuple):
        value, kind = [[float(x) for x in point] for point in value], "points"
    elif key.kind in ("vector", "sequence"):
        value = [float(x) for x in value]
    elif key.kind == "matrix":
        value = [[float(x) for x in row] for row in value]
    elif key.kind in ("number",):
        value = float(value)
    options = tuple(getattr(key.type, "labels", ()) or ())
    return Reference(
        kind=kind,
        value=value,
        name=NAMES.get(key.part, "x"),
        cases=tuple(key.cases),
        options=options,
        unit=getattr(key.type, "unit", "") or "",
    )


def references(catalog: Any, students: tuple[str, ...] = ("default",)) -> list[tuple[str, str, str, Reference]]:
    """``(student, exercise, part, reference)`` for every part of every exercise whose reference is a number,
    count, vector, sequence, matrix, interval or labels."""
    out = []
    for exercise in catalog.exercises.values():
        if exercise.kind == "code":
            continue
        for student in students:
            for key in catalog.keys(exercise, catalog.variant(exercise, student)):
                if key.kind in KINDS:
                    out.append((student, exercise.id, key.part, reference_of(key, exercise.part(key.part))))
    return out
