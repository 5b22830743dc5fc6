from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import Base, IdMixin, TimestampMixin


class License(IdMixin, TimestampMixin, Base):
    __tablename__ = "licenses"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    key_lookup: Mapped[str] = mapped_column(String(64))
    key_ciphertext: Mapped[str] = mapped_column(Text)
    key_hint: Mapped[str] = mapped_column(String(32))
    ip_limit: Mapped[int | None] = mapped_column(default=None)
    hwid_limit: Mapped[int | None] = mapped_column(default=None)
    expiration_type: Mapped[str] = mapped_column(String(16), default="NEVER")
    expiration_start: Mapped[str | None] = mapped_column(String(16), default=None)
    expiration_date: Mapped[datetime | None] = mapped_column(default=None)
    expiration_days: Mapped[int | None] = mapped_column(default=None)
    suspended: Mapped[bool] = mapped_column(default=False)
    last_active_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("team_id", "key_lookup", name="uq_licenses_team_id_key_lookup"),
    )


class LicenseProduct(Base):
    __tablename__ = "license_products"

    license_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("licenses.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class LicenseCustomer(Base):
    __tablename__ = "license_customers"

    license_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("licenses.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
