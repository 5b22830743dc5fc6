"""Strict RFC 8259 JSON parsing of request bytes (dev-api-releases.md §1.4, §1.5 J2)."""

from __future__ import annotations

import json


class InvalidJSON(ValueError):
    """The bytes are not UTF-8 or not one strict JSON value."""


def _reject_constant(name: str) -> object:
    raise InvalidJSON(f"{name} is not JSON")


def parse_strict_json(raw: bytes) -> object:
    """Parse `raw` as one RFC 8259 JSON value and return it.

    Rejected with `InvalidJSON`: invalid UTF-8, a leading byte order mark, empty or
    whitespace-only input, `NaN`/`Infinity`/`-Infinity`, and strings or keys holding an
    unpaired surrogate escape or U+0000 (such text cannot be stored or re-encoded). Duplicate keys:
    the last occurrence wins. Numbers come back as Python parses them (`int` or `float`).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJSON("body is not UTF-8") from exc
    try:
        # json.loads rejects a str that starts with a byte order mark, as JSON.parse does.
        value: object = json.loads(text, parse_constant=_reject_constant)
    except InvalidJSON:
        raise
    # RecursionError: nesting too deep for the parser; ValueError covers JSONDecodeError and
    # integers beyond Python's digit limit.
    except (ValueError, RecursionError) as exc:
        raise InvalidJSON("not valid JSON") from exc
    _reject_lone_surrogates(value)
    return value


def _reject_lone_surrogates(value: object) -> None:
    # Iterative: a value nested almost to the parser's limit must not overflow the stack here.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _require_encodable(item)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _require_encodable(key)
                pending.append(child)


def _require_encodable(text: str) -> None:
    # U+0000 cannot be stored in PostgreSQL text; refusing it here keeps both profiles alike.
    if "\x00" in text:
        raise InvalidJSON("NUL character in string")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidJSON("unpaired surrogate in string") from exc
