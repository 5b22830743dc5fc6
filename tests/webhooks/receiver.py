"""A real HTTP(S) receiver on 127.0.0.1 for delivery tests.

It records every request (recorded as soon as its body is read, so a request it then holds is
recorded too) and answers with a programmable sequence of replies: statuses, delays, requests
held until the receiver stops, redirects and bodies that never end. Each connection carries one
request (`Connection: close`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MAX_HEAD = 64 * 1024
ENDLESS_CHUNK = b"x" * 16384


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    hold: bool = False  # never answer; the connection stays open until the receiver stops
    endless: bool = False  # after the headers, body bytes without end


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lowercase names
    body: bytes


class Receiver:
    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self.server_names: list[str | None] = []  # the SNI of each TLS handshake
        self.default = Reply()
        self._replies: list[Reply] = []
        self._ssl = ssl_context
        if ssl_context is not None:
            ssl_context.sni_callback = self._on_sni
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[object]] = set()
        self._arrived = asyncio.Condition()
        self.port = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Receiver]:
        receiver = cls(ssl_context)
        await receiver.start()
        try:
            yield receiver
        finally:
            await receiver.stop()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with `replies`, in order; then `default`."""
        self._replies.extend(replies)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, ssl=self._ssl, limit=MAX_HEAD
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def wait_for(self, count: int, within: float = 10.0) -> list[Received]:
        """Until `count` requests have arrived (TimeoutError after `within` seconds)."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests

    def _on_sni(self, _ssl_object: object, server_name: str | None, _context: object) -> None:
        self.server_names.append(server_name)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            received = await self._read(reader)
            async with self._arrived:
                self.requests.append(received)
                self._arrived.notify_all()
            reply = self._replies.pop(0) if self._replies else self.default
            await self._answer(reply, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client went away (a cap, a timeout, a killed worker)
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Received:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines:
            if line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Received(method, path, headers, body)

    @staticmethod
    async def _answer(reply: Reply, writer: asyncio.StreamWriter) -> None:
        if reply.hold:
            await asyncio.Event().wait()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        headers = {"Connection": "close", **reply.headers}
        if reply.endless:
            headers["Content-Length"] = str(1 << 40)
        else:
            headers["Content-Length"] = str(len(reply.body))
        head = f"HTTP/1.1 {reply.status} Status\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        writer.write(head.encode("latin-1") + b"\r\n")
        if not reply.endless:
            writer.write(reply.body)
            await writer.drain()
            return
        while True:
            writer.write(ENDLESS_CHUNK)
            await writer.drain()


@dataclass(frozen=True)
class Certificates:
    """A throw-away CA and a server certificate it signed, as SSL contexts."""

    server: ssl.SSLContext
    client: ssl.SSLContext  # trusts only the CA


def certificates(tmp_path: Path, server_name: str) -> Certificates:
    """A CA and a certificate for `server_name` (subjectAltName DNS) signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "releasegate test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory = tmp_path / f"tls-{server_name}"
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(
        cadata=ca.public_bytes(serialization.Encoding.PEM).decode("ascii")
    )
    return Certificates(server=server, client=client)
