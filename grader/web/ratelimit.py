"""Token-bucket rate limits, one bucket per caller: in this process, or shared through Redis.

A bucket holds up to ``burst`` tokens and gains ``per_minute`` a minute.
``check(key, verified=...)`` takes one token (one request): it answers 0 when
the request may go ahead, else the seconds to wait (for ``Retry-After``); a
limit of 0 turns limiting off. Tokens may also stand for a cost known only
afterwards, such as the milliseconds of CPU a request used:
``check(key, cost=0)`` admits while the bucket is not empty, and
``charge(key, amount)`` takes the cost once it is known, going into debt if it
must, which the caller then waits off.

Callers come in two kinds, kept apart. A *verified* key is a user whose token
authenticated: there are only as many as there are users. Any other key is an
anonymous client address, and anyone can make up new ones (a botnet, an IPv6
prefix). Each kind has its own table of at most ``max_keys`` buckets, and a
full table forgets its least recently used bucket. So a flood of new
addresses can only push out other anonymous buckets, never a user's, and no
flood can give the flooder's own bucket back (it is the most recently used).
Forgetting a bucket only gives that caller a full one again, which it
mostly is already: the least recently used have had the longest to refill.

:class:`RateLimiter` keeps its buckets in memory: exact for one server
process (``grader serve --workers 1``). :class:`SharedMemoryRateLimiter`
keeps them in memory that ``grader serve`` maps before gunicorn forks its
workers (:class:`SharedTable`), so that all the workers of one machine share
them without Redis. :class:`RedisRateLimiter` keeps them in Redis, so that
every gunicorn worker on every machine shares them; :func:`make_limiter`
picks it when the service has a Redis broker (``GRADER_BROKER=redis://…``).
A Redis that does not answer lets requests through (and says so in the log):
a rate limit must not turn an outage into refused submissions.

Logins are limited by :class:`FailedLogins`, which counts only the logins that
fail, in two sets of buckets: per token tried and per client address.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import mmap
import os
import struct
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

log = logging.getLogger(__name__)

MAX_KEYS = 100_000  # buckets per kind (users, anonymous addresses), in each process or in Redis


class Limiter(Protocol):
    """What the routes need: ``check`` → 0, or the seconds to wait; ``charge`` to take a cost known afterwards."""

    def check(self, key: str, *, verified: bool = False, cost: float = 1.0) -> float: ...

    def charge(self, key: str, amount: float, *, verified: bool = False) -> None: ...


class TokenBuckets:
    """The limit: ``rate`` tokens a second (``per_minute`` / 60) into buckets of ``capacity`` (``burst``, at least 1)."""

    def __init__(self, per_minute: float, burst: float) -> None:
        self.rate = max(0.0, per_minute) / 60.0
        self.capacity = max(1.0, burst)

    @property
    def enabled(self) -> bool:
        return self.rate > 0


class RateLimiter(TokenBuckets):
    """Thread-safe token buckets in this process's memory: two tables (users, addresses) of ``max_keys`` each."""

    def __init__(
        self,
        per_minute: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        super().__init__(per_minute, burst)
        self.clock = clock
        self.max_keys = max(1, max_keys)
        # key -> (tokens, last time), least recently used first
        self._tables: dict[bool, OrderedDict[str, tuple[float, float]]] = {True: OrderedDict(), False: OrderedDict()}
        self._lock = threading.Lock()

    def check(self, key: str, *, verified: bool = False, cost: float = 1.0) -> float:
        """Take ``cost`` tokens from ``key``'s bucket if it holds at least ``max(cost, 1)``: 0.0, else the seconds
        until it will."""
        return self._take(key, verified, cost, need=max(cost, 1.0))

    def charge(self, key: str, amount: float, *, verified: bool = False) -> None:
        """Take ``amount`` tokens from ``key``'s bucket, below zero if need be."""
        self._take(key, verified, amount, need=-math.inf)

    def _take(self, key: str, verified: bool, cost: float, need: float) -> float:
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            table = self._tables[verified]
            tokens, last = table.pop(key, (self.capacity, now))  # re-inserted below: the most recently used
            tokens = min(self.capacity, tokens + max(0.0, now - last) * self.rate)
            wait = 0.0 if tokens >= need else (need - tokens) / self.rate
            while len(table) >= self.max_keys:
                table.popitem(last=False)
            table[key] = (tokens - cost if not wait else tokens, now)
            return wait

    def size(self, *, verified: bool) -> int:
        """How many buckets of that kind are kept."""
        with self._lock:
            return len(self._tables[verified])


class SharedTable:
    """Buckets in memory shared by the processes forked after it is made (gunicorn's workers under ``grader serve``).

    Two tables (users, addresses) of ``slots`` slots each, in one anonymous
    shared mapping; a slot holds a keyed 64-bit hash of the bucket's key (the
    secret is made with the table, so nobody can aim keys at a slot), its
    tokens and when it was last used (``time.monotonic``, one clock for every
    process of the machine). A key lives in the first of ``WINDOW`` slots from
    its hash that holds it; a new key takes an empty one there, else the least
    recently used one: so, as in :class:`RateLimiter`, a flood of new addresses
    pushes out only anonymous buckets, the oldest first, and never the
    flooder's own (it was just used). A lock file (``lockf``: released by the
    kernel if a worker dies holding it) and a thread lock guard every update.
    """

    SLOT = struct.Struct("<Qdd")
    WINDOW = 16

    def __init__(self, slots: int = 1 << 15) -> None:
        self.slots = 1 << max(4, (max(16, slots) - 1).bit_length())
        self._memory = mmap.mmap(-1, 2 * self.slots * self.SLOT.size)  # MAP_SHARED: the same pages after fork
        self._lock_file = tempfile.TemporaryFile(prefix="grader-limits-")
        self._secret = os.urandom(16)
        self._thread_lock = threading.Lock()
        _tables.add(self)

    def _reset_after_fork(self) -> None:
        self._thread_lock = threading.Lock()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.lockf(self._lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._lock_file, fcntl.LOCK_UN)

    def _hash(self, key: str) -> int:
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8, key=self._secret).digest()
        return int.from_bytes(digest, "little") | 1  # 0 marks an empty slot

    def take(self, key: str, verified: bool, rate: float, capacity: float, cost: float, need: float) -> float:
        """Refill ``key``'s bucket, take ``cost`` if it holds ``need``: 0.0, else the seconds until it will."""
        wanted = self._hash(key)
        base = 0 if verified else self.slots
        first = wanted & (self.slots - 1)
        size = self.SLOT.size
        now = time.monotonic()
        with self._locked():
            chosen, empty, oldest, oldest_use = None, None, base + first, math.inf
            for step in range(self.WINDOW):
                index = base + ((first + step) & (self.slots - 1))
                held, tokens, last = self.SLOT.unpack_from(self._memory, index * size)
                if held == wanted:
                    chosen = index
                    tokens = min(capacity, tokens + max(0.0, now - last) * rate)
                    break
                if held == 0:
                    empty = index if empty is None else empty
                elif last < oldest_use:
                    oldest, oldest_use = index, last
            if chosen is None:  # a new key: an empty slot, else the least recently used one, with a full bucket
                chosen, tokens = (empty if empty is not None else oldest), capacity
            wait = 0.0 if tokens >= need else (need - tokens) / rate
            self.SLOT.pack_into(self._memory, chosen * size, wanted, tokens - cost if not wait else tokens, now)
            return wait

    def size(self, *, verified: bool) -> int:
        """How many buckets of that kind are kept."""
        base = 0 if verified else self.slots
        with self._locked():
            return sum(
                1
                for index in range(base, base + self.slots)
                if self.SLOT.unpack_from(self._memory, index * self.SLOT.size)[0]
            )


