"""RequestLog: one row per client API call past team resolution (client-api.md §7)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import Base, IdMixin
from releasegate.kit.clock import utcnow


class RequestLog(IdMixin, Base):
    """Holds ids, never secrets. The ids are a record of what matched at the time: like audit
    rows, they are kept when the license, release or file is later deleted (no foreign keys, so
    a hot delete path never touches this append-only table)."""

    __tablename__ = "client_request_logs"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(48))
    status_code: Mapped[int]
    license_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    product_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    release_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    release_file_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    hardware_identifier_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    ip_address: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(3), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(1024), default=None)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    duration_ms: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_client_request_logs_team_id_created_at", "team_id", "created_at", "id"),
    )
