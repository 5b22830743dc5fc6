"""Product bodies (dev-api-releases.md §10) and the typed input the service takes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.kit.validation import (
    Field,
    Issue,
    IssuePath,
    Object,
    Schema,
    String,
    json_type_name,
)
from releasegate.metadata.schemas import MetadataItem, metadata_array, metadata_items

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]([A-Za-z0-9 _-]*[A-Za-z0-9_-])?$")


def name_field() -> Field:
    return Field(String(min_length=3, max_length=255, pattern=NAME_PATTERN))


class ProductUrl(Schema):
    """`""` (stored as null) or an absolute http(s) URL of at most 2048 characters."""

    def validate(self, value: object, path: IssuePath, issues: list[Issue]) -> object:
        if not isinstance(value, str):
            issues.append(Issue(f"Expected string, received {json_type_name(value)}", path))
            return value
        if value == "":
            return None
        before = len(issues)
        String(url=True).validate(value, path, issues)
        if len(issues) == before and len(value) > 2048:
            issues.append(Issue("Invalid url", path))
        return value


CREATE_PRODUCT = Object(
    {
        "name": name_field(),
        "url": Field(ProductUrl(), required=False, default=None, nullable=True),
        "metadata": Field(metadata_array(), required=False, default=[]),
    }
)

UPDATE_PRODUCT = Object(
    {
        "name": name_field(),
        "url": Field(ProductUrl(), nullable=True),
        "metadata": Field(metadata_array()),
    }
)


@dataclass(frozen=True)
class ProductDraft:
    """A product as created or replaced. `request` is the validated body the audit row records."""

    name: str
    url: str | None
    metadata: tuple[MetadataItem, ...]
    request: Mapping[str, Any]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ProductDraft:
        return cls(body["name"], body["url"], metadata_items(body["metadata"]), body)
