"""Refusals of the license endpoints (dev-api-releases.md §11)."""

from __future__ import annotations

from releasegate.kit.errors import Conflict, Forbidden, Invalid, NotFound


class LicenseNotFound(NotFound):
    text = "License not found"
    code = "LICENSE_NOT_FOUND"


class MaxLicensesReached(Forbidden):
    text = "Max licenses reached"


class InvalidProductIds(Invalid):
    text = "Invalid productIds"


class InvalidCustomerIds(Invalid):
    text = "Invalid customerIds"


class EmailDeliveryUnsupported(Invalid):
    text = "Email delivery is not supported"


class LicenseKeyExists(Invalid):
    text = "License key already exists"


class LastAllowedLicense(Conflict):
    text = "License is the last allowed license of one or more releases"


class InvalidForgotten(Invalid):
    text = "Invalid forgotten value, must be boolean"


class DeviceNotFound(NotFound):
    """`Hardware identifier not found` or `IP address not found`."""

    def __init__(self, noun: str) -> None:
        super().__init__(f"{noun} not found")
