"""Declarative request schemas that report issues in the reference's wording: the one
validation vocabulary of both APIs.

dev-api-releases.md §1.4 fixes the dev API's messages and their order: fields in schema order;
a wrong type is a field's only issue; otherwise every failing rule in the order of the §1.4
message table; an array's length before its elements; an object's unknown keys after its
fields; cross-field rules last, and only when the object had no other issue. The client API
(client-api.md §3.1) words a string's issues after its field ("Challenge must be at least 10
characters"), with a `Wording` of its own, and answers the first issue only.
"""

from __future__ import annotations

import copy
import enum
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import TypeAlias
from urllib.parse import urlsplit

IssuePath: TypeAlias = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation problem; `path` holds object keys and array indexes, `()` is the root."""

    message: str
    path: IssuePath = ()

    def as_json(self) -> dict[str, object]:
        """The wire form: `{"message": ..., "path": [...]}`."""
        return {"message": self.message, "path": list(self.path)}


def json_type_name(value: object) -> str:
    """The JSON type name of a parsed JSON value (`bool` is `boolean`, never `number`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a parsed JSON value: {type(value).__name__}")


def _wrong_type(expected: str, value: object, path: IssuePath) -> Issue:
    return Issue(f"Expected {expected}, received {json_type_name(value)}", path)


_JS_WHITESPACE = re.compile("[\t-\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]")


def contains_js_whitespace(text: str) -> bool:
    """Whether `text` holds a character of JavaScript's `\\s` set (the "no spaces" rule)."""
    return _JS_WHITESPACE.search(text) is not None


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as the reference counts string lengths."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2})))?"
)


def parse_rfc3339(text: str) -> datetime | None:
    """Parse an RFC 3339 date-time or a `YYYY-MM-DD` date (midnight UTC) to an aware UTC datetime.

    Returns None for anything else, including impossible calendar values, leap second 60 and
    instants outside Python's datetime range. Fractions beyond microseconds are truncated.
    """
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    try:
        day = date.fromisoformat(match["date"])
        if match["hour"] is None:
            return datetime.combine(day, time(), UTC)
        fraction = (match["fraction"] or "")[:6].ljust(6, "0")
        clock = time(int(match["hour"]), int(match["minute"]), int(match["second"]), int(fraction))
        offset = timedelta(0)
        if match["utc"] is None:
            offset = timedelta(hours=int(match["off_hour"]), minutes=int(match["off_minute"]))
            if match["sign"] == "-":
                offset = -offset
        return datetime.combine(day, clock, timezone(offset)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _is_http_url(text: str) -> bool:
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text) or contains_js_whitespace(text):
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


class Schema(ABC):
    """A schema node: checks one value, appends its issues, returns the cleaned value."""

    @abstractmethod
    def validate(self, value: object, path: IssuePath, issues: list[Issue]) -> object:
        """Append the issues of `value` (located at `path`) to `issues`; return the cleaned value.

        The returned value is meaningful only when no issue was appended.
        """

    def missing_message(self) -> str:
        """The issue of a required member that is absent."""
        return "Required"


@dataclass(frozen=True)
class Wording:
    """How a string's issues read: the dev API's (zod's) messages."""

    def missing(self) -> str:
        return "Required"

    def wrong_type(self, value: object) -> str:
        return f"Expected string, received {json_type_name(value)}"

    def too_short(self, length: int) -> str:
        return f"String must contain at least {length} character(s)"

    def too_long(self, length: int) -> str:
        return f"String must contain at most {length} character(s)"

    def mismatch(self) -> str:
        return "Invalid"

    def spaces(self) -> str:
        return "Invalid"

    def not_uuid(self) -> str:
        return "Invalid uuid"


ZOD = Wording()


@dataclass(frozen=True)
class String(Schema):
    """A string. Rules run in this order: min, max, pattern, no_spaces, uuid, url, date.

    Lengths count UTF-16 code units. `pattern` must match the whole string. A valid `uuid`
    string is returned lowercased. A string holding U+0000 is no usable string (PostgreSQL
    text cannot store it): it counts as the wrong type.
    """

    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    no_spaces: bool = False
    uuid: bool = False
    url: bool = False
    date: bool = False
    wording: Wording = ZOD

    def missing_message(self) -> str:
        return self.wording.missing()

    def validate(self, value: object, path: IssuePath, issues: list[Issue]) -> object:
        if not isinstance(value, str) or "\x00" in value:
            issues.append(Issue(self.wording.wrong_type(value), path))
            return value
        words = self.wording
        failures: list[str] = []
        length = utf16_length(value)
        if self.min_length is not None and length < self.min_length:
            failures.append(words.too_short(self.min_length))
        if self.max_length is not None and length > self.max_length:
            failures.append(words.too_long(self.max_length))
        if self.pattern is not None and self.pattern.fullmatch(value) is None:
            failures.append(words.mismatch())
        if self.no_spaces and contains_js_whitespace(value):
            failures.append(words.spaces())
        if self.uuid and _UUID.fullmatch(value) is None:
            failures.append(words.not_uuid())
        if self.url and not _is_http_url(value):
            failures.append("Invalid url")
        if self.date and parse_rfc3339(value) is None:
            failures.append("Invalid date")
        issues.extend(Issue(message, path) for message in failures)
        return value.lower() if self.uuid and not failures else value


