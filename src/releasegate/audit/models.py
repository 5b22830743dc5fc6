from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import Base, IdMixin
from releasegate.kit.clock import utcnow


class AuditLog(IdMixin, Base):
    __tablename__ = "audit_logs"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    source: Mapped[str] = mapped_column(String(16))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    ip_address: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(1024), default=None)
    country: Mapped[str | None] = mapped_column(String(3), default=None)
    request_body: Mapped[str | None] = mapped_column(Text, default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index("ix_audit_logs_team_id_created_at", "team_id", "created_at"),)
