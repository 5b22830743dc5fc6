"""A team's limits and settings as the CLI prints them (camelCase, as the API names them)."""

from __future__ import annotations

import json

from releasegate.teams.models import Team


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def team_fields_json(
    team: Team, fields: tuple[str, ...], default_file_mb: int
) -> dict[str, object]:
    """The named columns; a NULL `max_file_size_mb` shows the server default."""
    values: dict[str, object] = {}
    for name in fields:
        value = getattr(team, name)
        if name == "max_file_size_mb" and value is None:
            value = default_file_mb
        if name == "returned_fields":
            value = json.loads(value)
        values[_camel(name)] = value
    return values


def changes_json(changes: dict[str, object]) -> dict[str, object]:
    return {_camel(name): value for name, value in changes.items()}
