"""Plots for feedback: a student's path on the loss curve, as inline SVG (matplotlib, Agg).

matplotlib is imported inside the functions, so modules that import this
one stay quick to load.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.calculus import objective


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def path_plot(f: str, iterates: Sequence[float], reference: Sequence[float] | None = None) -> str:
    """SVG of the one-variable ``f`` with the student's iterates (and the reference ones) on it."""
    plt = _pyplot()
    target = objective(f)
    student = np.asarray([float(x) for x in iterates], dtype=np.float64)
    shown = [student] + ([np.asarray(reference, dtype=np.float64)] if reference is not None else [])
    everything = np.concatenate(shown)
    finite = everything[np.isfinite(everything)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    margin = max(high - low, 1.0) * 0.2
    grid = np.linspace(low - margin, high + margin, 300)
    figure, axes = plt.subplots(figsize=(5.6, 3.6), dpi=100)
    axes.plot(grid, [target.value([x]) for x in grid], color="0.55", linewidth=1.2, label="f(x)")
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64)
        axes.plot(ref, [target.value([x]) for x in ref], "o--", color="tab:green", alpha=0.7, label="expected")
    axes.plot(student, [target.value([x]) for x in student], "s-", color="tab:red", label="your iterates")
    for t, x in enumerate(student):
        axes.annotate(f"x{t}", (x, target.value([x])), textcoords="offset points", xytext=(3, 5), fontsize=7)
    axes.set_xlabel("x")
    axes.set_ylabel("f(x)")
    axes.legend(fontsize=8)
    figure.tight_layout()
    return _svg(plt, figure)


def bar_chart(labels: Sequence[str], counts: Sequence[float], title: str = "") -> str:
    """SVG of a horizontal bar chart (misconception counts, score histograms)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.6, 0.4 * max(len(labels), 3) + 0.8), dpi=100)
    positions = np.arange(len(labels))
    axes.barh(positions, counts, color="tab:blue")
    axes.set_yticks(positions, labels=list(labels), fontsize=8)
    axes.invert_yaxis()
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    return _svg(plt, figure)


def _svg(plt: Any, figure: Any) -> str:
    stream = io.StringIO()
    figure.savefig(stream, format="svg")
    plt.close(figure)
    text = stream.getvalue()
    return text[text.index("<svg") :]
