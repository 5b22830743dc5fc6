"""Refusals of the client API (client-api.md §3.2, §4.3): each carries its `result.code`.

Refusals shared with the dev API (`TeamNotFound`, `LicenseNotFound`, `ProductNotFound`,
`ReleaseNotFound`, `StoredFileMissing`, `ServiceUnavailable`) carry their client code too and are
raised from their own domains.
"""

from __future__ import annotations

from releasegate.kit.errors import Forbidden, Invalid, NotFound, RateLimited, TooLarge


class BadRequest(Invalid):
    """A malformed request; `details` names the first rule it broke."""

    code = "BAD_REQUEST"


class InvalidJsonPayload(BadRequest):
    text = "Invalid JSON payload"


class InvalidPayload(BadRequest):
    text = "Invalid payload"


class InvalidTeamUuid(BadRequest):
    text = "Invalid team UUID"


class ClientBodyTooLarge(TooLarge):
    text = "Request body too large"
    code = "BAD_REQUEST"


class ClientRateLimited(RateLimited):
    text = "Rate limited"
    code = "RATE_LIMIT"


class InvalidSessionKey(Invalid):
    text = "Invalid session key"
    code = "INVALID_SESSION_KEY"


class ClassloaderNotAllowed(Forbidden):
    text = "Using classloader requires a higher plan. Either upgrade or contact support."
    code = "FORBIDDEN"


class CustomerNotFound(NotFound):
    text = "Customer not found"
    code = "CUSTOMER_NOT_FOUND"


class LicenseSuspended(Forbidden):
    text = "License suspended"
    code = "LICENSE_SUSPENDED"


class LicenseExpired(Forbidden):
    text = "License expired"
    code = "LICENSE_EXPIRED"


class IpLimitReached(Forbidden):
    text = "IP limit reached"
    code = "IP_LIMIT_REACHED"


class HwidLimitReached(Forbidden):
    text = "HWID limit reached"
    code = "HWID_LIMIT_REACHED"


class NoSuchRelease(NotFound):
    """Release selection found nothing (client-api.md §3.3, §4.4)."""

    code = "RELEASE_NOT_FOUND"


class UnknownBranch(NoSuchRelease):
    text = "Branch not found"


class EmptyBranch(NoSuchRelease):
    text = "No releases found for this branch"


class VersionNotFound(NoSuchRelease):
    text = "Release not found with specified version"


class ReleaseArchived(Forbidden):
    text = "Release is archived"
    code = "RELEASE_ARCHIVED"


class ReleaseIsDraft(Forbidden):
    text = "Release is draft"
    code = "RELEASE_DRAFT"


class NoAccessToRelease(Forbidden):
    text = "License does not have access to this release"
    code = "NO_ACCESS_TO_RELEASE"
