"""Webhook management (webhooks-and-audit.md §1): create, list, get, update, rotate-secret and
delete, with the checks of each row, the secret's one showing and sealed storage, the team cap,
the audit rows (without the secret) and tenant isolation."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from releasegate.audit.models import AuditLog
from releasegate.runtime import Runtime
from releasegate.webhooks.models import EventType, Webhook, WebhookEvent
from releasegate.webhooks.outbox import emit
from releasegate.webhooks.secrets import open_secret
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.state import count
from tests.fixtures.teams import set_limits

URL = "https://hooks.example.com/releasegate"
SECRET = re.compile(r"^[0-9a-f]{64}$")
START = datetime(2030, 1, 1, tzinfo=UTC)
WEBHOOK_KEYS = ["id", "teamId", "url", "enabledEvents", "active", "createdAt", "updatedAt"]
EVENT_NAMES = " | ".join(f"'{event_type.value}'" for event_type in EventType)


# --- Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    return dict(getattr(request, "param", {}))


@pytest.fixture
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every webhook write gets a time one second after the previous one."""
    ticks = (START + timedelta(seconds=n) for n in itertools.count())
    monkeypatch.setattr("releasegate.webhooks.service.utcnow", lambda: next(ticks))


def body(**changes: Any) -> dict[str, Any]:
    return {"url": URL, "enabledEvents": ["RELEASE_CREATED", "PRODUCT_CREATED"], **changes}


async def create(api: Api, **changes: Any) -> dict[str, Any]:
    response = await api.post_json("/webhooks", body(**changes))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


@pytest.fixture
async def webhook(api: Api) -> dict[str, Any]:
    return await create(api)


async def send(
    api: Api,
    method: str,
    path: str,
    payload: Any = None,
    team: TeamCredentials | None = None,
) -> httpx.Response:
    team = team or api.team
    content = None if payload is None else json.dumps(payload)
    return await api.client.request(
        method, f"/api/v1/dev/teams/{team.team_id}{path}", content=content, headers=team.headers
    )


def ok(response: httpx.Response, details: str, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is True
    return payload["data"]


def assert_error(response: httpx.Response, status: int, details: str, data: object = None) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] == data


def public(created: dict[str, Any]) -> dict[str, Any]:
    return {key: created[key] for key in WEBHOOK_KEYS}


async def stored(runtime: Runtime, webhook_id: str) -> Webhook:
    async with runtime.database.read() as session:
        row = await session.scalar(select(Webhook).where(Webhook.id == uuid.UUID(webhook_id)))
    assert row is not None
    return row


async def audits(runtime: Runtime, *actions: str) -> list[AuditLog]:
    async with runtime.database.read() as session:
        rows = await session.scalars(
            select(AuditLog).where(AuditLog.action.in_(actions)).order_by(AuditLog.created_at)
        )
        return list(rows)


async def set_max_webhooks(runtime: Runtime, team: TeamCredentials, limit: int) -> None:
    await set_limits(runtime, team.team_id, max_webhooks=limit)


async def emit_event(runtime: Runtime, team: TeamCredentials) -> None:
    async with runtime.database.write() as session:
        await emit(
            session, runtime, uuid.UUID(team.team_id), EventType.PRODUCT_CREATED, {"id": "p"}
        )


def random_id() -> str:
    return str(uuid.uuid4())


# --- Create -----------------------------------------------------------------------------------


async def test_create_answers_201_with_the_webhook_and_its_secret(
    api: Api, ticking_clock: None
) -> None:
    response = await api.post_json("/webhooks", body())
    data = ok(response, "Webhook created", 201)
    assert list(data) == [*WEBHOOK_KEYS, "secret", "secretWhsec"]
    assert data["teamId"] == api.team.team_id
    assert data["url"] == URL
    assert data["enabledEvents"] == ["RELEASE_CREATED", "PRODUCT_CREATED"]
    assert data["active"] is True
    assert data["createdAt"] == data["updatedAt"] == "2030-01-01T00:00:00.000Z"
    assert SECRET.fullmatch(data["secret"])
    assert data["secretWhsec"] == "whsec_" + base64.b64encode(data["secret"].encode()).decode()


