"""The license list's query filters (dev-api-releases.md §11.3) as SQL conditions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, true
from starlette.datastructures import QueryParams

from releasegate.kit.ids import parse_uuid
from releasegate.kit.keyring import Keyring
from releasegate.kit.pagination import first
from releasegate.kit.sql_text import contains_ascii_insensitive
from releasegate.kit.validation import utf16_length
from releasegate.licenses.keys import LICENSE_KEY_PATTERN
from releasegate.licenses.models import License, LicenseCustomer, LicenseProduct
from releasegate.licenses.views import EXPIRING_WITHIN, INACTIVE_AFTER
from releasegate.metadata.models import Metadata

STATUSES = ("SUSPENDED", "EXPIRED", "EXPIRING", "UPCOMING", "INACTIVE", "ACTIVE")


@dataclass(frozen=True)
class LicenseFilters:
    key_lookup: str | None = None
    product_ids: tuple[uuid.UUID, ...] = ()
    customer_ids: tuple[uuid.UUID, ...] = ()
    metadata_key: str | None = None
    metadata_value: str | None = None
    status: str | None = None


def _uuid_list(raw: str | None) -> tuple[uuid.UUID, ...]:
    parsed = (parse_uuid(part) for part in (raw or "").split(","))
    return tuple(dict.fromkeys(value for value in parsed if value is not None))


def _bounded(raw: str | None) -> str | None:
    return raw if raw is not None and 1 <= utf16_length(raw) <= 255 else None


def parse_license_filters(
    params: QueryParams, keyring: Keyring, team_id: uuid.UUID
) -> LicenseFilters:
    """Invalid values are dropped or ignored, never rejected; the first occurrence wins."""
    search = first(params, "search")
    metadata_key = _bounded(first(params, "metadataKey"))
    metadata_value = _bounded(first(params, "metadataValue"))
    paired = metadata_key is not None and metadata_value is not None
    status = first(params, "status")
    return LicenseFilters(
        key_lookup=keyring.license_lookup(search, str(team_id))
        if search is not None and LICENSE_KEY_PATTERN.fullmatch(search)
        else None,
        product_ids=_uuid_list(first(params, "productIds")),
        customer_ids=_uuid_list(first(params, "customerIds")),
        metadata_key=metadata_key if paired else None,
        metadata_value=metadata_value if paired else None,
        status=status if status in STATUSES else None,
    )


def license_conditions(
    team_id: uuid.UUID, filters: LicenseFilters, now: datetime
) -> list[ColumnElement[bool]]:
    """WHERE conditions of the list: the team, then every filter that applies."""
    conditions: list[ColumnElement[bool]] = [License.team_id == team_id]
    if filters.key_lookup is not None:
        conditions.append(License.key_lookup == filters.key_lookup)
    if filters.product_ids:
        conditions.append(
            exists().where(
                LicenseProduct.license_id == License.id,
                LicenseProduct.product_id.in_(filters.product_ids),
            )
        )
    if filters.customer_ids:
        conditions.append(
            exists().where(
                LicenseCustomer.license_id == License.id,
                LicenseCustomer.customer_id.in_(filters.customer_ids),
            )
        )
    if filters.metadata_key is not None and filters.metadata_value is not None:
        conditions.append(_metadata_condition(filters.metadata_key, filters.metadata_value))
    if filters.status is not None:
        conditions.append(status_condition(filters.status, now))
    return conditions


def _metadata_condition(key: str, value: str) -> ColumnElement[bool]:
    return exists().where(
        Metadata.license_id == License.id,
        Metadata.key == key,
        contains_ascii_insensitive(Metadata.value, value),
    )


def status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    """views.license_status as SQL, with the thresholds computed from `now` in Python.

    Each comparison is column-versus-parameter, so it can use an index and compares
    identically on SQLite's text timestamps and PostgreSQL's timestamptz.
    """
    not_suspended = License.suspended.is_(false())
    dated = License.expiration_type != "NEVER"
    expiry = License.expiration_date
    # NEVER, or a date at least EXPIRING_WITHIN away: only activity decides.
    unexpiring = or_(~dated, expiry >= now + EXPIRING_WITHIN)
    recently_active = License.last_active_at >= now - INACTIVE_AFTER
    conditions: dict[str, ColumnElement[bool]] = {
        "SUSPENDED": License.suspended.is_(true()),
        "UPCOMING": and_(not_suspended, dated, expiry.is_(None)),
        "EXPIRED": and_(not_suspended, dated, expiry < now),
        "EXPIRING": and_(not_suspended, dated, expiry >= now, expiry < now + EXPIRING_WITHIN),
        "ACTIVE": and_(not_suspended, unexpiring, recently_active),
        "INACTIVE": and_(not_suspended, unexpiring, ~recently_active),
    }
    return conditions[status]
