"""docs/deploy.md, followed as written against real PostgreSQL, SeaweedFS (S3) and Redis.

The doc's ```sh blocks are run, not copied: step 1's exports go through bash with the
placeholders swapped for the test services' values (the secret key is the doc's own command
substitution), and every later step runs with exactly that environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from releasegate.settings import Settings
from tests.fixtures.multipart import content_type, data_part, encode, file_part
from tests.fixtures.services import (
    S3_REGION,
    ProductionServices,
    free_ports,
    stop_process,
    wait_until_healthy,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "deploy.md"
BIN = Path(sys.executable).parent
CONFIGURATION = "1. Configuration"
SCHEMA = "2. Schema"
PROCESSES = "3. Processes"
STORAGE = "5. Storage"
RECONCILE = "releasegate storage reconcile"
# Kept exactly as the doc writes them; every other exported value is a placeholder.
AS_WRITTEN = frozenset({"RELEASEGATE_SECRET_KEY", "RELEASEGATE_TRUSTED_PROXIES"})
HOST_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
COMMAND_TIMEOUT = 120.0
REFUSAL_TIMEOUT = 30.0
WORKER_SURVIVAL = 3.0
# NAME=value, where value may be a `$(...)` command substitution containing spaces.
ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\$\(.*?\)(?=\s|$)|\S+)")


def doc_section(heading: str) -> str:
    """The text under the `## ` heading that starts with `heading`, up to the next one."""
    sections = re.split(r"^## ", DOC.read_text(), flags=re.MULTILINE)
    for section in sections[1:]:
        title, _, body = section.partition("\n")
        if title.startswith(heading):
            return body
    raise AssertionError(f"docs/deploy.md has no '## {heading}' section")


def sh_block(heading: str) -> str:
    match = re.search(r"```sh\n(.*?)```", doc_section(heading), re.DOTALL)
    assert match is not None, f"docs/deploy.md '## {heading}' has no ```sh block"
    return match.group(1)


def exported_assignments() -> list[tuple[str, str]]:
    """(name, value as written) for every `export` in step 1, comments dropped."""
    assignments = []
    for line in sh_block(CONFIGURATION).splitlines():
        code = re.split(r"\s#", line, maxsplit=1)[0].strip()
        if not code:
            continue
        assert code.startswith("export "), f"step 1 line is not an export: {line!r}"
        found = ASSIGNMENT.findall(code.removeprefix("export "))
        assert found, f"step 1 export without NAME=value: {line!r}"
        assignments.extend(found)
    return assignments


def process_commands() -> dict[str, list[str]]:
    """Step 3's command lines by subcommand: {"serve": [...], "worker": [...]}."""
    commands = {}
    for line in sh_block(PROCESSES).splitlines():
        argv = shlex.split(line, comments=True)
        if argv:
            assert argv[0] == "releasegate", f"step 3 line is not a releasegate command: {line!r}"
            commands[argv[1]] = argv
    assert set(commands) == {"serve", "worker"}, commands
    return commands


def with_port(argv: list[str], port: int) -> list[str]:
    assert "--port" in argv, f"the serve line names no --port: {argv}"
    index = argv.index("--port") + 1
    return [*argv[:index], str(port), *argv[index + 1 :]]


def test_configuration_exports_only_real_settings() -> None:
    assert Settings.model_config.get("env_prefix") == "RELEASEGATE_"
    names = [name for name, _ in exported_assignments()]
    unknown = [
        name
        for name in names
        if name.startswith("RELEASEGATE_")
        and name.removeprefix("RELEASEGATE_").lower() not in Settings.model_fields
    ]
    assert not unknown, f"docs/deploy.md exports variables that are not settings: {unknown}"
    assert "RELEASEGATE_SECRET_KEY" in names


@pytest.fixture
def empty_postgres_database(production_services: ProductionServices) -> Iterator[str]:
    """A database with no schema, as on a first deploy: step 2 must build it from nothing."""
    postgres = production_services.postgres
    # The session prefix makes the template's `close` drop it even if this test dies.
    name = f"{postgres.name_prefix}deploy_{secrets.token_hex(6)}"

    async def create() -> None:
        connection = await asyncpg.connect(postgres.url("postgres"), timeout=5)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    try:
        yield postgres.url(name)
    finally:
        postgres.drop_database(name)


