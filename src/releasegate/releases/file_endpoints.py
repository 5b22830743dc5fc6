"""Raw file download for publishers (Extension, dev-api-releases.md §8)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["releases"])
