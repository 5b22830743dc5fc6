"""The one error hierarchy: a refusal carries its HTTP status and `details`.

Raised anywhere below an endpoint and rendered at the edge, by the dev API envelope or by the
client API envelope (which adds `code`). Each domain names its refusals once, in its own
`errors.py`, as subclasses with a fixed `text` (`ProductNotFound`, `VersionTaken`...), so a
`details` string is spelled in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class Refusal(Exception):
    """A request the server will not carry out; nothing it asked for was changed."""

    status: ClassVar[int] = 500
    text: ClassVar[str] = "Internal server error"
    # The client API's `result.code` (a RequestStatus name); None lets the client edge choose.
    code: ClassVar[str | None] = None
    # Refused before the body was read: answer with `Connection: close`.
    closes_connection: ClassVar[bool] = False

    def __init__(
        self,
        details: str | None = None,
        *,
        data: object = None,
        headers: Mapping[str, str] | None = None,
        close_connection: bool | None = None,
    ) -> None:
        self.details = self.text if details is None else details
        super().__init__(self.details)
        self.data = data
        self.headers = dict(headers or {})
        self.close_connection = (
            self.closes_connection if close_connection is None else close_connection
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.details!r})"


class Invalid(Refusal):
    status = 400
    text = "Invalid request"


class Unauthorized(Refusal):
    status = 401
    text = "Unauthorized"


class Forbidden(Refusal):
    status = 403
    text = "Forbidden"


class NotFound(Refusal):
    status = 404
    text = "Not found"


class RequestTimeout(Refusal):
    status = 408
    text = "Request timeout"


class Conflict(Refusal):
    status = 409
    text = "Conflict"


class TooLarge(Refusal):
    status = 413
    text = "Request body too large"


class UnsupportedMediaType(Refusal):
    status = 415
    text = "Unsupported media type"


class RangeNotSatisfiable(Refusal):
    status = 416
    text = "Range not satisfiable"


class RateLimited(Refusal):
    status = 429
    text = "Too many requests"

    def __init__(self, retry_after: int, details: str | None = None) -> None:
        super().__init__(details, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class Unavailable(Refusal):
    status = 503
    text = "Service unavailable"
