"""License key generation and format (security-and-limits.md §7.2)."""

from __future__ import annotations

import re
import secrets
import string

LICENSE_KEY_PATTERN = re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$")
_ALPHABET = string.ascii_uppercase + string.digits


def generate_license_key() -> str:
    """25 characters drawn uniformly (secrets.choice has no modulo bias), grouped 5×5."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(25))
    return "-".join(chars[i : i + 5] for i in range(0, 25, 5))


def key_hint(key: str) -> str:
    return "*****-*****-*****-*****-" + key[-5:]


def ciphertext_aad(team_id: str, license_id: str) -> str:
    return f"license-key:{team_id}:{license_id}"
