"""Update Release: one test per row of dev-api-releases.md §3.2, then the §3.3 semantics.

Every error test also proves that the failed PUT changed nothing (invariant I6): the database
rows that a release is made of, the team's usage counter, the audit log, the storage journal and
every stored object, byte for byte, are compared before and after the request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate.audit.models import AuditLog
from releasegate.files.models import ReleaseFile, StorageJournal, TeamStorageUsage
from releasegate.metadata.models import Metadata
from releasegate.releases.models import Release, ReleaseLicense
from releasegate.runtime import Runtime
from releasegate.storage import ObjectNotFound
from releasegate.teams.service import create_api_key
from tests.fixtures.api import Api, TeamCredentials, jar_bytes, update_body
from tests.fixtures.multipart import (
    BOUNDARY,
    Part,
    content_type,
    data_part,
    encode,
    file_part,
)
from tests.fixtures.teams import set_team as set_team_fields

MIB = 1024 * 1024
ORIGINAL = b"original release bytes"
VERSION_TAKEN = "A release with this version already exists for this product and branch"
LICENSES_AND_LATEST = "Cannot set as latest release when license IDs are provided"
LICENSES_NOT_FOUND = "One or more license IDs not found"


# --- Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    """Per-test settings through indirect parametrization; none by default."""
    return dict(getattr(request, "param", {}))


def with_settings(**overrides: object) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("settings_overrides", [overrides], indirect=True)


@pytest.fixture
async def product_id(api: Api) -> str:
    return await api.create_product()


@pytest.fixture
async def release(api: Api, product_id: str) -> dict[str, Any]:
    """1.0.0, PUBLISHED, latest of the default branch, with a file and one metadata entry."""
    return await create(
        api,
        product_id,
        "1.0.0",
        latest=True,
        file=ORIGINAL,
        metadata=[{"key": "mc", "value": "1.21", "locked": False}],
    )


async def create(
    api: Api,
    product_id: str,
    version: str,
    *,
    status: str = "PUBLISHED",
    latest: bool = False,
    branch_id: str | None = None,
    file: bytes | None = None,
    filename: str = "app.txt",
    metadata: list[dict[str, Any]] | None = None,
    license_ids: list[str] | None = None,
) -> dict[str, Any]:
    data = {
        "version": version,
        "productId": product_id,
        "status": status,
        "setAsLatest": latest,
        "branchId": branch_id,
        "metadata": metadata or [],
        "licenseIds": license_ids or [],
    }
    response = await api.create_release(data, file, filename)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


async def put(
    api: Api,
    release: dict[str, Any],
    data: dict[str, Any] | None = None,
    file: bytes | None = None,
    filename: str = "app.txt",
) -> httpx.Response:
    return await api.update_release(
        release["id"], update_body(release) if data is None else data, file, filename
    )


async def put_raw(
    api: Api,
    release_id: str,
    content: bytes | AsyncIterator[bytes],
    headers: Mapping[str, str | None] | None = None,
    *,
    team_id: str | None = None,
) -> httpx.Response:
    """A PUT with a hand-built body; a header given as None is left out."""
    merged = {**api.team.headers, "Content-Type": content_type(), **(headers or {})}
    return await api.client.put(
        f"/api/v1/dev/teams/{team_id or api.team.team_id}/releases/{release_id}",
        content=content,
        headers={name: value for name, value in merged.items() if value is not None},
    )


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["result"]["details"] == "Release updated"
    assert payload["result"]["valid"] is True
    data: dict[str, Any] = payload["data"]
    return data


def assert_error(response: httpx.Response, status: int, details: str, data: object = None) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] == data


async def set_team(runtime: Runtime, team: TeamCredentials, **changes: object) -> None:
    await set_team_fields(runtime, team.team_id, **changes)


async def stored_bytes(runtime: Runtime, key: str) -> bytes:
    opened = await runtime.storage.open(key)
    return b"".join([chunk async for chunk in opened.chunks])


async def is_stored(runtime: Runtime, key: str) -> bool:
    try:
        await runtime.storage.head(key)
    except ObjectNotFound:
        return False
    return True


async def snapshot_keys(runtime: Runtime) -> list[str]:
    return sorted([key async for key, _ in runtime.storage.list("")])


async def release_row(runtime: Runtime, release_id: str) -> Release:
    async with runtime.database.read() as session:
        row = await session.get(Release, uuid.UUID(release_id))
    assert row is not None
    return row


async def file_row(runtime: Runtime, release_id: str) -> ReleaseFile | None:
    async with runtime.database.read() as session:
        return await session.scalar(
            select(ReleaseFile).where(ReleaseFile.release_id == uuid.UUID(release_id))
        )


async def used_bytes(runtime: Runtime, team: TeamCredentials) -> int:
    async with runtime.database.read() as session:
        used = await session.scalar(
            select(TeamStorageUsage.used_bytes).where(
                TeamStorageUsage.team_id == uuid.UUID(team.team_id)
            )
        )
    assert used is not None
    return int(used)


async def update_audits(runtime: Runtime) -> list[AuditLog]:
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(AuditLog)
            .where(AuditLog.action == "UPDATE_RELEASE")
            .order_by(AuditLog.created_at)
        )
        return list(rows)


async def journal(runtime: Runtime) -> list[tuple[str, str]]:
    async with runtime.database.read() as session:
        rows = await session.scalars(select(StorageJournal))
        return sorted((row.key, row.kind) for row in rows)


async def latest_ids(runtime: Runtime, product_id: str, branch_id: str | None) -> list[str]:
    async with runtime.database.read() as session:
        query = select(Release.id).where(
            Release.product_id == uuid.UUID(product_id), Release.latest.is_(True)
        )
        query = query.where(
            Release.branch_id.is_(None)
            if branch_id is None
            else Release.branch_id == uuid.UUID(branch_id)
        )
        return [str(value) for value in await session.scalars(query)]


async def snapshot(runtime: Runtime) -> dict[str, object]:
    """Everything a PUT could touch: release rows, files, metadata, links, usage, audit, journal
    and every stored object with its bytes."""
    async with runtime.database.read() as session:
        releases = [
            (
                row.id,
                row.team_id,
                row.product_id,
                row.branch_id,
                row.version,
                row.status,
                row.latest,
                row.created_at,
                row.updated_at,
            )
            for row in await session.scalars(select(Release).order_by(Release.id))
        ]
        files = [
            (
                row.id,
                row.release_id,
                row.key,
                row.size,
                row.name,
                row.content_type,
                row.checksum,
                row.sha256,
                row.main_class_name,
                row.created_at,
            )
            for row in await session.scalars(select(ReleaseFile).order_by(ReleaseFile.id))
        ]
        metadata = [
            (row.id, row.release_id, row.key, row.value, row.locked, row.position, row.updated_at)
            for row in await session.scalars(
                select(Metadata).where(Metadata.release_id.is_not(None)).order_by(Metadata.id)
            )
        ]
        links = sorted(
            (row.release_id, row.license_id)
            for row in await session.scalars(select(ReleaseLicense))
        )
        usage = sorted(
            (row.team_id, row.used_bytes) for row in await session.scalars(select(TeamStorageUsage))
        )
        audit = sorted((str(row.id), row.action) for row in await session.scalars(select(AuditLog)))
    objects = {key: await stored_bytes(runtime, key) for key in await snapshot_keys(runtime)}
    return {
        "releases": releases,
        "files": files,
        "metadata": metadata,
        "links": links,
        "usage": usage,
        "audit": audit,
        "journal": await journal(runtime),
        "objects": objects,
    }


async def assert_unchanged(
    runtime: Runtime, before: dict[str, object], release: dict[str, Any] | None = None
) -> None:
    """Nothing changed; and the release's existing file is still its original bytes."""
    assert await snapshot(runtime) == before
    if release is not None and release["file"] is not None:
        objects = before["objects"]
        assert isinstance(objects, dict) and release["file"]["key"] in objects
        assert await stored_bytes(runtime, release["file"]["key"]) == ORIGINAL


