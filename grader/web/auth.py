"""Who is asking, and may they: bearer tokens for the API, a cookie for the pages.

The API reads ``Authorization: Bearer <token>``; the pages read the token from
the ``grader_token`` cookie (HttpOnly, SameSite=Strict) that the login form
sets. Rules: a student token acts only for its own student id; TA and
instructor tokens read everything (gradebook, analytics, any submission);
with ``GRADER_OPEN=1`` anonymous visitors may grade (a demo), nothing more.
Nobody gets reference answers over HTTP: no route returns them.

The ``auth`` blueprint serves ``/login`` and ``/logout``; both posts need the
form's CSRF token and this site's ``Origin`` (:mod:`grader.web.csrf`), so no
other site can log a visitor in under its own token, or out.

A login is the login form's post, or an API request with a bearer token. Only
the ones that fail are counted (:func:`failed_login`), per token tried and per
client address (``LOGIN_FAILURES_PER_TOKEN``, ``LOGIN_FAILURES_PER_ADDRESS``):
past either limit a failed login is a 429 with ``Retry-After`` instead of a
401. A valid token is let in whatever others at the same address did.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from grader.store.users import Principal
from grader.web.errors import ApiError, too_many
from grader.web.state import state

COOKIE = "grader_token"
COOKIE_MAX_AGE = 14 * 24 * 3600

bp = Blueprint("auth", __name__)


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_principal() -> Principal | None:
    """The API caller (None when anonymous); a token that is presented but not valid is a failed login: a 401, or
    a 429 past the failed-login limits."""
    if "principal" in g:
        return g.principal
    if "auth_error" in g:  # looked up and counted once per request
        raise g.auth_error
    token = bearer_token()
    principal = state().principal(token) if token is not None else None
    if token is not None and principal is None:
        g.auth_error = failed_login(token) or ApiError(
            401,
            "the token is not valid (unknown, revoked or expired)",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
        raise g.auth_error
    g.principal = principal
    return principal


def page_principal() -> Principal | None:
    """The visitor of a page, from the login cookie (None when absent or no longer valid)."""
    if "principal" in g:
        return g.principal
    token = request.cookies.get(COOKIE)
    g.principal = state().principal(token) if token else None
    return g.principal


def caller_key(principal: Principal | None) -> tuple[str, bool]:
    """Whom a request counts against for rate limits: ``(key, verified)``.

    A principal (its token or login cookie authenticated) is its user, whichever
    token it used. Anyone else, including a request with a token that does not
    authenticate, is the client's address: an IPv4 address, or the /64 network
    of an IPv6 one (one host usually holds a whole /64). So made-up tokens or
    addresses inside one network never buy a fresh bucket.
    """
    if principal is not None:
        return f"user:{principal.student}", True
    return f"addr:{client_network(request.remote_addr)}", False


def failed_login(token: str) -> ApiError | None:
    """Count a login that failed with ``token`` against the token and the client's address.

    None while both limits allow it (answer 401), else the 429 to answer.
    The token is keyed by a hash of its own (not the stored one), so the
    limiter's keys never match the token table.
    """
    token_key = None
    if token:
        token_key = "token:" + hashlib.sha256(b"failed-login\0" + token.encode("utf-8", "surrogatepass")).hexdigest()
    wait, which = state().login_failures.failed(token_key, f"addr:{client_network(request.remote_addr)}")
    if not wait:
        return None
    if which == "token":
        return too_many("too many failed logins with this token, which is not valid", wait)
    return too_many("too many failed logins from this address", wait, then="check your token and try again")


def client_network(address: str | None) -> str:
    """The address that rate limits count: IPv4 as it is, IPv6 as its /64 network."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def is_open() -> bool:
    return bool(current_app.config.get("GRADER_OPEN"))


def require(principal: Principal | None) -> Principal:
    """A principal, or a 401."""
    if principal is None:
        raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
    return principal


def require_staff(principal: Principal | None) -> Principal:
    """A TA or instructor, else 401 (anonymous) or 403 (a student)."""
    who = require(principal)
    if not who.is_staff:
        raise ApiError(403, "this needs a TA or instructor token")
    return who


def login_required(
    view: Callable[..., Any] | None = None, *, open_mode: bool = False, refusal: str | None = None
) -> Any:
    """A page for logged-in visitors, as in Flask's tutorial: the view is called with ``who``, the visitor (the
    login cookie's :class:`Principal`).

    Anyone else is sent to the login form (303), which leads back here; a
    page's script (``refusal``: the sentence) gets a 401 instead. With
    ``open_mode`` an anonymous visitor passes, as ``who=None``, when the
    service is open (``GRADER_OPEN``): the exercises may be tried without a
    login there.
    """

    def decorate(page: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(page)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            who = page_principal()
            if who is None and not (open_mode and is_open()):
                if refusal is not None:
                    raise ApiError(401, refusal)
                return redirect(url_for("auth.login_form", next=request.full_path.rstrip("?")), code=303)
            return page(*args, who=who, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page for TAs and instructors: :func:`login_required` (also in open mode), and a 403 for a student."""

    @functools.wraps(view)
    def staff_only(*args: Any, who: Principal, **kwargs: Any) -> Any:
        if not who.is_staff:
            raise ApiError(403, "this page is for TAs and instructors")
        return view(*args, who=who, **kwargs)

    return login_required(staff_only)


def may_read(principal: Principal | None, student: str) -> bool:
    """Whether ``principal`` may read ``student``'s results."""
    return principal is not None and (principal.is_staff or principal.student == student)


def submitter(principal: Principal | None, student: str | None) -> str | None:
    """Check who may submit for ``student``; returns the student id to grade as (None: unknown).

    A student token submits only for itself (403 otherwise, and its own id when
    none is given); staff submit for anyone; anonymous only in open mode.
    """
    if principal is None:
        if not is_open():
            raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
        return student
    if principal.is_staff:
        return student
    if student is not None and student != principal.student:
        raise ApiError(403, f"a student token may only submit for its own id ({principal.student})")
    return principal.student


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target:
        return url_for("pages.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.index")
    return target


@bp.get("/login")
def login_form() -> str:
    return render_template("login.html", next=request.args.get("next", ""), error=None)


@bp.post("/login")
def login() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    token = (request.form.get("token") or "").strip()
    principal = state().principal(token) if token else None
    target = request.form.get("next") or ""
    if principal is None:
        refused = failed_login(token)
        if refused is not None:
            message = refused.detail[:1].upper() + refused.detail[1:] + "."
            return render_template("login.html", next=target, error=message), 429, refused.headers
        message = "That token is not valid: check it, or ask your TA for a new one."
        return render_template("login.html", next=target, error=message), 401
    response = redirect(_safe_next(target), code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Strict",
        secure=bool(current_app.config.get("COOKIE_SECURE")),
        path="/",
    )
    return response


@bp.post("/logout")
def logout() -> Response:
    response = redirect(url_for("auth.login_form"), code=303)
    response.delete_cookie(COOKIE, path="/", samesite="Strict", httponly=True)
    return response
