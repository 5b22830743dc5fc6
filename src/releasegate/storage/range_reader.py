"""Random access to a stored object through ranged reads (for JAR inspection)."""

from __future__ import annotations

from releasegate.storage.backend import Storage


class StorageRangeReader:
    def __init__(self, storage: Storage, key: str, size: int) -> None:
        self._storage = storage
        self._key = key
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    async def read(self, offset: int, length: int) -> bytes:
        end = min(self._size, offset + length)
        if offset >= end:
            return b""
        return await self._storage.read_range(self._key, offset, end - offset)
