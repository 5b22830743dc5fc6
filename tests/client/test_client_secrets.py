"""Client secrets stay out of logs and request logs (client-api.md §7; security-and-limits.md
§6), and the RequestLog rows themselves: when one is written and what it holds."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from releasegate.customers.service import create_customer
from releasegate.kit.ratelimit import MemoryLimiter, RedisLimiter
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.client_api import (
    CHALLENGE,
    DEFAULT_PEER,
    HWID,
    OTHER_HWID,
    UNKNOWN_KEY,
    ClientApi,
    assert_client_error,
    assert_rate_limited,
    assert_valid,
    create_license,
    create_release,
    hwids,
    set_team_settings,
)

USER_AGENT = "releasegate-tests/1.0"
CLIENT_PATH = "/api/v1/client/teams/{team_id}/verification/{endpoint}"
LEAKY_KEY = "SECRETLEAKXYZ"  # not a valid key: echoed nowhere either
CONTENT = b"secret-free file"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"log_level": "INFO"}


@dataclass(frozen=True)
class Secrets:
    values: list[str]

    def assert_absent_from(self, text: str) -> None:
        for value in self.values:
            assert value not in text, f"a secret ({len(value)} chars) reached the output"


async def exercise(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> tuple[Secrets, dict[str, Any]]:
    """Successes and failures on every endpoint; returns every secret that was sent."""
    product_id = await api.create_product()
    await create_release(api, product_id, "1.0.0", latest=True, file=CONTENT)
    license_ = await create_license(api, productIds=[product_id], hwidLimit=1)
    key = str(license_["licenseKey"])
    body = {"licenseKey": key, "hardwareIdentifier": HWID, "challenge": CHALLENGE}
    assert (await client_api.verify(body)).status_code == 200
    assert (await client_api.heartbeat(body)).status_code == 200
    assert (await client_api.verify({**body, "hardwareIdentifier": OTHER_HWID})).status_code == 403
    assert (await client_api.verify({**body, "productId": str(uuid.uuid4())})).status_code == 404
    legacy = {"licenseKey": key, "deviceIdentifier": HWID, "challenge": CHALLENGE}
    assert (await client_api.heartbeat(legacy)).status_code == 200
    assert (await client_api.verify({"licenseKey": LEAKY_KEY})).status_code == 400
    assert (await client_api.verify({"licenseKey": UNKNOWN_KEY})).status_code == 404

    served, session = await client_api.download(key, product_id)
    assert served.status_code == 200, served.text
    replayed, _ = await client_api.download(key, product_id, key=session)
    assert_rate_limited(replayed)
    failed, failed_session = await client_api.download(key, product_id, version="9.9.9")
    assert failed.status_code == 404
    short = client_api.session_key(size=15)
    invalid, _ = await client_api.download(key, product_id, key=short)
    assert invalid.status_code == 400
    await set_team_settings(runtime, team.team_id, allow_classloader=False)
    forbidden, forbidden_session = await client_api.download(key, product_id)
    assert forbidden.status_code == 403
    await runtime.drain()

    values = [key, key[:17], HWID, CHALLENGE, LEAKY_KEY]
    for sent in (session, failed_session, short, forbidden_session):
        values += [
            sent.session_key,
            sent.session_key.upper(),
            sent.session_key[200:264],
            sent.secret_hex,
        ]
    return Secrets(values), license_


async def test_no_secret_reaches_any_log_line(
    client_api: ClientApi,
    api: Api,
    runtime: Runtime,
    team: TeamCredentials,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="httpx")  # the test's own HTTP client
    secrets, _ = await exercise(client_api, api, runtime, team)
    captured = capfd.readouterr()
    secrets.assert_absent_from(captured.err)
    secrets.assert_absent_from(captured.out)
    secrets.assert_absent_from(caplog.text)
    for record in caplog.records:
        secrets.assert_absent_from(repr(record.args))
    entries = [json.loads(line) for line in captured.err.splitlines() if line.startswith("{")]
    classloader = [
        entry
        for entry in entries
        if entry.get("event") == "request"
        and str(entry.get("route", "")).endswith("/verification/classloader")
    ]
    assert len(classloader) == 5  # the access log did see every download
    assert all("[redacted]" in str(entry.get("query")) for entry in classloader)


async def test_error_responses_echo_no_secret(client_api: ClientApi) -> None:
    response = await client_api.verify({"licenseKey": LEAKY_KEY, "hardwareIdentifier": HWID})
    assert LEAKY_KEY not in response.text
    response = await client_api.classloader(
        {
            "licenseKey": UNKNOWN_KEY,
            "productId": str(uuid.uuid4()),
            "sessionKey": "5a" * 256,
            "hardwareIdentifier": HWID,
        }
    )
    assert_client_error(response, 400, "INVALID_SESSION_KEY", "Invalid session key")
    assert "5a5a5a" not in response.text
    assert HWID not in response.text


# --- RequestLog (§7) ----------------------------------------------------------------------------


async def request_logs(runtime: Runtime) -> list[Any]:
    """Every RequestLog row, oldest first (after the post-response writes have finished)."""
    from releasegate.client.models import RequestLog

    await runtime.drain()
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(RequestLog).order_by(RequestLog.created_at, RequestLog.id)
        )
        return list(rows)


def path(team: TeamCredentials, endpoint: str) -> str:
    return CLIENT_PATH.format(team_id=team.team_id, endpoint=endpoint)


def uid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


async def test_verify_success_writes_one_row_with_the_matched_ids(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    product_id = await api.create_product()
    release = await create_release(api, product_id, "1.0.0", latest=True)
    customer_id = str(
        await create_customer(runtime, uuid.UUID(team.team_id), "c@example.com", None, None)
    )
    license_ = await create_license(api, productIds=[product_id], customerIds=[customer_id])
    response = await client_api.verify(
        {
            "licenseKey": license_["licenseKey"],
            "productId": product_id,
            "customerId": customer_id,
            "version": "1.0.0",
            "hardwareIdentifier": HWID,
            "challenge": CHALLENGE,
        },
        headers={"user-agent": USER_AGENT},
    )
    assert response.status_code == 200, response.text
    (record,) = await hwids(api, license_["id"])
    (row,) = await request_logs(runtime)
    assert (row.team_id, row.type, row.status, row.status_code) == (
        uuid.UUID(team.team_id),
        "VERIFY",
        "VALID",
        200,
    )
    assert row.license_id == uid(license_["id"])
    assert row.product_id == uid(product_id)
    assert row.customer_id == uid(customer_id)
    assert row.release_id == uid(release["id"])
    assert row.hardware_identifier_id == uid(record["id"])
    assert (row.ip_address, row.country, row.user_agent) == (DEFAULT_PEER, None, USER_AGENT)
    assert (row.method, row.path) == ("POST", path(team, "verify"))
    assert row.duration_ms >= 0
    assert row.created_at is not None


async def test_heartbeat_row_has_type_heartbeat(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    license_ = await create_license(api)
    body = {"licenseKey": license_["licenseKey"], "hardwareIdentifier": HWID}
    assert_valid(await client_api.heartbeat(body), "License heartbeat successful")
    (row,) = await request_logs(runtime)
    assert (row.type, row.status, row.status_code, row.method) == (
        "HEARTBEAT",
        "VALID",
        200,
        "POST",
    )
    assert row.path == path(team, "heartbeat")
    assert (row.product_id, row.customer_id, row.release_id) == (None, None, None)


async def test_download_row_has_the_served_release_and_file_and_no_query(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    product_id = await api.create_product()
    release = await create_release(api, product_id, "1.0.0", latest=True, file=CONTENT)
    license_ = await create_license(api, productIds=[product_id])
    response, _ = await client_api.download(license_["licenseKey"], product_id)
    assert response.status_code == 200, response.text
    (row,) = await request_logs(runtime)
    assert (row.type, row.status, row.status_code, row.method) == ("DOWNLOAD", "VALID", 200, "GET")
    assert row.path == path(team, "classloader")
    assert row.license_id == uid(license_["id"])
    assert row.product_id == uid(product_id)
    assert row.release_id == uid(release["id"])
    assert row.release_file_id == uid(release["file"]["id"])
    assert row.hardware_identifier_id == uid((await hwids(api, license_["id"]))[0]["id"])


async def test_failures_after_team_resolution_are_logged(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    product_id = await api.create_product()
    license_ = await create_license(api, productIds=[product_id], suspended=True)
    assert_client_error(
        await client_api.verify({"licenseKey": UNKNOWN_KEY}),
        404,
        "LICENSE_NOT_FOUND",
        "License not found",
    )
    assert_client_error(
        await client_api.heartbeat(
            {"licenseKey": license_["licenseKey"], "hardwareIdentifier": HWID}
        ),
        403,
        "LICENSE_SUSPENDED",
        "License suspended",
    )
    invalid, _ = await client_api.download(
        license_["licenseKey"], product_id, key=client_api.session_key(size=15)
    )
    assert_client_error(invalid, 400, "INVALID_SESSION_KEY", "Invalid session key")
    await set_team_settings(runtime, team.team_id, allow_classloader=False)
    forbidden, _ = await client_api.download(license_["licenseKey"], product_id)
    assert forbidden.status_code == 403
    rows = await request_logs(runtime)
    summary = sorted((row.type, row.status, row.status_code) for row in rows)
    assert summary == [
        ("DOWNLOAD", "FORBIDDEN", 403),
        ("DOWNLOAD", "INVALID_SESSION_KEY", 400),
        ("HEARTBEAT", "LICENSE_SUSPENDED", 403),
        ("VERIFY", "LICENSE_NOT_FOUND", 404),
    ]
    by_status = {row.status: row for row in rows}
    assert by_status["LICENSE_NOT_FOUND"].license_id is None
    assert by_status["LICENSE_SUSPENDED"].license_id == uid(license_["id"])
    assert by_status["LICENSE_SUSPENDED"].hardware_identifier_id is None
    assert all(row.team_id == uuid.UUID(team.team_id) for row in rows)


async def test_requests_before_team_resolution_are_not_logged(
    client_api: ClientApi, runtime: Runtime
) -> None:
    unknown_team = "00000000-0000-4000-8000-000000000000"
    assert (await client_api.verify(content=b"{")).status_code == 400
    assert (await client_api.verify({"licenseKey": "bad"})).status_code == 400
    assert (await client_api.verify({"licenseKey": UNKNOWN_KEY}, team_id="x")).status_code == 400
    assert (
        await client_api.verify({"licenseKey": UNKNOWN_KEY}, team_id=unknown_team)
    ).status_code == 404
    assert (await client_api.heartbeat({"licenseKey": UNKNOWN_KEY})).status_code == 400
    assert (await client_api.classloader({"licenseKey": UNKNOWN_KEY})).status_code == 400
    query = {
        "licenseKey": UNKNOWN_KEY,
        "productId": unknown_team,
        "sessionKey": "5a" * 256,
        "hardwareIdentifier": HWID,
    }
    assert (await client_api.classloader(query, team_id=unknown_team)).status_code == 404
    assert await request_logs(runtime) == []


async def test_head_is_not_logged(client_api: ClientApi, runtime: Runtime) -> None:
    response = await client_api.classloader("licenseKey=x", method="HEAD")
    assert response.status_code == 200
    assert await request_logs(runtime) == []


async def test_no_secret_is_stored_in_any_request_log_column(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    secrets, _ = await exercise(client_api, api, runtime, team)
    rows = await request_logs(runtime)
    assert len(rows) == 10, [(r.type, r.status, r.status_code) for r in rows]
    for row in rows:
        text = " ".join(str(value) for value in vars(row).values())
        secrets.assert_absent_from(text)
        assert "?" not in row.path


async def _limiter_keys(runtime: Runtime) -> list[str]:
    """Every key the rate-limit and replay store holds (test-only access to its internals)."""
    if isinstance(runtime.limiter, RedisLimiter):
        return [key.decode() for key in await runtime.limiter._redis.keys("*")]
    assert isinstance(runtime.limiter, MemoryLimiter)
    return list(runtime.limiter._counters)


async def test_rate_limit_and_replay_store_keys_hold_no_secret(
    client_api: ClientApi, api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    secrets, _ = await exercise(client_api, api, runtime, team)
    keys = await _limiter_keys(runtime)
    assert any(key.startswith(f"rg:replay:{team.team_id}:") for key in keys), keys
    assert any(key.startswith("rg:rl:client.verify.license:") for key in keys), keys
    secrets.assert_absent_from("\n".join(keys))
