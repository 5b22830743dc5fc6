"""Client API rate limits (client-api.md §2; security-and-limits.md §3): the IP and license
buckets, trusted sources, and no request log for rate-limited traffic."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate.app import create_app
from releasegate.runtime import Runtime, build_runtime
from releasegate.settings import Settings
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.client_api import (
    HWID,
    UNKNOWN_KEY,
    ClientApi,
    PeerFactory,
    assert_client_error,
    assert_rate_limited,
    assert_valid,
    create_license,
    create_release,
    decrypt_frames,
    team_public_key,
)

TRUSTED_KEY = "TRUST-ED000-00000-00000-00001"
OTHER_IP = "203.0.113.20"
CONTENT = b"classloader payload"

ENDPOINT_SUCCESS = {"verify": "License is valid", "heartbeat": "License heartbeat successful"}


async def call(client: ClientApi, endpoint: str, license_key: str, **fields: Any) -> httpx.Response:
    body = {"licenseKey": license_key, "hardwareIdentifier": HWID, **fields}
    if endpoint == "verify":
        return await client.verify(body)
    return await client.heartbeat(body)


async def download(client: ClientApi, license_key: str, product_id: str) -> httpx.Response:
    response, session = await client.download(license_key, product_id)
    if response.status_code == 200:
        assert decrypt_frames(response.content, session) == CONTENT
    return response


@pytest.fixture
async def product(api: Api, product_id: str) -> str:
    await create_release(api, product_id, "1.0.0", latest=True, file=CONTENT)
    return product_id


# --- IP buckets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_verify_ip": "2/60"}])
async def test_verify_ip_bucket_gives_429_with_retry_after(
    client_api: ClientApi, api: Api, peer: PeerFactory
) -> None:
    first = await create_license(api)
    second = await create_license(api)
    assert_valid(await call(client_api, "verify", first["licenseKey"]))
    assert_valid(await call(client_api, "verify", second["licenseKey"]))
    response = await call(client_api, "verify", first["licenseKey"])
    assert_rate_limited(response)
    assert 1 <= int(response.headers["retry-after"]) <= 60
    # Another IP has its own bucket.
    assert_valid(await call(await peer(OTHER_IP), "verify", first["licenseKey"]))


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_heartbeat_ip": "1/60"}])
async def test_heartbeat_ip_bucket_gives_429(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api)
    assert_valid(
        await call(client_api, "heartbeat", license_["licenseKey"]), "License heartbeat successful"
    )
    assert_rate_limited(await call(client_api, "heartbeat", license_["licenseKey"]))


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_verify_ip": "1/60"}])
async def test_each_endpoint_has_its_own_ip_bucket(
    client_api: ClientApi, api: Api, product: str
) -> None:
    license_ = await create_license(api, productIds=[product])
    assert_valid(await call(client_api, "verify", license_["licenseKey"]))
    assert_rate_limited(await call(client_api, "verify", license_["licenseKey"]))
    assert_valid(
        await call(client_api, "heartbeat", license_["licenseKey"]), "License heartbeat successful"
    )
    assert (await download(client_api, license_["licenseKey"], product)).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_classloader_ip": "1/60"}])
async def test_classloader_ip_bucket_gives_429(
    client_api: ClientApi, api: Api, product: str, peer: PeerFactory
) -> None:
    license_ = await create_license(api, productIds=[product])
    assert (await download(client_api, license_["licenseKey"], product)).status_code == 200
    assert_rate_limited(await download(client_api, license_["licenseKey"], product))
    assert (
        await download(await peer(OTHER_IP), license_["licenseKey"], product)
    ).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_verify_ip": "1/60"}])
async def test_schema_failures_do_not_count_toward_the_ip_bucket(
    client_api: ClientApi, api: Api
) -> None:
    license_ = await create_license(api)
    for _ in range(3):
        assert_client_error(
            await client_api.verify({"licenseKey": "bad"}),
            400,
            "BAD_REQUEST",
            "License key must be in the format of XXXXX-XXXXX-XXXXX-XXXXX-XXXXX",
        )
    assert_valid(await call(client_api, "verify", license_["licenseKey"]))


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_verify_ip": "1/60"}])
async def test_ip_bucket_comes_before_the_team_lookup(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api)
    assert_valid(await call(client_api, "verify", license_["licenseKey"]))
    response = await client_api.verify(
        {"licenseKey": UNKNOWN_KEY}, team_id="00000000-0000-4000-8000-000000000000"
    )
    assert_rate_limited(response)


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_verify_ip": "0"}])
async def test_disabled_bucket_never_limits(client_api: ClientApi, api: Api) -> None:
    license_ = await create_license(api)
    for _ in range(35):  # above the default 30/60
        assert_valid(await call(client_api, "verify", license_["licenseKey"]))


# --- License buckets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings_overrides",
    [{"rate_limit_client_verify_license": "2/60", "rate_limit_client_heartbeat_license": "2/60"}],
)
@pytest.mark.parametrize("endpoint", ["verify", "heartbeat"])
async def test_license_bucket_counts_across_ips(
    client_api: ClientApi, api: Api, peer: PeerFactory, endpoint: str
) -> None:
    license_ = await create_license(api)
    other_license = await create_license(api)
    success = ENDPOINT_SUCCESS[endpoint]
    assert_valid(await call(client_api, endpoint, license_["licenseKey"]), success)
    assert_valid(await call(await peer(OTHER_IP), endpoint, license_["licenseKey"]), success)
    response = await call(await peer("203.0.113.30"), endpoint, license_["licenseKey"])
    assert_rate_limited(response)
    assert 1 <= int(response.headers["retry-after"]) <= 60
    # Another license has its own bucket.
    assert_valid(await call(client_api, endpoint, other_license["licenseKey"]), success)


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_verify_license": "2/60"}])
async def test_license_bucket_applies_to_unknown_keys_before_the_lookup(
    client_api: ClientApi,
) -> None:
    for _ in range(2):
        assert_client_error(
            await client_api.verify({"licenseKey": UNKNOWN_KEY}),
            404,
            "LICENSE_NOT_FOUND",
            "License not found",
        )
    assert_rate_limited(await client_api.verify({"licenseKey": UNKNOWN_KEY}))


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_verify_license": "1/60"}])
async def test_license_bucket_is_per_team(
    client_api: ClientApi,
    api: Api,
    app_client: httpx.AsyncClient,
    other_team: TeamCredentials,
    runtime: Runtime,
) -> None:
    mine = await create_license(api)
    await create_license(Api(app_client, other_team), licenseKey=mine["licenseKey"])
    other_client = ClientApi(
        app_client, other_team.team_id, await team_public_key(runtime, other_team.team_id)
    )
    assert_valid(await call(client_api, "verify", mine["licenseKey"]))
    assert_valid(await call(other_client, "verify", mine["licenseKey"]))
    assert_rate_limited(await call(client_api, "verify", mine["licenseKey"]))


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_classloader_license": "1/60"}])
async def test_classloader_license_bucket_gives_429(
    client_api: ClientApi, api: Api, product: str, peer: PeerFactory
) -> None:
    license_ = await create_license(api, productIds=[product])
    assert (await download(client_api, license_["licenseKey"], product)).status_code == 200
    assert_rate_limited(await download(await peer(OTHER_IP), license_["licenseKey"], product))


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_client_classloader_ip": "1/60"}])
async def test_rate_limited_download_does_not_use_up_the_session_key(
    client_api: ClientApi, api: Api, product: str, peer: PeerFactory
) -> None:
    license_ = await create_license(api, productIds=[product])
    assert (await download(client_api, license_["licenseKey"], product)).status_code == 200
    session = client_api.session_key()
    limited, _ = await client_api.download(license_["licenseKey"], product, key=session)
    assert_rate_limited(limited)
    other = await peer(OTHER_IP)
    served, _ = await other.download(license_["licenseKey"], product, key=session)
    assert served.status_code == 200, served.text
    assert decrypt_frames(served.content, session) == CONTENT


# --- Trusted sources (§2, security-and-limits.md §3.5) ----------------------------------------

TIGHT = {
    "rate_limit_client_verify_ip": "1/60",
    "rate_limit_client_verify_license": "1/60",
    "rate_limit_client_heartbeat_ip": "1/60",
    "rate_limit_client_heartbeat_license": "1/60",
    "rate_limit_client_classloader_ip": "1/60",
    "rate_limit_client_classloader_license": "1/60",
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(TIGHT)


@pytest.fixture
async def trusted_client(
    settings: Settings, team: TeamCredentials, public_key: str, runtime: Runtime
) -> AsyncIterator[ClientApi]:
    """The same deployment restarted with TRUSTED_KEY and this team listed as trusted (the
    lists are read at startup, and the team id is only known once the team exists)."""
    restarted = Settings(
        **{
            **settings.model_dump(),
            "trusted_license_keys": f"OTHER-KEY00-00000-00000-00000,{TRUSTED_KEY}",
            "trusted_team_ids": f"{uuid.uuid4()},{team.team_id}",
        }
    )
    trusted_runtime = build_runtime(restarted)
    app = create_app(runtime=trusted_runtime)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client,
        ):
            yield ClientApi(client, team.team_id, public_key)
    finally:
        await trusted_runtime.close()


@pytest.mark.parametrize("endpoint", ["verify", "heartbeat"])
async def test_trusted_source_skips_the_ip_and_license_buckets(
    trusted_client: ClientApi, api: Api, endpoint: str
) -> None:
    await create_license(api, licenseKey=TRUSTED_KEY)
    for _ in range(3):
        assert_valid(await call(trusted_client, endpoint, TRUSTED_KEY), ENDPOINT_SUCCESS[endpoint])


async def test_trusted_source_skips_the_classloader_buckets(
    trusted_client: ClientApi, api: Api, product: str
) -> None:
    await create_license(api, licenseKey=TRUSTED_KEY, productIds=[product])
    for _ in range(3):
        assert (await download(trusted_client, TRUSTED_KEY, product)).status_code == 200


async def test_trusted_source_does_not_skip_the_replay_guard(
    trusted_client: ClientApi, api: Api, product: str
) -> None:
    await create_license(api, licenseKey=TRUSTED_KEY, productIds=[product])
    session = trusted_client.session_key()
    first, _ = await trusted_client.download(TRUSTED_KEY, product, key=session)
    assert first.status_code == 200, first.text
    again, _ = await trusted_client.download(TRUSTED_KEY, product, key=session)
    assert_rate_limited(again)


async def test_untrusted_key_in_a_trusted_team_is_limited(
    trusted_client: ClientApi, api: Api
) -> None:
    license_ = await create_license(api)
    assert_valid(await call(trusted_client, "verify", license_["licenseKey"]))
    assert_rate_limited(await call(trusted_client, "verify", license_["licenseKey"]))


async def test_trusted_key_in_an_untrusted_team_is_limited(
    trusted_client: ClientApi,
    app_client: httpx.AsyncClient,
    other_team: TeamCredentials,
    runtime: Runtime,
) -> None:
    await create_license(Api(app_client, other_team), licenseKey=TRUSTED_KEY)
    other = ClientApi(
        trusted_client.client,
        other_team.team_id,
        await team_public_key(runtime, other_team.team_id),
    )
    assert_valid(await call(other, "verify", TRUSTED_KEY))
    assert_rate_limited(await call(other, "verify", TRUSTED_KEY))


# --- No request log for 429s (§7) -------------------------------------------------------------


async def request_log_statuses(runtime: Runtime) -> list[tuple[str, int]]:
    from releasegate.client.models import RequestLog

    await runtime.drain()
    async with runtime.database.read() as session:
        rows = await session.scalars(select(RequestLog).order_by(RequestLog.created_at))
        return [(row.status, row.status_code) for row in rows]


async def test_rate_limited_requests_write_no_request_log(
    client_api: ClientApi, api: Api, runtime: Runtime, product: str
) -> None:
    license_ = await create_license(api, productIds=[product])
    assert_valid(await call(client_api, "verify", license_["licenseKey"]))
    assert_rate_limited(await call(client_api, "verify", license_["licenseKey"]))
    assert_valid(
        await call(client_api, "heartbeat", license_["licenseKey"]), "License heartbeat successful"
    )
    assert_rate_limited(await call(client_api, "heartbeat", license_["licenseKey"]))
    assert (await download(client_api, license_["licenseKey"], product)).status_code == 200
    assert_rate_limited(await download(client_api, license_["licenseKey"], product))
    assert await request_log_statuses(runtime) == [("VALID", 200)] * 3


@pytest.mark.parametrize("settings_overrides", [{}])
async def test_replayed_session_key_writes_no_request_log(
    client_api: ClientApi, api: Api, runtime: Runtime, product: str
) -> None:
    license_ = await create_license(api, productIds=[product])
    session = client_api.session_key()
    first, _ = await client_api.download(license_["licenseKey"], product, key=session)
    assert first.status_code == 200, first.text
    again, _ = await client_api.download(license_["licenseKey"], product, key=session)
    assert_rate_limited(again)
    assert await request_log_statuses(runtime) == [("VALID", 200)]
