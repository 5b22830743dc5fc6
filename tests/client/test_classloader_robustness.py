"""The classloader under hostile input and failing storage: clear refusals, honest logs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate.client.models import RequestLog
from releasegate.runtime import Runtime
from releasegate.storage import OpenedObject
from tests.fixtures.api import Api
from tests.fixtures.client_api import ClientApi, assert_client_error, create_release, hwids


async def test_nul_in_a_query_value_is_refused_and_stores_nothing(
    client_api: ClientApi, api: Api, product_id: str, license_: dict[str, Any]
) -> None:
    await create_release(api, product_id, "1.0.0", latest=True)
    response, _ = await client_api.download(
        license_["licenseKey"], product_id, hwid="device\x00-0123456789"
    )
    assert_client_error(response, 400, "BAD_REQUEST", "Hardware identifier must be a string")
    assert await hwids(api, license_["id"]) == []


async def test_storage_failing_mid_stream_still_writes_the_request_log_row(
    client_api: ClientApi,
    api: Api,
    runtime: Runtime,
    product_id: str,
    license_: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content = bytes(range(256)) * 1024  # 256 KiB: several frames
    await create_release(api, product_id, "1.0.0", latest=True, file=content)
    opened_for_real = runtime.storage.open

    async def breaking_open(key: str, start: int = 0, end: int | None = None) -> OpenedObject:
        real = await opened_for_real(key, start, end)

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in real.chunks:
                yield chunk
                raise OSError("storage went away")

        return OpenedObject(size=real.size, chunks=chunks())

    monkeypatch.setattr(runtime.storage, "open", breaking_open)
    with pytest.raises((httpx.HTTPError, OSError)):
        await client_api.download(license_["licenseKey"], product_id)
    await runtime.drain()
    async with runtime.database.read() as session:
        rows = list(await session.scalars(select(RequestLog)))
    assert [(row.type, row.status, row.status_code) for row in rows] == [("DOWNLOAD", "VALID", 200)]
