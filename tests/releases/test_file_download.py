"""Raw file download for publishers (dev-api-releases.md §8; files-and-storage.md §11)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from releasegate.audit.models import AuditLog
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.multipart import Part, data_part, file_part

CONTENT = b"0123456789abcdefghij"  # 20 bytes


@dataclass(frozen=True)
class Uploaded:
    release_id: str
    file: dict[str, Any]


@pytest.fixture
async def product_id(api: Api) -> str:
    return await api.create_product()


async def upload(
    api: Api,
    product_id: str,
    content: bytes = CONTENT,
    filename: str = "app.txt",
    content_type: str | None = "text/plain",
    version: str = "1.0.0",
) -> Uploaded:
    data = {"version": version, "productId": product_id, "status": "PUBLISHED"}
    response = await api.send_form(
        "POST", "/releases", [data_part(data), file_part(content, filename, content_type)]
    )
    assert response.status_code == 201, response.text
    release = response.json()["data"]
    return Uploaded(release["id"], release["file"])


@pytest.fixture
async def uploaded(api: Api, product_id: str) -> Uploaded:
    return await upload(api, product_id)


async def download(api: Api, release_id: str, **headers: str) -> httpx.Response:
    return await api.client.get(
        f"{api.base}/releases/{release_id}/file",
        headers={**api.team.headers, **{k.replace("_", "-"): v for k, v in headers.items()}},
    )


def assert_error(response: httpx.Response, status: int, details: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] is None


def etag(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()}"'


# --- Success -----------------------------------------------------------------------------------


async def test_download_returns_identical_bytes_of_a_3_mib_file(api: Api, product_id: str) -> None:
    content = os.urandom(3 * 1024 * 1024)
    uploaded = await upload(api, product_id, content, "big.bin", None)
    response = await download(api, uploaded.release_id)
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(content))
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(content).digest()
    assert response.content == content


async def test_download_sends_exactly_the_documented_headers(api: Api, uploaded: Uploaded) -> None:
    response = await download(api, uploaded.release_id)
    assert response.status_code == 200
    headers = dict(response.headers)
    assert headers.pop("x-request-id")
    assert headers == {
        "content-type": "text/plain",
        "content-length": str(len(CONTENT)),
        "content-disposition": "attachment; filename=\"app.txt\"; filename*=UTF-8''app.txt",
        "etag": etag(CONTENT),
        "x-checksum-md5": hashlib.md5(CONTENT).hexdigest(),
        "x-checksum-sha256": hashlib.sha256(CONTENT).hexdigest(),
        "accept-ranges": "bytes",
        "cache-control": "private, no-store",
        "x-content-type-options": "nosniff",
    }
    assert response.content == CONTENT


async def test_content_type_is_the_stored_content_type(api: Api, product_id: str) -> None:
    uploaded = await upload(api, product_id, filename="data.bin", content_type=None)
    response = await download(api, uploaded.release_id)
    assert response.status_code == 200
    assert uploaded.file["contentType"] == "application/octet-stream"
    assert response.headers["content-type"] == "application/octet-stream"


async def test_non_ascii_name_gets_ascii_fallback_and_utf8_filename_star(
    api: Api, product_id: str
) -> None:
    name_part = Part(
        "file", CONTENT, disposition='form-data; name="file"; filename="Résumé \\"v1\\" ✓.txt"'
    )
    data = {"version": "1.0.0", "productId": product_id, "status": "PUBLISHED"}
    created = await api.send_form("POST", "/releases", [data_part(data), name_part])
    assert created.status_code == 201, created.text
    uploaded = Uploaded(created.json()["data"]["id"], created.json()["data"]["file"])
    response = await download(api, uploaded.release_id)
    assert response.status_code == 200
    assert uploaded.file["name"] == 'Résumé "v1" ✓.txt'
    assert response.headers["content-disposition"] == (
        'attachment; filename="R_sum_ _v1_ _.txt"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%22v1%22%20%E2%9C%93.txt"
    )


async def test_zero_length_file_gives_200_even_with_a_range(api: Api, product_id: str) -> None:
    uploaded = await upload(api, product_id, b"", "empty.txt")
    response = await download(api, uploaded.release_id, range="bytes=0-10")
    assert response.status_code == 200
    assert response.headers["content-length"] == "0"
    assert "content-range" not in response.headers
    assert response.content == b""


async def test_download_writes_no_audit_row(api: Api, runtime: Runtime, uploaded: Uploaded) -> None:
    async with runtime.database.read() as session:
        before = await session.scalar(select(func.count()).select_from(AuditLog))
    assert (await download(api, uploaded.release_id)).status_code == 200
    async with runtime.database.read() as session:
        assert await session.scalar(select(func.count()).select_from(AuditLog)) == before


# --- Range -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=2-5", 2, 5),
        ("bytes=15-", 15, 19),
        ("bytes=-3", 17, 19),
        ("bytes=10-1000", 10, 19),
        ("bytes=-1000", 0, 19),
        ("bytes=0-0", 0, 0),
        ("Bytes=19-19", 19, 19),
    ],
)
async def test_single_range_gives_206_with_content_range(
    api: Api, uploaded: Uploaded, header: str, first: int, last: int
) -> None:
    response = await download(api, uploaded.release_id, range=header)
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(CONTENT)}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.headers["etag"] == etag(CONTENT)
    assert response.content == CONTENT[first : last + 1]


@pytest.mark.parametrize(
    "header",
    ["bytes=0-1,4-5", "bytes=0-1, 4-5", "bytes=5-2", "bytes=-", "bytes=a-b", "items=0-1", "0-1"],
)
async def test_multiple_or_malformed_ranges_give_the_whole_file(
    api: Api, uploaded: Uploaded, header: str
) -> None:
    response = await download(api, uploaded.release_id, range=header)
    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.content == CONTENT


@pytest.mark.parametrize("header", ["bytes=20-", "bytes=20-30", "bytes=1000-", "bytes=-0"])
async def test_unsatisfiable_range_is_416_with_content_range(
    api: Api, uploaded: Uploaded, header: str
) -> None:
    response = await download(api, uploaded.release_id, range=header)
    assert_error(response, 416, "Range not satisfiable")
    assert response.headers["content-range"] == f"bytes */{len(CONTENT)}"


async def test_if_range_with_matching_etag_applies_the_range(api: Api, uploaded: Uploaded) -> None:
    response = await download(api, uploaded.release_id, range="bytes=2-5", if_range=etag(CONTENT))
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 2-5/{len(CONTENT)}"
    assert response.content == CONTENT[2:6]


@pytest.mark.parametrize(
    "if_range",
    [etag(b"other"), f"W/{etag(CONTENT)}", "Wed, 21 Oct 2015 07:28:00 GMT"],
)
async def test_if_range_not_matching_gives_the_whole_file(
    api: Api, uploaded: Uploaded, if_range: str
) -> None:
    response = await download(api, uploaded.release_id, range="bytes=2-5", if_range=if_range)
    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.content == CONTENT


async def test_if_range_not_matching_ignores_an_unsatisfiable_range(
    api: Api, uploaded: Uploaded
) -> None:
    response = await download(
        api, uploaded.release_id, range="bytes=1000-", if_range=etag(b"other")
    )
    assert response.status_code == 200
    assert response.content == CONTENT


# --- Errors (rows 1–9) -------------------------------------------------------------------------


async def test_malformed_release_id_is_400(api: Api) -> None:
    assert_error(await download(api, "not-a-uuid"), 400, "Invalid releaseId")


async def test_unknown_release_is_404(api: Api) -> None:
    assert_error(
        await download(api, "00000000-0000-4000-8000-000000000000"), 404, "Release not found"
    )


async def test_release_without_file_is_404(api: Api, product_id: str) -> None:
    response = await api.create_release(
        {"version": "1.0.0", "productId": product_id, "status": "DRAFT"}
    )
    assert response.status_code == 201
    assert_error(await download(api, response.json()["data"]["id"]), 404, "Release has no file")


async def test_missing_object_is_404_file_not_found(
    api: Api, runtime: Runtime, uploaded: Uploaded
) -> None:
    await runtime.storage.delete(uploaded.file["key"])
    assert_error(await download(api, uploaded.release_id), 404, "File not found")


async def test_missing_object_is_logged_at_error_level(
    api: Api, runtime: Runtime, uploaded: Uploaded, capfd: pytest.CaptureFixture[str]
) -> None:
    await runtime.storage.delete(uploaded.file["key"])
    assert (await download(api, uploaded.release_id)).status_code == 404
    entries = [
        json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")
    ]
    missing = [entry for entry in entries if entry.get("event") == "release_file_missing"]
    assert len(missing) == 1
    assert missing[0]["level"] == "error"
    assert missing[0]["releaseId"] == uploaded.release_id
    assert missing[0]["fileId"] == uploaded.file["id"]


async def test_missing_object_wins_over_an_unsatisfiable_range(
    api: Api, runtime: Runtime, uploaded: Uploaded
) -> None:
    await runtime.storage.delete(uploaded.file["key"])
    response = await download(api, uploaded.release_id, range="bytes=1000-")
    assert_error(response, 404, "File not found")


async def test_missing_object_with_a_satisfiable_range_is_404(
    api: Api, runtime: Runtime, uploaded: Uploaded
) -> None:
    await runtime.storage.delete(uploaded.file["key"])
    assert_error(await download(api, uploaded.release_id, range="bytes=2-5"), 404, "File not found")


@pytest.mark.parametrize("range_header", [None, "bytes=15-"])
async def test_stored_size_other_than_recorded_counts_as_missing(
    api: Api, runtime: Runtime, uploaded: Uploaded, range_header: str | None
) -> None:
    key = uploaded.file["key"]
    await runtime.storage.delete(key)

    async def shorter() -> Any:
        yield CONTENT[:10]

    await runtime.storage.put_stream(key, shorter())
    headers = {} if range_header is None else {"range": range_header}
    assert_error(await download(api, uploaded.release_id, **headers), 404, "File not found")


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_releases_download": "1/60"}])
async def test_download_uses_the_releases_download_bucket(api: Api, uploaded: Uploaded) -> None:
    assert (await download(api, uploaded.release_id)).status_code == 200
    response = await download(api, uploaded.release_id)
    assert_error(response, 429, "Too many requests")
    assert int(response.headers["retry-after"]) > 0


# --- Tenant isolation --------------------------------------------------------------------------


async def test_other_teams_key_on_this_teams_path_is_401(
    api: Api, other_team: TeamCredentials, uploaded: Uploaded
) -> None:
    response = await api.client.get(
        f"{api.base}/releases/{uploaded.release_id}/file", headers=other_team.headers
    )
    assert_error(response, 401, "Invalid API key")


async def test_this_teams_release_id_under_another_team_is_404(
    api: Api, other_team: TeamCredentials, uploaded: Uploaded
) -> None:
    other = Api(api.client, other_team)
    assert_error(await download(other, uploaded.release_id), 404, "Release not found")
