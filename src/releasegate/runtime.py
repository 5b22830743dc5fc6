"""Process-wide components built from settings: database, storage, limiter, keyring."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request

from releasegate.db.session import Database
from releasegate.kit.client_ip import IPNetwork, parse_trusted_proxies
from releasegate.kit.errors import RateLimited
from releasegate.kit.keyring import (
    Keyring,
    SecretKeyError,
    load_or_create_key_file,
    parse_master_key,
)
from releasegate.kit.metrics import Metrics
from releasegate.kit.ratelimit import Limiter, MemoryLimiter, RedisLimiter, SQLiteLimiter, charge
from releasegate.settings import Settings
from releasegate.storage import Storage, open_storage

log = structlog.get_logger(__name__)


def load_keyring(settings: Settings) -> Keyring:
    """Production requires RELEASEGATE_SECRET_KEY; embedded generates DATA_DIR/secret.key."""
    if settings.secret_key:
        return Keyring(parse_master_key(settings.secret_key))
    if settings.profile == "production":
        raise SecretKeyError(
            "RELEASEGATE_SECRET_KEY must be set in the production profile "
            "(the same value on every process)"
        )
    return Keyring(load_or_create_key_file(settings.data_dir / "secret.key"))


@dataclass
class Runtime:
    settings: Settings
    database: Database
    storage: Storage
    limiter: Limiter
    keyring: Keyring
    trusted_proxies: tuple[IPNetwork, ...]
    metrics: Metrics = field(default_factory=Metrics)
    # "<teamId>:<license lookup>" of RELEASEGATE_TRUSTED_LICENSE_KEYS × _TEAM_IDS
    # (security-and-limits.md §3.5).
    trusted_license_lookups: frozenset[str] = frozenset()
    # Tests inject fixed classloader frame IVs (client-api.md §8, step 4); None means random.
    frame_iv_source: Callable[[int], bytes] | None = None
    # Set after a commit that created webhook events, so the local delivery job looks at once.
    webhook_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _background: set[asyncio.Task[Any]] = field(default_factory=set)

    async def charge(
        self, bucket: str, subject: str, refusal: type[RateLimited] = RateLimited
    ) -> None:
        """Count one request in a rate-limit bucket, with this server's budgets and fail mode."""
        await charge(
            self.limiter,
            bucket,
            subject,
            self.settings.rate_limits[bucket],
            fail_open=self.settings.rate_limit_fail_mode == "open",
            refusal=refusal,
        )

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run best-effort work after a response without losing the task reference."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("background_task_failed", error=type(task.exception()).__name__)

    async def drain(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        await self.limiter.close()
        await self.database.dispose()


def open_limiter(settings: Settings) -> Limiter:
    """Redis when configured; else shared by the workers of this host through a SQLite file
    when `serve` runs several; else in this process's memory."""
    if settings.redis_url:
        return RedisLimiter(settings.redis_url)
    if settings.workers > 1:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SQLiteLimiter(settings.data_dir / "limits.db")
    return MemoryLimiter()


def build_runtime(settings: Settings) -> Runtime:
    keyring = load_keyring(settings)
    limiter = open_limiter(settings)
    return Runtime(
        settings=settings,
        database=Database(settings.resolved_database_url),
        storage=open_storage(settings.resolved_storage_url, settings.s3_endpoint_url),
        limiter=limiter,
        keyring=keyring,
        trusted_proxies=parse_trusted_proxies(settings.trusted_proxies),
        trusted_license_lookups=trusted_license_lookups(settings, keyring),
    )


def trusted_license_lookups(settings: Settings, keyring: Keyring) -> frozenset[str]:
    """Hash the trusted keys per trusted team at start-up; the plaintext is not kept."""
    keys = [key.strip() for key in settings.trusted_license_keys.split(",") if key.strip()]
    teams = [team.strip().lower() for team in settings.trusted_team_ids.split(",") if team.strip()]
    return frozenset(
        f"{team}:{keyring.license_lookup(key, team)}" for team in teams for key in keys
    )


def get_runtime(request: Request) -> Runtime:
    """The app's Runtime, for endpoints (`RuntimeDep`)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
