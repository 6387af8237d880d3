"""Run the service: ``serve(host, port, workers)`` (what ``grader serve`` calls).

One worker: werkzeug's threaded development server, with unfinished
background jobs re-queued at start. SIGTERM (and Ctrl-C) stop it gracefully:
no new requests, jobs not started yet stay ``queued`` for the next start, and
the jobs being graded are finished before the process exits. More workers:
gunicorn with that many worker processes (``gunicorn -w 5 'app:app'`` is the
same from a shell, and what production should run, 2 × cores + 1 workers behind
a TLS proxy with ``GRADER_COOKIE_SECURE=1``; one threaded process lets a few
dear requests slow every other one; with several workers use Celery,
``GRADER_BROKER=redis://…``, so that background jobs survive a worker restart).
"""

from __future__ import annotations

import logging
import signal
from typing import Any

log = logging.getLogger(__name__)


def serve(host: str = "127.0.0.1", port: int = 5000, workers: int = 1, **config: Any) -> None:
    """Serve the app until interrupted; ``config`` overrides settings (see :mod:`grader.web.config`)."""
    if workers > 1:
        try:
            _gunicorn(host, port, workers, config)
            return
        except ImportError:
            log.warning("gunicorn is not installed: serving with one process")
    from werkzeug.serving import run_simple

    from grader.web import create_app

    app = create_app({"RECOVER_JOBS": True, **config})
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


def _gunicorn(host: str, port: int, workers: int, config: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    from grader.web import create_app

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return create_app(config or None)

    Application().run()
