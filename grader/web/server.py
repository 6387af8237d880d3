"""Run the service: ``serve(host, port, workers)`` (what ``grader serve`` calls).

By default (``workers=None``) the service runs as production should: gunicorn
with 2 × cores + 1 web worker processes (:func:`default_workers`), so that a
worker busy with a dear request (grading holds the interpreter's lock) leaves
the others free and the kernel shares the cores between them; one threaded
process let a few dear requests slow every other one (45× the quiet p99 beside
hostile clients; bench/bench_hostile.py). The workers share one set of rate
limits and CPU shares: in Redis with a broker (``GRADER_BROKER=redis://…``),
else in memory mapped before they are forked
(:class:`grader.web.ratelimit.SharedLimits`). Without a broker, queued
submissions are graded in one job process of their own (:class:`JobProcess`),
off the web workers: it re-queues at start what a previous run left
unfinished, takes each new submission from the store when a web worker
wakes it, charges each job to its student's share in the same memory, and
runs at a lower priority than the web workers (``JOB_NICENESS``): queued work
is never what a student waits for on a page.
Every process dies with the server (``PR_SET_PDEATHSIG``), so ``kill -9`` of
``grader serve`` leaves nothing running. SIGTERM stops gracefully: every web
worker finishes its request, the job process the jobs it is grading, and jobs
not started stay ``queued`` for the next start. Each web worker starts its
sympy worker ahead of the first formula. Behind a TLS proxy set
``GRADER_COOKIE_SECURE=1``.

``workers=1`` (or no gunicorn): werkzeug's threaded server in this process,
with its job threads, the same promises on SIGTERM and Ctrl-C, and unfinished
jobs re-queued at start; for trying the grader, not for a class under attack.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

STOP_SECONDS = 120.0  # how long a graceful stop waits for the jobs being graded
JOB_NICENESS = 10  # queued grading yields the CPU to the web workers: nobody waits on a page for it


def default_workers() -> int:
    """2 × cores + 1 when gunicorn is installed (gunicorn's own advice), else 1."""
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return 1
    return 2 * (os.cpu_count() or 1) + 1


def serve(host: str = "127.0.0.1", port: int = 5000, workers: int | None = None, **config: Any) -> None:
    """Serve the app until interrupted; ``config`` overrides settings (see :mod:`grader.web.config`)."""
    workers = default_workers() if workers is None else workers
    if workers > 1:
        try:
            _gunicorn(host, port, workers, config)
            return
        except ImportError:
            log.warning("gunicorn is not installed: serving with one process")
    from werkzeug.serving import run_simple

    from grader.checking import symbolic
    from grader.web import create_app

    app = create_app({"RECOVER_JOBS": True, **config})
    symbolic.start()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        signal.signal(signal.SIGTERM, previous)
        log.info("stopping: finishing the jobs being graded; jobs not started stay queued")
        app.extensions["grader"].jobs.shutdown(wait=True, cancel_pending=True)


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM ends the server as Ctrl-C does (werkzeug stops serving on KeyboardInterrupt)."""
    raise KeyboardInterrupt


def die_with_parent() -> None:
    """Linux: this process gets SIGKILL when the thread that forked it ends, however the parent ends."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)


class StoreQueue:
    """The job queue of grader serve's web workers: the submission is already stored ``queued``, so queueing it is
    waking the job process (a byte down a pipe; a full pipe is fine, the job process also looks every second)."""

    def __init__(self, wake_fd: int) -> None:
        self.wake_fd = wake_fd

    def submit(self, submission_id: str, student: str | None = None) -> None:
        try:
            os.write(self.wake_fd, b"\0")
        except BlockingIOError:
            pass

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        return None


class JobProcess:
    """The process that grades the submissions grader serve's web workers queue (see the module's docstring).

    Made before gunicorn forks its workers (they inherit :attr:`queue`'s end of
    the pipe); :meth:`start` forks it, and a thread restarts it should it die.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._wake_read, wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(wake_write, False)
        self.queue = StoreQueue(wake_write)
        self.pid = 0
        self._lifeline = -1
        self._stopping = threading.Event()

    def start(self) -> None:
        """Fork the job process now, and watch it: a job process that dies is started again."""
        self._fork()
        threading.Thread(target=self._watch, name="grader-job-process", daemon=True).start()

    def _fork(self) -> None:
        lifeline, held = os.pipe()  # the child holds the write end: its death is an end of file here
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(lifeline)
                die_with_parent()
                _run_jobs(self.config, self._wake_read)
                code = 0
            except BaseException:
                log.exception("the job process failed")
            finally:
                os._exit(code)
        os.close(held)
        self.pid, self._lifeline = pid, lifeline

    def _watch(self) -> None:
        while True:
            lifeline = self._lifeline
            try:
                while os.read(lifeline, 1):
                    pass
            except OSError:
                pass
            if self._stopping.is_set():
                return
            os.close(lifeline)
            log.error("the job process stopped; starting it again (unfinished submissions are re-queued)")
            time.sleep(1)
            self._fork()

    def begin_stop(self) -> None:
        """Ask the job process to finish the jobs it is grading and leave the others queued (at once, while the web
        workers finish their requests)."""
        if self.pid and not self._stopping.is_set():
            self._stopping.set()
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """:meth:`begin_stop`, then wait for the job process to end; kill it after ``timeout`` seconds."""
        self.begin_stop()
        if not self.pid:
            return
        try:
            ready, _, _ = select.select([self._lifeline], [], [], timeout)
            if not ready:
                log.warning("the job process did not stop within %.0f s: killing it", timeout)
                os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _run_jobs(config: dict[str, Any], wake_fd: int) -> None:
    """The job process: a local job pool over the store's queued submissions, until SIGTERM (or SIGINT)."""
    from grader.jobs import LocalJobs, charging
    from grader.specs.model import load_catalog
    from grader.store import submissions
    from grader.store.db import Database, is_unavailable
    from grader.web import config as web_config
    from grader.web.ratelimit import make_limiter

    for number in _GUNICORN_SIGNALS:  # a job process started again is forked from gunicorn's master: not its signals
        signal.signal(number, signal.SIG_DFL)
    try:
        os.nice(JOB_NICENESS)
    except OSError:
        pass
    stopping = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.set())
    settings = {**web_config.from_env(), **config}
    db = Database(settings["DATABASE_URL"])
    db.migrate()
    catalog = load_catalog(settings.get("EXERCISES"))
    shared = settings.get("SHARED_LIMITS")
    shares = make_limiter(
        float(settings["CPU_SHARE_MS_PER_MINUTE"]),
        float(settings["CPU_SHARE_BURST_MS"]),
        shared=shared.table("cpu") if shared is not None else None,
    )
    jobs = LocalJobs(
        db,
        catalog,
        workers=int(settings["JOB_WORKERS"]),
        notebook_grader=settings.get("NOTEBOOK_GRADER"),
        max_attempts=int(settings["MAX_ATTEMPTS"]),
        charge=charging(shares),
    )
    if float(settings.get("SPEC_RELOAD_SECONDS") or 0) > 0:
        from grader.web.reload import SpecReloader

        SpecReloader(jobs, settings.get("EXERCISES")).start(float(settings["SPEC_RELOAD_SECONDS"]))
    known = {submission_id for submission_id, _ in submissions.pending(db)}
    count = jobs.recover()
    if count:
        log.info("re-queued %d unfinished submissions", count)
    while not stopping.is_set():
        select.select([wake_fd], [], [], 1.0)
        try:
            while os.read(wake_fd, 4096):
                pass
        except BlockingIOError:
            pass
        try:
            known = _take_new(db, jobs, known)
        except Exception as exc:
            if not is_unavailable(exc):
                log.exception("could not look for queued submissions")
    log.info("stopping: finishing the jobs being graded; jobs not started stay queued")
    jobs.shutdown(wait=True, cancel_pending=True)


