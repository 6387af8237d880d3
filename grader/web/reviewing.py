"""The review pages: TAs score what waits for a person, and override any part's score, with a comment.

| page | who | what |
|---|---|---|
| ``/review`` | TA, instructor | the parts waiting for a TA, as a table, with a link to review them one at a time |
| ``/review/<submission>`` | TA, instructor | every part of one graded submission, each with a link to review (override) it |
| ``/review/<submission>/<exercise>/<part>`` | TA, instructor | one part: the question, the student's answer, the keyword hint, the model answer, what the grader said, earlier reviews, and a form for a score and a comment (a POST saves it, then the next waiting part) |

Keyboard: Enter in the score or comment field saves (Shift+Enter starts a
new line in the comment); ``n``/``j`` and ``p``/``k`` go to the next and
previous waiting part when no field has the focus (a checkbox on the page
turns these single-key shortcuts off, WCAG 2.1.4). ``static/review.js``.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from grader import contract, review
from grader.contract import shown_number
from grader.store import reviews
from grader.store.reviews import ReviewError
from grader.store.users import Principal
from grader.web.auth import staff_required
from grader.web.errors import ApiError
from grader.web.state import state

bp = Blueprint("review", __name__)


@bp.app_template_filter("status_label")
def status_label(status: str) -> str:
    """A part's status as people read it: ``needs_review`` is "waiting for a TA", never a failure
    (:func:`grader.contract.status_label`). Every page that shows a part's status shows it through this filter."""
    return contract.status_label(status)


@bp.app_template_filter("plural")
def plural(count: Any, word: str, words: str | None = None) -> str:
    """``1 student``, ``2 students``, ``1.5 points`` (``words`` when the plural is not ``word`` + s)."""
    many = words or word + "s"
    return f"{shown_number(count)} {word if count == 1 else many}"


@bp.get("/review")
@staff_required
def queue(who: Principal) -> str:
    waiting = review.queue(state().db, state().catalog)
    answers = review.answers_of(state().db, waiting)
    return render_template("review_queue.html", who=who, waiting=waiting, answers=answers)


@bp.get("/review/<submission_id>")
@staff_required
def submission(who: Principal, submission_id: str) -> str:
    try:
        parts = review.submission_parts(state().db, state().catalog, submission_id)
    except ReviewError as exc:
        raise ApiError(exc.status, str(exc)) from None
    return render_template("review_submission.html", who=who, parts=parts, submission_id=submission_id)


@bp.route("/review/<submission_id>/<exercise_id>/<part_id>", methods=["GET", "POST"])
@staff_required
def part(who: Principal, submission_id: str, exercise_id: str, part_id: str) -> Response | tuple[str, int]:
    db, catalog = state().db, state().catalog
    try:
        view = review.part_view(db, catalog, submission_id, exercise_id, part_id)
    except ReviewError as exc:
        raise ApiError(exc.status, str(exc)) from None
    waiting = review.queue(db, catalog)
    refs = [item.ref for item in waiting]
    error, status = None, 200
    score_text = request.form.get("score", "").strip()
    comment = request.form.get("comment", "")
    if request.method == "POST":
        try:
            score = _score(score_text, view.points)
            reviews.record(
                db, submission_id, exercise_id, part_id, by=who.student, score=score, comment=comment.strip()
            )
        except ReviewError as exc:
            error, status = str(exc), 400
        else:
            flash(
                f"Saved {view.student}'s {view.exercise}/{view.part}: {shown_number(score)} / {shown_number(view.points)}."
            )
            return redirect(_after_saving(view.ref, refs, submission_id), code=303)
    position = refs.index(view.ref) if view.ref in refs else None
    previous, following = _neighbours(view.ref, refs, position)
    shown_score = score_text if request.method == "POST" else shown_number(view.shown.score) if not view.waiting else ""
    if request.method != "POST":
        last = next((r for r in reversed(view.reviews) if r.action == "score"), None)
        comment = last.comment if last is not None else ""
    page = render_template(
        "review_part.html",
        who=who,
        view=view,
        error=error,
        score=shown_score,
        comment=comment,
        position=position,
        total=len(refs),
        previous=previous,
        following=following,
    )
    return page, status


def _score(text: str, points: float) -> float:
    """The score typed in the form (``1.5`` or ``1,5``), from 0 to the part's points; ReviewError otherwise."""
    if not text:
        raise ReviewError(f"give a score from 0 to {shown_number(points)}")
    try:
        value = float(text.replace(",", ".").replace("−", "-"))
    except ValueError:
        raise ReviewError(f"the score must be a number from 0 to {shown_number(points)}, not {text[:20]!r}") from None
    if not math.isfinite(value) or not 0 <= value <= points:
        raise ReviewError(f"the score must be from 0 to {shown_number(points)}")
    return value


def _neighbours(ref: str, refs: list[str], position: int | None) -> tuple[str | None, str | None]:
    """The waiting parts before and after this one (after a part not in the queue: the first waiting one)."""
    if position is None:
        return None, refs[0] if refs else None
    previous = refs[position - 1] if position > 0 else None
    following = refs[position + 1] if position + 1 < len(refs) else None
    return previous, following


def _after_saving(ref: str, refs: list[str], submission_id: str) -> str:
    """Where a save leads: the next waiting part after this one (the queue when none is left); a part that was
    not waiting (an override of an automatic score) leads back to its submission."""
    if ref not in refs:
        return url_for("review.submission", submission_id=submission_id)
    after = refs[refs.index(ref) + 1 :] + refs[: refs.index(ref)]
    if not after:
        return url_for("review.queue")
    return url_for("review.part", **_ref_args(after[0]))


@bp.app_template_global("review_url")
def review_url(ref: str) -> str:
    """The review page of ``<submission>/<exercise>/<part>``."""
    return url_for("review.part", **_ref_args(ref))


def _ref_args(ref: str) -> dict[str, str]:
    submission_id, exercise_id, part_id = ref.split("/")
    return {"submission_id": submission_id, "exercise_id": exercise_id, "part_id": part_id}
