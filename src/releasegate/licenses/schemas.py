"""License bodies and cross-field rules (dev-api-releases.md §11.1), the list's filters
(§11.3), and the typed inputs the license service takes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams

from releasegate.kit.clock import utcnow
from releasegate.kit.ids import parse_uuid
from releasegate.kit.keyring import Keyring
from releasegate.kit.pagination import first
from releasegate.kit.validation import (
    Array,
    Boolean,
    Enum,
    Field,
    Integer,
    Issue,
    Object,
    String,
    parse_rfc3339,
    utf16_length,
)
from releasegate.licenses.keys import LICENSE_KEY_PATTERN
from releasegate.metadata.schemas import MetadataItem, metadata_array, metadata_items


def _duration_rule(data: dict[str, object]) -> Issue | None:
    if data.get("expirationType") == "DURATION" and (
        data.get("expirationStart") is None or data.get("expirationDays") is None
    ):
        return Issue(
            "expirationStart and expirationDays are required when expirationType is DURATION",
            ("expirationDays",),
        )
    return None


def _date_rule(data: dict[str, object]) -> Issue | None:
    if data.get("expirationType") != "DATE":
        return None
    raw = data.get("expirationDate")
    parsed = parse_rfc3339(raw) if isinstance(raw, str) else None
    if parsed is None or parsed <= utcnow():
        return Issue(
            "expirationDate must be a future date when expirationType is DATE",
            ("expirationDate",),
        )
    return None


def _never_rule(data: dict[str, object]) -> Issue | None:
    if data.get("expirationType") == "NEVER" and any(
        data.get(name) is not None
        for name in ("expirationStart", "expirationDate", "expirationDays")
    ):
        return Issue(
            "expirationStart, expirationDate and expirationDays must be null when "
            "expirationType is NEVER",
            (),
        )
    return None


def _fields(*, create: bool) -> dict[str, Field]:
    limit = Integer(minimum=1, maximum=1000)
    fields = {
        "licenseKey": Field(String(pattern=LICENSE_KEY_PATTERN), required=not create),
        "expirationType": Field(Enum(("NEVER", "DATE", "DURATION"))),
        "expirationStart": Field(Enum(("CREATION", "ACTIVATION")), nullable=True),
        "expirationDate": Field(String(date=True), nullable=True),
        "expirationDays": Field(Integer(minimum=1, maximum=1000), nullable=True),
        "suspended": Field(Boolean()),
        "productIds": Field(Array(String(uuid=True), max_length=20)),
        "customerIds": Field(Array(String(uuid=True), max_length=20)),
        "hwidLimit": Field(limit, nullable=True),
        "ipLimit": Field(limit, nullable=True),
        "metadata": Field(metadata_array()),
    }
    if create:
        fields["sendEmailDelivery"] = Field(Boolean(), required=False, default=False)
    return fields


_RULES = (_duration_rule, _date_rule, _never_rule)
CREATE_LICENSE = Object(_fields(create=True), cross_field_rules=_RULES)
UPDATE_LICENSE = Object(_fields(create=False), cross_field_rules=_RULES)


@dataclass(frozen=True)
class Expiry:
    """`expirationType` with its start, days and (for DATE) date, as validated."""

    type: str
    start: str | None
    days: int | None
    date: datetime | None


@dataclass(frozen=True)
class LicenseDraft:
    """A license as created or replaced. `key` is None on create unless one is imported;
    `request` is the validated body the audit row records (the key shown as its hint)."""

    key: str | None
    expiry: Expiry
    suspended: bool
    product_ids: tuple[uuid.UUID, ...]
    customer_ids: tuple[uuid.UUID, ...]
    hwid_limit: int | None
    ip_limit: int | None
    metadata: tuple[MetadataItem, ...]
    send_email_delivery: bool
    request: Mapping[str, Any]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> LicenseDraft:
        date = body["expirationDate"]
        return cls(
            key=body.get("licenseKey"),
            expiry=Expiry(
                body["expirationType"],
                body["expirationStart"],
                body["expirationDays"],
                None if date is None else parse_rfc3339(date),
            ),
            suspended=body["suspended"],
            product_ids=tuple(uuid.UUID(value) for value in body["productIds"]),
            customer_ids=tuple(uuid.UUID(value) for value in body["customerIds"]),
            hwid_limit=body["hwidLimit"],
            ip_limit=body["ipLimit"],
            metadata=metadata_items(body["metadata"]),
            send_email_delivery=bool(body.get("sendEmailDelivery", False)),
            request=body,
        )


STATUS_FILTERS = ("SUSPENDED", "EXPIRED", "EXPIRING", "UPCOMING", "INACTIVE", "ACTIVE")


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
    """Invalid values are dropped or ignored, never rejected; the first occurrence wins. A
    searched key is looked up by its team-bound HMAC, never compared in clear."""
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
        status=status if status in STATUS_FILTERS else None,
    )
