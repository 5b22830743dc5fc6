"""The client protocol end to end (client-api.md §4.5, §4.6, §5, §6, §8.5–8.6).

The committed vectors against the real endpoints byte for byte; session keys made by other
implementations (node, openssl) at test time; the reference client over the in-process app; and
`releasegate fetch` against a real `releasegate serve`, including what reaches the server's log.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from releasegate.fetch import ChallengeMismatch, Refused, ReleasegateClient
from releasegate.kit.rsa_keys import KeyPairPem
from releasegate.kit.session_key import load_public_key
from releasegate.runtime import Runtime
from releasegate.teams.service import replace_key_pair
from tests.fixtures import vectors
from tests.fixtures.api import Api, TeamCredentials, jar_bytes
from tests.fixtures.client_api import (
    ClientApi,
    assert_rate_limited,
    create_license,
    create_release,
    make_session_key,
    suspend_license,
    team_public_key,
)
from tests.fixtures.services import free_ports, stop_process

BIN = Path(sys.executable).parent
HWID = "e2e-hwid-0123456789"
START_TIMEOUT = 60.0
START_ATTEMPTS = 3  # a new port each time: other test runs pick free ports too
COMMAND_TIMEOUT = 120.0
TWO_FRAMES = bytes(range(256)) * 400  # 102,400 bytes: one full frame and a partial one

NODE_OAEP = """
const crypto = require('crypto');
const key = require('fs').readFileSync(process.argv[1], 'utf8');
const out = crypto.publicEncrypt(
  {key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING}, Buffer.from(process.argv[2], 'hex'));
process.stdout.write(out.toString('hex'));
"""


# --- Independent pieces: tools and the §4.5 decrypter ------------------------------------------


def required_tool(name: str) -> str:
    """The tool's path; skipped when missing, except under CI=true, where that is a failure."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{name} is required under CI=true", pytrace=False)
        pytest.skip(f"{name} is not installed")
    return path


def decrypt_body(body: bytes, secret: bytes) -> bytes:
    """§4.5 by hand: BE32(L) ‖ IV(12) ‖ tag(16) ‖ CT, AES-256-GCM, K = SHA-256(ASCII hex(S))."""
    cipher = AESGCM(hashlib.sha256(secret.hex().encode("ascii")).digest())
    plaintext = bytearray()
    offset = 0
    while offset < len(body):
        (length,) = struct.unpack_from(">I", body, offset)
        frame = body[offset + 4 : offset + 4 + length]
        assert 28 < length == len(frame), f"bad frame at {offset}"
        iv, tag, ciphertext = frame[:12], frame[12:28], frame[28:]
        plaintext += cipher.decrypt(iv, ciphertext + tag, None)
        offset += 4 + length
    return bytes(plaintext)


