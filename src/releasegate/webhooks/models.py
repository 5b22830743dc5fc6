"""Webhooks and their outbox of events (webhooks-and-audit.md §1, §5.1)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from releasegate.db.base import Base, IdMixin, TimestampMixin


class EventStatus(enum.StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    DELIVERED = "DELIVERED"
    RETRY_SCHEDULED = "RETRY_SCHEDULED"
    FAILED = "FAILED"


class EventType(enum.StrEnum):
    RELEASE_CREATED = "RELEASE_CREATED"
    RELEASE_UPDATED = "RELEASE_UPDATED"
    RELEASE_DELETED = "RELEASE_DELETED"
    RELEASE_LATEST_CHANGED = "RELEASE_LATEST_CHANGED"
    BRANCH_CREATED = "BRANCH_CREATED"
    BRANCH_UPDATED = "BRANCH_UPDATED"
    BRANCH_DELETED = "BRANCH_DELETED"
    PRODUCT_CREATED = "PRODUCT_CREATED"
    PRODUCT_UPDATED = "PRODUCT_UPDATED"
    PRODUCT_DELETED = "PRODUCT_DELETED"
    LICENSE_CREATED = "LICENSE_CREATED"
    LICENSE_UPDATED = "LICENSE_UPDATED"
    LICENSE_DELETED = "LICENSE_DELETED"


class Webhook(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhooks"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    # AES-256-GCM (kit/keyring), AAD `webhook-secret:<teamId>:<webhookId>`.
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    # JSON array of EventType names, in the order the publisher gave them.
    enabled_events: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (Index("ix_webhooks_team_id_created_at", "team_id", "created_at", "id"),)


class WebhookEvent(IdMixin, TimestampMixin, Base):
    """One delivery of one event to one webhook: the transactional outbox row."""

    __tablename__ = "webhook_events"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(48))
    # The serialised payload, fixed at creation; encrypted (AAD `webhook-event:<teamId>:<id>`)
    # when it holds a license key, which `body_encrypted` says.
    body: Mapped[str] = mapped_column(Text)
    body_encrypted: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    response_code: Mapped[int | None] = mapped_column(default=None)
    response_body: Mapped[str | None] = mapped_column(String(1000), default=None)
    error_message: Mapped[str | None] = mapped_column(String(255), default=None)

    __table_args__ = (
        CheckConstraint(
            "status IN ('PENDING', 'IN_PROGRESS', 'DELIVERED', 'RETRY_SCHEDULED', 'FAILED')",
            name="status_known",
        ),
        # The worker's claim: due events in order, whatever the team.
        Index("ix_webhook_events_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_events_webhook_id_created_at", "webhook_id", "created_at", "id"),
    )
