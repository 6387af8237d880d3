"""Fair work for typed formulas: what a costly answer costs, who pays for it, and who waits for it.

* a formula that sympy cannot settle within the answer's worker seconds is refused in one sentence, and the
  worker's CPU time for it is charged to the caller (never measured here in wall time);
* grading a queued submission is charged to its student like grading at once: their next submission waits;
* one caller never holds every sympy worker: a second caller's comparison goes ahead while the first's wait.

What the attacks cost in time, and what honest students' latency is beside them, is measured by
bench/bench_hostile.py, not here.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from test_web_helpers import bearer, make_app

from grader import budget
from grader.checking import symbolic
from grader.checking.symbolic import FairSlots, Outcome, SymbolicPool
from grader.expressions import parse
from grader.grading import grade
from grader.store import submissions
from grader.store.db import Database
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

# Legal and right (equal to the reference at every point), but sympy's simplify needs seconds to prove it.
COSTLY = "a(σ(wa) − y) + ((a+1)(a-1))^200 - (a^2-1)^200"
WORKER_SECONDS = 0.3  # the answer's worker seconds in these tests (1 s in service), to keep them short
TOO_COSTLY = "too costly to check; simplify it"


@pytest.fixture(scope="module")
def own_pool() -> Iterator[SymbolicPool]:
    """Workers at the tests' own priority: on a machine loaded by other work, workers at the service's lower
    priority may get so little CPU that the wall-time limit, not their CPU limit, ends a comparison."""
    pool = SymbolicPool(niceness=0)
    yield pool
    pool.close()


@pytest.fixture
def small_worker_budget(monkeypatch: pytest.MonkeyPatch, own_pool: SymbolicPool) -> None:
    monkeypatch.setattr(budget, "SYMBOLIC_PART_SECONDS", WORKER_SECONDS)
    monkeypatch.setattr(symbolic, "_POOL", own_pool)
    monkeypatch.setattr(symbolic, "WALL_SECONDS", 600.0)  # a hang guard only: the CPU limit is what is tested


def loss_part(result: dict[str, Any]) -> dict[str, Any]:
    return next(p for e in result["exercises"] for p in e["parts"] if p["id"] == "loss")


# A costly formula: refused in one sentence, its CPU time charged -------------------------------------------


def test_a_costly_formula_is_refused_in_one_sentence_and_its_worker_time_is_charged(catalog, small_worker_budget):
    with budget.charged_to("user:s001") as account:
        result = grade({"answers": {"logistic-derivative": {"loss": COSTLY}}}, catalog).to_json()
    part = loss_part(result)
    assert (part["status"], part["score"], part["details"]) == ("invalid", 0, {"reason": "time"})
    assert TOO_COSTLY in part["feedback"].lower()
    assert part["feedback"].count(". ") == 0 and part["feedback"].endswith(".")  # one sentence
    # the worker stopped the comparison at the answer's worker seconds (or, in one long C call of sympy's, soon
    # after), and said what it spent
    assert WORKER_SECONDS * 0.5 <= account.worker_seconds <= WORKER_SECONDS + symbolic.TIMER_SLACK


def test_the_misconceptions_of_a_costly_formula_are_not_checked_at_its_cost_again(catalog, small_worker_budget):
    """The loss part has two misconceptions: each comparison used to get its own full time limit."""
    with budget.charged_to("user:s001") as account:
        grade({"answers": {"logistic-derivative": {"loss": COSTLY}}}, catalog)
    assert account.worker_seconds <= WORKER_SECONDS + symbolic.TIMER_SLACK


def test_an_honest_formula_is_still_proved_and_costs_little(catalog, small_worker_budget):
    with budget.charged_to("user:s001") as account:
        result = grade({"answers": {"logistic-derivative": {"loss": "a(σ(wa) − y)"}}}, catalog).to_json()
    assert (loss_part(result)["status"], loss_part(result)["details"]["method"]) == ("correct", "symbolic")
    assert account.worker_seconds < WORKER_SECONDS


def test_outside_grading_a_comparison_past_its_time_is_still_settled_by_sampling():
    """compare() on its own (no answer's budget running) keeps its meaning: sampling decides what sympy cannot."""
    assert symbolic.equivalent(parse("(x+1)**200*(x-1)**200"), parse("(x**2-1)**200")) == (True, "numeric")


class Recorder:
    """A CPU share that admits everyone and records what each caller is charged."""

    def __init__(self) -> None:
        self.charged: dict[str, float] = {}

    def check(self, key: str, *, verified: bool = False, cost: float = 1.0) -> float:
        return 0.0

    def charge(self, key: str, amount: float, *, verified: bool = False) -> None:
        self.charged[key] = self.charged.get(key, 0.0) + amount


def test_a_request_is_charged_the_workers_time_for_its_formulas(
    sqlite_db: Database, catalog: Any, small_worker_budget: None
) -> None:
    app = make_app(sqlite_db, catalog)
    shares = app.extensions["grader"].cpu_limiter = Recorder()
    client = app.test_client()
    token = add_user("s001", db=sqlite_db)
    response = client.post(
        "/api/grade", json={"answers": {"logistic-derivative": {"loss": COSTLY}}}, headers=bearer(token)
    )
    assert response.status_code == 200
    part = loss_part(response.json)
    assert part["status"] == "invalid" and TOO_COSTLY in part["feedback"].lower()
    assert shares.charged["user:s001"] >= WORKER_SECONDS * 1000 * 0.5  # the worker's CPU, not only the thread's
    app.extensions["grader"].jobs.shutdown(wait=True)


# The queued path is charged to the student it grades for ------------------------------------------------------


def test_queued_costly_answers_are_charged_to_their_student(
    sqlite_db: Database, catalog: Any, small_worker_budget: None
) -> None:
    """POST /api/submissions used to be graded in a job nobody was charged for: the same answers sent there
    instead of /api/grade bought unlimited checking time."""
    app = make_app(sqlite_db, catalog, CPU_SHARE_MS_PER_MINUTE=60, CPU_SHARE_BURST_MS=100)  # 1 ms a second
    client = app.test_client()
    attacker, other = add_user("s001", db=sqlite_db), add_user("s002", db=sqlite_db)
    costly = {"answers": {"logistic-derivative": {"loss": COSTLY}}}
    first = client.post("/api/submissions", json=costly, headers=bearer(attacker))
    assert first.status_code == 202
    app.extensions["grader"].jobs.wait(timeout=120)
    stored = submissions.get(sqlite_db, first.json["id"])
    assert stored is not None and stored.status == "done"
    assert TOO_COSTLY in loss_part(stored.to_json()["result"])["feedback"].lower()
    again = client.post("/api/submissions", json=costly, headers=bearer(attacker))
    assert again.status_code == 429
    assert "share of the server's checking time" in again.json["detail"]
    assert int(again.headers["Retry-After"]) >= 100  # 100+ ms of debt at 1 ms a second
    honest = {"answers": {"logistic-derivative": {"sigmoid": "σ(z)(1-σ(z))"}}}
    assert client.post("/api/submissions", json=honest, headers=bearer(other)).status_code == 202
    app.extensions["grader"].jobs.shutdown(wait=True)


def test_what_staff_queue_for_a_student_is_not_charged_to_the_student(
    sqlite_db: Database, catalog: Any, small_worker_budget: None
) -> None:
    app = make_app(sqlite_db, catalog)
    shares = app.extensions["grader"].cpu_limiter = Recorder()
    jobs = app.extensions["grader"].jobs
    jobs.charge = lambda student, ms: shares.charge(f"user:{student}", ms)
    client = app.test_client()
    own, teacher = add_user("s001", db=sqlite_db), add_user("ta1", role="ta", db=sqlite_db)
    answers = {"answers": {"logistic-derivative": {"loss": "a(σ(wa) − y)"}}}
    assert client.post("/api/submissions", json=answers, headers=bearer(own)).status_code == 202
    jobs.wait(timeout=60)
    charged = shares.charged.get("user:s001", 0.0)
    assert charged > 0
    for_s001 = {**answers, "student": "s001"}
    assert client.post("/api/submissions", json=for_s001, headers=bearer(teacher)).status_code == 202
    jobs.wait(timeout=60)
    assert shares.charged["user:s001"] == charged
    jobs.shutdown(wait=True)


# No caller holds every worker -----------------------------------------------------------------------------


def test_a_caller_at_its_cap_waits_while_another_callers_request_is_admitted() -> None:
    slots = FairSlots(size=2, per_caller=1)
    assert slots.acquire("user:a", timeout=1) is not None
    second: dict[str, Any] = {}

    def wait_for_a_second_slot() -> None:
        second["slot"] = slots.acquire("user:a", timeout=60)

    waiting = threading.Thread(target=wait_for_a_second_slot)
    waiting.start()
    deadline = time.monotonic() + 30
    while slots.waiting() == 0:  # a's second request is queued
        assert time.monotonic() < deadline
        time.sleep(0.01)
    other = slots.acquire("user:b", timeout=0)  # admitted at once, past a's waiting request
    assert other is not None and slots.held("user:b") == 1
    assert slots.held("user:a") == 1 and waiting.is_alive()
    slots.release(other, "user:b")
    assert waiting.is_alive()  # a free slot, but a is at its cap
    slots.release(0, "user:a")
    waiting.join(timeout=30)
    assert second["slot"] is not None and slots.held("user:a") == 1


def test_the_cap_is_below_the_pool_so_one_caller_never_holds_them_all() -> None:
    assert FairSlots(size=2, per_caller=5).per_caller == 1
    assert FairSlots(size=4, per_caller=2).per_caller == 2
    assert symbolic._POOL.slots.per_caller < symbolic._POOL.slots.size or symbolic._POOL.slots.size == 1


class SlowPool(SymbolicPool):
    """The real pool's scheduling, with a fake slow comparison instead of sympy: a task of ``user:a`` runs until
    ``release`` is set; everyone else's finishes at once."""

    def __init__(self) -> None:
        super().__init__(size=2, per_caller=1)
        self.release = threading.Event()
        self.ran: list[str] = []

    def _run(self, slot: int, task: tuple[str, str, list[str], float], startup: float) -> Outcome:
        self.ran.append(task[0])
        if task[0].startswith("a"):
            self.release.wait(60)
        return Outcome(("equal", ""), 0.001)


def test_a_second_callers_comparison_runs_while_the_first_callers_wait() -> None:
    pool = SlowPool()
    outcomes: dict[str, Outcome] = {}

    def decide(name: str, caller: str) -> None:
        outcomes[name] = pool.decide(name, "x", ["x"], caller=caller, slot_wait=60)

    attacker = [threading.Thread(target=decide, args=(f"a{k}", "user:a")) for k in range(3)]
    for thread in attacker:
        thread.start()
    deadline = time.monotonic() + 30
    while pool.slots.waiting() < 2:  # one of a's comparisons runs, two wait: a holds its one slot
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert pool.slots.held("user:a") == 1
    decide("b", "user:b")  # not queued behind a's: the second worker is free for it
    assert outcomes["b"].verdict == ("equal", "") and pool.ran.count("b") == 1
    assert len([name for name in pool.ran if name.startswith("a")]) == 1
    pool.release.set()
    for thread in attacker:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["a0", "a1", "a2", "b"]


def test_each_request_compares_its_formulas_under_its_callers_name(
    sqlite_db: Database, catalog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    callers: list[str | None] = []

    class Watching(SymbolicPool):
        def decide(self, *args: Any, caller: str | None = None, **kwargs: Any) -> Outcome:
            callers.append(caller)
            return Outcome(("equal", ""), 0.25)

    monkeypatch.setattr(symbolic, "_POOL", Watching(size=2))
    app = make_app(sqlite_db, catalog)
    shares = app.extensions["grader"].cpu_limiter = Recorder()
    client = app.test_client()
    token = add_user("s001", db=sqlite_db)
    answers = {"answers": {"logistic-derivative": {"sigmoid": "σ(z)(1-σ(z))"}}}
    assert client.post("/api/grade", json=answers, headers=bearer(token)).status_code == 200
    assert callers == ["user:s001"]
    assert shares.charged["user:s001"] >= 250  # the 0.25 s the worker reported
    app.extensions["grader"].jobs.shutdown(wait=True)


# A formula's own cost is bounded while it is read -----------------------------------------------------------


@pytest.fixture
def counted_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each read of the CPU clock advances it by one step: "costs more than its budget" without timing anything."""
    ticks = itertools.count()
    monkeypatch.setattr(budget, "_cpu", lambda: next(ticks) * 0.001)
    yield


def test_a_long_formula_is_stopped_by_its_budget_while_it_is_rewritten(counted_clock: None) -> None:
    """The text of a formula is rewritten (n! → factorial(n), 2x → 2*x) before it is parsed; a budget checked only
    after that let one formula run hundreds of ms on a 20 ms budget."""
    text = "+".join(["x!"] * 300)  # 899 characters, 1200 tokens to rewrite
    with budget.limited(0.005, "this answer"), pytest.raises(budget.BudgetExceeded, match=TOO_COSTLY):
        parse(text, ["x"])


# Dear grading yields the CPU to other requests --------------------------------------------------------------


def _spin_then_report_niceness(seconds: float) -> int:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_grading_that_runs_long_yields_the_cpu_and_is_charged_to_the_caller() -> None:
    """A request's grading runs in a thread of its own that lowers its priority once it has used its first 20 ms of
    CPU, so that a dear submission gives way to other students' requests on the same cores."""
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    with budget.charged_to("user:s001") as account:
        assert budget.yielding(_spin_then_report_niceness, 0.001) == base  # honest work keeps its priority
        lowered = budget.yielding(_spin_then_report_niceness, 0.2)
    assert lowered == min(19, max(base, budget.YIELD_NICENESS))
    assert account.worker_seconds >= 0.2  # the thread's CPU is charged to the request's caller
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the request's own thread is not
    with pytest.raises(ValueError, match="kept"):
        budget.yielding(_raise, ValueError("kept"))


def _raise(error: Exception) -> None:
    raise error
