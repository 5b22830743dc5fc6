"""Fixed-window rate limits (security-and-limits.md §3), in process or in Redis.

One atomic increment-with-expiry per request: a Lua script on Redis, a lock-protected map in
process. Store keys contain only bucket names, ids, IPs and hashes.
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from releasegate.kit.errors import RateLimited, Unavailable

log = structlog.get_logger(__name__)


class RateLimit:
    """A fixed-window budget: `max_requests` per `window_seconds`."""

    __slots__ = ("max_requests", "window_seconds")

    def __init__(self, max_requests: int, window_seconds: int) -> None:
        self.max_requests = max_requests
        self.window_seconds = window_seconds


class LimiterUnavailable(Exception):
    """The shared store could not be reached."""


class ServiceUnavailable(Unavailable):
    """The rate-limit store is unreachable and the limits fail closed."""

    text = "Service unavailable"
    code = "INTERNAL_SERVER_ERROR"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int


class Limiter(Protocol):
    async def hit(self, key: str, max_requests: int, window: int) -> Decision: ...
    async def count(self, key: str) -> tuple[int, int]: ...
    async def close(self) -> None: ...


class MemoryLimiter:
    """Single-process counters; a restart forgets them (acceptable in the embedded profile).

    Each call runs without awaiting, so the event loop makes it atomic.
    """

    def __init__(self) -> None:
        self._counters: dict[str, tuple[int, float]] = {}

    async def hit(self, key: str, max_requests: int, window: int) -> Decision:
        now = time.monotonic()
        count, expires = self._counters.get(key, (0, 0.0))
        if expires <= now:
            count, expires = 0, now + window
            if len(self._counters) > 100_000:
                self._evict(now)
        count += 1
        self._counters[key] = (count, expires)
        return Decision(count <= max_requests, max(1, math.ceil(expires - now)))

    async def count(self, key: str) -> tuple[int, int]:
        """Current count and seconds left in the window (0, 0 when no window is open)."""
        now = time.monotonic()
        count, expires = self._counters.get(key, (0, 0.0))
        if expires <= now:
            return 0, 0
        return count, max(1, math.ceil(expires - now))

    def _evict(self, now: float) -> None:
        for stale in [k for k, (_, exp) in self._counters.items() if exp <= now]:
            del self._counters[stale]

    async def close(self) -> None:
        return None


_SQLITE_HIT = """
INSERT INTO rate_counters (key, count, expires) VALUES (:key, 1, :expires)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN rate_counters.expires <= :now THEN 1 ELSE rate_counters.count + 1 END,
    expires = CASE WHEN rate_counters.expires <= :now THEN :expires ELSE rate_counters.expires END
RETURNING count, expires
"""


class SQLiteLimiter:
    """Counters shared by the worker processes of one host, in a SQLite file of their own.

    For the embedded profile with `serve --workers N`: every worker sees the same buckets and
    the same replay guard. One upsert per request, run in place: with WAL and no fsync (the
    counters are ephemeral: a crash only forgets them) it takes microseconds.
    """

    _PRUNE_EVERY = 10_000

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS rate_counters "
            "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL) WITHOUT ROWID"
        )
        self._hits = 0

    async def hit(self, key: str, max_requests: int, window: int) -> Decision:
        now = time.time()
        try:
            count, expires = self._db.execute(
                _SQLITE_HIT, {"key": key, "now": now, "expires": now + window}
            ).fetchone()
            self._hits += 1
            if self._hits % self._PRUNE_EVERY == 0:
                self._db.execute("DELETE FROM rate_counters WHERE expires <= ?", (now,))
        except sqlite3.Error as exc:
            raise LimiterUnavailable(type(exc).__name__) from exc
        return Decision(int(count) <= max_requests, max(1, math.ceil(expires - now)))

    async def count(self, key: str) -> tuple[int, int]:
        now = time.time()
        try:
            row = self._db.execute(
                "SELECT count, expires FROM rate_counters WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise LimiterUnavailable(type(exc).__name__) from exc
        if row is None or row[1] <= now:
            return 0, 0
        return int(row[0]), max(1, math.ceil(row[1] - now))

    async def close(self) -> None:
        self._db.close()


_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""


class RedisLimiter:
    """Counters shared by every process through Redis."""

    def __init__(self, url: str) -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._hit = self._redis.register_script(_HIT_SCRIPT)

    async def hit(self, key: str, max_requests: int, window: int) -> Decision:
        try:
            count, ttl_ms = await self._hit(keys=[key], args=[window * 1000])
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(type(exc).__name__)) from exc
        return Decision(int(count) <= max_requests, max(1, math.ceil(int(ttl_ms) / 1000)))

    async def count(self, key: str) -> tuple[int, int]:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(key)
                pipe.pttl(key)
                raw, ttl_ms = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(type(exc).__name__)) from exc
        if raw is None or int(ttl_ms) <= 0:
            return 0, 0
        return int(raw), max(1, math.ceil(int(ttl_ms) / 1000))

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


async def charge(
    limiter: Limiter,
    bucket: str,
    subject: str,
    limit: RateLimit | None,
    *,
    fail_open: bool,
    refusal: type[RateLimited] = RateLimited,
) -> None:
    """Count one request in a bucket; raise `refusal` (with Retry-After) once it is over.

    A disabled bucket (`limit` None) always admits. When the store is unreachable the request
    proceeds with a warning if `fail_open`, else it is refused as ServiceUnavailable (§3.4).
    """
    if limit is None:
        return
    try:
        decision = await limiter.hit(
            store_key(bucket, subject), limit.max_requests, limit.window_seconds
        )
    except LimiterUnavailable:
        if not fail_open:
            raise ServiceUnavailable() from None
        log.warning("rate_limit_store_unavailable", bucket=bucket)
        return
    if not decision.allowed:
        raise refusal(decision.retry_after)


def store_key(bucket: str, subject: str) -> str:
    """`rg:rl:<bucket>:<subject>`; the subject is an id, an IP or a hash, never a secret."""
    return f"rg:rl:{bucket}:{subject}"