_tables: weakref.WeakSet[SharedTable] = weakref.WeakSet()


def _reset_tables_after_fork() -> None:
    for table in list(_tables):
        table._reset_after_fork()


os.register_at_fork(after_in_child=_reset_tables_after_fork)


class SharedMemoryRateLimiter(TokenBuckets):
    """The same token buckets in a :class:`SharedTable`: one limit for all the workers forked from one process."""

    def __init__(self, table: SharedTable, per_minute: float, burst: float) -> None:
        super().__init__(per_minute, burst)
        self.table = table

    def check(self, key: str, *, verified: bool = False, cost: float = 1.0) -> float:
        """As :meth:`RateLimiter.check`."""
        if not self.enabled:
            return 0.0
        return self.table.take(key, verified, self.rate, self.capacity, cost, need=max(cost, 1.0))

    def charge(self, key: str, amount: float, *, verified: bool = False) -> None:
        """As :meth:`RateLimiter.charge`."""
        if self.enabled:
            self.table.take(key, verified, self.rate, self.capacity, amount, need=-math.inf)

    def size(self, *, verified: bool) -> int:
        return self.table.size(verified=verified)


class SharedLimits:
    """The :class:`SharedTable` of each limit the service keeps (requests, CPU share, failed logins per token and
    per address), made together before the fork."""

    NAMES = ("requests", "cpu", "login-token", "login-address")

    def __init__(self, slots: int = 1 << 15) -> None:
        self.tables = {name: SharedTable(slots) for name in self.NAMES}

    def table(self, name: str) -> SharedTable:
        return self.tables[name]


