"""One HTML feedback file per student: scores, per-part feedback, and the path plot where it helps.

Everything a student wrote is escaped by Jinja's autoescape; plots are SVG
made by the grader itself, embedded as ``data:`` images that scale with the
page. Every plot has its text equivalent beside it (:class:`PathPlot`): a
table of the student's iterates and, after grading, the expected ones, so a
reader who cannot see the picture loses nothing. The page is the template
``grader/reports/templates/feedback.html``, beside the web pages' templates
in spirit but needing no web server (the command line writes these files).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.contract import Result, rounded_score, status_label
from grader.reports.exports import cell_error_lines
from grader.reports.maths_text import python_as_text
from grader.reports.plots import subscript, svg_data_uri
from grader.specs.model import Catalog

# A path of more points than any exercise asks for is not drawn: each point costs drawing time (tens of ms), and
# a student could send a thousand.
MAX_PLOTTED_POINTS = 50
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class PathPlot:
    """A student's path drawn on the exercise's function, with the numbers it shows as text.

    ``svg`` is the picture; ``function`` the formula drawn; ``iterates`` the
    student's points x₀, x₁, …; ``reference`` the expected points, or None
    where they must not be shown (a page a student could probe).
    """

    svg: str
    function: str
    iterates: list[Any]  # numbers, or points [x, y] for a function of two variables
    reference: list[Any] | None

    @property
    def data_uri(self) -> str:
        return svg_data_uri(self.svg)

    @property
    def shown_function(self) -> str:
        """The formula as the prompt writes it (``x² + 2``)."""
        return python_as_text(self.function)

    @property
    def signature(self) -> str:
        """``f(x)``, or ``f(x, y)`` for a path of points."""
        return "f(x, y)" if any(isinstance(x, list) for x in self.iterates) else "f(x)"

    @property
    def alt(self) -> str:
        """The picture in one sentence: the curve, the student's path, and the expected one where shown."""
        text = f"Plot of {self.signature} = {self.shown_function} with your path: {describe_path(self.iterates)}"
        if self.reference:
            text += f"; the expected path: {describe_path(self.reference)}"
        return text + "."

    @property
    def rows(self) -> list[dict[str, str]]:
        """One row per step: its index, the student's x and the expected x (blank past the end of either)."""
        length = max(len(self.iterates), len(self.reference or []))

        def at(values: list[Any] | None, k: int) -> str:
            return _item(values[k]) if values is not None and k < len(values) else ""

        return [
            {"index": subscript(k), "mine": at(self.iterates, k), "expected": at(self.reference, k)}
            for k in range(length)
        ]


def _item(value: Any) -> str:
    """``4`` for a number, ``(1.68, -0.6)`` for a point."""
    if isinstance(value, list):
        return "(" + ", ".join(f"{v:g}" for v in value) + ")"
    return f"{value:g}"


def describe_path(values: list[Any]) -> str:
    """``x₀ = 4, x₁ = 6, …`` for a list of iterates (numbers or points)."""
    return ", ".join(f"x{subscript(k)} = {_item(value)}" for k, value in enumerate(values))


def feedback_html(result: Result, catalog: Catalog, answers: Callable[[str, str], Any] | None = None) -> str:
    """The feedback page of one graded notebook or submission.

    ``answers(exercise_id, part_id)`` gives the student's own value of a part,
    for the plot of their path (exercises whose spec has ``plot``).
    """
    titles = {e.id: catalog.exercises[e.id].title for e in result.exercises if e.id in catalog.exercises}
    plots = {e.id: _plot(catalog, e.id, result.student, answers) for e in result.exercises}
    return (
        _templates()
        .get_template("feedback.html")
        .render(
            result=result,
            titles=titles,
            plots={k: v for k, v in plots.items() if v},
            cell_errors=cell_error_lines(result),
            waiting=review_reasons(result),
        )
    )


@functools.cache
def _templates() -> Any:
    """The feedback templates (loaded once, autoescaped), with the filters they use."""
    from jinja2 import Environment, FileSystemLoader

    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    environment.filters["score"] = rounded_score
    environment.filters["status_label"] = status_label
    return environment


def review_reasons(result: Result) -> list[dict[str, str]]:
    """Each part waiting for a TA and why, in one sentence: an answer shown but not bound (what and where), the
    grader's own failure, or an answer only a person can score."""
    found = []
    for exercise, part in result.parts():
        if part.status != "needs_review":
            continue
        review = part.details.get("review") if isinstance(part.details.get("review"), dict) else {}
        if review.get("found"):
            reason = f"{review['found']}; a TA decides whether it counts"
        elif part.details.get("grader_error"):
            reason = "the grader failed while checking it (not your error); a TA grades it by hand"
        else:
            reason = part.feedback or "a TA scores this part"
        found.append({"part": f"{exercise.id}/{part.id}", "reason": reason})
    return found


def _plot(
    catalog: Catalog, exercise_id: str, student: str | None, answers: Callable[[str, str], Any] | None
) -> PathPlot | None:
    exercise = catalog.exercises.get(exercise_id)
    if exercise is None or not exercise.plot or answers is None:
        return None
    iterates = answers(exercise_id, exercise.plot["part"])
    # A code exercise's reference is its function's result on a hidden input: never drawn.
    return path_figure(catalog, exercise, student, iterates, show_reference=exercise.kind != "code")


def path_figure(
    catalog: Catalog, exercise: Any, student: str | None, iterates: Any, show_reference: bool
) -> PathPlot | None:
    """A student's iterates on the exercise's function (spec option ``plot``), or None.

    ``show_reference`` adds the expected iterates: right for feedback after grading, never on a
    page where a student could submit anything to see the answer drawn.
    """
    if not exercise.plot or not isinstance(iterates, list) or not 0 < len(iterates) <= MAX_PLOTTED_POINTS:
        return None
    if not (all(_is_number(x) for x in iterates) or all(_is_point(x) for x in iterates)):
        return None
    params = catalog.variant(exercise, student)
    formula = params.get(exercise.plot["function"])
    if not isinstance(formula, str):
        return None
    reference = None
    if show_reference:
        part = exercise.plot["part"]
        reference = next((k.reference for k in catalog.keys(exercise, params) if k.part == part), None)
        same_kind = _is_point if _is_point(iterates[0]) else _is_number
        if not (isinstance(reference, list) and all(same_kind(x) for x in reference)):
            reference = None
    from grader.reports.plots import path_plot

    svg = path_plot(formula, iterates, reference)
    return PathPlot(
        svg=svg,
        function=formula,
        iterates=[_floats(x) for x in iterates],
        reference=[_floats(x) for x in reference] if reference else None,
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e12


def _is_point(value: Any) -> bool:
    """A point [x, y] of a path on a function of two variables."""
    return isinstance(value, list | tuple) and len(value) == 2 and all(_is_number(v) for v in value)


def _floats(value: Any) -> Any:
    return [float(v) for v in value] if isinstance(value, list | tuple) else float(value)
