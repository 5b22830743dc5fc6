"""Streaming multipart intake (files-and-storage.md §2–§3, §7; dev-api-releases.md §2.1,
§2.3 rows 6–15 and "Evaluation timing and part order").

Bodies are built by hand so each test controls part order, chunking and malformations. Bodies
sent as an async iterator go out chunked (no Content-Length), and `CountingBody` records how
much of them the server actually pulled.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import itertools
import json
import tracemalloc
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from releasegate.files.models import StorageJournal
from releasegate.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.multipart import BOUNDARY, Part, content_type, data_part, encode, file_part
from tests.fixtures.state import StorageProbe

KIB = 1024
MIB = 1024 * KIB
CHUNK = 64 * KIB
LIMIT_1MB = pytest.mark.parametrize(
    "settings_overrides", [{"max_file_size_mb": 1}], ids=["limit-1mb"]
)


class CountingBody:
    """An async request body that counts the bytes and chunks the server pulled from it."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces = pieces
        self.consumed = 0
        self.chunks = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            self.consumed += len(piece)
            self.chunks += 1
            yield piece


def opening(part: Part) -> bytes:
    """Boundary line, headers and content of `part`, without the CRLF that ends it."""
    return f"--{BOUNDARY}\r\n".encode() + part.encode()


def between() -> bytes:
    return b"\r\n"


CLOSING = f"\r\n--{BOUNDARY}--\r\n".encode()


def file_opening(filename: str = "big.txt", name: str = "file") -> bytes:
    return opening(Part(name, b"", filename=filename))


def body(product_id: str, **changes: Any) -> dict[str, Any]:
    return {"version": "1.0.0", "productId": product_id, "status": "PUBLISHED", **changes}


def assert_error(response: httpx.Response, status: int, details: str, data: object = None) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["result"]["details"] == details
    assert payload["result"]["valid"] is False
    assert payload["data"] == data


async def journal_keys(runtime: Runtime) -> list[str]:
    async with runtime.database.read() as session:
        return list(await session.scalars(select(StorageJournal.key)))


async def assert_nothing_staged(probe: StorageProbe) -> None:
    """No object, no `.part-` file, no journal entry and (S3) no open multipart upload."""
    assert await probe.objects() == []
    assert await probe.pending_uploads() == []
    assert await journal_keys(probe.runtime) == []


async def read_object(runtime: Runtime, key: str) -> bytes:
    opened = await runtime.storage.open(key)
    return b"".join([chunk async for chunk in opened.chunks])


@pytest.fixture
async def product_id(api: Api) -> str:
    return await api.create_product()