# One bucket as a Redis hash {t: tokens, ts: seconds}, on Redis's own clock so that machines need not agree: take
# ARGV[4] tokens if it holds at least ARGV[5] (a charge passes a need of -1e300). It expires once it would be full
# again. An anonymous bucket is also listed in KEYS[2], a sorted set by last use
# that holds at most ARGV[3] of them: past that, the least recently used are forgotten.
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, need = tonumber(ARGV[4]), tonumber(ARGV[5])
local ttl = math.ceil(capacity / rate) + 1
local bucket = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(bucket[1]) or capacity
local last = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= need then tokens = tokens - cost else wait = (need - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((capacity - math.min(0, tokens)) / rate) + 1)
if KEYS[2] then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
  redis.call('ZADD', KEYS[2], now, KEYS[1])
  local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
  if over > 0 then
    local oldest = redis.call('ZPOPMIN', KEYS[2], over)
    for i = 1, #oldest, 2 do redis.call('DEL', oldest[i]) end
  end
  redis.call('EXPIRE', KEYS[2], ttl)
end
return tostring(wait)
"""


class RedisRateLimiter(TokenBuckets):
    """The same token buckets, kept in Redis and shared by all processes.

    Users' buckets are ``<namespace>:ratelimit:user:<key>``; anonymous ones are
    ``<namespace>:ratelimit:anonymous:<key>``, at most ``max_keys`` of them,
    listed by last use in ``<namespace>:ratelimit:anonymous``.
    """

    def __init__(
        self, url: str, per_minute: float, burst: float, *, namespace: str = "grader", max_keys: int = MAX_KEYS
    ) -> None:
        import redis

        super().__init__(per_minute, burst)
        self.prefix = f"{namespace}:ratelimit:"
        self.anonymous = f"{self.prefix}anonymous"
        self.max_keys = max(1, max_keys)
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self._client.register_script(_TAKE)
        self._warned = 0.0

    def check(self, key: str, *, verified: bool = False, cost: float = 1.0) -> float:
        """Take ``cost`` tokens from ``key``'s shared bucket if it holds at least ``max(cost, 1)``: 0.0, else the
        seconds until it will."""
        return self._run(key, verified, cost, need=max(cost, 1.0))

    def charge(self, key: str, amount: float, *, verified: bool = False) -> None:
        """Take ``amount`` tokens from ``key``'s shared bucket, below zero if need be."""
        self._run(key, verified, amount, need=-1e300)

    def _run(self, key: str, verified: bool, cost: float, need: float) -> float:
        if not self.enabled:
            return 0.0
        keys = [f"{self.prefix}user:{key}"] if verified else [f"{self.anonymous}:{key}", self.anonymous]
        try:
            return float(self._take(keys=keys, args=[self.rate, self.capacity, self.max_keys, cost, need]))
        except Exception as exc:  # Redis down or slow: let the request through
            now = time.monotonic()
            if now - self._warned > 60:
                self._warned = now
                log.warning("rate limits are off while Redis does not answer (%s)", type(exc).__name__)
            return 0.0

    def size(self, *, verified: bool) -> int:
        """How many buckets of that kind Redis keeps (users: counted by a scan)."""
        if not verified:
            return int(self._client.zcard(self.anonymous))
        return sum(1 for _ in self._client.scan_iter(match=f"{self.prefix}user:*", count=1000))


class FailedLogins:
    """Failed logins, counted per token tried (a token is the only name of its account) and per client address.

    Only failures are counted: a login whose token is valid is never looked up
    here, so it is never refused, whatever others at its address did. A failure
    takes one from its token's bucket and, while that one is not empty, one from
    its address's bucket: a stale token retried non-stop (a script, a notebook
    on a cluster) is held back wherever it runs, and spends only its first
    failures of the budget its network shares. Both kinds of key can be made
    up, so both live in anonymous tables (bounded, least recently used forgotten).
    """

    def __init__(self, per_token: Limiter, per_address: Limiter) -> None:
        self.per_token = per_token
        self.per_address = per_address

    def failed(self, token_key: str | None, address_key: str) -> tuple[float, str]:
        """Count one failed login: ``(0.0, "")`` while both limits allow it, else the seconds to wait and which
        limit ran out (``"token"`` or ``"address"``)."""
        if token_key is not None:
            wait = self.per_token.check(token_key)
            if wait:
                return wait, "token"
        wait = self.per_address.check(address_key)
        return (wait, "address") if wait else (0.0, "")


def make_limiter(
    per_minute: float,
    burst: float,
    *,
    redis_url: str | None = None,
    namespace: str = "grader",
    max_keys: int = MAX_KEYS,
    shared: SharedTable | None = None,
) -> Limiter:
    """Shared through Redis when a ``redis://`` (or ``rediss://``) URL is given, else in the ``shared`` table (made
    before the fork of the processes that share it), else in this process."""
    if redis_url and redis_url.startswith(("redis://", "rediss://")) and per_minute > 0:
        return RedisRateLimiter(redis_url, per_minute, burst, namespace=namespace, max_keys=max_keys)
    if shared is not None:
        return SharedMemoryRateLimiter(shared, per_minute, burst)
    return RateLimiter(per_minute, burst, max_keys=max_keys)
