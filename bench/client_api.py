"""The licensed path: a large classloader download and verify latency, via the reference client.

Drives `releasegate.fetch.client.ReleasegateClient` against the running bench server, so the
figures include the client's own work (session key, frame decryption, signature checks).
"""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import time
from typing import BinaryIO, cast

import httpx
from proc_status import RssSampler, peak_rss_mib

from releasegate.fetch.client import ReleasegateClient, default_hardware_identifier
from releasegate.kit.session_key import load_public_key

VERIFY_ROUNDS = 200


class HashingSink:
    """A write-only sink that hashes the plaintext and keeps none of it."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return len(data)


async def _download(
    client: ReleasegateClient,
    license_key: str,
    product_id: str,
    server_pid: int,
    expected_sha256: str,
) -> tuple[str, str]:
    sink = HashingSink()
    hwm_before = peak_rss_mib(server_pid)
    with RssSampler(server_pid) as sampler:
        started = time.perf_counter()
        downloaded = await client.download(
            license_key,
            product_id,
            default_hardware_identifier(),
            sink=cast(BinaryIO, sink),
        )
        elapsed = time.perf_counter() - started
    hwm_after = peak_rss_mib(server_pid)
    assert sink.digest.hexdigest() == expected_sha256, "decrypted bytes differ from the upload"
    assert downloaded.sha256 == expected_sha256
    size_mib = sink.size / (1 << 20)
    first_half, second_half = sampler.peak_by_half()
    return (
        f"classloader download {size_mib:.0f} MiB, reference client (sha256 matches upload)",
        f"{size_mib / elapsed:.0f} MiB/s plaintext, server peak RSS {hwm_after:.0f} MiB "
        f"(before {hwm_before:.0f} MiB); sampled RSS max {first_half:.0f} MiB in the first "
        f"half, {second_half:.0f} MiB in the second",
    )


async def _verify_latency(
    client: ReleasegateClient, license_key: str, product_id: str
) -> tuple[str, str]:
    latencies = []
    for _ in range(VERIFY_ROUNDS):
        started = time.perf_counter()
        await client.verify(license_key, product_id=product_id)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    return (
        f"verify with product + challenge, sequential x{VERIFY_ROUNDS}",
        f"p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms",
    )


async def _measure(
    server_root: str,
    team_id: str,
    public_key_pem: str,
    license_key: str,
    product_id: str,
    server_pid: int,
    expected_sha256: str,
) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=server_root, timeout=120) as http:
        client = ReleasegateClient(http, team_id, load_public_key(public_key_pem))
        return [
            await _download(client, license_key, product_id, server_pid, expected_sha256),
            await _verify_latency(client, license_key, product_id),
        ]


def measure_licensed_path(
    server_root: str,
    team_id: str,
    public_key_pem: str,
    license_key: str,
    product_id: str,
    server_pid: int,
    expected_sha256: str,
) -> list[tuple[str, str]]:
    """Download the product's latest release once, then verify x200; one report row each."""
    return asyncio.run(
        _measure(
            server_root,
            team_id,
            public_key_pem,
            license_key,
            product_id,
            server_pid,
            expected_sha256,
        )
    )
