from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import Base, IdMixin, TimestampMixin


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(255))
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    # Limits: 0 means unlimited. max_file_size_mb NULL means "the server default".
    max_file_size_mb: Mapped[int | None] = mapped_column(default=None)
    max_storage_mb: Mapped[int] = mapped_column(default=0)
    max_releases_per_product: Mapped[int] = mapped_column(default=100)
    max_branches_per_product: Mapped[int] = mapped_column(default=10)
    max_products: Mapped[int] = mapped_column(default=0)
    max_licenses: Mapped[int] = mapped_column(default=0)
    max_api_keys: Mapped[int] = mapped_column(default=10)
    max_webhooks: Mapped[int] = mapped_column(default=20)

    # Settings.
    allow_file_uploads: Mapped[bool] = mapped_column(default=True)
    allow_classloader: Mapped[bool] = mapped_column(default=True)
    allow_plain_jars: Mapped[bool] = mapped_column(default=False)
    strict_customers: Mapped[bool] = mapped_column(default=False)
    strict_products: Mapped[bool] = mapped_column(default=False)
    strict_releases: Mapped[bool] = mapped_column(default=False)
    hwid_timeout: Mapped[int | None] = mapped_column(default=None)
    ip_timeout: Mapped[int | None] = mapped_column(default=None)
    returned_fields: Mapped[str] = mapped_column(Text, default="{}")


class TeamKeyPair(IdMixin, TimestampMixin, Base):
    __tablename__ = "team_key_pairs"

    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), unique=True
    )
    public_key: Mapped[str] = mapped_column(Text)
    private_key_ciphertext: Mapped[str] = mapped_column(Text)