@dataclass(frozen=True)
class Boolean(Schema):
    """A JSON `true` or `false`."""

    def validate(self, value: object, path: IssuePath, issues: list[Issue]) -> object:
        if not isinstance(value, bool):
            issues.append(_wrong_type("boolean", value, path))
        return value


@dataclass(frozen=True)
class Integer(Schema):
    """A JSON number with an integral value (`5.0` counts, returned as `5`); `bool` is not one.

    Rules run in the §1.4 table order: minimum, maximum, then integrality.
    """

    minimum: int | None = None
    maximum: int | None = None

    def validate(self, value: object, path: IssuePath, issues: list[Issue]) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float):
            issues.append(_wrong_type("number", value, path))
            return value
        failures: list[str] = []
        if self.minimum is not None and value < self.minimum:
            failures.append(f"Number must be greater than or equal to {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            failures.append(f"Number must be less than or equal to {self.maximum}")
        if isinstance(value, float) and not value.is_integer():
            failures.append("Expected integer, received float")
        issues.extend(Issue(message, path) for message in failures)
        return int(value) if not failures else value


@dataclass(frozen=True)
class Enum(Schema):
    """One of a fixed set of strings, listed in schema order."""

    values: tuple[str, ...]

    def validate(self, value: object, path: IssuePath, issues: list[Issue]) -> object:
        expected = " | ".join(f"'{allowed}'" for allowed in self.values)
        if not isinstance(value, str):
            issues.append(_wrong_type(expected, value, path))
        elif value not in self.values:
            issues.append(
                Issue(f"Invalid enum value. Expected {expected}, received '{value}'", path)
            )
        return value


@dataclass(frozen=True)
class Array(Schema):
    """A JSON array whose elements all match `item`; the length issue precedes element issues."""

    item: Schema
    max_length: int | None = None

    def validate(self, value: object, path: IssuePath, issues: list[Issue]) -> object:
        if not isinstance(value, list):
            issues.append(_wrong_type("array", value, path))
            return value
        if self.max_length is not None and len(value) > self.max_length:
            issues.append(Issue(f"Array must contain at most {self.max_length} element(s)", path))
        return [
            self.item.validate(element, (*path, index), issues)
            for index, element in enumerate(value)
        ]


class _Missing(enum.Enum):
    MISSING = enum.auto()


MISSING = _Missing.MISSING


@dataclass(frozen=True)
class Field:
    """An object member. An absent optional field takes a deep copy of `default`, if any."""

    schema: Schema
    required: bool = True
    default: object = MISSING
    nullable: bool = False

    def __post_init__(self) -> None:
        if self.required and self.default is not MISSING:
            raise ValueError("a required field cannot have a default")


# Checks a cleaned object; the returned issue's path is relative to the object.
CrossFieldRule: TypeAlias = Callable[[dict[str, object]], Issue | None]


@dataclass(frozen=True)
class Object(Schema):
    """A strict JSON object: unknown keys are reported (listed, or with
    `unknown_keys_message`), never dropped."""

    fields: Mapping[str, Field]
    cross_field_rules: tuple[CrossFieldRule, ...] = ()
    unknown_keys_message: str | None = None

    def validate(self, value: object, path: IssuePath, issues: list[Issue]) -> object:
        if not isinstance(value, dict):
            issues.append(_wrong_type("object", value, path))
            return value
        issues_before = len(issues)
        cleaned: dict[str, object] = {}
        for name, member in self.fields.items():
            if name in value:
                given = value[name]
                if given is None and member.nullable:
                    cleaned[name] = None
                else:
                    cleaned[name] = member.schema.validate(given, (*path, name), issues)
            elif member.required:
                issues.append(Issue(member.schema.missing_message(), (*path, name)))
            elif member.default is not MISSING:
                cleaned[name] = copy.deepcopy(member.default)
        unknown = [key for key in value if key not in self.fields]
        if unknown:
            listed = ", ".join(f"'{key}'" for key in unknown)
            message = self.unknown_keys_message or f"Unrecognized key(s) in object: {listed}"
            issues.append(Issue(message, path))
        if len(issues) == issues_before:
            for rule in self.cross_field_rules:
                issue = rule(cleaned)
                if issue is not None:
                    issues.append(Issue(issue.message, (*path, *issue.path)))
        return cleaned


def validate(schema: Object, value: object) -> tuple[dict[str, object] | None, list[Issue]]:
    """Validate a parsed JSON body: the cleaned object (None if any issue) and every issue."""
    issues: list[Issue] = []
    cleaned = schema.validate(value, (), issues)
    if issues or not isinstance(cleaned, dict):
        return None, issues
    return cleaned, issues
