"""The client API's envelope: `result` carries `code` (a RequestStatus) on every response."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from starlette.responses import Response

from releasegate.kit.envelope import envelope, refusal_headers, send
from releasegate.kit.errors import Refusal

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
    return send(status, body, headers)


def code_of(refusal: Refusal) -> RequestStatus:
    """The refusal's own code; otherwise BAD_REQUEST for a 4xx, INTERNAL_SERVER_ERROR for 5xx."""
    if refusal.code is not None:
        return RequestStatus(refusal.code)
    if refusal.status < 500:
        return RequestStatus.BAD_REQUEST
    return RequestStatus.INTERNAL_SERVER_ERROR


def refusal_response(refusal: Refusal) -> Response:
    """A refusal in the client envelope: `data` null, `valid` false, `code` set."""
    return client_response(
        refusal.status, code_of(refusal), refusal.details, headers=refusal_headers(refusal)
    )
