"""What the gradebook and analytics pages show, counted the same way (the ``attempt`` choice, best or latest).

The pages (:mod:`grader.web.pages`) render these; the choice is the query
parameter ``attempt`` (default :data:`grader.store.gradebook.DEFAULT_ATTEMPT`),
carried from the gradebook to its CSV and to every analytics link, and said
above every number. Charts are SVG drawn by matplotlib (``grader.reports.plots``)
with their counts as text beside them; small distributions (first wrong
steps) are HTML bars in a table.
"""

from __future__ import annotations

from typing import Any

from flask import request

from grader.reports.gradebook import gradebook_csv, gradebook_json
from grader.reports.plots import svg_data_uri
from grader.store import gradebook as book
from grader.web import handins, service
from grader.web.errors import ApiError
from grader.web.state import state


def attempt_arg() -> str:
    """The page's ``attempt`` (``best`` or ``latest``), else a 400 that says which values there are."""
    try:
        return book.attempt_choice(request.args.get("attempt"))
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def gradebook_page(attempt: str) -> dict[str, Any]:
    """The gradebook's template values."""
    catalog = state().catalog
    data = gradebook_json(book.gradebook(state().db, attempt, handins.late()), catalog)
    return {
        "book": data,
        "exercises": list(catalog.exercises.values()),
        "attempt": attempt,
        "attempts": book.ATTEMPTS,
        "counted": book.ATTEMPT_WORDS[attempt],
    }


def gradebook_csv_body(attempt: str) -> str:
    return gradebook_csv(book.gradebook(state().db, attempt, handins.late()), state().catalog)


def analytics_page(exercise_id: str, attempt: str) -> dict[str, Any]:
    """The analytics page's template values: the statistics, their charts, and the histogram as rows."""
    from grader.reports.plots import bar_chart, histogram_chart

    stats = service.analytics(exercise_id, attempt)
    histogram = stats["score_histogram"]
    charts = {
        "histogram": svg_data_uri(histogram_chart(histogram["edges"], histogram["counts"], "Exercise scores"))
        if stats["students"]
        else None,
        "parts": {
            part["id"]: svg_data_uri(
                bar_chart(
                    list(part["misconceptions"]),
                    list(part["misconceptions"].values()),
                    f"Misconceptions in {part['id']}",
                )
            )
            for part in stats["parts"]
            if part["misconceptions"]
        },
    }
    bins = [(histogram["edges"][k], histogram["edges"][k + 1], count) for k, count in enumerate(histogram["counts"])]
    for part in stats["parts"]:
        steps = part["first_wrong_step"]
        top = max(steps.values(), default=0)
        part["step_bars"] = [(step, n, round(100 * n / top) if top else 0) for step, n in steps.items()]
    return {
        "stats": stats,
        "charts": charts,
        "histogram": bins,
        "attempt": attempt,
        "attempts": book.ATTEMPTS,
        "counted": book.ATTEMPT_WORDS[attempt],
    }
