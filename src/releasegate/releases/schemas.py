"""The release form's `data` part (dev-api-releases.md §2.2, §3.1) and the typed inputs the
release service takes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.kit.validation import Array, Boolean, Enum, Field, Object, String
from releasegate.metadata.schemas import MetadataItem, metadata_array, metadata_items
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


@dataclass(frozen=True)
class ReleaseDraft:
    """A release as created or replaced, from a validated `data` part.

    `keep_existing_file` is Update's (create has no file to keep). `request` is the validated
    body the audit row records (webhooks-and-audit.md §6.3).
    """

    version: str
    product_id: uuid.UUID
    branch_id: uuid.UUID | None
    status: ReleaseStatus
    set_as_latest: bool
    metadata: tuple[MetadataItem, ...]
    license_ids: tuple[uuid.UUID, ...]
    sha256: str | None
    keep_existing_file: bool
    request: Mapping[str, Any]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ReleaseDraft:
        branch = body["branchId"]
        return cls(
            version=body["version"],
            product_id=uuid.UUID(body["productId"]),
            branch_id=None if branch is None else uuid.UUID(branch),
            status=ReleaseStatus(body["status"]),
            set_as_latest=bool(body["setAsLatest"]),
            metadata=metadata_items(body["metadata"]),
            license_ids=tuple(uuid.UUID(value) for value in body["licenseIds"]),
            sha256=body.get("sha256"),
            keep_existing_file=bool(body.get("keepExistingFile", False)),
            request=body,
        )