async def test_create_can_make_an_inactive_webhook(api: Api) -> None:
    assert (await create(api, active=False))["active"] is False


async def test_create_collapses_repeated_event_types_in_order(api: Api) -> None:
    events = ["LICENSE_DELETED", "RELEASE_CREATED", "LICENSE_DELETED", "RELEASE_CREATED"]
    created = await create(api, enabledEvents=events)
    assert created["enabledEvents"] == ["LICENSE_DELETED", "RELEASE_CREATED"]


async def test_each_webhook_gets_its_own_secret(api: Api) -> None:
    first, second = await create(api), await create(api)
    assert first["secret"] != second["secret"]


async def test_secret_is_stored_sealed(api: Api, runtime: Runtime, webhook: dict[str, Any]) -> None:
    row = await stored(runtime, webhook["id"])
    assert webhook["secret"] not in row.secret_ciphertext
    opened = open_secret(runtime.keyring, row.team_id, row.id, row.secret_ciphertext)
    assert opened == webhook["secret"]


async def test_enabled_events_are_stored_as_a_json_array(
    runtime: Runtime, webhook: dict[str, Any]
) -> None:
    row = await stored(runtime, webhook["id"])
    assert json.loads(row.enabled_events) == ["RELEASE_CREATED", "PRODUCT_CREATED"]


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "/relative/path",
        "hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "https://",
        "https://hooks.example.com:99999/x",
        "https://hooks.example.com/a b",
        "",
        "https://hooks.example.com/" + "a" * 2030,
    ],
)
async def test_create_refuses_a_url_outside_the_rule(api: Api, runtime: Runtime, url: str) -> None:
    assert_error(await api.post_json("/webhooks", body(url=url)), 400, "Invalid webhook URL")
    assert await count(runtime, Webhook) == 0


async def test_a_url_of_2048_characters_is_accepted(api: Api) -> None:
    url = "https://hooks.example.com/" + "a" * (2048 - len("https://hooks.example.com/"))
    assert (await create(api, url=url))["url"] == url


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_http": True}], indirect=True)
async def test_http_url_is_accepted_when_the_operator_allows_it(api: Api) -> None:
    assert (await create(api, url="http://receiver.lan:8080/hook"))["url"] == (
        "http://receiver.lan:8080/hook"
    )


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_http": True}], indirect=True)
async def test_ftp_url_is_refused_even_when_http_is_allowed(api: Api) -> None:
    response = await api.post_json("/webhooks", body(url="ftp://receiver.lan/hook"))
    assert_error(response, 400, "Invalid webhook URL")


@pytest.mark.parametrize(
    ("payload", "issues"),
    [
        (
            {},
            [
                {"message": "Required", "path": ["url"]},
                {"message": "Required", "path": ["enabledEvents"]},
            ],
        ),
        (
            {"url": 5, "enabledEvents": "RELEASE_CREATED", "active": "yes"},
            [
                {"message": "Expected string, received number", "path": ["url"]},
                {"message": "Expected array, received string", "path": ["enabledEvents"]},
                {"message": "Expected boolean, received string", "path": ["active"]},
            ],
        ),
        (
            body(enabledEvents=[]),
            [{"message": "Array must contain at least 1 element(s)", "path": ["enabledEvents"]}],
        ),
        (
            body(enabledEvents=["RELEASE_CREATED", "NOPE", 3, None]),
            [
                {
                    "message": f"Invalid enum value. Expected {EVENT_NAMES}, received 'NOPE'",
                    "path": ["enabledEvents", 1],
                },
                {
                    "message": f"Expected {EVENT_NAMES}, received number",
                    "path": ["enabledEvents", 2],
                },
                {"message": f"Expected {EVENT_NAMES}, received null", "path": ["enabledEvents", 3]},
            ],
        ),
        (
            body(secret="mine", name="x"),
            [{"message": "Unrecognized key(s) in object: 'secret', 'name'", "path": []}],
        ),
        ([URL], [{"message": "Expected object, received array", "path": []}]),
    ],
)
async def test_create_reports_every_body_issue(
    api: Api, runtime: Runtime, payload: Any, issues: list[dict[str, Any]]
) -> None:
    response = await api.post_json("/webhooks", payload)
    assert_error(response, 400, "Invalid request body", issues)
    assert await count(runtime, Webhook) == 0


