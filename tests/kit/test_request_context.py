"""Access-log query redaction (security-and-limits.md §6) and request ids
(dev-api-releases.md §1.1)."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl

import pytest

from releasegate.kit.request_context import redacted_query, request_id_for

LICENSE_KEY = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"


def logged_pairs(query: bytes) -> list[tuple[str, str]]:
    return parse_qsl(redacted_query(query), keep_blank_values=True)


@pytest.mark.parametrize(
    "name",
    ["licenseKey", "sessionKey", "challenge", "hardwareIdentifier", "deviceIdentifier"],
)
def test_secret_parameter_value_is_redacted(name: str) -> None:
    assert logged_pairs(f"{name}=s3cr3tvalue".encode()) == [(name, "[redacted]")]


@pytest.mark.parametrize(
    "name",
    ["licenseKey", "sessionKey", "challenge", "hardwareIdentifier", "deviceIdentifier"],
)
def test_secret_parameter_value_never_appears_in_output(name: str) -> None:
    assert "s3cr3tvalue" not in redacted_query(f"{name}=s3cr3tvalue".encode())


def test_other_parameters_keep_their_values() -> None:
    query = b"productId=0b5c7a52&version=1.2.3&branch=main"
    assert logged_pairs(query) == [
        ("productId", "0b5c7a52"),
        ("version", "1.2.3"),
        ("branch", "main"),
    ]


def test_mixed_query_redacts_only_secrets_and_keeps_order() -> None:
    query = f"productId=p1&licenseKey={LICENSE_KEY}&version=1.0&sessionKey=abcd".encode()
    assert logged_pairs(query) == [
        ("productId", "p1"),
        ("licenseKey", "[redacted]"),
        ("version", "1.0"),
        ("sessionKey", "[redacted]"),
    ]


def test_license_key_shaped_value_under_other_name_is_redacted() -> None:
    assert logged_pairs(f"q={LICENSE_KEY}".encode()) == [("q", "[redacted]")]


def test_lowercase_license_key_shaped_value_is_redacted() -> None:
    assert logged_pairs(f"q={LICENSE_KEY.lower()}".encode()) == [("q", "[redacted]")]


def test_license_key_embedded_in_longer_value_is_redacted() -> None:
    assert LICENSE_KEY not in redacted_query(f"note=key-{LICENSE_KEY}-end".encode())


def test_percent_encoded_license_key_is_redacted() -> None:
    encoded = LICENSE_KEY.replace("-", "%2D")
    assert logged_pairs(f"q={encoded}".encode()) == [("q", "[redacted]")]


def test_repeated_secret_parameter_is_redacted_every_time() -> None:
    assert logged_pairs(b"challenge=a&challenge=b") == [
        ("challenge", "[redacted]"),
        ("challenge", "[redacted]"),
    ]


def test_blank_values_are_kept() -> None:
    assert logged_pairs(b"version=&branch=main") == [("version", ""), ("branch", "main")]


def test_empty_query_is_empty() -> None:
    assert redacted_query(b"") == ""


def test_license_key_as_bare_parameter_name_is_not_logged() -> None:
    """§6: a license key never reaches the logs, even sent as a value-less parameter."""
    assert LICENSE_KEY not in redacted_query(LICENSE_KEY.encode())


def test_valid_request_id_is_echoed() -> None:
    assert request_id_for([(b"x-request-id", b"abc-123_X.y")]) == "abc-123_X.y"


def test_request_id_of_128_characters_is_echoed() -> None:
    value = "a" * 128
    assert request_id_for([(b"x-request-id", value.encode())]) == value


def test_request_id_is_found_among_other_headers() -> None:
    headers = [(b"host", b"example"), (b"x-request-id", b"req-1"), (b"accept", b"*/*")]
    assert request_id_for(headers) == "req-1"


def _is_generated(value: str) -> bool:
    return str(uuid.UUID(value)) == value


def test_missing_request_id_generates_uuid() -> None:
    assert _is_generated(request_id_for([(b"host", b"example")]))


def test_generated_request_ids_differ() -> None:
    assert request_id_for([]) != request_id_for([])


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"a" * 129,
        b"has space",
        b"semi;colon",
        b"slash/",
        b"caf\xc3\xa9",
        b"abc\n",
        b"abc\r\nx-injected: 1",
    ],
    ids=["empty", "129-chars", "space", "semicolon", "slash", "non-ascii", "lf", "crlf"],
)
def test_invalid_request_id_is_replaced_by_uuid(value: bytes) -> None:
    result = request_id_for([(b"x-request-id", value)])
    assert result != value.decode("latin-1")
    assert _is_generated(result)
