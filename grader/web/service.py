"""What the API and the pages both do: read a submission, check who may send it, grade, store, queue.

Every function raises :class:`~grader.web.errors.ApiError` for a request that
cannot be served (400 malformed, 401/403 not allowed, 404 unknown, 415 wrong
type), so that both faces answer the same way.
"""

from __future__ import annotations

import contextlib
import logging
import time
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import orjson
from flask import current_app, g, request

from grader import budget
from grader.contract import Result, Submission, whole_number
from grader.grading import SubmissionError, grade_checked, validate_submission
from grader.notebooks.intake import Place, take
from grader.store import gradebook as book
from grader.store import submissions
from grader.store.users import Principal
from grader.students import ID_RULE, is_student_id
from grader.web import handins
from grader.web.auth import caller_key, is_open, submitter
from grader.web.errors import ApiError, too_many, unavailable
from grader.web.state import state

log = logging.getLogger(__name__)

NOTEBOOK_FIELDS = ("notebook", "file")
# A submission needs six levels (object, answers, exercise, part, a matrix, its rows); the store's JSON
# encoder refuses more than 255, so anything deeper than this is refused before grading.
MAX_JSON_DEPTH = 32
# Typed answers to every exercise take a few KB; a larger JSON body only costs parsing, storing and checking.
MAX_JSON_BYTES = 256 * 1024


@dataclass(frozen=True)
class Outcome:
    """A graded and stored submission."""

    submission_id: str
    result: Result
    document: dict[str, Any]  # ``result.to_json()``, as stored
    admission: handins.Admission | None = None  # what the hand-in meant under its assignment's rules


