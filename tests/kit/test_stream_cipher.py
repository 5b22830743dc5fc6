"""The classloader frame format, version 1 (client-api.md §4.5, §8.4)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import AsyncIterator, Iterable
from itertools import cycle

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from releasegate.kit.stream_cipher import (
    FRAME_OVERHEAD,
    MAX_FRAME_LENGTH,
    PLAINTEXT_CHUNK,
    FrameDecoder,
    IvSource,
    StreamCorrupt,
    encrypt_stream,
    encrypted_length,
)
from tests.fixtures import vectors

KEY = vectors.FRAMES_KEY


async def _chunks(data: bytes, sizes: Iterable[int]) -> AsyncIterator[bytes]:
    offset = 0
    for size in cycle(sizes):
        if offset >= len(data):
            return
        yield data[offset : offset + size]
        offset += size


async def _encrypt(
    data: bytes, sizes: Iterable[int], iv_source: IvSource | None = None
) -> list[bytes]:
    """The frames of the body, however the stream batched them."""
    body = b"".join(
        [bytes(part) async for part in encrypt_stream(_chunks(data, sizes), KEY, iv_source)]
    )
    return _split_frames(body)


def _split_frames(body: bytes) -> list[bytes]:
    frames, offset = [], 0
    while offset < len(body):
        (length,) = struct.unpack_from(">I", body, offset)
        frames.append(body[offset : offset + 4 + length])
        offset += 4 + length
    return frames


def _decode(body: bytes, step: int) -> bytes:
    decoder = FrameDecoder(KEY)
    out = bytearray()
    for start in range(0, len(body), step):
        for plaintext in decoder.feed(body[start : start + step]):
            out += plaintext
    decoder.finish()
    return bytes(out)


# --- the recorded vector ----------------------------------------------------------------------


def test_recorded_frames_match_their_recorded_hash_and_length() -> None:
    assert len(vectors.FRAMES_150000) == vectors.FRAMES_150000_LENGTH == 150_096
    assert hashlib.sha256(vectors.FRAMES_150000).hexdigest() == vectors.FRAMES_150000_SHA256


def test_plaintext_matches_its_recorded_hash() -> None:
    plaintext = vectors.plaintext_150000()
    assert hashlib.sha256(plaintext).hexdigest() == vectors.PLAINTEXT_SHA256


def test_fixed_iv_counts_frames_from_zero() -> None:
    assert vectors.fixed_iv(0) == bytes(12)
    assert vectors.fixed_iv(2) == bytes(11) + b"\x02"


def test_recorded_frames_have_the_spec_layout() -> None:
    frames = _split_frames(vectors.FRAMES_150000)
    assert [len(frame) - FRAME_OVERHEAD for frame in frames] == [65_536, 65_536, 18_928]
    for index, frame in enumerate(frames):
        assert frame[:4] == struct.pack(">I", len(frame) - 4)
        assert frame[4:16] == vectors.fixed_iv(index)


@pytest.mark.parametrize(
    "sizes",
    [(1000,), (70_000,), (1, 65_535, 65_537), (150_000,), (7, 70_000, 1000), (65_536,)],
    ids=["1000", "70000", "around-a-chunk", "all-at-once", "mixed", "exact-chunk"],
)
async def test_encrypt_with_fixed_ivs_reproduces_the_recorded_frames(
    sizes: tuple[int, ...],
) -> None:
    frames = await _encrypt(vectors.plaintext_150000(), sizes, iv_source=vectors.fixed_iv)
    assert b"".join(frames) == vectors.FRAMES_150000


async def test_encrypt_yields_one_frame_per_chunk() -> None:
    frames = await _encrypt(vectors.plaintext_150000(), (1000,), iv_source=vectors.fixed_iv)
    assert [len(frame) for frame in frames] == [65_568, 65_568, 18_960]


async def test_encrypt_of_empty_input_yields_nothing() -> None:
    assert await _encrypt(b"", (1,)) == []


async def test_encrypt_skips_empty_input_chunks() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b""
        yield b"abc"
        yield b""

    body = b"".join([bytes(part) async for part in encrypt_stream(chunks(), KEY, vectors.fixed_iv)])
    frames = _split_frames(body)
    assert len(frames) == 1
    assert len(frames[0]) == 3 + FRAME_OVERHEAD


async def test_encrypt_uses_a_fresh_random_iv_per_frame() -> None:
    frames = await _encrypt(bytes(3 * PLAINTEXT_CHUNK), (PLAINTEXT_CHUNK,))
    ivs = {frame[4:16] for frame in frames}
    assert len(ivs) == 3


@pytest.mark.parametrize(
    ("size", "expected"),
    [(0, 0), (1, 33), (65_536, 65_568), (65_537, 65_601), (150_000, 150_096)],
)
def test_encrypted_length(size: int, expected: int) -> None:
    assert encrypted_length(size) == expected


async def test_encrypted_length_matches_the_encrypted_body() -> None:
    body = b"".join(await _encrypt(bytes(200_000), (4096,)))
    assert len(body) == encrypted_length(200_000)


# --- decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("step", [1, 7, 4096, 150_096], ids=["1", "7", "4096", "at-once"])
def test_decoder_recovers_the_plaintext(step: int) -> None:
    assert _decode(vectors.FRAMES_150000, step) == vectors.plaintext_150000()


def test_decoder_returns_each_completed_frame_separately() -> None:
    plaintexts = FrameDecoder(KEY).feed(vectors.FRAMES_150000)
    assert [len(p) for p in plaintexts] == list(vectors.FRAME_PLAINTEXT_SIZES)


def _frame(plaintext: bytes, iv: bytes) -> bytes:
    sealed = AESGCM(KEY).encrypt(iv, plaintext, None)
    return struct.pack(">I", 28 + len(plaintext)) + iv + sealed[-16:] + sealed[:-16]


def test_decoder_accepts_frames_of_any_size() -> None:
    plaintexts = [b"a", b"b" * 100, b"c" * 200_000, b"d" * 3]
    body = b"".join(_frame(p, vectors.fixed_iv(i)) for i, p in enumerate(plaintexts))
    assert _decode(body, 5000) == b"".join(plaintexts)


def test_decoder_of_an_empty_body_yields_nothing() -> None:
    assert _decode(b"", 1) == b""


def test_flipped_ciphertext_bit_fails_authentication() -> None:
    body = bytearray(vectors.FRAMES_150000)
    body[4 + 28 + 1000] ^= 0x01
    with pytest.raises(StreamCorrupt):
        _decode(bytes(body), 4096)


def test_flipped_tag_bit_fails_authentication() -> None:
    body = bytearray(vectors.FRAMES_150000)
    body[4 + 12] ^= 0x80
    with pytest.raises(StreamCorrupt):
        _decode(bytes(body), 4096)


def test_wrong_key_fails_authentication() -> None:
    with pytest.raises(StreamCorrupt):
        FrameDecoder(vectors.SECRET_16.content_key).feed(vectors.FRAMES_150000)


@pytest.mark.parametrize("cut", [1, 3, 4, 32, 65_567, 65_569, 65_572, 150_095])
def test_body_cut_mid_frame_fails_on_finish(cut: int) -> None:
    decoder = FrameDecoder(KEY)
    decoder.feed(vectors.FRAMES_150000[:cut])
    with pytest.raises(StreamCorrupt):
        decoder.finish()


def test_body_cut_at_a_frame_boundary_finishes_cleanly() -> None:
    decoder = FrameDecoder(KEY)
    (plaintext,) = decoder.feed(vectors.FRAMES_150000[:65_568])
    decoder.finish()
    assert plaintext == vectors.plaintext_150000()[:65_536]


@pytest.mark.parametrize("length", [0, 27, 28, MAX_FRAME_LENGTH + 1, 0xFFFFFFFF])
def test_frame_length_out_of_range_is_corrupt(length: int) -> None:
    with pytest.raises(StreamCorrupt):
        FrameDecoder(KEY).feed(struct.pack(">I", length) + bytes(28))


def test_frame_length_is_checked_before_the_frame_arrives() -> None:
    with pytest.raises(StreamCorrupt):
        FrameDecoder(KEY).feed(struct.pack(">I", 28))


def test_largest_allowed_frame_length_is_accepted_as_a_prefix() -> None:
    decoder = FrameDecoder(KEY)
    assert decoder.feed(struct.pack(">I", MAX_FRAME_LENGTH)) == []
    with pytest.raises(StreamCorrupt):
        decoder.finish()


def test_swapped_frames_decrypt_with_the_same_total_but_another_hash() -> None:
    # Frames are authenticated one by one: only the X-File-Sha256 check catches a reordering.
    first, second, third = _split_frames(vectors.FRAMES_150000)
    plaintext = _decode(third + first + second, 4096)
    assert len(plaintext) == vectors.PLAINTEXT_SIZE
    assert plaintext != vectors.plaintext_150000()
    assert hashlib.sha256(plaintext).hexdigest() != vectors.PLAINTEXT_SHA256


def test_dropped_frame_decrypts_to_a_short_total() -> None:
    first, second, _ = _split_frames(vectors.FRAMES_150000)
    plaintext = _decode(first + second, 4096)
    assert len(plaintext) != vectors.PLAINTEXT_SIZE
    assert hashlib.sha256(plaintext).hexdigest() != vectors.PLAINTEXT_SHA256
