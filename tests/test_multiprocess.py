"""Two `releasegate serve` processes share one PostgreSQL, S3 prefix and Redis database.

Concurrent requests split across both processes must still see one database, one catalogue
lock and one rate-limit store: one winner among parallel creates of a version, one latest
release after parallel set-latest calls, one dev.read budget per API key, and one replay guard:
a classloader session key spent on one process is refused by the other.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from releasegate.kit.session_key import load_public_key, make_session_key
from tests.fixtures.api import Api, TeamCredentials
from tests.fixtures.services import (
    ProductionServices,
    free_ports,
    stop_process,
    wait_until_healthy,
)

pytestmark = pytest.mark.production

BIN = Path(sys.executable).parent
COMMAND_TIMEOUT = 120.0
REQUEST_TIMEOUT = 60.0
PARALLEL = 50
VERSION_TAKEN = "A release with this version already exists for this product and branch"
READ_LIMIT = 6


@dataclass(frozen=True)
class Cluster:
    urls: tuple[str, str]
    env: dict[str, str]
    team: TeamCredentials
    public_key: str


def releasegate(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "releasegate"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"releasegate {' '.join(args)}: {result.stderr}"
    return result.stdout


@pytest.fixture
def cluster(
    tmp_path: Path,
    production_services: ProductionServices,
    postgres_database: str,
    s3_storage_url: str,
    redis_url: str,
) -> Iterator[Cluster]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("RELEASEGATE_")}
    env.update(
        {
            "RELEASEGATE_DATA_DIR": str(tmp_path / "data"),
            "RELEASEGATE_DATABASE_URL": postgres_database,
            "RELEASEGATE_STORAGE_URL": s3_storage_url,
            "RELEASEGATE_S3_ENDPOINT_URL": production_services.s3.endpoint_url,
            "RELEASEGATE_REDIS_URL": redis_url,
            "RELEASEGATE_SECRET_KEY": secrets.token_hex(32),
            "RELEASEGATE_LOG_LEVEL": "WARNING",
            "RELEASEGATE_RUN_JOBS": "false",
            # Only dev.read is under test; the write buckets must not interfere.
            "RELEASEGATE_RATE_LIMIT_DEV_READ": f"{READ_LIMIT}/60",
            "RELEASEGATE_RATE_LIMIT_DEV_WRITE": "0",
            "RELEASEGATE_RATE_LIMIT_RELEASES_CREATE": "0",
        }
    )
    releasegate(env, tmp_path, "migrate")
    created = json.loads(releasegate(env, tmp_path, "team", "create", "Acme", "--json"))
    team = TeamCredentials(team_id=created["teamId"], api_key=created["apiKey"])

    processes: list[subprocess.Popen[bytes]] = []
    try:
        urls = []
        logs = []
        for index, port in enumerate(free_ports(2)):
            log = tmp_path / f"serve-{index}.log"
            with log.open("wb") as output:
                processes.append(
                    subprocess.Popen(
                        [str(BIN / "releasegate"), "serve", "--port", str(port), "--no-jobs"],
                        env=env,
                        cwd=tmp_path,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
            logs.append(log)
        for url, process, log in zip(urls, processes, logs, strict=True):
            wait_until_healthy(url, process, log)
        yield Cluster(urls=(urls[0], urls[1]), env=env, team=team, public_key=created["publicKey"])
    finally:
        for process in processes:
            stop_process(process)


def release_body(product_id: str, version: str) -> dict[str, Any]:
    return {"version": version, "productId": product_id, "status": "PUBLISHED"}


def details(response: httpx.Response) -> str:
    return str(response.json()["result"]["details"])


async def test_two_servers_share_database_locks_and_rate_limits(
    cluster: Cluster, tmp_path: Path
) -> None:
    timeout = httpx.Timeout(REQUEST_TIMEOUT)
    limits = httpx.Limits(max_connections=PARALLEL)
    async with (
        httpx.AsyncClient(base_url=cluster.urls[0], timeout=timeout, limits=limits) as first,
        httpx.AsyncClient(base_url=cluster.urls[1], timeout=timeout, limits=limits) as second,
    ):
        apis = (Api(first, cluster.team), Api(second, cluster.team))
        product_id = await apis[0].create_product()

        # (1) 50 parallel creates of one version, alternating servers: exactly one wins.
        responses = await asyncio.gather(
            *(
                apis[i % 2].create_release(release_body(product_id, "1.0.0"), f"copy {i}".encode())
                for i in range(PARALLEL)
            )
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [409] * (PARALLEL - 1), [r.text for r in responses]
        assert all(details(r) == VERSION_TAKEN for r in responses if r.status_code == 409)

        # (2) 50 parallel set-latest calls over 10 releases and both servers: one latest.
        release_ids = []
        for n in range(10):
            response = await apis[n % 2].create_release(
                release_body(product_id, f"2.{n}.0"), f"release {n}".encode()
            )
            assert response.status_code == 201, response.text
            release_ids.append(str(response.json()["data"]["id"]))
        responses = await asyncio.gather(
            *(
                apis[i % 2].post_json(
                    f"/releases/{release_ids[i % len(release_ids)]}/set-latest", {}
                )
                for i in range(PARALLEL)
            )
        )
        assert [r.status_code for r in responses] == [200] * PARALLEL, [r.text for r in responses]
        listed = await first.get(
            f"{apis[0].base}/releases",
            params={"productId": product_id, "pageSize": "100"},
            headers=cluster.team.headers,
        )
        assert listed.status_code == 200, listed.text
        releases = listed.json()["data"]["releases"]
        assert len(releases) == 11
        assert sum(1 for release in releases if release["latest"]) == 1

        # (3) One dev.read budget for a key, whichever server counts the request.
        created = json.loads(
            releasegate(
                cluster.env, tmp_path, "apikey", "create", "--team", cluster.team.team_id, "--json"
            )
        )
        reader = TeamCredentials(team_id=cluster.team.team_id, api_key=created["apiKey"])
        responses = await asyncio.gather(
            *(
                (first, second)[i % 2].get(
                    f"{apis[0].base}/releases",
                    params={"productId": product_id},
                    headers=reader.headers,
                )
                for i in range(8)
            )
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] * READ_LIMIT + [429] * (8 - READ_LIMIT), [
            r.text for r in responses
        ]
        assert all(details(r) == "Too many requests" for r in responses if r.status_code == 429)

        # (4) One replay guard: a session key spent on the first server is refused by the second.
        license_key = (await apis[0].create_license([product_id]))["licenseKey"]
        _, session_key = make_session_key(load_public_key(cluster.public_key))
        params = {
            "licenseKey": license_key,
            "productId": product_id,
            "sessionKey": session_key,
            "hardwareIdentifier": "multiprocess-device-1",
        }
        path = f"/api/v1/client/teams/{cluster.team.team_id}/verification/classloader"
        served = await first.get(path, params=params)
        assert served.status_code == 200, served.text
        assert served.headers["content-type"] == "application/octet-stream"
        replayed = await second.get(path, params=params)
        assert replayed.status_code == 429, replayed.text
        assert replayed.json()["result"]["code"] == "RATE_LIMIT"
        assert replayed.json()["result"]["details"] == "Rate limited"
