"""The reference client library against a protocol-faithful fake server (client-api.md §6)."""

from __future__ import annotations

import hashlib
import io
import re
import struct
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from releasegate.fetch import (
    ChallengeMismatch,
    Downloaded,
    Refused,
    ReleasegateClient,
    StreamCorrupt,
    default_hardware_identifier,
)
from releasegate.fetch import client as client_module
from releasegate.kit.session_key import SESSION_KEY_HEX_LENGTH, load_public_key
from tests.fetch.fake_server import BASE, LICENSE_KEY, PRODUCT_ID, TEAM_ID, FakeServer
from tests.fixtures import vectors

HWID = "test-machine-0001"


def _client(http: httpx.AsyncClient) -> ReleasegateClient:
    return ReleasegateClient(http, TEAM_ID, load_public_key(vectors.PUBLIC_B64))


async def _download(server: FakeServer, branch: str | None = None) -> tuple[bytes, Downloaded]:
    sink = io.BytesIO()
    async with server.client() as http:
        downloaded = await _client(http).download(
            LICENSE_KEY, PRODUCT_ID, HWID, branch=branch, sink=sink
        )
    return sink.getvalue(), downloaded


# --- verify and heartbeat ---------------------------------------------------------------------


async def test_verify_posts_the_license_and_a_64_hex_challenge() -> None:
    server = FakeServer()
    async with server.client() as http:
        await _client(http).verify(LICENSE_KEY, product_id=PRODUCT_ID, version="1.0.0")
    (request,) = server.requests
    assert request.url.path == f"{BASE}/verify"
    body = httpx.Response(200, content=request.content).json()
    assert re.fullmatch(r"[0-9a-f]{64}", body.pop("challenge"))
    assert body == {"licenseKey": LICENSE_KEY, "productId": PRODUCT_ID, "version": "1.0.0"}


async def test_verify_returns_data() -> None:
    server = FakeServer(data={"license": {"ipLimit": 3}})
    async with server.client() as http:
        assert await _client(http).verify(LICENSE_KEY) == {"license": {"ipLimit": 3}}


async def test_verify_returns_none_for_null_data() -> None:
    server = FakeServer()
    async with server.client() as http:
        assert await _client(http).verify(LICENSE_KEY) is None


async def test_heartbeat_posts_to_heartbeat_with_the_hardware_identifier() -> None:
    server = FakeServer()
    async with server.client() as http:
        await _client(http).heartbeat(LICENSE_KEY, HWID)
    (request,) = server.requests
    assert request.url.path == f"{BASE}/heartbeat"
    assert httpx.Response(200, content=request.content).json()["hardwareIdentifier"] == HWID


async def test_refusal_carries_status_code_and_details() -> None:
    server = FakeServer(refusal=(403, "LICENSE_SUSPENDED", "License suspended"))
    async with server.client() as http:
        with pytest.raises(Refused) as caught:
            await _client(http).verify(LICENSE_KEY)
    assert (caught.value.status, caught.value.code, caught.value.details) == (
        403,
        "LICENSE_SUSPENDED",
        "License suspended",
    )


async def test_rate_limit_refusal_carries_retry_after() -> None:
    response = httpx.Response(
        429,
        headers={"Retry-After": "42"},
        json={"data": None, "result": {"code": "RATE_LIMIT", "details": "Rate limited"}},
    )
    server = FakeServer(raw_error=response)
    async with server.client() as http:
        with pytest.raises(Refused) as caught:
            await _client(http).verify(LICENSE_KEY)
    assert (caught.value.code, caught.value.retry_after) == ("RATE_LIMIT", 42)


async def test_non_envelope_answer_is_refused_with_a_clear_message() -> None:
    server = FakeServer(raw_error=httpx.Response(502, text="<html>Bad gateway</html>"))
    async with server.client() as http:
        with pytest.raises(Refused) as caught:
            await _client(http).verify(LICENSE_KEY)
    assert caught.value.code == "INTERNAL_SERVER_ERROR"
    assert "HTTP 502" in caught.value.details


async def test_200_that_is_not_valid_is_refused() -> None:
    body = {"data": None, "result": {"valid": False, "code": "VALID", "details": "odd"}}
    server = FakeServer(raw_error=httpx.Response(200, json=body))
    async with server.client() as http:
        with pytest.raises(Refused):
            await _client(http).verify(LICENSE_KEY)


async def test_missing_challenge_response_is_a_mismatch() -> None:
    server = FakeServer(challenge_response=lambda challenge: None)
    async with server.client() as http:
        with pytest.raises(ChallengeMismatch):
            await _client(http).verify(LICENSE_KEY)


async def test_signature_of_another_challenge_is_a_mismatch() -> None:
    server = FakeServer(challenge_response=lambda challenge: vectors.CHALLENGE_SIGNATURE)
    async with server.client() as http:
        with pytest.raises(ChallengeMismatch):
            await _client(http).heartbeat(LICENSE_KEY, HWID)


# --- download ---------------------------------------------------------------------------------


async def test_download_writes_the_plaintext_and_reports_the_headers() -> None:
    plaintext, downloaded = await _download(FakeServer())
    assert plaintext == vectors.plaintext_150000()
    assert downloaded == Downloaded(
        size=150_000,
        sha256=vectors.PLAINTEXT_SHA256,
        version="1.0.0",
        latest_version="1.0.0",
        main_class="com.example.Main",
        product_name="Example",
        release_status="PUBLISHED",
    )


