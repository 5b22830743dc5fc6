"""The stored file of a release, the journal of objects in flight, and each team's usage.

files-and-storage.md §6–§10: a ReleaseFile row is immutable (a replacement is a new row with a
new key); a StorageJournal entry covers an object between its upload and its commit
(`PENDING_UPLOAD`) or between its release's commit and its deletion (`PENDING_DELETE`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import Base, IdMixin
from releasegate.kit.clock import utcnow


class ReleaseFile(IdMixin, Base):
    """Immutable: a replacement is a new row with a new key."""

    __tablename__ = "release_files"

    release_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), unique=True
    )
    key: Mapped[str] = mapped_column(String(255), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(1024))
    content_type: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    main_class_name: Mapped[str | None] = mapped_column(String(1024), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class TeamStorageUsage(Base):
    """Sum of live ReleaseFile sizes; changed only by conditional atomic updates (§10)."""

    __tablename__ = "team_storage_usage"

    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
