"""The reference client library for the client API (client-api.md §6)."""

from releasegate.fetch.client import (
    ChallengeMismatch,
    Downloaded,
    Progress,
    Refused,
    ReleasegateClient,
    default_hardware_identifier,
)
from releasegate.kit.stream_cipher import StreamCorrupt

__all__ = [
    "ChallengeMismatch",
    "Downloaded",
    "Progress",
    "Refused",
    "ReleasegateClient",
    "StreamCorrupt",
    "default_hardware_identifier",
]
