"""StorageJournal: pending uploads and pending deletions (files-and-storage.md §7–§9)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import Base, IdMixin
from releasegate.kit.clock import utcnow


class JournalKind(enum.StrEnum):
    PENDING_UPLOAD = "PENDING_UPLOAD"
    PENDING_DELETE = "PENDING_DELETE"


class StorageJournal(IdMixin, Base):
    __tablename__ = "storage_journal"

    key: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("key", "kind", name="uq_storage_journal_key_kind"),)
