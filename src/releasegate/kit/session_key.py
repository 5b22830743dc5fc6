"""Classloader session keys and challenge signatures (client-api.md §4.5, §5).

Used by the server (open a session key, sign a challenge) and by the reference client (make a
session key, check a challenge response); both derive the same content key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

SESSION_KEY_HEX_LENGTH = 512
MIN_SECRET_BYTES = 16
DEFAULT_SECRET_BYTES = 32

_SESSION_KEY = re.compile(rf"[0-9A-Fa-f]{{{SESSION_KEY_HEX_LENGTH}}}")
_SIGNATURE_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")
_PEM_MARKER = b"-----BEGIN "


class UnreadableSessionKey(Exception):
    """The session key is malformed, does not decrypt, or carries too short a secret."""


def _oaep() -> padding.OAEP:
    # The wire format fixes SHA-1 for both the OAEP hash and MGF1 (OAEP-SHA1 is not broken).
    sha1 = hashes.SHA1()  # noqa: S303
    return padding.OAEP(mgf=padding.MGF1(sha1), algorithm=sha1, label=None)


def open_session_key(private_key: RSAPrivateKey, session_key: str) -> bytes:
    """Recover the secret S from `sessionKey` (512 hex characters, either case).

    Raises UnreadableSessionKey on a wrong length, a non-hex character, a decryption failure, or
    a secret shorter than MIN_SECRET_BYTES. The message never repeats the key.
    """
    if _SESSION_KEY.fullmatch(session_key) is None:
        raise UnreadableSessionKey("session key must be exactly 512 hexadecimal characters")
    try:
        secret = private_key.decrypt(bytes.fromhex(session_key), _oaep())
    except ValueError:
        raise UnreadableSessionKey("session key does not decrypt") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise UnreadableSessionKey(f"session secret is shorter than {MIN_SECRET_BYTES} bytes")
    return secret


def make_session_key(public_key: RSAPublicKey, secret: bytes | None = None) -> tuple[bytes, str]:
    """Encrypt a secret for the server: returns (S, lowercase hex of the OAEP ciphertext).

    S defaults to 32 fresh random bytes; pass one only in tests, a secret must never be reused.
    """
    if secret is None:
        secret = secrets.token_bytes(DEFAULT_SECRET_BYTES)
    ciphertext = public_key.encrypt(secret, _oaep())
    return secret, ciphertext.hex()


def secret_hex(secret: bytes) -> str:
    """`Shex`: the secret as lowercase hexadecimal text."""
    return secret.hex()


def content_key(secret: bytes) -> bytes:
    """K = SHA-256 of the ASCII bytes of `Shex` (the hex text, not the raw secret): AES-256."""
    return hashlib.sha256(secret_hex(secret).encode("ascii")).digest()


def sign_challenge(private_key: RSAPrivateKey, challenge: str) -> str:
    """`challengeResponse`: PKCS#1 v1.5 SHA-256 signature of the UTF-8 challenge, lowercase hex."""
    signature = private_key.sign(challenge.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return signature.hex()


def challenge_signature_valid(public_key: RSAPublicKey, challenge: str, signature_hex: str) -> bool:
    """Whether `signature_hex` is the team's signature of `challenge`; False if malformed."""
    if _SIGNATURE_HEX.fullmatch(signature_hex) is None:
        return False
    try:
        public_key.verify(
            bytes.fromhex(signature_hex),
            challenge.encode("utf-8"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return False
    return True


def load_public_key(text: str | bytes) -> RSAPublicKey:
    """An RSA public key from an SPKI PEM, or from base64 of that PEM text (the embedded form).

    Raises ValueError for anything else, including a non-RSA key.
    """
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    raw = raw.strip()
    if not raw.startswith(_PEM_MARKER):
        try:
            raw = base64.b64decode(b"".join(raw.split()), validate=True).strip()
        except (binascii.Error, ValueError):
            raise ValueError("public key is neither a PEM nor base64 of a PEM") from None
        if not raw.startswith(_PEM_MARKER):
            raise ValueError("public key is neither a PEM nor base64 of a PEM")
    try:
        key = serialization.load_pem_public_key(raw)
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("public key is not a valid SPKI PEM") from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError("public key is not an RSA key")
    return key


def load_private_key(pem: bytes) -> RSAPrivateKey:
    """An unencrypted RSA private key from PEM (PKCS#8 or PKCS#1). Raises ValueError otherwise."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("private key is not an unencrypted PEM") from None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("private key is not an RSA key")
    return key
