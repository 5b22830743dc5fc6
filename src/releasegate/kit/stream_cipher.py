"""The classloader body: AES-256-GCM frames, version 1 (client-api.md §4.5, byte-exact).

Each frame is `BE32(L) ‖ IV ‖ TAG ‖ CT` with L = 12 + 16 + |CT| and no additional data. The
server encrypts fixed 64 KiB plaintext chunks; a decoder accepts any frame size.
"""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncIterable, AsyncIterator, Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PLAINTEXT_CHUNK = 65_536
IV_LENGTH = 12
TAG_LENGTH = 16
LENGTH_PREFIX = 4
FRAME_OVERHEAD = LENGTH_PREFIX + IV_LENGTH + TAG_LENGTH
MAX_FRAME_LENGTH = IV_LENGTH + TAG_LENGTH + 16 * 1024 * 1024

_BE32 = struct.Struct(">I")

IvSource = Callable[[int], bytes]
"""Frame index (0 for the first frame) -> the 12-byte IV for that frame."""


def random_iv(_index: int) -> bytes:
    """The production IV source: 12 fresh bytes from the OS CSPRNG for every frame."""
    return os.urandom(IV_LENGTH)


def encrypted_length(plaintext_size: int) -> int:
    """The body length for a plaintext of `plaintext_size` bytes: N + 32·⌈N / 65536⌉."""
    frames = -(-plaintext_size // PLAINTEXT_CHUNK)
    return plaintext_size + FRAME_OVERHEAD * frames


def _seal_frames(
    aead: AESGCM, plaintext: memoryview, first_index: int, next_iv: IvSource
) -> memoryview:
    """Frames for `plaintext` (64 KiB chunks, the last one shorter), written into one buffer.

    Each chunk is encrypted straight from `plaintext` into its place in the output (GCM writes
    CT ‖ TAG); only the 16-byte tag then moves in front of the ciphertext.
    """
    size = len(plaintext)
    frames = -(-size // PLAINTEXT_CHUNK)
    out = bytearray(size + FRAME_OVERHEAD * frames)
    view = memoryview(out)
    at = 0
    for number, start in enumerate(range(0, size, PLAINTEXT_CHUNK)):
        chunk = plaintext[start : start + PLAINTEXT_CHUNK]
        iv = next_iv(first_index + number)
        if len(iv) != IV_LENGTH:
            raise ValueError("an IV must be 12 bytes")
        length = len(chunk)
        _BE32.pack_into(out, at, IV_LENGTH + TAG_LENGTH + length)
        view[at + LENGTH_PREFIX : at + LENGTH_PREFIX + IV_LENGTH] = iv
        body = at + FRAME_OVERHEAD
        if number == frames - 1:  # the last frame has no room after it for the tag to spill
            sealed = aead.encrypt(iv, chunk, None)
            view[body : body + length] = sealed[:length]
            view[body - TAG_LENGTH : body] = sealed[length:]
        else:  # CT ‖ TAG, the tag spilling into the next frame's header, moved before we go on
            aead.encrypt_into(iv, chunk, None, view[body : body + length + TAG_LENGTH])
            view[body - TAG_LENGTH : body] = view[body + length : body + length + TAG_LENGTH]
        at = body + length
    return view


async def encrypt_stream(
    chunks: AsyncIterable[bytes | memoryview], key: bytes, iv_source: IvSource | None = None
) -> AsyncIterator[memoryview]:
    """Frames for the plaintext read from `chunks` (any input chunk sizes), one 64 KiB chunk
    each; the last frame holds the remaining 1..65536 bytes, and an empty input yields nothing.

    Whole chunks are sealed straight from the input; only a chunk that straddles two inputs is
    gathered first. At most one input plus its frames are held in memory. `iv_source` is for
    test vectors.
    """
    aead = AESGCM(key)
    next_iv = iv_source or random_iv
    pending = bytearray()
    index = 0
    async for data in chunks:
        view = memoryview(data)
        if pending:
            taken = PLAINTEXT_CHUNK - len(pending)
            pending += view[:taken]
            view = view[taken:]
            if len(pending) < PLAINTEXT_CHUNK:
                continue
            yield _seal_frames(aead, memoryview(pending), index, next_iv)
            pending = bytearray()
            index += 1
        whole = len(view) - len(view) % PLAINTEXT_CHUNK
        if whole:
            yield _seal_frames(aead, view[:whole], index, next_iv)
            index += whole // PLAINTEXT_CHUNK
        pending += view[whole:]
    if pending:
        yield _seal_frames(aead, memoryview(pending), index, next_iv)


class StreamCorrupt(ValueError):
    """The encrypted body is malformed, fails authentication, or is truncated."""


class FrameDecoder:
    """Incremental decoder: feed network reads, get back the plaintext of completed frames."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._buffer = bytearray()
        self._frame_length: int | None = None  # L of the frame being read, once its prefix is in

    def feed(self, data: bytes) -> list[bytes]:
        """Consume `data`; return the plaintexts of the frames it completed, in order.

        Raises StreamCorrupt on a frame length outside 28 < L ≤ 28 + 16 MiB or a failed tag.
        """
        self._buffer += data
        plaintexts: list[bytes] = []
        offset = 0  # consumed bytes are dropped once, at the end, not frame by frame
        try:
            while True:
                if self._frame_length is None:
                    if len(self._buffer) - offset < LENGTH_PREFIX:
                        break
                    (length,) = _BE32.unpack_from(self._buffer, offset)
                    if not IV_LENGTH + TAG_LENGTH < length <= MAX_FRAME_LENGTH:
                        raise StreamCorrupt(f"frame length {length} is out of range")
                    offset += LENGTH_PREFIX
                    self._frame_length = length
                end = offset + self._frame_length
                if len(self._buffer) < end:
                    break
                plaintexts.append(self._open(bytes(self._buffer[offset:end])))
                offset = end
                self._frame_length = None
        finally:
            del self._buffer[:offset]
        return plaintexts

    def finish(self) -> None:
        """Declare the end of the body; raises StreamCorrupt if it ended inside a frame."""
        if self._frame_length is not None or self._buffer:
            raise StreamCorrupt("the body ended in the middle of a frame")

    def _open(self, frame: bytes) -> bytes:
        iv = frame[:IV_LENGTH]
        tag = frame[IV_LENGTH : IV_LENGTH + TAG_LENGTH]
        ciphertext = frame[IV_LENGTH + TAG_LENGTH :]
        try:
            return self._aead.decrypt(iv, ciphertext + tag, None)
        except InvalidTag:
            raise StreamCorrupt("a frame failed authentication") from None
