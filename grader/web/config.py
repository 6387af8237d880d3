"""The service's settings as Flask config keys, from :mod:`grader.settings` (a dict passed to ``create_app``
overrides them). Every variable, its default and what it does: docs/settings.md.

Objects may be injected through the dict too: ``CATALOG`` (a loaded
catalog), ``DATABASE`` (a :class:`grader.store.Database`), ``JOBS`` (a job
queue), and ``NOTEBOOK_GRADER`` as a callable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.jobs import DEFAULT_QUEUE
from grader.settings import read
from grader.store.db import default_url

MEGABYTE = 1024 * 1024


def from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting as the app's config keys, read from ``env`` (default: the process's environment)."""
    settings = read(env)
    return {
        "DATABASE_URL": settings.database_url or default_url(),
        "GRADER_BROKER": settings.broker,
        "GRADER_QUEUE": settings.queue or DEFAULT_QUEUE,
        "SECRET_KEY": settings.secret,
        "MAX_CONTENT_LENGTH": int(settings.max_upload_mb * MEGABYTE),
        "STORAGE_QUOTA": int(settings.quota_mb * MEGABYTE),
        "GRADER_OPEN": settings.open,
        "RATE_LIMIT_PER_MINUTE": settings.rate_limit,
        "RATE_LIMIT_BURST": settings.rate_burst,
        "LOGIN_FAILURES_PER_ADDRESS": settings.login_failures_per_address,
        "LOGIN_FAILURES_PER_TOKEN": settings.login_failures_per_token,
        "TRUSTED_PROXIES": max(0, settings.trusted_proxies),
        "CPU_SHARE_MS_PER_MINUTE": settings.cpu_share,
        "CPU_SHARE_BURST_MS": settings.cpu_burst,
        "JOB_WORKERS": settings.job_workers,
        "MAX_WAITING_PER_STUDENT": settings.max_waiting,
        "MAX_ATTEMPTS": settings.max_attempts,
        "NOTEBOOK_GRADER": settings.notebook_grader,
        "RECOVER_JOBS": settings.recover_jobs,
        "EXERCISES": str(settings.exercises) if settings.exercises else None,
        "COOKIE_SECURE": settings.cookie_secure,
        "AUTH_CACHE_SECONDS": settings.auth_cache,
        "TRUSTED_ORIGINS": list(settings.trusted_origins),
        "SPEC_RELOAD_SECONDS": settings.spec_reload,
    }
