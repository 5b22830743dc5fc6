"""Client request fields: verify/heartbeat bodies and the classloader query (client-api.md
§3.1, §4.2), in the one validation vocabulary (kit/validation) with the client's wording.

A refusal reports only the first failing rule of the first failing field, in the endpoint's
schema order; a body's unknown keys come after every field.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from releasegate.client.errors import BadRequest, InvalidPayload
from releasegate.kit.ids import parse_uuid
from releasegate.kit.validation import Field, Object, String, Wording, validate

LICENSE_KEY = re.compile(r"[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}")
# The reference's branch pattern, `\s` being JavaScript's whitespace set; it needs 3 characters
# although the length rule says 2 (kept as is).
_BRANCH = re.compile(
    "[a-zA-Z0-9\t-\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\\-_]{3,255}"
)


@dataclass(frozen=True)
class FieldWording(Wording):
    """`<label> must be ...`; a missing required field reads as the wrong type."""

    label: str
    mismatch_message: str = ""

    def missing(self) -> str:
        return f"{self.label} must be a string"

    def wrong_type(self, value: object) -> str:
        return f"{self.label} must be a string"

    def too_short(self, length: int) -> str:
        return f"{self.label} must be at least {length} characters"

    def too_long(self, length: int) -> str:
        return f"{self.label} must be less than {length} characters"

    def mismatch(self) -> str:
        return self.mismatch_message

    def spaces(self) -> str:
        return f"{self.label} must not contain spaces"

    def not_uuid(self) -> str:
        return f"{self.label} must be a valid UUID"


def _text(label: str, length: tuple[int, int], *, no_spaces: bool = True) -> String:
    low, high = length
    return String(min_length=low, max_length=high, no_spaces=no_spaces, wording=FieldWording(label))


def _uuid(label: str) -> String:
    return String(uuid=True, wording=FieldWording(label))


_LICENSE_KEY = String(
    pattern=LICENSE_KEY,
    wording=FieldWording(
        "License key", "License key must be in the format of XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
    ),
)
_BRANCH_NAME = String(
    min_length=2,
    max_length=255,
    pattern=_BRANCH,
    wording=FieldWording(
        "Branch name", "Branch name must contain only letters, numbers, dashes, and underscores"
    ),
)
_HWID = _text("Hardware identifier", (10, 1000))


def _optional(schema: String) -> Field:
    return Field(schema, required=False)


VERIFY_BODY = Object(
    {
        "licenseKey": Field(_LICENSE_KEY),
        "customerId": _optional(_uuid("Customer UUID")),
        "productId": _optional(_uuid("Product UUID")),
        "challenge": _optional(_text("Challenge", (10, 1000))),
        "version": _optional(_text("Version", (3, 255))),
        "branch": _optional(_BRANCH_NAME),
        "hardwareIdentifier": _optional(_HWID),
    },
    unknown_keys_message=InvalidPayload.text,
)
HEARTBEAT_BODY = Object(
    {
        "licenseKey": Field(_LICENSE_KEY),
        "hardwareIdentifier": Field(_HWID),
        "customerId": _optional(_uuid("Customer UUID")),
        "productId": _optional(_uuid("Product UUID")),
        "challenge": _optional(_text("Challenge", (10, 1000))),
        "version": _optional(_text("Version", (3, 255))),
        "branch": _optional(_BRANCH_NAME),
    },
    unknown_keys_message=InvalidPayload.text,
)
CLASSLOADER_QUERY = Object(
    {
        "licenseKey": Field(_LICENSE_KEY),
        "productId": Field(_uuid("Product UUID")),
        "sessionKey": Field(_text("Session key", (10, 1000))),
        "hardwareIdentifier": Field(_HWID),
        "version": _optional(_text("Version", (3, 255))),
        "branch": _optional(_BRANCH_NAME),
        "customerId": _optional(_uuid("Customer UUID")),
    }
)


@dataclass(frozen=True)
class ClientRequest:
    """The validated fields of a verify, heartbeat or classloader request."""

    license_key: str
    customer_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    challenge: str | None = None
    version: str | None = None
    branch: str | None = None
    hardware_identifier: str | None = None
    session_key: str | None = None


def _falsy(value: object) -> bool:
    """JavaScript falsiness of a parsed JSON value (`null`, `false`, `0`, `""`) or absence."""
    return (
        value is None
        or value is False
        or value == ""
        or (isinstance(value, int | float) and not isinstance(value, bool) and value == 0)
    )


def _validated(schema: Object, values: Mapping[str, object]) -> ClientRequest:
    """The first issue, if any, is the refusal."""
    cleaned, issues = validate(schema, dict(values))
    if issues or cleaned is None:
        raise BadRequest(issues[0].message)

    def text(name: str) -> str | None:
        value = cleaned.get(name)
        return value if isinstance(value, str) else None

    return ClientRequest(
        license_key=str(cleaned["licenseKey"]),
        customer_id=parse_uuid(cleaned.get("customerId")),
        product_id=parse_uuid(cleaned.get("productId")),
        challenge=text("challenge"),
        version=text("version"),
        branch=text("branch"),
        hardware_identifier=text("hardwareIdentifier"),
        session_key=text("sessionKey"),
    )


def parse_body(body: dict[str, object], schema: Object) -> ClientRequest:
    """A verify or heartbeat body: legacy `deviceIdentifier`, fields, then unknown keys."""
    values = dict(body)
    has_legacy = "deviceIdentifier" in values
    legacy = values.pop("deviceIdentifier", None)
    if _falsy(values.get("hardwareIdentifier")):
        values.pop("hardwareIdentifier", None)
        if has_legacy:
            values["hardwareIdentifier"] = legacy
    return _validated(schema, values)


def parse_query(params: Mapping[str, str]) -> ClientRequest:
    """The classloader query: empty is absent, unknown parameters are ignored (§4.2)."""
    values: dict[str, object] = {
        name: params[name] for name in CLASSLOADER_QUERY.fields if params.get(name)
    }
    if "hardwareIdentifier" not in values and params.get("deviceIdentifier"):
        values["hardwareIdentifier"] = params["deviceIdentifier"]
    return _validated(CLASSLOADER_QUERY, values)
