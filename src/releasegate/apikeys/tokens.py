"""API key format: `prefix ‖ secret ‖ crc32` (security-and-limits.md §1.1)."""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass

_HEX72 = re.compile(r"^[0-9a-f]{72}$")


@dataclass(frozen=True, repr=False)
class IssuedKey:
    token: str
    key_hash: str
    hint: str

    def __repr__(self) -> str:
        return f"IssuedKey(hint={self.hint!r})"


def hash_token(token: str) -> str:
    """`hex(SHA-256(token))`: the only form stored (the reference's lookup)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hint_for(token: str, prefix: str) -> str:
    return f"{prefix}…{token[-4:]}"


def issue_key(prefix: str) -> IssuedKey:
    """A new token from 32 CSPRNG bytes; reference-style (bare hex) when the prefix is empty."""
    secret = secrets.token_hex(32)
    if prefix:
        body = prefix + secret
        token = body + f"{zlib.crc32(body.encode('ascii')):08x}"
    else:
        token = secret
    return IssuedKey(token=token, key_hash=hash_token(token), hint=hint_for(token, prefix))


def is_well_formed(token: str, prefix: str) -> bool:
    """Prefixed tokens must carry 72 hex characters and a correct check; others pass through."""
    for candidate in {prefix, "rg_"} - {""}:
        if token.startswith(candidate):
            rest = token[len(candidate) :]
            if not _HEX72.fullmatch(rest):
                return False
            body = candidate + rest[:64]
            return f"{zlib.crc32(body.encode('ascii')):08x}" == rest[64:]
    return True
