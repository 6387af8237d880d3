"""Cross-site request forgery: the pages' forms carry a token, and a post from another site is refused.

Two checks on every POST (and PUT, PATCH, DELETE) to a page, login and logout included:

1. ``Origin``: when the browser sends one, it must name this site (the request's
   own host) or one of ``TRUSTED_ORIGINS`` (``GRADER_TRUSTED_ORIGINS``, for a
   proxy that rewrites ``Host``); anything else, ``null`` included, is a 403.
   Our pages send ``Referrer-Policy: same-origin``, under which browsers name
   the origin of a same-site post (under ``no-referrer`` they send ``null``).
2. A token: Flask-WTF's :class:`~flask_wtf.csrf.CSRFProtect` wants the form
   field ``csrf_token`` (or an ``X-CSRFToken`` header) signed for the
   visitor's session; templates put ``{{ csrf_token() }}`` in every form. It
   is valid as long as the browser session (``WTF_CSRF_TIME_LIMIT`` is
   None), so an answer typed over an hour is not refused for its age. A
   missing or wrong token is a 400 ``csrf_failed``.

A cross-site page can therefore neither log a visitor in under the
attacker's token, nor log them out, nor post answers in their name. The JSON
API (blueprint ``api``) is exempt from both: it reads only an
``Authorization: Bearer`` header, which a cross-site page cannot make a
browser send; the login cookie is never accepted there.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect

from grader.web.errors import ApiError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXEMPT_BLUEPRINTS = frozenset({"api"})

csrf = CSRFProtect()


def protect(app: Flask) -> None:
    """Install the Origin check and Flask-WTF's token check on ``app`` (call it after registering blueprints)."""
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Flask-WTF's HTTPS Referer check is replaced by the Origin check, which does not depend on a Referer.
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    # The session cookie holds only the token's secret. Lax, not Strict: a student who follows a link from
    # the course site keeps the session (and so the tokens of the pages open in other tabs).
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SECURE"] = bool(
        app.config.get("SESSION_COOKIE_SECURE") or app.config.get("COOKIE_SECURE")
    )
    app.before_request(_same_origin)  # before Flask-WTF's check, so a cross-site post is named as such
    csrf.init_app(app)
    for blueprint in app.blueprints.values():
        if blueprint.name in EXEMPT_BLUEPRINTS:
            csrf.exempt(blueprint)


def _same_origin() -> None:
    """A 403 for an unsafe request to a page whose ``Origin`` header names another site."""
    if request.method in SAFE_METHODS or request.blueprint in EXEMPT_BLUEPRINTS:
        return
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not sent by every client; the token still has to be right
    if not _trusted(origin):
        raise ApiError(
            403,
            "this form was sent from another site; open the page on this site and send it from there",
            error="cross_site_request",
        )


def _trusted(origin: str) -> bool:
    trusted = {o.strip().rstrip("/").lower() for o in current_app.config.get("TRUSTED_ORIGINS") or ()}
    if origin.rstrip("/").lower() in trusted:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()
