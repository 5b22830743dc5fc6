"""The one place that decides storage keys (files-and-storage.md §6)."""

from __future__ import annotations

import uuid

RELEASES_PREFIX = "releases"


def release_file_key(team_id: uuid.UUID, release_id: uuid.UUID, file_id: uuid.UUID) -> str:
    """`releases/{teamId}/{releaseId}/{fileId}`: server ids only, never client input."""
    return f"{RELEASES_PREFIX}/{team_id}/{release_id}/{file_id}"
