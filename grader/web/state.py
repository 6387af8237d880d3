"""What the app keeps for its whole life: the database, the catalog, the job queue, the limiters.

Stored in ``app.extensions["grader"]``; :func:`state` returns the current app's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from grader.jobs import JobQueue
from grader.store.db import Database
from grader.store.users import Principal, authenticate, hash_token
from grader.web.ratelimit import FailedLogins, Limiter


@dataclass
class GraderState:
    db: Database
    catalog: Any
    jobs: JobQueue
    limiter: Limiter  # requests per caller
    cpu_limiter: Limiter  # CPU milliseconds per caller
    login_failures: FailedLogins  # failed logins per token tried and per address
    auth_cache_seconds: float = 5.0
    _auth_cache: dict[str, tuple[Principal | None, float]] = field(default_factory=dict)
    _auth_lock: threading.Lock = field(default_factory=threading.Lock)

    def principal(self, token: str) -> Principal | None:
        """The principal of ``token`` (None if unknown, revoked or expired), cached briefly."""
        digest = hash_token(token)
        now = time.monotonic()
        cached = self._auth_cache.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        principal = authenticate(self.db, token)
        if self.auth_cache_seconds > 0:
            with self._auth_lock:
                if len(self._auth_cache) > 50_000:
                    self._auth_cache.clear()
                self._auth_cache[digest] = (principal, now + self.auth_cache_seconds)
        return principal


def state() -> GraderState:
    """The current app's :class:`GraderState`."""
    return current_app.extensions["grader"]
