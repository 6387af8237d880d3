"""The service's settings, read from the environment (a dict passed to ``create_app`` overrides them).

| setting | environment | default |
|---|---|---|
| ``DATABASE_URL`` | ``DATABASE_URL`` | ``sqlite:///<data dir>/grader.db`` |
| ``GRADER_BROKER`` | ``GRADER_BROKER`` | none: a thread pool in the server grades in the background |
| ``GRADER_QUEUE`` | ``GRADER_QUEUE`` | ``grader``: the broker queue (workers need the same) |
| ``SECRET_KEY`` | ``GRADER_SECRET`` | the course secret kept in the data folder |
| ``MAX_CONTENT_LENGTH`` | ``GRADER_MAX_UPLOAD_MB`` | 5 MB per request |
| ``STORAGE_QUOTA`` | ``GRADER_QUOTA_MB`` | 50 MB of stored submissions per student, counted in bytes (0: no quota); staff are not limited |
| ``GRADER_OPEN`` | ``GRADER_OPEN=1`` | off: every submission needs a token |
| ``RATE_LIMIT_PER_MINUTE`` | ``GRADER_RATE_LIMIT`` | 120 requests a minute per user, else per address (0: no limit); in Redis with a Redis broker |
| ``RATE_LIMIT_BURST`` | ``GRADER_RATE_BURST`` | 30 requests at once |
| ``LOGIN_FAILURES_PER_ADDRESS`` | ``GRADER_LOGIN_FAILURES_PER_ADDRESS`` | 20 failed logins per client address at once, then 20 a minute (0: no limit); past it, failed logins get a 429; valid ones are never refused |
| ``LOGIN_FAILURES_PER_TOKEN`` | ``GRADER_LOGIN_FAILURES_PER_TOKEN`` | 10 failed logins with one token (unknown, revoked or expired) at once, then 10 a minute (0: no limit) |
| ``TRUSTED_PROXIES`` | ``GRADER_TRUSTED_PROXIES`` | 0: no ``X-Forwarded-*`` header is trusted; N: the service is behind N reverse proxies, and the client address (limits, logs) and scheme are taken from ``X-Forwarded-For`` and ``X-Forwarded-Proto`` as the last N proxies set them (Werkzeug's ``ProxyFix``) |
| ``CPU_SHARE_MS_PER_MINUTE`` | ``GRADER_CPU_SHARE`` | 1000 ms of server CPU a minute per user, else per address, for the requests it makes (0: no limit); past it, 429 until the share has refilled |
| ``CPU_SHARE_BURST_MS`` | ``GRADER_CPU_BURST`` | 300 ms of CPU at once |
| ``JOB_WORKERS`` | ``GRADER_JOB_WORKERS`` | 2 background threads |
| ``MAX_WAITING_PER_STUDENT`` | ``GRADER_MAX_WAITING`` | 10 submissions of one student queued or running at once; past it a 429 (0: no limit); staff are not limited |
| ``MAX_ATTEMPTS`` | ``GRADER_MAX_ATTEMPTS`` | 3 grading attempts per submission |
| ``NOTEBOOK_GRADER`` | ``GRADER_NOTEBOOK_GRADER`` | ``grader.notebooks.batch:grade_notebook`` |
| ``RECOVER_JOBS`` | ``GRADER_RECOVER_JOBS=1`` | off: re-queue unfinished submissions at start |
| ``EXERCISES`` | ``GRADER_EXERCISES`` | the project's ``exercises/`` folder |
| ``COOKIE_SECURE`` | ``GRADER_COOKIE_SECURE=1`` | off: set it behind HTTPS |
| ``TRUSTED_ORIGINS`` | ``GRADER_TRUSTED_ORIGINS`` | none: forms are accepted from this host only; list others (``https://grader.example.edu``, comma-separated) where a proxy rewrites ``Host`` |
| ``AUTH_CACHE_SECONDS`` | ``GRADER_AUTH_CACHE`` | 5 s: how long a checked token is trusted without a lookup |
| ``SPEC_RELOAD_SECONDS`` | ``GRADER_SPEC_RELOAD`` | 2 s: how often the exercises folder is checked for changed specs (0: never; SIGHUP checks at once) |

Objects may be injected through the dict too: ``CATALOG`` (a loaded
catalog), ``DATABASE`` (a :class:`grader.store.Database`), ``JOBS`` (a job
queue), and ``NOTEBOOK_GRADER`` as a callable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from grader.jobs import DEFAULT_QUEUE
from grader.store.db import default_url

MEGABYTE = 1024 * 1024


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting, from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    return {
        "DATABASE_URL": env.get("DATABASE_URL") or default_url(),
        "GRADER_BROKER": env.get("GRADER_BROKER") or None,
        "GRADER_QUEUE": env.get("GRADER_QUEUE") or DEFAULT_QUEUE,
        "SECRET_KEY": env.get("GRADER_SECRET") or None,
        "MAX_CONTENT_LENGTH": int(_float(env.get("GRADER_MAX_UPLOAD_MB"), 5) * MEGABYTE),
        "STORAGE_QUOTA": int(_float(env.get("GRADER_QUOTA_MB"), 50) * MEGABYTE),
        "GRADER_OPEN": _flag(env.get("GRADER_OPEN")),
        "RATE_LIMIT_PER_MINUTE": _float(env.get("GRADER_RATE_LIMIT"), 120),
        "RATE_LIMIT_BURST": _float(env.get("GRADER_RATE_BURST"), 30),
        "LOGIN_FAILURES_PER_ADDRESS": _float(env.get("GRADER_LOGIN_FAILURES_PER_ADDRESS"), 20),
        "LOGIN_FAILURES_PER_TOKEN": _float(env.get("GRADER_LOGIN_FAILURES_PER_TOKEN"), 10),
        "TRUSTED_PROXIES": max(0, int(_float(env.get("GRADER_TRUSTED_PROXIES"), 0))),
        "CPU_SHARE_MS_PER_MINUTE": _float(env.get("GRADER_CPU_SHARE"), 1000),
        "CPU_SHARE_BURST_MS": _float(env.get("GRADER_CPU_BURST"), 300),
        "JOB_WORKERS": int(_float(env.get("GRADER_JOB_WORKERS"), 2)),
        "MAX_WAITING_PER_STUDENT": int(_float(env.get("GRADER_MAX_WAITING"), 10)),
        "MAX_ATTEMPTS": int(_float(env.get("GRADER_MAX_ATTEMPTS"), 3)),
        "NOTEBOOK_GRADER": env.get("GRADER_NOTEBOOK_GRADER") or None,
        "RECOVER_JOBS": _flag(env.get("GRADER_RECOVER_JOBS")),
        "EXERCISES": env.get("GRADER_EXERCISES") or None,
        "COOKIE_SECURE": _flag(env.get("GRADER_COOKIE_SECURE")),
        "AUTH_CACHE_SECONDS": _float(env.get("GRADER_AUTH_CACHE"), 5),
        "TRUSTED_ORIGINS": [o.strip() for o in (env.get("GRADER_TRUSTED_ORIGINS") or "").split(",") if o.strip()],
        "SPEC_RELOAD_SECONDS": _float(env.get("GRADER_SPEC_RELOAD"), 2),
    }