_GUNICORN_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGCHLD", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGTTIN", "SIGTTOU")
    if hasattr(signal, name)
)


def _take_new(db: Any, jobs: Any, known: set[str]) -> set[str]:
    """Hand the job pool each submission queued since the last look; returns the ids still unfinished that it has."""
    from grader.store import submissions

    pending = submissions.pending(db)
    for submission_id, student in pending:
        if submission_id not in known:
            stored = submissions.get(db, submission_id)
            if stored is not None and stored.status == "queued":  # "running" ones belong to a job already
                known.add(submission_id)
                jobs.submit(submission_id, student)
    return known & {submission_id for submission_id, _ in pending}


def _gunicorn(host: str, port: int, workers: int, config: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    from grader.web import config as web_config
    from grader.web.ratelimit import SharedLimits

    config = dict(config)
    job_process = None
    if not (config.get("GRADER_BROKER") or web_config.from_env().get("GRADER_BROKER")):
        config.setdefault("SHARED_LIMITS", SharedLimits())  # mapped here, before the fork: one table for all
        job_process = JobProcess(config)
        config.setdefault("JOBS", job_process.queue)

    def post_fork(server: Any, worker: Any) -> None:
        die_with_parent()

    def when_ready(server: Any) -> None:
        """The job process stops when gunicorn starts stopping (TERM, INT, QUIT), not once the web workers are gone."""
        for name in ("handle_term", "handle_int", "handle_quit"):
            handler = getattr(server, name)

            def stopping(handler: Any = handler) -> None:
                if job_process is not None:
                    job_process.begin_stop()
                handler()

            setattr(server, name, stopping)

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("when_ready", when_ready)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn 24+: no socket in the user's home
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            from grader.checking import symbolic
            from grader.web import create_app

            app = create_app(config or None)
            symbolic.start()
            return app

    master = os.getpid()
    if job_process is not None:
        job_process.start()
    try:
        Application().run()
    finally:  # gunicorn's workers are forked inside run(): they come through here too when they exit
        if job_process is not None and os.getpid() == master:
            log.info("stopping: finishing the jobs being graded; jobs not started stay queued")
            job_process.stop()
