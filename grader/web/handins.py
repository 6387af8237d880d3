"""The course's rules in the service: who may hand in now, what they see of a result, what is left to them.

For an exercise of an assignment with rules (``course.yaml``; see :mod:`grader.deadlines`):

* :func:`admit` decides, before grading, whether a student's hand-in is taken:
  a 403 with the reason before ``opens``, after the student's hand-ins close
  (``lec4-homework closed on 2026-12-01 23:59 UTC; late hand-ins were accepted
  until …``) or past ``max_attempts``; what it plans to record is checked
  again in the storing transaction (:func:`within_attempts` turns a lost race
  into the same 403). Staff hand in for students without being refused.
* :func:`shown_grade`, :func:`shown_stored` and :func:`shown_history` apply the
  assignment's ``feedback`` to what a *student* sees (staff always see
  everything): ``verdict`` keeps each part's score and status only, ``none``
  keeps nothing until the student's hand-ins close. They also add
  ``attempts: {used, left}`` and what the hand-in's time meant (days late, late
  days spent and left, penalty).
* :func:`exercise_status` is the same for an exercise before handing in (the
  exercise page and ``GET /api/exercises/<id>?student=S``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from grader import deadlines
from grader.contract import ExerciseResult, StoredSubmission, rounded_score
from grader.deadlines import Attempts, Lateness, Ledger, Window
from grader.store import course
from grader.store.users import Principal
from grader.web.errors import ApiError
from grader.web.state import state


@dataclass
class Admission:
    """A hand-in let through: when, what it records, and what it means for each assignment and exercise."""

    student: str
    at: datetime
    planned: course.Planned | None = None
    windows: dict[str, Window] = field(default_factory=dict)
    lateness: dict[str, Lateness] = field(default_factory=dict)
    attempts: dict[str, Attempts] = field(default_factory=dict)  # after this hand-in

    @property
    def record(self) -> Any:
        """The storing transaction's hook (None when no assignment with rules is handed in)."""
        return None if self.planned is None else self.planned.record


def answered(checked: Any, catalog: Any) -> list[str]:
    """The exercises a checked submission hands in: those answered, and all of its assignment's."""
    listed = list(catalog.assignments[checked.assignment].exercises) if checked.assignment else []
    return list(dict.fromkeys([*listed, *checked.answers]))


def of_assignment(catalog: Any, assignment: str | None) -> list[str]:
    """The exercises a notebook of ``assignment`` hands in (none when its assignment is not known)."""
    return list(catalog.assignments[assignment].exercises) if assignment in catalog.assignments else []


def _staff(principal: Principal | None) -> bool:
    return principal is not None and principal.is_staff


def admit(student: str, exercises: Iterable[str], principal: Principal | None) -> Admission:
    """Whether ``student`` may hand in ``exercises`` now (403 with the reason if not), and what it means."""
    catalog = state().catalog
    ruled: dict[str, tuple[Any, list[str]]] = {}
    for exercise in exercises:
        assignment = catalog.rules_for(exercise)
        if assignment is not None:
            ruled.setdefault(assignment.id, (assignment, []))[1].append(exercise)
    at = deadlines.now()
    admission = Admission(student, at)
    if not ruled:
        return admission
    enforce = not _staff(principal)
    standing = course.standing(state().db, catalog, student)
    ledger = Ledger(standing.ledger.bank, dict(standing.ledger.spent))
    limits: dict[str, tuple[str, int]] = {}
    for assignment, listed in ruled.values():
        window = standing.window(assignment)
        reason = deadlines.refusal(window, at)
        if reason and enforce:
            raise ApiError(403, reason, error="closed")
        for exercise in listed:
            used = standing.used.get(exercise, 0)
            reason = deadlines.attempts_refusal(assignment.id, exercise, assignment.rules, used)
            if reason and enforce:
                raise ApiError(403, reason, error="attempts_exhausted")
            admission.attempts[exercise] = deadlines.attempts(assignment.rules, used + 1)
            if enforce and assignment.rules.max_attempts is not None:
                limits[exercise] = (assignment.id, assignment.rules.max_attempts)
        admission.windows[assignment.id] = window
        admission.lateness[assignment.id] = ledger.hand_in(window, at)
    pairs = tuple((a.id, e) for a, listed in ruled.values() for e in listed)
    admission.planned = course.Planned(student, at, pairs, limits)
    return admission


@contextlib.contextmanager
def within_attempts() -> Iterator[None]:
    """A hand-in that lost the race for the last attempt is the same 403 (and nothing was stored)."""
    try:
        yield
    except course.AttemptsExhausted as exc:
        raise ApiError(403, str(exc), error="attempts_exhausted") from None


# What a student sees --------------------------------------------------------------------------------------------