async def test_download_sends_a_fresh_session_key_and_omits_absent_options() -> None:
    server = FakeServer()
    await _download(server, branch="beta")
    await _download(server, branch="beta")
    first, second = (request.url.params for request in server.requests)
    assert set(first) == {"licenseKey", "productId", "sessionKey", "hardwareIdentifier", "branch"}
    assert len(first["sessionKey"]) == SESSION_KEY_HEX_LENGTH
    assert first["sessionKey"] != second["sessionKey"]
    assert (first["licenseKey"], first["productId"], first["hardwareIdentifier"]) == (
        LICENSE_KEY,
        PRODUCT_ID,
        HWID,
    )


@pytest.mark.parametrize("chunk_size", [1, 4, 33, 65_568, 200_000])
async def test_download_handles_any_network_read_size(chunk_size: int) -> None:
    plaintext, _ = await _download(FakeServer(plaintext=bytes(70_000), chunk_size=chunk_size))
    assert plaintext == bytes(70_000)


async def test_download_of_an_empty_file() -> None:
    plaintext, downloaded = await _download(FakeServer(plaintext=b""))
    assert plaintext == b""
    assert downloaded.size == 0


async def test_download_reports_progress_per_frame() -> None:
    server = FakeServer()
    seen: list[tuple[int, int]] = []
    async with server.client() as http:
        await _client(http).download(
            LICENSE_KEY,
            PRODUCT_ID,
            HWID,
            sink=io.BytesIO(),
            progress=lambda done, total: seen.append((done, total)),
        )
    assert seen == [(65_536, 150_000), (131_072, 150_000), (150_000, 150_000)]


async def test_download_decodes_percent_encoded_headers() -> None:
    headers = {
        "X-Product-Name": "Caf%C3%A9%20Plugin",
        "X-Main-Class": "com.example.%C3%84pp",
        "X-Version": "1.0.0%2B1",
        "X-Percent-Encoded": "X-Product-Name, x-main-class",
    }
    _, downloaded = await _download(FakeServer(headers=headers))
    assert downloaded.product_name == "Café Plugin"
    assert downloaded.main_class == "com.example.Äpp"
    assert downloaded.version == "1.0.0%2B1"  # not in X-Percent-Encoded


async def test_download_refusal_is_parsed_from_the_envelope() -> None:
    server = FakeServer(refusal=(404, "RELEASE_NOT_FOUND", "Release not found"))
    with pytest.raises(Refused) as caught:
        await _download(server)
    assert (caught.value.status, caught.value.code) == (404, "RELEASE_NOT_FOUND")


async def test_download_200_that_is_not_octet_stream_is_refused() -> None:
    body = {"data": None, "result": {"valid": False, "code": "FORBIDDEN", "details": "no"}}
    with pytest.raises(Refused) as caught:
        await _download(FakeServer(raw_error=httpx.Response(200, json=body)))
    assert caught.value.code == "FORBIDDEN"


def _flip_bit(body: bytes) -> bytes:
    corrupted = bytearray(body)
    corrupted[40_000] ^= 0x04
    return bytes(corrupted)


def _swap_first_frames(body: bytes) -> bytes:
    (length,) = struct.unpack_from(">I", body)
    first, rest = body[: 4 + length], body[4 + length :]
    (length,) = struct.unpack_from(">I", rest)
    second, rest = rest[: 4 + length], rest[4 + length :]
    return second + first + rest


@pytest.mark.parametrize(
    "tamper",
    [_flip_bit, lambda body: body[:-5], lambda body: body[: 65_568 * 2], _swap_first_frames],
    ids=["flipped-bit", "cut-mid-frame", "dropped-frame", "swapped-frames"],
)
async def test_tampered_body_is_corrupt(tamper: Callable[[bytes], bytes]) -> None:
    with pytest.raises(StreamCorrupt):
        await _download(FakeServer(tamper=tamper))


async def test_size_header_mismatch_is_corrupt() -> None:
    with pytest.raises(StreamCorrupt):
        await _download(FakeServer(headers={"X-File-Size": "149999"}))


async def test_missing_size_header_is_corrupt() -> None:
    with pytest.raises(StreamCorrupt):
        await _download(FakeServer(headers={"X-File-Size": ""}))


async def test_sha256_header_mismatch_is_corrupt() -> None:
    with pytest.raises(StreamCorrupt):
        await _download(FakeServer(headers={"X-File-Sha256": hashlib.sha256(b"x").hexdigest()}))


# --- hardware identifier ----------------------------------------------------------------------


def test_default_hardware_identifier_is_stable_64_hex() -> None:
    first = default_hardware_identifier()
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert default_hardware_identifier() == first


def test_default_hardware_identifier_hides_the_machine_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine_id = tmp_path / "machine-id"
    machine_id.write_text("0123456789abcdef0123456789abcdef\n")
    monkeypatch.setattr(client_module, "MACHINE_ID_FILES", (machine_id,))
    hwid = default_hardware_identifier()
    assert "0123456789abcdef" not in hwid
    assert hwid != hashlib.sha256(b"0123456789abcdef0123456789abcdef").hexdigest()


def test_default_hardware_identifier_falls_back_to_the_hostname(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MACHINE_ID_FILES", (tmp_path / "missing",))
    monkeypatch.setattr("socket.gethostname", lambda: "build-host")
    first = default_hardware_identifier()
    monkeypatch.setattr("socket.gethostname", lambda: "other-host")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert default_hardware_identifier() != first