async def test_create_with_unhashable_event_entries_reports_them(api: Api) -> None:
    response = await api.post_json("/webhooks", body(enabledEvents=[["RELEASE_CREATED"], {}]))
    issues = [
        {"message": f"Expected {EVENT_NAMES}, received array", "path": ["enabledEvents", 0]},
        {"message": f"Expected {EVENT_NAMES}, received object", "path": ["enabledEvents", 1]},
    ]
    assert_error(response, 400, "Invalid request body", issues)


async def test_create_refuses_a_body_that_is_not_json(api: Api) -> None:
    response = await api.client.post(
        f"{api.base}/webhooks", content=b"{url:", headers=api.team.headers
    )
    assert_error(response, 400, "Invalid JSON body")


async def test_schema_issues_come_before_the_url_rule(api: Api) -> None:
    response = await api.post_json("/webhooks", body(url="ftp://x", active=1))
    issues = [{"message": "Expected boolean, received number", "path": ["active"]}]
    assert_error(response, 400, "Invalid request body", issues)


async def test_team_cap_defaults_to_twenty(api: Api, runtime: Runtime) -> None:
    for _ in range(20):
        await create(api)
    assert_error(await api.post_json("/webhooks", body()), 403, "Max webhooks reached")
    assert await count(runtime, Webhook) == 20


