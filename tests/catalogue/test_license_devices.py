"""A license's hardware identifiers and IP addresses (Extension, §11.3): list, forget, remember."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate.audit.models import AuditLog
from releasegate.kit.clock import iso, utcnow
from releasegate.licenses.models import HardwareIdentifier, IpAddress
from releasegate.runtime import Runtime
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.teams import set_settings


@dataclass(frozen=True)
class Kind:
    """What differs between the HWID and the IP-address endpoints."""

    segment: str
    model: type[HardwareIdentifier] | type[IpAddress]
    value_field: str
    list_field: str
    id_name: str
    noun: str
    plural_noun: str
    action_suffix: str
    target_type: str
    timeout_setting: str
    sample: str


HWID = Kind(
    segment="hwid",
    model=HardwareIdentifier,
    value_field="hwid",
    list_field="hwids",
    id_name="hwidId",
    noun="Hardware identifier",
    plural_noun="Hardware identifiers",
    action_suffix="HWID",
    target_type="HARDWARE_IDENTIFIER",
    timeout_setting="hwid_timeout",
    sample="device",
)
IP = Kind(
    segment="ip-address",
    model=IpAddress,
    value_field="ip",
    list_field="ipAddresses",
    id_name="ipId",
    noun="IP address",
    plural_noun="IP addresses",
    action_suffix="IP_ADDRESS",
    target_type="IP_ADDRESS",
    timeout_setting="ip_timeout",
    sample="203.0.113.",
)


@pytest.fixture(params=[HWID, IP], ids=["hwid", "ip"])
def kind(request: pytest.FixtureRequest) -> Kind:
    result: Kind = request.param
    return result


@dataclass(frozen=True)
class Record:
    id: str
    value: str
    license_id: str
    team_id: str
    forgotten_at: datetime | None
    last_seen_at: datetime
    created_at: datetime


async def insert_record(
    runtime: Runtime,
    kind: Kind,
    license_row: dict[str, Any],
    number: int,
    *,
    last_seen_at: datetime | None = None,
    created_at: datetime | None = None,
    forgotten: bool = False,
) -> Record:
    # Raw rows on purpose: the client API that records devices does not exist yet.
    now = utcnow()
    seen = last_seen_at or now
    created = created_at or now
    forgotten_at = now if forgotten else None
    row = kind.model(
        id=uuid.uuid4(),
        license_id=uuid.UUID(license_row["id"]),
        team_id=uuid.UUID(license_row["teamId"]),
        forgotten=forgotten,
        forgotten_at=forgotten_at,
        last_seen_at=seen,
        created_at=created,
        updated_at=created,
        **{kind.value_field: f"{kind.sample}{number}"},
    )
    async with runtime.database.write() as session:
        session.add(row)
    return Record(
        id=str(row.id),
        value=f"{kind.sample}{number}",
        license_id=license_row["id"],
        team_id=license_row["teamId"],
        forgotten_at=forgotten_at,
        last_seen_at=seen,
        created_at=created,
    )


def record_json(kind: Kind, record: Record, status: str) -> dict[str, Any]:
    return {
        "id": record.id,
        kind.value_field: record.value,
        "licenseId": record.license_id,
        "teamId": record.team_id,
        "forgotten": record.forgotten_at is not None,
        "forgottenAt": None if record.forgotten_at is None else iso(record.forgotten_at),
        "lastSeenAt": iso(record.last_seen_at),
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.created_at),
        "status": status,
    }


def assert_error(response: httpx.Response, status: int, details: str) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"] == {
        "details": details,
        "timestamp": payload["result"]["timestamp"],
        "valid": False,
    }
    assert payload["data"] is None


def assert_ok(response: httpx.Response, details: str) -> Any:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is True
    return payload["data"]


async def list_records(
    api: Api, kind: Kind, license_id: str, query: str = "", team: TeamCredentials | None = None
) -> httpx.Response:
    return await api.client.get(
        f"{api.base}/licenses/id/{license_id}/{kind.segment}{query}",
        headers=(team or api.team).headers,
    )


async def patch(
    api: Api,
    kind: Kind,
    license_id: str,
    record_id: str,
    body: Any,
    team: TeamCredentials | None = None,
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await api.client.patch(
        f"{api.base}/licenses/id/{license_id}/{kind.segment}/{record_id}",
        content=content,
        headers=(team or api.team).headers,
    )


async def stored(runtime: Runtime, kind: Kind, record_id: str) -> Any:
    async with runtime.database.read() as session:
        return await session.scalar(select(kind.model).where(kind.model.id == uuid.UUID(record_id)))


async def audit_rows(runtime: Runtime, action: str) -> list[AuditLog]:
    async with runtime.database.read() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == action)))


# --- GET .../hwid and .../ip-address ----------------------------------------------------------


async def test_list_returns_records_last_seen_first(api: Api, runtime: Runtime, kind: Kind) -> None:
    license_row = await api.create_license()
    now = utcnow()
    older = await insert_record(
        runtime, kind, license_row, 1, last_seen_at=now - timedelta(hours=1)
    )
    newer = await insert_record(runtime, kind, license_row, 2, last_seen_at=now)
    data = assert_ok(
        await list_records(api, kind, license_row["id"]),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert data == {
        kind.list_field: [record_json(kind, newer, "active"), record_json(kind, older, "active")],
        "totalResults": 2,
        "hasNextPage": False,
    }


async def test_list_of_license_without_records_is_empty(api: Api, kind: Kind) -> None:
    license_row = await api.create_license()
    data = assert_ok(
        await list_records(api, kind, license_row["id"]),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert data == {kind.list_field: [], "totalResults": 0, "hasNextPage": False}


async def test_list_hides_forgotten_records(api: Api, runtime: Runtime, kind: Kind) -> None:
    license_row = await api.create_license()
    kept = await insert_record(runtime, kind, license_row, 1)
    await insert_record(runtime, kind, license_row, 2, forgotten=True)
    data = assert_ok(
        await list_records(api, kind, license_row["id"]),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert data == {
        kind.list_field: [record_json(kind, kept, "active")],
        "totalResults": 1,
        "hasNextPage": False,
    }


async def test_list_with_show_forgotten_includes_them_as_forgotten(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    now = utcnow()
    kept = await insert_record(runtime, kind, license_row, 1, last_seen_at=now)
    gone = await insert_record(
        runtime, kind, license_row, 2, last_seen_at=now - timedelta(minutes=1), forgotten=True
    )
    data = assert_ok(
        await list_records(api, kind, license_row["id"], "?showForgotten=true"),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert data[kind.list_field] == [
        record_json(kind, kept, "active"),
        record_json(kind, gone, "forgotten"),
    ]


async def test_records_seen_before_the_team_timeout_are_inactive(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    await set_settings(runtime, api.team.team_id, **{kind.timeout_setting: 60})
    license_row = await api.create_license()
    now = utcnow()
    recent = await insert_record(
        runtime, kind, license_row, 1, last_seen_at=now - timedelta(minutes=59)
    )
    stale = await insert_record(
        runtime, kind, license_row, 2, last_seen_at=now - timedelta(minutes=61)
    )
    data = assert_ok(
        await list_records(api, kind, license_row["id"]),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert data[kind.list_field] == [
        record_json(kind, recent, "active"),
        record_json(kind, stale, "inactive"),
    ]


async def test_records_without_a_team_timeout_stay_active(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    old = await insert_record(
        runtime, kind, license_row, 1, last_seen_at=utcnow() - timedelta(days=400)
    )
    data = assert_ok(
        await list_records(api, kind, license_row["id"]),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert data[kind.list_field] == [record_json(kind, old, "active")]


async def test_list_sorts_by_created_at_ascending(api: Api, runtime: Runtime, kind: Kind) -> None:
    license_row = await api.create_license()
    now = utcnow()
    first = await insert_record(
        runtime, kind, license_row, 1, created_at=now - timedelta(days=2), last_seen_at=now
    )
    second = await insert_record(
        runtime,
        kind,
        license_row,
        2,
        created_at=now - timedelta(days=1),
        last_seen_at=now - timedelta(hours=1),
    )
    data = assert_ok(
        await list_records(api, kind, license_row["id"], "?sortColumn=createdAt&sortDirection=asc"),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert [item["id"] for item in data[kind.list_field]] == [first.id, second.id]


async def test_list_pages_report_next_page_and_total(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    now = utcnow()
    records = [
        await insert_record(runtime, kind, license_row, n, last_seen_at=now - timedelta(minutes=n))
        for n in range(11)
    ]
    first = assert_ok(
        await list_records(api, kind, license_row["id"], "?pageSize=10"),
        f"{kind.plural_noun} retrieved successfully",
    )
    second = assert_ok(
        await list_records(api, kind, license_row["id"], "?pageSize=10&page=2"),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert [item["id"] for item in first[kind.list_field]] == [r.id for r in records[:10]]
    assert (first["hasNextPage"], first["totalResults"]) == (True, 11)
    assert [item["id"] for item in second[kind.list_field]] == [records[10].id]
    assert (second["hasNextPage"], second["totalResults"]) == (False, 11)


async def test_list_shows_only_the_licenses_own_records(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    other_license = await api.create_license()
    own = await insert_record(runtime, kind, license_row, 1)
    await insert_record(runtime, kind, other_license, 2)
    data = assert_ok(
        await list_records(api, kind, license_row["id"]),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert [item["id"] for item in data[kind.list_field]] == [own.id]


async def test_list_of_unknown_license_is_404(api: Api, kind: Kind) -> None:
    assert_error(await list_records(api, kind, str(uuid.uuid4())), 404, "License not found")


async def test_list_of_another_teams_license_is_404(
    api: Api, runtime: Runtime, other_team: TeamCredentials, kind: Kind
) -> None:
    foreign = await Api(api.client, other_team).create_license()
    await insert_record(runtime, kind, foreign, 1)
    assert_error(await list_records(api, kind, foreign["id"]), 404, "License not found")


async def test_list_with_invalid_license_id_is_400(api: Api, kind: Kind) -> None:
    assert_error(await list_records(api, kind, "nope"), 400, "Invalid licenseId")


async def test_list_with_another_teams_api_key_is_401(
    api: Api, other_team: TeamCredentials, kind: Kind
) -> None:
    license_row = await api.create_license()
    response = await list_records(api, kind, license_row["id"], team=other_team)
    assert_error(response, 401, "Invalid API key")


# --- PATCH .../hwid/{hwidId} and .../ip-address/{ipId} ---------------------------------------


async def test_patch_forgets_the_record_and_writes_audit_row(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    record = await insert_record(runtime, kind, license_row, 1)
    before = utcnow()
    response = await patch(api, kind, license_row["id"], record.id, {"forgotten": True})
    data = assert_ok(response, f"{kind.noun} forgotten successfully")
    assert data == {kind.id_name: record.id, "forgotten": True}
    row = await stored(runtime, kind, record.id)
    assert row.forgotten is True
    assert before <= row.forgotten_at <= utcnow()
    assert row.updated_at == row.forgotten_at
    (audit,) = await audit_rows(runtime, f"FORGET_{kind.action_suffix}")
    assert (audit.target_type, str(audit.target_id), audit.source) == (
        kind.target_type,
        record.id,
        "API_KEY",
    )
    assert json.loads(audit.request_body or "") == {"forgotten": True}
    assert json.loads(audit.response_body or "") == response.json()


async def test_patch_remembers_the_record_and_writes_audit_row(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    record = await insert_record(runtime, kind, license_row, 1, forgotten=True)
    response = await patch(api, kind, license_row["id"], record.id, {"forgotten": False})
    data = assert_ok(response, f"{kind.noun} remembered successfully")
    assert data == {kind.id_name: record.id, "forgotten": False}
    row = await stored(runtime, kind, record.id)
    assert (row.forgotten, row.forgotten_at) == (False, None)
    (audit,) = await audit_rows(runtime, f"REMEMBER_{kind.action_suffix}")
    assert (audit.target_type, str(audit.target_id)) == (kind.target_type, record.id)


async def test_patch_repeating_the_state_changes_nothing_and_writes_no_audit_row(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    record = await insert_record(runtime, kind, license_row, 1, forgotten=True)
    response = await patch(api, kind, license_row["id"], record.id, {"forgotten": True})
    data = assert_ok(response, f"{kind.noun} forgotten successfully")
    assert data == {kind.id_name: record.id, "forgotten": True}
    row = await stored(runtime, kind, record.id)
    assert (row.forgotten_at, row.updated_at) == (record.forgotten_at, record.created_at)
    assert await audit_rows(runtime, f"FORGET_{kind.action_suffix}") == []


async def test_patch_ignores_other_keys(api: Api, runtime: Runtime, kind: Kind) -> None:
    license_row = await api.create_license()
    record = await insert_record(runtime, kind, license_row, 1)
    response = await patch(api, kind, license_row["id"], record.id, {"forgotten": True, "x": 1})
    assert assert_ok(response, f"{kind.noun} forgotten successfully") == {
        kind.id_name: record.id,
        "forgotten": True,
    }


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff", b"NaN"])
async def test_patch_with_unparseable_body_is_invalid_json(
    api: Api, runtime: Runtime, kind: Kind, raw: bytes
) -> None:
    license_row = await api.create_license()
    record = await insert_record(runtime, kind, license_row, 1)
    assert_error(
        await patch(api, kind, license_row["id"], record.id, raw), 400, "Invalid JSON body"
    )


@pytest.mark.parametrize(
    "body", [{}, {"forgotten": "true"}, {"forgotten": 1}, {"forgotten": None}, [], True]
)
async def test_patch_without_boolean_forgotten_is_400(
    api: Api, runtime: Runtime, kind: Kind, body: Any
) -> None:
    license_row = await api.create_license()
    record = await insert_record(runtime, kind, license_row, 1)
    response = await patch(api, kind, license_row["id"], record.id, body)
    assert_error(response, 400, "Invalid forgotten value, must be boolean")
    assert (await stored(runtime, kind, record.id)).forgotten is False


async def test_patch_of_unknown_record_is_404(api: Api, kind: Kind) -> None:
    license_row = await api.create_license()
    response = await patch(api, kind, license_row["id"], str(uuid.uuid4()), {"forgotten": True})
    assert_error(response, 404, f"{kind.noun} not found")


async def test_patch_of_record_under_another_license_is_404(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    other_license = await api.create_license()
    record = await insert_record(runtime, kind, other_license, 1)
    response = await patch(api, kind, license_row["id"], record.id, {"forgotten": True})
    assert_error(response, 404, f"{kind.noun} not found")
    assert (await stored(runtime, kind, record.id)).forgotten is False


async def test_patch_of_another_teams_record_is_404(
    api: Api, runtime: Runtime, other_team: TeamCredentials, kind: Kind
) -> None:
    foreign = await Api(api.client, other_team).create_license()
    record = await insert_record(runtime, kind, foreign, 1)
    response = await patch(api, kind, foreign["id"], record.id, {"forgotten": True})
    assert_error(response, 404, f"{kind.noun} not found")
    assert (await stored(runtime, kind, record.id)).forgotten is False


async def test_patch_with_invalid_license_id_is_checked_before_record_id(
    api: Api, kind: Kind
) -> None:
    response = await patch(api, kind, "nope", "nope", {"forgotten": True})
    assert_error(response, 400, "Invalid licenseId")


async def test_patch_with_invalid_record_id_is_400(api: Api, kind: Kind) -> None:
    license_row = await api.create_license()
    response = await patch(api, kind, license_row["id"], "nope", {"forgotten": True})
    assert_error(response, 400, f"Invalid {kind.id_name}")


async def test_patch_with_another_teams_api_key_is_401(
    api: Api, runtime: Runtime, other_team: TeamCredentials, kind: Kind
) -> None:
    license_row = await api.create_license()
    record = await insert_record(runtime, kind, license_row, 1)
    response = await patch(
        api, kind, license_row["id"], record.id, {"forgotten": True}, team=other_team
    )
    assert_error(response, 401, "Invalid API key")
    assert (await stored(runtime, kind, record.id)).forgotten is False


# --- records across license updates and deletes -----------------------------------------------


async def test_key_change_keeps_the_licenses_records(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    record = await insert_record(runtime, kind, license_row, 1)
    body: dict[str, Any] = {
        "licenseKey": "ZZZZZ-11111-YYYYY-22222-XXXXX",
        "expirationType": "NEVER",
        "expirationStart": None,
        "expirationDate": None,
        "expirationDays": None,
        "suspended": False,
        "productIds": [],
        "customerIds": [],
        "hwidLimit": None,
        "ipLimit": None,
        "metadata": [],
    }
    response = await api.client.put(
        f"{api.base}/licenses/id/{license_row['id']}",
        content=json.dumps(body),
        headers=api.team.headers,
    )
    assert_ok(response, "License updated")
    data = assert_ok(
        await list_records(api, kind, license_row["id"]),
        f"{kind.plural_noun} retrieved successfully",
    )
    assert data[kind.list_field] == [record_json(kind, record, "active")]


async def test_deleting_the_license_removes_its_records(
    api: Api, runtime: Runtime, kind: Kind
) -> None:
    license_row = await api.create_license()
    record = await insert_record(runtime, kind, license_row, 1)
    response = await api.client.delete(
        f"{api.base}/licenses/id/{license_row['id']}", headers=api.team.headers
    )
    assert_ok(response, "License deleted successfully")
    assert await stored(runtime, kind, record.id) is None