def _modes(student: str, exercise_ids: Iterable[str], at: datetime) -> dict[str, tuple[str, Window]]:
    """exercise → (feedback mode now, window), for the exercises of assignments whose feedback is not full."""
    catalog = state().catalog
    found: dict[str, Any] = {}
    for exercise in exercise_ids:
        assignment = catalog.rules_for(exercise)
        if assignment is not None and assignment.rules.feedback != "full":
            found[exercise] = assignment
    if not found:
        return {}
    extensions = course.extensions_of(state().db, student)
    modes = {}
    for exercise, assignment in found.items():
        window = deadlines.window(assignment, extensions.get(assignment.id, 0))
        modes[exercise] = (deadlines.feedback_mode(window, at), window)
    return modes


def shown_result(data: Mapping[str, Any], student: str, principal: Principal | None) -> dict[str, Any]:
    """A result document as ``principal`` may see it now: per exercise ``full``, ``verdict`` or withheld.

    A withheld exercise keeps its id, its parts' ids and a ``withheld`` sentence; the total then counts only
    the exercises shown, and ``withheld`` lists the others.
    """
    shown = dict(data)
    exercises = data.get("exercises")
    if _staff(principal) or not isinstance(exercises, list):
        return shown
    modes = _modes(student, [str(e.get("id")) for e in exercises if isinstance(e, Mapping)], deadlines.now())
    if not modes:
        return shown
    kept, hidden = [], []
    for exercise in exercises:
        mode, window = modes.get(str(exercise.get("id")) if isinstance(exercise, Mapping) else "", ("full", None))
        if mode == "full" or window is None:
            kept.append(exercise)
        elif mode == "verdict":
            kept.append({**exercise, "parts": [deadlines.verdict_part(p) for p in exercise.get("parts") or []]})
        else:
            hidden.append(
                {
                    "id": exercise.get("id"),
                    "withheld": deadlines.withheld_sentence(window),
                    "parts": [{"id": p.get("id")} for p in exercise.get("parts") or [] if isinstance(p, Mapping)],
                }
            )
    shown["exercises"] = kept + hidden
    if hidden:
        shown["score"] = rounded_score(sum(float(e.get("score") or 0) for e in kept))
        shown["max_score"] = rounded_score(sum(float(e.get("max_score") or 0) for e in kept))
        shown["withheld"] = [e["id"] for e in hidden]
    limited = hidden or any(mode == "verdict" for mode, _ in modes.values())
    shown["feedback_mode"] = "none" if not kept else "verdict" if limited else "full"
    return shown


def shown_grade(body: dict[str, Any], admission: Admission | None, principal: Principal | None) -> dict[str, Any]:
    """``POST /api/grade``'s answer as the caller may see it, with ``attempts`` (per exercise) and ``handins``."""
    shown = shown_result(body, str(body.get("student", "")), principal)
    if admission is None or not admission.windows:
        return shown
    for exercise in shown.get("exercises") or []:
        counted = admission.attempts.get(str(exercise.get("id")))
        if counted is not None:
            exercise["attempts"] = counted.to_json()
    shown["handins"] = [
        {
            "assignment": name,
            "handed_in_at": admission.at.isoformat(),
            "due": None if window.due is None else window.due.isoformat(),
            "late_until": None if window.until is None else window.until.isoformat(),
            "extension_days": window.extension_days,
            **admission.lateness[name].to_json(),
            "message": admission.lateness[name].sentence(name),
        }
        for name, window in admission.windows.items()
    ]
    return shown


def shown_stored(stored: StoredSubmission, principal: Principal | None) -> StoredSubmission:
    """A stored submission as ``principal`` may see it: its result through the feedback rules (a student's
    result withheld entirely has ``result`` and ``score`` null until their hand-ins close)."""
    if _staff(principal) or not isinstance(stored.result, Mapping):
        return stored
    shown = shown_result(stored.result, stored.student, principal)
    if shown.get("feedback_mode") in (None, "full"):
        return stored
    if shown["feedback_mode"] == "none":
        return replace(stored, result=None, score=None, max_score=None)
    return replace(stored, result=shown, score=shown.get("score"), max_score=shown.get("max_score"))


def shown_history(rows: list[StoredSubmission], principal: Principal | None) -> list[StoredSubmission]:
    """A student's history as they may see it: no score of a submission whose feedback is withheld."""
    if _staff(principal) or not rows or not state().catalog.ruled:
        return rows
    catalog = state().catalog
    student = rows[0].student
    modes = _modes(student, list(catalog.ruled), deadlines.now())
    hidden = {window.assignment for mode, window in modes.values() if mode == "none"}
    if not hidden:
        return rows
    withheld_ids = course.submissions_handing_in(state().db, [r.id for r in rows], hidden)
    return [replace(r, score=None, max_score=None) if r.id in withheld_ids else r for r in rows]


# Before handing in -----------------------------------------------------------------------------------------------


