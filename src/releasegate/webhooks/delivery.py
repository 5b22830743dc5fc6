"""Webhook delivery: the worker loop of webhooks-and-audit.md §5.2 and §5.3.

Claim due events in one short transaction, POST them with no transaction open, then record
each outcome in its own short transaction. An outcome lands only while the event is still the
claim it belongs to (IN_PROGRESS with the claimed attempt number): a worker whose lease ran
out, and whose event another worker re-claimed or a redeliver re-queued, changes nothing.
Delivery is at least once; receivers de-duplicate on the event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.auth.actors import SYSTEM_ACTOR
from releasegate.changes import Change, record_change
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime
from releasegate.settings import Settings
from releasegate.webhooks import repository as repo
from releasegate.webhooks.models import EventStatus
from releasegate.webhooks.outbox import event_body_aad
from releasegate.webhooks.repository import AttemptResult
from releasegate.webhooks.secrets import open_secret
from releasegate.webhooks.signing import delivery_headers
from releasegate.webhooks.targets import (
    BlockedDestination,
    Target,
    UnresolvableHost,
    check_target,
    delivery_client,
)
from releasegate.webhooks.urls import is_valid_webhook_url

log = structlog.get_logger(__name__)

CLAIM_LIMIT = 20
LEASE_MARGIN = timedelta(seconds=30)
MAX_RESPONSE_BYTES = 64 * 1024
STORED_BODY_CHARS = 1000
ERROR_CHARS = 255
MAX_RETRY_DELAY = 86400.0
AUTO_DISABLE_WINDOW = timedelta(hours=48)
AUTO_DISABLE_FAILURES = 3
WEBHOOK_DISABLED = "Webhook disabled"


@dataclass(frozen=True)
class Claim:
    """One claimed event, with what its attempt needs from the webhook row."""

    event_id: uuid.UUID
    team_id: uuid.UUID
    webhook_id: uuid.UUID
    event_type: str
    body: str
    body_encrypted: bool
    attempt: int
    url: str
    secret_ciphertext: str
    webhook_active: bool
    claimed_at: datetime  # the row's `last_attempt_at` for this claim: its identity


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    error: str | None = None
    response_code: int | None = None
    response_body: str | None = None
    retryable: bool = True  # False: FAILED whatever the attempt number


def retry_delay(settings: Settings, attempt: int) -> float:
    """Seconds before the next attempt after failed attempt `attempt` (§5.3)."""
    exponent = min(attempt - 1, 32)  # the cap is reached long before; keeps the float finite
    delay = min(settings.webhook_retry_base_seconds * float(2**exponent), MAX_RETRY_DELAY)
    return delay * (1 + settings.webhook_retry_jitter * random.random())


async def deliver_due(
    runtime: Runtime, now: datetime | None = None, client: httpx.AsyncClient | None = None
) -> int:
    """One pass: claim up to CLAIM_LIMIT due events, deliver them concurrently, record each
    outcome. Returns how many events were claimed. `client` defaults to a pinned-delivery
    client for this pass; tests pass one that trusts their certificate authority."""
    claims = await _claim(runtime, now or utcnow())
    if not claims:
        return 0
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(
                delivery_client(runtime.settings.webhook_timeout)
            )
        # Concurrently: every lease was taken at claim time and covers one attempt's timeout.
        await asyncio.gather(*(_deliver(runtime, client, claim) for claim in claims))
    return len(claims)


async def delivery_pass(runtime: Runtime) -> int:
    """The delivery job's run: one pass; after a full batch, more may be due, so it asks the
    job runner to come back at once."""
    processed = await deliver_due(runtime)
    if processed >= CLAIM_LIMIT:
        runtime.webhook_wakeup.set()
    return processed


# --- claim ------------------------------------------------------------------------------------


async def _claim(runtime: Runtime, now: datetime) -> list[Claim]:
    lease_expires_at = now + timedelta(seconds=runtime.settings.webhook_timeout) + LEASE_MARGIN
    async with runtime.database.read() as session:
        # Most polls find nothing; on SQLite a write scope would take the write lock each time.
        if not await repo.any_due(session, now):
            return []
    async with runtime.database.write() as session:
        events = await repo.claim_due(session, now, lease_expires_at, CLAIM_LIMIT)
        if not events:
            return []
        webhooks = await repo.delivery_targets(session, {event.webhook_id for event in events})
    return [
        Claim(
            event_id=event.id,
            team_id=event.team_id,
            webhook_id=event.webhook_id,
            event_type=event.event_type,
            body=event.body,
            body_encrypted=event.body_encrypted,
            attempt=event.attempts + 1,
            url=webhooks[event.webhook_id].url,
            secret_ciphertext=webhooks[event.webhook_id].secret_ciphertext,
            webhook_active=webhooks[event.webhook_id].active,
            claimed_at=now,
        )
        for event in events
        if event.webhook_id in webhooks  # a deleted webhook takes its events with it
    ]


# --- deliver ----------------------------------------------------------------------------------


async def _deliver(runtime: Runtime, client: httpx.AsyncClient, claim: Claim) -> None:
    context = {"event_id": str(claim.event_id), "attempt": claim.attempt}
    try:
        outcome = await _attempt(runtime, client, claim)
    except Exception as exc:  # one broken event must not take the pass down
        log.exception("webhook_attempt_crashed", **context, error=type(exc).__name__)
        outcome = Outcome(delivered=False, error="Delivery error")
    try:
        await _record(runtime, claim, outcome)
    except Exception as exc:  # the lease runs out and another pass retries the event
        log.exception("webhook_outcome_not_recorded", **context, error=type(exc).__name__)


async def _attempt(runtime: Runtime, client: httpx.AsyncClient, claim: Claim) -> Outcome:
    settings = runtime.settings
    if not claim.webhook_active:
        return Outcome(delivered=False, error=WEBHOOK_DISABLED, retryable=False)
    if claim.attempt > settings.webhook_max_attempts:  # re-claimed after a crashed last attempt
        return Outcome(delivered=False, error="Attempts exhausted", retryable=False)
    if not is_valid_webhook_url(claim.url, allow_http=settings.webhook_allow_http):
        return Outcome(delivered=False, error="Invalid webhook URL")
    body = _body_bytes(runtime, claim)
    secret = open_secret(runtime.keyring, claim.team_id, claim.webhook_id, claim.secret_ciphertext)
    headers = delivery_headers(
        secret=secret,
        event_id=claim.event_id,
        event_type=claim.event_type,
        attempt=claim.attempt,
        body=body,
        user_agent=settings.webhook_user_agent,
        sent_at=utcnow(),
    )
    deadline = asyncio.get_running_loop().time() + settings.webhook_timeout
    try:
        async with asyncio.timeout_at(deadline):
            target = await check_target(
                claim.url, allow_private=settings.webhook_allow_private_targets
            )
            response = await _send(client, target, headers, body)
    except BlockedDestination:
        return Outcome(delivered=False, error="Blocked destination address")
    except UnresolvableHost:
        return Outcome(delivered=False, error="DNS resolution failed")
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(delivered=False, error="Timeout")
    except httpx.TransportError as exc:
        return Outcome(delivered=False, error=_transport_error(exc))
    try:
        text = await _read_capped(response, deadline)
    finally:
        await response.aclose()
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(delivered=True, response_code=code, response_body=text)
    error = "Redirect not followed" if 300 <= code < 400 else f"HTTP {code}"
    return Outcome(delivered=False, error=error, response_code=code, response_body=text)


def _body_bytes(runtime: Runtime, claim: Claim) -> bytes:
    if claim.body_encrypted:
        return runtime.keyring.decrypt(claim.body, event_body_aad(claim.team_id, claim.event_id))
    return claim.body.encode()


async def _send(
    client: httpx.AsyncClient, target: Target, headers: dict[str, str], body: bytes
) -> httpx.Response:
    """POST to the first checked address that accepts a connection (nothing was sent to the
    ones that did not, so trying the next is safe)."""
    requests = target.requests(client, headers, body)
    for request in requests[:-1]:
        with contextlib.suppress(httpx.ConnectError):
            return await client.send(request, stream=True)
    return await client.send(requests[-1], stream=True)


async def _read_capped(response: httpx.Response, deadline: float) -> str:
    """At most MAX_RESPONSE_BYTES of the body, as text for the row. The status has arrived
    and decides the outcome, so a body cut short by the deadline or the peer is kept as is."""
    received = bytearray()
    try:
        async with asyncio.timeout_at(deadline):
            async for chunk in response.aiter_raw():
                received += chunk
                if len(received) >= MAX_RESPONSE_BYTES:
                    break
    except (TimeoutError, httpx.TransportError):
        pass
    text = bytes(received[:MAX_RESPONSE_BYTES]).decode("utf-8", errors="replace")
    return text[:STORED_BODY_CHARS].replace("\x00", "\ufffd")  # PostgreSQL text refuses NUL


def _transport_error(exc: BaseException) -> str:
    cause: BaseException | None = exc
    for _ in range(8):  # httpx wraps httpcore, which wraps the socket or ssl error
        if cause is None:
            break
        if isinstance(cause, ssl.SSLError):
            return "TLS error"
        cause = cause.__cause__ or cause.__context__
    return "Connection error"


# --- record -----------------------------------------------------------------------------------


async def _record(runtime: Runtime, claim: Claim, outcome: Outcome) -> None:
    settings = runtime.settings
    now = utcnow()
    result = AttemptResult(
        status=EventStatus.FAILED,
        at=now,
        response_code=outcome.response_code,
        response_body=outcome.response_body,
        error_message=None if outcome.error is None else outcome.error[:ERROR_CHARS],
    )
    if outcome.delivered:
        result = replace(result, status=EventStatus.DELIVERED, delivered_at=now)
    elif outcome.retryable and claim.attempt < settings.webhook_max_attempts:
        delay = timedelta(seconds=retry_delay(settings, claim.attempt))
        result = replace(result, status=EventStatus.RETRY_SCHEDULED, next_attempt_at=now + delay)
    failed = result.status == EventStatus.FAILED
    async with runtime.database.write() as session:
        # Failures of one webhook are counted one at a time: its row lock orders them.
        webhook_active = failed and await repo.lock_active(session, claim.webhook_id)
        recorded = await repo.record_outcome(
            session, claim.event_id, claim.attempt, claim.claimed_at, result
        )
        if not recorded:
            log.warning("webhook_outcome_superseded", event_id=str(claim.event_id))
            return
        if webhook_active:
            await _disable_if_failing(session, runtime, claim, now)
    log.info(
        "webhook_attempt",
        event_id=str(claim.event_id),
        webhook_id=str(claim.webhook_id),
        attempt=claim.attempt,
        status=str(result.status),
        error=result.error_message,
        response_code=outcome.response_code,
    )


async def _disable_if_failing(
    session: AsyncSession, runtime: Runtime, claim: Claim, now: datetime
) -> None:
    """§5.3 auto-disable: ≥ 3 FAILED and no DELIVERED event in the last 48 hours.

    FAILED / `Webhook disabled` events do not count: they say nothing about the receiver.
    """
    since = now - AUTO_DISABLE_WINDOW
    failures = await repo.recent_failures(session, claim.webhook_id, since, WEBHOOK_DISABLED)
    if failures < AUTO_DISABLE_FAILURES:
        return
    if await repo.delivered_since(session, claim.webhook_id, since):
        return
    if not await repo.deactivate(session, claim.webhook_id, now):
        return
    response = {
        "webhookId": str(claim.webhook_id),
        "active": False,
        "failedEvents": failures,
        "windowHours": AUTO_DISABLE_WINDOW // timedelta(hours=1),
    }
    change = Change(
        claim.team_id, SYSTEM_ACTOR, "DISABLE_WEBHOOK", "WEBHOOK", claim.webhook_id, None, response
    )
    await record_change(session, runtime, change)
    log.warning("webhook_auto_disabled", webhook_id=str(claim.webhook_id), failed=failures)
