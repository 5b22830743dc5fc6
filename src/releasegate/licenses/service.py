"""License rules: key storage (HMAC lookup + ciphertext), expiry, links within the team."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.apikeys.auth import Caller
from releasegate.audit import service as audit
from releasegate.customers.views import customer_json
from releasegate.kit.clock import utcnow
from releasegate.kit.envelope import envelope
from releasegate.kit.errors import ApiError
from releasegate.kit.keyring import Keyring
from releasegate.kit.validation import parse_rfc3339
from releasegate.licenses import repository as repo
from releasegate.licenses.keys import ciphertext_aad, generate_license_key, key_hint
from releasegate.licenses.models import License
from releasegate.licenses.views import license_core_json
from releasegate.metadata.service import load_metadata, metadata_json, replace_metadata
from releasegate.products.views import product_json
from releasegate.runtime import Runtime

KEY_EXISTS = "License key already exists"


async def license_json(session: AsyncSession, keyring: Keyring, row: License) -> dict[str, object]:
    """The License object (§11.2), with the plaintext key its publisher owns."""
    key = keyring.decrypt(row.key_ciphertext, ciphertext_aad(str(row.team_id), str(row.id)))
    products = await repo.linked_products(session, row.id)
    customers = await repo.linked_customers(session, row.id)
    customer_metadata = await load_metadata(session, "customer_id", [c.id for c in customers])
    metadata = (await load_metadata(session, "license_id", [row.id]))[row.id]
    core = license_core_json(row, utcnow())
    return {
        "id": core.pop("id"),
        "licenseKey": key.decode(),
        **core,
        "products": [product_json(p) for p in products],
        "customers": [customer_json(c, customer_metadata[c.id]) for c in customers],
        "metadata": [metadata_json(m, "license_id") for m in metadata],
    }


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
    team, keyring = caller.team, runtime.keyring
    product_ids = [uuid.UUID(value) for value in data["productIds"]]
    customer_ids = [uuid.UUID(value) for value in data["customerIds"]]
    given_key = data.get("licenseKey")
    try:
        async with runtime.database.write() as session:
            if team.max_licenses and await repo.count(session, team.id) >= team.max_licenses:
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
    except IntegrityError as exc:
        if "uq_licenses_team_id_key_lookup" in str(exc.orig) or "licenses.team_id" in str(exc.orig):
            raise ApiError(400, KEY_EXISTS) from None
        raise
    return body


async def get_license(
    runtime: Runtime,
    team_id: uuid.UUID,
    *,
    key: str | None = None,
    license_id: uuid.UUID | None = None,
) -> dict[str, object]:
    async with runtime.database.read() as session:
        if key is not None:
            row = await repo.by_lookup(
                session, team_id, runtime.keyring.license_lookup(key, str(team_id))
            )
        else:
            assert license_id is not None
            row = await repo.by_id(session, team_id, license_id)
        if row is None:
            raise ApiError(404, "License not found")
        return envelope(
            await license_json(session, runtime.keyring, row), "License found", valid=True
        )
