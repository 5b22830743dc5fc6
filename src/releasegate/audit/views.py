"""The read side of the audit log (webhooks-and-audit.md §6.1): filters, the row object and the
listing shared by `GET /audit-logs` and `releasegate audit list`."""

from __future__ import annotations

import json
import uuid

from releasegate.audit import repository as repo
from releasegate.audit.models import AuditLog
from releasegate.audit.repository import AuditFilter
from releasegate.kit.clock import iso
from releasegate.kit.ids import parse_uuid
from releasegate.kit.pagination import Page, PageRequest
from releasegate.kit.validation import parse_rfc3339
from releasegate.runtime import Runtime

# §6.2, plus UPDATE_TEAM_SETTINGS, which `releasegate team settings` writes.
AUDIT_ACTIONS = frozenset(
    {
        "CREATE_RELEASE",
        "UPDATE_RELEASE",
        "DELETE_RELEASE",
        "SET_LATEST_RELEASE",
        "CREATE_BRANCH",
        "UPDATE_BRANCH",
        "DELETE_BRANCH",
        "CREATE_PRODUCT",
        "UPDATE_PRODUCT",
        "DELETE_PRODUCT",
        "CREATE_LICENSE",
        "UPDATE_LICENSE",
        "DELETE_LICENSE",
        "SUSPEND_LICENSE",
        "UNSUSPEND_LICENSE",
        "FORGET_HWID",
        "REMEMBER_HWID",
        "FORGET_IP_ADDRESS",
        "REMEMBER_IP_ADDRESS",
        "CREATE_API_KEY",
        "DELETE_API_KEY",
        "CREATE_WEBHOOK",
        "UPDATE_WEBHOOK",
        "DELETE_WEBHOOK",
        "DISABLE_WEBHOOK",
        "ROTATE_TEAM_KEY_PAIR",
        "UPDATE_TEAM_LIMITS",
        "UPDATE_TEAM_SETTINGS",
    }
)
TARGET_TYPES = frozenset(
    {
        "RELEASE",
        "BRANCH",
        "PRODUCT",
        "LICENSE",
        "HARDWARE_IDENTIFIER",
        "IP_ADDRESS",
        "API_KEY",
        "WEBHOOK",
        "TEAM",
    }
)


def audit_filter(
    target_type: str | None, target_id: str | None, action: str | None, since: str | None
) -> AuditFilter:
    """Filters from raw values; an invalid value is dropped, as list queries do (§6.1)."""
    return AuditFilter(
        target_type=target_type if target_type in TARGET_TYPES else None,
        target_id=parse_uuid(target_id),
        action=action if action in AUDIT_ACTIONS else None,
        since=None if since is None else parse_rfc3339(since),
    )


def _parsed(text: str | None) -> object:
    return None if text is None else json.loads(text)


def audit_log_json(row: AuditLog) -> dict[str, object]:
    return {
        "id": str(row.id),
        "teamId": str(row.team_id),
        "createdAt": iso(row.created_at),
        "action": row.action,
        "targetType": row.target_type,
        "targetId": None if row.target_id is None else str(row.target_id),
        "source": row.source,
        "apiKeyId": None if row.api_key_id is None else str(row.api_key_id),
        "ipAddress": row.ip_address,
        "userAgent": row.user_agent,
        "country": row.country,
        "requestBody": _parsed(row.request_body),
        "responseBody": _parsed(row.response_body),
        "version": row.version,
    }


async def audit_log_page(
    runtime: Runtime, team_id: uuid.UUID, where: AuditFilter, request: PageRequest
) -> Page[AuditLog]:
    """One page of the team's audit log, newest first (`GET /audit-logs`, `audit list`)."""
    async with runtime.database.read() as session:
        return await repo.page(session, team_id, where, request)
