"""Typed changes to a team's limits and settings (made by the admin CLI)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields


class _Unchanged(enum.Enum):
    UNCHANGED = enum.auto()


UNCHANGED = _Unchanged.UNCHANGED


@dataclass(frozen=True)
class TeamLimits:
    """New limits; None leaves a limit as it is. 0 means unlimited on every number."""

    max_file_size_mb: int | None = None
    max_storage_mb: int | None = None
    max_releases_per_product: int | None = None
    max_branches_per_product: int | None = None
    max_products: int | None = None
    max_licenses: int | None = None
    max_api_keys: int | None = None
    max_webhooks: int | None = None
    allow_file_uploads: bool | None = None

    def changes(self) -> dict[str, object]:
        """Column name → new value, for what is set."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class TeamSettings:
    """New client-API settings; UNCHANGED leaves one as it is (timeouts may be set to None).

    `returned_fields` is the stored selection document (JSON text, client-api.md §3.4).
    """

    strict_customers: bool | _Unchanged = UNCHANGED
    strict_products: bool | _Unchanged = UNCHANGED
    strict_releases: bool | _Unchanged = UNCHANGED
    hwid_timeout: int | _Unchanged | None = UNCHANGED
    ip_timeout: int | _Unchanged | None = UNCHANGED
    returned_fields: str | _Unchanged = UNCHANGED
    allow_classloader: bool | _Unchanged = UNCHANGED
    allow_plain_jars: bool | _Unchanged = UNCHANGED

    def changes(self) -> dict[str, object]:
        """Column name → new value, for what is set."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return {name: value for name, value in values.items() if value is not UNCHANGED}


LIMIT_FIELDS = tuple(item.name for item in fields(TeamLimits))
SETTING_FIELDS = tuple(item.name for item in fields(TeamSettings))
