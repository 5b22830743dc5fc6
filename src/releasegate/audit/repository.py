"""Audit log reads. Every query is scoped by team and walks ix_audit_logs_team_id_created_at."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from releasegate.audit.models import AuditLog
from releasegate.kit.pagination import Page, PageRequest, fetch_page


@dataclass(frozen=True)
class AuditFilter:
    """Optional narrowing of a team's audit log; None means "any"."""

    target_type: str | None = None
    target_id: uuid.UUID | None = None
    action: str | None = None
    since: datetime | None = None


def _conditions(team_id: uuid.UUID, where: AuditFilter) -> list[ColumnElement[bool]]:
    conditions = [AuditLog.team_id == team_id]
    if where.target_type is not None:
        conditions.append(AuditLog.target_type == where.target_type)
    if where.target_id is not None:
        conditions.append(AuditLog.target_id == where.target_id)
    if where.action is not None:
        conditions.append(AuditLog.action == where.action)
    if where.since is not None:
        conditions.append(AuditLog.created_at >= where.since)
    return conditions


async def page(
    session: AsyncSession, team_id: uuid.UUID, where: AuditFilter, request: PageRequest
) -> Page[AuditLog]:
    """Newest first (ties by id, descending)."""
    ordering = (AuditLog.created_at.desc(), AuditLog.id.desc())
    return await fetch_page(session, AuditLog, _conditions(team_id, where), ordering, request)
