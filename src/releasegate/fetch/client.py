"""The reference client: verify, heartbeat and the encrypted download (client-api.md §6).

Built on an injected `httpx.AsyncClient` whose `base_url` is the server root, so tests can hand
it an in-process transport. Transport failures surface as `httpx.HTTPError`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, unquote

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from releasegate.kit.session_key import challenge_signature_valid, content_key, make_session_key
from releasegate.kit.stream_cipher import FrameDecoder, StreamCorrupt

OCTET_STREAM = "application/octet-stream"
MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))

Progress = Callable[[int, int], None]
"""Called with (plaintext bytes written so far, X-File-Size) after each decrypted frame."""


class Refused(Exception):
    """The server answered with something other than success: its envelope's code and details."""

    def __init__(
        self, status: int, code: str, details: str, retry_after: int | None = None
    ) -> None:
        super().__init__(f"{details} ({code})")
        self.status = status
        self.code = code
        self.details = details
        self.retry_after = retry_after  # seconds, from Retry-After on 429


class ChallengeMismatch(Exception):
    """A successful answer whose challengeResponse is missing or not the team key's signature."""


@dataclass(frozen=True)
class Downloaded:
    """What a completed, verified download wrote to the sink, and the release it came from."""

    size: int
    sha256: str
    version: str | None
    latest_version: str | None
    main_class: str | None
    product_name: str | None
    release_status: str | None


def default_hardware_identifier() -> str:
    """A stable id for this machine that does not reveal the machine id: 64 hex characters.

    SHA-256 of an application-specific prefix and /etc/machine-id (the hostname if there is
    none), so it matches no other program's id for the same machine.
    """
    source = ""
    for path in MACHINE_ID_FILES:
        try:
            source = path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            continue
        if source:
            break
    if not source:
        source = "hostname:" + socket.gethostname()
    return hashlib.sha256(b"releasegate-hwid:" + source.encode("utf-8")).hexdigest()


def _refused(response: httpx.Response) -> Refused:
    retry_after = _text(response.headers, "Retry-After") or ""
    retry = int(retry_after) if retry_after.isascii() and retry_after.isdigit() else None
    try:
        result = response.json()["result"]
        code, details = result["code"], result["details"]
    except (ValueError, KeyError, TypeError):
        code, details = None, None
    if not isinstance(code, str) or not isinstance(details, str):
        code = "INTERNAL_SERVER_ERROR"
        details = f"HTTP {response.status_code} from server (not a releasegate answer)"
    return Refused(response.status_code, code, details, retry)


def _text(headers: httpx.Headers, name: str) -> str | None:
    value: str | None = headers.get(name)  # httpx types header values as Any
    return value


def _media_type(response: httpx.Response) -> str:
    value = _text(response.headers, "Content-Type") or ""
    return value.split(";", 1)[0].strip().lower()


def _header(headers: httpx.Headers, name: str, percent_encoded: set[str]) -> str | None:
    value = _text(headers, name)
    if value is None or name.lower() not in percent_encoded:
        return value
    return unquote(value, encoding="utf-8", errors="replace")


def _file_size(headers: httpx.Headers) -> int:
    value = _text(headers, "X-File-Size") or ""
    if not value.isascii() or not value.isdigit():
        raise StreamCorrupt("the response has no valid X-File-Size header")
    return int(value)


def _present(**fields: str | None) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value is not None}


