"""Client IP determination behind trusted proxies (security-and-limits.md §4)."""

from __future__ import annotations

from releasegate.kit.client_ip import parse_trusted_proxies, resolve_client_ip

PROXIES = parse_trusted_proxies("10.0.0.1, 10.0.0.2")
CIDR_PROXIES = parse_trusted_proxies("10.0.0.0/8, 192.168.1.0/24, fd00::/8")


def test_untrusted_peer_ignores_forwarded_for() -> None:
    assert resolve_client_ip("203.0.113.9", ["198.51.100.7"], None, PROXIES) == "203.0.113.9"


def test_untrusted_peer_ignores_real_ip() -> None:
    assert resolve_client_ip("203.0.113.9", [], "198.51.100.7", PROXIES) == "203.0.113.9"


def test_no_trusted_proxies_configured_ignores_forwarded_headers() -> None:
    assert resolve_client_ip("10.0.0.1", ["198.51.100.7"], "198.51.100.8", ()) == "10.0.0.1"


def test_trusted_peer_uses_single_forwarded_entry() -> None:
    assert resolve_client_ip("10.0.0.1", ["198.51.100.7"], None, PROXIES) == "198.51.100.7"


def test_trusted_peer_takes_rightmost_untrusted_entry_not_leftmost() -> None:
    header = "1.1.1.1, 198.51.100.7"
    assert resolve_client_ip("10.0.0.1", [header], None, PROXIES) == "198.51.100.7"


def test_trusted_peer_skips_trusted_entries_walking_right_to_left() -> None:
    header = "1.1.1.1, 198.51.100.7, 10.0.0.2, 10.0.0.1"
    assert resolve_client_ip("10.0.0.1", [header], None, PROXIES) == "198.51.100.7"


def test_invalid_entry_makes_header_ignored_and_falls_back_to_real_ip() -> None:
    header = "198.51.100.7, not-an-ip"
    assert resolve_client_ip("10.0.0.1", [header], "192.0.2.44", PROXIES) == "192.0.2.44"


def test_invalid_entry_without_real_ip_falls_back_to_peer() -> None:
    header = "198.51.100.7, not-an-ip"
    assert resolve_client_ip("10.0.0.1", [header], None, PROXIES) == "10.0.0.1"


def test_invalid_entry_behind_trusted_entries_is_examined() -> None:
    header = "198.51.100.7, bogus, 10.0.0.2"
    assert resolve_client_ip("10.0.0.1", [header], None, PROXIES) == "10.0.0.1"


def test_entry_with_port_is_invalid() -> None:
    assert resolve_client_ip("10.0.0.1", ["198.51.100.7:4444"], None, PROXIES) == "10.0.0.1"


def test_invalid_entry_left_of_chosen_entry_is_not_examined() -> None:
    header = "garbage, 198.51.100.7"
    assert resolve_client_ip("10.0.0.1", [header], None, PROXIES) == "198.51.100.7"


def test_all_trusted_entries_use_leftmost() -> None:
    header = "10.0.0.2, 10.0.0.1"
    assert resolve_client_ip("10.0.0.1", [header], None, PROXIES) == "10.0.0.2"


def test_multiple_forwarded_for_headers_are_joined_in_order() -> None:
    headers = ["198.51.100.1, 198.51.100.2", "198.51.100.3, 10.0.0.2"]
    assert resolve_client_ip("10.0.0.1", headers, None, PROXIES) == "198.51.100.3"


def test_multiple_forwarded_for_headers_all_trusted_use_leftmost_of_first_header() -> None:
    headers = ["10.0.0.2", "10.0.0.1"]
    assert resolve_client_ip("10.0.0.1", headers, None, PROXIES) == "10.0.0.2"


def test_trusted_peer_without_forwarded_for_uses_real_ip() -> None:
    assert resolve_client_ip("10.0.0.1", [], "198.51.100.7", PROXIES) == "198.51.100.7"


def test_real_ip_with_several_addresses_is_ignored() -> None:
    real_ip = "198.51.100.7, 198.51.100.8"
    assert resolve_client_ip("10.0.0.1", [], real_ip, PROXIES) == "10.0.0.1"


def test_invalid_real_ip_falls_back_to_peer() -> None:
    assert resolve_client_ip("10.0.0.1", [], "localhost", PROXIES) == "10.0.0.1"


def test_trusted_peer_without_headers_is_the_client() -> None:
    assert resolve_client_ip("10.0.0.1", [], None, PROXIES) == "10.0.0.1"


def test_ipv4_mapped_ipv6_peer_is_converted_to_ipv4() -> None:
    assert resolve_client_ip("::ffff:203.0.113.9", [], None, PROXIES) == "203.0.113.9"


def test_ipv4_mapped_ipv6_peer_is_matched_against_ipv4_trusted_list() -> None:
    assert resolve_client_ip("::ffff:10.0.0.1", ["198.51.100.7"], None, PROXIES) == "198.51.100.7"


def test_ipv6_peer_is_canonical_compressed_lowercase() -> None:
    assert resolve_client_ip("2001:0DB8:0000:0000:0000:0000:0000:0001", [], None, ()) == (
        "2001:db8::1"
    )


def test_ipv6_forwarded_entry_is_canonical_compressed_lowercase() -> None:
    header = "2001:DB8:0:0:1:0:0:1"
    assert resolve_client_ip("10.0.0.1", [header], None, PROXIES) == "2001:db8::1:0:0:1"


def test_ipv6_real_ip_is_canonical_compressed_lowercase() -> None:
    assert resolve_client_ip("10.0.0.1", [], "FE80:0:0:0:0:0:0:ABCD", PROXIES) == "fe80::abcd"


def test_cidr_range_trusts_peer_inside_it() -> None:
    assert resolve_client_ip("10.20.30.40", ["198.51.100.7"], None, CIDR_PROXIES) == "198.51.100.7"


def test_cidr_range_does_not_trust_peer_outside_it() -> None:
    assert resolve_client_ip("192.168.2.1", ["198.51.100.7"], None, CIDR_PROXIES) == "192.168.2.1"


def test_cidr_range_skips_forwarded_entries_inside_it() -> None:
    header = "198.51.100.7, 192.168.1.77, 10.9.8.7"
    assert resolve_client_ip("10.0.0.1", [header], None, CIDR_PROXIES) == "198.51.100.7"


def test_ipv6_cidr_range_trusts_ipv6_peer() -> None:
    assert resolve_client_ip("fd12::1", ["198.51.100.7"], None, CIDR_PROXIES) == "198.51.100.7"


def test_parse_trusted_proxies_accepts_addresses_and_ranges() -> None:
    parsed = parse_trusted_proxies(" 10.0.0.1 ,192.168.0.0/16,, ::1 ")
    assert [str(network) for network in parsed] == ["10.0.0.1/32", "192.168.0.0/16", "::1/128"]
