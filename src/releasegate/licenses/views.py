"""The License object and the LicenseSummary that releases embed (dev-api-releases.md §1.6,
§11.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.customers.models import Customer
from releasegate.customers.views import customer_json
from releasegate.kit.clock import iso, iso_or_none, utcnow
from releasegate.kit.keyring import Keyring
from releasegate.licenses import repository as repo
from releasegate.licenses.keys import ciphertext_aad
from releasegate.licenses.models import License
from releasegate.licenses.status import license_status
from releasegate.metadata import repository as metadata
from releasegate.metadata.models import Metadata
from releasegate.metadata.views import metadata_json
from releasegate.products.models import Product
from releasegate.products.views import product_json


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


@dataclass(frozen=True)
class LicenseView:
    """A license with its decrypted key (its publisher owns it), links and metadata."""

    license: License
    key: str
    products: list[Product]
    customers: list[tuple[Customer, list[Metadata]]]
    metadata: list[Metadata]
    now: datetime

    def to_json(self) -> dict[str, object]:
        core = license_core_json(self.license, self.now)
        return {
            "id": core.pop("id"),
            "licenseKey": self.key,
            **core,
            "products": [product_json(p) for p in self.products],
            "customers": [customer_json(c, rows) for c, rows in self.customers],
            "metadata": [metadata_json(m, "license_id") for m in self.metadata],
        }


async def load_views(
    session: AsyncSession,
    keyring: Keyring,
    rows: Sequence[License],
    now: datetime | None = None,
) -> list[LicenseView]:
    """License objects for any number of rows, in five queries."""
    now = now or utcnow()
    ids = [row.id for row in rows]
    products = await repo.linked_products(session, ids)
    customers = await repo.linked_customers(session, ids)
    customer_ids = list(dict.fromkeys(c.id for linked in customers.values() for c in linked))
    customer_metadata = await metadata.load(session, "customer_id", customer_ids)
    license_metadata = await metadata.load(session, "license_id", ids)
    return [
        LicenseView(
            license=row,
            key=keyring.decrypt(
                row.key_ciphertext, ciphertext_aad(str(row.team_id), str(row.id))
            ).decode(),
            products=products[row.id],
            customers=[(c, customer_metadata[c.id]) for c in customers[row.id]],
            metadata=license_metadata[row.id],
            now=now,
        )
        for row in rows
    ]
