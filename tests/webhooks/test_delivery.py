"""Webhook delivery (webhooks-and-audit.md §4, §5.2, §5.3) against a real local receiver.

Webhooks are inserted directly and events written through `emit`, so these tests depend on the
outbox only, not on the management API. Loopback receivers need the allow-private flag, which
the settings below turn on (tests that check the refusal turn it off).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from releasegate.audit.models import AuditLog
from releasegate.auth.actors import CLI_ACTOR
from releasegate.jobs import JobRunner, default_jobs
from releasegate.kit.clock import utcnow
from releasegate.runtime import Runtime, build_runtime
from releasegate.settings import Settings
from releasegate.webhooks import delivery, targets
from releasegate.webhooks.delivery import deliver_due, delivery_pass
from releasegate.webhooks.models import EventStatus, EventType, Webhook, WebhookEvent
from releasegate.webhooks.outbox import emit
from releasegate.webhooks.secrets import generate_secret, seal_secret, whsec_form
from releasegate.webhooks.service import redeliver_event
from releasegate.webhooks.targets import IPAddress, delivery_client
from tests.fixtures.api import TeamCredentials
from tests.webhooks.receiver import Receiver, Reply, certificates

BASE_SECONDS = 0.1
SETTINGS: dict[str, object] = {
    "webhook_allow_http": True,
    "webhook_allow_private_targets": True,
    "webhook_retry_base_seconds": BASE_SECONDS,
    "webhook_retry_jitter": 0,
    "webhook_timeout": 3.0,
    "webhook_max_attempts": 5,
}
TERMINAL = {EventStatus.DELIVERED, EventStatus.FAILED}


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    return {**SETTINGS, **getattr(request, "param", {})}


def overrides(**changes: object) -> Any:
    return pytest.mark.parametrize("settings_overrides", [changes], indirect=True)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver.running() as running:
        yield running


class Hook:
    """A webhook row inserted for a test, with its plaintext secret."""

    def __init__(self, runtime: Runtime, team_id: uuid.UUID, url: str) -> None:
        self.runtime = runtime
        self.team_id = team_id
        self.id = uuid.uuid4()
        self.url = url
        self.secret = generate_secret()

    async def insert(self) -> Hook:
        async with self.runtime.database.write() as session:
            session.add(
                Webhook(
                    id=self.id,
                    team_id=self.team_id,
                    url=self.url,
                    secret_ciphertext=seal_secret(
                        self.runtime.keyring, self.team_id, self.id, self.secret
                    ),
                    enabled_events=json.dumps([EventType.RELEASE_CREATED.value]),
                    active=True,
                )
            )
        return self

    async def emit(self, count: int = 1, *, holds_license_key: bool = False) -> list[uuid.UUID]:
        """`count` RELEASE_CREATED events in one transaction; their ids in creation order."""
        async with self.runtime.database.write() as session:
            for n in range(count):
                payload: dict[str, object] = {"id": f"release-{n}", "version": f"1.0.{n}"}
                if holds_license_key:
                    payload["licenseKey"] = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"
                await emit(
                    session,
                    self.runtime,
                    self.team_id,
                    EventType.RELEASE_CREATED,
                    payload,
                    holds_license_key=holds_license_key,
                )
        return [event.id for event in await self.events()]

    async def events(self) -> list[WebhookEvent]:
        async with self.runtime.database.read() as session:
            rows = await session.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.webhook_id == self.id)
                .order_by(WebhookEvent.created_at)
            )
            return list(rows)

    async def event(self) -> WebhookEvent:
        (event,) = await self.events()
        return event

    async def active(self) -> bool:
        async with self.runtime.database.read() as session:
            return bool(await session.scalar(select(Webhook.active).where(Webhook.id == self.id)))


@pytest.fixture
async def hook(runtime: Runtime, team: TeamCredentials, receiver: Receiver) -> Hook:
    return await Hook(runtime, uuid.UUID(team.team_id), receiver.url()).insert()


async def settle(runtime: Runtime, hook: Hook, seconds: float = 15.0) -> list[WebhookEvent]:
    """Run passes until every event of `hook` is DELIVERED or FAILED."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events = await hook.events()
        if all(event.status in TERMINAL for event in events):
            return events
        if await deliver_due(runtime) == 0:
            await asyncio.sleep(0.02)
    pytest.fail(f"not settled after {seconds}s: {[e.status for e in await hook.events()]}")


