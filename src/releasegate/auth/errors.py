"""Refusals of the dev API guard, checks C1–C6 (dev-api-releases.md §1.3)."""

from __future__ import annotations

from releasegate.kit.errors import Invalid, Unauthorized


class InvalidPathId(Invalid):
    """C1/C2: a path id that is not a UUID (`Invalid teamId`, `Invalid releaseId`...)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Invalid {name}")


class InvalidApiKey(Unauthorized):
    text = "Invalid API key"

    def __init__(self) -> None:
        super().__init__(headers={"WWW-Authenticate": "Bearer"})


class ApiKeyExpired(InvalidApiKey):
    text = "API key expired"
