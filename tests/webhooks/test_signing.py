"""Signatures and headers of a delivery attempt (webhooks-and-audit.md §4), checked against
implementations written independently of releasegate's: hmac/hashlib recomputed here, and the
`standardwebhooks` package's verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime

import pytest

from releasegate.webhooks.secrets import generate_secret, whsec_form
from releasegate.webhooks.signing import (
    delivery_headers,
    epoch_ms,
    lukittu_signature,
    standard_signature,
)

SECRET = "0123456789abcdef" * 4
BODY = '{"id":"r1","version":"1.0.0","name":"Zürich"}'.encode()
EVENT_ID = uuid.UUID("3f2b8c1e-6d4a-4e2b-9c1d-2a3b4c5d6e7f")
SENT_AT = datetime(2025, 11, 22, 18, 46, 42, 123000, tzinfo=UTC)  # 1763837202.123


def headers(**changes: object) -> dict[str, str]:
    arguments: dict[str, object] = {
        "secret": SECRET,
        "event_id": EVENT_ID,
        "event_type": "RELEASE_CREATED",
        "attempt": 3,
        "body": BODY,
        "user_agent": "Lukittu-Webhook/1.0",
        "sent_at": SENT_AT,
        **changes,
    }
    return delivery_headers(**arguments)  # type: ignore[arg-type]


def test_lukittu_signature_is_hex_hmac_of_timestamp_dot_body_keyed_by_the_secret_text() -> None:
    expected = hmac.new(SECRET.encode(), b"1763837202123." + BODY, hashlib.sha256).hexdigest()
    assert lukittu_signature(SECRET, 1763837202123, BODY) == expected
    assert len(expected) == 64
    assert expected == expected.lower()


def test_the_secret_is_not_hex_decoded() -> None:
    decoded_key = hmac.new(bytes.fromhex(SECRET), b"1." + BODY, hashlib.sha256).hexdigest()
    assert lukittu_signature(SECRET, 1, BODY) != decoded_key


def test_standard_signature_is_v1_base64_hmac_of_id_timestamp_body() -> None:
    digest = hmac.new(
        SECRET.encode(), f"{EVENT_ID}.1763837202.".encode() + BODY, hashlib.sha256
    ).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    assert standard_signature(SECRET, str(EVENT_ID), 1763837202, BODY) == expected


def test_headers_of_one_attempt_are_the_section_4_set_in_order() -> None:
    sent = headers()
    assert list(sent) == [
        "Content-Type",
        "User-Agent",
        "X-Lukittu-Signature",
        "X-Lukittu-Timestamp",
        "X-Lukittu-Event",
        "X-Releasegate-Event-Id",
        "X-Releasegate-Attempt",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    ]
    assert sent["Content-Type"] == "application/json"
    assert sent["User-Agent"] == "Lukittu-Webhook/1.0"
    assert sent["X-Lukittu-Timestamp"] == "1763837202123"
    assert sent["webhook-timestamp"] == "1763837202"
    assert sent["X-Lukittu-Event"] == "RELEASE_CREATED"
    assert sent["X-Releasegate-Event-Id"] == sent["webhook-id"] == str(EVENT_ID)
    assert sent["X-Releasegate-Attempt"] == "3"


def test_headers_signatures_verify_independently() -> None:
    sent = headers()
    lukittu = hmac.new(
        SECRET.encode(), sent["X-Lukittu-Timestamp"].encode() + b"." + BODY, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(sent["X-Lukittu-Signature"], lukittu)
    standard = hmac.new(
        SECRET.encode(),
        f"{sent['webhook-id']}.{sent['webhook-timestamp']}.".encode() + BODY,
        hashlib.sha256,
    ).digest()
    assert sent["webhook-signature"] == "v1," + base64.b64encode(standard).decode()


def test_user_agent_comes_from_the_caller() -> None:
    assert headers(user_agent="releasegate-hooks/2")["User-Agent"] == "releasegate-hooks/2"


def test_epoch_ms_is_exact() -> None:
    assert epoch_ms(datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)) == 1
    assert epoch_ms(SENT_AT) == 1763837202123


def test_standard_webhooks_library_verifies_with_the_whsec_form_of_the_secret() -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    secret = generate_secret()
    sent = headers(secret=secret, sent_at=datetime.now(UTC))
    verified = standardwebhooks.Webhook(whsec_form(secret)).verify(BODY, sent)
    assert verified == {"id": "r1", "version": "1.0.0", "name": "Zürich"}


def test_standard_webhooks_library_rejects_a_changed_body() -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    secret = generate_secret()
    sent = headers(secret=secret, sent_at=datetime.now(UTC))
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(whsec_form(secret)).verify(BODY + b" ", sent)
