"""A token-bucket rate limiter kept in memory (per process), one bucket per key.

Each key (a token's hash, or a client address) may make ``burst`` requests at
once and then ``per_minute`` a minute. :meth:`RateLimiter.check` answers 0
when the request may go ahead, else the seconds to wait (for ``Retry-After``).
With several server processes each keeps its own buckets, so the effective
limit is per process; a limit of 0 turns limiting off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Thread-safe token buckets: ``per_minute`` refill rate, ``burst`` capacity."""

    def __init__(
        self,
        per_minute: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = max(0.0, per_minute) / 60.0
        self.capacity = max(1.0, burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

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
