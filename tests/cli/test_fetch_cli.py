"""`releasegate fetch` (client-api.md §6): local errors, transport errors, and the flow against a
protocol-faithful fake server (the real endpoints are covered end to end elsewhere)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from releasegate.cli import app
from tests.fetch.fake_server import BASE, LICENSE_KEY, PRODUCT_ID, TEAM_ID, FakeServer
from tests.fixtures import vectors

REAL_ASYNC_CLIENT = httpx.AsyncClient


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "team.pub"
    path.write_text(vectors.PUBLIC_B64 + "\n")
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "downloads" / "plugin.jar"


@pytest.fixture(autouse=True)
def downloads_dir(out: Path) -> None:
    out.parent.mkdir()


def fetch(
    key_file: Path, out: Path, *extra: str, server: str = "http://releasegate.test"
) -> Result:
    args = ["fetch", "--server", server, "--team", TEAM_ID, "--public-key", str(key_file)]
    args += ["--license", LICENSE_KEY, "--product", PRODUCT_ID, "--out", str(out), *extra]
    return CliRunner().invoke(app, args)


def leftovers(out: Path) -> list[str]:
    return sorted(path.name for path in out.parent.iterdir())


def serve(monkeypatch: pytest.MonkeyPatch, server: FakeServer) -> FakeServer:
    """Route the command's HTTP client to `server` (the command builds its own client)."""

    def client(**options: Any) -> httpx.AsyncClient:
        return REAL_ASYNC_CLIENT(transport=server.transport(), **options)

    monkeypatch.setattr(httpx, "AsyncClient", client)
    return server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- local errors: exit 2 ---------------------------------------------------------------------


def test_missing_required_option_is_a_usage_error(key_file: Path) -> None:
    result = CliRunner().invoke(app, ["fetch", "--server", "http://x", "--team", TEAM_ID])
    assert result.exit_code == 2
    assert "Missing option" in result.stderr


@pytest.mark.parametrize(
    "content",
    ["", "not a key", vectors.PRIVATE_PEM.decode("ascii"), "aGVsbG8gd29ybGQ="],
    ids=["empty", "words", "private-key", "base64-of-non-pem"],
)
def test_bad_public_key_file_exits_2(key_file: Path, out: Path, content: str) -> None:
    key_file.write_text(content)
    result = fetch(key_file, out)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "no RSA public key" in result.stderr
    assert result.stdout == ""


def test_missing_public_key_file_exits_2(tmp_path: Path, out: Path) -> None:
    result = fetch(tmp_path / "nope.pem", out)
    assert result.exit_code == 2
    assert "cannot read public key file" in result.stderr


def test_public_key_file_may_hold_the_pem(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file.write_bytes(vectors.PUBLIC_PEM)
    serve(monkeypatch, FakeServer())
    assert fetch(key_file, out).exit_code == 0


def test_server_without_scheme_exits_2(key_file: Path, out: Path) -> None:
    result = fetch(key_file, out, server="releasegate.test:8080")
    assert result.exit_code == 2
    assert "--server" in result.stderr


def test_out_in_a_missing_directory_exits_2_before_any_request(
    key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(monkeypatch, FakeServer())
    result = fetch(key_file, tmp_path / "missing" / "plugin.jar")
    assert result.exit_code == 2
    assert "cannot write next to" in result.stderr
    assert server.requests == []


# --- remote errors: exit 1 --------------------------------------------------------------------


def test_unreachable_server_exits_1_with_a_clear_message(key_file: Path, out: Path) -> None:
    result = fetch(key_file, out, server=f"http://127.0.0.1:{closed_port()}")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # handled, not a traceback
    assert result.stderr.startswith("error: cannot complete the request to http://127.0.0.1:")
    assert "Traceback" not in result.output
    assert LICENSE_KEY not in result.output
    assert leftovers(out) == []


def test_refusal_prints_details_and_code_and_exits_1(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, FakeServer(refusal=(403, "LICENSE_SUSPENDED", "License suspended")))
    result = fetch(key_file, out)
    assert result.exit_code == 1
    assert result.stderr == "error: License suspended (LICENSE_SUSPENDED)\n"
    assert result.stdout == ""
    assert leftovers(out) == []


def test_non_envelope_answer_exits_1_with_the_http_status(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, FakeServer(raw_error=httpx.Response(502, text="Bad gateway")))
    result = fetch(key_file, out)
    assert result.exit_code == 1
    assert "HTTP 502" in result.stderr


def test_wrong_challenge_response_exits_1_before_downloading(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(monkeypatch, FakeServer(challenge_response=lambda challenge: "00" * 256))
    result = fetch(key_file, out)
    assert result.exit_code == 1
    assert "challenge response" in result.stderr
    assert [request.url.path for request in server.requests] == [f"{BASE}/verify"]
    assert leftovers(out) == []


def test_corrupt_download_exits_1_and_leaves_nothing(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, FakeServer(tamper=lambda body: body[:-1]))
    result = fetch(key_file, out)
    assert result.exit_code == 1
    assert "corrupt" in result.stderr
    assert leftovers(out) == []


def test_failed_download_keeps_an_existing_output_file(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out.write_bytes(b"previous build")
    serve(monkeypatch, FakeServer(headers={"X-File-Sha256": "00" * 32}))
    assert fetch(key_file, out).exit_code == 1
    assert out.read_bytes() == b"previous build"
    assert leftovers(out) == ["plugin.jar"]


# --- success ----------------------------------------------------------------------------------


def test_fetch_verifies_then_writes_the_file_and_a_summary(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(monkeypatch, FakeServer())
    result = fetch(key_file, out, "--version", "1.0.0", "--hardware-identifier", "machine-0001")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == vectors.plaintext_150000()
    assert leftovers(out) == ["plugin.jar"]
    assert result.stdout == (
        f"{out}: version 1.0.0, 150000 bytes, sha256 {vectors.PLAINTEXT_SHA256}, "
        "main class com.example.Main\n"
    )
    verify, download = server.requests
    assert verify.url.path == f"{BASE}/verify"
    assert download.url.params["version"] == "1.0.0"
    assert download.url.params["hardwareIdentifier"] == "machine-0001"


def test_fetch_replaces_an_existing_output_file(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out.write_bytes(b"previous build")
    serve(monkeypatch, FakeServer(plaintext=b"new build"))
    assert fetch(key_file, out).exit_code == 0
    assert out.read_bytes() == b"new build"


def test_fetch_defaults_to_this_machines_hardware_identifier(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(monkeypatch, FakeServer())
    assert fetch(key_file, out).exit_code == 0
    hwid = server.requests[1].url.params["hardwareIdentifier"]
    assert len(hwid) == 64


def test_fetch_never_prints_the_license_or_session_key(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(monkeypatch, FakeServer())
    result = fetch(key_file, out)
    session_key = server.requests[1].url.params["sessionKey"]
    assert LICENSE_KEY not in result.output
    assert session_key not in result.output
    assert session_key[:32] not in result.output


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    key_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, FakeServer())
    result = fetch(key_file, out)
    assert result.stderr == ""
