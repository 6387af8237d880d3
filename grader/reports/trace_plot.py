"""Drawing an optimizer's path: the curve with its points in 1-D, contours with the path in 2-D."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.calculus import objective
from grader.reports.maths_text import python_as_text


def plot_trace(formula: str, trace: Any, path: str, title: str = "") -> None:
    """Write a PNG of ``trace`` (a :class:`grader.optim.Trace`) on ``formula`` to ``path``; ``{f}`` in ``title``
    becomes the formula as the prompts write it (``x² + 2``, not ``x**2 + 2``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = objective(formula)
    points = np.asarray(trace.iterates, dtype=np.float64)
    figure, axes = plt.subplots(figsize=(6, 4.5), dpi=110)
    if f.dim == 1:
        _curve(axes, f, points[:, 0], np.asarray(trace.values), formula)
    elif f.dim == 2:
        _contours(axes, f, points)
    else:
        axes.plot(np.asarray(trace.values), marker="o")
        axes.set_xlabel("step t")
        axes.set_ylabel("f(x_t)")
    axes.set_title(title.replace("{f}", python_as_text(formula)))
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


def _span(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    low, high = float(finite.min()), float(finite.max())
    margin = max(high - low, 1.0) * 0.25
    return low - margin, high + margin


def _curve(axes: Any, f: Any, xs: np.ndarray, values: np.ndarray, formula: str) -> None:
    low, high = _span(xs)
    grid = np.linspace(low, high, 400)
    axes.plot(grid, [f.value([x]) for x in grid], color="0.4", label=f"f(x) = {python_as_text(formula)}")
    axes.plot(xs, values, "o-", color="tab:red", label="iterates")
    for t, (x, y) in enumerate(zip(xs, values, strict=False)):
        axes.annotate(f"x{t}", (x, y), textcoords="offset points", xytext=(4, 6), fontsize=10)
    axes.set_xlabel("x")
    axes.set_ylabel("f(x)")
    axes.legend()


def _contours(axes: Any, f: Any, points: np.ndarray) -> None:
    (x_low, x_high), (y_low, y_high) = _span(points[:, 0]), _span(points[:, 1])
    xs, ys = np.meshgrid(np.linspace(x_low, x_high, 160), np.linspace(y_low, y_high, 160))
    zs = np.vectorize(lambda a, b: f.value([a, b]))(xs, ys)
    axes.contour(xs, ys, zs, levels=25, cmap="viridis", linewidths=0.8)
    axes.plot(points[:, 0], points[:, 1], "o-", color="tab:red", markersize=3, label="path")
    axes.plot(points[0, 0], points[0, 1], "s", color="black", label="x0")
    axes.set_xlabel(f.variables[0])
    axes.set_ylabel(f.variables[1])
    axes.legend()
