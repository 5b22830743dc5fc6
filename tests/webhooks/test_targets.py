"""Delivery destinations (webhooks-and-audit.md §1): non-public addresses are refused, and the
connection is pinned to the address that was checked (DNS rebinding), with the original host
name kept for the Host header, SNI and certificate verification."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from releasegate.webhooks import targets
from releasegate.webhooks.targets import (
    BlockedDestination,
    IPAddress,
    UnresolvableHost,
    check_target,
    delivery_client,
    is_public,
)
from tests.webhooks.receiver import Receiver, certificates

NOT_PUBLIC = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "fd00::1",
    "fc00::1",
    "169.254.169.254",
    "169.254.0.1",
    "fe80::1",
    "224.0.0.1",
    "239.255.255.250",
    "ff02::1",
    "0.0.0.0",  # noqa: S104
    "::",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "192.0.2.1",
    "240.0.0.1",
    "255.255.255.255",
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
]

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


def resolver(answers: dict[str, list[str]], calls: list[str] | None = None) -> Resolver:
    async def resolve(host: str, _port: int) -> list[IPAddress]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise UnresolvableHost(host)
        return [ipaddress.ip_address(address) for address in answers[host]]

    return resolve


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_address_is_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_address_is_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


async def test_loopback_literal_is_refused() -> None:
    with pytest.raises(BlockedDestination):
        await check_target("http://127.0.0.1:8080/hook", allow_private=False)


async def test_ipv6_mapped_loopback_literal_is_refused() -> None:
    with pytest.raises(BlockedDestination):
        await check_target("http://[::ffff:127.0.0.1]:8080/hook", allow_private=False)


async def test_host_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(BlockedDestination):
        await check_target("https://localhost/hook", allow_private=False)


async def test_one_private_address_among_public_ones_refuses_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(targets, "resolve", resolver({"mixed.test": ["8.8.8.8", "10.0.0.7"]}))
    with pytest.raises(BlockedDestination):
        await check_target("https://mixed.test/hook", allow_private=False)


async def test_public_host_is_allowed_with_every_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "resolve", resolver({"hooks.test": ["8.8.8.8", "1.1.1.1"]}))
    target = await check_target("https://hooks.test/hook", allow_private=False)
    assert [str(address) for address in target.addresses] == ["8.8.8.8", "1.1.1.1"]


async def test_allow_flag_admits_private_addresses() -> None:
    target = await check_target("http://127.0.0.1:8080/hook", allow_private=True)
    assert [str(address) for address in target.addresses] == ["127.0.0.1"]


async def test_unknown_host_is_unresolvable() -> None:
    with pytest.raises(UnresolvableHost):
        await check_target("https://no-such-host.invalid/hook", allow_private=True)


async def test_request_connects_to_the_checked_address_and_names_the_original_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`rebind.test` resolves nowhere but in the patched resolver, which answers once: the
    request can only have reached the receiver through the pinned address."""
    calls: list[str] = []
    monkeypatch.setattr(targets, "resolve", resolver({"rebind.test": ["127.0.0.1"]}, calls))
    async with Receiver.running() as receiver, delivery_client(5) as client:
        url = receiver.url(host="rebind.test") + "?q=1"
        target = await check_target(url, allow_private=True)
        (request,) = target.requests(client, {"X-Test": "1"}, b"{}")
        response = await client.send(request)
    assert response.status_code == 200
    assert calls == ["rebind.test"]
    (received,) = receiver.requests
    assert received.headers["host"] == f"rebind.test:{receiver.port}"
    assert received.path == "/hook?q=1"
    assert received.headers["x-test"] == "1"


async def test_https_uses_the_host_name_for_sni_and_certificate_verification(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tls = certificates(tmp_path, "webhook.test")
    monkeypatch.setattr(targets, "resolve", resolver({"webhook.test": ["127.0.0.1"]}))
    async with (
        Receiver.running(tls.server) as receiver,
        delivery_client(5, verify=tls.client) as client,
    ):
        target = await check_target(receiver.url(host="webhook.test"), allow_private=True)
        (request,) = target.requests(client, {}, b"{}")
        response = await client.send(request)
    assert response.status_code == 200
    assert receiver.server_names == ["webhook.test"]
    assert receiver.requests[0].headers["host"] == f"webhook.test:{receiver.port}"


async def test_https_certificate_for_another_name_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tls = certificates(tmp_path, "other.test")
    monkeypatch.setattr(targets, "resolve", resolver({"webhook.test": ["127.0.0.1"]}))
    async with (
        Receiver.running(tls.server) as receiver,
        delivery_client(5, verify=tls.client) as client,
    ):
        target = await check_target(receiver.url(host="webhook.test"), allow_private=True)
        (request,) = target.requests(client, {}, b"{}")
        with pytest.raises(httpx.ConnectError) as raised:
            await client.send(request)
    assert receiver.requests == []
    assert isinstance(raised.value.__cause__, Exception)
    chain: BaseException | None = raised.value
    while chain is not None and not isinstance(chain, ssl.SSLCertVerificationError):
        chain = chain.__cause__ or chain.__context__
    assert chain is not None


async def test_client_does_not_follow_redirects_or_use_proxies() -> None:
    async with delivery_client(5) as client:
        assert client.follow_redirects is False
        assert client.trust_env is False
