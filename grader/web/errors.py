"""Errors as JSON ``{"error": "<slug>", "detail": <sentence or data>}`` for API clients, as a page for browsers.

Every error answer keeps its status code and chooses its form by content
negotiation (:func:`wants_html`): a client that prefers ``text/html`` to
``application/json`` in its ``Accept`` header (a browser following a link)
gets an HTML page with a title, a language and the same sentence; anything
else (no ``Accept``, ``*/*``, ``application/json``: every API client) gets
the JSON contract.

Handlers are registered for 400, 401, 403, 404, 405, 413, 415 and 429 (and
any other HTTP error). A database that does not answer (connection refused or
lost, pool exhausted, SQLite locked; :func:`grader.store.db.is_unavailable`)
is a 503 ``unavailable`` with ``Retry-After``, as is a job queue that cannot
be reached (:func:`unavailable`); the request's transaction was rolled back, so
nothing of it is stored. Anything else is a bug: it is logged with its
traceback and answered with a 500 whose body says so, without the traceback.
Code raises :class:`ApiError` to answer with a specific code, slug and detail;
every refusal for too much of something is one :func:`too_many`.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from grader.store.db import is_unavailable

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # what a 503 asks the client to wait

SLUGS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
TITLES = {
    400: "The request could not be read",
    401: "Please log in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    413: "Too large",
    415: "Not a format this accepts",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "The service is busy",
}
DETAILS = {
    400: "the request could not be read",
    401: "a valid token is needed: send 'Authorization: Bearer <token>'",
    403: "this token may not do that",
    404: "there is nothing at this address",
    405: "this address does not accept that method",
    413: "the upload is larger than the limit",
    415: "send JSON (application/json) or a notebook as multipart/form-data",
    429: "too many requests: wait a moment",
}


class ApiError(Exception):
    """An error answer: HTTP ``status``, a stable ``error`` slug, a ``detail`` and extra headers."""

    def __init__(
        self,
        status: int,
        detail: Any = None,
        *,
        error: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error or SLUGS.get(status, "error")
        self.detail = DETAILS.get(status) if detail is None else detail
        self.headers = headers or {}


def too_many(reason: str, wait: float, *, then: str | None = "try again", error: str | None = None) -> ApiError:
    """The one 429: the request rate, the CPU share, failed logins and submissions waiting all refuse with it.

    The sentence is ``<reason>: <then> in <N> s`` (``reason`` alone without
    ``then``) and ``Retry-After`` is ``N``: ``wait`` in whole seconds, rounded
    up, at least 1.
    """
    seconds = max(1, math.ceil(wait))
    detail = f"{reason}: {then} in {seconds} s" if then else reason
    return ApiError(429, detail, error=error, headers={"Retry-After": str(seconds)})


def unavailable(what: str, seconds: int = RETRY_AFTER_SECONDS) -> ApiError:
    """A 503 for a service the request needs that does not answer: ``what`` is e.g. ``"the database does not answer"``."""
    return ApiError(503, f"{what}; try again in {seconds} s", headers={"Retry-After": str(seconds)})


def wants_html() -> bool:
    """Whether the client prefers an HTML page to JSON (by the quality values of its ``Accept`` header)."""
    accept = request.accept_mimetypes
    return accept.quality("text/html") > accept.quality("application/json")


def error_response(status: int, error: str, detail: Any, headers: dict[str, str] | None = None) -> Response:
    """The error as JSON ``{"error", "detail"}``, or as a page for a browser; ``status`` and ``headers`` either way."""
    response = _error_page(status, detail) if wants_html() else None
    if response is None:
        response = jsonify({"error": error, "detail": detail})
    response.status_code = status
    response.vary.add("Accept")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _error_page(status: int, detail: Any) -> Response | None:
    """The error page, or None if even it cannot be made (then the JSON answer is sent: never a traceback)."""
    try:
        return _render_error_page(status, detail)
    except Exception:
        log.exception("could not render the error page for a %s", status)
        return None


def _render_error_page(status: int, detail: Any) -> Response:
    sentence = detail if isinstance(detail, str) else DETAILS.get(status, "the request could not be served")
    sentence = sentence.strip().rstrip(".")
    page = render_template(
        "error.html",
        who=g.get("principal"),  # known only if this request looked it up; no database call while failing
        status=status,
        title=TITLES.get(status, "Error"),
        sentence=sentence[:1].upper() + sentence[1:],
    )
    return Response(page, mimetype="text/html")


def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.error, exc.detail, exc.headers)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    detail: Any = DETAILS.get(status) or exc.description
    limit = request.max_content_length  # the app's limit, or a route's own (JSON submissions: MAX_JSON_BYTES)
    if status == 413 and limit:
        detail = f"the request is larger than the limit of {limit / 1024 / 1024:g} MB"
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return error_response(status, SLUGS.get(status, exc.name.lower().replace(" ", "_")), detail, headers)


def _csrf_error(exc: CSRFError) -> Response:
    log.info("form refused: %s", exc.description)
    return error_response(
        400,
        "csrf_failed",
        "the form is missing its security token or it is no longer valid: reload the page and send it again",
    )


def _internal_error(exc: Exception) -> Response:
    if is_unavailable(exc):
        log.warning("the database does not answer: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return _api_error(unavailable("the database does not answer"))
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "the server hit an unexpected error; it has been logged")


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(CSRFError, _csrf_error)
    for status in (400, 401, 403, 404, 405, 413, 415, 429):
        app.register_error_handler(status, _http_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _internal_error)
    app.register_error_handler(Exception, _internal_error)