def expired() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=1)


def random_id() -> str:
    return str(uuid.uuid4())


# --- Row 1–2: path ids -------------------------------------------------------------------------


async def test_row_1_invalid_team_id(api: Api, runtime: Runtime, release: dict[str, Any]) -> None:
    before = await snapshot(runtime)
    response = await put_raw(
        api, "not-a-uuid", encode([data_part(update_body(release))]), team_id="not-a-uuid"
    )
    assert_error(response, 400, "Invalid teamId")
    await assert_unchanged(runtime, before, release)


async def test_row_2_invalid_release_id(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    response = await put_raw(api, "123", encode([data_part(update_body(release))]))
    assert_error(response, 400, "Invalid releaseId")
    await assert_unchanged(runtime, before, release)


async def test_row_2_release_id_is_checked_before_authentication(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    response = await put_raw(
        api, "not-a-uuid", encode([data_part(update_body(release))]), {"Authorization": None}
    )
    assert_error(response, 400, "Invalid releaseId")
    await assert_unchanged(runtime, before, release)


async def test_row_1_team_id_with_trailing_newline_is_invalid(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    body = encode([data_part(update_body(release))])
    response = await put_raw(api, release["id"], body, team_id=api.team.team_id + "%0A")
    assert_error(response, 400, "Invalid teamId")
    await assert_unchanged(runtime, before, release)


async def test_row_2_release_id_with_trailing_newline_is_invalid(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    response = await put_raw(api, release["id"] + "%0A", encode([data_part(update_body(release))]))
    assert_error(response, 400, "Invalid releaseId")
    await assert_unchanged(runtime, before, release)


async def test_row_2_release_id_is_case_insensitive(api: Api, release: dict[str, Any]) -> None:
    data = update_body(release, version="1.0.1")
    updated = ok(await put_raw(api, release["id"].upper(), encode([data_part(data)])))
    assert updated["id"] == release["id"]
    assert updated["version"] == "1.0.1"


# --- Rows 3–6: C3–C6 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer rg_not_a_real_key", "Basic dXNlcjpwYXNz", "Bearer "],
    ids=["missing", "empty", "unknown-key", "not-bearer", "empty-token"],
)
async def test_row_4_invalid_api_key(
    api: Api, runtime: Runtime, release: dict[str, Any], authorization: str | None
) -> None:
    before = await snapshot(runtime)
    body = encode([data_part(update_body(release, version="2.0.0"))])
    response = await put_raw(api, release["id"], body, {"Authorization": authorization})
    assert_error(response, 401, "Invalid API key")
    assert response.headers["www-authenticate"] == "Bearer"
    await assert_unchanged(runtime, before, release)


async def test_row_4_other_teams_key_is_an_invalid_api_key(
    api: Api, runtime: Runtime, release: dict[str, Any], other_team: TeamCredentials
) -> None:
    before = await snapshot(runtime)
    response = await put_raw(
        api, release["id"], encode([data_part(update_body(release))]), other_team.headers
    )
    assert_error(response, 401, "Invalid API key")
    await assert_unchanged(runtime, before, release)


async def test_row_5_expired_api_key(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    key = await create_api_key(runtime, uuid.UUID(team.team_id), expires_at=expired())
    before = await snapshot(runtime)
    response = await put_raw(
        api,
        release["id"],
        encode([data_part(update_body(release, version="2.0.0"))]),
        {"Authorization": f"Bearer {key.api_key}"},
    )
    assert_error(response, 401, "API key expired")
    assert response.headers["www-authenticate"] == "Bearer"
    await assert_unchanged(runtime, before, release)


@with_settings(rate_limit_auth_failure="2/300")
async def test_row_3_auth_failure_lockout_refuses_even_a_valid_key(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    body = encode([data_part(update_body(release, version="2.0.0"))])
    for _ in range(2):
        assert_error(
            await put_raw(api, release["id"], body, {"Authorization": "Bearer rg_wrong"}),
            401,
            "Invalid API key",
        )
    before = await snapshot(runtime)
    response = await put_raw(api, release["id"], body)
    assert_error(response, 429, "Too many requests")
    assert int(response.headers["retry-after"]) > 0
    await assert_unchanged(runtime, before, release)


@with_settings(rate_limit_releases_update="1/60")
async def test_row_6_releases_update_bucket_exhausted(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    ok(await put(api, release))
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, version="2.0.0"))
    assert_error(response, 429, "Too many requests")
    assert int(response.headers["retry-after"]) > 0
    await assert_unchanged(runtime, before, release)


# --- Rows 7–19: the create intake rows, reused ----------------------------------------------------


@pytest.mark.parametrize(
    "header", ["application/json", "multipart/form-data", "text/plain; boundary=x"]
)
async def test_row_7_content_type_not_multipart(
    api: Api, runtime: Runtime, release: dict[str, Any], header: str
) -> None:
    before = await snapshot(runtime)
    response = await put_raw(
        api, release["id"], json.dumps(update_body(release)).encode(), {"Content-Type": header}
    )
    assert_error(response, 415, "Content-Type must be multipart/form-data")
    await assert_unchanged(runtime, before, release)


async def test_row_8_declared_content_length_over_limit(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    await set_team(runtime, team, max_file_size_mb=1)
    before = await snapshot(runtime)
    body = encode([data_part(update_body(release, version="2.0.0")), file_part(b"small")])
    # Only the declared length is over limit + 1 MiB: the answer must come before reading.
    response = await put_raw(api, release["id"], body, {"Content-Length": str(2 * MIB + 1)})
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    await assert_unchanged(runtime, before, release)


def _truncated(body: bytes) -> bytes:
    return body[: -len(f"--{BOUNDARY}--\r\n")]


def _broken_headers(body: bytes) -> bytes:
    return body.replace(b"Content-Disposition: form-data", b"Content-Disposition form-data", 1)


def _other_boundary(body: bytes) -> bytes:
    return body.replace(BOUNDARY.encode(), b"someotherboundary")


@pytest.mark.parametrize(
    "malform",
    [_truncated, _broken_headers, _other_boundary],
    ids=["ends-early", "broken-part-headers", "boundary-mismatch"],
)
async def test_row_9_malformed_multipart(
    api: Api, runtime: Runtime, release: dict[str, Any], malform: Any
) -> None:
    before = await snapshot(runtime)
    body = encode([data_part(update_body(release, version="2.0.0")), file_part(b"new bytes")])
    response = await put_raw(api, release["id"], malform(body))
    assert_error(response, 400, "Invalid multipart body")
    await assert_unchanged(runtime, before, release)


async def test_row_10_bytes_outside_file_over_body_cap(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    await set_team(runtime, team, max_file_size_mb=1)
    body = encode(
        [data_part(update_body(release, version="2.0.0")), Part("padding", b"p" * (2 * MIB))]
    )

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length, so row 8 cannot apply
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    before = await snapshot(runtime)
    response = await put_raw(api, release["id"], chunked())
    assert_error(response, 413, "Request body too large")
    await assert_unchanged(runtime, before, release)


async def test_row_11_missing_data_part(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    response = await put_raw(api, release["id"], encode([file_part(b"new bytes")]))
    assert_error(response, 400, "Missing data field")
    await assert_unchanged(runtime, before, release)


async def test_row_11_data_sent_as_file_part_is_missing(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    data = json.dumps(update_body(release, version="2.0.0")).encode()
    response = await put_raw(api, release["id"], encode([Part("data", data, filename="d.json")]))
    assert_error(response, 400, "Missing data field")
    await assert_unchanged(runtime, before, release)


async def test_row_12_data_part_over_64_kib(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    raw = json.dumps(update_body(release)).encode()
    padded = raw[:-1] + b" " * (64 * 1024 + 1 - len(raw)) + b"}"
    assert len(padded) == 64 * 1024 + 1
    response = await put_raw(api, release["id"], encode([data_part(padded)]))
    assert_error(response, 400, "Data field too large")
    await assert_unchanged(runtime, before, release)


async def test_row_13_text_part_named_file_is_invalid_file(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    response = await put_raw(
        api,
        release["id"],
        encode([data_part(update_body(release, version="2.0.0")), Part("file", b"not a file")]),
    )
    assert_error(response, 400, "Invalid file")
    await assert_unchanged(runtime, before, release)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b'{"version": NaN}', b"\xff\xfe{}"],
    ids=["broken", "empty", "nan", "not-utf8"],
)
async def test_row_14_invalid_json_in_data(
    api: Api, runtime: Runtime, release: dict[str, Any], raw: bytes
) -> None:
    before = await snapshot(runtime)
    response = await put_raw(api, release["id"], encode([data_part(raw)]))
    assert_error(response, 400, "Invalid JSON in data field")
    await assert_unchanged(runtime, before, release)


async def test_row_15_update_fields_are_all_required_in_schema_order(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    before = await snapshot(runtime)
    data = {"version": "2.0.0", "productId": product_id, "status": "PUBLISHED"}
    response = await put(api, release, data)
    assert_error(
        response,
        400,
        "Invalid request body",
        [
            {"message": "Required", "path": ["setAsLatest"]},
            {"message": "Required", "path": ["keepExistingFile"]},
            {"message": "Required", "path": ["branchId"]},
            {"message": "Required", "path": ["metadata"]},
            {"message": "Required", "path": ["licenseIds"]},
        ],
    )
    await assert_unchanged(runtime, before, release)


async def test_row_15_every_field_issue_reported_in_order(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    data = {
        "version": "x ",
        "productId": "nope",
        "status": "LIVE",
        "setAsLatest": "yes",
        "keepExistingFile": None,
        "branchId": 5,
        "metadata": [{"key": "", "value": "v", "extra": 1}],
        "licenseIds": ["x"],
        "sha256": "abc",
        "foo": 1,
    }
    response = await put(api, release, data)
    assert_error(
        response,
        400,
        "Invalid request body",
        [
            {"message": "String must contain at least 3 character(s)", "path": ["version"]},
            {"message": "Invalid", "path": ["version"]},
            {"message": "Invalid uuid", "path": ["productId"]},
            {
                "message": "Invalid enum value. Expected 'PUBLISHED' | 'DRAFT' | 'DEPRECATED' "
                "| 'ARCHIVED', received 'LIVE'",
                "path": ["status"],
            },
            {"message": "Expected boolean, received string", "path": ["setAsLatest"]},
            {"message": "Expected boolean, received null", "path": ["keepExistingFile"]},
            {"message": "Expected string, received number", "path": ["branchId"]},
            {
                "message": "String must contain at least 1 character(s)",
                "path": ["metadata", 0, "key"],
            },
            {"message": "Unrecognized key(s) in object: 'extra'", "path": ["metadata", 0]},
            {"message": "Invalid uuid", "path": ["licenseIds", 0]},
            {"message": "Invalid", "path": ["sha256"]},
            {"message": "Unrecognized key(s) in object: 'foo'", "path": []},
        ],
    )
    await assert_unchanged(runtime, before, release)


async def test_row_15_array_limits(api: Api, runtime: Runtime, release: dict[str, Any]) -> None:
    before = await snapshot(runtime)
    data = update_body(
        release,
        metadata=[{"key": f"k{i}", "value": "v"} for i in range(21)],
        licenseIds=[random_id() for _ in range(31)],
    )
    response = await put(api, release, data)
    assert_error(
        response,
        400,
        "Invalid request body",
        [
            {"message": "Array must contain at most 20 element(s)", "path": ["metadata"]},
            {"message": "Array must contain at most 30 element(s)", "path": ["licenseIds"]},
        ],
    )
    await assert_unchanged(runtime, before, release)


async def test_row_15_root_not_an_object(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    response = await put_raw(api, release["id"], encode([data_part(b"[1, 2]")]))
    assert_error(
        response,
        400,
        "Invalid request body",
        [{"message": "Expected object, received array", "path": []}],
    )
    await assert_unchanged(runtime, before, release)


async def test_row_16_file_over_team_limit_while_streaming(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    await set_team(runtime, team, max_file_size_mb=1)
    before = await snapshot(runtime)
    response = await put(api, release, file=b"x" * (MIB + 1))
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    await assert_unchanged(runtime, before, release)


async def test_row_16_file_of_exactly_the_limit_is_accepted(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    await set_team(runtime, team, max_file_size_mb=1)
    updated = ok(await put(api, release, file=b"x" * MIB))
    assert updated["file"]["size"] == MIB


async def test_row_17_sha256_without_file(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    data = update_body(release, sha256=hashlib.sha256(ORIGINAL).hexdigest())
    response = await put(api, release, data)
    assert_error(response, 400, "sha256 was provided but no file was uploaded")
    await assert_unchanged(runtime, before, release)


async def test_row_18_sha256_mismatch(api: Api, runtime: Runtime, release: dict[str, Any]) -> None:
    before = await snapshot(runtime)
    data = update_body(release, sha256=hashlib.sha256(b"other bytes").hexdigest())
    response = await put(api, release, data, b"new bytes")
    assert_error(response, 400, "File checksum mismatch")
    await assert_unchanged(runtime, before, release)


async def test_row_18_matching_sha256_in_upper_case_is_accepted(
    api: Api, release: dict[str, Any]
) -> None:
    digest = hashlib.sha256(b"new bytes").hexdigest()
    updated = ok(await put(api, release, update_body(release, sha256=digest.upper()), b"new bytes"))
    assert updated["file"]["sha256"] == digest


async def test_row_19_file_uploads_disallowed(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    await set_team(runtime, team, allow_file_uploads=False)
    before = await snapshot(runtime)
    response = await put(api, release, file=b"new bytes")
    assert_error(response, 400, "File uploads require a paid subscription")
    await assert_unchanged(runtime, before, release)


async def test_row_19_uploads_disallowed_still_allows_update_without_file(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    await set_team(runtime, team, allow_file_uploads=False)
    updated = ok(await put(api, release, update_body(release, version="1.0.1")))
    assert updated["version"] == "1.0.1"
    assert updated["file"]["id"] == release["file"]["id"]


async def test_rows_17_to_19_precede_the_product_lookup(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    await set_team(runtime, team, allow_file_uploads=False)
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, productId=random_id()), b"new bytes")
    assert_error(response, 400, "File uploads require a paid subscription")
    await assert_unchanged(runtime, before, release)


async def test_urlencoded_body_with_file_field_is_invalid_file(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    form = httpx.QueryParams({"data": json.dumps(update_body(release)), "file": "x"})
    response = await put_raw(
        api,
        release["id"],
        str(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400, "Invalid file")
    await assert_unchanged(runtime, before, release)


async def test_urlencoded_body_updates_without_a_file(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    form = httpx.QueryParams({"data": json.dumps(update_body(release, version="1.0.1"))})
    response = await put_raw(
        api,
        release["id"],
        str(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    updated = ok(response)
    assert updated["version"] == "1.0.1"
    assert updated["file"]["id"] == release["file"]["id"]


async def test_row_12_data_of_exactly_64_kib_is_accepted(api: Api, release: dict[str, Any]) -> None:
    raw = json.dumps(update_body(release, version="1.0.1")).encode()
    padded = raw[:-1] + b" " * (64 * 1024 - len(raw)) + b"}"
    assert len(padded) == 64 * 1024
    updated = ok(await put_raw(api, release["id"], encode([data_part(padded)])))
    assert updated["version"] == "1.0.1"


async def test_file_part_before_data_part_is_accepted(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    body = encode([file_part(b"file first"), data_part(update_body(release))])
    updated = ok(await put_raw(api, release["id"], body))
    assert updated["file"]["size"] == len(b"file first")
    assert await stored_bytes(runtime, updated["file"]["key"]) == b"file first"


async def test_row_16_file_first_over_limit_is_answered_before_invalid_data(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    await set_team(runtime, team, max_file_size_mb=1)
    before = await snapshot(runtime)
    body = encode([file_part(b"x" * (MIB + 1)), data_part(b"{not json")])
    response = await put_raw(api, release["id"], body)
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    await assert_unchanged(runtime, before, release)


async def test_invalid_data_before_file_is_answered_without_storing_the_file(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    body = encode([data_part(b"{not json"), file_part(b"never stored")])
    response = await put_raw(api, release["id"], body)
    assert_error(response, 400, "Invalid JSON in data field")
    await assert_unchanged(runtime, before, release)


async def test_duplicate_file_part_first_wins(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    body = encode(
        [
            data_part(update_body(release)),
            file_part(b"first part", "first.txt"),
            file_part(b"second part", "second.txt"),
        ]
    )
    updated = ok(await put_raw(api, release["id"], body))
    assert (updated["file"]["name"], updated["file"]["size"]) == ("first.txt", len(b"first part"))
    assert await snapshot_keys(runtime) == [updated["file"]["key"]]


@pytest.mark.parametrize(
    "disposition",
    [
        'form-data; name="file"; filename="dist/build/app.zip"',
        "form-data; name=\"file\"; filename*=UTF-8''C%3A%5Cbuilds%5Capp.zip",
    ],
    ids=["slash", "backslash"],
)
async def test_file_name_path_is_stripped(
    api: Api, release: dict[str, Any], disposition: str
) -> None:
    part = Part("file", b"x", disposition=disposition)
    updated = ok(await put_raw(api, release["id"], encode([data_part(update_body(release)), part])))
    assert updated["file"]["name"] == "app.zip"


async def test_file_content_type_is_normalised(api: Api, release: dict[str, Any]) -> None:
    part = file_part(b"x", "app.zip", "Application/ZIP; charset=binary")
    updated = ok(await put_raw(api, release["id"], encode([data_part(update_body(release)), part])))
    assert updated["file"]["contentType"] == "application/zip"


async def test_ids_in_data_are_case_insensitive_and_emitted_lowercase(
    api: Api, release: dict[str, Any], product_id: str
) -> None:
    beta = await api.create_branch(product_id, "beta")
    data = update_body(release, productId=product_id.upper(), branchId=beta.upper())
    updated = ok(await put(api, release, data))
    assert (updated["productId"], updated["branchId"]) == (product_id, beta)


# --- Row 20: product ---------------------------------------------------------------------------


async def test_row_20_new_product_not_found(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, productId=random_id()), b"new bytes")
    assert_error(response, 404, "Product not found")
    await assert_unchanged(runtime, before, release)


async def test_row_20_other_teams_product_not_found(
    api: Api, runtime: Runtime, release: dict[str, Any], other_team: TeamCredentials
) -> None:
    foreign_product = await Api(api.client, other_team).create_product("Foreign")
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, productId=foreign_product))
    assert_error(response, 404, "Product not found")
    await assert_unchanged(runtime, before, release)


async def test_row_20_product_checked_before_release(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    response = await api.update_release(random_id(), update_body(release, productId=random_id()))
    assert_error(response, 404, "Product not found")
    await assert_unchanged(runtime, before, release)


# --- Row 21: release ---------------------------------------------------------------------------


async def test_row_21_release_not_found(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    response = await api.update_release(random_id(), update_body(release), b"new bytes")
    assert_error(response, 404, "Release not found")
    await assert_unchanged(runtime, before, release)


async def test_row_21_other_teams_release_behaves_like_a_random_id(
    api: Api, runtime: Runtime, release: dict[str, Any], other_team: TeamCredentials
) -> None:
    other = Api(api.client, other_team)
    foreign = await create(
        other, await other.create_product("Foreign"), "9.9.9", latest=True, file=ORIGINAL
    )
    data = update_body(release, version="2.0.0")
    before = await snapshot(runtime)

    foreign_response = await api.update_release(foreign["id"], data, b"new bytes")
    random_response = await api.update_release(random_id(), data, b"new bytes")

    assert_error(foreign_response, 404, "Release not found")
    assert foreign_response.status_code == random_response.status_code
    assert foreign_response.json()["data"] == random_response.json()["data"]
    assert (
        foreign_response.json()["result"]["details"] == random_response.json()["result"]["details"]
    )
    await assert_unchanged(runtime, before, foreign)


# --- Row 22: max releases on a move ------------------------------------------------------------


async def test_row_22_moving_into_a_full_product(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    full_product = await api.create_product("Full")
    await create(api, full_product, "5.0.0")
    await set_team(runtime, team, max_releases_per_product=1)
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, productId=full_product), b"new")
    assert_error(response, 403, "Max releases per product reached")
    await assert_unchanged(runtime, before, release)


async def test_row_22_limit_not_applied_without_a_move(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    beta = await api.create_branch(release["productId"], "beta")
    await set_team(runtime, team, max_releases_per_product=1)
    updated = ok(await put(api, release, update_body(release, version="1.0.1", branchId=beta)))
    assert (updated["version"], updated["branchId"]) == ("1.0.1", beta)


async def test_row_22_checked_before_duplicate_version(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    full_product = await api.create_product("Full")
    await create(api, full_product, release["version"])
    await set_team(runtime, team, max_releases_per_product=1)
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, productId=full_product))
    assert_error(response, 403, "Max releases per product reached")
    await assert_unchanged(runtime, before, release)


# --- Row 23: duplicate version -----------------------------------------------------------------


async def test_row_23_version_of_another_release_in_same_branch(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    second = await create(api, product_id, "2.0.0", file=b"second")
    before = await snapshot(runtime)
    response = await put(api, second, update_body(second, version="1.0.0"), b"new")
    assert_error(response, 409, VERSION_TAKEN)
    await assert_unchanged(runtime, before, release)


async def test_row_23_version_taken_in_the_new_product(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    target = await api.create_product("Target")
    await create(api, target, release["version"])
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, productId=target))
    assert_error(response, 409, VERSION_TAKEN)
    await assert_unchanged(runtime, before, release)


async def test_row_23_version_taken_in_the_new_branch(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    beta = await api.create_branch(product_id, "beta")
    await create(api, product_id, release["version"], branch_id=beta)
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, branchId=beta))
    assert_error(response, 409, VERSION_TAKEN)
    await assert_unchanged(runtime, before, release)


async def test_row_23_same_version_on_another_branch_is_allowed(
    api: Api, release: dict[str, Any], product_id: str
) -> None:
    beta = await api.create_branch(product_id, "beta")
    on_beta = await create(api, product_id, "2.0.0", branch_id=beta)
    updated = ok(await put(api, on_beta, update_body(on_beta, version=release["version"])))
    assert updated["version"] == release["version"]
    assert updated["branchId"] == beta


async def test_row_23_own_version_is_not_a_duplicate(api: Api, release: dict[str, Any]) -> None:
    updated = ok(await put(api, release))
    assert updated["version"] == release["version"]


# --- Row 24: branch ----------------------------------------------------------------------------


async def test_row_24_branch_of_another_product(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    other_product = await api.create_product("Other")
    foreign_branch = await api.create_branch(other_product, "beta")
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, branchId=foreign_branch), b"new")
    assert_error(response, 404, "Branch not found")
    await assert_unchanged(runtime, before, release)


async def test_row_24_branch_checked_against_the_new_product(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    own_branch = await api.create_branch(product_id, "beta")
    target = await api.create_product("Target")
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, productId=target, branchId=own_branch))
    assert_error(response, 404, "Branch not found")
    await assert_unchanged(runtime, before, release)


async def test_row_24_unknown_branch(api: Api, runtime: Runtime, release: dict[str, Any]) -> None:
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, branchId=random_id()))
    assert_error(response, 404, "Branch not found")
    await assert_unchanged(runtime, before, release)


# --- Row 25: licenses --------------------------------------------------------------------------


async def test_row_25_unknown_license(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    known = await api.create_license([product_id])
    before = await snapshot(runtime)
    data = update_body(release, licenseIds=[known["id"], random_id()])
    response = await put(api, release, data)
    assert_error(response, 404, LICENSES_NOT_FOUND)
    await assert_unchanged(runtime, before, release)


async def test_row_25_duplicate_license_id(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    draft = await create(api, product_id, "0.9.0", status="DRAFT")
    before = await snapshot(runtime)
    response = await put(api, draft, update_body(draft, licenseIds=[license_id, license_id]))
    assert_error(response, 404, LICENSES_NOT_FOUND)
    await assert_unchanged(runtime, before, release)


async def test_row_25_duplicate_license_id_differing_in_case(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    draft = await create(api, product_id, "0.9.0", status="DRAFT")
    before = await snapshot(runtime)
    data = update_body(draft, licenseIds=[license_id, license_id.upper()])
    response = await put(api, draft, data)
    assert_error(response, 404, LICENSES_NOT_FOUND)
    await assert_unchanged(runtime, before, release)


async def test_row_25_other_teams_license(
    api: Api,
    runtime: Runtime,
    release: dict[str, Any],
    product_id: str,
    other_team: TeamCredentials,
) -> None:
    foreign = await Api(api.client, other_team).create_license()
    draft = await create(api, product_id, "0.9.0", status="DRAFT")
    before = await snapshot(runtime)
    response = await put(api, draft, update_body(draft, licenseIds=[foreign["id"]]))
    assert_error(response, 404, LICENSES_NOT_FOUND)
    await assert_unchanged(runtime, before, release)


async def test_row_25_checked_before_the_latest_conflict(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    data = update_body(release, setAsLatest=True, licenseIds=[random_id()])
    response = await put(api, release, data)
    assert_error(response, 404, LICENSES_NOT_FOUND)
    await assert_unchanged(runtime, before, release)


# --- Row 26: licenses and latest ---------------------------------------------------------------


async def test_row_26_licenses_with_set_as_latest(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    second = await create(api, product_id, "2.0.0")
    before = await snapshot(runtime)
    response = await put(
        api, second, update_body(second, setAsLatest=True, licenseIds=[license_id])
    )
    assert_error(response, 400, LICENSES_AND_LATEST)
    await assert_unchanged(runtime, before, release)


async def test_row_26_licenses_with_set_as_latest_on_a_draft(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    draft = await create(api, product_id, "2.0.0", status="DRAFT")
    before = await snapshot(runtime)
    data = update_body(draft, setAsLatest=True, licenseIds=[license_id])
    response = await put(api, draft, data)
    assert_error(response, 400, LICENSES_AND_LATEST)
    await assert_unchanged(runtime, before, release)


async def test_row_26_licenses_while_release_would_stay_latest(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    before = await snapshot(runtime)
    response = await put(api, release, update_body(release, licenseIds=[license_id]), b"new")
    assert_error(response, 400, LICENSES_AND_LATEST)
    await assert_unchanged(runtime, before, release)


async def test_row_26_licenses_accepted_when_latest_release_leaves_published(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    data = update_body(release, status="DEPRECATED", licenseIds=[license_id])
    updated = ok(await put(api, release, data))
    assert updated["latest"] is False
    assert [lic["id"] for lic in updated["allowedLicenses"]] == [license_id]


async def test_row_26_licenses_accepted_when_latest_release_moves(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    beta = await api.create_branch(product_id, "beta")
    updated = ok(
        await put(api, release, update_body(release, branchId=beta, licenseIds=[license_id]))
    )
    assert updated["latest"] is False
    assert [lic["id"] for lic in updated["allowedLicenses"]] == [license_id]


# --- Row 27: setAsLatest on a non-PUBLISHED release ----------------------------------------------


async def test_row_27_set_as_latest_with_draft_is_accepted_and_not_latest(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    draft = await create(api, product_id, "2.0.0", status="DRAFT")
    updated = ok(await put(api, draft, update_body(draft, setAsLatest=True)))
    assert updated["latest"] is False
    assert (await release_row(runtime, draft["id"])).latest is False
    assert await latest_ids(runtime, product_id, None) == [release["id"]]


async def test_row_27_set_as_latest_with_archived_clears_a_latest_release(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    updated = ok(await put(api, release, update_body(release, status="ARCHIVED", setAsLatest=True)))
    assert updated["latest"] is False
    assert await latest_ids(runtime, product_id, None) == []


# --- Row 28: storage quota ---------------------------------------------------------------------

QUOTA = MIB  # max_storage_mb = 1
OTHER_SIZE = 400 * 1024


async def quota_setup(api: Api, runtime: Runtime, team: TeamCredentials, product_id: str) -> None:
    """A release holding OTHER_SIZE bytes next to `release`'s file, and a 1 MB quota."""
    await create(api, product_id, "3.0.0", file=b"o" * OTHER_SIZE)
    await set_team(runtime, team, max_storage_mb=1)


async def test_row_28_storage_limit_counts_usage_minus_old_plus_new(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials, product_id: str
) -> None:
    await quota_setup(api, runtime, team, product_id)
    largest = QUOTA - OTHER_SIZE  # usage − len(ORIGINAL) + largest == quota exactly
    before = await snapshot(runtime)
    response = await put(api, release, file=b"n" * (largest + 1))
    assert_error(response, 400, "Storage limit reached")
    await assert_unchanged(runtime, before, release)


async def test_row_28_storage_limit_reached_exactly_is_accepted(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials, product_id: str
) -> None:
    await quota_setup(api, runtime, team, product_id)
    largest = QUOTA - OTHER_SIZE
    updated = ok(await put(api, release, file=b"n" * largest))
    assert updated["file"]["size"] == largest
    assert await used_bytes(runtime, team) == QUOTA


async def test_row_28_precedes_file_name_checks(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials, product_id: str
) -> None:
    await quota_setup(api, runtime, team, product_id)
    before = await snapshot(runtime)
    response = await put(api, release, file=b"n" * QUOTA, filename="no-extension")
    assert_error(response, 400, "Storage limit reached")
    await assert_unchanged(runtime, before, release)


# --- Rows 29–31: file name, extension, JAR -----------------------------------------------------


@pytest.mark.parametrize(
    "encoded_name",
    ["bad%01name.txt", "bad%7Fname.txt", "tab%09name.txt", "bad%FFname.txt", "a" * 252 + ".txt"],
    ids=["soh", "del", "tab", "invalid-utf8", "256-chars"],
)
async def test_row_29_invalid_file_name(
    api: Api, runtime: Runtime, release: dict[str, Any], encoded_name: str
) -> None:
    before = await snapshot(runtime)
    part = Part(
        "file",
        b"new bytes",
        disposition=f"form-data; name=\"file\"; filename*=UTF-8''{encoded_name}",
    )
    response = await put_raw(api, release["id"], encode([data_part(update_body(release)), part]))
    assert_error(response, 400, "Invalid file name")
    await assert_unchanged(runtime, before, release)


async def test_row_29_checked_before_extension(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    before = await snapshot(runtime)
    part = Part(
        "file", b"new bytes", disposition="form-data; name=\"file\"; filename*=UTF-8''bad%01name"
    )
    response = await put_raw(api, release["id"], encode([data_part(update_body(release)), part]))
    assert_error(response, 400, "Invalid file name")
    await assert_unchanged(runtime, before, release)


@pytest.mark.parametrize("filename", ["README", ".gitignore", "archive.", "a.b-c", ""])
async def test_row_30_file_without_valid_extension(
    api: Api, runtime: Runtime, release: dict[str, Any], filename: str
) -> None:
    before = await snapshot(runtime)
    response = await put(api, release, file=b"new bytes", filename=filename)
    assert_error(response, 400, "File must have an extension")
    await assert_unchanged(runtime, before, release)


@pytest.mark.parametrize("filename", ["plugin.jar", "PLUGIN.JAR"])
async def test_row_31_jar_without_main_class(
    api: Api, runtime: Runtime, release: dict[str, Any], filename: str
) -> None:
    before = await snapshot(runtime)
    response = await put(api, release, file=jar_bytes(None), filename=filename)
    assert_error(response, 400, "Main class not found in JAR file")
    await assert_unchanged(runtime, before, release)


async def test_row_31_plain_jar_accepted_when_team_allows_plain_jars(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    await set_team(runtime, team, allow_plain_jars=True)
    content = jar_bytes(None)
    updated = ok(await put(api, release, file=content, filename="plugin.jar"))
    assert updated["file"]["mainClassName"] is None
    assert updated["file"]["size"] == len(content)


async def test_row_31_jar_with_main_class_records_it(api: Api, release: dict[str, Any]) -> None:
    updated = ok(await put(api, release, file=jar_bytes("com.example.Main"), filename="p.jar"))
    assert updated["file"]["mainClassName"] == "com.example.Main"


# --- §3.3 latest -------------------------------------------------------------------------------


async def test_set_as_latest_demotes_previous_latest_of_the_branch(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    second = await create(api, product_id, "2.0.0")
    updated = ok(await put(api, second, update_body(second, setAsLatest=True)))
    assert updated["latest"] is True
    assert (await release_row(runtime, release["id"])).latest is False
    assert await latest_ids(runtime, product_id, None) == [second["id"]]


async def test_set_as_latest_on_the_current_latest_keeps_it(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    updated = ok(await put(api, release, update_body(release, setAsLatest=True)))
    assert updated["latest"] is True
    assert await latest_ids(runtime, product_id, None) == [release["id"]]


async def test_set_as_latest_false_keeps_latest_when_published_and_not_moved(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    data = update_body(release, version="1.0.1", setAsLatest=False)
    updated = ok(await put(api, release, data))
    assert updated["latest"] is True
    assert await latest_ids(runtime, product_id, None) == [release["id"]]


async def test_set_as_latest_false_does_not_promote_a_non_latest_release(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    second = await create(api, product_id, "2.0.0")
    updated = ok(await put(api, second, update_body(second, setAsLatest=False)))
    assert updated["latest"] is False
    assert await latest_ids(runtime, product_id, None) == [release["id"]]


@pytest.mark.parametrize("status", ["DRAFT", "DEPRECATED", "ARCHIVED"])
async def test_leaving_published_clears_latest_without_promoting_another(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str, status: str
) -> None:
    await create(api, product_id, "0.9.0")  # published, not latest: must not be promoted
    updated = ok(await put(api, release, update_body(release, status=status)))
    assert updated["latest"] is False
    assert await latest_ids(runtime, product_id, None) == []


async def test_moving_to_another_branch_clears_latest_and_old_branch_has_none(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    await create(api, product_id, "0.9.0")
    beta = await api.create_branch(product_id, "beta")
    updated = ok(await put(api, release, update_body(release, branchId=beta)))
    assert updated["latest"] is False
    assert updated["branchId"] == beta
    assert updated["branch"]["id"] == beta
    assert await latest_ids(runtime, product_id, None) == []
    assert await latest_ids(runtime, product_id, beta) == []


async def test_moving_to_another_product_clears_latest_and_old_product_has_none(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    target = await api.create_product("Target")
    updated = ok(await put(api, release, update_body(release, productId=target)))
    assert updated["latest"] is False
    assert updated["productId"] == target
    assert updated["product"]["id"] == target
    assert await latest_ids(runtime, product_id, None) == []
    assert await latest_ids(runtime, target, None) == []


async def test_moving_with_set_as_latest_takes_over_the_new_branch(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    beta = await api.create_branch(product_id, "beta")
    beta_latest = await create(api, product_id, "5.0.0", branch_id=beta, latest=True)
    updated = ok(await put(api, release, update_body(release, branchId=beta, setAsLatest=True)))
    assert updated["latest"] is True
    assert (await release_row(runtime, beta_latest["id"])).latest is False
    assert await latest_ids(runtime, product_id, beta) == [release["id"]]
    assert await latest_ids(runtime, product_id, None) == []


# --- §3.3 file outcome -------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [True, False])
async def test_new_file_replaces_old_and_old_object_is_deleted(
    api: Api, runtime: Runtime, release: dict[str, Any], keep: bool
) -> None:
    content = b"replacement bytes!"
    data = update_body(release, keepExistingFile=keep)
    updated = ok(await put(api, release, data, content, "new-name.bin"))

    file = updated["file"]
    assert file["id"] != release["file"]["id"]
    assert file["key"] == f"releases/{api.team.team_id}/{release['id']}/{file['id']}"
    assert file["releaseId"] == release["id"]
    assert file["name"] == "new-name.bin"
    assert file["size"] == len(content)
    assert file["checksum"] == hashlib.md5(content).hexdigest()
    assert file["sha256"] == hashlib.sha256(content).hexdigest()
    row = await file_row(runtime, release["id"])
    assert row is not None
    assert (row.id, row.key, row.size) == (uuid.UUID(file["id"]), file["key"], len(content))
    assert await stored_bytes(runtime, file["key"]) == content
    assert await is_stored(runtime, release["file"]["key"]) is False
    assert await journal(runtime) == []


@with_settings(deleted_object_grace=3600)
async def test_replaced_object_is_kept_for_the_grace_period_with_a_pending_delete(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    updated = ok(await put(api, release, file=b"replacement"))
    old_key = release["file"]["key"]
    assert updated["file"]["key"] != old_key
    assert await stored_bytes(runtime, old_key) == ORIGINAL
    assert await journal(runtime) == [(old_key, "PENDING_DELETE")]


async def test_keep_existing_file_true_without_file_keeps_it(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    usage = await used_bytes(runtime, team)
    updated = ok(await put(api, release, update_body(release, keepExistingFile=True)))
    assert updated["file"] == release["file"]
    row = await file_row(runtime, release["id"])
    assert row is not None and str(row.id) == release["file"]["id"]
    assert await stored_bytes(runtime, release["file"]["key"]) == ORIGINAL
    assert await used_bytes(runtime, team) == usage


async def test_keep_existing_file_false_without_file_removes_it(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    usage = await used_bytes(runtime, team)
    updated = ok(await put(api, release, update_body(release, keepExistingFile=False)))
    assert updated["file"] is None
    assert await file_row(runtime, release["id"]) is None
    assert await is_stored(runtime, release["file"]["key"]) is False
    assert await used_bytes(runtime, team) == usage - len(ORIGINAL)
    assert await journal(runtime) == []


@pytest.mark.parametrize("keep", [True, False])
async def test_release_without_file_stays_without_file(
    api: Api, runtime: Runtime, product_id: str, team: TeamCredentials, keep: bool
) -> None:
    bare = await create(api, product_id, "1.0.0")
    usage = await used_bytes(runtime, team)
    updated = ok(await put(api, bare, update_body(bare, keepExistingFile=keep)))
    assert updated["file"] is None
    assert await file_row(runtime, bare["id"]) is None
    assert await used_bytes(runtime, team) == usage


async def test_file_added_to_release_without_file(
    api: Api, runtime: Runtime, product_id: str, team: TeamCredentials
) -> None:
    bare = await create(api, product_id, "1.0.0")
    usage = await used_bytes(runtime, team)
    updated = ok(await put(api, bare, update_body(bare, keepExistingFile=False), b"first file"))
    assert updated["file"]["size"] == len(b"first file")
    assert await stored_bytes(runtime, updated["file"]["key"]) == b"first file"
    assert await used_bytes(runtime, team) == usage + len(b"first file")


async def test_storage_usage_changes_by_new_minus_old(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str, team: TeamCredentials
) -> None:
    await create(api, product_id, "3.0.0", file=b"o" * 100)
    assert await used_bytes(runtime, team) == 100 + len(ORIGINAL)
    ok(await put(api, release, file=b"n" * 50))
    assert await used_bytes(runtime, team) == 100 + 50


# --- §3.3 other fields -------------------------------------------------------------------------


async def test_metadata_replaced_in_submitted_order_with_new_ids(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    metadata = [
        {"key": "z", "value": "last-alphabetically", "locked": False},
        {"key": "a", "value": "first-alphabetically", "locked": True},
        {"key": "mc", "value": "1.21"},  # `locked` defaults to false
    ]
    updated = ok(await put(api, release, update_body(release, metadata=metadata)))
    got = updated["metadata"]
    assert [(m["key"], m["value"], m["locked"]) for m in got] == [
        ("z", "last-alphabetically", False),
        ("a", "first-alphabetically", True),
        ("mc", "1.21", False),
    ]
    old_ids = {m["id"] for m in release["metadata"]}
    new_ids = [m["id"] for m in got]
    assert len(set(new_ids)) == 3
    assert not old_ids & set(new_ids)
    assert all(m["releaseId"] == release["id"] for m in got)
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(Metadata)
            .where(Metadata.release_id == uuid.UUID(release["id"]))
            .order_by(Metadata.position)
        )
        assert [str(row.id) for row in rows] == new_ids


async def test_identical_metadata_still_gets_new_ids(api: Api, release: dict[str, Any]) -> None:
    updated = ok(await put(api, release))
    assert [(m["key"], m["value"]) for m in updated["metadata"]] == [("mc", "1.21")]
    assert updated["metadata"][0]["id"] != release["metadata"][0]["id"]


async def test_empty_metadata_removes_all(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    updated = ok(await put(api, release, update_body(release, metadata=[])))
    assert updated["metadata"] == []
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(Metadata).where(Metadata.release_id == uuid.UUID(release["id"]))
        )
        assert list(rows) == []


async def test_license_ids_replace_the_allowed_set(
    api: Api, runtime: Runtime, release: dict[str, Any], product_id: str
) -> None:
    first, second, third = [(await api.create_license([product_id]))["id"] for _ in range(3)]
    restricted = await create(api, product_id, "2.0.0", license_ids=[first])
    updated = ok(await put(api, restricted, update_body(restricted, licenseIds=[third, second])))
    assert [lic["id"] for lic in updated["allowedLicenses"]] == sorted([second, third])
    async with runtime.database.read() as session:
        links = await session.scalars(
            select(ReleaseLicense.license_id).where(
                ReleaseLicense.release_id == uuid.UUID(restricted["id"])
            )
        )
        assert sorted(str(value) for value in links) == sorted([second, third])


async def test_empty_license_ids_make_the_release_unrestricted(
    api: Api, runtime: Runtime, product_id: str
) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    restricted = await create(api, product_id, "2.0.0", license_ids=[license_id])
    updated = ok(await put(api, restricted, update_body(restricted, licenseIds=[])))
    assert updated["allowedLicenses"] == []
    async with runtime.database.read() as session:
        links = await session.scalars(
            select(ReleaseLicense).where(ReleaseLicense.release_id == uuid.UUID(restricted["id"]))
        )
        assert list(links) == []


async def test_license_not_linked_to_the_product_is_accepted(api: Api, product_id: str) -> None:
    unlinked = (await api.create_license([]))["id"]
    draft = await create(api, product_id, "2.0.0")
    updated = ok(await put(api, draft, update_body(draft, licenseIds=[unlinked])))
    assert [lic["id"] for lic in updated["allowedLicenses"]] == [unlinked]


async def test_fields_are_set_to_submitted_values(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    target = await api.create_product("Target")
    branch = await api.create_branch(target, "stable")
    data = update_body(
        release, version="4.2.0", status="DEPRECATED", productId=target, branchId=branch
    )
    updated = ok(await put(api, release, data))
    assert (updated["version"], updated["status"]) == ("4.2.0", "DEPRECATED")
    assert (updated["productId"], updated["branchId"]) == (target, branch)
    assert updated["id"] == release["id"]
    assert updated["createdAt"] == release["createdAt"]
    row = await release_row(runtime, release["id"])
    assert (row.version, row.status, str(row.product_id), str(row.branch_id)) == (
        "4.2.0",
        "DEPRECATED",
        target,
        branch,
    )


async def test_moving_keeps_the_file_key_valid(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    target = await api.create_product("Target")
    updated = ok(await put(api, release, update_body(release, productId=target)))
    assert updated["file"]["key"] == release["file"]["key"]
    assert await stored_bytes(runtime, release["file"]["key"]) == ORIGINAL


async def test_unchanged_put_still_bumps_updated_at(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    await asyncio.sleep(0.01)  # timestamps have millisecond precision
    updated = ok(await put(api, release))
    assert updated["updatedAt"] > release["updatedAt"]
    assert updated["createdAt"] == release["createdAt"]
    row = await release_row(runtime, release["id"])
    assert row.updated_at > row.created_at
    assert len(await update_audits(runtime)) == 1


async def test_response_is_the_release_after_update(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    response = await put(api, release, update_body(release, version="1.0.1"))
    updated = ok(response)
    assert response.headers["cache-control"] == "no-store"
    assert list(response.json()) == ["data", "result"]
    assert list(updated) == [
        "id",
        "version",
        "status",
        "latest",
        "productId",
        "branchId",
        "teamId",
        "createdAt",
        "updatedAt",
        "lastSeenAt",
        "metadata",
        "product",
        "branch",
        "file",
        "allowedLicenses",
    ]
    assert updated["teamId"] == api.team.team_id
    assert updated["branch"] is None


# --- Audit ---------------------------------------------------------------------------------------


async def test_audit_row_records_data_and_file_facts(
    api: Api, runtime: Runtime, release: dict[str, Any], team: TeamCredentials
) -> None:
    content = b"audited bytes"
    data = update_body(release, version="1.0.1")
    response = await put(api, release, data, content, "dir/audited.txt")
    ok(response)
    rows = await update_audits(runtime)
    assert len(rows) == 1
    row = rows[0]
    assert (row.team_id, row.target_type, row.target_id, row.source) == (
        uuid.UUID(team.team_id),
        "RELEASE",
        uuid.UUID(release["id"]),
        "API_KEY",
    )
    assert row.api_key_id is not None
    assert row.request_body is not None
    assert json.loads(row.request_body) == {
        **data,
        "file": {
            "name": "audited.txt",
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        },
    }
    assert row.response_body is not None
    assert json.loads(row.response_body) == response.json()


async def test_audit_row_without_file_has_no_file_entry(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    data = update_body(release, keepExistingFile=False)
    ok(await put(api, release, data))
    rows = await update_audits(runtime)
    assert len(rows) == 1
    assert rows[0].request_body is not None
    assert json.loads(rows[0].request_body) == data


async def test_failed_update_writes_no_audit_row(
    api: Api, runtime: Runtime, release: dict[str, Any]
) -> None:
    response = await put(api, release, update_body(release, branchId=random_id()), b"new")
    assert_error(response, 404, "Branch not found")
    assert await update_audits(runtime) == []
