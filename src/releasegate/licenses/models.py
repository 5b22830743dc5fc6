from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
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
        Index("ix_licenses_team_id_created_at", "team_id", "created_at", "id"),
        Index("ix_licenses_team_id_updated_at", "team_id", "updated_at", "id"),
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


class HardwareIdentifier(IdMixin, TimestampMixin, Base):
    """A device seen for a license; drives the HWID limit (client-api.md §3.3)."""

    __tablename__ = "hardware_identifiers"

    license_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    hwid: Mapped[str] = mapped_column(String(1000))
    forgotten: Mapped[bool] = mapped_column(default=False)
    forgotten_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seen_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("license_id", "hwid", name="uq_hardware_identifiers_license_id_hwid"),
        Index("ix_hardware_identifiers_license_id_last_seen_at", "license_id", "last_seen_at"),
        Index("ix_hardware_identifiers_license_id_created_at", "license_id", "created_at"),
    )


class IpAddress(IdMixin, TimestampMixin, Base):
    """A client IP seen for a license; drives the IP limit."""

    __tablename__ = "ip_addresses"

    license_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    ip: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(3), default=None)
    forgotten: Mapped[bool] = mapped_column(default=False)
    forgotten_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seen_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("license_id", "ip", name="uq_ip_addresses_license_id_ip"),
        Index("ix_ip_addresses_license_id_last_seen_at", "license_id", "last_seen_at"),
        Index("ix_ip_addresses_license_id_created_at", "license_id", "created_at"),
    )