def json_body() -> Any:
    """The request's JSON body: 415 unless it is JSON, 413 beyond MAX_JSON_BYTES, 400 unless it parses and is at
    most MAX_JSON_DEPTH deep."""
    if request.mimetype != "application/json":
        raise ApiError(415, "send the submission as JSON (Content-Type: application/json)")
    request.max_content_length = min(request.max_content_length or MAX_JSON_BYTES, MAX_JSON_BYTES)  # 413 beyond
    data = request.get_data(cache=True)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON ({exc.msg} at character {exc.pos})") from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise ApiError(400, f"the body is nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels (checked without recursion)."""
    if not isinstance(value, dict | list):
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


@dataclass(frozen=True)
class Turn:
    """A request let through: whose buckets it counts against, this thread's CPU seconds when it started, and the
    account that collects the CPU worker processes (sympy) spend for it."""

    key: str
    verified: bool
    cpu_start: float
    account: budget.Account


def take_turn(principal: Principal | None) -> None:
    """Let a request through, or answer 429 with ``Retry-After``: the caller (see
    :func:`grader.web.auth.caller_key`) needs a token in its request bucket and some CPU time left in its share.

    The CPU time the request then uses, parsing, checking, storing and
    answering, and the CPU time the sympy workers spend comparing its formulas
    (:mod:`grader.checking.symbolic`, which also runs them under the caller's
    name so that no caller holds every worker), is taken from the share when it
    ends (:func:`end_turn`). Each
    answer's checking is bounded (:mod:`grader.budget`); the share bounds how
    often a caller may spend it, so that a few callers sending the dearest
    answers non-stop wait their turn instead of filling every worker. The API,
    the answer form and the notebook upload page all take from the same
    buckets, so a user has one budget whichever way they come in. Staff have no CPU share.
    """
    key, verified = caller_key(principal)
    wait = state().limiter.check(key, verified=verified)
    if wait:
        raise too_many("too many requests", wait)
    if principal is not None and principal.is_staff:
        _open_account(key)  # staff export gradebooks and grade for others: no share, as no storage quota
        return
    wait = state().cpu_limiter.check(key, verified=verified, cost=0)
    if wait:
        raise too_many("your recent requests used up your share of the server's checking time", wait)
    g.grader_turn = Turn(key, verified, time.thread_time(), _open_account(key))


def _open_account(key: str) -> budget.Account:
    account, token = budget.open_account(key)
    g.grader_account = token
    return account


def end_turn(_error: BaseException | None = None) -> None:
    """Take the CPU milliseconds the request used, in its thread and in the sympy workers, from its caller's share
    (run when every request ends)."""
    token = g.pop("grader_account", None)
    if token is not None:
        budget.close_account(token)
    turn = g.pop("grader_turn", None)
    if turn is not None:
        used_ms = (time.thread_time() - turn.cpu_start + turn.account.worker_seconds) * 1000
        state().cpu_limiter.charge(turn.key, used_ms, verified=turn.verified)


def exercise_summary(exercise: Any) -> dict[str, Any]:
    return {
        "id": exercise.id,
        "title": exercise.title,
        "kind": exercise.kind,
        "max_score": whole_number(exercise.max_score),
        "parts": [{"id": p.id, "type": p.kind, "points": whole_number(p.points)} for p in exercise.parts],
    }


def prompt(catalog: Any, exercise_id: str, student: str | None) -> dict[str, Any]:
    """An exercise as ``student`` sees it (prompt and numbers, never answers); 404 if unknown."""
    exercise = catalog.exercises.get(exercise_id)
    if exercise is None:
        raise ApiError(404, f"there is no exercise {exercise_id!r}")
    shown = catalog.prompt(exercise, catalog.variant(exercise, student))
    shown["student"] = student
    return shown


def _checked(submission: Any, principal: Principal | None) -> tuple[dict[str, Any], Submission]:
    """The submission with its student filled in, and its checked form; 400 if malformed, 401/403 if not allowed."""
    if principal is None and not is_open():
        raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
    if not isinstance(submission, dict):
        raise ApiError(
            400,
            "the submission must be a JSON object with 'student' and 'answers'",
            error="invalid_submission",
        )
    if "student" not in submission and principal is not None and not principal.is_staff:
        submission = {**submission, "student": principal.student}
    try:
        checked = validate_submission(submission, state().catalog)
    except SubmissionError as exc:
        raise ApiError(400, str(exc), error="invalid_submission") from None
    submitter(principal, checked.student)
    return submission, checked


def grade_and_store(submission: Any, principal: Principal | None) -> Outcome:
    """Grade a submission at once and store it with its part results."""
    body, checked = _checked(submission, principal)
    admission = handins.admit(checked.student, handins.answered(checked, state().catalog), principal)
    result = budget.yielding(grade_checked, checked, state().catalog)  # a dear one gives way to other requests
    document = result.to_json()
    with within_quota(), handins.within_attempts():
        submission_id = submissions.store_graded(
            state().db,
            checked.student,
            result,
            orjson.dumps(body),
            handin=admission.record,
            submitted_by=principal.student if principal else None,
            assignment=checked.assignment,
            quota=quota_of(principal),
            document=document,
        )
    return Outcome(submission_id, result, document, admission)


def queue_answers(submission: Any, principal: Principal | None) -> str:
    """Store an answers submission as ``queued`` and hand it to the job queue."""
    body, checked = _checked(submission, principal)
    admission = handins.admit(checked.student, handins.answered(checked, state().catalog), principal)
    with within_quota(), handins.within_attempts():
        submission_id = submissions.create_queued(
            state().db,
            checked.student,
            "answers",
            orjson.dumps(body),
            handin=admission.record,
            assignment=body.get("assignment"),
            submitted_by=principal.student if principal else None,
            quota=quota_of(principal),
            max_waiting=waiting_limit_of(principal),
        )
    _enqueue(submission_id, checked.student)
    return submission_id


def queue_notebook(files: Mapping[str, Any], form: Mapping[str, str], principal: Principal | None) -> str:
    """Store an uploaded notebook as ``queued`` and hand it to the job queue.

    The upload is the file field ``notebook`` (or ``file``), a ``.ipynb`` that
    parses as a notebook; optional form fields ``assignment`` and ``student``.
    The student is the token's own (a student token), else ``student``, else
    as the intake decides for any notebook (:func:`grader.notebooks.intake.identify`:
    an LMS file name, the notebook's metadata, the file name's stem).
    """
    upload = next((files[name] for name in NOTEBOOK_FIELDS if name in files), None)
    if upload is None:
        raise ApiError(400, "attach the notebook as the form field 'notebook'")
    filename = upload_name(upload.filename)
    if not filename.lower().endswith(".ipynb"):
        raise ApiError(415, "upload a Jupyter notebook (a .ipynb file)")
    data = upload.read()
    _parse_notebook(data)
    catalog = state().catalog
    assignment = (form.get("assignment") or "").strip() or None
    if assignment is not None and assignment not in catalog.assignments:
        raise ApiError(400, f"there is no assignment {assignment!r}")
    wanted = (form.get("student") or "").strip() or None
    if wanted is not None and not is_student_id(wanted):
        raise ApiError(400, f"the form field 'student' must be a student id: {ID_RULE}")
    owner = take(Place(Path(filename)), catalog, assignment, submitter(principal, wanted), data=data).owner
    student, assignment = owner.student, owner.assignment if owner.assignment in catalog.assignments else None
    admission = handins.admit(student, handins.of_assignment(catalog, assignment), principal)
    with within_quota(), handins.within_attempts():
        submission_id = submissions.create_queued(
            state().db,
            student,
            "notebook",
            data,
            handin=admission.record,
            filename=filename,
            assignment=assignment,
            submitted_by=principal.student if principal else None,
            quota=quota_of(principal),
            max_waiting=waiting_limit_of(principal),
        )
    _enqueue(submission_id, student)
    return submission_id


def quota_of(principal: Principal | None) -> int | None:
    """The storage quota that applies to what ``principal`` sends: ``STORAGE_QUOTA`` bytes, none for staff (or 0)."""
    quota = int(current_app.config.get("STORAGE_QUOTA") or 0)
    return None if quota <= 0 or (principal is not None and principal.is_staff) else quota


WAITING_RETRY_SECONDS = 10  # a notebook is graded in about a second; a few queued ones take seconds


def waiting_limit_of(principal: Principal | None) -> int | None:
    """How many submissions a student may have waiting at once (``MAX_WAITING_PER_STUDENT``); none for staff (or 0)."""
    limit = int(current_app.config.get("MAX_WAITING_PER_STUDENT") or 0)
    return None if limit <= 0 or (principal is not None and principal.is_staff) else limit


@contextlib.contextmanager
def within_quota() -> Iterator[None]:
    """A submission past its student's storage quota is a 413 that says how much is stored (nothing is written);
    one past the submissions a student may have waiting is a 429 (nothing is written either)."""
    try:
        yield
    except submissions.TooManyWaiting as exc:
        raise too_many(
            f"{exc}: send this one again once one of them is graded",
            WAITING_RETRY_SECONDS,
            then=None,
            error="too_many_waiting",
        ) from None
    except submissions.QuotaExceeded as exc:
        raise ApiError(
            413,
            f"{exc}, so it was not stored; ask your TA if you need more room",
            error="quota_exceeded",
        ) from None


def upload_name(raw: str | None) -> str:
    """The uploaded file's name as a label, never a path: its last component (``/`` or ``\\``), without
    control or format characters (NUL, terminal escapes, bidi overrides), at most 255 characters.

    It is stored and shown, and its stem may name the student; nothing is ever written under it.
    """
    last = PurePath((raw or "").replace("\\", "/")).name
    cleaned = "".join("_" if unicodedata.category(c)[0] == "C" else c for c in last).strip()
    return cleaned[-255:] if cleaned.strip(". ") else "notebook.ipynb"


def _parse_notebook(data: bytes) -> dict[str, Any]:
    try:
        notebook = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ApiError(400, "the file is not a Jupyter notebook (it is not JSON)") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ApiError(400, "the file is not a Jupyter notebook (it has no list of cells)")
    return notebook


def _enqueue(submission_id: str, student: str) -> None:
    """Hand a stored submission to the job queue; if the queue does not answer, unstore it and answer 503.

    The client is told to send it again, so the row must not stay behind (it
    would never be graded, or be graded twice once the client retries).
    """
    try:
        state().jobs.submit(submission_id, student)
    except Exception as exc:
        log.warning("could not queue submission %s: %s", submission_id, exc)
        try:
            submissions.discard(state().db, submission_id)
        except Exception:  # the database went away too: the row stays queued for recovery (GRADER_RECOVER_JOBS)
            log.exception("could not remove the unqueued submission %s", submission_id)
        raise unavailable("the grading queue does not answer, so the submission was not accepted") from exc


def analytics(exercise_id: str, attempt: str = book.DEFAULT_ATTEMPT) -> dict[str, Any]:
    """Class statistics of one exercise over each student's ``attempt`` (best or latest, as the gradebook counts),
    with its title and part prompts; 404 if unknown."""
    catalog = state().catalog
    exercise = catalog.exercises.get(exercise_id)
    if exercise is None:
        raise ApiError(404, f"there is no exercise {exercise_id!r}")
    stats = book.analytics(state().db, exercise_id, attempt=attempt)
    stats["title"] = exercise.title
    order = {p.id: i for i, p in enumerate(exercise.parts)}
    stats["parts"].sort(key=lambda p: order.get(p["id"], len(order)))
    return stats
