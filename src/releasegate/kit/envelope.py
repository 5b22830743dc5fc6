"""The one envelope builder: `{"data", "result": {"details", "timestamp", "valid"}}`."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response

from releasegate.kit.clock import iso, utcnow
from releasegate.kit.errors import ApiError


def dumps(value: object) -> bytes:
    """Compact UTF-8 JSON; non-ASCII characters are not escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def envelope(
    data: object, details: str, *, valid: bool, extra: Mapping[str, str] | None = None
) -> dict[str, object]:
    """`extra` adds result members: the client API's `code` and `challengeResponse`."""
    result: dict[str, object] = {"details": details, "timestamp": iso(utcnow()), "valid": valid}
    result.update(extra or {})
    return {"data": data, "result": result}


def json_response(
    status: int, data: object, details: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A dev API response: the envelope, `valid` derived from the status."""
    body = envelope(data, details, valid=200 <= status < 300)
    response = Response(dumps(body), status_code=status, media_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: ApiError) -> Response:
    headers = dict(error.headers)
    if error.close_connection:
        headers["Connection"] = "close"
    return json_response(error.status, error.data, error.details, headers)