def node_session_key(public_pem: str, secret: bytes, workdir: Path) -> str:
    node = required_tool("node")
    key_file = workdir / "team_public.pem"
    key_file.write_text(public_pem)
    done = subprocess.run(
        [node, "-e", NODE_OAEP, str(key_file), secret.hex()],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def openssl_session_key(public_pem: str, secret: bytes, workdir: Path) -> str:
    openssl = required_tool("openssl")
    (workdir / "team_public.pem").write_text(public_pem)
    (workdir / "secret.bin").write_bytes(secret)
    done = subprocess.run(
        [
            *(openssl, "pkeyutl", "-encrypt", "-pubin", "-inkey", "team_public.pem"),
            *("-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1"),
            *("-in", "secret.bin", "-out", "session.bin"),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return (workdir / "session.bin").read_bytes().hex()


SESSION_KEY_MAKERS = {"node": node_session_key, "openssl": openssl_session_key}


# --- In-process state ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    product_id: str
    license_id: str
    license_key: str
    release: dict[str, Any]


async def publish(api: Api, content: bytes, filename: str = "vectors.bin") -> Published:
    """A product, a license linked to it and a PUBLISHED latest release 1.0.0 holding `content`."""
    product_id = await api.create_product()
    license_ = await create_license(api, productIds=[product_id])
    release = await create_release(
        api, product_id, "1.0.0", latest=True, file=content, filename=filename
    )
    return Published(product_id, str(license_["id"]), str(license_["licenseKey"]), release)


def download_params(published: Published, session_key: str) -> dict[str, str]:
    return {
        "licenseKey": published.license_key,
        "productId": published.product_id,
        "sessionKey": session_key,
        "hardwareIdentifier": HWID,
    }


@pytest.fixture
async def vector_team(runtime: Runtime, team: TeamCredentials) -> TeamCredentials:
    """The test team with the vectors' key pair and the vectors' fixed frame IVs (§8.1, §8.4)."""
    pair = KeyPairPem(vectors.PUBLIC_PEM.decode("ascii"), vectors.PRIVATE_PEM.decode("ascii"))
    await replace_key_pair(runtime, uuid.UUID(team.team_id), pair)
    runtime.frame_iv_source = vectors.fixed_iv
    return team


@pytest.fixture
def vector_client(app_client: httpx.AsyncClient, vector_team: TeamCredentials) -> ClientApi:
    return ClientApi(app_client, vector_team.team_id, vectors.PUBLIC_PEM.decode("ascii"))


@pytest.fixture
async def vector_release(vector_team: TeamCredentials, api: Api) -> Published:
    return await publish(api, vectors.plaintext_150000())


@pytest.fixture
async def team_pem(runtime: Runtime, team: TeamCredentials) -> str:
    """The team's own public key as stored (TeamKeyPair.public_key)."""
    return await team_public_key(runtime, team.team_id)


# --- §8.5: the vectors, byte for byte -----------------------------------------------------------


async def test_vector_session_key_downloads_exactly_the_recorded_frames(
    vector_client: ClientApi, vector_release: Published
) -> None:
    session_key = vectors.SESSION_KEYS["cryptography_s32"].session_key
    response = await vector_client.classloader(download_params(vector_release, session_key))
    assert response.status_code == 200, response.text
    assert response.headers["content-length"] == "150096"
    assert response.content == vectors.FRAMES_150000
    assert decrypt_body(response.content, vectors.SECRET_32.secret) == vectors.plaintext_150000()


async def test_vector_download_sends_every_header_with_its_exact_value(
    vector_client: ClientApi, vector_release: Published
) -> None:
    session_key = vectors.SESSION_KEYS["cryptography_s32"].session_key
    response = await vector_client.classloader(download_params(vector_release, session_key))
    assert response.status_code == 200, response.text
    headers = dict(response.headers)
    assert headers.pop("x-request-id", None)
    release = vector_release.release
    assert headers == {
        "content-type": "application/octet-stream",
        "content-length": "150096",
        "content-security-policy": "default-src 'none'",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
        "x-file-size": "150000",
        "x-file-sha256": vectors.PLAINTEXT_SHA256,
        "x-version": "1.0.0",
        "x-latest-version": "1.0.0",
        "x-product-name": "My Product",
        "x-release-status": "PUBLISHED",
        "x-release-created-at": release["createdAt"],
        "x-file-created-at": release["file"]["createdAt"],
    }  # no X-Main-Class for a non-JAR, no X-Percent-Encoded for ASCII values
    assert hashlib.sha256(vectors.plaintext_150000()).hexdigest() == vectors.PLAINTEXT_SHA256


async def test_vector_session_key_presented_again_is_rate_limited(
    vector_client: ClientApi, vector_release: Published
) -> None:
    params = download_params(vector_release, vectors.SESSION_KEYS["cryptography_s32"].session_key)
    first = await vector_client.classloader(params)
    assert first.status_code == 200, first.text
    again = await vector_client.classloader(params)
    assert_rate_limited(again)
    assert int(again.headers["retry-after"]) <= 900


@pytest.mark.parametrize("maker", sorted(SESSION_KEY_MAKERS))
async def test_session_key_made_by_another_implementation_downloads_the_file(
    app_client: httpx.AsyncClient,
    api: Api,
    team: TeamCredentials,
    team_pem: str,
    tmp_path: Path,
    maker: str,
) -> None:
    published = await publish(api, TWO_FRAMES)
    secret = os.urandom(32)
    session_key = SESSION_KEY_MAKERS[maker](team_pem, secret, tmp_path)
    assert len(session_key) == 512
    client = ClientApi(app_client, team.team_id, team_pem)
    response = await client.classloader(download_params(published, session_key))
    assert response.status_code == 200, response.text
    assert response.headers["content-length"] == str(len(TWO_FRAMES) + 2 * 32)
    assert decrypt_body(response.content, secret) == TWO_FRAMES


async def test_empty_file_downloads_as_an_empty_body(
    app_client: httpx.AsyncClient, api: Api, team: TeamCredentials, team_pem: str
) -> None:
    published = await publish(api, b"", filename="empty.bin")
    assert published.release["file"]["size"] == 0  # the dev API accepts an empty upload
    session = make_session_key(team_pem)
    client = ClientApi(app_client, team.team_id, team_pem)
    response = await client.classloader(download_params(published, session.session_key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == "0"
    assert response.headers["x-file-size"] == "0"
    assert response.headers["x-file-sha256"] == hashlib.sha256(b"").hexdigest()
    assert response.content == b""


# --- §6: the reference client over the in-process app -----------------------------------------


async def test_reference_client_verifies_and_downloads_a_jar(
    app_client: httpx.AsyncClient, api: Api, team: TeamCredentials, team_pem: str
) -> None:
    jar = jar_bytes("com.example.Main")
    published = await publish(api, jar, filename="app.jar")
    client = ReleasegateClient(app_client, team.team_id, load_public_key(team_pem))
    # verify raises ChallengeMismatch unless challengeResponse is the team key's signature.
    assert await client.verify(published.license_key, product_id=published.product_id) is None
    sink = io.BytesIO()
    downloaded = await client.download(published.license_key, published.product_id, HWID, sink=sink)
    assert sink.getvalue() == jar
    assert downloaded.main_class == "com.example.Main"
    assert downloaded.version == "1.0.0"
    assert downloaded.latest_version == "1.0.0"
    assert downloaded.size == len(jar)
    assert downloaded.sha256 == hashlib.sha256(jar).hexdigest()
    assert downloaded.product_name == "My Product"
    assert downloaded.release_status == "PUBLISHED"


async def test_reference_client_with_another_teams_key_refuses_the_challenge_response(
    app_client: httpx.AsyncClient, api: Api, team: TeamCredentials
) -> None:
    published = await publish(api, b"content")
    client = ReleasegateClient(app_client, team.team_id, load_public_key(vectors.PUBLIC_PEM))
    with pytest.raises(ChallengeMismatch):
        await client.verify(published.license_key, product_id=published.product_id)


@pytest.mark.parametrize("action", ["verify", "download"])
async def test_reference_client_surfaces_a_suspended_license_as_refused(
    app_client: httpx.AsyncClient,
    api: Api,
    team: TeamCredentials,
    team_pem: str,
    action: str,
) -> None:
    product_id = await api.create_product()
    license_ = await create_license(api, productIds=[product_id])
    await create_release(api, product_id, "1.0.0", latest=True)
    await suspend_license(api, license_["id"])
    client = ReleasegateClient(app_client, team.team_id, load_public_key(team_pem))
    sink = io.BytesIO()

    async def attempt() -> object:
        if action == "verify":
            return await client.verify(license_["licenseKey"], product_id=product_id)
        return await client.download(license_["licenseKey"], product_id, HWID, sink=sink)

    with pytest.raises(Refused) as refused:
        await attempt()
    assert (refused.value.status, refused.value.code, refused.value.details) == (
        403,
        "LICENSE_SUSPENDED",
        "License suspended",
    )
    assert sink.getvalue() == b""


# --- §8.6: the challenge vector ------------------------------------------------------------------


async def verify_vector_challenge(client: ClientApi, api: Api) -> dict[str, Any]:
    license_ = await create_license(api)
    response = await client.verify(
        {"licenseKey": license_["licenseKey"], "challenge": vectors.CHALLENGE}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    assert result["code"] == "VALID"
    return result


async def test_vector_challenge_is_answered_with_the_recorded_signature(
    vector_client: ClientApi, api: Api
) -> None:
    result = await verify_vector_challenge(vector_client, api)
    assert result["challengeResponse"] == vectors.CHALLENGE_SIGNATURE


def openssl_verifies(public_pem: str, message: bytes, signature_hex: str, workdir: Path) -> None:
    """`openssl dgst -sha256 -verify` (RSASSA-PKCS1-v1_5 with SHA-256) accepts the signature."""
    openssl = required_tool("openssl")
    (workdir / "team_public.pem").write_text(public_pem)
    (workdir / "challenge.txt").write_bytes(message)
    (workdir / "sig.bin").write_bytes(bytes.fromhex(signature_hex))
    done = subprocess.run(
        [
            *(openssl, "dgst", "-sha256", "-verify", "team_public.pem"),
            *("-signature", "sig.bin", "challenge.txt"),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "Verified OK"


async def test_vector_challenge_response_verifies_with_openssl(
    vector_client: ClientApi, api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    required_tool("openssl")
    result = await verify_vector_challenge(vector_client, api)
    stored_pem = await team_public_key(runtime, vector_client.team_id)
    message = vectors.CHALLENGE.encode("utf-8")
    openssl_verifies(stored_pem, message, result["challengeResponse"], tmp_path)


# --- `releasegate fetch` against a real `releasegate serve` (embedded profile only) -----------


@dataclass(frozen=True)
class LiveServer:
    url: str
    env: dict[str, str]
    log: Path
    team: TeamCredentials
    public_pem: str
    process: subprocess.Popen[bytes]

    def stopped_log(self) -> str:
        """The whole log: the access line is written after the response, so stop first."""
        stop_process(self.process)
        return self.log.read_text(errors="replace")


def run_releasegate(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "releasegate"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def serve(env: dict[str, str], cwd: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A started `releasegate serve` and its URL, retried on a new port if the bind is lost.

    Other test runs pick free ports too: readiness requires our own log to announce the port,
    so a server of theirs answering /healthz on a port we lost is never mistaken for ours.
    """
    for _ in range(START_ATTEMPTS):
        (port,) = free_ports(1)
        url = f"http://127.0.0.1:{port}"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(BIN / "releasegate"), "serve", "--port", str(port), "--no-jobs"],
                env=env,
                cwd=cwd,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if started(url, process, log):
            return process, url
        stop_process(process)
    pytest.fail(f"server did not start in {START_ATTEMPTS} attempts: {log.read_text()}")


def started(url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    """True once this process has bound `url` and answers /healthz; False if it exited."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if f"Uvicorn running on {url}" in log.read_text(errors="replace"):
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    pytest.fail(f"server at {url} not healthy after {START_TIMEOUT:.0f}s: {log.read_text()}")


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """`releasegate serve` on the embedded profile (temp data dir, free port, INFO logs to a
    file), with a team made by `releasegate team create --json`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RELEASEGATE_")}
    env.update({"RELEASEGATE_DATA_DIR": str(tmp_path / "data"), "RELEASEGATE_LOG_LEVEL": "INFO"})
    created = run_releasegate(env, tmp_path, "team", "create", "Acme", "--json")
    assert created.returncode == 0, created.stderr
    team = json.loads(created.stdout)
    log = tmp_path / "serve.log"
    process, url = serve(env, tmp_path, log)
    try:
        yield LiveServer(
            url=url,
            env=env,
            log=log,
            team=TeamCredentials(team_id=team["teamId"], api_key=team["apiKey"]),
            public_pem=team["publicKey"],
            process=process,
        )
    finally:
        stop_process(process)


async def publish_live(server: LiveServer, content: bytes) -> Published:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await publish(Api(http, server.team), content, filename="app.jar")


async def suspend_live(server: LiveServer, license_id: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await suspend_license(Api(http, server.team), license_id)


def fetch(
    server: LiveServer, published: Published, out: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    key_file = out.parent / "team_public.pem"
    key_file.write_text(server.public_pem)
    return run_releasegate(
        server.env,
        out.parent,
        "fetch",
        "--server",
        server.url,
        "--team",
        server.team.team_id,
        "--public-key",
        str(key_file),
        "--license",
        published.license_key,
        "--product",
        published.product_id,
        "--out",
        str(out),
        *extra,
    )


async def test_cli_fetch_from_a_real_server_writes_the_file(
    live_server: LiveServer, tmp_path: Path
) -> None:
    jar = jar_bytes("com.example.Main")
    published = await publish_live(live_server, jar)
    out = tmp_path / "client" / "app.jar"
    out.parent.mkdir()
    done = fetch(live_server, published, out)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == jar
    assert "main class com.example.Main" in done.stdout
    assert hashlib.sha256(jar).hexdigest() in done.stdout


async def test_cli_fetch_with_a_suspended_license_exits_1_without_printing_the_key(
    live_server: LiveServer, tmp_path: Path
) -> None:
    published = await publish_live(live_server, jar_bytes("com.example.Main"))
    await suspend_live(live_server, published.license_id)
    out = tmp_path / "client" / "app.jar"
    out.parent.mkdir()
    done = fetch(live_server, published, out)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "License suspended" in done.stderr
    assert published.license_key not in done.stderr
    assert published.license_key not in done.stdout
    assert not out.exists()
    assert sorted(path.name for path in out.parent.iterdir()) == ["team_public.pem"]


async def test_server_log_of_a_fetch_holds_no_license_session_key_or_hwid(
    live_server: LiveServer, tmp_path: Path
) -> None:
    published = await publish_live(live_server, jar_bytes("com.example.Main"))
    out = tmp_path / "client" / "app.jar"
    out.parent.mkdir()
    done = fetch(live_server, published, out, "--hardware-identifier", HWID)
    assert done.returncode == 0, done.stderr
    # The CLI's session key is unknown here; one made by the test pins the exact strings.
    session = make_session_key(live_server.public_pem)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        client = ClientApi(http, live_server.team.team_id, live_server.public_pem)
        response = await client.classloader(download_params(published, session.session_key))
    assert response.status_code == 200, response.text
    log_text = live_server.stopped_log()

    entries = [json.loads(line) for line in log_text.splitlines() if line.startswith("{")]
    downloads = [
        entry
        for entry in entries
        if entry.get("event") == "request"
        and str(entry.get("route", "")).endswith("/verification/classloader")
    ]
    assert len(downloads) == 2, log_text  # the log did see both downloads
    text = log_text.lower()
    for secret in (
        published.license_key,
        HWID,
        session.session_key,
        session.session_key[200:264],
        session.secret_hex,
    ):
        assert secret.lower() not in text, f"a secret reached the server log: {secret[:6]}…"
    assert re.search(r"[0-9a-f]{128}", text) is None, "a long hex run (a session key?) was logged"
