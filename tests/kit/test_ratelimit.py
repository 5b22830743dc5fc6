"""Fixed-window rate limits, in process and in Redis (security-and-limits.md §3.1, §3.4)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from releasegate.kit.ratelimit import (
    Limiter,
    LimiterUnavailable,
    MemoryLimiter,
    RedisLimiter,
    store_key,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def key_prefix() -> Iterator[str]:
    """A unique key prefix per test; every Redis key under it is removed afterwards."""
    prefix = f"rg-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        stale = list(client.scan_iter(match=prefix + "*"))
        if stale:
            client.delete(*stale)
    finally:
        client.close()


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[Limiter]:
    built: Limiter = MemoryLimiter() if request.param == "memory" else RedisLimiter(REDIS_URL)
    try:
        yield built
    finally:
        await built.close()


async def test_first_max_requests_are_allowed(limiter: Limiter, key_prefix: str) -> None:
    decisions = [await limiter.hit(key_prefix + "k", 5, 60) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True] * 5


async def test_request_max_plus_one_is_refused(limiter: Limiter, key_prefix: str) -> None:
    for _ in range(5):
        await limiter.hit(key_prefix + "k", 5, 60)
    assert (await limiter.hit(key_prefix + "k", 5, 60)).allowed is False


async def test_later_requests_in_the_window_stay_refused(limiter: Limiter, key_prefix: str) -> None:
    decisions = [await limiter.hit(key_prefix + "k", 2, 60) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True, True, False, False, False, False]


async def test_rejected_requests_are_counted(limiter: Limiter, key_prefix: str) -> None:
    for _ in range(7):
        await limiter.hit(key_prefix + "k", 3, 60)
    count, _ttl = await limiter.count(key_prefix + "k")
    assert count == 7


async def test_retry_after_is_within_one_and_window(limiter: Limiter, key_prefix: str) -> None:
    for _ in range(3):
        await limiter.hit(key_prefix + "k", 2, 60)
    refused = await limiter.hit(key_prefix + "k", 2, 60)
    assert refused.allowed is False
    assert 1 <= refused.retry_after <= 60


async def test_retry_after_right_after_opening_is_the_whole_window(
    limiter: Limiter, key_prefix: str
) -> None:
    await limiter.hit(key_prefix + "k", 1, 60)
    refused = await limiter.hit(key_prefix + "k", 1, 60)
    assert refused.retry_after == 60  # remaining ttl just under 60 s, rounded up


async def test_retry_after_rounds_remaining_ttl_up(limiter: Limiter, key_prefix: str) -> None:
    await limiter.hit(key_prefix + "k", 1, 2)
    await asyncio.sleep(1.3)
    refused = await limiter.hit(key_prefix + "k", 1, 2)
    assert refused.allowed is False
    assert refused.retry_after == 1  # about 0.7 s left


async def test_count_reports_current_count_and_ttl(limiter: Limiter, key_prefix: str) -> None:
    for _ in range(3):
        await limiter.hit(key_prefix + "k", 10, 60)
    count, ttl = await limiter.count(key_prefix + "k")
    assert count == 3
    assert 1 <= ttl <= 60


async def test_count_of_unknown_key_is_zero(limiter: Limiter, key_prefix: str) -> None:
    assert await limiter.count(key_prefix + "never-hit") == (0, 0)


async def test_count_does_not_increment(limiter: Limiter, key_prefix: str) -> None:
    await limiter.hit(key_prefix + "k", 10, 60)
    await limiter.count(key_prefix + "k")
    await limiter.count(key_prefix + "k")
    assert (await limiter.count(key_prefix + "k"))[0] == 1


async def test_keys_are_counted_independently(limiter: Limiter, key_prefix: str) -> None:
    await limiter.hit(key_prefix + "a", 1, 60)
    assert (await limiter.hit(key_prefix + "b", 1, 60)).allowed is True


async def test_window_expiry_allows_requests_again(limiter: Limiter, key_prefix: str) -> None:
    await limiter.hit(key_prefix + "k", 1, 1)
    assert (await limiter.hit(key_prefix + "k", 1, 1)).allowed is False
    await asyncio.sleep(1.2)
    assert (await limiter.hit(key_prefix + "k", 1, 1)).allowed is True


async def test_count_after_window_expiry_is_zero(limiter: Limiter, key_prefix: str) -> None:
    await limiter.hit(key_prefix + "k", 5, 1)
    await asyncio.sleep(1.2)
    assert await limiter.count(key_prefix + "k") == (0, 0)


async def test_rejected_requests_do_not_slide_the_window(limiter: Limiter, key_prefix: str) -> None:
    await limiter.hit(key_prefix + "k", 1, 2)  # window ends at t=2.0
    await asyncio.sleep(1.2)
    assert (await limiter.hit(key_prefix + "k", 1, 2)).allowed is False  # sliding: t=3.2
    await asyncio.sleep(1.2)  # t=2.4: past the fixed window, before a slid one
    assert (await limiter.hit(key_prefix + "k", 1, 2)).allowed is True


async def test_concurrent_hits_allow_exactly_max(limiter: Limiter, key_prefix: str) -> None:
    decisions = await asyncio.gather(*(limiter.hit(key_prefix + "k", 10, 60) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 10


async def test_concurrent_hits_are_all_counted(limiter: Limiter, key_prefix: str) -> None:
    await asyncio.gather(*(limiter.hit(key_prefix + "k", 10, 60) for _ in range(50)))
    assert (await limiter.count(key_prefix + "k"))[0] == 50


async def test_redis_concurrent_hits_from_separate_clients_allow_exactly_max(
    key_prefix: str,
) -> None:
    """Several processes share one counter: each client has its own connection pool."""
    clients = [RedisLimiter(REDIS_URL) for _ in range(5)]
    try:
        decisions = await asyncio.gather(
            *(clients[i % 5].hit(key_prefix + "k", 10, 60) for i in range(50))
        )
    finally:
        for client in clients:
            await client.close()
    assert sum(d.allowed for d in decisions) == 10


async def test_redis_counter_is_stored_with_a_time_to_live(key_prefix: str) -> None:
    limiter = RedisLimiter(REDIS_URL)
    try:
        await limiter.hit(key_prefix + "k", 5, 60)
    finally:
        await limiter.close()
    client = redis.Redis.from_url(REDIS_URL)
    try:
        ttl_ms = client.pttl(key_prefix + "k")
    finally:
        client.close()
    assert 0 < ttl_ms <= 60_000


async def test_redis_unreachable_hit_raises_limiter_unavailable() -> None:
    limiter = RedisLimiter(UNREACHABLE_REDIS_URL)
    try:
        with pytest.raises(LimiterUnavailable):
            await limiter.hit("rg-test:unreachable", 5, 60)
    finally:
        await limiter.close()


async def test_redis_unreachable_count_raises_limiter_unavailable() -> None:
    limiter = RedisLimiter(UNREACHABLE_REDIS_URL)
    try:
        with pytest.raises(LimiterUnavailable):
            await limiter.count("rg-test:unreachable")
    finally:
        await limiter.close()


def test_store_key_contains_bucket_and_subject() -> None:
    assert store_key("releases.create", "abc") == "rg:rl:releases.create:abc"
