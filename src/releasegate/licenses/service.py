"""License rules: key storage (HMAC lookup + ciphertext), expiry, links within the team."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.kit.keyring import Keyring
from releasegate.kit.pagination import PageRequest, split_page
from releasegate.kit.validation import parse_rfc3339
from releasegate.licenses import repository as repo
from releasegate.licenses.events import emit_license_event
from releasegate.licenses.keys import ciphertext_aad, generate_license_key, key_hint
from releasegate.licenses.list_filters import LicenseFilters, license_conditions
from releasegate.licenses.models import License
from releasegate.licenses.views import license_objects
from releasegate.metadata.service import replace_metadata
from releasegate.runtime import Runtime
from releasegate.teams.repository import lock_team
from releasegate.webhooks.models import EventType

KEY_EXISTS = "License key already exists"


async def license_json(session: AsyncSession, keyring: Keyring, row: License) -> dict[str, object]:
    """The License object (§11.2), with the plaintext key its publisher owns."""
    (body,) = await license_objects(session, keyring, [row], utcnow())
    return body


def _is_key_conflict(exc: IntegrityError) -> bool:
    # PostgreSQL names the constraint; SQLite names its columns.
    return "uq_licenses_team_id_key_lookup" in str(exc.orig) or "licenses.team_id" in str(exc.orig)


def _expiry_terms(
    expiration_type: str, start: str | None, days: int | None, date: datetime | None
) -> tuple[object, ...]:
    # Only DATE takes its date as input; a DURATION's stored date is derived, not compared.
    return (expiration_type, start, days, date if expiration_type == "DATE" else None)


def _expiry_changed(row: License, data: dict[str, Any]) -> bool:
    given_date = data["expirationDate"]
    return _expiry_terms(
        row.expiration_type, row.expiration_start, row.expiration_days, row.expiration_date
    ) != _expiry_terms(
        data["expirationType"],
        data["expirationStart"],
        data["expirationDays"],
        None if given_date is None else parse_rfc3339(given_date),
    )


def _stored_expiry(row: License, data: dict[str, Any]) -> None:
    row.expiration_type = data["expirationType"]
    row.expiration_start = data["expirationStart"]
    row.expiration_days = data["expirationDays"]
    if data["expirationType"] == "DATE":
        row.expiration_date = parse_rfc3339(data["expirationDate"])
    elif data["expirationType"] == "DURATION" and (data["expirationStart"] or "CREATION") == (
        "CREATION"
    ):
        row.expiration_date = utcnow() + timedelta(days=int(data["expirationDays"]))
    else:
        row.expiration_date = None


async def create_license(
    runtime: Runtime, caller: Caller, data: dict[str, Any]
) -> dict[str, object]:
    """POST: a new license with a generated (or imported) key, within the team's cap."""
    team, keyring = caller.team, runtime.keyring
    product_ids = [uuid.UUID(value) for value in data["productIds"]]
    customer_ids = [uuid.UUID(value) for value in data["customerIds"]]
    given_key = data.get("licenseKey")
    try:
        async with runtime.database.write() as session:
            cap = await lock_team(session, team.id)
            if cap and cap.max_licenses and await repo.count(session, team.id) >= cap.max_licenses:
                raise ApiError(403, "Max licenses reached")
            if not await repo.all_team_products(session, team.id, product_ids):
                raise ApiError(400, "Invalid productIds")
            if not await repo.all_team_customers(session, team.id, customer_ids):
                raise ApiError(400, "Invalid customerIds")
            if data["sendEmailDelivery"]:
                raise ApiError(400, "Email delivery is not supported")
            key = given_key or generate_license_key()
            lookup = keyring.license_lookup(key, str(team.id))
            while await repo.by_lookup(session, team.id, lookup) is not None:
                if given_key:
                    raise ApiError(400, KEY_EXISTS)
                key = generate_license_key()
                lookup = keyring.license_lookup(key, str(team.id))
            now = utcnow()
            license_id = uuid.uuid4()
            row = License(
                id=license_id,
                team_id=team.id,
                key_lookup=lookup,
                key_ciphertext=keyring.encrypt(
                    key.encode(), ciphertext_aad(str(team.id), str(license_id))
                ),
                key_hint=key_hint(key),
                ip_limit=data["ipLimit"],
                hwid_limit=data["hwidLimit"],
                suspended=data["suspended"],
                last_active_at=now,
                created_at=now,
                updated_at=now,
            )
            _stored_expiry(row, data)
            session.add(row)
            await session.flush()
            await repo.replace_links(session, row.id, product_ids, customer_ids)
            await replace_metadata(session, team.id, "license_id", row.id, data["metadata"])
            body = envelope(
                await license_json(session, keyring, row), "License created", valid=True
            )
            await audit.record(
                session,
                team_id=team.id,
                actor=caller.actor,
                action="CREATE_LICENSE",
                target_type="LICENSE",
                target_id=row.id,
                request_body=data,
                response_body=body,
            )
            await emit_license_event(session, runtime, team.id, EventType.LICENSE_CREATED, body)
    except IntegrityError as exc:
        if _is_key_conflict(exc):
            raise ApiError(400, KEY_EXISTS) from None
        raise
    return body


