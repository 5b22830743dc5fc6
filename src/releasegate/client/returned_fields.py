"""The `data` object of a successful verify or heartbeat: the fields a team's `returnedFields`
selection switches on (client-api.md §3.4)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.customers.models import Customer
from releasegate.kit.clock import iso
from releasegate.licenses import repository as licenses
from releasegate.licenses.models import License
from releasegate.metadata import repository as metadata
from releasegate.metadata.repository import Owner
from releasegate.products.models import Product
from releasegate.releases import repository as releases
from releasegate.releases.models import Release
from releasegate.teams.models import Team

LICENSE_FLAGS = (
    "licenseIpLimit",
    "licenseSeats",
    "licenseExpirationType",
    "licenseExpirationStart",
    "licenseExpirationDate",
    "licenseExpirationDays",
)
CUSTOMER_FLAGS = ("customerEmail", "customerFullName", "customerUsername")
PRODUCT_FLAGS = ("productName", "productUrl", "productLatestRelease")
FLAGS = LICENSE_FLAGS + CUSTOMER_FLAGS + PRODUCT_FLAGS
METADATA_KEY_LISTS = ("licenseMetadataKeys", "customerMetadataKeys", "productMetadataKeys")

MetadataList = list[dict[str, str]]


@dataclass(frozen=True)
class Selection:
    """A team's `returnedFields`: the switched-on flags and the metadata keys per owner."""

    flags: frozenset[str]
    license_keys: tuple[str, ...]
    customer_keys: tuple[str, ...]
    product_keys: tuple[str, ...]

    @classmethod
    def parse(cls, stored: str) -> Selection:
        raw = json.loads(stored or "{}")
        if not isinstance(raw, dict):
            raw = {}

        def keys(name: str) -> tuple[str, ...]:
            value = raw.get(name)
            if not isinstance(value, list):
                return ()
            return tuple(dict.fromkeys(key for key in value if isinstance(key, str)))

        return cls(
            flags=frozenset(name for name, value in raw.items() if value is True),
            license_keys=keys("licenseMetadataKeys"),
            customer_keys=keys("customerMetadataKeys"),
            product_keys=keys("productMetadataKeys"),
        )

    def wants_license(self) -> bool:
        return bool(self.license_keys) or any(flag in self.flags for flag in LICENSE_FLAGS)

    def wants_customers(self) -> bool:
        return bool(self.customer_keys) or any(flag in self.flags for flag in CUSTOMER_FLAGS)

    def wants_products(self) -> bool:
        return bool(self.product_keys) or any(flag in self.flags for flag in PRODUCT_FLAGS)


async def returned_data(
    session: AsyncSession, team: Team, license: License, branch_name: str | None
) -> dict[str, object] | None:
    """`data` for a successful verify/heartbeat of `license`, or None when the team selects
    nothing or nothing selected is present. Runs at most four queries, however many customers
    and products the license has."""
    selection = Selection.parse(team.returned_fields)
    customers: list[Customer] = []
    products: list[Product] = []
    if selection.wants_customers():
        customers = (await licenses.linked_customers(session, [license.id]))[license.id]
    if selection.wants_products():
        products = (await licenses.linked_products(session, [license.id]))[license.id]
    metadata = await _selected_metadata(session, selection, license, customers, products)
    latest: dict[uuid.UUID, Release] = {}
    if "productLatestRelease" in selection.flags and products:
        latest = await releases.latest_of_products(session, [p.id for p in products], branch_name)

    data: dict[str, object] = {}
    license_object = _license_object(selection, license, metadata.get(license.id, []))
    if license_object:
        data["license"] = license_object
    customer_objects = [
        obj
        for obj in (_customer_object(selection, c, metadata.get(c.id, [])) for c in customers)
        if obj
    ]
    if customer_objects:
        data["customers"] = customer_objects
    product_objects = [
        obj
        for obj in (
            _product_object(selection, p, latest.get(p.id), metadata.get(p.id, []))
            for p in products
        )
        if obj
    ]
    if product_objects:
        data["products"] = product_objects
    return data or None


def _license_object(
    selection: Selection, license: License, metadata: MetadataList
) -> dict[str, object]:
    flags = selection.flags
    fields: dict[str, object] = {}
    if "licenseIpLimit" in flags:
        fields["ipLimit"] = license.ip_limit
    if "licenseSeats" in flags:
        fields["hwidLimit"] = license.hwid_limit
        fields["seats"] = license.hwid_limit  # deprecated alias, kept for compatibility
    if "licenseExpirationType" in flags:
        fields["expirationType"] = license.expiration_type
    if "licenseExpirationStart" in flags:
        fields["expirationStart"] = license.expiration_start
    if "licenseExpirationDate" in flags and license.expiration_date is not None:
        fields["expirationDate"] = iso(license.expiration_date)
    if "licenseExpirationDays" in flags and license.expiration_days is not None:
        fields["expirationDays"] = license.expiration_days
    if metadata:
        fields["metadata"] = metadata
    return fields


def _customer_object(
    selection: Selection, customer: Customer, metadata: MetadataList
) -> dict[str, object]:
    flags = selection.flags
    fields: dict[str, object] = {}
    if "customerEmail" in flags and customer.email:
        fields["email"] = customer.email
    if "customerFullName" in flags and customer.full_name:
        fields["fullName"] = customer.full_name
    if "customerUsername" in flags and customer.username:
        fields["username"] = customer.username
    if metadata:
        fields["metadata"] = metadata
    return fields


def _product_object(
    selection: Selection, product: Product, latest: Release | None, metadata: MetadataList
) -> dict[str, object]:
    flags = selection.flags
    fields: dict[str, object] = {}
    if "productName" in flags and product.name:
        fields["name"] = product.name
    if "productUrl" in flags and product.url:
        fields["url"] = product.url
    if "productLatestRelease" in flags and latest is not None:
        fields["latestRelease"] = {"version": latest.version, "createdAt": iso(latest.created_at)}
    if metadata:
        fields["metadata"] = metadata
    return fields


async def _selected_metadata(
    session: AsyncSession,
    selection: Selection,
    license: License,
    customers: Sequence[Customer],
    products: Sequence[Product],
) -> dict[uuid.UUID, MetadataList]:
    """`{key, value}` rows with a selected key, by owner id, in stored order; one query."""
    wanted: list[tuple[Owner, Sequence[uuid.UUID], Sequence[str]]] = [
        ("license_id", [license.id], selection.license_keys),
        ("customer_id", [c.id for c in customers], selection.customer_keys),
        ("product_id", [p.id for p in products], selection.product_keys),
    ]
    rows = await metadata.with_keys(session, license.team_id, wanted)
    grouped: dict[uuid.UUID, MetadataList] = {}
    for row in rows:
        owner = row.license_id or row.customer_id or row.product_id
        assert owner is not None
        grouped.setdefault(owner, []).append({"key": row.key, "value": row.value})
    return grouped
