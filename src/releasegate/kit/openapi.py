"""OpenAPI descriptions of the envelope responses each route can give."""

from __future__ import annotations

from typing import Any

_DESCRIPTIONS = {
    200: "Success",
    201: "Created",
    400: "Invalid input (see `result.details`; body issues are listed in `data`)",
    401: "Invalid API key, or API key expired",
    403: "A team limit or rule forbids the operation",
    404: "Not found (foreign ids behave exactly like missing ones)",
    405: "Method not allowed",
    408: "The upload stalled",
    409: "Conflicts with existing state",
    413: "Request body too large",
    415: "Content-Type must be multipart/form-data",
    429: "Too many requests (see Retry-After)",
    500: "Internal server error",
    503: "Service unavailable (rate-limit store unreachable)",
}

ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["data", "result"],
    "properties": {
        "data": {"description": "The payload; null on errors, or the issue list for 400s"},
        "result": {
            "type": "object",
            "required": ["details", "timestamp", "valid"],
            "properties": {
                "details": {"type": "string"},
                "timestamp": {"type": "string", "format": "date-time"},
                "valid": {"type": "boolean"},
            },
        },
    },
}

COMMON_ERRORS = (400, 401, 429, 500, 503)


def envelope_responses(success: int, *errors: int) -> dict[int | str, dict[str, Any]]:
    """Responses for a dev route: its success status plus C1–C6 and the listed errors."""
    statuses = sorted({success, *COMMON_ERRORS, *errors})
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Response"),
            "content": {"application/json": {"schema": ENVELOPE_SCHEMA}},
        }
        for status in statuses
    }
