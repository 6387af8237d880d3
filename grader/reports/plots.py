"""Plots as SVG text: a student's path on the loss curve, and bar charts for the class statistics.

matplotlib is imported inside the functions (it costs about half a second),
and only its object-oriented API is used (``Figure``, no pyplot), so the
functions are safe to call from several server threads. Text is drawn as
paths, so the SVG holds no markup taken from the data.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

_STYLE = {
    "svg.fonttype": "path",
    "svg.hashsalt": "optgrader",
    "font.size": 12,  # the pictures are scaled to the page's width: smaller text was hard to read
    "axes.spines.top": False,
    "axes.spines.right": False,
}
STUDENT_COLOUR = "#c0392b"
REFERENCE_COLOUR = "#7f8c8d"
CURVE_COLOUR = "#2c3e50"
BAR_COLOUR = "#2e86c1"
LABELLED_POINTS = 12  # x₀ … x₁₁ are named on the plot; later points crowd them and each label costs drawing time


def _finite(values: Sequence[Any] | None) -> list[float]:
    out = []
    for value in values or []:
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out.append(number)
    return out


def _svg(figure: Any, *, tight: bool = True) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), ready to inline in HTML.

    ``tight`` fits the margins to the labels, which draws the figure twice; a
    figure whose margins are set beforehand skips it.
    """
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight" if tight else None, metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def path_plot(f: str, iterates: list[Any], reference: list[Any] | None = None) -> str:
    """The curve of ``f`` (a formula in one variable) with the path x₀ → x₁ → … drawn on it, as SVG; for ``f``
    of two variables, the path of points [x, y] on the contour lines of f.

    ``iterates`` are the student's points (non-numbers are skipped); the
    optional ``reference`` path is drawn dashed. Raises ValueError if ``f``
    is not a formula of one or two variables that the safe parser accepts.
    """
    import matplotlib
    from matplotlib.figure import Figure

    from grader.calculus import variables_of
    from grader.expressions import ExpressionError, parse
    from grader.reports.maths_text import python_as_text

    try:
        formula = parse(f)
        names = list(variables_of(formula)) or ["x"]
        if len(names) > 2:
            raise ExpressionError(f"it has {len(names)} variables, not one or two")
        function = formula.compile(names)
    except ExpressionError as exc:
        raise ValueError(f"cannot plot f = {f}: {exc}") from exc
    if len(names) == 2:
        return _contour_plot(f, names, function, _finite_points(iterates), _finite_points(reference))
    import numpy as np

    points = _finite(iterates)
    expected = _finite(reference)
    xs = points + expected
    low, high = (min(xs), max(xs)) if xs else (-1.0, 1.0)
    low, high = min(low, 0.0), max(high, 0.0)
    margin = 0.1 * (high - low) or 1.0
    grid = np.linspace(low - margin, high + margin, 400)
    curve = np.broadcast_to(np.asarray(function(grid), dtype=float), grid.shape)

    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(6.4, 3.6))
        figure.subplots_adjust(left=0.11, right=0.98, bottom=0.14, top=0.92)  # room for ticks and a 1e7 above
        axes = figure.add_subplot()
        axes.plot(grid, curve, color=CURVE_COLOUR, linewidth=1.5, label=f"f(x) = {python_as_text(f)}")
        if expected:
            ys = np.asarray(function(np.asarray(expected)), dtype=float) * np.ones(len(expected))
            axes.plot(expected, ys, "o--", color=REFERENCE_COLOUR, markersize=4, label="reference")
        if points:
            ys = np.asarray(function(np.asarray(points)), dtype=float) * np.ones(len(points))
            axes.plot(points, ys, "o-", color=STUDENT_COLOUR, markersize=5, label="your path")
            for k, (x, y) in enumerate(zip(points[:LABELLED_POINTS], ys, strict=False)):
                axes.annotate(
                    f"x{subscript(k)}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(4, 6),
                    color=STUDENT_COLOUR,
                    fontsize=11,
                )
        axes.set_xlabel("x")
        axes.set_ylabel("f(x)")
        axes.legend(loc="upper center", frameon=False, fontsize=11)
        return _svg(figure, tight=False)


