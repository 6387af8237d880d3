"""Logins at a campus: many students behind one address, typos, guesses, a stale token, a reverse proxy.

Only failed logins are counted, per token tried and per client address, with the limits the service ships
with (``grader.web.config``); a valid token always gets in. Both ways of logging in are exercised: the login
form (``POST /login``) and a bearer token on the API. Each test runs with the buckets in this process and
with the buckets shared in Redis (127.0.0.1:6379, database 15), as with several gunicorn workers.
"""

from __future__ import annotations

import http.client
import logging
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from test_web_helpers import bearer, make_app
from werkzeug.serving import make_server

from grader.store.db import Database
from grader.store.users import add_user, revoke
from grader.web.config import from_env
from grader.web.ratelimit import RateLimiter, RedisRateLimiter

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

REDIS = "redis://127.0.0.1:6379/15"
CAMPUS = "198.51.100.7"  # the campus NAT: every student's requests come from it
PROXY = "10.0.0.2"  # a reverse proxy in front of the service
DEFAULTS = from_env({})
PER_ADDRESS = int(DEFAULTS["LOGIN_FAILURES_PER_ADDRESS"])
PER_TOKEN = int(DEFAULTS["LOGIN_FAILURES_PER_TOKEN"])


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Settings for the limiters' backend; the Redis keys of a test are removed after it."""
    if request.param == "memory":
        yield {}
        return
    namespace = f"grader-tests-logins-{secrets.token_hex(6)}"
    yield {"GRADER_BROKER": REDIS, "GRADER_QUEUE": namespace}
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def make_campus(sqlite_db: Database, catalog: Any, backend: dict[str, Any]) -> Iterator[Any]:
    """``make_campus(**settings)``: the service with the shipped request and failed-login limits (CPU share off)."""
    apps = []

    def build(**settings: Any) -> Any:
        config = {
            "RATE_LIMIT_PER_MINUTE": DEFAULTS["RATE_LIMIT_PER_MINUTE"],
            "RATE_LIMIT_BURST": DEFAULTS["RATE_LIMIT_BURST"],
            "LOGIN_FAILURES_PER_ADDRESS": PER_ADDRESS,
            "LOGIN_FAILURES_PER_TOKEN": PER_TOKEN,
            **backend,
            **settings,
        }
        app = make_app(sqlite_db, catalog, **config)
        apps.append(app)
        return app

    yield build
    for app in apps:
        if "GRADER_BROKER" not in backend:
            app.extensions["grader"].jobs.shutdown(wait=True)


def from_address(address: str, forwarded_for: str | None = None) -> dict[str, Any]:
    """Request arguments for a client at ``address`` (the peer the server sees), optionally via a proxy header."""
    extra: dict[str, Any] = {"environ_base": {"REMOTE_ADDR": address}}
    if forwarded_for is not None:
        extra["headers"] = {"X-Forwarded-For": forwarded_for}
    return extra


def form_login(client: Any, token: str, address: str, forwarded_for: str | None = None) -> Any:
    """A student pastes ``token`` into the login form and presses Log in."""
    extra = from_address(address, forwarded_for)
    headers = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", **extra.pop("headers", {})}
    return client.post("/login", data={"token": token, "next": "/"}, headers=headers, **extra)


def api_login(client: Any, student: str, token: str, address: str, forwarded_for: str | None = None) -> Any:
    """A student's script reads their own history with ``token``."""
    extra = from_address(address, forwarded_for)
    headers = {**bearer(token), **extra.pop("headers", {})}
    return client.get(f"/api/students/{student}/submissions", headers=headers, **extra)


