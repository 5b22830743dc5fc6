"""Audit log, read-only (Extension, webhooks-and-audit.md §6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/dev/teams/{teamId}", tags=["audit"])
