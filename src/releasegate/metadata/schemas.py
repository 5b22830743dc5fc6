"""The `metadata` array of every body that carries one (dev-api-releases.md §2.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from releasegate.kit.validation import Array, Boolean, Field, Object, String


@dataclass(frozen=True)
class MetadataItem:
    key: str
    value: str
    locked: bool = False


def metadata_array() -> Array:
    """At most 20 strict `{key, value, locked?}` objects."""
    return Array(
        Object(
            {
                "key": Field(String(min_length=1, max_length=255)),
                "value": Field(String(min_length=1, max_length=255)),
                "locked": Field(Boolean(), required=False, default=False),
            }
        ),
        max_length=20,
    )


def metadata_items(cleaned: Sequence[dict[str, Any]]) -> tuple[MetadataItem, ...]:
    """The validated array as items, in submitted order."""
    return tuple(
        MetadataItem(item["key"], item["value"], bool(item.get("locked", False)))
        for item in cleaned
    )
