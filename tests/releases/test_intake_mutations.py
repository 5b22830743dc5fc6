"""Malformed bodies never produce a 500 and never leave staged bytes behind (I6)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, select

from releasegate.files.models import ReleaseFile, StorageJournal
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, jar_bytes
from tests.fixtures.multipart import BOUNDARY, content_type, data_part, encode, file_part


def mutations(valid: bytes, seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        body = bytearray(valid)
        kind = rng.randrange(5)
        if kind == 0:  # truncate
            body = body[: rng.randrange(len(body))]
        elif kind == 1:  # flip bytes
            for _ in range(rng.randrange(1, 8)):
                body[rng.randrange(len(body))] = rng.randrange(256)
        elif kind == 2:  # insert junk
            at = rng.randrange(len(body))
            body[at:at] = rng.randbytes(rng.randrange(1, 64))
        elif kind == 3:  # delete a slice
            at = rng.randrange(len(body))
            del body[at : at + rng.randrange(1, 64)]
        else:  # duplicate a slice (repeated headers, boundaries)
            at = rng.randrange(len(body))
            body[at:at] = body[at : at + rng.randrange(1, 128)]
        bodies.append(bytes(body))
    return bodies


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_releases_create": "0"}


async def test_mutated_bodies_never_500_and_leave_nothing_staged(
    api: Api, runtime: Runtime
) -> None:
    product_id = await api.create_product()
    valid = encode(
        [
            data_part({"version": "1.0.0", "productId": product_id, "status": "DRAFT"}),
            file_part(jar_bytes("a.B"), "plugin.jar", "application/java-archive"),
        ]
    )
    statuses: dict[int, int] = {}
    for body in mutations(valid, seed=20261122, count=150):
        response = await api.client.post(
            f"{api.base}/releases",
            content=body,
            headers={**api.team.headers, "Content-Type": content_type()},
        )
        assert response.status_code != 500, body
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert statuses.get(400, 0) > 50  # the mutations do reach the parser's error paths
    async with runtime.database.read() as session:
        pending = await session.scalar(select(func.count()).select_from(StorageJournal))
        files = await session.scalar(select(func.count()).select_from(ReleaseFile))
    assert pending == 0
    stored = [key async for key, _ in runtime.storage.list("releases/")]
    assert len(stored) == files


async def test_odd_content_type_headers_never_500(api: Api) -> None:
    headers: list[Any] = [
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary="unterminated',
        "multipart/form-data; boundary=" + "b" * 500,
        "multipart/form-data; charset=utf-8",
        "multipart/mixed; boundary=x",
        "text/plain",
        "",
        f"multipart/form-data; boundary={BOUNDARY}; boundary=other",
    ]
    for header in headers:
        response = await api.client.post(
            f"{api.base}/releases",
            content=b"--x\r\n",
            headers={**api.team.headers, "Content-Type": header},
        )
        assert response.status_code in (400, 415), (header, response.text)
