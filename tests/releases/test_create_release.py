"""Create Release: one test per row of dev-api-releases.md §2.3, plus the success shape."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from releasegate.audit.models import AuditLog
from releasegate.files.models import StorageJournal, TeamStorageUsage
from releasegate.releases.models import Release
from releasegate.runtime import Runtime
from tests.fixtures import teams
from tests.fixtures.api import Api, TeamCredentials, jar_bytes
from tests.fixtures.multipart import Part, content_type, data_part, encode, file_part


@pytest.fixture
async def product_id(api: Api) -> str:
    return await api.create_product()


def body(product_id: str, **changes: Any) -> dict[str, Any]:
    return {"version": "1.0.0", "productId": product_id, "status": "PUBLISHED", **changes}


def assert_error(response: Any, status: int, details: str, data: object = None) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] == data


async def test_create_with_file_returns_release_object(api: Api, product_id: str) -> None:
    content = b"hello world"
    response = await api.create_release(
        body(product_id, setAsLatest=True, metadata=[{"key": "mc", "value": "1.21"}]),
        content,
        "My App.txt",
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]
    payload = response.json()
    assert list(payload) == ["data", "result"]
    assert payload["result"]["details"] == "Release created"
    assert payload["result"]["valid"] is True
    release = payload["data"]
    assert release["version"] == "1.0.0"
    assert release["status"] == "PUBLISHED"
    assert release["latest"] is True
    assert release["branchId"] is None and release["branch"] is None
    assert release["teamId"] == api.team.team_id
    assert release["product"]["id"] == product_id
    assert [(m["key"], m["value"], m["locked"]) for m in release["metadata"]] == [
        ("mc", "1.21", False)
    ]
    file = release["file"]
    assert file["size"] == len(content)
    assert file["name"] == "My App.txt"
    assert file["checksum"] == hashlib.md5(content).hexdigest()
    assert file["sha256"] == hashlib.sha256(content).hexdigest()
    assert file["mainClassName"] is None
    assert file["key"] == f"releases/{api.team.team_id}/{release['id']}/{file['id']}"
    assert release["allowedLicenses"] == []


async def test_create_jar_records_main_class(api: Api, product_id: str) -> None:
    response = await api.create_release(body(product_id), jar_bytes("com.example.Main"), "p.jar")
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["mainClassName"] == "com.example.Main"


async def test_row_1_invalid_team_id(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/dev/teams/not-a-uuid/releases", headers=api.team.headers
    )
    assert_error(response, 400, "Invalid teamId")


async def test_unknown_product_is_404(api: Api) -> None:
    response = await api.create_release(body(str(uuid.uuid4())))
    assert_error(response, 404, "Product not found")


# --- Rows 6–18: body, data and file intake --------------------------------------------------


async def test_row_6_non_form_content_type_is_415(api: Api, product_id: str) -> None:
    response = await api.client.post(
        f"{api.base}/releases",
        content=b"{}",
        headers={**api.team.headers, "Content-Type": "application/json"},
    )
    assert_error(response, 415, "Content-Type must be multipart/form-data")


async def test_row_6_multipart_without_boundary_is_415(api: Api) -> None:
    response = await api.client.post(
        f"{api.base}/releases",
        content=b"x",
        headers={**api.team.headers, "Content-Type": "multipart/form-data"},
    )
    assert_error(response, 415, "Content-Type must be multipart/form-data")


async def test_row_7_declared_length_over_cap_is_refused_before_reading(api: Api) -> None:
    consumed = 0

    async def never_read() -> Any:
        nonlocal consumed
        consumed += 1
        yield b"x" * 1024

    response = await api.client.post(
        f"{api.base}/releases",
        content=never_read(),
        headers={
            **api.team.headers,
            "Content-Type": content_type(),
            "Content-Length": str(11 * 1024 * 1024 + 1),
        },
    )
    assert_error(response, 400, "File too large. Maximum size is 10.0 MB")
    assert response.headers["connection"] == "close"
    assert consumed == 0


async def test_row_8_body_ending_mid_part_is_invalid_multipart(api: Api, product_id: str) -> None:
    raw = encode([data_part(body(product_id))])
    response = await api.client.post(
        f"{api.base}/releases",
        content=raw[: len(raw) // 2],
        headers={**api.team.headers, "Content-Type": content_type()},
    )
    assert_error(response, 400, "Invalid multipart body")


async def test_row_9_bytes_outside_file_over_cap_is_413(
    api: Api, product_id: str, runtime: Runtime
) -> None:
    await set_limits(runtime, api, max_file_size_mb=1)
    raw = encode([data_part(body(product_id)), Part("junk", b"j" * (2 * 1024 * 1024 + 10))])

    async def chunked() -> Any:  # no Content-Length, so row 7 cannot answer first
        for start in range(0, len(raw), 65536):
            yield raw[start : start + 65536]

    response = await api.client.post(
        f"{api.base}/releases",
        content=chunked(),
        headers={**api.team.headers, "Content-Type": content_type()},
    )
    assert_error(response, 413, "Request body too large")


async def test_row_10_missing_data_part(api: Api) -> None:
    response = await api.send_form("POST", "/releases", [file_part(b"abc")])
    assert_error(response, 400, "Missing data field")


async def test_row_10_data_sent_as_file_part_counts_as_missing(api: Api, product_id: str) -> None:
    part = Part("data", b"{}", filename="data.json")
    response = await api.send_form("POST", "/releases", [part])
    assert_error(response, 400, "Missing data field")


async def test_row_11_data_part_over_64_kib(api: Api) -> None:
    response = await api.send_form("POST", "/releases", [Part("data", b" " * (64 * 1024 + 1))])
    assert_error(response, 400, "Data field too large")


async def test_row_12_text_part_named_file(api: Api, product_id: str) -> None:
    response = await api.send_form(
        "POST", "/releases", [data_part(body(product_id)), Part("file", b"not a file")]
    )
    assert_error(response, 400, "Invalid file")


async def test_row_13_data_not_json(api: Api) -> None:
    response = await api.send_form("POST", "/releases", [Part("data", b"{not json")])
    assert_error(response, 400, "Invalid JSON in data field")


async def test_row_13_data_not_utf8(api: Api) -> None:
    response = await api.send_form("POST", "/releases", [Part("data", b'{"version": "\xff"}')])
    assert_error(response, 400, "Invalid JSON in data field")


async def test_row_14_schema_issues_listed_in_schema_order(api: Api) -> None:
    data = {
        "version": "1 0",
        "productId": "nope",
        "status": "LIVE",
        "setAsLatest": "yes",
        "metadata": [{"key": "", "value": "v", "extra": 1}],
        "licenseIds": ["x"],
        "keepExistingFile": True,
    }
    response = await api.send_form("POST", "/releases", [data_part(data)])
    assert_error(
        response,
        400,
        "Invalid request body",
        [
            {"message": "Invalid", "path": ["version"]},
            {"message": "Invalid uuid", "path": ["productId"]},
            {
                "message": "Invalid enum value. Expected 'PUBLISHED' | 'DRAFT' | 'DEPRECATED'"
                " | 'ARCHIVED', received 'LIVE'",
                "path": ["status"],
            },
            {"message": "Expected boolean, received string", "path": ["setAsLatest"]},
            {
                "message": "String must contain at least 1 character(s)",
                "path": ["metadata", 0, "key"],
            },
            {"message": "Unrecognized key(s) in object: 'extra'", "path": ["metadata", 0]},
            {"message": "Invalid uuid", "path": ["licenseIds", 0]},
            {"message": "Unrecognized key(s) in object: 'keepExistingFile'", "path": []},
        ],
    )


async def test_row_14_root_not_object(api: Api) -> None:
    response = await api.send_form("POST", "/releases", [Part("data", b"[1]")])
    assert_error(
        response,
        400,
        "Invalid request body",
        [{"message": "Expected object, received array", "path": []}],
    )


async def test_row_15_file_over_limit_detected_while_streaming(
    api: Api, product_id: str, runtime: Runtime
) -> None:
    await set_limits(runtime, api, max_file_size_mb=1)
    response = await api.create_release(body(product_id), b"x" * (1024 * 1024 + 1))
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    assert await stored_keys(runtime) == []
    assert await journal_rows(runtime) == []


async def test_row_15_file_exactly_at_limit_is_accepted(
    api: Api, product_id: str, runtime: Runtime
) -> None:
    await set_limits(runtime, api, max_file_size_mb=1)
    response = await api.create_release(body(product_id), b"x" * (1024 * 1024))
    assert response.status_code == 201, response.text


async def test_row_16_sha256_without_file(api: Api, product_id: str) -> None:
    response = await api.create_release(body(product_id, sha256="a" * 64))
    assert_error(response, 400, "sha256 was provided but no file was uploaded")


async def test_row_17_sha256_mismatch(api: Api, product_id: str, runtime: Runtime) -> None:
    response = await api.create_release(body(product_id, sha256="a" * 64), b"content")
    assert_error(response, 400, "File checksum mismatch")
    assert await stored_keys(runtime) == []


async def test_row_17_sha256_match_any_case_is_accepted(api: Api, product_id: str) -> None:
    digest = hashlib.sha256(b"content").hexdigest().upper()
    response = await api.create_release(body(product_id, sha256=digest), b"content")
    assert response.status_code == 201, response.text


async def test_row_18_uploads_disabled(api: Api, product_id: str, runtime: Runtime) -> None:
    await set_limits(runtime, api, allow_file_uploads=False)
    response = await api.create_release(body(product_id), b"content")
    assert_error(response, 400, "File uploads require a paid subscription")
    assert await stored_keys(runtime) == []


async def test_row_18_uploads_disabled_still_allows_release_without_file(
    api: Api, product_id: str, runtime: Runtime
) -> None:
    await set_limits(runtime, api, allow_file_uploads=False)
    response = await api.create_release(body(product_id))
    assert response.status_code == 201, response.text


# --- Rows 19–29: state checks ---------------------------------------------------------------


async def test_row_19_product_of_another_team_is_not_found(
    api: Api, other_team: TeamCredentials
) -> None:
    foreign = await Api(api.client, other_team).create_product("Foreign")
    response = await api.create_release(body(foreign))
    assert_error(response, 404, "Product not found")


async def test_row_20_max_releases_per_product(api: Api, product_id: str, runtime: Runtime) -> None:
    await set_limits(runtime, api, max_releases_per_product=2)
    for version in ("1.0.0", "1.0.1"):
        assert (await api.create_release(body(product_id, version=version))).status_code == 201
    response = await api.create_release(body(product_id, version="1.0.2", status="DRAFT"))
    assert_error(response, 403, "Max releases per product reached")


async def test_row_21_unknown_license_id(api: Api, product_id: str) -> None:
    response = await api.create_release(body(product_id, licenseIds=[str(uuid.uuid4())]))
    assert_error(response, 404, "One or more license IDs not found")


async def test_row_21_duplicate_license_id(api: Api, product_id: str) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    response = await api.create_release(body(product_id, licenseIds=[license_id, license_id]))
    assert_error(response, 404, "One or more license IDs not found")


async def test_row_21_license_of_another_team(
    api: Api, product_id: str, other_team: TeamCredentials
) -> None:
    foreign = (await Api(api.client, other_team).create_license())["id"]
    response = await api.create_release(body(product_id, licenseIds=[foreign]))
    assert_error(response, 404, "One or more license IDs not found")


async def test_row_22_licenses_with_set_as_latest(api: Api, product_id: str) -> None:
    license_id = (await api.create_license([product_id]))["id"]
    response = await api.create_release(body(product_id, licenseIds=[license_id], setAsLatest=True))
    assert_error(response, 400, "Cannot set as latest release when license IDs are provided")


async def test_row_22_restricted_release_is_created_with_its_allow_list(
    api: Api, product_id: str
) -> None:
    created = await api.create_license([product_id])
    response = await api.create_release(body(product_id, licenseIds=[created["id"]]))
    assert response.status_code == 201, response.text
    allowed = response.json()["data"]["allowedLicenses"]
    assert [item["id"] for item in allowed] == [created["id"]]
    assert allowed[0]["licenseKeyHint"] == "*****-*****-*****-*****-" + created["licenseKey"][-5:]
    assert "licenseKey" not in allowed[0]


async def test_row_23_set_as_latest_on_draft_is_accepted_without_latest(
    api: Api, product_id: str
) -> None:
    response = await api.create_release(body(product_id, status="DRAFT", setAsLatest=True))
    assert response.status_code == 201, response.text
    assert response.json()["data"]["latest"] is False


async def test_row_24_branch_of_another_product(api: Api, product_id: str) -> None:
    other_product = await api.create_product("Second")
    branch_id = await api.create_branch(other_product)
    response = await api.create_release(body(product_id, branchId=branch_id))
    assert_error(response, 404, "Branch not found")


async def test_row_25_duplicate_version_on_default_branch(api: Api, product_id: str) -> None:
    assert (await api.create_release(body(product_id))).status_code == 201
    response = await api.create_release(body(product_id, status="DRAFT"))
    assert_error(
        response, 409, "A release with this version already exists for this product and branch"
    )


async def test_row_25_same_version_on_another_branch_is_allowed(api: Api, product_id: str) -> None:
    branch_id = await api.create_branch(product_id)
    assert (await api.create_release(body(product_id), b"a")).status_code == 201
    response = await api.create_release(body(product_id, branchId=branch_id), b"b")
    assert response.status_code == 201, response.text
    assert response.json()["data"]["branch"]["id"] == branch_id


async def test_row_26_storage_quota(api: Api, product_id: str, runtime: Runtime) -> None:
    await set_limits(runtime, api, max_storage_mb=1)
    first = await api.create_release(body(product_id), b"x" * (700 * 1024))
    assert first.status_code == 201
    response = await api.create_release(body(product_id, version="2.0.0"), b"x" * (400 * 1024))
    assert_error(response, 400, "Storage limit reached")
    assert len(await stored_keys(runtime)) == 1


async def test_row_27_control_character_in_file_name(api: Api, product_id: str) -> None:
    response = await api.create_release(body(product_id), b"abc", "bad\x01name.txt")
    assert_error(response, 400, "Invalid file name")


async def test_row_27_path_in_file_name_is_stripped(api: Api, product_id: str) -> None:
    response = await api.create_release(body(product_id), b"abc", "C:\\build\\out/app.zip")
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["name"] == "app.zip"


@pytest.mark.parametrize("name", ["README", ".jar", "app.", "app.tar-gz", ""])
async def test_row_28_file_without_valid_extension(api: Api, product_id: str, name: str) -> None:
    response = await api.create_release(body(product_id), b"abc", name)
    assert_error(response, 400, "File must have an extension")


async def test_row_29_jar_without_main_class(api: Api, product_id: str, runtime: Runtime) -> None:
    response = await api.create_release(body(product_id), jar_bytes(None), "Plugin.JAR")
    assert_error(response, 400, "Main class not found in JAR file")
    assert await stored_keys(runtime) == []


async def test_row_29_plain_jar_accepted_when_allowed(
    api: Api, product_id: str, runtime: Runtime
) -> None:
    await set_settings(runtime, api, allow_plain_jars=True)
    response = await api.create_release(body(product_id), jar_bytes(None), "lib.jar")
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["mainClassName"] is None


async def test_non_jar_is_never_inspected(api: Api, product_id: str) -> None:
    response = await api.create_release(body(product_id), jar_bytes(None), "bundle.zip")
    assert response.status_code == 201, response.text


# --- Side effects -----------------------------------------------------------------------------


async def test_set_as_latest_demotes_previous_latest(api: Api, product_id: str) -> None:
    first = (await api.create_release(body(product_id, setAsLatest=True))).json()["data"]
    second = await api.create_release(body(product_id, version="1.1.0", setAsLatest=True))
    assert second.json()["data"]["latest"] is True
    assert (await release_row(api, first["id"])).latest is False


async def test_create_writes_audit_row_without_file_bytes(
    api: Api, product_id: str, runtime: Runtime
) -> None:
    response = await api.create_release(body(product_id), b"payload", "a.txt")
    release = response.json()["data"]
    rows = await audit_rows(runtime, "CREATE_RELEASE")
    assert len(rows) == 1
    row = rows[0]
    assert row.target_type == "RELEASE" and str(row.target_id) == release["id"]
    assert row.source == "API_KEY" and row.api_key_id is not None
    request_body = json.loads(row.request_body or "null")
    assert request_body["version"] == "1.0.0"
    assert request_body["file"] == {
        "name": "a.txt",
        "size": 7,
        "sha256": hashlib.sha256(b"payload").hexdigest(),
    }
    assert json.loads(row.response_body or "null") == response.json()


async def test_failed_create_writes_no_audit_row(
    api: Api, product_id: str, runtime: Runtime
) -> None:
    await api.create_release(body(product_id, sha256="0" * 64), b"x")
    assert await audit_rows(runtime, "CREATE_RELEASE") == []


async def test_usage_counter_grows_by_file_size(
    api: Api, product_id: str, runtime: Runtime
) -> None:
    await api.create_release(body(product_id), b"x" * 1000)
    async with runtime.database.read() as session:
        usage = await session.get(TeamStorageUsage, uuid.UUID(api.team.team_id))
    assert usage is not None and usage.used_bytes == 1000


async def test_stored_object_matches_upload(api: Api, product_id: str, runtime: Runtime) -> None:
    content = bytes(range(256)) * 1000
    response = await api.create_release(body(product_id), content, "blob.bin")
    opened = await runtime.storage.open(response.json()["data"]["file"]["key"])
    assert b"".join([chunk async for chunk in opened.chunks]) == content
    assert await journal_rows(runtime) == []


# --- Helpers ----------------------------------------------------------------------------------


async def set_limits(runtime: Runtime, api: Api, **changes: object) -> None:
    await teams.set_limits(runtime, api.team.team_id, **changes)


async def set_settings(runtime: Runtime, api: Api, **changes: object) -> None:
    await teams.set_settings(runtime, api.team.team_id, **changes)


async def stored_keys(runtime: Runtime) -> list[str]:
    return sorted([key async for key, _ in runtime.storage.list("releases/")])


async def journal_rows(runtime: Runtime) -> list[StorageJournal]:
    async with runtime.database.read() as session:
        return list(await session.scalars(select(StorageJournal)))


async def audit_rows(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.database.read() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == action)))


async def release_row(api: Api, release_id: str) -> Release:
    runtime: Runtime = api.client._transport.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.database.read() as session:
        row = await session.get(Release, uuid.UUID(release_id))
    assert row is not None
    return row
