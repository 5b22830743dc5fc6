"""License status and the JSON shapes that embed licenses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.customers.views import customer_json
from releasegate.kit.clock import iso, iso_or_none
from releasegate.kit.keyring import Keyring
from releasegate.licenses import repository as repo
from releasegate.licenses.keys import ciphertext_aad
from releasegate.licenses.models import License
from releasegate.metadata.service import load_metadata, metadata_json
from releasegate.products.views import product_json

INACTIVE_AFTER = timedelta(days=30)
EXPIRING_WITHIN = timedelta(days=30)


def license_status(row: License, now: datetime) -> str:
    """SUSPENDED, EXPIRED, EXPIRING, UPCOMING, INACTIVE or ACTIVE (dev-api-releases.md §11.2).

    list_filters.status_condition is the same rule in SQL; change both together.
    """
    if row.suspended:
        return "SUSPENDED"
    inactive = now - row.last_active_at > INACTIVE_AFTER
    if row.expiration_type != "NEVER":
        if row.expiration_date is None:
            return "UPCOMING"
        if now > row.expiration_date:
            return "EXPIRED"
        if row.expiration_date - now < EXPIRING_WITHIN:
            return "EXPIRING"
    return "INACTIVE" if inactive else "ACTIVE"


def license_core_json(row: License, now: datetime) -> dict[str, object]:
    """Fields shared by the License object and the LicenseSummary."""
    return {
        "id": str(row.id),
        "teamId": str(row.team_id),
        "ipLimit": row.ip_limit,
        "hwidLimit": row.hwid_limit,
        "seats": row.hwid_limit,
        "expirationType": row.expiration_type,
        "expirationStart": row.expiration_start,
        "expirationDate": iso_or_none(row.expiration_date),
        "expirationDays": row.expiration_days,
        "suspended": row.suspended,
        "lastActiveAt": iso(row.last_active_at),
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "status": license_status(row, now),
    }


def license_summary_json(row: License, now: datetime) -> dict[str, object]:
    """LicenseSummary: no key, only its hint (dev-api-releases.md §1.6)."""
    return {**license_core_json(row, now), "licenseKeyHint": row.key_hint}


async def license_objects(
    session: AsyncSession, keyring: Keyring, rows: Sequence[License], now: datetime
) -> list[dict[str, object]]:
    """License objects (§11.2) with the plaintext key, for any number of rows in five queries."""
    ids = [row.id for row in rows]
    products = await repo.linked_products(session, ids)
    customers = await repo.linked_customers(session, ids)
    customer_ids = list(dict.fromkeys(c.id for linked in customers.values() for c in linked))
    customer_metadata = await load_metadata(session, "customer_id", customer_ids)
    metadata = await load_metadata(session, "license_id", ids)
    objects: list[dict[str, object]] = []
    for row in rows:
        key = keyring.decrypt(row.key_ciphertext, ciphertext_aad(str(row.team_id), str(row.id)))
        core = license_core_json(row, now)
        objects.append(
            {
                "id": core.pop("id"),
                "licenseKey": key.decode(),
                **core,
                "products": [product_json(p) for p in products[row.id]],
                "customers": [customer_json(c, customer_metadata[c.id]) for c in customers[row.id]],
                "metadata": [metadata_json(m, "license_id") for m in metadata[row.id]],
            }
        )
    return objects
