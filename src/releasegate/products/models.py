from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import Base, IdMixin, TimestampMixin


class Product(IdMixin, TimestampMixin, Base):
    __tablename__ = "products"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(2048), default=None)

    __table_args__ = (
        # Names are ASCII-only by pattern, so lower() is the ASCII case fold on both backends.
        Index("uq_products_team_id_name", "team_id", func.lower(name), unique=True),
        Index("ix_products_team_id_created_at", "team_id", "created_at"),
        Index("ix_products_team_id_updated_at", "team_id", "updated_at"),
    )