# --- the request ------------------------------------------------------------------------------


async def test_delivery_posts_the_body_with_signatures_that_verify_independently(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    (event_id,) = await hook.emit()
    assert await deliver_due(runtime) == 1
    (received,) = receiver.requests
    assert received.method == "POST"
    assert received.path == "/hook"
    assert json.loads(received.body) == {"id": "release-0", "version": "1.0.0"}
    headers = received.headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Lukittu-Webhook/1.0"
    assert headers["x-lukittu-event"] == "RELEASE_CREATED"
    assert headers["x-releasegate-event-id"] == headers["webhook-id"] == str(event_id)
    assert headers["x-releasegate-attempt"] == "1"
    assert abs(int(headers["x-lukittu-timestamp"]) - time.time() * 1000) < 60_000
    assert int(headers["webhook-timestamp"]) == int(headers["x-lukittu-timestamp"]) // 1000
    lukittu = hmac.new(
        hook.secret.encode(),
        headers["x-lukittu-timestamp"].encode() + b"." + received.body,
        hashlib.sha256,
    ).hexdigest()
    assert hmac.compare_digest(headers["x-lukittu-signature"], lukittu)
    standard = hmac.new(
        hook.secret.encode(),
        f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + received.body,
        hashlib.sha256,
    ).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(standard).decode()


async def test_delivery_verifies_with_the_standard_webhooks_library(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    await hook.emit()
    await deliver_due(runtime)
    (received,) = receiver.requests
    verified = standardwebhooks.Webhook(whsec_form(hook.secret)).verify(
        received.body, received.headers
    )
    assert verified == {"id": "release-0", "version": "1.0.0"}


async def test_encrypted_body_is_sent_in_plaintext_and_signed(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    await hook.emit(holds_license_key=True)
    assert (await hook.event()).body_encrypted
    await deliver_due(runtime)
    (received,) = receiver.requests
    assert json.loads(received.body)["licenseKey"] == "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"
    expected = hmac.new(
        hook.secret.encode(),
        received.headers["x-lukittu-timestamp"].encode() + b"." + received.body,
        hashlib.sha256,
    ).hexdigest()
    assert received.headers["x-lukittu-signature"] == expected


async def test_every_attempt_sends_the_same_body_and_event_id_with_its_number(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.script(Reply(status=503))
    (event_id,) = await hook.emit()
    await settle(runtime, hook)
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["x-releasegate-event-id"] == second.headers["x-releasegate-event-id"]
    assert first.headers["webhook-id"] == str(event_id)
    assert [r.headers["x-releasegate-attempt"] for r in receiver.requests] == ["1", "2"]


@overrides(webhook_user_agent="acme-hooks/3")
async def test_user_agent_setting_is_sent(runtime: Runtime, hook: Hook, receiver: Receiver) -> None:
    await hook.emit()
    await deliver_due(runtime)
    assert receiver.requests[0].headers["user-agent"] == "acme-hooks/3"


# --- outcomes ---------------------------------------------------------------------------------


async def test_2xx_marks_the_event_delivered_with_code_and_body(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.script(Reply(status=202, body=b"accepted"))
    await hook.emit()
    await deliver_due(runtime)
    event = await hook.event()
    assert event.status == EventStatus.DELIVERED
    assert event.attempts == 1
    assert event.response_code == 202
    assert event.response_body == "accepted"
    assert event.error_message is None
    assert event.delivered_at is not None
    assert event.last_attempt_at is not None
    assert event.lease_expires_at is None


async def test_receiver_failing_three_times_gets_the_event_once_on_the_fourth_attempt(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.script(Reply(status=500), Reply(status=502), Reply(status=404))
    await hook.emit()
    (event,) = await settle(runtime, hook)
    assert event.status == EventStatus.DELIVERED
    assert event.attempts == 4
    assert event.response_code == 200
    assert event.error_message is None
    assert len(receiver.requests) == 4
    await asyncio.sleep(BASE_SECONDS * 3)
    assert await deliver_due(runtime) == 0
    assert len(receiver.requests) == 4


async def test_receiver_that_never_succeeds_fails_after_max_attempts_on_schedule(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.default = Reply(status=500, body=b"boom")
    await hook.emit()
    delays: list[timedelta] = []
    previous_due = None
    while (event := await hook.event()).status != EventStatus.FAILED:
        if await deliver_due(runtime) == 0:
            await asyncio.sleep(0.02)
            continue
        event = await hook.event()
        assert event.last_attempt_at is not None
        if previous_due is not None:
            assert event.last_attempt_at >= previous_due  # never attempted before its time
        if event.status == EventStatus.RETRY_SCHEDULED:
            delays.append(event.next_attempt_at - event.updated_at)
            previous_due = event.next_attempt_at
    assert delays == [timedelta(seconds=BASE_SECONDS * 2**n) for n in range(4)]
    assert event.attempts == 5
    assert event.error_message == "HTTP 500"
    assert event.response_code == 500
    assert event.response_body == "boom"
    assert len(receiver.requests) == 5


@overrides(webhook_retry_base_seconds=60.0, webhook_retry_jitter=0.1)
async def test_jittered_retry_is_within_ten_percent_above_the_base(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.default = Reply(status=500)
    await hook.emit()
    await deliver_due(runtime)
    event = await hook.event()
    assert event.status == EventStatus.RETRY_SCHEDULED
    delay = (event.next_attempt_at - event.updated_at).total_seconds()
    assert 60.0 <= delay <= 66.0


def test_retry_delay_is_capped_at_a_day() -> None:
    settings = Settings(webhook_retry_base_seconds=3600, webhook_retry_jitter=0)
    assert delivery.retry_delay(settings, 5) == 16 * 3600
    assert delivery.retry_delay(settings, 6) == 86400
    assert delivery.retry_delay(settings, 1000) == 86400


async def test_redirect_is_not_followed(runtime: Runtime, hook: Hook, receiver: Receiver) -> None:
    receiver.script(Reply(status=302, headers={"Location": receiver.url("/elsewhere")}))
    await hook.emit()
    await deliver_due(runtime)
    event = await hook.event()
    assert event.status == EventStatus.RETRY_SCHEDULED
    assert event.error_message == "Redirect not followed"
    assert event.response_code == 302
    assert [request.path for request in receiver.requests] == ["/hook"]


@overrides(webhook_timeout=0.5)
async def test_slow_receiver_times_out(runtime: Runtime, hook: Hook, receiver: Receiver) -> None:
    receiver.script(Reply(delay=5))
    await hook.emit()
    started = time.monotonic()
    await deliver_due(runtime)
    assert time.monotonic() - started < 2.5
    event = await hook.event()
    assert event.status == EventStatus.RETRY_SCHEDULED
    assert event.error_message == "Timeout"
    assert event.response_code is None


@overrides(webhook_timeout=10.0)
async def test_endless_response_body_is_read_up_to_the_cap_only(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    """Were the body read to its end, the attempt would run into its 10 s timeout."""
    receiver.script(Reply(endless=True))
    await hook.emit()
    started = time.monotonic()
    await deliver_due(runtime)
    assert time.monotonic() - started < 5
    event = await hook.event()
    assert event.status == EventStatus.DELIVERED
    assert event.response_code == 200
    assert event.response_body == "x" * 1000


async def test_response_body_with_nul_and_invalid_utf8_is_stored(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.script(Reply(status=500, body=b"bad\x00\xff" + "é".encode() * 2000))
    await hook.emit()
    await deliver_due(runtime)
    event = await hook.event()
    assert event.error_message == "HTTP 500"
    assert event.response_body is not None
    assert event.response_body.startswith("bad\ufffd\ufffdéé")
    assert len(event.response_body) == 1000


async def test_connection_refused_is_a_connection_error(
    runtime: Runtime, team: TeamCredentials
) -> None:
    async with Receiver.running() as gone:
        url = gone.url()
    hook = await Hook(runtime, uuid.UUID(team.team_id), url).insert()
    await hook.emit()
    await deliver_due(runtime)
    event = await hook.event()
    assert event.status == EventStatus.RETRY_SCHEDULED
    assert event.error_message == "Connection error"


# --- URL and destination rules at delivery -----------------------------------------------------


@overrides(webhook_allow_private_targets=False)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_private_destination_is_refused_and_nothing_is_sent(
    runtime: Runtime, team: TeamCredentials, receiver: Receiver, host: str
) -> None:
    hook = await Hook(runtime, uuid.UUID(team.team_id), receiver.url(host=host)).insert()
    await hook.emit()
    await deliver_due(runtime)
    event = await hook.event()
    assert event.status == EventStatus.RETRY_SCHEDULED
    assert event.error_message == "Blocked destination address"
    assert receiver.requests == []


@overrides(webhook_allow_http=False)
async def test_http_url_is_invalid_when_http_is_not_allowed(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    await hook.emit()
    await deliver_due(runtime)
    event = await hook.event()
    assert event.error_message == "Invalid webhook URL"
    assert receiver.requests == []


async def test_https_delivery_is_pinned_and_verified_against_the_host_name(
    runtime: Runtime,
    team: TeamCredentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tls = certificates(tmp_path, "webhook.test")

    async def resolve(host: str, _port: int) -> list[IPAddress]:
        assert host == "webhook.test"
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(targets, "resolve", resolve)
    async with Receiver.running(tls.server) as receiver:
        url = receiver.url(host="webhook.test")
        hook = await Hook(runtime, uuid.UUID(team.team_id), url).insert()
        await hook.emit()
        async with delivery_client(3, verify=tls.client) as client:
            await deliver_due(runtime, client=client)
    assert (await hook.event()).status == EventStatus.DELIVERED
    assert receiver.server_names == ["webhook.test"]
    assert receiver.requests[0].headers["host"] == f"webhook.test:{receiver.port}"


async def test_https_certificate_mismatch_is_a_tls_error(
    runtime: Runtime, team: TeamCredentials, tmp_path: Path
) -> None:
    tls = certificates(tmp_path, "other.test")
    async with Receiver.running(tls.server) as receiver:
        url = receiver.url(host="localhost")
        hook = await Hook(runtime, uuid.UUID(team.team_id), url).insert()
        await hook.emit()
        async with delivery_client(3, verify=tls.client) as client:
            await deliver_due(runtime, client=client)
    event = await hook.event()
    assert event.error_message == "TLS error"
    assert receiver.requests == []


# --- auto-disable -----------------------------------------------------------------------------


async def audit_rows(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.database.read() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == action)))


@overrides(webhook_max_attempts=1)
async def test_three_failed_events_disable_the_webhook_and_fail_the_rest_unsent(
    runtime: Runtime, hook: Hook, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "CLAIM_LIMIT", 3)
    receiver.default = Reply(status=500)
    await hook.emit(5)
    assert await deliver_due(runtime) == 3
    assert not await hook.active()
    assert await deliver_due(runtime) == 2
    events = await hook.events()
    assert [event.status for event in events] == [EventStatus.FAILED] * 5
    assert [event.error_message for event in events] == ["HTTP 500"] * 3 + ["Webhook disabled"] * 2
    assert len(receiver.requests) == 3
    (audit,) = await audit_rows(runtime, "DISABLE_WEBHOOK")
    assert (audit.source, audit.target_type, audit.target_id) == ("SYSTEM", "WEBHOOK", hook.id)
    assert str(audit.team_id) == str(hook.team_id)
    assert audit.api_key_id is None
    assert hook.secret not in (audit.response_body or "")


@overrides(webhook_max_attempts=1)
async def test_webhook_is_disabled_only_once(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.default = Reply(status=500)
    await hook.emit(6)  # all six are claimed and fail in one pass
    assert await deliver_due(runtime) == 6
    assert not await hook.active()
    assert len(await audit_rows(runtime, "DISABLE_WEBHOOK")) == 1


@overrides(webhook_max_attempts=1)
async def test_a_recent_delivery_keeps_the_webhook_active(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    await hook.emit()
    await deliver_due(runtime)
    receiver.default = Reply(status=500)
    await hook.emit(3)
    await settle(runtime, hook)
    assert await hook.active()
    assert await audit_rows(runtime, "DISABLE_WEBHOOK") == []


@overrides(webhook_max_attempts=1)
async def test_two_failed_events_keep_the_webhook_active(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.default = Reply(status=500)
    await hook.emit(2)
    await settle(runtime, hook)
    assert await hook.active()


# --- claims, leases, concurrency --------------------------------------------------------------


async def test_concurrent_passes_on_two_engines_never_deliver_an_event_twice(
    runtime: Runtime, settings: Settings, hook: Hook, receiver: Receiver
) -> None:
    ids = await hook.emit(45)
    second = build_runtime(settings)  # its own engine and connection pool
    try:
        for _ in range(50):
            if all(event.status in TERMINAL for event in await hook.events()):
                break
            await asyncio.gather(
                deliver_due(runtime), deliver_due(second), deliver_due(runtime), deliver_due(second)
            )
    finally:
        await second.close()
    events = await hook.events()
    assert [(event.status, event.attempts) for event in events] == [(EventStatus.DELIVERED, 1)] * 45
    counts = Counter(request.headers["x-releasegate-event-id"] for request in receiver.requests)
    assert counts == Counter({str(event_id): 1 for event_id in ids})


async def test_events_are_claimed_in_creation_order(
    runtime: Runtime, hook: Hook, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "CLAIM_LIMIT", 1)
    ids = await hook.emit(4)
    while await deliver_due(runtime):
        pass
    assert [r.headers["x-releasegate-event-id"] for r in receiver.requests] == [
        str(event_id) for event_id in ids
    ]


async def test_event_in_progress_is_not_claimed_before_its_lease_expires(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.script(Reply(hold=True))
    await hook.emit()
    first = asyncio.create_task(deliver_due(runtime))
    try:
        await receiver.wait_for(1)
        event = await hook.event()
        assert event.status == EventStatus.IN_PROGRESS
        assert event.lease_expires_at is not None
        assert event.last_attempt_at is not None
        lease = event.lease_expires_at - event.last_attempt_at
        assert lease == timedelta(seconds=runtime.settings.webhook_timeout + 30)
        assert await deliver_due(runtime, now=event.lease_expires_at) == 0
    finally:
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)


async def test_late_outcome_of_an_expired_lease_does_not_overwrite_the_newer_one(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    receiver.script(Reply(status=500, delay=1.0), Reply(status=200, body=b"second"))
    await hook.emit()
    late = asyncio.create_task(deliver_due(runtime))
    await receiver.wait_for(1)
    lease_expires_at = (await hook.event()).lease_expires_at
    assert lease_expires_at is not None
    assert await deliver_due(runtime, now=lease_expires_at + timedelta(milliseconds=1)) == 1
    assert await late == 1  # its HTTP 500 arrives after the re-claim was delivered
    event = await hook.event()
    assert (event.status, event.attempts) == (EventStatus.DELIVERED, 2)
    assert (event.response_code, event.response_body) == (200, "second")
    assert event.error_message is None


async def test_outcome_from_before_a_redeliver_does_not_land_on_the_new_claim(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    # The stale attempt answers while the new claim (attempt number 1 again) is in flight.
    receiver.script(Reply(status=500, delay=1.0), Reply(status=200, body=b"fresh", delay=2.5))
    (event_id,) = await hook.emit()
    stale = asyncio.create_task(deliver_due(runtime))
    await receiver.wait_for(1)
    await redeliver_event(runtime, hook.team_id, CLI_ACTOR, hook.id, event_id)
    fresh = asyncio.create_task(deliver_due(runtime))
    await receiver.wait_for(2)
    assert await stale == 1
    assert await fresh == 1
    event = await hook.event()
    assert (event.status, event.attempts) == (EventStatus.DELIVERED, 1)
    assert (event.response_code, event.response_body) == (200, "fresh")


async def test_event_reclaimed_after_its_last_attempt_crashed_fails_unsent(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    (event_id,) = await hook.emit()
    past = utcnow() - timedelta(seconds=1)
    async with runtime.database.write() as session:
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id == event_id)
            .values(
                status=EventStatus.IN_PROGRESS,
                attempts=runtime.settings.webhook_max_attempts,
                last_attempt_at=past,
                lease_expires_at=past,
            )
        )
    assert await deliver_due(runtime) == 1
    event = await hook.event()
    assert (event.status, event.error_message) == (EventStatus.FAILED, "Attempts exhausted")
    assert receiver.requests == []


def worker_environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("RELEASEGATE_")}
    values: dict[str, object] = {
        "DATA_DIR": settings.data_dir,
        "DATABASE_URL": settings.database_url,
        "STORAGE_URL": settings.storage_url,
        "S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEY": settings.secret_key,
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_POLL_INTERVAL": "0.2",
        **extra,
    }
    env.update({f"RELEASEGATE_{k}": str(v) for k, v in values.items() if v is not None})
    return env


async def test_event_held_by_a_killed_worker_is_delivered_once_after_its_lease(
    runtime: Runtime, settings: Settings, hook: Hook, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.script(Reply(hold=True))
    (event_id,) = await hook.emit()
    env = worker_environment(settings, WEBHOOK_TIMEOUT="60")
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "releasegate",
            "worker",
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        await receiver.wait_for(1, within=60)
    finally:
        worker.kill()  # SIGKILL, while the receiver holds the request
        await worker.wait()
    assert worker.returncode == -9, log.read_text()
    held = await hook.event()
    assert (held.status, held.attempts) == (EventStatus.IN_PROGRESS, 1)
    assert held.lease_expires_at is not None
    assert await deliver_due(runtime, now=held.lease_expires_at) == 0  # still leased
    after_lease = held.lease_expires_at + timedelta(milliseconds=1)
    assert await deliver_due(runtime, now=after_lease) == 1
    event = await hook.event()
    assert (event.status, event.attempts) == (EventStatus.DELIVERED, 2)
    assert await deliver_due(runtime, now=after_lease + timedelta(hours=1)) == 0
    assert [r.headers["x-releasegate-attempt"] for r in receiver.requests] == ["1", "2"]
    assert {r.headers["x-releasegate-event-id"] for r in receiver.requests} == {str(event_id)}


# --- the job ----------------------------------------------------------------------------------


@overrides(webhook_poll_interval=3600)
async def test_delivery_job_wakes_on_emit_and_stops_promptly(
    runtime: Runtime, hook: Hook, receiver: Receiver
) -> None:
    (job,) = [job for job in default_jobs(runtime) if job.name == "webhook-delivery"]
    runner = JobRunner(runtime, [job])
    runner.start()
    try:
        await asyncio.sleep(0.1)  # the first pass has found nothing; the next tick is an hour
        await hook.emit()
        await receiver.wait_for(1, within=5)
    finally:
        await asyncio.wait_for(runner.stop(), timeout=2)
    assert (await hook.event()).status == EventStatus.DELIVERED


async def test_full_batch_asks_for_another_pass_at_once(
    runtime: Runtime, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "CLAIM_LIMIT", 2)
    await hook.emit(3)
    runtime.webhook_wakeup.clear()
    assert await delivery_pass(runtime) == 2
    assert runtime.webhook_wakeup.is_set()
    runtime.webhook_wakeup.clear()
    assert await delivery_pass(runtime) == 1
    assert not runtime.webhook_wakeup.is_set()
