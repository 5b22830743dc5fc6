"""License body schema and cross-field rules (dev-api-releases.md §11.1)."""

from __future__ import annotations

from releasegate.kit.clock import utcnow
from releasegate.kit.validation import (
    Array,
    Boolean,
    Enum,
    Field,
    Integer,
    Issue,
    Object,
    String,
    metadata_array,
    parse_rfc3339,
)
from releasegate.licenses.keys import LICENSE_KEY_PATTERN


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
