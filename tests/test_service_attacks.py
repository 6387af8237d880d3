"""Attacks on the service's doors, each run as an attacker would, and the assertion that it fails.

* secrets on disk: another account on the machine reads the database, the course secret or a token list;
* the rate limiter: made-up tokens, or a flood of new addresses, to get past it or to reset real users' limits;
* the notebook upload page: many large uploads, to fill the database.

Whose notebook a file in ``submitted/<student>/<assignment>/`` is: ``test_notebook_cli.py``.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_web_helpers import bearer, make_app, notebook_bytes

from grader.store.db import Database
from grader.store.users import add_user
from grader.web.ratelimit import RateLimiter, RedisRateLimiter

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

NOBODY = 65534


# Secrets on disk --------------------------------------------------------------------------


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most accounts have (022): files are world-readable unless made otherwise."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def readable_by_another_account(path: Path) -> bool:
    """Whether an unprivileged account (``nobody``) can open ``path`` for reading, tried for real in a child."""
    if os.geteuid() != 0:  # without root we cannot become someone else: judge by the mode bits alone
        return bool(path.stat().st_mode & 0o077)
    child = os.fork()
    if child == 0:
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            with open(path, "rb") as stream:
                stream.read(1)
            os._exit(0)
        except OSError:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) == 0


def test_the_database_the_secret_and_token_lists_are_for_their_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, usual_umask: None
) -> None:
    """A data folder left world-readable by an older version, and a fresh one: both end up private."""
    from grader.cli.users import users
    from grader.specs.model import course_secret
    from grader.store.db import default_url

    tmp_path.chmod(0o755)  # the attacker may walk up to the data folder
    old = tmp_path / "old-data"
    old.mkdir(mode=0o755)
    (old / "secret").write_text("the course secret\n")
    (old / "secret").chmod(0o644)
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("student,token\n")
    tokens.chmod(0o644)
    roster = tmp_path / "roster.csv"
    roster.write_text("student\ns001\ns002\n")
    monkeypatch.delenv("GRADER_SECRET", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for data in (old, tmp_path / "new-data"):
        monkeypatch.setenv("GRADER_DATA", str(data))
        secret = course_secret()
        db = Database(default_url())
        db.migrate()
        result = CliRunner().invoke(users, ["import", str(roster), "--output", str(tokens), "--database", str(db.url)])
        assert result.exit_code == 0, result.output
        assert tokens.read_text().count("gr_") == 2
        database = Path(db.url.database)
        assert secret == "the course secret" if data == old else len(secret) == 32
        assert stat.S_IMODE(data.stat().st_mode) == 0o700, data
        for path in (data / "secret", database, Path(f"{database}-wal"), Path(f"{database}-shm"), tokens):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        (data / "secret").chmod(0o644)  # even if the folder were opened again, the files say no on their own
        data.chmod(0o755)
        course_secret()
        Database(default_url()).dispose()
        for path in (data / "secret", database, tokens):
            assert not readable_by_another_account(path), path
        db.dispose()


# The rate limiter ---------------------------------------------------------------------------


def anonymous_from(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.fixture(params=["memory", "redis"])
def limited_app(request: pytest.FixtureRequest, sqlite_db: Database, catalog: Any) -> Iterator[Any]:
    """An app limited to a burst of 3 (then 1 a second); its buckets in this process, or shared in Redis."""
    config: dict[str, Any] = {"RATE_LIMIT_PER_MINUTE": 60, "RATE_LIMIT_BURST": 3}
    if request.param == "redis":
        config["GRADER_BROKER"] = "redis://127.0.0.1:6379/15"
        config["GRADER_QUEUE"] = f"grader-tests-{secrets.token_hex(6)}"
    app = make_app(sqlite_db, catalog, **config)
    yield app
    if request.param == "memory":
        app.extensions["grader"].jobs.shutdown(wait=True)


def test_made_up_tokens_do_not_buy_a_fresh_bucket(limited_app: Any, sqlite_db: Database) -> None:
    """An anonymous caller sends a new random bearer token with every request, hoping for a bucket each."""
    client = limited_app.test_client()
    codes = [
        client.get("/api/submissions/x", headers=bearer(f"gr_{secrets.token_hex(32)}"), **anonymous_from("203.0.113.9"))
        for _ in range(8)
    ]
    assert [c.status_code for c in codes] == [401] * 3 + [429] * 5
    assert 1 <= int(codes[-1].headers["Retry-After"]) <= 2
    # A real user behind the same address is not held back by it, and spending their own turns is theirs alone.
    token = add_user("s001", db=sqlite_db)
    mine = [client.get("/api/exercises", headers=bearer(token), **anonymous_from("203.0.113.9")) for _ in range(4)]
    assert [r.status_code for r in mine] == [200, 200, 200, 429]


def test_two_tokens_of_one_user_share_one_bucket(limited_app: Any, sqlite_db: Database) -> None:
    first, second = add_user("s001", db=sqlite_db), add_user("s001", db=sqlite_db)
    client = limited_app.test_client()
    codes = [client.get("/api/exercises", headers=bearer((first, second)[i % 2])).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_every_address_of_an_ipv6_network_shares_one_bucket(limited_app: Any) -> None:
    client = limited_app.test_client()
    codes = [client.get("/api/exercises", **anonymous_from(f"2001:db8:1:2::{i:x}")).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/exercises", **anonymous_from("2001:db8:1:3::1")).status_code == 200


def test_a_flood_of_new_addresses_resets_no_ones_limit(sqlite_db: Database, catalog: Any) -> None:
    """A user spends their burst; then a botnet sends one request from each of 300 addresses."""
    app = make_app(sqlite_db, catalog)
    limiter = RateLimiter(per_minute=1, burst=3, max_keys=100)  # one a minute: the flood is over long before
    app.extensions["grader"].limiter = limiter
    client = app.test_client()
    token = add_user("s001", db=sqlite_db)
    assert [client.get("/api/exercises", headers=bearer(token)).status_code for _ in range(4)] == [200, 200, 200, 429]
    for i in range(300):
        client.get("/api/submissions/x", **anonymous_from(f"10.0.{i // 256}.{i % 256}"))
    assert client.get("/api/exercises", headers=bearer(token)).status_code == 429  # still spent
    assert limiter.size(verified=False) == 100 and limiter.size(verified=True) == 1
    app.extensions["grader"].jobs.shutdown(wait=True)


def test_the_anonymous_table_in_redis_is_bounded_and_leaves_users_alone() -> None:
    limiter = RedisRateLimiter(
        "redis://127.0.0.1:6379/15", 1, 3, namespace=f"grader-tests-{secrets.token_hex(6)}", max_keys=100
    )
    assert [limiter.check("user:s001", verified=True) > 0 for _ in range(4)] == [False, False, False, True]
    for i in range(300):
        if i == 250:  # an anonymous caller active during the flood
            assert [limiter.check("addr:192.0.2.1") > 0 for _ in range(4)] == [False, False, False, True]
        limiter.check(f"addr:10.0.{i // 256}.{i % 256}")
    assert limiter.size(verified=False) == 100
    assert limiter.check("user:s001", verified=True) > 0  # still spent
    assert limiter.check("addr:192.0.2.1") > 0  # recent enough to be kept, so still spent


# The notebook upload page ---------------------------------------------------------------------


def big_notebook(megabytes: float) -> bytes:
    """A valid notebook of about ``megabytes`` MB (the padding sits in its metadata)."""
    return notebook_bytes({}, padding="x" * int(megabytes * 2**20))


def test_many_large_uploads_from_the_page_hit_the_rate_limit_and_the_quota(sqlite_db: Database, catalog: Any) -> None:
    """A logged-in student posts 40 notebooks of 4.5 MB to the upload page as fast as it goes."""
    app = make_app(sqlite_db, catalog, RATE_LIMIT_PER_MINUTE=1, RATE_LIMIT_BURST=10, STORAGE_QUOTA=20 * 2**20)
    client = app.test_client()
    token = add_user("s001", db=sqlite_db)
    assert client.post("/login", data={"token": token}).status_code == 303
    data = big_notebook(4.5)
    answers = [
        client.post(
            "/assignments/lec4-inclass/upload",
            data={"notebook": (io.BytesIO(data), "mine.ipynb")},
            content_type="multipart/form-data",
        )
        for _ in range(40)
    ]
    codes = [a.status_code for a in answers]
    assert codes == [303] * 4 + [413] * 6 + [429] * 30  # 4 × 4.5 MB fit in 20 MB; the burst is 10
    full, limited = answers[4], answers[-1]
    assert full.mimetype == "text/html" and limited.mimetype == "text/html"  # a page the student can read
    assert "20.0 MB" in full.get_data(as_text=True) and "quota" in full.get_data(as_text=True)
    assert "too many requests: try again in" in limited.get_data(as_text=True)
    assert int(limited.headers["Retry-After"]) >= 1
    stored = client.get("/api/students/s001/submissions", headers=bearer(token))
    assert stored.status_code == 429  # the API is the same bucket
    app.extensions["grader"].jobs.shutdown(wait=True)
    with sqlite_db.read() as session:
        from sqlalchemy import func, select

        from grader.store.models import Student, Submission

        assert session.scalar(select(func.count()).select_from(Submission)) == 4
        assert session.get(Student, "s001").stored_bytes == 4 * len(data) <= 20 * 2**20


def test_the_api_answers_a_full_quota_with_a_json_413_and_staff_are_not_held(sqlite_db: Database, catalog: Any) -> None:
    app = make_app(sqlite_db, catalog, STORAGE_QUOTA=2**20)
    client = app.test_client()
    student, ta = add_user("s001", db=sqlite_db), add_user("ta1", "ta", db=sqlite_db)

    def upload(token: str, **form: str) -> Any:
        body = {"notebook": (io.BytesIO(big_notebook(0.4)), "n.ipynb"), **form}
        return client.post("/api/submissions", data=body, headers=bearer(token), content_type="multipart/form-data")

    assert [upload(student).status_code for _ in range(3)] == [202, 202, 413]
    refused = upload(student).json
    assert refused["error"] == "quota_exceeded" and "1.0 MB" in refused["detail"]
    answers = {"answers": {"gd-parabola": {"iterates": "4, 2, 1, 0.5, 0.25, 0.125, " + "0, " * 200_000}}}
    assert client.post("/api/grade", json=answers, headers=bearer(student)).status_code == 413  # answers count too
    assert upload(ta, student="s001").status_code == 202  # a TA handing in for a student is not limited
    app.extensions["grader"].jobs.shutdown(wait=True)


# The CPU share -----------------------------------------------------------------------------

NESTED_SQRT = "sqrt(" * 29 + "2" + ")" * 29
DEAREST = {"answers": {"gd-parabola": {"iterates": [NESTED_SQRT] * 1000}}}  # stopped by its part's 20 ms budget


def test_cost_buckets_admit_while_not_empty_then_wait_off_the_debt() -> None:
    now = [0.0]
    share = RateLimiter(per_minute=600, burst=50, clock=lambda: now[0])  # 10 ms of CPU a second, 50 at once
    assert share.check("k", cost=0) == 0.0
    share.charge("k", 30)
    assert share.check("k", cost=0) == 0.0  # 20 left
    share.charge("k", 120)  # a dear request goes through, and leaves the caller 100 ms in debt
    assert share.check("k", cost=0) == pytest.approx(10.1)  # until 1 ms is back
    assert share.check("other", cost=0) == 0.0
    now[0] = 10.1
    assert share.check("k", cost=0) == 0.0
    assert [share.check("n") for _ in range(3)] == [0.0, 0.0, 0.0]  # cost 1 still takes one token a request


def test_cost_buckets_in_redis_charge_alike() -> None:
    namespace = f"grader-tests-{secrets.token_hex(6)}"
    share = RedisRateLimiter("redis://127.0.0.1:6379/15", per_minute=6, burst=50, namespace=namespace)
    assert share.check("user:s001", verified=True, cost=0) == 0.0
    share.charge("user:s001", 150, verified=True)
    wait = share.check("user:s001", verified=True, cost=0)
    assert 1000 < wait <= 1010  # 101 ms of debt at 0.1 ms a second (less what refilled between the calls)
    assert share.check("addr:192.0.2.1", cost=0) == 0.0
    share.charge("addr:192.0.2.1", 49.5)
    assert 0 < share.check("addr:192.0.2.1", cost=0) <= 5  # 0.5 ms short of 1 at 0.1 ms a second


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_a_caller_sending_the_dearest_answers_waits_its_turn_and_others_do_not(
    where: str, sqlite_db: Database, catalog: Any
) -> None:
    """Each dear request is bounded by the budgets; the share bounds how often one caller may send one."""
    config: dict[str, Any] = {"CPU_SHARE_MS_PER_MINUTE": 1, "CPU_SHARE_BURST_MS": 10}
    if where == "redis":
        config["GRADER_BROKER"] = "redis://127.0.0.1:6379/15"
        config["GRADER_QUEUE"] = f"grader-tests-{secrets.token_hex(6)}"
    app = make_app(sqlite_db, catalog, **config)
    client = app.test_client()
    attacker, honest = add_user("s001", db=sqlite_db), add_user("s002", db=sqlite_db)
    first = client.post("/api/grade", json=DEAREST, headers=bearer(attacker))
    assert first.status_code == 200
    assert first.json["exercises"][0]["parts"][0]["status"] == "invalid"  # the budget stopped it
    again = client.post("/api/grade", json=DEAREST, headers=bearer(attacker))
    assert again.status_code == 429
    assert "share of the server's checking time" in again.json["detail"]
    assert int(again.headers["Retry-After"]) >= 60  # 10+ ms of debt at 1 ms a minute
    assert client.post("/login", data={"token": attacker}).status_code == 303
    page = client.post("/exercises/gd-step-2d", data={"part-direction": "[-1, -2]"})
    assert page.status_code == 429  # the answer form takes from the same share
    honest_answer = {"answers": {"gd-step-2d": {"direction": "[-1, -2]"}}}
    assert client.post("/api/grade", json=honest_answer, headers=bearer(honest)).status_code == 200
    teacher = add_user("ta1", role="ta", db=sqlite_db)  # staff grade for others: no CPU share
    for_s001 = {**DEAREST, "student": "s001"}
    assert [client.post("/api/grade", json=for_s001, headers=bearer(teacher)).status_code for _ in range(2)] == [
        200
    ] * 2
    if where == "memory":
        app.extensions["grader"].jobs.shutdown(wait=True)


def test_the_answer_form_draws_no_path_longer_than_an_exercise_asks_for(sqlite_db: Database, catalog: Any) -> None:
    """Each drawn point costs drawing time: a path of hundreds of points is shown as a table only, never drawn."""
    app = make_app(sqlite_db, catalog)
    client = app.test_client()
    assert client.post("/login", data={"token": add_user("s001", db=sqlite_db)}).status_code == 303
    honest = client.post("/exercises/gd-parabola", data={"part-iterates": "4, 2, 1, 0.5, 0.25, 0.125"})
    assert honest.status_code == 200 and "Your path on the loss curve" in honest.get_data(as_text=True)
    long_path = ", ".join(str(k) for k in range(1, 300))
    hostile = client.post("/exercises/gd-parabola", data={"part-iterates": long_path})
    assert hostile.status_code == 200 and "Your path on the loss curve" not in hostile.get_data(as_text=True)
    app.extensions["grader"].jobs.shutdown(wait=True)
