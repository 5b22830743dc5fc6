"""JSON-body checks J1–J3 of the Extension endpoints (dev-api-releases.md §1.5)."""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request

from releasegate.kit.errors import Invalid, TooLarge
from releasegate.kit.sizes import MIB
from releasegate.kit.strict_json import InvalidJSON, parse_strict_json
from releasegate.kit.validation import Object, validate

JSON_BODY_LIMIT = MIB


class BodyTooLarge(Exception):
    """The body exceeded its limit (declared or while reading)."""


class JsonBodyTooLarge(TooLarge):
    text = "Request body too large"
    closes_connection = True


class InvalidJsonBody(Invalid):
    text = "Invalid JSON body"


class InvalidBody(Invalid):
    """J3: `data` lists the issues."""

    text = "Invalid request body"


async def read_limited(request: Request, limit: int) -> bytes:
    """At most `limit` bytes, checked against Content-Length and again while reading.

    Raises BodyTooLarge, or ClientDisconnect when the client went away mid-body.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise BodyTooLarge
    return bytes(raw)


async def read_json(request: Request, limit: int = JSON_BODY_LIMIT) -> object:
    """J1–J2: at most `limit` bytes (checked while reading), strictly parsed JSON."""
    try:
        raw = await read_limited(request, limit)
    except BodyTooLarge:
        raise JsonBodyTooLarge() from None
    except ClientDisconnect:
        raise InvalidJsonBody() from None
    try:
        return parse_strict_json(raw)
    except InvalidJSON:
        raise InvalidJsonBody() from None


async def read_json_body(request: Request, schema: Object) -> dict[str, Any]:
    """J1–J3: the validated, cleaned body."""
    cleaned, issues = validate(schema, await read_json(request))
    if issues or cleaned is None:
        raise InvalidBody(data=[issue.as_json() for issue in issues])
    return cleaned
