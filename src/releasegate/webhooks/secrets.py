"""Webhook signing secrets: generated, shown once, stored encrypted (webhooks-and-audit.md §4)."""

from __future__ import annotations

import base64
import secrets
import uuid

from releasegate.kit.keyring import Keyring


def generate_secret() -> str:
    """32 CSPRNG bytes as 64 lowercase hex characters."""
    return secrets.token_hex(32)


def whsec_form(secret: str) -> str:
    """`whsec_` + base64 of the secret string's UTF-8 bytes (the Standard Webhooks form)."""
    return "whsec_" + base64.b64encode(secret.encode()).decode("ascii")


def secret_aad(team_id: uuid.UUID, webhook_id: uuid.UUID) -> str:
    return f"webhook-secret:{team_id}:{webhook_id}"


def seal_secret(keyring: Keyring, team_id: uuid.UUID, webhook_id: uuid.UUID, secret: str) -> str:
    return keyring.encrypt(secret.encode(), secret_aad(team_id, webhook_id))


def open_secret(keyring: Keyring, team_id: uuid.UUID, webhook_id: uuid.UUID, sealed: str) -> str:
    return keyring.decrypt(sealed, secret_aad(team_id, webhook_id)).decode()
