"""Who may do what, limits, and that nothing a user typed can run in a page or a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from test_web_helpers import SIGN_ERROR, bearer, make_app, notebook_bytes

from grader.reports.exports import safe_cell
from grader.store.users import add_user, revoke
from grader.web.ratelimit import RateLimiter, RedisRateLimiter, make_limiter

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

ANSWER = {"answers": {"gd-parabola": {"iterates": SIGN_ERROR}}}


def _graded(client: Any, token: str) -> str:
    response = client.post("/api/grade", json=ANSWER, headers=bearer(token))
    assert response.status_code == 200
    return response.json["submission"]


def test_anonymous_may_not_grade_by_default(client: Any) -> None:
    response = client.post("/api/grade", json=ANSWER)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"] == "unauthorized"
    queued = client.post("/api/submissions", json=ANSWER)
    assert queued.status_code == 401


def test_unknown_token_is_401(client: Any) -> None:
    response = client.post("/api/grade", json=ANSWER, headers=bearer("gr_not-a-token"))
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_revoked_token_stops_working(app: Any, client: Any, tokens: dict) -> None:
    assert client.post("/api/grade", json=ANSWER, headers=bearer(tokens["s001"])).status_code == 200
    revoke("s001", db=app.extensions["grader"].db)
    assert client.post("/api/grade", json=ANSWER, headers=bearer(tokens["s001"])).status_code == 401


def test_student_submits_only_for_itself(client: Any, tokens: dict) -> None:
    headers = bearer(tokens["s001"])
    other = {"student": "s002", **ANSWER}
    assert client.post("/api/grade", json=other, headers=headers).status_code == 403
    assert client.post("/api/submissions", json=other, headers=headers).status_code == 403
    upload = client.post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(notebook_bytes({})), "n.ipynb"), "student": "s002"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert upload.status_code == 403
    assert client.post("/api/grade", json=other, headers=bearer(tokens["ta"])).status_code == 200


def test_student_reads_only_its_own_results(client: Any, tokens: dict) -> None:
    mine = _graded(client, tokens["s001"])
    theirs = _graded(client, tokens["s002"])
    headers = bearer(tokens["s001"])
    assert client.get(f"/api/submissions/{mine}", headers=headers).status_code == 200
    assert client.get(f"/api/submissions/{theirs}", headers=headers).status_code == 404
    assert client.get(f"/api/submissions/{theirs}").status_code == 401
    assert client.get(f"/api/submissions/{theirs}", headers=bearer(tokens["ta"])).status_code == 200
    assert client.get("/api/students/s002/submissions", headers=headers).status_code == 403
    assert client.get("/api/students/s002/submissions").status_code == 401


@pytest.mark.parametrize("url", ["/api/gradebook", "/api/gradebook.csv", "/api/analytics/gd-parabola"])
def test_class_data_needs_staff(client: Any, tokens: dict, url: str) -> None:
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(tokens["s001"])).status_code == 403
    assert client.get(url, headers=bearer(tokens["ta"])).status_code == 200
    assert client.get(url, headers=bearer(tokens["instructor"])).status_code == 200


def test_no_route_shows_reference_answers(app: Any, client: Any, tokens: dict, catalog: Any) -> None:
    _graded(client, tokens["s001"])
    headers = bearer(tokens["instructor"])
    bodies = [client.get("/api/exercises", headers=headers).get_data(as_text=True)]
    for exercise_id in catalog.exercises:
        bodies.append(client.get(f"/api/exercises/{exercise_id}?student=s001", headers=headers).get_data(as_text=True))
        bodies.append(client.get(f"/api/analytics/{exercise_id}", headers=headers).get_data(as_text=True))
    for body in bodies:
        keys = _keys(json.loads(body))
        assert not keys & {"answer", "answers", "reference", "expected", "solution"}, keys


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_open_mode_lets_anonymous_grade_but_nothing_more(sqlite_db: Any, catalog: Any) -> None:
    client = make_app(sqlite_db, catalog, GRADER_OPEN=True).test_client()
    response = client.post("/api/grade", json={"student": "demo", **ANSWER})
    assert response.status_code == 200
    assert client.get("/api/gradebook").status_code == 401
    assert client.get("/api/students/demo/submissions").status_code == 401


def test_rate_limit_is_per_token_with_retry_after(sqlite_db: Any, catalog: Any) -> None:
    app = make_app(sqlite_db, catalog, RATE_LIMIT_PER_MINUTE=60, RATE_LIMIT_BURST=3)
    client = app.test_client()
    db = app.extensions["grader"].db
    first, second = add_user("s001", db=db), add_user("s002", db=db)
    codes = [client.get("/api/exercises", headers=bearer(first)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/exercises", headers=bearer(first))
    assert limited.json["error"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 2
    assert client.get("/api/exercises", headers=bearer(second)).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_with_a_redis_broker_every_server_process_shares_the_limits(sqlite_db: Any, catalog: Any) -> None:
    """Two apps stand for two gunicorn workers: the burst is spent across both, not once in each."""
    import uuid

    config = {
        "GRADER_BROKER": "redis://127.0.0.1:6379/15",
        "GRADER_QUEUE": f"grader-tests-{uuid.uuid4().hex[:12]}",
        "RATE_LIMIT_PER_MINUTE": 60,
        "RATE_LIMIT_BURST": 3,
    }
    workers = [make_app(sqlite_db, catalog, **config).test_client() for _ in range(2)]
    token = add_user("s001", db=sqlite_db)
    codes = [workers[i % 2].get("/api/exercises", headers=bearer(token)).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    assert 1 <= int(workers[1].get("/api/exercises", headers=bearer(token)).headers["Retry-After"]) <= 2


def test_shared_limits_refill_and_let_requests_through_when_redis_is_down() -> None:
    import time
    import uuid

    namespace = f"grader-tests-{uuid.uuid4().hex[:12]}"
    limiter = RedisRateLimiter("redis://127.0.0.1:6379/15", per_minute=600, burst=2, namespace=namespace)
    assert [limiter.check("k") for _ in range(2)] == [0.0, 0.0]
    assert 0 < limiter.check("k") <= 0.1  # 10 a second
    time.sleep(0.15)
    assert limiter.check("k") == 0.0
    down = RedisRateLimiter("redis://127.0.0.1:9/0", per_minute=60, burst=1)
    started = time.monotonic()
    assert [down.check("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert time.monotonic() - started < 3
    assert isinstance(make_limiter(60, 3), RateLimiter)  # no broker: in this process
    assert isinstance(make_limiter(60, 3, redis_url="redis://127.0.0.1:6379/15"), RedisRateLimiter)


def test_token_bucket_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert [limiter.check("k") for _ in range(2)] == [0.0, 0.0]
    assert limiter.check("k") == pytest.approx(1.0)
    now[0] = 1.0
    assert limiter.check("k") == 0.0
    assert RateLimiter(per_minute=0, burst=1).check("k") == 0.0


def test_upload_limit_is_a_json_413(sqlite_db: Any, catalog: Any) -> None:
    app = make_app(sqlite_db, catalog, MAX_CONTENT_LENGTH=2000)
    client = app.test_client()
    token = add_user("s001", db=app.extensions["grader"].db)
    big = notebook_bytes({"gd-parabola": {"iterates": "1, " * 2000}})
    response = client.post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(big), "big.ipynb")},
        headers=bearer(token),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.json["error"] == "payload_too_large"
    as_json = client.post(
        "/api/grade", json={"answers": {"gd-parabola": {"iterates": "1, " * 2000}}}, headers=bearer(token)
    )
    assert as_json.status_code == 413


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ada", "Ada"),
        (1.5, "1.5"),
        (-1, "-1"),
        (None, ""),
    ],
)
def test_csv_cells_are_formula_safe(value: Any, cell: str) -> None:
    assert safe_cell(value) == cell


def test_gradebook_csv_neutralises_names(app: Any, client: Any, tokens: dict) -> None:
    add_user("s003", display_name="=cmd|' /C calc'!A0", db=app.extensions["grader"].db)
    text = client.get("/api/gradebook.csv", headers=bearer(tokens["ta"])).get_data(as_text=True)
    rows = {row[0]: row for row in csv.reader(io.StringIO(text))}
    assert rows["s003"][1] == "'=cmd|' /C calc'!A0"


def test_login_cookie_is_httponly_and_strict(client: Any, tokens: dict) -> None:
    response = client.post("/login", data={"token": tokens["s001"], "next": "/"})
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie


def test_login_never_redirects_off_site(client: Any, tokens: dict) -> None:
    for target in ("//evil.example/", "https://evil.example/", "javascript:alert(1)"):
        response = client.post("/login", data={"token": tokens["s001"], "next": target})
        assert response.headers["Location"] == "/"


def test_bad_login_is_refused(client: Any) -> None:
    response = client.post("/login", data={"token": "nope"})
    assert response.status_code == 401
    assert "not valid" in response.get_data(as_text=True)
    # No login cookie (the session cookie that holds the form's CSRF secret may be set).
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("grader_token=")]


def test_stored_text_is_inert_in_pages(app: Any, client: Any, tokens: dict) -> None:
    script = "<script>alert('x')</script>"
    add_user("s003", display_name=script, db=app.extensions["grader"].db)
    client.post("/login", data={"token": tokens["s001"]})
    page = client.post(
        "/exercises/learning-rate",
        data={"part-why": script, "part-converges": script},
    ).get_data(as_text=True)
    assert script not in page and "&lt;script&gt;" in page
    client.post("/logout")
    client.post("/login", data={"token": tokens["ta"]})
    gradebook = client.get("/instructor").get_data(as_text=True)
    assert script not in gradebook and "&lt;script&gt;alert" in gradebook


def test_pages_carry_a_content_security_policy(client: Any, tokens: dict) -> None:
    client.post("/login", data={"token": tokens["s001"]})
    response = client.get("/exercises/gd-parabola")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
