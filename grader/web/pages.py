"""Server-rendered pages: students answer exercises, staff read the gradebook and analytics.

| page | who | what |
|---|---|---|
| ``/`` | logged in (or open mode) | the exercises, by assignment |
| ``/exercises/<id>`` | logged in (or open mode) | the prompt with the student's numbers; a form; per-part feedback and a plot of the path |
| ``/assignments/<a>/notebook`` | logged in | the student's own notebook for an assignment (download) |
| ``/assignments/<a>/upload`` (POST) | logged in | hand in a notebook (graded in the background) |
| ``/exercises/<id>/read`` (POST, JSON) | logged in (or open mode) | how a typed answer is read, while it is typed |
| ``/submissions`` | logged in | the student's own submissions, each linked to its page |
| ``/submissions/<id>`` | its student, staff | a submission's per-part feedback, plots, a notebook's cell errors; its status while graded |
| ``/submissions/<id>/status`` | its student, staff | that status as JSON, polled by the page |
| ``/submissions/<id>/reviews`` (POST) | its student, staff | ask a TA to look at one part again (a comment) |
| ``/instructor`` | TA, instructor | the gradebook, a CSV download, links to analytics |
| ``/instructor/extensions`` | TA (reads), instructor | students' extensions and their history; set, remove or import them |
| ``/instructor/exercises/<id>`` | TA, instructor | score histogram and misconception charts |

Everything shown is autoescaped by Jinja (student text included); charts are
SVG embedded as ``data:`` images, each with its numbers beside it as text (a
table or a sentence). Forms post to the same site only: each carries a CSRF
token and a post from another origin is refused (:mod:`grader.web.csrf`).
docs/accessibility.md says what the pages promise to assistive technology and
how ``tests/test_browser.py`` proves it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for

from grader.contract import ExerciseResult, StoredSubmission, shown_number, whole_number
from grader.reports.feedback import PathPlot
from grader.reports.maths_text import maths_as_text
from grader.store import reviews, submissions
from grader.store.users import Principal
from grader.students import is_student_id
from grader.web import handins, results, service
from grader.web.auth import is_open, login_required, may_read, staff_required
from grader.web.errors import ApiError
from grader.web.state import state

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)

DEMO_STUDENT = "demo"


bp.add_app_template_filter(maths_as_text, "maths_as_text")


@bp.app_template_filter("num")
def number(value: Any) -> str:
    """A score or a point count as people write it: 6, 1.5, 0.3333 (nothing for None)."""
    return "" if value is None else shown_number(value)


@bp.get("/")
@login_required(open_mode=True)
def index(who: Principal | None, upload_error: str | None = None, status: int = 200) -> tuple[str, int]:
    catalog = state().catalog
    listed = {e for a in catalog.assignments.values() for e in a.exercises}
    others = [e for e in catalog.exercises.values() if e.id not in listed]
    page = render_template(
        "index.html",
        who=who,
        assignments=[(a, [catalog.exercises[e] for e in a.exercises]) for a in catalog.assignments.values()],
        others=others,
        upload_error=upload_error,
    )
    return page, status


@bp.get("/assignments/<assignment>/notebook")
@login_required
def notebook_download(who: Principal, assignment: str) -> Response:
    """The student's own notebook for ``assignment``: prompts with their numbers and answer cells."""
    import nbformat

    from grader.notebooks.generate import student_notebook

    if assignment not in state().catalog.assignments:
        raise ApiError(404, f"there is no assignment {assignment!r}")
    server = request.url_root.rstrip("/")  # check() and submit() in the notebook talk to this service
    text = nbformat.writes(student_notebook(state().catalog, assignment, who.student, server=server))
    name = f"{assignment}-{who.student}.ipynb"
    return Response(
        text, mimetype="application/x-ipynb+json", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.post("/assignments/<assignment>/upload")
@login_required
def notebook_upload(who: Principal, assignment: str) -> tuple[str, int, dict[str, str]] | Response:
    """Hand in a notebook from the browser: the same path as ``POST /api/submissions``, then the history page.

    The same rate limit and storage quota as the API apply; past them the
    index page says why (429 with ``Retry-After``, or 413).
    """
    if assignment not in state().catalog.assignments:
        raise ApiError(404, f"there is no assignment {assignment!r}")
    try:
        service.take_turn(who)
        service.queue_notebook(request.files, {"assignment": assignment}, who)
    except ApiError as exc:
        page, status = index(upload_error=exc.detail, status=exc.status)
        return page, status, exc.headers
    return redirect(url_for("pages.history"), code=303)


@bp.route("/exercises/<exercise_id>", methods=["GET", "POST"])
@login_required(open_mode=True)
def exercise(who: Principal | None, exercise_id: str) -> tuple[str, int]:
    catalog = state().catalog
    spec = catalog.exercises.get(exercise_id)
    if spec is None:
        raise ApiError(404, f"there is no exercise {exercise_id!r}")
    student = who.student if who else (request.form.get("student") or DEMO_STUDENT).strip()
    answers: dict[str, str] = {}
    result: ExerciseResult | None = None
    error: str | None = None
    plot: PathPlot | None = None
    withheld: str | None = None  # the assignment shows no feedback yet
    status = 200
    if request.method == "POST" and spec.kind != "answers":
        raise ApiError(400, "this exercise is answered in a notebook: upload it to /api/submissions")
    if request.method == "POST":
        service.take_turn(who)
        answers = {
            p.id: request.form.get(f"part-{p.id}", "").strip()
            for p in spec.parts
            if request.form.get(f"part-{p.id}", "").strip()
        }
        submission = {"student": student, "answers": {spec.id: answers}}
        try:
            outcome = service.grade_and_store(submission, who)
        except ApiError as exc:
            if exc.status not in (400, 403):  # 403: the assignment is closed, or no attempt is left
                raise
            error, status = str(exc.detail), exc.status
        else:
            result = outcome.result.exercises[0]
            unreadable = [p.id for p in result.parts if p.status == "invalid"]
            plot = results.exercise_plot(catalog, spec, student, answers, unreadable)
            result, withheld, full = handins.page_result(outcome, who)  # the assignment's feedback rules
            plot = plot if full else None
    prompt = service.prompt(catalog, spec.id, student if who or is_open() else None)
    body = render_template(
        "exercise.html",
        who=who,
        student=student,
        exercise=spec,
        prompt=prompt,
        answers=answers,
        result=result,
        parts={p.id: p for p in result.parts} if result else {},
        error=error,
        plot=plot,
        handin=handins.exercise_status(spec.id, student, who),
        withheld=withheld,
    )
    return body, status


@bp.post("/exercises/<exercise_id>/read")
@login_required(open_mode=True, refusal="log in again to see how your answers are read")
def read_answer(who: Principal | None, exercise_id: str) -> Response:
    """How the answer being typed into a part's field is read (JSON, for the page's script; see
    :func:`grader.web.results.read_part`). Same-site only, with the form's CSRF token in ``X-CSRFToken``."""
    service.take_turn(who)
    body = service.json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object with 'part' and 'text'")
    wanted = str(body.get("student") or DEMO_STUDENT) if who is None else who.student
    student = wanted if is_student_id(wanted) else DEMO_STUDENT
    return jsonify(results.read_part(state().catalog, {**body, "exercise": exercise_id}, student))


@bp.get("/submissions")
@login_required
def history(who: Principal) -> str:
    rows = handins.shown_history(submissions.history(state().db, who.student, 100), who)
    answered = submissions.exercises_of(state().db, [row.id for row in rows if row.assignment is None])
    titles = {row.id: results.title_of(row, answered.get(row.id, []), state().catalog) for row in rows}
    return render_template("history.html", who=who, rows=rows, titles=titles)


def _readable_submission(who: Principal, submission_id: str) -> StoredSubmission:
    """The submission the visitor may read (its student or staff), as the assignment's feedback rules show it
    (:mod:`grader.web.handins`); a 404 otherwise."""
    found = submissions.get(state().db, submission_id) if len(submission_id) <= 64 else None
    if found is None or not may_read(who, found.student):  # another student's id looks like no id at all
        raise ApiError(404, "there is no submission at this address that you may read")
    return handins.shown_stored(found, who)


@bp.get("/submissions/<submission_id>")
@login_required
def submission(who: Principal, submission_id: str) -> str:
    found = _readable_submission(who, submission_id)
    view = results.submission_view(state().db, state().catalog, found)
    return render_template("submission.html", who=who, view=view, stored=found)


@bp.post("/submissions/<submission_id>/reviews")
@login_required
def ask_for_review(who: Principal, submission_id: str) -> Response | tuple[str, int]:
    """The student asks a TA to look at one part again, from the form under each part of the submission's page
    that is not already waiting for a TA: the request ``POST /api/submissions/<id>/reviews`` makes without a
    score. The part then waits in the review queue, and the page says so."""
    found = _readable_submission(who, submission_id)
    service.take_turn(who)
    exercise, part = (request.form.get(name, "").strip() for name in ("exercise", "part"))
    comment = request.form.get("comment", "")
    try:
        reviews.record(state().db, found.id, exercise, part, by=who.student, comment=comment)
    except reviews.ReviewError as exc:
        if exc.status == 404:
            raise ApiError(404, str(exc)) from None
        view = results.submission_view(state().db, state().catalog, found)
        asking = {"ref": f"{exercise}/{part}", "comment": comment, "error": str(exc)}
        return render_template("submission.html", who=who, view=view, stored=found, asking=asking), 400
    flash(f"You asked a TA to look at {exercise}/{part} again; this page will show their answer.")
    page = url_for("pages.submission", submission_id=found.id, _anchor=f"feedback-{exercise}-{part}")
    return redirect(page, code=303)


@bp.get("/submissions/<submission_id>/status")
@login_required(refusal="log in again to follow this submission")
def submission_status(who: Principal, submission_id: str) -> Response:
    """Where a submission is in the queue (JSON), for its page's script; 401 once the login has expired."""
    found = _readable_submission(who, submission_id)
    return jsonify(
        {
            "id": found.id,
            "status": found.status,
            "score": whole_number(found.score),
            "max_score": whole_number(found.max_score),
            "error": found.error,
            "attempts": found.attempts,
        }
    )


@bp.get("/instructor")
@staff_required
def instructor(who: Principal) -> str:
    from grader.web import overview

    return render_template("instructor.html", who=who, **overview.gradebook_page(overview.attempt_arg()))


@bp.get("/instructor/gradebook.csv")
@staff_required
def instructor_csv(who: Principal) -> Response:
    from grader.web import overview

    attempt = overview.attempt_arg()
    return Response(
        overview.gradebook_csv_body(attempt),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="gradebook-{attempt}.csv"'},
    )


@bp.get("/instructor/exercises/<exercise_id>")
@staff_required
def analytics(who: Principal, exercise_id: str) -> str:
    from grader.web import overview

    return render_template("analytics.html", who=who, **overview.analytics_page(exercise_id, overview.attempt_arg()))


@bp.route("/instructor/extensions", methods=["GET", "POST"])
@staff_required
def extensions(who: Principal) -> tuple[str, int]:
    """Students' extensions and every change to them; an instructor sets, removes or imports (CSV) them here."""
    return handins.extensions_page(who, request.method == "POST")
