"""JSON-body checks J1–J3 of the Extension endpoints (dev-api-releases.md §1.5)."""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request

from releasegate.kit.errors import ApiError
from releasegate.kit.sizes import MIB
from releasegate.kit.strict_json import InvalidJSON, parse_strict_json
from releasegate.kit.validation import Object, validate

JSON_BODY_LIMIT = MIB


async def read_json(request: Request, limit: int = JSON_BODY_LIMIT) -> object:
    """J1–J2: at most `limit` bytes (checked while reading), strictly parsed JSON."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "Request body too large", close_connection=True)
    raw = bytearray()
    try:
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                raise ApiError(413, "Request body too large", close_connection=True)
    except ClientDisconnect:
        raise ApiError(400, "Invalid JSON body") from None
    try:
        return parse_strict_json(bytes(raw))
    except InvalidJSON:
        raise ApiError(400, "Invalid JSON body") from None


async def read_json_body(request: Request, schema: Object) -> dict[str, Any]:
    """J1–J3: the validated, cleaned body."""
    cleaned, issues = validate(schema, await read_json(request))
    if issues or cleaned is None:
        raise ApiError(400, "Invalid request body", data=[issue.as_json() for issue in issues])
    return cleaned