async def post_stream(
    api: Api, stream: CountingBody, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await api.client.post(
        f"{api.base}/releases",
        content=stream,
        headers={**api.team.headers, "Content-Type": content_type(), **(headers or {})},
    )


async def post_raw(api: Api, raw: bytes, ctype: str | None = None) -> httpx.Response:
    return await api.client.post(
        f"{api.base}/releases",
        content=raw,
        headers={**api.team.headers, "Content-Type": ctype or content_type()},
    )


def oversized_file_stream(product_id: str, total: int = 50 * MIB) -> CountingBody:
    """Data part, then a file part of `total` bytes in 64 KiB chunks, then the closing line."""
    pieces = itertools.chain(
        [opening(data_part(body(product_id))) + between() + file_opening()],
        itertools.repeat(b"x" * CHUNK, total // CHUNK),
        [CLOSING],
    )
    return CountingBody(pieces)


# --- (a)–(c) Size limit while streaming -------------------------------------------------------


@LIMIT_1MB
async def test_oversized_chunked_upload_is_refused_without_reading_it_all(
    api: Api, product_id: str
) -> None:
    stream = oversized_file_stream(product_id)
    response = await post_stream(api, stream)
    assert "content-length" not in response.request.headers  # sent chunked
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    assert response.headers["connection"] == "close"
    assert stream.consumed < 3 * MIB


@LIMIT_1MB
async def test_oversized_chunked_upload_leaves_nothing_staged(
    api: Api, probe: StorageProbe, product_id: str
) -> None:
    response = await post_stream(api, oversized_file_stream(product_id))
    assert response.status_code == 400, response.text
    await assert_nothing_staged(probe)


@LIMIT_1MB
async def test_oversized_upload_to_a_lagging_backend_is_aborted_in_storage(
    api: Api, probe: StorageProbe, product_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backend is slower than the socket, so the staging queue is full when the limit is
    crossed. The abort must still reach the backend: no `.part-` file, and on S3 no open
    multipart upload (files-and-storage.md §7: "aborted on any failure")."""
    original = probe.runtime.storage.put_stream

    async def lagging_put_stream(key: str, chunks: AsyncIterable[bytes]) -> int:
        async def slowly() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                await asyncio.sleep(0.02)
                yield chunk

        return await original(key, slowly())

    monkeypatch.setattr(probe.runtime.storage, "put_stream", lagging_put_stream)
    response = await post_stream(api, oversized_file_stream(product_id))
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    await assert_nothing_staged(probe)


@LIMIT_1MB
async def test_declared_content_length_over_cap_is_refused_before_reading(
    api: Api, probe: StorageProbe, product_id: str
) -> None:
    stream = oversized_file_stream(product_id)
    declared = 2 * MIB + 1  # limit + 1 MiB + 1
    response = await post_stream(api, stream, {"Content-Length": str(declared)})
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    assert response.headers["connection"] == "close"
    assert stream.consumed == 0
    await assert_nothing_staged(probe)


@LIMIT_1MB
async def test_file_exactly_at_limit_is_accepted(api: Api, product_id: str) -> None:
    content = b"a" * MIB
    response = await api.create_release(body(product_id), content, "exact.txt")
    assert response.status_code == 201, response.text
    file = response.json()["data"]["file"]
    assert file["size"] == MIB
    assert file["sha256"] == hashlib.sha256(content).hexdigest()


@LIMIT_1MB
async def test_file_one_byte_over_limit_is_refused(
    api: Api, probe: StorageProbe, product_id: str
) -> None:
    response = await api.create_release(body(product_id), b"a" * (MIB + 1), "over.txt")
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    assert response.headers["connection"] == "close"
    await assert_nothing_staged(probe)


# --- (d)–(e) Data part and body caps ------------------------------------------------------------


def padded_data(product_id: str, size: int) -> bytes:
    raw = json.dumps(body(product_id)).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


async def test_data_part_of_exactly_64_kib_is_accepted(api: Api, product_id: str) -> None:
    response = await api.send_form(
        "POST", "/releases", [Part("data", padded_data(product_id, 64 * KIB))]
    )
    assert response.status_code == 201, response.text


async def test_data_part_over_64_kib_is_refused(api: Api, product_id: str) -> None:
    response = await api.send_form(
        "POST", "/releases", [Part("data", padded_data(product_id, 64 * KIB + 1))]
    )
    assert_error(response, 400, "Data field too large")


@LIMIT_1MB
async def test_bytes_outside_file_over_cap_are_413(
    api: Api, probe: StorageProbe, product_id: str
) -> None:
    stream = CountingBody(
        itertools.chain(
            [opening(data_part(body(product_id))) + between() + opening(Part("junk", b""))],
            itertools.repeat(b"j" * CHUNK, 10 * MIB // CHUNK),
            [CLOSING],
        )
    )
    response = await post_stream(api, stream)
    assert_error(response, 413, "Request body too large")
    assert response.headers["connection"] == "close"
    assert stream.consumed < 3 * MIB
    await assert_nothing_staged(probe)


def body_with_junk(product_id: str, junk: int) -> bytes:
    """Data, a file of exactly the 1 MiB limit, then an ignored part of `junk` bytes."""
    return encode(
        [
            data_part(body(product_id)),
            file_part(b"f" * MIB, "at-limit.txt"),
            Part("junk", b"j" * junk),
        ]
    )


def junk_filling_cap(product_id: str) -> int:
    """The junk size that makes the whole body exactly limit + 1 MiB (2 MiB)."""
    return 2 * MIB - len(body_with_junk(product_id, 0))


@LIMIT_1MB
async def test_body_of_exactly_limit_plus_1_mib_is_accepted(api: Api, product_id: str) -> None:
    raw = body_with_junk(product_id, junk_filling_cap(product_id))
    assert len(raw) == 2 * MIB
    response = await post_raw(api, raw)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["size"] == MIB


@LIMIT_1MB
async def test_body_one_byte_over_cap_outside_file_is_413(
    api: Api, probe: StorageProbe, product_id: str
) -> None:
    # One byte over the cap by the time the closing boundary ends (the CRLF after it is the
    # epilogue, which the server need not read).
    raw = body_with_junk(product_id, junk_filling_cap(product_id) + 3)
    assert len(raw.removesuffix(b"\r\n")) == 2 * MIB + 1
    stream = CountingBody(raw[i : i + CHUNK] for i in range(0, len(raw), CHUNK))
    response = await post_stream(api, stream)
    assert_error(response, 413, "Request body too large")
    await assert_nothing_staged(probe)


# --- (f)–(g) Part order -------------------------------------------------------------------------


async def test_file_first_then_valid_data_is_created(
    api: Api, probe: StorageProbe, product_id: str
) -> None:
    content = b"file before data" * 1000
    response = await api.send_form(
        "POST", "/releases", [file_part(content, "first.txt"), data_part(body(product_id))]
    )
    assert response.status_code == 201, response.text
    file = response.json()["data"]["file"]
    assert file["size"] == len(content)
    assert await read_object(probe.runtime, file["key"]) == content
    assert await journal_keys(probe.runtime) == []


async def test_file_first_then_invalid_json_is_refused_and_unstaged(
    api: Api, probe: StorageProbe
) -> None:
    response = await api.send_form(
        "POST", "/releases", [file_part(b"x" * 1000, "first.txt"), Part("data", b"{not json")]
    )
    assert_error(response, 400, "Invalid JSON in data field")
    await assert_nothing_staged(probe)


async def test_data_first_schema_failure_never_reads_or_stores_the_file(
    api: Api, probe: StorageProbe, product_id: str
) -> None:
    invalid = {"version": "1", "productId": product_id, "status": "PUBLISHED"}
    first = opening(data_part(invalid)) + between() + file_opening()
    stream = CountingBody(
        itertools.chain([first], itertools.repeat(b"f" * CHUNK, 5 * MIB // CHUNK), [CLOSING])
    )
    response = await post_stream(api, stream)
    assert_error(
        response,
        400,
        "Invalid request body",
        [{"message": "String must contain at least 3 character(s)", "path": ["version"]}],
    )
    assert response.headers["connection"] == "close"
    assert stream.chunks == 1
    await assert_nothing_staged(probe)


@LIMIT_1MB
async def test_file_first_crossing_limit_is_file_too_large_before_data_is_seen(
    api: Api, probe: StorageProbe
) -> None:
    stream = CountingBody(
        itertools.chain(
            [file_opening()],
            itertools.repeat(b"x" * CHUNK, 4 * MIB // CHUNK),
            [between() + opening(Part("data", b"{not json")) + CLOSING],
        )
    )
    response = await post_stream(api, stream)
    assert_error(response, 400, "File too large. Maximum size is 1.0 MB")
    assert stream.consumed < 2 * MIB
    await assert_nothing_staged(probe)


async def test_text_file_part_before_data_is_invalid_file(api: Api) -> None:
    response = await api.send_form(
        "POST", "/releases", [Part("file", b"not a file part"), Part("data", b"{not json")]
    )
    assert_error(response, 400, "Invalid file")


async def test_invalid_data_before_text_file_part_reports_the_data(api: Api) -> None:
    response = await api.send_form(
        "POST", "/releases", [Part("data", b"{not json"), Part("file", b"not a file part")]
    )
    assert_error(response, 400, "Invalid JSON in data field")


async def test_file_without_data_is_missing_data_field_and_unstaged(
    api: Api, probe: StorageProbe
) -> None:
    response = await api.send_form("POST", "/releases", [file_part(b"lonely", "a.txt")])
    assert_error(response, 400, "Missing data field")
    await assert_nothing_staged(probe)


async def test_data_sent_as_file_part_is_missing_data_field(api: Api, product_id: str) -> None:
    raw = json.dumps(body(product_id)).encode()
    response = await api.send_form("POST", "/releases", [Part("data", raw, filename="d.json")])
    assert_error(response, 400, "Missing data field")


async def test_ignored_parts_do_not_affect_the_release(api: Api, product_id: str) -> None:
    response = await api.send_form(
        "POST",
        "/releases",
        [Part("junk", b"ignored"), data_part(body(product_id)), Part("x", b"y", filename="z")],
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"] is None


# --- File part facts: name and content type ----------------------------------------------------


async def test_filename_star_is_decoded_and_preferred(api: Api, product_id: str) -> None:
    disposition = (
        """form-data; name="file"; filename="fallback.txt"; filename*=UTF-8''na%C3%AFve.txt"""
    )
    response = await api.send_form(
        "POST",
        "/releases",
        [data_part(body(product_id)), Part("file", b"abc", disposition=disposition)],
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["name"] == "na\u00efve.txt"


async def test_unix_path_in_filename_is_stripped(api: Api, product_id: str) -> None:
    response = await api.send_form(
        "POST", "/releases", [data_part(body(product_id)), file_part(b"abc", "/ci/out/app.txt")]
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["name"] == "app.txt"


async def test_windows_path_in_filename_is_stripped(api: Api, product_id: str) -> None:
    """Browsers and most clients send backslashes in `filename="..."` unescaped."""
    response = await api.send_form(
        "POST",
        "/releases",
        [data_part(body(product_id)), file_part(b"abc", "C:\\builds\\app.txt")],
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["name"] == "app.txt"


async def test_empty_filename_is_a_file_without_extension(
    api: Api, probe: StorageProbe, product_id: str
) -> None:
    response = await api.send_form(
        "POST", "/releases", [data_part(body(product_id)), file_part(b"abc", "")]
    )
    assert_error(response, 400, "File must have an extension")
    await assert_nothing_staged(probe)


@pytest.mark.parametrize(
    ("header", "stored"),
    [
        ("Application/Java-Archive; charset=binary", "application/java-archive"),
        ("not a media type", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
async def test_file_content_type_is_reduced_to_type_and_subtype(
    api: Api, product_id: str, header: str | None, stored: str
) -> None:
    response = await api.send_form(
        "POST", "/releases", [data_part(body(product_id)), file_part(b"abc", "a.bin", header)]
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["contentType"] == stored


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe{}", b"{not json", b"", b'{"a": NaN}'],
    ids=["not-utf8", "syntax", "empty", "nan"],
)
async def test_undecodable_data_is_invalid_json(api: Api, raw: bytes) -> None:
    response = await api.send_form("POST", "/releases", [Part("data", raw)])
    assert_error(response, 400, "Invalid JSON in data field")


# --- (h) Duplicate parts ------------------------------------------------------------------------


async def test_duplicate_file_part_keeps_the_first_and_discards_the_rest(
    api: Api, probe: StorageProbe, product_id: str
) -> None:
    first, second = b"first file", b"second file, never stored"
    response = await api.send_form(
        "POST",
        "/releases",
        [data_part(body(product_id)), file_part(first, "a.txt"), file_part(second, "b.txt")],
    )
    assert response.status_code == 201, response.text
    file = response.json()["data"]["file"]
    assert (file["name"], file["size"]) == ("a.txt", len(first))
    assert file["sha256"] == hashlib.sha256(first).hexdigest()
    release_id = response.json()["data"]["id"]
    assert await probe.objects() == [file["key"]]
    assert file["key"].startswith(f"releases/{api.team.team_id}/{release_id}/")
    assert await read_object(probe.runtime, file["key"]) == first
    assert await journal_keys(probe.runtime) == []


async def test_duplicate_data_part_first_wins(api: Api, product_id: str) -> None:
    response = await api.send_form(
        "POST",
        "/releases",
        [
            data_part(body(product_id, version="1.0.0")),
            data_part(body(product_id, version="2.0.0", status="DRAFT")),
        ],
    )
    assert response.status_code == 201, response.text
    release = response.json()["data"]
    assert (release["version"], release["status"]) == ("1.0.0", "PUBLISHED")


async def test_later_invalid_data_part_is_ignored(api: Api, product_id: str) -> None:
    response = await api.send_form(
        "POST", "/releases", [data_part(body(product_id)), Part("data", b"{not json")]
    )
    assert response.status_code == 201, response.text


# --- (i) Malformed multipart --------------------------------------------------------------------


def _malformed_bodies() -> dict[str, bytes]:
    valid_data = opening(data_part(body(str(uuid.uuid4())))) + between()
    return {
        "missing-final-boundary": valid_data,
        "ends-mid-file-part": valid_data + file_opening() + b"partial file bytes",
        "ends-mid-headers": f"--{BOUNDARY}\r\nContent-Disposition: form-da".encode(),
        "garbage-instead-of-headers": f"--{BOUNDARY}\r\nthis is not a header\r\n\r\n{{}}".encode()
        + CLOSING,
        "wrong-boundary": encode([data_part(body(str(uuid.uuid4())))], boundary="other"),
        "empty-body": b"",
    }


MALFORMED = _malformed_bodies()


@pytest.mark.parametrize("raw", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_malformed_multipart_is_invalid_multipart_body(
    api: Api, probe: StorageProbe, raw: bytes
) -> None:
    response = await post_raw(api, raw)
    assert_error(response, 400, "Invalid multipart body")
    await assert_nothing_staged(probe)


# --- (j) urlencoded -----------------------------------------------------------------------------

URLENCODED = "application/x-www-form-urlencoded"


async def test_urlencoded_data_creates_a_release(api: Api, product_id: str) -> None:
    raw = urlencode({"data": json.dumps(body(product_id))}).encode()
    response = await post_raw(api, raw, URLENCODED)
    assert response.status_code == 201, response.text
    release = response.json()["data"]
    assert (release["version"], release["file"]) == ("1.0.0", None)


async def test_urlencoded_file_field_is_invalid_file(api: Api, product_id: str) -> None:
    raw = urlencode({"data": json.dumps(body(product_id)), "file": "bytes"}).encode()
    response = await post_raw(api, raw, URLENCODED)
    assert_error(response, 400, "Invalid file")


async def test_urlencoded_over_64_kib_is_data_field_too_large(api: Api, product_id: str) -> None:
    raw = urlencode({"data": json.dumps(body(product_id)) + " " * (64 * KIB)}).encode()
    response = await post_raw(api, raw, URLENCODED)
    assert_error(response, 400, "Data field too large")


async def test_urlencoded_without_data_is_missing_data_field(api: Api) -> None:
    response = await post_raw(api, b"version=1.0.0", URLENCODED)
    assert_error(response, 400, "Missing data field")


# --- (k) Content type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ctype",
    [
        "application/json",
        "multipart/form-data",
        'multipart/form-data; boundary=""',
        "text/plain",
        "multipart/mixed; boundary=abc",
    ],
)
async def test_non_form_content_type_is_415(api: Api, product_id: str, ctype: str) -> None:
    response = await post_raw(api, encode([data_part(body(product_id))]), ctype)
    assert_error(response, 415, "Content-Type must be multipart/form-data")


# --- (l) Memory ---------------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"max_file_size_mb": 30}], ids=["limit-30mb"])
async def test_memory_stays_flat_during_a_20_mib_upload(api: Api, product_id: str) -> None:
    size = 20 * MIB
    stream = CountingBody(
        itertools.chain(
            [opening(data_part(body(product_id))) + between() + file_opening()],
            itertools.repeat(b"m" * CHUNK, size // CHUNK),
            [CLOSING],
        )
    )
    gc.collect()
    tracemalloc.start()
    try:
        response = await post_stream(api, stream)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.text
    assert response.json()["data"]["file"]["size"] == size
    assert peak < 8 * MIB, f"peak traced memory {peak / MIB:.1f} MiB"