def logged_client(app: Any, caplog: pytest.LogCaptureFixture, forwarded_for: str) -> str:
    """The client address werkzeug's access log prints for one real HTTP request sent with ``forwarded_for``
    (gunicorn's log reads the same WSGI ``REMOTE_ADDR``)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            caplog.clear()
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            connection.request("GET", "/healthz", headers={"X-Forwarded-For": forwarded_for})
            assert connection.getresponse().status == 200
            connection.close()
            server.shutdown()
            thread.join(30)
    finally:
        server.server_close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug" and "GET /healthz" in r.getMessage()]
    assert len(lines) == 1, lines
    return lines[0].split(" ", 1)[0]


def a_wrong_token() -> str:
    return f"gr_{secrets.token_urlsafe(32)}"


def until_throttled(codes: list[int]) -> int:
    """How many failed logins were answered 401 before the first 429."""
    assert 429 in codes, codes
    first = codes.index(429)
    assert set(codes[:first]) == {401}, codes
    return first


def test_thirty_students_logging_in_from_one_address_all_get_in(make_campus: Any, sqlite_db: Database) -> None:
    """A lecture starts: 30 students behind the campus NAT log in on the page and from their notebooks; every
    fifth one first pastes their token with a character missing (a typo is not a lock-out)."""
    app = make_campus()
    tokens = {f"s{n:03d}": add_user(f"s{n:03d}", db=sqlite_db) for n in range(1, 31)}
    assert len(tokens) == 30 > PER_ADDRESS
    for n, (student, token) in enumerate(tokens.items()):
        browser = app.test_client()  # each student has their own browser
        if n % 5 == 0:
            mistyped = form_login(browser, token[:-1], CAMPUS)
            assert mistyped.status_code == 401
            assert "That token is not valid" in mistyped.get_data(as_text=True)
        page = form_login(browser, token, CAMPUS)
        assert page.status_code == 303, (student, page.status_code)
        assert browser.get_cookie("grader_token").value == token
        assert browser.get("/", **from_address(CAMPUS)).status_code == 200
        assert api_login(app.test_client(), student, token, CAMPUS).status_code == 200, student
    # Everyone logs in once more (a second tab, the notebook re-run): still all in.
    codes = [form_login(app.test_client(), token, CAMPUS).status_code for token in tokens.values()]
    assert codes == [303] * 30


def test_thirty_wrong_tokens_from_one_address_are_throttled_with_a_clear_message(make_campus: Any) -> None:
    """Someone at one address tries 30 made-up tokens on the API, then on the form: after the address's
    allowance every failure is a 429 that says why and when to come back."""
    app = make_campus()
    client = app.test_client()
    answers = [api_login(client, "s001", a_wrong_token(), "203.0.113.9") for _ in range(30)]
    codes = [a.status_code for a in answers]
    assert until_throttled(codes) >= PER_ADDRESS  # refilling while the requests ran can only allow more
    assert codes.count(429) >= 5
    throttled = answers[codes.index(429)]
    assert throttled.mimetype == "application/json"
    assert throttled.json["error"] == "rate_limited"
    detail = throttled.json["detail"]
    assert detail.startswith("too many failed logins from this address") and detail.count(".") == 0
    assert int(throttled.headers["Retry-After"]) >= 1
    assert f"try again in {throttled.headers['Retry-After']} s" in detail
    first = answers[0]
    assert first.status_code == 401 and "not valid" in first.json["detail"]

    pages = [form_login(app.test_client(), a_wrong_token(), "203.0.113.10") for _ in range(30)]
    codes = [p.status_code for p in pages]
    assert until_throttled(codes) >= PER_ADDRESS
    assert codes.count(429) >= 5
    page = pages[codes.index(429)]
    assert page.mimetype == "text/html"  # the login form again, with the reason where the student looks
    html = page.get_data(as_text=True)
    assert '<form method="post"' in html and 'role="alert"' in html
    assert "Too many failed logins from this address: check your token and try again in" in html
    assert int(page.headers["Retry-After"]) >= 1
    assert "grader_token" not in page.headers.get("Set-Cookie", "")


def test_a_classmate_with_a_valid_token_gets_in_after_someone_elses_failed_guesses(
    make_campus: Any, sqlite_db: Database
) -> None:
    """One student guesses tokens until throttled; the classmate at the next desk (same NAT) logs in at once,
    on the form and on the API, and so does the guesser with their real token."""
    app = make_campus()
    guesser, classmate = add_user("s001", db=sqlite_db), add_user("s002", db=sqlite_db)
    codes = [form_login(app.test_client(), a_wrong_token(), CAMPUS).status_code for _ in range(PER_ADDRESS + 10)]
    codes += [api_login(app.test_client(), "s002", a_wrong_token(), CAMPUS).status_code for _ in range(10)]
    assert until_throttled(codes) >= PER_ADDRESS and codes[-1] == 429

    browser = app.test_client()
    assert form_login(browser, classmate, CAMPUS).status_code == 303
    assert browser.get("/submissions", **from_address(CAMPUS)).status_code == 200
    assert api_login(app.test_client(), "s002", classmate, CAMPUS).status_code == 200
    assert form_login(app.test_client(), guesser, CAMPUS).status_code == 303
    assert api_login(app.test_client(), "s001", guesser, CAMPUS).status_code == 200
    # A typo right now is still refused, with the reason: the address has used its failures.
    assert form_login(app.test_client(), classmate[:-1], CAMPUS).status_code == 429


def test_a_revoked_token_retried_by_a_script_is_held_back_wherever_it_runs(
    make_campus: Any, sqlite_db: Database
) -> None:
    """A student's old notebook keeps calling the API with their revoked token from the cluster's many nodes:
    the token's own limit holds it back, and it spends little of any one network's allowance."""
    app = make_campus()
    stale = add_user("s001", db=sqlite_db)
    revoke("s001", db=sqlite_db)
    answers = [api_login(app.test_client(), "s001", stale, f"192.0.2.{n % 4 + 1}") for n in range(30)]
    codes = [a.status_code for a in answers]
    assert until_throttled(codes) >= PER_TOKEN and codes.count(429) >= 5
    assert answers[codes.index(429)].json["detail"].startswith("too many failed logins with this token")
    # Each node's address spent at most a quarter of the token's failures; a typo there is still a 401.
    assert form_login(app.test_client(), a_wrong_token(), "192.0.2.1").status_code == 401
    fresh = add_user("s001", db=sqlite_db)
    assert api_login(app.test_client(), "s001", fresh, "192.0.2.1").status_code == 200


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(
    make_campus: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """With GRADER_TRUSTED_PROXIES=1 the address is the one the proxy puts last in X-Forwarded-For: a guesser
    behind the proxy is throttled, another client behind the same proxy is not, and a client that writes its
    own X-Forwarded-For cannot pass for someone else."""
    app = make_campus(TRUSTED_PROXIES=1)
    guesser, other = "203.0.113.20", "203.0.113.21"
    codes = []
    for n in range(PER_ADDRESS + 10):
        spoofed = f"198.18.{n}.1, {guesser}"  # made up by the client, then the proxy appends what it saw
        codes.append(form_login(app.test_client(), a_wrong_token(), PROXY, forwarded_for=spoofed).status_code)
    assert until_throttled(codes) >= PER_ADDRESS and codes[-1] == 429
    assert api_login(app.test_client(), "s001", a_wrong_token(), PROXY, forwarded_for=guesser).status_code == 429
    # The other client behind the proxy: its failure is its own first one.
    assert form_login(app.test_client(), a_wrong_token(), PROXY, forwarded_for=other).status_code == 401
    assert api_login(app.test_client(), "s001", a_wrong_token(), PROXY, forwarded_for=other).status_code == 401
    # The access log names the client, not the proxy (here the proxy is this machine: 127.0.0.1).
    assert logged_client(app, caplog, forwarded_for=f"198.18.0.9, {other}") == other


def test_without_the_setting_forwarded_headers_are_ignored(make_campus: Any, caplog: pytest.LogCaptureFixture) -> None:
    """By default no X-Forwarded-For is trusted: clients cannot pick their own address, so everyone behind the
    proxy (or anyone writing the header) is counted as the address the server sees."""
    app = make_campus()
    assert app.config["TRUSTED_PROXIES"] == 0
    codes = [
        form_login(app.test_client(), a_wrong_token(), PROXY, forwarded_for=f"203.0.113.{n}").status_code
        for n in range(PER_ADDRESS + 10)
    ]
    assert until_throttled(codes) >= PER_ADDRESS and codes[-1] == 429
    answer = api_login(app.test_client(), "s001", a_wrong_token(), PROXY, forwarded_for="203.0.113.250")
    assert answer.status_code == 429
    assert logged_client(app, caplog, forwarded_for="203.0.113.250") == "127.0.0.1"


def test_the_limits_are_settings_and_live_where_the_backend_says(make_campus: Any, backend: dict[str, Any]) -> None:
    """The environment sets the limits (0 turns one off); with a Redis broker the buckets are in Redis."""
    env = from_env(
        {
            "GRADER_LOGIN_FAILURES_PER_ADDRESS": "50",
            "GRADER_LOGIN_FAILURES_PER_TOKEN": "5",
            "GRADER_TRUSTED_PROXIES": "2",
        }
    )
    assert (env["LOGIN_FAILURES_PER_ADDRESS"], env["LOGIN_FAILURES_PER_TOKEN"], env["TRUSTED_PROXIES"]) == (50, 5, 2)
    assert (PER_ADDRESS, PER_TOKEN, DEFAULTS["TRUSTED_PROXIES"]) == (20, 10, 0)

    app = make_campus(LOGIN_FAILURES_PER_ADDRESS=3, LOGIN_FAILURES_PER_TOKEN=0)
    failures = app.extensions["grader"].login_failures
    kind = RedisRateLimiter if backend else RateLimiter
    assert isinstance(failures.per_address, kind) and isinstance(failures.per_token, RateLimiter)
    codes = [form_login(app.test_client(), a_wrong_token(), CAMPUS).status_code for _ in range(6)]
    assert until_throttled(codes) >= 3
    if backend:  # the buckets are really in Redis
        client = redis.Redis.from_url(REDIS)
        assert list(client.scan_iter(match=f"{backend['GRADER_QUEUE']}:login-address:*", count=1000))
        client.close()
