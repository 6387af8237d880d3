"""One HTML feedback file per student: scores, per-part feedback, and the path plot where it helps.

Everything a student wrote is escaped by Jinja's autoescape; plots are SVG
made by the grader itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader.specs.model import Catalog

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Feedback for {{ result.student }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; line-height: 1.45; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: .4rem; vertical-align: top; text-align: left; }
.correct { color: #1a7f37; } .partial { color: #9a6700; } .incorrect, .invalid { color: #cf222e; } .missing, .needs_review { color: #57606a; }
.error { background: #fff4e5; padding: .6rem; border-left: 4px solid #d97706; }
code { background: #f3f3f3; padding: 0 .2rem; }
</style></head><body>
<h1>Feedback for {{ result.student }}{% if result.assignment %} — {{ result.assignment }}{% endif %}</h1>
<p>Score: <strong>{{ result.score }}</strong> / {{ result.max_score }}</p>
{% if result.error %}<p class="error">The notebook could not be run to the end: {{ result.error }}.
Answers bound before that were graded.</p>{% endif %}
{% for exercise in result.exercises %}
<h2>{{ titles.get(exercise.id, exercise.id) }} <small>({{ exercise.score }} / {{ exercise.max_score }})</small></h2>
<table><tr><th>part</th><th>score</th><th>status</th><th>feedback</th></tr>
{% for part in exercise.parts %}
<tr><td><code>{{ part.id }}</code></td><td>{{ part.score }} / {{ part.max_score }}</td>
<td class="{{ part.status }}">{{ part.status }}{% if part.misconception %} <br><small>{{ part.misconception }}</small>{% endif %}</td>
<td>{{ part.feedback }}</td></tr>
{% endfor %}</table>
{% if plots.get(exercise.id) %}<figure>{{ plots[exercise.id] | safe }}<figcaption>Your iterates on f{% if exercise.id not in code %}, with the expected ones{% endif %}.</figcaption></figure>{% endif %}
{% endfor %}
{% if result.cell_errors %}<h2>Cells that raised an error</h2><ul>
{% for e in result.cell_errors %}<li>cell {{ e.cell }}: {{ e.ename }}: {{ e.evalue }}</li>{% endfor %}</ul>{% endif %}
</body></html>
"""


def feedback_html(result: dict[str, Any], catalog: Catalog, answers: Callable[[str, str], Any] | None = None) -> str:
    """The feedback page of one graded notebook or submission.

    ``answers(exercise_id, part_id)`` gives the student's own value of a part,
    for the plot of their path (exercises whose spec has ``plot``).
    """
    from jinja2 import Environment

    titles = {
        e["id"]: catalog.exercises[e["id"]].title for e in result.get("exercises", []) if e["id"] in catalog.exercises
    }
    plots = {e["id"]: _plot(catalog, e["id"], result.get("student"), answers) for e in result.get("exercises", [])}
    environment = Environment(autoescape=True)
    code = {e for e in titles if catalog.exercises[e].kind == "code"}
    return environment.from_string(TEMPLATE).render(
        result=result, titles=titles, plots={k: v for k, v in plots.items() if v}, code=code
    )


def _plot(
    catalog: Catalog, exercise_id: str, student: str | None, answers: Callable[[str, str], Any] | None
) -> str | None:
    exercise = catalog.exercises.get(exercise_id)
    if exercise is None or not exercise.plot or answers is None:
        return None
    iterates = answers(exercise_id, exercise.plot["part"])
    # A code exercise's reference is its function's result on a hidden input: never drawn.
    return path_figure(catalog, exercise, student, iterates, show_reference=exercise.kind != "code")


def path_figure(
    catalog: Catalog, exercise: Any, student: str | None, iterates: Any, show_reference: bool
) -> str | None:
    """SVG of a student's iterates on the exercise's function (spec option ``plot``), or None.

    ``show_reference`` adds the expected iterates: right for feedback after grading, never on a
    page where a student could submit anything to see the answer drawn.
    """
    if not exercise.plot or not isinstance(iterates, list) or not iterates or not all(_is_number(x) for x in iterates):
        return None
    params = catalog.variant(exercise, student)
    formula = params.get(exercise.plot["function"])
    if not isinstance(formula, str):
        return None
    reference = None
    if show_reference:
        part = exercise.plot["part"]
        reference = next((k.reference for k in catalog.keys(exercise, params) if k.part == part), None)
    from grader.reports.plots import path_plot

    return path_plot(formula, iterates, reference if isinstance(reference, list) else None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e12
