"""Client request fields: verify/heartbeat bodies and classloader query (client-api.md §3.1, §4.2).

Each field is a string with rules checked in order; a refusal reports only the first failing rule
of the first failing field, in the endpoint's schema order.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from releasegate.client.errors import BadRequest
from releasegate.kit.ids import parse_uuid
from releasegate.kit.validation import contains_js_whitespace, utf16_length

LICENSE_KEY = re.compile(r"[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}")
# The reference's branch pattern, `\s` being JavaScript's whitespace set; it needs 3 characters
# although the length rule says 2 (kept as is).
_BRANCH = re.compile(
    "[a-zA-Z0-9\t-\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\\-_]{3,255}"
)

Check = Callable[[str], bool]


@dataclass(frozen=True)
class Rule:
    passes: Check
    message: str


@dataclass(frozen=True)
class FieldRules:
    name: str
    type_message: str
    rules: tuple[Rule, ...]
    required: bool = False

    def first_issue(self, value: object) -> str | None:
        # A NUL can't be stored (PostgreSQL text); such a value is no usable string. JSON bodies
        # never get here with one (strict parsing), query values can.
        if not isinstance(value, str) or "\x00" in value:
            return self.type_message
        return next((rule.message for rule in self.rules if not rule.passes(value)), None)


def _min(length: int, label: str) -> Rule:
    message = f"{label} must be at least {length} characters"
    return Rule(lambda v: utf16_length(v) >= length, message)


def _max(length: int, label: str) -> Rule:
    message = f"{label} must be less than {length} characters"
    return Rule(lambda v: utf16_length(v) <= length, message)


def _no_spaces(label: str) -> Rule:
    return Rule(lambda v: not contains_js_whitespace(v), f"{label} must not contain spaces")


def _uuid_field(name: str, label: str, *, required: bool = False) -> FieldRules:
    rule = Rule(lambda v: parse_uuid(v) is not None, f"{label} must be a valid UUID")
    return FieldRules(name, f"{label} must be a string", (rule,), required)


LICENSE_KEY_FIELD = FieldRules(
    "licenseKey",
    "License key must be a string",
    (
        Rule(
            lambda v: LICENSE_KEY.fullmatch(v) is not None,
            "License key must be in the format of XXXXX-XXXXX-XXXXX-XXXXX-XXXXX",
        ),
    ),
    required=True,
)
CUSTOMER_ID = _uuid_field("customerId", "Customer UUID")
PRODUCT_ID = _uuid_field("productId", "Product UUID")
CHALLENGE = FieldRules(
    "challenge",
    "Challenge must be a string",
    (_min(10, "Challenge"), _max(1000, "Challenge"), _no_spaces("Challenge")),
)
VERSION = FieldRules(
    "version",
    "Version must be a string",
    (_min(3, "Version"), _max(255, "Version"), _no_spaces("Version")),
)
BRANCH = FieldRules(
    "branch",
    "Branch name must be a string",
    (
        _min(2, "Branch name"),
        _max(255, "Branch name"),
        Rule(
            lambda v: _BRANCH.fullmatch(v) is not None,
            "Branch name must contain only letters, numbers, dashes, and underscores",
        ),
    ),
)
_HWID_RULES = (
    _min(10, "Hardware identifier"),
    _max(1000, "Hardware identifier"),
    _no_spaces("Hardware identifier"),
)
HARDWARE_IDENTIFIER = FieldRules(
    "hardwareIdentifier", "Hardware identifier must be a string", _HWID_RULES
)
REQUIRED_HARDWARE_IDENTIFIER = FieldRules(
    "hardwareIdentifier", "Hardware identifier must be a string", _HWID_RULES, required=True
)
SESSION_KEY = FieldRules(
    "sessionKey",
    "Session key must be a string",
    (_min(10, "Session key"), _max(1000, "Session key"), _no_spaces("Session key")),
    required=True,
)

VERIFY_FIELDS = (
    LICENSE_KEY_FIELD,
    CUSTOMER_ID,
    PRODUCT_ID,
    CHALLENGE,
    VERSION,
    BRANCH,
    HARDWARE_IDENTIFIER,
)
HEARTBEAT_FIELDS = (
    LICENSE_KEY_FIELD,
    REQUIRED_HARDWARE_IDENTIFIER,
    CUSTOMER_ID,
    PRODUCT_ID,
    CHALLENGE,
    VERSION,
    BRANCH,
)
CLASSLOADER_FIELDS = (
    LICENSE_KEY_FIELD,
    replace(PRODUCT_ID, required=True),
    SESSION_KEY,
    REQUIRED_HARDWARE_IDENTIFIER,
    VERSION,
    BRANCH,
    CUSTOMER_ID,
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


def _validated(fields: tuple[FieldRules, ...], values: Mapping[str, object]) -> ClientRequest:
    for field in fields:
        if field.name not in values:
            if field.required:
                raise BadRequest(field.type_message)
            continue
        issue = field.first_issue(values[field.name])
        if issue is not None:
            raise BadRequest(issue)
    return _request_of(values)


def _request_of(values: Mapping[str, object]) -> ClientRequest:
    def text(name: str) -> str | None:
        value = values.get(name)
        return value if isinstance(value, str) else None

    def ident(name: str) -> uuid.UUID | None:
        return parse_uuid(values.get(name))

    return ClientRequest(
        license_key=str(values["licenseKey"]),
        customer_id=ident("customerId"),
        product_id=ident("productId"),
        challenge=text("challenge"),
        version=text("version"),
        branch=text("branch"),
        hardware_identifier=text("hardwareIdentifier"),
        session_key=text("sessionKey"),
    )


def parse_body(body: dict[str, object], fields: tuple[FieldRules, ...]) -> ClientRequest:
    """A verify or heartbeat body: legacy `deviceIdentifier`, fields, then unknown keys."""
    values = dict(body)
    has_legacy = "deviceIdentifier" in values
    legacy = values.pop("deviceIdentifier", None)
    if _falsy(values.get("hardwareIdentifier")):
        values.pop("hardwareIdentifier", None)
        if has_legacy:
            values["hardwareIdentifier"] = legacy
    request = _validated(fields, values)
    known = {field.name for field in fields}
    if any(key not in known for key in values):
        raise BadRequest("Invalid payload")
    return request


def parse_query(params: Mapping[str, str]) -> ClientRequest:
    """The classloader query: empty is absent, unknown parameters are ignored (§4.2)."""
    values: dict[str, object] = {
        field.name: params[field.name] for field in CLASSLOADER_FIELDS if params.get(field.name)
    }
    if "hardwareIdentifier" not in values and params.get("deviceIdentifier"):
        values["hardwareIdentifier"] = params["deviceIdentifier"]
    return _validated(CLASSLOADER_FIELDS, values)