async def test_team_cap_follows_the_team_limit(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_max_webhooks(runtime, team, 2)
    await create(api)
    await create(api)
    assert_error(await api.post_json("/webhooks", body()), 403, "Max webhooks reached")
    assert len(await audits(runtime, "CREATE_WEBHOOK")) == 2


async def test_a_zero_cap_means_unlimited(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_max_webhooks(runtime, team, 0)
    for _ in range(21):
        await create(api)
    assert await count(runtime, Webhook) == 21


async def test_the_url_rule_is_checked_before_the_cap(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_max_webhooks(runtime, team, 1)
    await create(api)
    response = await api.post_json("/webhooks", body(url="http://x.example"))
    assert_error(response, 400, "Invalid webhook URL")


async def test_parallel_creates_never_pass_the_cap(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_max_webhooks(runtime, team, 3)
    responses = await asyncio.gather(*(api.post_json("/webhooks", body()) for _ in range(10)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 3 + [403] * 7
    assert await count(runtime, Webhook) == 3


async def test_deleting_a_webhook_frees_a_slot(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    await set_max_webhooks(runtime, team, 1)
    first = await create(api)
    ok(await send(api, "DELETE", f"/webhooks/{first['id']}"), "Webhook deleted")
    await create(api)


# --- Read ---------------------------------------------------------------------------------------


async def test_get_returns_the_webhook_without_its_secret(
    api: Api, webhook: dict[str, Any]
) -> None:
    response = await send(api, "GET", f"/webhooks/{webhook['id']}")
    assert ok(response, "Webhook found") == public(webhook)
    assert webhook["secret"] not in response.text


async def test_get_accepts_an_uppercase_id(api: Api, webhook: dict[str, Any]) -> None:
    response = await send(api, "GET", f"/webhooks/{webhook['id'].upper()}")
    assert ok(response, "Webhook found")["id"] == webhook["id"]


async def test_list_returns_webhooks_without_secrets(api: Api, webhook: dict[str, Any]) -> None:
    response = await send(api, "GET", "/webhooks")
    data = ok(response, "Webhooks found")
    assert data == {"webhooks": [public(webhook)], "hasNextPage": False, "totalResults": 1}
    assert webhook["secret"] not in response.text


async def test_list_of_a_team_without_webhooks_is_empty(api: Api) -> None:
    data = ok(await send(api, "GET", "/webhooks"), "Webhooks found")
    assert data == {"webhooks": [], "hasNextPage": False, "totalResults": 0}


async def test_list_is_newest_first_and_paginated(
    api: Api, runtime: Runtime, team: TeamCredentials, ticking_clock: None
) -> None:
    await set_max_webhooks(runtime, team, 0)
    ids = [(await create(api))["id"] for _ in range(12)]
    newest_first = list(reversed(ids))
    first = ok(await send(api, "GET", "/webhooks?pageSize=10"), "Webhooks found")
    assert [w["id"] for w in first["webhooks"]] == newest_first[:10]
    assert (first["hasNextPage"], first["totalResults"]) == (True, 12)
    second = ok(await send(api, "GET", "/webhooks?pageSize=10&page=2"), "Webhooks found")
    assert [w["id"] for w in second["webhooks"]] == newest_first[10:]
    assert (second["hasNextPage"], second["totalResults"]) == (False, 12)
    beyond = ok(await send(api, "GET", "/webhooks?pageSize=10&page=3"), "Webhooks found")
    assert beyond == {"webhooks": [], "hasNextPage": False, "totalResults": 12}


async def test_list_ignores_invalid_page_parameters(api: Api, webhook: dict[str, Any]) -> None:
    data = ok(await send(api, "GET", "/webhooks?page=zero&pageSize=7"), "Webhooks found")
    assert [w["id"] for w in data["webhooks"]] == [webhook["id"]]


# --- Update ---------------------------------------------------------------------------------------


async def test_update_replaces_every_field(api: Api, runtime: Runtime, ticking_clock: None) -> None:
    created = await create(api)
    changes = {
        "url": "https://other.example/h",
        "enabledEvents": ["BRANCH_DELETED"],
        "active": False,
    }
    data = ok(await send(api, "PUT", f"/webhooks/{created['id']}", changes), "Webhook updated")
    assert data == {
        **public(created),
        **changes,
        "updatedAt": "2030-01-01T00:00:01.000Z",
    }
    assert ok(await send(api, "GET", f"/webhooks/{created['id']}"), "Webhook found") == data


async def test_update_keeps_the_secret(api: Api, runtime: Runtime, webhook: dict[str, Any]) -> None:
    response = await send(api, "PUT", f"/webhooks/{webhook['id']}", body(active=False))
    data = ok(response, "Webhook updated")
    assert "secret" not in data
    row = await stored(runtime, webhook["id"])
    assert (
        open_secret(runtime.keyring, row.team_id, row.id, row.secret_ciphertext)
        == (webhook["secret"])
    )


async def test_update_requires_active(api: Api, webhook: dict[str, Any]) -> None:
    response = await send(api, "PUT", f"/webhooks/{webhook['id']}", body())
    issues = [{"message": "Required", "path": ["active"]}]
    assert_error(response, 400, "Invalid request body", issues)


async def test_update_refuses_a_url_outside_the_rule(api: Api, webhook: dict[str, Any]) -> None:
    response = await send(
        api, "PUT", f"/webhooks/{webhook['id']}", body(url="http://x.example", active=True)
    )
    assert_error(response, 400, "Invalid webhook URL")
    assert ok(await send(api, "GET", f"/webhooks/{webhook['id']}"), "Webhook found") == (
        public(webhook)
    )


async def test_update_of_a_missing_webhook_is_404_before_the_url_rule(api: Api) -> None:
    response = await send(api, "PUT", f"/webhooks/{random_id()}", body(url="ftp://x", active=True))
    assert_error(response, 404, "Webhook not found")


# --- Rotate secret --------------------------------------------------------------------------------


async def test_rotate_secret_shows_a_new_secret_once(
    api: Api, runtime: Runtime, webhook: dict[str, Any], ticking_clock: None
) -> None:
    response = await send(api, "POST", f"/webhooks/{webhook['id']}/rotate-secret")
    data = ok(response, "Webhook secret rotated")
    assert list(data) == [*WEBHOOK_KEYS, "secret", "secretWhsec"]
    assert SECRET.fullmatch(data["secret"]) and data["secret"] != webhook["secret"]
    assert data["secretWhsec"] == "whsec_" + base64.b64encode(data["secret"].encode()).decode()
    assert {k: v for k, v in data.items() if k in WEBHOOK_KEYS and k != "updatedAt"} == {
        k: v for k, v in public(webhook).items() if k != "updatedAt"
    }
    row = await stored(runtime, webhook["id"])
    assert data["secret"] not in row.secret_ciphertext
    opened = open_secret(runtime.keyring, row.team_id, row.id, row.secret_ciphertext)
    assert opened == data["secret"]


async def test_rotate_secret_ignores_any_body(api: Api, webhook: dict[str, Any]) -> None:
    response = await api.client.post(
        f"{api.base}/webhooks/{webhook['id']}/rotate-secret",
        content=b"not json at all",
        headers=api.team.headers,
    )
    ok(response, "Webhook secret rotated")


# --- Delete ---------------------------------------------------------------------------------------


async def test_delete_answers_the_webhook_before_deletion(
    api: Api, webhook: dict[str, Any]
) -> None:
    response = await send(api, "DELETE", f"/webhooks/{webhook['id']}")
    assert ok(response, "Webhook deleted") == public(webhook)
    assert webhook["secret"] not in response.text
    assert_error(await send(api, "GET", f"/webhooks/{webhook['id']}"), 404, "Webhook not found")


async def test_delete_removes_the_webhooks_events_only(
    api: Api, runtime: Runtime, team: TeamCredentials
) -> None:
    doomed, kept = await create(api), await create(api)
    await emit_event(runtime, team)
    await emit_event(runtime, team)
    assert await count(runtime, WebhookEvent) == 4
    ok(await send(api, "DELETE", f"/webhooks/{doomed['id']}"), "Webhook deleted")
    async with runtime.database.read() as session:
        left = set(await session.scalars(select(WebhookEvent.webhook_id)))
    assert left == {uuid.UUID(kept["id"])}
    assert await count(runtime, WebhookEvent) == 2


# --- Path checks (C1, C2) and 404s --------------------------------------------------------------

ROUTES_WITH_ID = [
    ("GET", "/webhooks/{id}", None),
    ("PUT", "/webhooks/{id}", body(active=True)),
    ("DELETE", "/webhooks/{id}", None),
    ("POST", "/webhooks/{id}/rotate-secret", None),
    ("GET", "/webhooks/{id}/events", None),
]


@pytest.mark.parametrize(("method", "path", "payload"), ROUTES_WITH_ID)
async def test_a_malformed_webhook_id_is_invalid(
    api: Api, method: str, path: str, payload: Any
) -> None:
    response = await send(api, method, path.format(id="not-a-uuid"), payload)
    assert_error(response, 400, "Invalid webhookId")


@pytest.mark.parametrize(("method", "path", "payload"), ROUTES_WITH_ID)
async def test_a_malformed_team_id_comes_first(
    api: Api, method: str, path: str, payload: Any
) -> None:
    response = await api.client.request(
        method,
        "/api/v1/dev/teams/acme" + path.format(id="nope"),
        content=None if payload is None else json.dumps(payload),
        headers=api.team.headers,
    )
    assert_error(response, 400, "Invalid teamId")


async def test_path_ids_are_checked_before_the_api_key(api: Api) -> None:
    response = await api.client.get(f"{api.base}/webhooks/nope")
    assert_error(response, 400, "Invalid webhookId")


@pytest.mark.parametrize(("method", "path", "payload"), ROUTES_WITH_ID)
async def test_an_unknown_webhook_is_not_found(
    api: Api, method: str, path: str, payload: Any
) -> None:
    response = await send(api, method, path.format(id=random_id()), payload)
    assert_error(response, 404, "Webhook not found")


@pytest.mark.parametrize(("method", "path", "payload"), ROUTES_WITH_ID)
async def test_another_teams_webhook_is_not_found(
    api: Api,
    runtime: Runtime,
    other_team: TeamCredentials,
    webhook: dict[str, Any],
    method: str,
    path: str,
    payload: Any,
) -> None:
    response = await send(api, method, path.format(id=webhook["id"]), payload, other_team)
    assert_error(response, 404, "Webhook not found")
    assert ok(await send(api, "GET", f"/webhooks/{webhook['id']}"), "Webhook found") == (
        public(webhook)
    )
    assert await audits(runtime, "UPDATE_WEBHOOK", "DELETE_WEBHOOK") == []


async def test_another_teams_list_does_not_show_the_webhook(
    api: Api, other_team: TeamCredentials, webhook: dict[str, Any]
) -> None:
    response = await send(api, "GET", "/webhooks", team=other_team)
    assert ok(response, "Webhooks found") == {
        "webhooks": [],
        "hasNextPage": False,
        "totalResults": 0,
    }


async def test_another_teams_key_cannot_use_this_teams_path(
    api: Api, other_team: TeamCredentials, webhook: dict[str, Any]
) -> None:
    response = await api.client.get(f"{api.base}/webhooks", headers=other_team.headers)
    assert_error(response, 401, "Invalid API key")


# --- Rate-limit buckets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings_overrides",
    [{"rate_limit_dev_write": "1/60", "rate_limit_dev_read": "0"}],
    indirect=True,
)
async def test_writes_spend_the_dev_write_bucket(api: Api) -> None:
    created = await create(api)
    for method, path in (
        ("POST", "/webhooks"),
        ("PUT", f"/webhooks/{created['id']}"),
        ("POST", f"/webhooks/{created['id']}/rotate-secret"),
        ("DELETE", f"/webhooks/{created['id']}"),
        ("POST", f"/webhooks/{created['id']}/events/{random_id()}/redeliver"),
    ):
        response = await send(api, method, path, body(active=True))
        assert_error(response, 429, "Too many requests")
    ok(await send(api, "GET", "/webhooks"), "Webhooks found")


@pytest.mark.parametrize(
    "settings_overrides",
    [{"rate_limit_dev_read": "1/60", "rate_limit_dev_write": "0"}],
    indirect=True,
)
async def test_reads_spend_the_dev_read_bucket(api: Api) -> None:
    created = await create(api)
    ok(await send(api, "GET", "/webhooks"), "Webhooks found")
    for path in (f"/webhooks/{created['id']}", f"/webhooks/{created['id']}/events", "/webhooks"):
        assert_error(await send(api, "GET", path), 429, "Too many requests")
    await create(api)


# --- Audit ------------------------------------------------------------------------------------


async def test_every_mutation_writes_an_audit_row_without_the_secret(
    api: Api, runtime: Runtime, webhook: dict[str, Any]
) -> None:
    path = f"/webhooks/{webhook['id']}"
    ok(await send(api, "PUT", path, body(active=False)), "Webhook updated")
    rotated = ok(await send(api, "POST", f"{path}/rotate-secret"), "Webhook secret rotated")
    ok(await send(api, "DELETE", path), "Webhook deleted")

    rows = await audits(runtime, "CREATE_WEBHOOK", "UPDATE_WEBHOOK", "DELETE_WEBHOOK")
    assert [row.action for row in rows] == [
        "CREATE_WEBHOOK",
        "UPDATE_WEBHOOK",
        "UPDATE_WEBHOOK",
        "DELETE_WEBHOOK",
    ]
    for row in rows:
        assert (row.target_type, str(row.target_id), row.source) == (
            "WEBHOOK",
            webhook["id"],
            "API_KEY",
        )
        recorded = f"{row.request_body} {row.response_body}"
        for secret in (webhook["secret"], rotated["secret"]):
            assert secret not in recorded
            assert secret.encode().hex() not in recorded
        assert "whsec_" not in recorded
        assert '"secret' not in recorded
    created_row, updated_row, rotated_row, deleted_row = rows
    assert json.loads(created_row.request_body or "") == {**body(), "active": True}
    assert json.loads(created_row.response_body or "")["data"] == public(webhook)
    assert json.loads(updated_row.request_body or "") == body(active=False)
    assert rotated_row.request_body is None
    assert json.loads(rotated_row.response_body or "")["result"]["details"] == (
        "Webhook secret rotated"
    )
    assert json.loads(deleted_row.response_body or "")["data"]["id"] == webhook["id"]


async def test_failed_requests_write_no_audit_row(api: Api, runtime: Runtime) -> None:
    await api.post_json("/webhooks", body(url="http://x.example"))
    await send(api, "PUT", f"/webhooks/{random_id()}", body(active=True))
    await send(api, "DELETE", f"/webhooks/{random_id()}")
    assert await audits(runtime, "CREATE_WEBHOOK", "UPDATE_WEBHOOK", "DELETE_WEBHOOK") == []
