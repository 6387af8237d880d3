"""Token-bucket rate limits, one bucket per key: in this process, or shared through Redis.

Each key (a token's hash, or a client address) may make ``burst`` requests at
once and then ``per_minute`` a minute. ``check`` answers 0 when the request
may go ahead, else the seconds to wait (for ``Retry-After``); a limit of 0
turns limiting off.

:class:`RateLimiter` keeps its buckets in memory: exact for one server
process (``grader serve``). :class:`RedisRateLimiter` keeps them in Redis, so
that every gunicorn worker on every machine shares them; :func:`make_limiter`
picks it when the service has a Redis broker (``GRADER_BROKER=redis://…``).
A Redis that does not answer lets requests through (and says so in the log):
a rate limit must not turn an outage into refused submissions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Limiter(Protocol):
    """What the routes need: ``check(key)`` → 0, or the seconds to wait."""

    def check(self, key: str) -> float: ...


class TokenBuckets:
    """The limit: ``rate`` tokens a second (``per_minute`` / 60) into buckets of ``capacity`` (``burst``, at least 1)."""

    def __init__(self, per_minute: float, burst: float) -> None:
        self.rate = max(0.0, per_minute) / 60.0
        self.capacity = max(1.0, burst)

    @property
    def enabled(self) -> bool:
        return self.rate > 0


class RateLimiter(TokenBuckets):
    """Thread-safe token buckets in this process's memory."""

    def __init__(
        self,
        per_minute: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        super().__init__(per_minute, burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """Take one token from ``key``'s bucket: 0.0 if there was one, else seconds until there is."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                if len(self._buckets) >= self.max_keys and key not in self._buckets:
                    self._evict(now)
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _evict(self, now: float) -> None:
        """Forget buckets that have refilled completely (they behave like new ones)."""
        full = self.capacity / self.rate
        for key, (_, last) in list(self._buckets.items()):
            if now - last >= full:
                del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()


# One bucket as a Redis hash {t: tokens, ts: seconds}; Redis's own clock, so that machines need not agree.
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(bucket[1]) or capacity
local last = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(wait)
"""


class RedisRateLimiter(TokenBuckets):
    """The same token buckets, kept in Redis under ``<namespace>:ratelimit:<key>`` and shared by all processes."""

    def __init__(self, url: str, per_minute: float, burst: float, *, namespace: str = "grader") -> None:
        import redis

        super().__init__(per_minute, burst)
        self.prefix = f"{namespace}:ratelimit:"
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self._client.register_script(_TAKE)
        self._warned = 0.0

    def check(self, key: str) -> float:
        """Take one token from ``key``'s shared bucket: 0.0 if there was one, else seconds until there is."""
        if not self.enabled:
            return 0.0
        try:
            return float(self._take(keys=[self.prefix + key], args=[self.rate, self.capacity]))
        except Exception as exc:  # Redis down or slow: let the request through
            now = time.monotonic()
            if now - self._warned > 60:
                self._warned = now
                log.warning("rate limits are off while Redis does not answer (%s)", type(exc).__name__)
            return 0.0


def make_limiter(
    per_minute: float, burst: float, *, redis_url: str | None = None, namespace: str = "grader"
) -> Limiter:
    """Shared through Redis when a ``redis://`` (or ``rediss://``) URL is given, else in this process."""
    if redis_url and redis_url.startswith(("redis://", "rediss://")) and per_minute > 0:
        return RedisRateLimiter(redis_url, per_minute, burst, namespace=namespace)
    return RateLimiter(per_minute, burst)
