"""Refusals about a team and its API keys."""

from __future__ import annotations

from releasegate.kit.errors import Forbidden, NotFound


class TeamNotFound(NotFound):
    text = "Team not found"
    code = "TEAM_NOT_FOUND"


class MaxApiKeysReached(Forbidden):
    text = "Max API keys reached"


class ApiKeyNotFound(NotFound):
    text = "API key not found"
