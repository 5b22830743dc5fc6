"""Refusals of the release endpoints (dev-api-releases.md §2–§8)."""

from __future__ import annotations

from releasegate.kit.errors import Conflict, Forbidden, Invalid, NotFound


class ReleaseNotFound(NotFound):
    text = "Release not found"
    code = "RELEASE_NOT_FOUND"


class ReleaseHasNoFile(NotFound):
    text = "Release has no file"


class LicensesNotFound(NotFound):
    text = "One or more license IDs not found"


class VersionTaken(Conflict):
    text = "A release with this version already exists for this product and branch"


class ConcurrentUpdate(Conflict):
    text = "Conflicting concurrent update, please retry"


class MaxReleasesReached(Forbidden):
    text = "Max releases per product reached"


class RestrictedCannotBeLatest(Invalid):
    text = "Cannot set as latest release when license IDs are provided"


class NotPublishedCannotBeLatest(Invalid):
    text = "Cannot set as latest release when status is not PUBLISHED"


class RestrictedReleaseCannotBeLatest(Invalid):
    text = "Cannot set as latest release when it has license restrictions"


class InvalidBranchId(Invalid):
    text = "Invalid branchId"
