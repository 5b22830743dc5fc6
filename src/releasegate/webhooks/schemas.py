"""Webhook body schemas (webhooks-and-audit.md §1).

`enabledEvents` must name at least one event type; repeats are accepted and collapsed to their
first occurrence, so the stored list is the publisher's order without duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.kit.validation import (
    Array,
    Boolean,
    Enum,
    Field,
    Issue,
    IssuePath,
    Object,
    Schema,
    String,
)
from releasegate.webhooks.models import EventType

EVENT_TYPE_NAMES = tuple(event_type.value for event_type in EventType)


class EventTypes(Schema):
    """A non-empty array of event type names; duplicates are dropped, order is kept."""

    def validate(self, value: object, path: IssuePath, issues: list[Issue]) -> object:
        if isinstance(value, list) and not value:
            issues.append(Issue("Array must contain at least 1 element(s)", path))
            return value
        before = len(issues)
        cleaned = Array(Enum(EVENT_TYPE_NAMES)).validate(value, path, issues)
        if len(issues) > before or not isinstance(cleaned, list):
            return cleaned  # meaningless with issues (elements may be unhashable)
        return list(dict.fromkeys(cleaned))


CREATE_WEBHOOK = Object(
    {
        "url": Field(String()),
        "enabledEvents": Field(EventTypes()),
        "active": Field(Boolean(), required=False, default=True),
    }
)

UPDATE_WEBHOOK = Object(
    {
        "url": Field(String()),
        "enabledEvents": Field(EventTypes()),
        "active": Field(Boolean()),
    }
)


@dataclass(frozen=True)
class WebhookChanges:
    """A webhook's fields as created or changed; None keeps a field (the CLI's partial update;
    the API always sends every field). `request` is the validated body the audit row records."""

    url: str | None
    enabled_events: tuple[str, ...] | None
    active: bool | None
    request: Mapping[str, Any]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> WebhookChanges:
        events = body.get("enabledEvents")
        return cls(
            url=body.get("url"),
            enabled_events=None if events is None else tuple(events),
            active=body.get("active"),
            request=body,
        )
