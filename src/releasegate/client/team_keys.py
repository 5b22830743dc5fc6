"""The team's RSA private key, decrypted from its at-rest ciphertext (security-and-limits.md §8)."""

from __future__ import annotations

import uuid
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from releasegate.kit.keyring import Keyring
from releasegate.teams.service import private_key_aad


@lru_cache(maxsize=256)
def private_key(keyring: Keyring, team_id: uuid.UUID, ciphertext: str) -> RSAPrivateKey:
    """Decrypt and parse once per stored ciphertext; a rotation stores a new one (new entry)."""
    pem = keyring.decrypt(ciphertext, private_key_aad(team_id))
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("team key pair is not RSA")
    return key
