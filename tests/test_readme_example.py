"""The README's worked example runs, as written, against a real `releasegate serve`."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def readme_script() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Worked example", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    port = free_port()
    env = {**os.environ, "RELEASEGATE_DATA_DIR": str(tmp_path / "data")}
    for name in ("RELEASEGATE_DATABASE_URL", "RELEASEGATE_STORAGE_URL", "RELEASEGATE_REDIS_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [str(BIN / "releasegate"), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
        yield port, env
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is needed by the README example")
def test_readme_worked_example(server: tuple[int, dict[str, str]], tmp_path: Path) -> None:
    port, env = server
    script = readme_script()
    script = script.replace(".venv/bin/releasegate", str(BIN / "releasegate"))
    script = script.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"details":"Release updated"') == 2
    final, _ = json.JSONDecoder().raw_decode(result.stdout[result.stdout.rindex('{"data"') :])
    assert final["result"]["details"] == "Release updated"
    release = final["data"]
    assert release["version"] == "1.1.0"
    assert release["branch"]["name"] == "beta"
    assert release["latest"] is True
    assert release["file"]["size"] == len(b"hello again\n")
    assert release["metadata"][0]["key"] == "channel"
    # The licensed download through `releasegate fetch` got the replaced file back.
    assert (tmp_path / "downloaded.txt").read_bytes() == b"hello again\n"
    assert result.stdout.endswith("hello again\n")
