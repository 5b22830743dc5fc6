"""Fixtures for the client API tests: a `ClientApi` for the team, clients from other peer
addresses, and a product with a linked license."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.client_api import ClientApi, PeerFactory, create_license, team_public_key


@pytest.fixture
async def public_key(runtime: Runtime, team: TeamCredentials) -> str:
    return await team_public_key(runtime, team.team_id)


@pytest.fixture
def client_api(app_client: httpx.AsyncClient, team: TeamCredentials, public_key: str) -> ClientApi:
    return ClientApi(app_client, team.team_id, public_key)


@pytest.fixture
async def peer(
    app_client: httpx.AsyncClient, team: TeamCredentials, public_key: str
) -> AsyncIterator[PeerFactory]:
    """`await peer("203.0.113.7")`: a ClientApi whose requests come from that socket address."""
    transport = app_client._transport
    assert isinstance(transport, httpx.ASGITransport)
    async with AsyncExitStack() as stack:

        async def make(ip: str) -> ClientApi:
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=transport.app, client=(ip, 40000)),
                base_url=app_client.base_url,
            )
            await stack.enter_async_context(client)
            return ClientApi(client, team.team_id, public_key)

        yield make


@pytest.fixture
async def product_id(api: Api) -> str:
    return await api.create_product()


@pytest.fixture
async def license_(api: Api, product_id: str) -> dict[str, Any]:
    """A NEVER-expiring, unlimited license linked to `product_id`."""
    return await create_license(api, productIds=[product_id])
