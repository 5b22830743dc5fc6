"""The master key, its HKDF subkeys, and at-rest encryption (security-and-limits.md §7.1)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class SecretKeyError(RuntimeError):
    """The master key is missing or malformed; the message names RELEASEGATE_SECRET_KEY."""


def parse_master_key(text: str) -> bytes:
    """Accept 64 hex characters, or base64/base64url decoding to at least 32 bytes."""
    text = text.strip()
    if _HEX64.fullmatch(text):
        return bytes.fromhex(text)
    padded = text + "=" * (-len(text) % 4)
    if "-" in padded or "_" in padded:  # base64url alphabet
        padded = padded.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) >= 32:
        return raw
    raise SecretKeyError(
        "RELEASEGATE_SECRET_KEY must be 64 hex characters or base64 of at least 32 bytes"
    )


def load_or_create_key_file(path: Path) -> bytes:
    """Embedded profile: read DATA_DIR/secret.key, creating it (mode 0600) on first start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return parse_master_key(path.read_text())


class Keyring:
    """Subkeys derived from the master key; never rendered in logs or reprs."""

    def __init__(self, master_key: bytes) -> None:
        self._at_rest = self._derive(master_key, b"releasegate/v1/at-rest")
        self._lookup = self._derive(master_key, b"releasegate/v1/license-lookup")
        self._replay = self._derive(master_key, b"releasegate/v1/replay")
        self._kid = hashlib.sha256(self._at_rest).hexdigest()[:8]

    def __repr__(self) -> str:
        return "Keyring([redacted])"

    @staticmethod
    def _derive(master_key: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)

    def encrypt(self, plaintext: bytes, aad: str) -> str:
        """AES-256-GCM, formatted `v1:<kid>:<nonce>:<ciphertext>:<tag>` (hex parts)."""
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._at_rest).encrypt(nonce, plaintext, aad.encode())
        body, tag = sealed[:-16], sealed[-16:]
        return f"v1:{self._kid}:{nonce.hex()}:{body.hex()}:{tag.hex()}"

    def decrypt(self, ciphertext: str, aad: str) -> bytes:
        """Inverse of `encrypt`; raises ValueError on any mismatch (wrong key, row or AAD)."""
        parts = ciphertext.split(":")
        if len(parts) != 5 or parts[0] != "v1" or parts[1] != self._kid:
            raise ValueError("unknown ciphertext format or key id")
        nonce, body, tag = (bytes.fromhex(p) for p in parts[2:])
        try:
            return AESGCM(self._at_rest).decrypt(nonce, body + tag, aad.encode())
        except InvalidTag:
            raise ValueError("ciphertext does not authenticate for this context") from None

    def license_lookup(self, license_key: str, team_id: str) -> str:
        """`hex(HMAC-SHA256(lookup subkey, "<licenseKey>:<teamId>"))` with a lowercase team id."""
        message = f"{license_key}:{team_id.lower()}".encode()
        return hmac.new(self._lookup, message, hashlib.sha256).hexdigest()

    def replay_marker(self, secret_hex: str) -> str:
        """HMAC of a classloader session secret, for the replay guard's store key."""
        return hmac.new(self._replay, secret_hex.encode(), hashlib.sha256).hexdigest()
