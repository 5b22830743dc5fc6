from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import Base, IdMixin, TimestampMixin


class Branch(IdMixin, TimestampMixin, Base):
    __tablename__ = "branches"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))

    __table_args__ = (
        UniqueConstraint("product_id", "name", name="uq_branches_product_id_name"),
        Index("ix_branches_product_id_created_at", "product_id", "created_at"),
        Index("ix_branches_product_id_updated_at", "product_id", "updated_at"),
    )