class ReleasegateClient:
    """One team's client endpoints, checked against the team's public key."""

    def __init__(self, http: httpx.AsyncClient, team_id: str, public_key: RSAPublicKey) -> None:
        self._http = http
        self._public_key = public_key
        self._base = f"/api/v1/client/teams/{quote(team_id, safe='')}/verification"

    async def verify(
        self,
        license_key: str,
        *,
        product_id: str | None = None,
        version: str | None = None,
        branch: str | None = None,
        hardware_identifier: str | None = None,
        customer_id: str | None = None,
    ) -> dict[str, Any] | None:
        """Check the license; return the envelope's `data` (None unless the team returns fields).

        Raises Refused for any answer but VALID, ChallengeMismatch if the signature is wrong.
        """
        return await self._checked_post(
            "verify",
            _present(
                licenseKey=license_key,
                customerId=customer_id,
                productId=product_id,
                version=version,
                branch=branch,
                hardwareIdentifier=hardware_identifier,
            ),
        )

    async def heartbeat(
        self,
        license_key: str,
        hardware_identifier: str,
        *,
        product_id: str | None = None,
        version: str | None = None,
        branch: str | None = None,
        customer_id: str | None = None,
    ) -> dict[str, Any] | None:
        """The periodic check (the hardware identifier is required); as `verify` otherwise."""
        return await self._checked_post(
            "heartbeat",
            _present(
                licenseKey=license_key,
                hardwareIdentifier=hardware_identifier,
                customerId=customer_id,
                productId=product_id,
                version=version,
                branch=branch,
            ),
        )

    async def _checked_post(self, action: str, body: dict[str, str]) -> dict[str, Any] | None:
        challenge = secrets.token_hex(32)
        response = await self._http.post(
            f"{self._base}/{action}", json={**body, "challenge": challenge}
        )
        try:
            payload = response.json()
            result = payload["result"]
            accepted = result["valid"] is True and result["code"] == "VALID"
        except (ValueError, KeyError, TypeError):
            accepted = False
        if response.status_code != 200 or not accepted:
            raise _refused(response)
        signature = result.get("challengeResponse")
        if not isinstance(signature, str) or not challenge_signature_valid(
            self._public_key, challenge, signature
        ):
            raise ChallengeMismatch("the server's challenge response is not the team's signature")
        data = payload.get("data")
        return data if isinstance(data, dict) else None

    async def download(
        self,
        license_key: str,
        product_id: str,
        hardware_identifier: str,
        *,
        version: str | None = None,
        branch: str | None = None,
        customer_id: str | None = None,
        sink: BinaryIO,
        progress: Progress | None = None,
    ) -> Downloaded:
        """Download and decrypt a release file into `sink`, with a fresh session key.

        Raises Refused on any refusal, StreamCorrupt if the body fails authentication, is
        truncated, or does not match X-File-Size / X-File-Sha256. On an error, `sink` may
        already hold part of the plaintext: the caller discards it.
        """
        secret, session_key = make_session_key(self._public_key)
        params = _present(
            licenseKey=license_key,
            productId=product_id,
            sessionKey=session_key,
            hardwareIdentifier=hardware_identifier,
            version=version,
            branch=branch,
            customerId=customer_id,
        )
        async with self._http.stream("GET", f"{self._base}/classloader", params=params) as response:
            if response.status_code != 200 or _media_type(response) != OCTET_STREAM:
                await response.aread()
                raise _refused(response)
            expected_size = _file_size(response.headers)
            decoder = FrameDecoder(content_key(secret))
            digest = hashlib.sha256()
            written = 0
            async for data in response.aiter_bytes():
                for plaintext in decoder.feed(data):
                    written += len(plaintext)
                    if written > expected_size:
                        raise StreamCorrupt("the body decrypts to more than X-File-Size")
                    digest.update(plaintext)
                    sink.write(plaintext)
                    if progress is not None:
                        progress(written, expected_size)
            decoder.finish()
            headers = response.headers
        return self._checked_download(headers, expected_size, written, digest.hexdigest())

    @staticmethod
    def _checked_download(
        headers: httpx.Headers, expected_size: int, written: int, sha256: str
    ) -> Downloaded:
        if written != expected_size:
            raise StreamCorrupt(f"the body decrypts to {written} bytes, not X-File-Size")
        expected_sha256 = _text(headers, "X-File-Sha256")
        if expected_sha256 is not None and not hmac.compare_digest(
            expected_sha256.strip().lower().encode("ascii", "replace"), sha256.encode("ascii")
        ):
            raise StreamCorrupt("the decrypted file does not match X-File-Sha256")
        encoded = {
            name.strip().lower() for name in (_text(headers, "X-Percent-Encoded") or "").split(",")
        }
        return Downloaded(
            size=written,
            sha256=sha256,
            version=_header(headers, "X-Version", encoded),
            latest_version=_header(headers, "X-Latest-Version", encoded),
            main_class=_header(headers, "X-Main-Class", encoded),
            product_name=_header(headers, "X-Product-Name", encoded),
            release_status=_text(headers, "X-Release-Status"),
        )
