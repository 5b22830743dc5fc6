from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import NIL_UUID, Base, IdMixin, TimestampMixin


class ReleaseStatus(enum.StrEnum):
    PUBLISHED = "PUBLISHED"
    DRAFT = "DRAFT"
    DEPRECATED = "DEPRECATED"
    ARCHIVED = "ARCHIVED"


# The branch as the indexes key it: the default branch (NULL) is the nil UUID. Queries that
# compare this very expression can use the indexes below.
BRANCH_KEY_SQL = f"coalesce(branch_id, '{NIL_UUID}')"
_BRANCH_KEY = text(BRANCH_KEY_SQL)


class Release(IdMixin, TimestampMixin, Base):
    __tablename__ = "releases"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branches.id"), default=None)
    version: Mapped[str] = mapped_column(String(255))
    # releases.version_order.version_sort_key(version); byte-wise comparison on every backend.
    version_sort_key: Mapped[str] = mapped_column(
        String(2048).with_variant(String(2048, collation="C"), "postgresql")
    )
    status: Mapped[str] = mapped_column(String(16))
    latest: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        # I1: the default branch (NULL) counts as a branch.
        Index("uq_releases_version", "team_id", "product_id", _BRANCH_KEY, "version", unique=True),
        # I2: at most one latest per (product, branch).
        Index(
            "uq_releases_latest",
            "product_id",
            _BRANCH_KEY,
            unique=True,
            postgresql_where=text("latest"),
            sqlite_where=text("latest"),
        ),
        # I3: only a PUBLISHED release can be latest.
        CheckConstraint("NOT latest OR status = 'PUBLISHED'", name="latest_is_published"),
        CheckConstraint(
            "status IN ('PUBLISHED', 'DRAFT', 'DEPRECATED', 'ARCHIVED')", name="status_known"
        ),
        Index("ix_releases_product_id_created_at", "product_id", "created_at"),
        Index("ix_releases_product_id_updated_at", "product_id", "updated_at"),
        Index("ix_releases_product_id_version_sort_key", "product_id", "version_sort_key"),
        Index("ix_releases_branch_id", "branch_id"),
        # Client selection: is there a PUBLISHED release in this (product, branch)?
        Index("ix_releases_product_id_branch_key_status", "product_id", _BRANCH_KEY, "status"),
    )


class ReleaseLicense(Base):
    """A release's allow-list: empty means every license of the product may download it."""

    __tablename__ = "release_licenses"

    release_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True
    )
    license_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("licenses.id", ondelete="CASCADE"), primary_key=True, index=True
    )
