"""The client API's envelope: `result` carries `code` (a RequestStatus) on every response."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from starlette.responses import Response

from releasegate.kit.envelope import dumps, envelope

CLIENT_PATH_PREFIX = "/api/v1/client/"


class RequestStatus(enum.StrEnum):
    """The reference's enum, unchanged: clients map `code` onto a fixed set (client-api.md §1)."""

    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    BAD_REQUEST = "BAD_REQUEST"
    LICENSE_NOT_FOUND = "LICENSE_NOT_FOUND"
    VALID = "VALID"
    IP_LIMIT_REACHED = "IP_LIMIT_REACHED"
    HWID_LIMIT_REACHED = "HWID_LIMIT_REACHED"
    PRODUCT_NOT_FOUND = "PRODUCT_NOT_FOUND"
    CUSTOMER_NOT_FOUND = "CUSTOMER_NOT_FOUND"
    LICENSE_EXPIRED = "LICENSE_EXPIRED"
    LICENSE_SUSPENDED = "LICENSE_SUSPENDED"
    TEAM_NOT_FOUND = "TEAM_NOT_FOUND"
    RATE_LIMIT = "RATE_LIMIT"
    HARDWARE_IDENTIFIER_BLACKLISTED = "HARDWARE_IDENTIFIER_BLACKLISTED"
    COUNTRY_BLACKLISTED = "COUNTRY_BLACKLISTED"
    IP_BLACKLISTED = "IP_BLACKLISTED"
    RELEASE_NOT_FOUND = "RELEASE_NOT_FOUND"
    INVALID_SESSION_KEY = "INVALID_SESSION_KEY"
    NO_ACCESS_TO_RELEASE = "NO_ACCESS_TO_RELEASE"
    RELEASE_ARCHIVED = "RELEASE_ARCHIVED"
    RELEASE_DRAFT = "RELEASE_DRAFT"
    FORBIDDEN = "FORBIDDEN"


class ClientError(Exception):
    """A refused client request: rendered as the envelope with `valid: false`, `data: null`."""

    def __init__(
        self,
        status: int,
        code: RequestStatus,
        details: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(details)
        self.status = status
        self.code = code
        self.details = details
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"ClientError({self.status}, {self.code}, {self.details!r})"


def client_response(
    status: int,
    code: RequestStatus,
    details: str,
    *,
    data: object = None,
    challenge_response: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The envelope; `challengeResponse` is present only when given (absent, never null)."""
    extra = {"code": code.value}
    if challenge_response is not None:
        extra["challengeResponse"] = challenge_response
    body = envelope(data, details, valid=code is RequestStatus.VALID, extra=extra)
    response = Response(dumps(body), status_code=status, media_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: ClientError) -> Response:
    return client_response(error.status, error.code, error.details, headers=error.headers)


def bad_request(details: str) -> ClientError:
    return ClientError(400, RequestStatus.BAD_REQUEST, details)


def rate_limited(retry_after: int) -> ClientError:
    return ClientError(
        429, RequestStatus.RATE_LIMIT, "Rate limited", headers={"Retry-After": str(retry_after)}
    )


def service_unavailable() -> ClientError:
    return ClientError(503, RequestStatus.INTERNAL_SERVER_ERROR, "Service unavailable")
