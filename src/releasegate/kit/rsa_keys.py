"""Team RSA-2048 key pairs (security-and-limits.md §8)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True, repr=False)
class KeyPairPem:
    public_pem: str
    private_pem: str

    def __repr__(self) -> str:
        return "KeyPairPem([redacted])"


def generate_key_pair() -> KeyPairPem:
    """A fresh RSA-2048 pair (e = 65537): SPKI PEM public key, PKCS#8 PEM private key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeyPairPem(public.decode("ascii"), private.decode("ascii"))


def public_key_base64(public_pem: str) -> str:
    """The form clients usually embed: base64 of the PEM text."""
    return base64.b64encode(public_pem.encode("ascii")).decode("ascii")