def _finite_points(values: Sequence[Any] | None) -> list[tuple[float, float]]:
    """The items of ``values`` that are points [x, y] of finite numbers."""
    out = []
    for value in values or []:
        if isinstance(value, list | tuple) and len(value) == 2:
            point = _finite(value)
            if len(point) == 2:
                out.append((point[0], point[1]))
    return out


def _contour_plot(
    f: str,
    names: list[str],
    function: Any,
    points: list[tuple[float, float]],
    expected: list[tuple[float, float]],
) -> str:
    """The contour lines of a two-variable ``f`` around the paths, with the student's path and the expected one."""
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure

    from grader.reports.maths_text import python_as_text

    shown = points + expected
    xs = [p[0] for p in shown] + [0.0]
    ys = [p[1] for p in shown] + [0.0]
    margin_x = 0.15 * (max(xs) - min(xs)) or 1.0
    margin_y = 0.15 * (max(ys) - min(ys)) or 1.0
    grid_x = np.linspace(min(xs) - margin_x, max(xs) + margin_x, 120)
    grid_y = np.linspace(min(ys) - margin_y, max(ys) + margin_y, 120)
    mesh_x, mesh_y = np.meshgrid(grid_x, grid_y)
    heights = np.broadcast_to(np.asarray(function(mesh_x, mesh_y), dtype=float), mesh_x.shape)
    finite = heights[np.isfinite(heights)]
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(6.4, 4.2))
        figure.subplots_adjust(left=0.13, right=0.98, bottom=0.12, top=0.93)
        axes = figure.add_subplot()
        if finite.size and finite.max() > finite.min():
            levels = np.unique(np.quantile(finite, np.linspace(0.02, 0.98, 12)))
            if len(levels) > 1:
                axes.contour(mesh_x, mesh_y, heights, levels=levels, colors=CURVE_COLOUR, linewidths=0.6, alpha=0.6)
        axes.plot([], [], color=CURVE_COLOUR, linewidth=0.6, label=f"contours of f = {python_as_text(f)}")
        if expected:
            axes.plot(*zip(*expected, strict=True), "o--", color=REFERENCE_COLOUR, markersize=4, label="reference")
        if points:
            axes.plot(*zip(*points, strict=True), "o-", color=STUDENT_COLOUR, markersize=5, label="your path")
            for k, (x, y) in enumerate(points[:LABELLED_POINTS]):
                axes.annotate(
                    f"x{subscript(k)}", (x, y), textcoords="offset points", xytext=(4, 6), color=STUDENT_COLOUR,
                    fontsize=11,
                )  # fmt: skip
        axes.set_xlabel(names[0])
        axes.set_ylabel(names[1])
        axes.legend(loc="upper center", frameon=False, fontsize=10, ncol=2)
        return _svg(figure, tight=False)


def bar_chart(labels: Sequence[str], counts: Sequence[float], title: str = "", ylabel: str = "students") -> str:
    """A vertical bar chart of ``counts`` per label, as SVG."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(max(3.2, 0.9 * len(labels) + 1.5), 3.0))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        axes.bar(positions, list(counts), color=BAR_COLOUR)
        axes.set_xticks(positions, [str(label) for label in labels], rotation=20, ha="right")
        axes.set_ylabel(ylabel)
        axes.set_title(title, fontsize=12)
        axes.yaxis.get_major_locator().set_params(integer=True)
        return _svg(figure)


def histogram_chart(edges: Sequence[float], counts: Sequence[int], title: str = "") -> str:
    """A histogram from bin ``edges`` (one more than ``counts``), as SVG."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(5.0, 3.0))
        axes = figure.add_subplot()
        widths = [edges[k + 1] - edges[k] for k in range(len(counts))]
        axes.bar(
            list(edges[:-1]), list(counts), width=widths, align="edge",
            color=BAR_COLOUR, edgecolor="white",
        )  # fmt: skip
        axes.set_xlabel("score")
        axes.set_ylabel("students")
        axes.set_title(title, fontsize=12)
        axes.yaxis.get_major_locator().set_params(integer=True)
        return _svg(figure)


def svg_data_uri(svg: str) -> str:
    """An SVG as a ``data:`` URI for an ``<img src>``: it scales with the page and carries an ``alt``."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def subscript(number: int) -> str:
    """``12`` → ``₁₂``."""
    return str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
