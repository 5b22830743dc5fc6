"""The one response builder: `{"data", "result": {"details", "timestamp", "valid", ...}}`.

Both surfaces use it: the dev API's envelope, and the client API's, which adds `code` (and
`challengeResponse`) to `result` (dev-api-releases.md §1.1, client-api.md §1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from starlette.responses import Response

from releasegate.kit.clock import iso, utcnow
from releasegate.kit.errors import Refusal

T = TypeVar("T")


def dumps(value: object) -> bytes:
    """Compact UTF-8 JSON; non-ASCII characters are not escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _now() -> str:
    return iso(utcnow())


def envelope(
    data: object,
    details: str,
    *,
    valid: bool,
    extra: Mapping[str, str] | None = None,
    timestamp: str | None = None,
) -> dict[str, object]:
    """`extra` adds result members: the client API's `code` and `challengeResponse`."""
    result: dict[str, object] = {
        "details": details,
        "timestamp": timestamp or _now(),
        "valid": valid,
    }
    result.update(extra or {})
    return {"data": data, "result": result}


def send(
    status: int, body: dict[str, object], headers: Mapping[str, str] | None = None
) -> Response:
    """An envelope as a JSON response; never cached."""
    response = Response(dumps(body), status_code=status, media_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_response(
    status: int, data: object, details: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A dev API response: the envelope, `valid` derived from the status."""
    return send(status, envelope(data, details, valid=200 <= status < 300), headers)


def ok(data: object, details: str, status: int = 200) -> Response:
    """A success in the dev API's envelope."""
    return send(status, envelope(data, details, valid=True))


def refusal_headers(refusal: Refusal) -> dict[str, str]:
    headers = dict(refusal.headers)
    if refusal.close_connection:
        headers["Connection"] = "close"
    return headers


def refusal_response(refusal: Refusal) -> Response:
    """A refusal in the dev API's envelope (`data` carries validation issues, if any)."""
    return json_response(refusal.status, refusal.data, refusal.details, refusal_headers(refusal))


@dataclass(frozen=True)
class Reply(Generic[T]):
    """What a mutation answers, fixed inside its transaction.

    The audit row records the full envelope the caller receives (webhooks-and-audit.md §6.1),
    so the service decides the answer, and the endpoint sends this very envelope. `value` is
    the domain object the answer shows.
    """

    value: T
    data: object
    details: str
    timestamp: str = field(default_factory=_now)

    def envelope(self) -> dict[str, object]:
        return envelope(self.data, self.details, valid=True, timestamp=self.timestamp)

    def response(self, status: int = 200) -> Response:
        return send(status, self.envelope())