def exercise_status(exercise_id: str, student: str | None, principal: Principal | None) -> dict[str, Any] | None:
    """An exercise's rules for ``student`` now: due date (with their extension), what handing in now would mean,
    attempts used and left, the feedback they will see. None when its assignment has no rules."""
    catalog = state().catalog
    assignment = catalog.rules_for(exercise_id)
    if assignment is None:
        return None
    rules = assignment.rules
    status: dict[str, Any] = {"assignment": assignment.id, "rules": rules.to_json()}
    if not student:
        return status
    at = deadlines.now()
    standing = course.standing(state().db, catalog, student)
    window = standing.window(assignment)
    counted = standing.attempts(exercise_id)
    refusal = deadlines.refusal(window, at)
    if refusal is None and counted is not None and counted.left == 0:
        refusal = deadlines.attempts_refusal(assignment.id, exercise_id, rules, counted.used)
    preview = standing.ledger.preview(window, at)
    status.update(
        {
            "due": None if window.due is None else window.due.isoformat(),
            "due_shown": window.due_sentence(),
            "late_until": None if window.until is None else window.until.isoformat(),
            "late_until_shown": None if window.until is None else deadlines.shown_time(window.until),
            "extension_days": window.extension_days,
            "open": refusal is None,
            "refusal": refusal,
            "attempts": None if counted is None else counted.to_json(),
            "late_days": {
                "bank": catalog.late_days,
                "left": standing.ledger.left,
                "spent": dict(standing.ledger.spent),
            },
            "if_handed_in_now": {**preview.to_json(), "message": preview.sentence(assignment.id, before=True)},
            "feedback": "full" if _staff(principal) else deadlines.feedback_mode(window, at),  # what the caller sees
        }
    )
    return status


def page_result(outcome: Any, principal: Principal | None) -> tuple[ExerciseResult | None, str | None, bool]:
    """The exercise page's result after a check: (what to show, the withheld sentence, whether shown in full)."""
    result = outcome.result.exercises[0]
    data = shown_result(outcome.result.to_json(), outcome.result.student, principal)
    mode = data.get("feedback_mode", "full")
    if mode == "full":
        return result, None, True
    exercise = data["exercises"][0]
    if "withheld" in exercise:
        return None, exercise["withheld"], False
    return ExerciseResult.from_json(exercise), None, False


# The instructor's page of extensions ----------------------------------------------------------------------------


def extensions_page(who: Principal, posted: bool) -> tuple[str, int]:
    """``/instructor/extensions``: the extensions in force and their history; a post (an instructor's) sets,
    removes or imports them, and the page says what was done or why not."""
    from flask import render_template, request

    catalog, db = state().catalog, state().db
    message, error, status = None, None, 200
    if posted:
        try:
            message = _change_extensions(who, request.form, request.files)
        except course.ExtensionError as exc:
            error, status = str(exc), 400
        except ApiError as exc:
            error, status = str(exc.detail), exc.status
    page = render_template(
        "extensions.html",
        who=who,
        assignments=[a for a in catalog.assignments.values() if a.rules.due is not None],
        extensions=course.list_extensions(db),
        changes=course.extension_changes(db, limit=200),
        late_days=catalog.late_days,
        message=message,
        error=error,
        may_change=who.role == "instructor",
    )
    return page, status


def _change_extensions(who: Principal, form: Mapping[str, str], files: Mapping[str, Any]) -> str:
    if who.role != "instructor":
        raise ApiError(403, "only an instructor may change extensions")
    catalog, db = state().catalog, state().db
    action = form.get("action", "")
    student, assignment = (form.get("student") or "").strip(), (form.get("assignment") or "").strip()
    if action == "set":
        raw = (form.get("days") or "").strip()
        try:
            days = int(raw)
        except ValueError:
            raise course.ExtensionError(f"days must be a whole number, not {raw[:20]!r}") from None
        row = course.set_extension(
            db, catalog, student, assignment, days, by=who.student, reason=form.get("reason") or None, source="page"
        )
        window = deadlines.window(catalog.assignments[assignment], row.days)
        return (
            f"{student} has {row.days} more day{'' if row.days == 1 else 's'} on {assignment}: {window.due_sentence()}."
        )
    if action == "remove":
        if not course.remove_extension(db, student, assignment, by=who.student, source="page"):
            raise course.ExtensionError(f"{student[:60]} has no extension on {assignment[:64]}")
        return f"{student}'s extension on {assignment} is removed."
    if action == "import":
        upload = files.get("file")
        if upload is None or not upload.filename:
            raise course.ExtensionError("choose a CSV file with the columns student,assignment,days (and reason)")
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise course.ExtensionError("the file is not UTF-8 text (save the CSV as UTF-8)") from None
        count = course.import_extensions(db, catalog, course.read_extensions_csv(text, catalog), by=who.student)
        return f"{count} extension{'' if count == 1 else 's'} imported."
    raise course.ExtensionError("the form's action must be set, remove or import")


def late() -> course.LateBook | None:
    """The class's late hand-ins under today's rules, for the gradebook (:func:`grader.store.gradebook.gradebook`);
    None when no assignment has a due date (the gradebook is then as it always was)."""
    catalog = state().catalog
    if not any(a.rules.due is not None for a in catalog.assignments.values()):
        return None
    return course.late_book(state().db, catalog)