async def update_license(
    runtime: Runtime, caller: Caller, license_id: uuid.UUID, data: dict[str, Any]
) -> dict[str, object]:
    """PUT: replace every field; the stored expiry is re-applied only when its terms changed."""
    team, keyring = caller.team, runtime.keyring
    product_ids = [uuid.UUID(value) for value in data["productIds"]]
    customer_ids = [uuid.UUID(value) for value in data["customerIds"]]
    key = data["licenseKey"]
    lookup = keyring.license_lookup(key, str(team.id))
    try:
        async with runtime.database.write() as session:
            row = await repo.by_id(session, team.id, license_id, lock=True)
            if row is None:
                raise ApiError(404, "License not found")
            if not await repo.all_team_products(session, team.id, product_ids):
                raise ApiError(400, "Invalid productIds")
            if not await repo.all_team_customers(session, team.id, customer_ids):
                raise ApiError(400, "Invalid customerIds")
            if lookup != row.key_lookup:
                if await repo.by_lookup(session, team.id, lookup) is not None:
                    raise ApiError(400, KEY_EXISTS)
                row.key_lookup = lookup
                row.key_ciphertext = keyring.encrypt(
                    key.encode(), ciphertext_aad(str(team.id), str(row.id))
                )
                row.key_hint = key_hint(key)
            if _expiry_changed(row, data):
                _stored_expiry(row, data)
            row.ip_limit = data["ipLimit"]
            row.hwid_limit = data["hwidLimit"]
            row.suspended = data["suspended"]
            row.updated_at = utcnow()
            await session.flush()
            await repo.replace_links(session, row.id, product_ids, customer_ids)
            await replace_metadata(session, team.id, "license_id", row.id, data["metadata"])
            body = envelope(
                await license_json(session, keyring, row), "License updated", valid=True
            )
            await audit.record(
                session,
                team_id=team.id,
                actor=caller.actor,
                action="UPDATE_LICENSE",
                target_type="LICENSE",
                target_id=row.id,
                request_body=data,
                response_body=body,
            )
            await emit_license_event(session, runtime, team.id, EventType.LICENSE_UPDATED, body)
    except IntegrityError as exc:
        if _is_key_conflict(exc):
            raise ApiError(400, KEY_EXISTS) from None
        raise
    return body


async def find_license(
    session: AsyncSession,
    keyring: Keyring,
    team_id: uuid.UUID,
    *,
    key: str | None = None,
    license_id: uuid.UUID | None = None,
) -> License | None:
    """By key (through its team-bound lookup hash, never the plaintext) or by id."""
    if key is not None:
        return await repo.by_lookup(session, team_id, keyring.license_lookup(key, str(team_id)))
    assert license_id is not None
    return await repo.by_id(session, team_id, license_id)


async def get_license(
    runtime: Runtime,
    team_id: uuid.UUID,
    *,
    key: str | None = None,
    license_id: uuid.UUID | None = None,
) -> dict[str, object]:
    """GET by key or id: the License object, or 404 for a missing or foreign license."""
    async with runtime.database.read() as session:
        row = await find_license(session, runtime.keyring, team_id, key=key, license_id=license_id)
        if row is None:
            raise ApiError(404, "License not found")
        return envelope(
            await license_json(session, runtime.keyring, row), "License found", valid=True
        )


async def list_licenses(
    runtime: Runtime,
    team_id: uuid.UUID,
    filters: LicenseFilters,
    sort_column: str,
    page: PageRequest,
) -> dict[str, object]:
    """One page of the team's licenses; `status` is filtered in SQL against the same `now`."""
    now = utcnow()
    async with runtime.database.read() as session:
        rows, total = await repo.deferred_page(
            session,
            License,
            license_conditions(team_id, filters, now),
            getattr(License, sort_column),
            page,
        )
        rows, has_next = split_page(rows, page)
        licenses = await license_objects(session, runtime.keyring, rows, now)
    return envelope(
        {"licenses": licenses, "hasNextPage": has_next, "totalResults": total},
        "Licenses found",
        valid=True,
    )
