"""New or changed specs reach a running server without a restart, and only once they are valid.

:class:`SpecReloader` watches the exercises folder (every ``SPEC_RELOAD_SECONDS``,
and at once on ``SIGHUP`` where the process has no other use for that
signal). When a file's size or modification time changes it loads the whole
folder again and validates the exercises whose files changed (every
exercise when ``course.yaml`` changed), as ``grader validate`` does with a
few seeds. A valid folder replaces the catalog the service grades with (and
the one the local job queue uses); a broken one is refused: the old catalog
stays, and one log line says which file and why. The same broken state is
not tried again until a file changes once more.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from grader.paths import exercises_dir

log = logging.getLogger("grader.specs")

Fingerprint = dict[str, tuple[int, int]]


def fingerprint(folder: Path) -> Fingerprint:
    """Size and modification time (ns) of every spec file in ``folder``."""
    prints: Fingerprint = {}
    for file in sorted(folder.glob("*.yaml")):
        try:
            stat = file.stat()
        except OSError:
            continue
        prints[file.name] = (stat.st_size, stat.st_mtime_ns)
    return prints


class SpecReloader:
    """Replaces ``target.catalog`` (and ``jobs.catalog``) by a validated reload of ``folder`` when it changes."""

    def __init__(self, target: Any, folder: Path | str | None, *, seeds: int = 3, jobs: Any = None) -> None:
        self.target = target
        self.jobs = jobs
        self.folder = Path(folder) if folder else exercises_dir()
        self.seeds = seeds
        self.seen = fingerprint(self.folder)
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def check(self) -> bool | None:
        """Reload if a spec file changed: True if the new specs were taken, False if refused, None if unchanged."""
        with self._lock:
            now = fingerprint(self.folder)
            if now == self.seen:
                return None
            changed = {name for name in now.keys() | self.seen.keys() if now.get(name) != self.seen.get(name)}
            self.seen = now
            return self._reload(changed)

    def _reload(self, changed: set[str]) -> bool:
        from grader.specs.model import SpecError, load_catalog
        from grader.specs.validate import Report, validate_exercise

        files = ", ".join(sorted(changed))
        try:
            catalog = load_catalog(self.folder)
        except SpecError as exc:
            log.warning("spec change refused (%s): %s; the previous specs stay in use", files, exc)
            return False
        report = Report()
        for exercise in catalog.exercises.values():
            if "course.yaml" in changed or exercise.path.name in changed:
                validate_exercise(catalog, exercise, self.seeds, report, search=False)
        if report.failures:
            more = f" (and {len(report.failures) - 1} more)" if len(report.failures) > 1 else ""
            log.warning(
                "spec change refused (%s): %s%s; the previous specs stay in use", files, report.failures[0], more
            )
            return False
        self.target.catalog = catalog
        if self.jobs is not None and hasattr(self.jobs, "catalog"):
            self.jobs.catalog = catalog
        log.info("specs reloaded (%s): %d exercises", files, len(catalog.exercises))
        return True

    def start(self, interval: float) -> None:
        """Check every ``interval`` seconds (and on ``SIGHUP``) in a daemon thread."""
        thread = threading.Thread(target=self._watch, args=(interval,), name="spec-reloader", daemon=True)
        thread.start()
        _on_sighup(self.wake.set)

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()

    def _watch(self, interval: float) -> None:
        while not self._stop.is_set():
            self.wake.wait(interval)
            self.wake.clear()
            if self._stop.is_set():
                return
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watcher must outlive any surprise; the old specs stay
                log.exception("checking the specs for changes failed; the previous specs stay in use")


def _on_sighup(handler: Any) -> None:
    """Call ``handler`` on SIGHUP, where this is the main thread and nothing else handles that signal."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, None):
        return  # a process manager (gunicorn's master, say) already uses it
    signal.signal(signal.SIGHUP, lambda signum, frame: handler())
