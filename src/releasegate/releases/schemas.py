"""Schemas of the release form's `data` part (dev-api-releases.md §2.2, §3.1)."""

from __future__ import annotations

import re

from releasegate.kit.validation import (
    Array,
    Boolean,
    Enum,
    Field,
    Object,
    String,
    metadata_array,
)
from releasegate.releases.models import ReleaseStatus

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_STATUS = Enum(tuple(status.value for status in ReleaseStatus))


def _version() -> Field:
    return Field(String(min_length=3, max_length=255, no_spaces=True))


def _license_ids(required: bool) -> Field:
    schema = Array(String(uuid=True), max_length=30)
    return Field(schema) if required else Field(schema, required=False, default=[])


CREATE_RELEASE = Object(
    {
        "version": _version(),
        "productId": Field(String(uuid=True)),
        "status": Field(_STATUS),
        "setAsLatest": Field(Boolean(), required=False, default=False),
        "branchId": Field(String(uuid=True), required=False, default=None, nullable=True),
        "metadata": Field(metadata_array(), required=False, default=[]),
        "licenseIds": _license_ids(required=False),
        "sha256": Field(String(pattern=_SHA256), required=False),
    }
)

UPDATE_RELEASE = Object(
    {
        "version": _version(),
        "productId": Field(String(uuid=True)),
        "status": Field(_STATUS),
        "setAsLatest": Field(Boolean()),
        "keepExistingFile": Field(Boolean()),
        "branchId": Field(String(uuid=True), nullable=True),
        "metadata": Field(metadata_array()),
        "licenseIds": _license_ids(required=True),
        "sha256": Field(String(pattern=_SHA256), required=False),
    }
)
