"""Cross-site request forgery, as an attacker tries it: forged logins, logouts, answers and uploads are refused.

The app runs with Flask-WTF's token check on, as in production. A browser's
cross-site post carries the attacker's ``Origin`` (or ``null``) and no valid
token; the API, authenticated by a bearer header only, needs neither.
tests/test_browser.py makes the same attacks from a real page on another site.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from test_web_helpers import CORRECT, bearer, make_app, notebook_bytes

from grader.store import submissions
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

EVIL = "https://evil.example"


@pytest.fixture
def protected(sqlite_db: Any, catalog: Any) -> Iterator[Any]:
    app = make_app(sqlite_db, catalog, WTF_CSRF_ENABLED=True)
    yield app
    app.extensions["grader"].jobs.shutdown(wait=True)


def _token(client: Any, path: str) -> str:
    """The CSRF token of the form on ``path``, as a browser showing that page holds it."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _log_in(client: Any, token: str) -> None:
    response = client.post("/login", data={"token": token, "csrf_token": _token(client, "/login")})
    assert response.status_code == 303


def test_a_forged_login_sets_no_cookie(protected: Any) -> None:
    attacker = add_user("s666", db=protected.extensions["grader"].db)
    victim = protected.test_client()
    # The attacker's page posts its own token to /login: no CSRF token (it cannot read ours), its own Origin.
    for headers in ({}, {"Origin": EVIL}, {"Origin": "null"}):
        response = victim.post("/login", data={"token": attacker}, headers=headers)
        assert response.status_code in (400, 403)
        assert victim.get_cookie("grader_token") is None
    # Even with a token it fetched for its own session, another session's token does not pass.
    other = protected.test_client()
    stolen = _token(other, "/login")
    _token(victim, "/login")
    assert victim.post("/login", data={"token": attacker, "csrf_token": stolen}).status_code == 400
    assert victim.get_cookie("grader_token") is None


def test_a_cross_site_post_is_a_403_that_names_the_reason(protected: Any) -> None:
    client = protected.test_client()
    token = _token(client, "/login")
    for origin in (EVIL, "null", "http://localhost.evil.example", "file://"):
        response = client.post("/login", data={"token": "x", "csrf_token": token}, headers={"Origin": origin})
        assert response.status_code == 403, origin
        assert response.json == {
            "error": "cross_site_request",
            "detail": "this form was sent from another site; open the page on this site and send it from there",
        }


def test_logout_answers_and_uploads_need_the_token_and_this_origin(protected: Any) -> None:
    db = protected.extensions["grader"].db
    client = protected.test_client()
    _log_in(client, add_user("s001", db=db))
    notebook = notebook_bytes({"gd-parabola": {"iterates": CORRECT}})

    forged = [
        ("/logout", {}),
        ("/exercises/gd-parabola", {"part-iterates": CORRECT}),
        ("/assignments/lec4-inclass/upload", {"notebook": (io.BytesIO(notebook), "s001.ipynb")}),
    ]
    for path, data in forged:
        for headers in ({}, {"Origin": EVIL}):
            fields = {k: (io.BytesIO(notebook), v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
            assert client.post(path, data=fields, headers=headers).status_code in (400, 403), (path, headers)
    assert client.get_cookie("grader_token") is not None  # still logged in
    assert submissions.history(db, "s001") == []  # nothing answered or handed in

    # From the page itself (its token, this site's Origin) the same forms work.
    same_site = {"Origin": "http://localhost"}
    token = _token(client, "/exercises/gd-parabola")
    answered = client.post(
        "/exercises/gd-parabola", data={"part-iterates": CORRECT, "csrf_token": token}, headers=same_site
    )
    assert answered.status_code == 200 and "Score: 6 / 12" in answered.get_data(as_text=True)
    uploaded = client.post(
        "/assignments/lec4-inclass/upload",
        data={"notebook": (io.BytesIO(notebook), "s001.ipynb"), "csrf_token": _token(client, "/")},
        content_type="multipart/form-data",
        headers=same_site,
    )
    assert uploaded.status_code == 303
    assert client.post("/logout", data={"csrf_token": _token(client, "/")}, headers=same_site).status_code == 303
    assert client.get_cookie("grader_token") is None


def test_trusted_origins_are_accepted_behind_a_proxy(sqlite_db: Any, catalog: Any) -> None:
    app = make_app(sqlite_db, catalog, WTF_CSRF_ENABLED=True, TRUSTED_ORIGINS=["https://grader.example.edu"])
    client = app.test_client()
    token = add_user("s001", db=app.extensions["grader"].db)
    form = {"token": token, "csrf_token": _token(client, "/login")}
    assert client.post("/login", data=form, headers={"Origin": "https://grader.example.edu"}).status_code == 303
    assert client.post("/login", data=form, headers={"Origin": EVIL}).status_code == 403
    app.extensions["grader"].jobs.shutdown(wait=True)


def test_the_api_needs_no_csrf_token_and_never_takes_the_login_cookie(protected: Any) -> None:
    db = protected.extensions["grader"].db
    token = add_user("s001", db=db)
    client = protected.test_client()
    answers = {"answers": {"gd-parabola": {"iterates": CORRECT}}}
    # A bearer token is enough, whatever the Origin (a cross-site page cannot send the header without CORS).
    assert client.post("/api/grade", json=answers, headers=bearer(token)).status_code == 200
    assert client.post("/api/grade", json=answers, headers={**bearer(token), "Origin": EVIL}).status_code == 200
    upload = client.post(
        "/api/submissions",
        data={"notebook": (io.BytesIO(notebook_bytes({})), "s001.ipynb")},
        content_type="multipart/form-data",
        headers=bearer(token),
    )
    assert upload.status_code == 202
    # Logged in by the cookie alone, no API write is accepted: the API is not cookie-authenticated.
    _log_in(client, token)
    before = len(submissions.history(db, "s001"))
    assert client.post("/api/grade", json=answers).status_code == 401
    assert client.post("/api/submissions", json=answers).status_code == 401
    assert len(submissions.history(db, "s001")) == before


def test_an_expired_or_missing_token_is_a_page_for_a_browser_and_json_otherwise(protected: Any) -> None:
    client = protected.test_client()
    as_browser = client.post("/login", data={"token": "x"}, headers={"Accept": "text/html,*/*;q=0.8"})
    assert as_browser.status_code == 400 and as_browser.mimetype == "text/html"
    page = as_browser.get_data(as_text=True)
    assert '<html lang="en">' in page and "<title>The request could not be read" in page
    assert "reload the page and send it again" in page
    as_api = client.post("/login", data={"token": "x"})
    assert as_api.status_code == 400 and as_api.json["error"] == "csrf_failed"
