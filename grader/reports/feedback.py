"""One HTML feedback file per student: scores, per-part feedback, and the path plot where it helps.

Everything a student wrote is escaped by Jinja's autoescape; plots are SVG
made by the grader itself, embedded as ``data:`` images that scale with the
page. Every plot has its text equivalent beside it (:class:`PathPlot`): a
table of the student's iterates and, after grading, the expected ones, so a
reader who cannot see the picture loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.contract import Result, rounded_score, status_label
from grader.reports.exports import cell_error_lines
from grader.reports.maths_text import python_as_text
from grader.reports.plots import subscript, svg_data_uri
from grader.specs.model import Catalog

# A path of more points than any exercise asks for is not drawn: each point costs drawing time (tens of ms), and
# a student could send a thousand.
MAX_PLOTTED_POINTS = 50

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feedback for {{ result.student }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45;
       color: #222; overflow-wrap: anywhere; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: .4rem; vertical-align: top; text-align: left; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
td.num { font-variant-numeric: tabular-nums; }
.correct { color: #1a7f37; } .partial { color: #9a6700; } .incorrect, .invalid { color: #cf222e; } .missing, .needs_review { color: #57606a; }
.error { background: #fff4e5; padding: .6rem; border-left: 4px solid #d97706; }
.review { background: #f4f0f8; padding: .6rem; border-left: 4px solid #7d3c98; }
section h2 { margin-top: 0; }
code { background: #f3f3f3; padding: 0 .2rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; }
</style></head><body>
<main>
<h1>Feedback for {{ result.student }}{% if result.assignment %} — {{ result.assignment }}{% endif %}</h1>
<p>Score: <strong>{{ result.score | score }}</strong> / {{ result.max_score | score }}</p>
{% if result.error %}<p class="error">The notebook could not be run to the end: {{ result.error }}.
Answers bound before that were graded.</p>{% endif %}
{% if cell_errors %}<section class="error"><h2>Cells that raised an error</h2>
<p>The notebook ran on after each of them; what they would have set was not set.</p><ul>
{% for line in cell_errors %}<li>{{ line }}</li>{% endfor %}</ul></section>{% endif %}
{% if waiting %}<section class="review"><h2>Waiting for a TA</h2>
<p>These parts earn nothing until a TA has looked at them:</p><ul>
{% for item in waiting %}<li><code>{{ item.part }}</code>: {{ item.reason }}</li>{% endfor %}</ul></section>{% endif %}
{% for exercise in result.exercises %}
<h2>{{ titles.get(exercise.id, exercise.id) }} <small>({{ exercise.score | score }} / {{ exercise.max_score | score }})</small></h2>
<table><tr><th scope="col">part</th><th scope="col">score</th><th scope="col">status</th><th scope="col">feedback</th></tr>
{% for part in exercise.parts %}
<tr><td><code>{{ part.id }}</code></td><td>{{ part.score | score }} / {{ part.max_score | score }}</td>
<td class="{{ part.status }}">{{ part.status | status_label }}{% if part.misconception %} <br><small>{{ part.misconception }}</small>{% endif %}</td>
<td>{{ part.feedback }}</td></tr>
{% endfor %}</table>
{% set plot = plots.get(exercise.id) %}
{% if plot %}<figure>
<img src="{{ plot.data_uri }}" alt="Plot of your path{% if plot.reference %} and the expected path{% endif %} on {{ plot.signature }} = {{ plot.shown_function }}; the table below gives the numbers.">
<figcaption>Your iterates on {{ plot.signature }} = {{ plot.shown_function }}{% if plot.reference %}, with the expected ones (dashed){% endif %}; the table gives the same numbers.</figcaption>
</figure>
<table>
<caption>Your path{% if plot.reference %} and the expected path{% endif %}, step by step</caption>
<tr><th scope="col">step</th><th scope="col">your x</th>{% if plot.reference %}<th scope="col">expected x</th>{% endif %}</tr>
{% for step in plot.rows %}<tr><th scope="row">x{{ step.index }}</th><td class="num">{{ step.mine }}</td>{% if plot.reference %}<td class="num">{{ step.expected }}</td>{% endif %}</tr>
{% endfor %}</table>{% endif %}
{% endfor %}
</main>
</body></html>
"""


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
    from jinja2 import Environment

    titles = {e.id: catalog.exercises[e.id].title for e in result.exercises if e.id in catalog.exercises}
    plots = {e.id: _plot(catalog, e.id, result.student, answers) for e in result.exercises}
    environment = Environment(autoescape=True)
    environment.filters["score"] = rounded_score
    environment.filters["status_label"] = status_label
    return environment.from_string(TEMPLATE).render(
        result=result,
        titles=titles,
        plots={k: v for k, v in plots.items() if v},
        cell_errors=cell_error_lines(result),
        waiting=review_reasons(result),
    )


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
