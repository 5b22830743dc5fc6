"""UUID parsing as the wire accepts it (dev-api-releases.md §1.2)."""

from __future__ import annotations

import re
import uuid

UUID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def parse_uuid(value: object) -> uuid.UUID | None:
    """A UUID in 8-4-4-4-12 form, any case, version nibble unchecked; None otherwise."""
    if not isinstance(value, str) or not UUID_PATTERN.fullmatch(value):
        return None
    return uuid.UUID(value)