@pytest.fixture
def deploy_env(
    tmp_path: Path,
    production_services: ProductionServices,
    empty_postgres_database: str,
    s3_storage_url: str,
    redis_url: str,
) -> dict[str, str]:
    """Step 1 run by bash with the test services' values: the host basics plus its exports."""
    s3 = production_services.s3
    test_values = {
        "RELEASEGATE_DATABASE_URL": empty_postgres_database,
        "RELEASEGATE_STORAGE_URL": s3_storage_url,
        "RELEASEGATE_S3_ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3.secret_access_key,
        "AWS_REGION": S3_REGION,
        "RELEASEGATE_REDIS_URL": redis_url,
    }
    assignments = exported_assignments()
    names = [name for name, _ in assignments]
    assert set(names) == set(test_values) | AS_WRITTEN, "step 1 exports changed: map them here"
    script = "\n".join(
        f"export {name}={shlex.quote(test_values[name]) if name in test_values else value}"
        for name, value in assignments
    )
    host = {name: os.environ[name] for name in HOST_VARIABLES if name in os.environ}
    host["PATH"] = os.pathsep.join([str(BIN), host.get("PATH", os.defpath)])
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", f"{script}\nenv -0"],
        env=host,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"step 1 failed: {result.stderr}"
    exported = dict(entry.split("=", 1) for entry in result.stdout.split("\0") if entry)
    env = {**host, **{name: exported[name] for name in names}}
    assert re.fullmatch(r"[0-9a-f]{64}", env["RELEASEGATE_SECRET_KEY"])
    assert not [name for name in names if "…" in env[name]], env
    return env


def run_sh(block: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


@contextmanager
def background(
    argv: list[str], env: dict[str, str], cwd: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    log = cwd / f"{argv[1]}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield process, log
    finally:
        stop_process(process)


def round_trip_a_release(url: str, env: dict[str, str], cwd: Path) -> None:
    """A team from the CLI, then a product, an upload and its raw download through the dev API."""
    created = run_sh("releasegate team create Acme --json", env, cwd)
    assert created.returncode == 0, created.stderr
    team = json.loads(created.stdout)
    base = f"/api/v1/dev/teams/{team['teamId']}"
    content = b"a release uploaded by the deploy doc test\n"
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {team['apiKey']}"}, timeout=60
    ) as client:
        product = client.post(f"{base}/products", json={"name": "Deployed"})
        assert product.status_code == 201, product.text
        data = {
            "version": "1.0.0",
            "productId": product.json()["data"]["id"],
            "status": "PUBLISHED",
        }
        release = client.post(
            f"{base}/releases",
            content=encode([data_part(data), file_part(content)]),
            headers={"Content-Type": content_type()},
        )
        assert release.status_code == 201, release.text
        download = client.get(f"{base}/releases/{release.json()['data']['id']}/file")
        assert download.status_code == 200, download.text
        assert download.content == content


@pytest.mark.production
def test_following_the_doc_serves_and_round_trips_a_release(
    deploy_env: dict[str, str], tmp_path: Path
) -> None:
    for attempt in ("first", "second"):
        migrated = run_sh(sh_block(SCHEMA), deploy_env, tmp_path)
        assert migrated.returncode == 0, f"{attempt} migrate: {migrated.stderr}"

    commands = process_commands()
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    with (
        background(with_port(commands["serve"], port), deploy_env, tmp_path) as (serve, serve_log),
        background(commands["worker"], deploy_env, tmp_path) as (worker, worker_log),
    ):
        worker_started = time.monotonic()
        wait_until_healthy(url, serve, serve_log)
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        metrics = httpx.get(f"{url}/metrics", timeout=10)
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert "# TYPE releasegate_http_requests_total counter" in metrics.text

        round_trip_a_release(url, deploy_env, tmp_path)
        assert f"`{RECONCILE}`" in doc_section(STORAGE)
        reconciled = run_sh(RECONCILE, deploy_env, tmp_path)
        assert reconciled.returncode == 0, reconciled.stderr
        assert "0 missing" in reconciled.stdout, reconciled.stdout

        time.sleep(max(0.0, worker_started + WORKER_SURVIVAL - time.monotonic()))
        assert worker.poll() is None, f"worker exited: {worker_log.read_text()}"
        assert serve.poll() is None, f"serve exited: {serve_log.read_text()}"


@pytest.mark.production
@pytest.mark.parametrize("command", ["serve", "worker", "migrate"])
def test_without_secret_key_each_command_refuses_to_start(
    command: str, deploy_env: dict[str, str], tmp_path: Path
) -> None:
    env = {name: value for name, value in deploy_env.items() if name != "RELEASEGATE_SECRET_KEY"}
    argv = {
        **process_commands(),
        "migrate": shlex.split(sh_block(SCHEMA), comments=True),
    }[command]
    if command == "serve":
        argv = with_port(argv, free_ports(1)[0])
    try:
        result = subprocess.run(
            argv,
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=REFUSAL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"{command} without RELEASEGATE_SECRET_KEY still running after {REFUSAL_TIMEOUT:.0f}s"
        )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "RELEASEGATE_SECRET_KEY" in lines[0]
