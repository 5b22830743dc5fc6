"""A protocol-faithful stand-in for the client endpoints, as an httpx transport.

It speaks client-api.md §4.5/§4.6/§5 with the test-vector key pair, so the reference client can
be tested before (and independently of) the real endpoints; each knob breaks one thing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from releasegate.kit.session_key import (
    UnreadableSessionKey,
    content_key,
    load_private_key,
    open_session_key,
    sign_challenge,
)
from releasegate.kit.stream_cipher import encrypt_stream
from tests.fixtures import vectors

TEAM_ID = "4f0e5b0c-2a51-4a61-9d4e-0c1f6a3a7b10"
PRODUCT_ID = "9b7e2d7c-8a1f-4f7e-a9a4-1d2e3f4a5b6c"
LICENSE_KEY = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"
BASE = f"/api/v1/client/teams/{TEAM_ID}/verification"


def envelope(code: str, details: str, *, data: Any = None, **extra: str) -> dict[str, Any]:
    result = {"timestamp": "2040-01-01T00:00:00.000Z", "valid": code == "VALID"}
    return {"data": data, "result": {**result, "details": details, "code": code, **extra}}


async def _chunked(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@dataclass
class FakeServer:
    plaintext: bytes = field(default_factory=vectors.plaintext_150000)
    refusal: tuple[int, str, str] | None = None  # (status, code, details) for every request
    raw_error: httpx.Response | None = None  # a non-envelope answer for every request
    challenge_response: Callable[[str], str | None] | None = None  # overrides the signature
    tamper: Callable[[bytes], bytes] | None = None  # applied to the encrypted body
    headers: dict[str, str] = field(default_factory=dict)  # override or add 200 headers
    data: Any = None  # verify/heartbeat `data`
    chunk_size: int = 7_001  # network read size seen by the client
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport(), base_url="http://releasegate.test")

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.raw_error is not None:
            return self.raw_error
        if self.refusal is not None:
            status, code, details = self.refusal
            return httpx.Response(status, json=envelope(code, details))
        path = request.url.path
        if path in (f"{BASE}/verify", f"{BASE}/heartbeat") and request.method == "POST":
            return self._verify(json.loads(request.content))
        if path == f"{BASE}/classloader" and request.method == "GET":
            return await self._classloader(request.url.params)
        return httpx.Response(404, json=envelope("BAD_REQUEST", "Not found"))

    def _verify(self, body: dict[str, Any]) -> httpx.Response:
        challenge = body["challenge"]
        if self.challenge_response is not None:
            signature = self.challenge_response(challenge)
        else:
            signature = sign_challenge(load_private_key(vectors.PRIVATE_PEM), challenge)
        extra = {} if signature is None else {"challengeResponse": signature}
        return httpx.Response(
            200, json=envelope("VALID", "License is valid", data=self.data, **extra)
        )

    async def _classloader(self, params: httpx.QueryParams) -> httpx.Response:
        try:
            secret = open_session_key(
                load_private_key(vectors.PRIVATE_PEM), params.get("sessionKey", "")
            )
        except UnreadableSessionKey:
            return httpx.Response(400, json=envelope("INVALID_SESSION_KEY", "Invalid session key"))

        async def plaintext() -> AsyncIterator[bytes]:
            yield self.plaintext

        body = b"".join([frame async for frame in encrypt_stream(plaintext(), content_key(secret))])
        if self.tamper is not None:
            body = self.tamper(body)
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(len(body)),
            "X-File-Size": str(len(self.plaintext)),
            "X-File-Sha256": hashlib.sha256(self.plaintext).hexdigest(),
            "X-Version": "1.0.0",
            "X-Latest-Version": "1.0.0",
            "X-Main-Class": "com.example.Main",
            "X-Product-Name": "Example",
            "X-Release-Status": "PUBLISHED",
            **self.headers,
        }
        return httpx.Response(200, headers=headers, content=_chunked(body, self.chunk_size))
