"""The web service: ``create_app(config)`` builds the Flask application.

One blueprint per concern: ``api`` (JSON API, :mod:`grader.web.api`),
``pages`` (server-rendered pages, :mod:`grader.web.pages`) and ``auth``
(login and logout, :mod:`grader.web.auth`). Settings come from the
environment (:mod:`grader.web.config`), overridden by ``config``. At start the
database schema is brought up to date (Alembic ``upgrade head``), the exercise
catalog is loaded (and reloaded when a spec file changes and validates, see
:mod:`grader.web.reload`), and the job queue is made (a local thread pool, or
Celery when ``GRADER_BROKER`` is set).
"""

from __future__ import annotations

import atexit
import logging
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from grader.web import config as settings

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """A configured application; ``config`` overrides the environment (see :mod:`grader.web.config`)."""
    from grader.jobs import charging, make_queue
    from grader.specs.model import course_secret, load_catalog
    from grader.store.db import Database
    from grader.web import api, auth, csrf, errors, pages, reviewing, service
    from grader.web.jsonio import OrjsonProvider
    from grader.web.ratelimit import FailedLogins, make_limiter
    from grader.web.state import GraderState

    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.session_interface = CookieSessions()
    app.config.update(settings.from_env())
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = course_secret()

    db = app.config.get("DATABASE") or Database(app.config["DATABASE_URL"])
    if app.config.get("MIGRATE", True):
        db.migrate()
    catalog = app.config.get("CATALOG") or load_catalog(app.config.get("EXERCISES"))
    # With a Redis broker the limits live there, shared by every worker process; under grader serve's gunicorn
    # without one, in the memory it mapped before forking the workers (SHARED_LIMITS; see grader.web.ratelimit).
    shared_limits = {
        "redis_url": app.config.get("GRADER_BROKER"),
        "namespace": app.config.get("GRADER_QUEUE"),
        "shared": app.config.get("SHARED_LIMITS"),
    }
    cpu_limiter = make_limiter(
        float(app.config["CPU_SHARE_MS_PER_MINUTE"]),
        float(app.config["CPU_SHARE_BURST_MS"]),
        redis_url=shared_limits["redis_url"],
        namespace=f"{shared_limits['namespace']}:cpu",
        shared=_table(shared_limits, "cpu"),
    )
    jobs = app.config.get("JOBS") or make_queue(
        db,
        catalog,
        broker=app.config.get("GRADER_BROKER"),
        queue=app.config.get("GRADER_QUEUE"),
        workers=int(app.config["JOB_WORKERS"]),
        notebook_grader=app.config.get("NOTEBOOK_GRADER"),
        max_attempts=int(app.config["MAX_ATTEMPTS"]),
        charge=charging(cpu_limiter),  # a queued submission's grading is taken from its student's CPU share
    )
    app.extensions["grader"] = GraderState(
        db=db,
        catalog=catalog,
        jobs=jobs,
        limiter=make_limiter(
            float(app.config["RATE_LIMIT_PER_MINUTE"]),
            float(app.config["RATE_LIMIT_BURST"]),
            redis_url=shared_limits["redis_url"],
            namespace=shared_limits["namespace"],
            shared=_table(shared_limits, "requests"),
        ),
        cpu_limiter=cpu_limiter,
        login_failures=FailedLogins(
            per_token=_login_limiter(app.config["LOGIN_FAILURES_PER_TOKEN"], "login-token", shared_limits),
            per_address=_login_limiter(app.config["LOGIN_FAILURES_PER_ADDRESS"], "login-address", shared_limits),
        ),
        auth_cache_seconds=float(app.config["AUTH_CACHE_SECONDS"]),
    )
    if not app.config.get("CATALOG") and float(app.config.get("SPEC_RELOAD_SECONDS") or 0) > 0:
        from grader.web.reload import SpecReloader

        reloader = SpecReloader(app.extensions["grader"], app.config.get("EXERCISES"), jobs=jobs)
        reloader.start(float(app.config["SPEC_RELOAD_SECONDS"]))
        app.extensions["grader.reloader"] = reloader
    if app.config.get("RECOVER_JOBS") and hasattr(jobs, "recover"):
        jobs.recover()
    if not app.config.get("JOBS"):
        # At exit (a gunicorn worker stopping): jobs not started stay queued for recovery; running ones finish.
        atexit.register(jobs.shutdown, False, True)

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:  # behind N reverse proxies: the client is the address the last N of them name
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    _warm_up(catalog)
    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(reviewing.bp)
    csrf.protect(app)
    app.before_request(_uncompressed_bodies_only)
    app.after_request(_security_headers)
    app.teardown_request(service.end_turn)
    return app


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions (they hold the pages' CSRF secret), except that a request without the
    cookie, as every API call is, gets its empty session without a signing serializer being built for it."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _login_limiter(per_minute: Any, name: str, shared: dict[str, Any]) -> Any:
    """A bucket per key holding ``per_minute`` failed logins, refilled at that rate (shared in Redis with a broker)."""
    from grader.web.ratelimit import make_limiter

    limit = float(per_minute or 0)
    return make_limiter(
        limit,
        limit,
        redis_url=shared["redis_url"],
        namespace=f"{shared['namespace']}:{name}",
        shared=_table(shared, name),
    )


def _table(shared: dict[str, Any], name: str) -> Any:
    """The shared-memory table of one limit, when the server mapped them (``SHARED_LIMITS``), else None."""
    return shared["shared"].table(name) if shared.get("shared") is not None else None


def _warm_up(catalog: Any) -> None:
    """Do now what the first request of each process would otherwise pay (about a second of CPU): derive every
    exercise's reference answers for the default variant, which imports and primes sympy, and import matplotlib's
    SVG backend. That first request would keep its student waiting and be charged to their CPU share."""
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401

    for exercise in catalog.exercises.values():
        try:
            catalog.keys(exercise, catalog.variant(exercise, None))
        except Exception:  # a spec that cannot be derived fails in its own requests, with its own message
            log.warning("could not derive the reference answers of %s ahead of requests", exercise.id)


def _uncompressed_bodies_only() -> None:
    """A request body with a Content-Encoding (gzip, deflate, br, …) is refused with a 415, never inflated.

    Nothing in the service decompresses anything a client sends, so no
    compression bomb can reach it; the size limit applies to the bytes sent.
    """
    from flask import request

    from grader.web.errors import ApiError

    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise ApiError(415, "compressed request bodies are not accepted: send the body without a Content-Encoding")


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def _security_headers(response: Response) -> Response:
    """No framing, no sniffing, scripts and styles only from this site."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin, not no-referrer: under no-referrer browsers send "Origin: null" even on our own forms,
    # and the cross-site check (grader.web.csrf) needs to see our origin there.
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cache-Control", "no-store")
    return response
