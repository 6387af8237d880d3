"""What hostile answers cost: one answer, one submission, and an honest student's latency beside them.

    python bench/bench_hostile.py [--seconds 30] [--rounds 2] [--skip-service] [--skip-in-process] [--flood]
                                  [--workers N | --workers 0 [--serve-workers N]] [--redis URL | --redis '']

1. In this process, the one grading function (``grader.grading.grade``) on the
   worst answers that fit the request limits (1000 items per list, 1000
   characters and 400 nodes per formula, 256 KB of JSON), each beside an honest
   answer, with the budgets of :mod:`grader.budget` on and off (off: what the
   parser's bounds alone give), and the exact arithmetic the parser now refuses
   (``(N/(N+1))**1000`` with a 1000-bit N) computed as ``Fraction`` did before.
   Costs are the CPU time of the grading thread, median of several runs.
   Aims: the worst answer <= 50 ms, a whole submission <= 0.5 s.
2. Against the real service, as it is deployed: ``gunicorn -w 5 app:app``
   (2 x cores + 1 workers, started as bench/bench_service.py does) with its
   default limits, shared by the workers through Redis; or, with
   ``--workers 0``, ``grader serve`` as a small course starts it (its own
   defaults: gunicorn with 2 x cores + 1 workers sharing their limits in
   memory; ``--serve-workers 1`` for its one-process threaded server), best
   with ``--redis ''`` (no broker, as the Quick start). 8 honest students (a
   token each) post a ``lec4-homework`` submission with the two formulas of
   ``logistic-derivative`` (``σ(z)(1-σ(z))``, ``a(σ(wa) − y)``) 1.5 times a
   second each, their requests spread evenly; in alternating rounds, 4
   hostile clients (a token each, in a process of their own) post the worst
   submission (every list part 1000 nested ``sqrt`` formulas, every formula
   part a formula sympy needs seconds to prove equal to the reference,
   ``a(σ(wa) − y) + ((a+1)(a-1))^200 - (a^2-1)^200``) non-stop,
   alternately to ``/api/grade`` and ``/api/submissions`` (graded later in a
   job), sending again once a 429's ``Retry-After`` has passed (``--flood``: at
   once, ignoring it). The honest students' p50 / p99 / slowest latency, quiet
   and beside the hostile clients, and how many hostile submissions were
   graded or queued. ``--set GRADER_CPU_SHARE=0`` shows the service without
   its CPU share; ``--redis ''`` keeps the limits per worker process under
   plain gunicorn; ``BENCH_TRACE=1`` prints every honest request's time and
   latency.
   Aims: p99 beside them <= 2x the quiet p99; every honest request, formulas
   included, answered within 1 s.

Not run by the tests.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

N = 2**1000 + 12345
BIG_FRACTION = f"({N}/({N}+1))**1000"  # 617 characters; refused by the parser now
NESTED = "sqrt(" * 29 + "2" + ")" * 29  # 29 nested calls, 88 characters: the dearest formula per character
# Legal, and equal to the reference at every point, but sympy's simplify needs seconds to prove it: stopped at the
# answer's worker seconds. One per formula part, in its variables.
COSTLY_FORMULAS = {
    "sigmoid": "σ(z)(1-σ(z)) + ((z+1)(z-1))^200 - (z^2-1)^200",
    "loss": "a(σ(wa) − y) + ((a+1)(a-1))^200 - (a^2-1)^200",
}
COSTLY_FORMULA = COSTLY_FORMULAS["loss"]


def _balanced_sum(terms: int) -> str:
    """sqrt(2)/7 + … as a balanced tree of sums (a chain would pass the nesting limit of 30)."""
    if terms == 1:
        return "sqrt(2)/7"
    halves = (_balanced_sum(terms // 2), _balanced_sum(terms - terms // 2))
    return "+".join(half if "+" not in half else f"({half})" for half in halves)


LONG_SUM = _balanced_sum(79)  # 394 nodes (the limit is 400), under 1000 characters
HONEST = {
    "gd-parabola": {"iterates": "4, 2, 1, 0.5, 0.25, 0.125", "values": "18, 6, 3, 2.25, 2.0625, 2.015625"},
    "gd-step-2d": {"direction": "[-1, -2]", "new-point": [3.5, 2]},
    "minibatch-gradient": {"full": "[19/5, 11/5]", "batch": "[10/3, 2]"},
    "updates-per-epoch": {"b50": 24, "b200": "6", "b32": "38"},
}
HONEST_FORMULAS = {"sigmoid": "σ(z)(1-σ(z))", "loss": "a(σ(wa) − y)"}  # compared by sympy in its workers
HONEST_SUBMISSION = {  # no "student": a student token grades its own
    "assignment": "lec4-homework",
    "answers": {**{e: HONEST[e] for e in HONEST if e != "gd-parabola"}, "logistic-derivative": HONEST_FORMULAS},
}


def hostile_answers() -> dict[str, Any]:
    """The dearest answers to one part found (a list of 1000 formulas each; a formula the parser now refuses)."""
    return {
        "1000 × nested sqrt": [NESTED] * 1000,
        "1000 × 394-node sum": [LONG_SUM] * 1000,
        "1000 × distinct fractions": [f"{k}/{k + 7}*(3/7)**300" for k in range(1000)],
        "(N/(N+1))**1000, N of 1000 bits": BIG_FRACTION,
        "500-deep nested list": json.loads("[" * 500 + "1" + "]" * 500),
    }


def worst_submission(answer: list[Any]) -> dict[str, Any]:
    """Every part of every answers exercise given the list ``answer`` (a formula part: :data:`COSTLY_FORMULAS`),
    cut so that the JSON stays within the service's limit for a JSON submission (``MAX_JSON_BYTES``)."""
    from grader.specs.model import load_catalog
    from grader.web.service import MAX_JSON_BYTES

    limit = MAX_JSON_BYTES
    catalog = load_catalog()
    parts = [(e.id, p) for e in catalog.exercises.values() if e.kind == "answers" for p in e.parts]
    items = min(len(answer), (limit - 10_000) // (len(parts) * (len(json.dumps(answer[0])) + 2)))
    answers: dict[str, dict[str, Any]] = {}
    for exercise, part in parts:
        costly = COSTLY_FORMULAS.get(part.id, COSTLY_FORMULA)
        answers.setdefault(exercise, {})[part.id] = costly if part.kind == "expression" else answer[:items]
    return {"student": "s0002", "answers": answers}


def cpu_ms(function: Callable[[], Any], repeat: int = 5) -> float:
    """Median CPU milliseconds of this thread over ``repeat`` calls (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeat):
        start = time.thread_time()
        function()
        times.append((time.thread_time() - start) * 1000)
    return statistics.median(times)


def budgets_off() -> Any:
    """A context in which the budgets are infinite (the bounds of the parser still apply)."""
    from contextlib import contextmanager

    from grader import budget

    @contextmanager
    def off() -> Any:
        saved = budget.PART_SECONDS, budget.SUBMISSION_SECONDS
        budget.PART_SECONDS = budget.SUBMISSION_SECONDS = float("inf")
        try:
            yield
        finally:
            budget.PART_SECONDS, budget.SUBMISSION_SECONDS = saved

    return off()


def in_process() -> None:
    from grader.grading import grade
    from grader.specs.model import load_catalog

    catalog = load_catalog()

    def one_part(answer: Any) -> Callable[[], Any]:
        submission = {"answers": {"gd-parabola": {"iterates": answer}}}
        return lambda: grade(submission, catalog)

    print("One answer (gd-parabola iterates), CPU ms of grade(), median of 5:")
    print(f"{'answer':36} {'budgets on':>11} {'budgets off':>12}")
    honest = one_part(HONEST["gd-parabola"]["iterates"])
    print(f"{'honest: 4, 2, 1, 0.5, 0.25, 0.125':36} {cpu_ms(honest):11.2f} {'':>12}")
    worst = 0.0
    for name, answer in hostile_answers().items():
        on = cpu_ms(one_part(answer))
        with budgets_off():
            off = cpu_ms(one_part(answer))
        worst = max(worst, on)
        print(f"{name:36} {on:11.2f} {off:12.2f}")
    exact = cpu_ms(lambda: (Fraction(N, N + 1)) ** 1000, repeat=3)
    print(f"{'  (N/(N+1))**1000 as Fraction did it':36} {'':>11} {exact:12.2f}   (now refused before computing)")
    print(f"worst answer with budgets: {worst:.1f} ms (aim <= 50 ms)\n")

    from grader import budget

    print("One formula answer (logistic-derivative loss), CPU ms of this thread and of the sympy workers:")
    print(f"{'answer':36} {'thread':>11} {'workers':>12}   verdict")
    for answer in (HONEST_FORMULAS["loss"], COSTLY_FORMULA):
        submission = {"answers": {"logistic-derivative": {"loss": answer}}}
        grade(submission, catalog)  # warm: the worker has started, sympy's caches hold the reference
        start = time.thread_time()
        with budget.charged_to("bench") as account:
            part = grade(submission, catalog).exercises[0].parts[-1]
        thread = (time.thread_time() - start) * 1000
        verdict = f"{part.status}: {part.feedback[:60]}"
        print(f"{answer:36} {thread:11.2f} {account.worker_seconds * 1000:12.2f}   {verdict}")
    print(
        f"a formula's workers' time is bounded by its answer's worker seconds: {budget.SYMBOLIC_PART_SECONDS * 1000:.0f} ms\n"
    )

    print("A whole submission (every part of every answers exercise), CPU ms of grade():")
    honest_submission = {"answers": HONEST}
    print(f"{'honest (4 exercises)':36} {cpu_ms(lambda: grade(honest_submission, catalog)):11.2f}")
    worst = 0.0
    for name in ("1000 × nested sqrt", "1000 × 394-node sum", "1000 × distinct fractions"):
        submission = worst_submission(hostile_answers()[name])
        size = len(json.dumps(submission)) / 1e6
        on = cpu_ms(lambda submission=submission: grade(submission, catalog), repeat=3)
        with budgets_off():
            off = cpu_ms(lambda submission=submission: grade(submission, catalog), repeat=1)
        worst = max(worst, on)
        print(f"{'every part: ' + name:36} {on:11.2f} {off:12.2f}   ({size * 1000:.0f} KB of JSON)")
    print(f"worst submission with budgets: {worst:.0f} ms (aim <= 500 ms)\n")


def _client(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=60)


def _post(
    connection: http.client.HTTPConnection, body: bytes, token: str, path: str = "/api/grade"
) -> tuple[int, float]:
    """POST ``body`` to ``path``: the status, and the seconds of a 429's ``Retry-After``."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status, float(response.getheader("Retry-After") or 0)


def _honest_student(
    url: str, token: str, seconds: float, pace: float, delay: float, out: list[tuple[float, float, int]]
) -> None:
    """After ``delay`` seconds, post the honest submission again and again, ``pace`` requests a second, until
    ``seconds`` have passed: (seconds since the start, ms, status) of each."""
    connection = _client(url)
    body = json.dumps(HONEST_SUBMISSION).encode()
    began = time.monotonic()
    deadline = began + seconds
    next_start = began + delay
    time.sleep(delay)
    while time.monotonic() < deadline:
        start = time.perf_counter()
        status, _ = _post(connection, body, token)
        out.append((time.monotonic() - began, (time.perf_counter() - start) * 1000, status))
        next_start += 1 / pace
        time.sleep(max(0.0, next_start - time.monotonic()))
    connection.close()


def _honest_class(url: str, tokens: list[str], seconds: float, pace: float) -> tuple[list[float], int]:
    """The honest students at once (a thread each, their requests spread evenly in time): every latency, and how
    many requests were not answered 200."""
    out: list[tuple[float, float, int]] = []
    students = [
        threading.Thread(target=_honest_student, args=(url, token, seconds, pace, k / pace / len(tokens), out))
        for k, token in enumerate(tokens)
    ]
    for student in students:
        student.start()
    for student in students:
        student.join()
    if os.environ.get("BENCH_TRACE"):
        for at, ms, status in sorted(out):
            print(f"  {at:6.2f} s {ms:8.1f} ms {status}")
    return [ms for _, ms, _ in out], sum(status != 200 for _, _, status in out)


def _hostile_client(url: str, token: str, body: bytes, flood: bool, stop: Any, graded: Any, refused: Any) -> None:
    """Post ``body`` as fast as the service answers, alternately to /api/grade and /api/submissions (graded in a
    job), and after a 429 again at once (``flood``) or once its ``Retry-After`` has passed; count what was
    graded or queued and what was refused."""
    connection = _client(url)
    for path in itertools.cycle(("/api/grade", "/api/submissions")):
        if stop.is_set():
            break
        status, retry_after = _post(connection, body, token, path)
        with graded.get_lock():
            (graded if status in (200, 202) else refused).value += 1
        if status == 429 and not flood:
            stop.wait(retry_after)
    connection.close()


def _hostile_process(
    url: str, tokens: list[str], bodies: list[bytes], flood: bool, go: Any, stop: Any, graded: Any, refused: Any
) -> None:
    """The hostile clients, a thread each, in a process of their own (so that they share no GIL with the
    honest students' clients), started ahead and let loose by ``go`` (so that starting Python for them is not
    counted in the honest students' latency: it is this machine's work, not the service's)."""
    go.wait()
    clients = [
        threading.Thread(target=_hostile_client, args=(url, token, body, flood, stop, graded, refused))
        for token, body in zip(tokens, bodies, strict=True)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()


def _p(latencies: list[float], q: float) -> float:
    return sorted(latencies)[min(len(latencies) - 1, int(q * len(latencies)))]


def service(
    seconds: float,
    rounds: int,
    students: int,
    pace: float,
    workers: int,
    flood: bool,
    settings: dict[str, str],
    serve_workers: int | None = None,
) -> None:
    import multiprocessing

    from bench_service import free_port, service_env, start_gunicorn, start_server, stop, stop_on_sigterm

    from grader.store.db import Database
    from grader.store.users import add_user

    stop_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    env = service_env(work, **settings)
    db = Database(env["DATABASE_URL"])
    db.migrate()
    honest_tokens = [add_user(f"s00{k:02d}", db=db) for k in range(students)]
    attackers_tokens = [add_user(f"s01{k:02d}", db=db) for k in range(4)]  # four accounts, one per hostile client
    hostile_bodies = [
        json.dumps({**worst_submission([NESTED] * 1000), "student": f"s01{k:02d}"}).encode() for k in range(4)
    ]
    if workers:
        process, url = start_gunicorn("app:app", env, ROOT, work / "gunicorn.log", workers=workers)
    else:  # grader serve as a course starts it (its defaults, unless --serve-workers)
        port = free_port()
        grader = str(Path(sys.executable).with_name("grader"))
        command = [grader, "serve", "--port", str(port)]
        if serve_workers is not None:
            command += ["--workers", str(serve_workers)]
        process, url = start_server(command, port, env, work / "serve.log", ROOT)
    quiet: list[float] = []
    beside: list[float] = []
    errors = 0
    context = multiprocessing.get_context("spawn")
    graded, refused = context.Value("i", 0), context.Value("i", 0)
    try:
        _honest_class(url, honest_tokens, 2, pace)  # warm-up
        for _ in range(rounds):
            go, stop_event = context.Event(), context.Event()
            attackers = context.Process(
                target=_hostile_process,
                args=(url, attackers_tokens, hostile_bodies, flood, go, stop_event, graded, refused),
            )
            attackers.start()  # it waits for go
            time.sleep(2)  # ... once it has started
            latencies, failed = _honest_class(url, honest_tokens, seconds, pace)
            quiet += latencies
            errors += failed
            go.set()
            latencies, failed = _honest_class(url, honest_tokens, seconds, pace)
            stop_event.set()
            attackers.join()
            beside += latencies
            errors += failed
    finally:
        stop(process)
    shown = ", ".join(f"{k}={v}" for k, v in settings.items()) or "the service's defaults"
    server = (
        f"gunicorn -w {workers}"
        if workers
        else "grader serve" + (f" --workers {serve_workers}" if serve_workers else "")
    )
    print(
        f"The service ({server}, {os.cpu_count()} cores, {shown}), {rounds} alternating rounds of "
        f"{seconds:.0f} s; hostile clients {'ignore' if flood else 'wait out'} Retry-After; {students} honest students at {pace:g} requests/s each "
        f"(two formulas in each); hostile body {len(hostile_bodies[0]) / 1000:.0f} KB (list parts: nested sqrt formulas; formula parts: "
        "a formula slow to prove), to /api/grade and /api/submissions in turn"
    )
    print(f"{'honest students':32} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, latencies in (("quiet", quiet), ("beside 4 hostile clients", beside)):
        print(
            f"{name:32} {len(latencies):9d} {_p(latencies, 0.5):8.1f} {_p(latencies, 0.99):8.1f} {max(latencies):8.1f}"
        )
    print(
        f"p99 ratio {_p(beside, 0.99) / _p(quiet, 0.99):.2f}x (aim <= 2x); slowest honest request beside them "
        f"{max(beside) / 1000:.2f} s (aim <= 1 s); hostile requests graded or queued: "
        f"{graded.value}, refused: {refused.value}; honest requests not answered 200: {errors}"
    )


def _require_redis(url: str) -> None:
    """Stop with a clear message unless Redis answers at ``url`` (without it the service would lift the limits)."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        raise SystemExit(
            f"Redis does not answer at {url} ({exc}); start it, or pass --redis '' for limits per process"
        ) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="seconds per round and phase")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-service", action="store_true", help="only the in-process figures")
    parser.add_argument("--skip-in-process", action="store_true", help="only the service's figures")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn's worker processes (default: 2 x cores + 1); 0: grader serve with its own defaults",
    )
    parser.add_argument(
        "--serve-workers",
        type=int,
        default=None,
        help="with --workers 0: grader serve --workers N (1: its one-process threaded server)",
    )
    parser.add_argument(
        "--flood",
        action="store_true",
        help="hostile clients send again at once after a 429 (default: after Retry-After)",
    )
    parser.add_argument("--students", type=int, default=8, help="honest students posting at once")
    parser.add_argument("--pace", type=float, default=1.5, help="requests a second per honest student")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a service setting, e.g. GRADER_CPU_SHARE=0 to turn the CPU share off (default: the service's defaults)",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/14",
        help="the Redis that the workers share their limits through (GRADER_BROKER); '' keeps them per process",
    )
    args = parser.parse_args()
    settings = {"GRADER_BROKER": args.redis} if args.redis else {}
    settings.update(item.split("=", 1) for item in args.set)
    if settings.get("GRADER_BROKER"):
        _require_redis(settings["GRADER_BROKER"])
    if not args.skip_in_process:
        in_process()
    if not args.skip_service:
        service(
            args.seconds, args.rounds, args.students, args.pace, args.workers, args.flood, settings, args.serve_workers
        )


if __name__ == "__main__":
    main()
