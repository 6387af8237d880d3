"""The JSON API (see ``GET /openapi.json`` for the full description).

| route | who | what |
|---|---|---|
| ``GET /healthz`` | anyone | the service and its database answer |
| ``GET /openapi.json`` | anyone | this API as OpenAPI 3.1 |
| ``GET /api/exercises`` | anyone | exercises and assignments |
| ``GET /api/exercises/<id>?student=S`` | anyone; ``S`` only by S or staff | prompt and parameters, never answers |
| ``POST /api/grade`` | token (or open mode) | grade a submission at once and store it (``?include=read,plot``) |
| ``POST /api/read`` | token (or open mode) | how one typed answer is read, before it is graded |
| ``POST /api/submissions`` | token (or open mode) | queue a notebook (multipart) or answers (JSON): 202 and an id |
| ``GET /api/submissions/<id>`` | its student, staff | status and result |
| ``GET /api/students/<id>/submissions`` | that student, staff | their history |
| ``GET /api/submissions/<id>/reviews`` | its student, staff | the TAs' scores and comments, and requests |
| ``POST /api/submissions/<id>/reviews`` | staff (a score), its student (a request) | review one part |
| ``GET /api/reviews`` | staff | the parts waiting for a TA |
| ``GET /api/gradebook`` (``.csv``) ``?attempt=best|latest`` | staff | each student's counted score per exercise |
| ``POST /api/regrade`` | instructor | regrade an exercise or assignment with today's specs, in the background |
| ``GET /api/regrade/<id>`` | instructor | a regrade's status and report |
| ``GET /api/analytics/<exercise>?attempt=best|latest`` | staff | score histogram, misconceptions, first wrong steps |

Every request to ``/api`` is rate-limited per user (per address when anonymous or the token is not valid).
A bearer token that is not valid is a failed login: past the failed-login limits (per token tried, per address;
see :mod:`grader.web.auth`) it is a 429 instead of a 401.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy import text

from grader.reports.gradebook import gradebook_csv, gradebook_json
from grader.store import gradebook as book
from grader.store import reviews, submissions
from grader.students import ID_RULE, is_student_id
from grader.web import handins, results, service
from grader.web.auth import api_principal, is_open, may_read, require_staff, submitter
from grader.web.errors import ApiError, unavailable
from grader.web.openapi import openapi_document
from grader.web.state import state

bp = Blueprint("api", __name__)


@bp.before_request
def rate_limit() -> None:
    """Every ``/api`` request but the health check and the document takes a turn: its user's, else its address's."""
    if request.endpoint in ("api.healthz", "api.openapi"):
        return
    try:
        principal = api_principal()
    except ApiError as exc:  # a token that does not authenticate counts against the address (the route answers 401)
        if exc.status == 429:  # too many failed logins: refused before taking a turn
            raise
        principal = None
    service.take_turn(principal)


@bp.get("/healthz")
def healthz() -> Response:
    try:
        with state().db.read() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        raise unavailable("the database does not answer") from exc
    return jsonify({"status": "ok"})


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.get("/api/exercises")
def exercises() -> Response:
    catalog = state().catalog
    return jsonify(
        {
            "exercises": [service.exercise_summary(e) for e in catalog.exercises.values()],
            "assignments": [
                {"id": a.id, "title": a.title, "exercises": list(a.exercises)} for a in catalog.assignments.values()
            ],
        }
    )


@bp.get("/api/exercises/<exercise_id>")
def exercise(exercise_id: str) -> Response:
    student = request.args.get("student") or None
    if student is not None:
        if not is_student_id(student):
            raise ApiError(400, f"'student' must be an id of {ID_RULE}")
        principal = api_principal()
        if not is_open() and not may_read(principal, student):
            raise ApiError(
                401 if principal is None else 403,
                "only that student or staff may read a student's variant",
            )
    shown = service.prompt(state().catalog, exercise_id, student)
    handin = handins.exercise_status(exercise_id, student, api_principal() if student else None)
    if handin is not None:  # an assignment with rules: attempts used and left, due date, late days
        shown["attempts"] = handin.pop("attempts", None)
        shown["handin"] = handin
    return jsonify(shown)


@bp.post("/api/grade")
def grade() -> Response:
    include = results.includes(request.args.get("include"))
    submission = service.json_body()
    outcome = service.grade_and_store(submission, api_principal())
    body = {"submission": outcome.submission_id, **outcome.document}
    if include:  # each part as read and the student's own path: what a notebook's check() shows
        results.add_extras(body, state().catalog, outcome.result.student, submission.get("answers") or {}, include)
    return jsonify(handins.shown_grade(body, outcome.admission, api_principal()))


@bp.post("/api/read")
def read() -> Response:
    """How a typed answer is read (``read_as``, ``latex``), or the reason it cannot be read yet; nothing graded."""
    body = service.json_body()
    principal = api_principal()
    if principal is None and not is_open():
        raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
    wanted = body.get("student") if isinstance(body, dict) else None
    if wanted is not None and not is_student_id(wanted):
        raise ApiError(400, f"'student' must be an id of {ID_RULE}")
    student = submitter(principal, wanted)
    return jsonify(results.read_part(state().catalog, body, student))


@bp.post("/api/submissions")
def create_submission() -> tuple[Response, int, dict[str, str]]:
    principal = api_principal()
    if request.mimetype == "application/json":
        submission_id = service.queue_answers(service.json_body(), principal)
    elif request.mimetype == "multipart/form-data":
        submission_id = service.queue_notebook(request.files, request.form, principal)
    else:
        raise ApiError(415)
    location = url_for("api.submission", submission_id=submission_id)
    body = jsonify({"id": submission_id, "status": "queued", "url": location})
    return body, 202, {"Location": location}


@bp.get("/api/submissions/<submission_id>")
def submission(submission_id: str) -> Response:
    principal = api_principal()
    if principal is None and not is_open():  # whether the id exists or not: no oracle for anonymous callers
        raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
    include = results.includes(request.args.get("include"))
    found = submissions.get(state().db, submission_id) if len(submission_id) <= 64 else None
    if found is None or not (is_open() or may_read(principal, found.student)):
        raise ApiError(404, f"no submission {submission_id[:64]!r} that this token may read")
    found = handins.shown_stored(found, principal)  # an assignment's feedback rules
    body = found.to_json()
    if include and found.status == "done" and isinstance(body.get("result"), dict):
        answers = results.answers_of(state().db, found)
        results.add_extras(body["result"], state().catalog, found.student, answers, include)
    return jsonify(body)


@bp.get("/api/students/<student>/submissions")
def student_submissions(student: str) -> Response:
    principal = api_principal()
    if principal is None:
        raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
    if not may_read(principal, student):
        raise ApiError(403, "a student token may only read its own submissions")
    limit = _limit(request.args.get("limit"))
    history = handins.shown_history(submissions.history(state().db, student, limit), principal)
    return jsonify({"student": student, "submissions": [row.to_json() for row in history]})


@bp.get("/api/submissions/<submission_id>/reviews")
def submission_reviews(submission_id: str) -> Response:
    found = _readable(submission_id)
    return jsonify(
        {"submission": found.id, "reviews": [r.to_json() for r in reviews.of_submission(state().db, found.id)]}
    )


@bp.post("/api/submissions/<submission_id>/reviews")
def review_part(submission_id: str) -> tuple[Response, int]:
    """A TA scores one part (``score`` and ``comment``: an override), or its student asks a TA to look again
    (``comment`` only)."""
    principal = api_principal()
    found = _readable(submission_id)
    body = service.json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "send a JSON object with 'exercise', 'part', 'score' and 'comment'")
    exercise, part, score, comment = (body.get(k) for k in ("exercise", "part", "score", "comment"))
    if not isinstance(exercise, str) or not isinstance(part, str):
        raise ApiError(400, "'exercise' and 'part' must name a part of the submission")
    if comment is not None and not isinstance(comment, str):
        raise ApiError(400, "'comment' must be text")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise ApiError(400, "'score' must be a number (or left out, to ask a TA to look again)")
    if score is not None and not (principal is not None and principal.is_staff):
        raise ApiError(403, "only a TA or instructor gives a score; leave 'score' out to ask for a review")
    by = principal.student if principal is not None else "anonymous"
    try:
        record = reviews.record(state().db, found.id, exercise, part, by=by, score=score, comment=comment)
    except reviews.ReviewError as exc:
        raise ApiError(exc.status, str(exc)) from None
    now = submissions.get(state().db, found.id)
    shown = reviews.part_of(now.result or {}, exercise, part)
    return jsonify({"review": record.to_json(), "part": shown, "score": now.to_json()["score"]}), 201


def _readable(submission_id: str) -> Any:
    """A submission the caller may read (its student, staff), else 401 or 404."""
    principal = api_principal()
    if principal is None:
        raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
    found = submissions.get(state().db, submission_id, reviewed=False) if len(submission_id) <= 64 else None
    if found is None or not may_read(principal, found.student):
        raise ApiError(404, f"no submission {submission_id[:64]!r} that this token may read")
    return found


@bp.get("/api/reviews")
def review_queue() -> Response:
    require_staff(api_principal())
    from grader.review import queue

    return jsonify({"waiting": [item.to_json() for item in queue(state().db, state().catalog)]})


@bp.get("/api/gradebook")
def gradebook() -> Response:
    require_staff(api_principal())
    return jsonify(gradebook_json(book.gradebook(state().db, _attempt(), handins.late()), state().catalog))


@bp.get("/api/gradebook.csv")
def gradebook_export() -> Response:
    require_staff(api_principal())
    attempt = _attempt()
    body = gradebook_csv(book.gradebook(state().db, attempt, handins.late()), state().catalog)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="gradebook-{attempt}.csv"'},
    )


@bp.get("/api/analytics/<exercise_id>")
def analytics(exercise_id: str) -> Response:
    require_staff(api_principal())
    return jsonify(service.analytics(exercise_id, _attempt()))


def _attempt() -> str:
    """The ``attempt`` query parameter (``best`` or ``latest``; default best), else 400."""
    try:
        return book.attempt_choice(request.args.get("attempt"))
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def _limit(raw: Any) -> int:
    if raw is None:
        return 100
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "'limit' must be a whole number from 1 to 1000") from None
    if not 1 <= value <= 1000:
        raise ApiError(400, "'limit' must be a whole number from 1 to 1000")
    return value


@bp.post("/api/regrade")
def regrade_start() -> tuple[Response, int, dict[str, str]]:
    """An instructor grades every stored submission of an exercise or assignment again (see :mod:`grader.regrade`),
    in the background: 202 with the job's id and url."""
    from grader import regrade

    principal = _instructor()
    body = service.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("target"), str):
        raise ApiError(400, "send a JSON object with 'target', an exercise or assignment id, and optionally 'dry_run'")
    unknown = sorted(set(body) - {"target", "dry_run"}, key=str)
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0][:40]!r}: a regrade takes 'target' and 'dry_run'")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise ApiError(400, "'dry_run' must be true or false")
    try:
        job_id = regrade.create_job(state().db, state().catalog, body["target"], dry_run=dry_run, by=principal.student)
    except regrade.RegradeError as exc:
        raise ApiError(400, str(exc)) from None
    regrade.start(state().db, state().catalog, job_id, state().jobs, current_app.config.get("NOTEBOOK_GRADER"))
    location = url_for("api.regrade_status", job_id=job_id)
    return jsonify({"id": job_id, "status": "queued", "url": location}), 202, {"Location": location}


@bp.get("/api/regrade/<job_id>")
def regrade_status(job_id: str) -> Response:
    """A regrade job's status, progress and, once done, its report (per student, before and after)."""
    from grader import regrade

    _instructor()
    found = regrade.job(state().db, job_id)
    if found is None:
        raise ApiError(404, f"there is no regrade {job_id[:64]!r}")
    return jsonify(found)


def _instructor() -> Any:
    """The caller, an instructor; else 401 (anonymous) or 403."""
    who = api_principal()
    if who is None:
        raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
    if who.role != "instructor":
        raise ApiError(403, "only an instructor may regrade")
    return who
