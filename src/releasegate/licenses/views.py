"""License status and the JSON shapes that embed licenses."""

from __future__ import annotations

from datetime import datetime, timedelta

from releasegate.kit.clock import iso, iso_or_none
from releasegate.licenses.models import License

INACTIVE_AFTER = timedelta(days=30)
EXPIRING_WITHIN = timedelta(days=30)


def license_status(row: License, now: datetime) -> str:
    """SUSPENDED, EXPIRED, EXPIRING, UPCOMING, INACTIVE or ACTIVE (dev-api-releases.md §11.2)."""
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
